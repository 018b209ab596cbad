// SPDX-License-Identifier: Apache-2.0
#include "common/pg_backends.h"

#include <mutex>
#include <set>

namespace trimtab {

namespace {

std::mutex& backendsMutex() {
  static std::mutex mu;
  return mu;
}

// A multiset: two servers may hand out the same pid.
std::multiset<int>& backends() {
  static std::multiset<int> pids;
  return pids;
}

}  // namespace

void registerOwnBackend(int pid) {
  if (pid <= 0) return;
  std::lock_guard lock(backendsMutex());
  backends().insert(pid);
}

void unregisterOwnBackend(int pid) {
  std::lock_guard lock(backendsMutex());
  if (auto it = backends().find(pid); it != backends().end()) backends().erase(it);
}

std::string ownBackendsArray() {
  std::lock_guard lock(backendsMutex());
  std::string out = "{";
  for (int pid : backends()) out += (out.size() > 1 ? "," : "") + std::to_string(pid);
  return out + "}";
}

}  // namespace trimtab
