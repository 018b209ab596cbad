// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <iosfwd>
#include <string_view>

#include "sources/exposition_parser.h"

namespace trimtab {

// What `trimtab scrape` prints: parses the whole body (every family) and
// writes what trimtab would store from it.
//
// Text (default): per family a header line `# family NAME TYPE [HELP]`
// (plus `# unit UNIT` when given), then one line per series
// `TYPE  canonical_key  value  [@timestamp_seconds]`; then every error as
// `line N: message` (`body: message` for the body as a whole); then one
// summary line `families=F series=S errors=E dropped=D bytes=B`.
// JSON (`json`): one object {"families": [{"name", "type", "help", "unit",
// "series": [{"key", "value", "timestamp"?}]}], "errors": [{"line",
// "message"}], "summary": {...}}; non-finite values are the strings "NaN",
// "+Inf", "-Inf".
//
// A sample of a series already in the body is reported as an error on its
// line (trimtab's store keeps the first sample of a series per scrape) and
// not listed.
//
// Returns the number of rejected lines (ExpositionStats::rejectedLines, plus
// the repeats): the CLI exits 1 when it is not 0.
int writeScrapeReport(std::string_view body, ExpositionFormat format, const ExpositionLimits& limits,
                      std::ostream& out, bool json = false);

}  // namespace trimtab
