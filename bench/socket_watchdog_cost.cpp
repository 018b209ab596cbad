// SPDX-License-Identifier: Apache-2.0
// What the deadline on each Redis exchange and libpq call costs: one
// SocketWatchdog (a thread started and joined) per exchange.
//   g++ -O2 -std=c++20 -pthread -Isrc bench/socket_watchdog_cost.cpp -o /tmp/wd && /tmp/wd
#include <chrono>
#include <cstdio>

#include "common/socket_watchdog.h"

int main() {
  constexpr int kRounds = 20000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    trimtab::SocketWatchdog dog(-1, 5.0);  // no socket: only the thread's cost
    dog.stop();
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("SocketWatchdog construct + stop: %.1f us per exchange (%d rounds)\n", us / kRounds, kRounds);
  return 0;
}
