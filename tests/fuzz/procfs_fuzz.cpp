// SPDX-License-Identifier: Apache-2.0
// The /proc files the procfs source reads (stat, statm, limits, meminfo,
// pressure, loadavg, a pid file, cmdline), each parser fed the same bytes.
// Properties: no crash; parsers never throw; what they accept is in range.
#include <cmath>
#include <string>

#include "fuzz_check.h"
#include "sources/procfs_files.h"

using namespace trimtab;
using namespace trimtab::procfs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::asText(data, size);
  if (auto stat = parseStat(text)) FUZZ_CHECK(stat->threads >= 0, "a thread count is not negative");
  (void)parseStatmResidentPages(text);
  if (auto files = parseMaxOpenFiles(text)) FUZZ_CHECK(*files >= 0, "a limit is not negative");
  if (auto bytes = meminfoBytes(text, "MemAvailable")) FUZZ_CHECK(std::isfinite(*bytes) && *bytes >= 0, "a size");
  auto countable = [](double v) { return std::isfinite(v) && v >= 0; };
  if (auto psi = parsePressure(text)) {
    for (double v : {psi->someAvg10, psi->someAvg60, psi->someAvg300, psi->someTotalSeconds, psi->fullAvg10,
                     psi->fullAvg60, psi->fullAvg300, psi->fullTotalSeconds}) {
      FUZZ_CHECK(countable(v), "PSI figures are finite and not negative");
    }
  }
  if (auto load = parseLoadAvg(text)) {
    FUZZ_CHECK(countable(load->load1) && countable(load->load5) && countable(load->load15),
               "load averages are finite and not negative");
  }
  (void)parsePid(text);
  (void)cmdlineText(text);
  return 0;
}
