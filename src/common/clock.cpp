// SPDX-License-Identifier: Apache-2.0
#include "common/clock.h"

#include <chrono>

namespace trimtab {

Seconds SystemClock::now() const {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace trimtab
