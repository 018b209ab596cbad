// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace trimtab {

// The PostgreSQL backend pids of trimtab's own open connections (sources and
// actuators, process-wide), so that `postgres_terminate_idle` never ends
// trimtab's other connections, idle between two scrapes. Thread-safe.
void registerOwnBackend(int pid);
void unregisterOwnBackend(int pid);
// As a PostgreSQL int[] literal, "{101,207}" ("{}" when none).
std::string ownBackendsArray();

}  // namespace trimtab
