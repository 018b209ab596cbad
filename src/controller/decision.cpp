// SPDX-License-Identifier: Apache-2.0
#include "controller/decision.h"

namespace trimtab {

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::Apply: return "apply";
    case Verdict::DryRun: return "dry-run";
    case Verdict::Unchanged: return "unchanged";
    case Verdict::Vetoed: return "vetoed";
  }
  return "unknown";
}

}  // namespace trimtab
