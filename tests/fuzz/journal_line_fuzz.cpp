// SPDX-License-Identifier: Apache-2.0
// One journal line, as recovery reads it after a crash tore the file or an
// operator edited it. Properties: no crash and no escaping exception; a line
// that is read writes back to a line that reads back to the same text (the
// rotation checkpoint and `trimtab journal` rely on the round trip).
#include <string>

#include "controller/journal.h"
#include "fuzz_check.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string line(fuzz::asText(data, size));
  auto record = fromJsonLine(line);
  if (!record) {
    FUZZ_CHECK(!record.error().message.empty(), "an error says what is wrong");
    return 0;
  }
  const std::string written = toJsonLine(*record);
  auto reread = fromJsonLine(written);
  FUZZ_CHECK(reread.ok(), "a written line reads back");
  FUZZ_CHECK(toJsonLine(*reread) == written, "the round trip is stable");
  (void)formatJournalRecord(*record);  // `trimtab journal show` prints any record read
  return 0;
}
