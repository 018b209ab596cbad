// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>

#include "common/config_node.h"
#include "common/server_guard.h"
#include "sources/metric_source.h"

namespace trimtab {

// First wait after a failed connection of a server source; it doubles up to
// reconnect_backoff_max.
inline constexpr Seconds kSourceBackoffInitial = 0.1;

// The reconnect guard of a server source (redis, postgres, pgbouncer): key
// `reconnect_backoff_max`, default half the interval, so a source whose
// server came back recovers within two intervals (DESIGN: sources going
// stale and recovering). Problems are recorded on params.
inline GuardOptions readSourceGuard(ConfigNode& params, const SourceSpec& spec) {
  GuardOptions g;
  g.backoffMax = params.getDuration("reconnect_backoff_max", spec.interval / 2);
  if (!(g.backoffMax >= 0)) params.error("reconnect_backoff_max", "expected a duration of at least 0");
  g.backoffInitial = std::min(kSourceBackoffInitial, g.backoffMax);
  return g;
}

}  // namespace trimtab
