// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include "driver_test_support.h"
#include "sim/driver/replay.h"

using namespace trimtab;
using namespace trimtab::sim;
using namespace trimtab::sim::testing;

namespace {

// Clients waiting for a connection, exported from a Prometheus range query
// at a 15 s step: quiet, then a queue builds up, then it drains.
const char* kLongCsv = R"(timestamp,metric,value
1714564800,"db_pool_clients_waiting{pool=""main"", job=""api""}",0
1714564815,"db_pool_clients_waiting{pool=""main"", job=""api""}",0
1714564830,"db_pool_clients_waiting{pool=""main"", job=""api""}",3
1714564845,"db_pool_clients_waiting{pool=""main"", job=""api""}",6
1714564860,"db_pool_clients_waiting{pool=""main"", job=""api""}",6
1714564875,"db_pool_clients_waiting{pool=""main"", job=""api""}",0
)";

const char* kPolicy = R"(
return {
  name = "grow",
  interval = "15s",
  tick = function(ctx)
    local k = ctx.knob("db_pool_size")
    local w = ctx.value("db_pool_clients_waiting", {pool = "main"})
    if k and w and w > 1 then ctx.propose("db_pool_size", k.value + 5, string.format("%.0f waiting", w)) end
  end,
}
)";

struct Replayed {
  std::vector<JournalRecord> records;
  ReplayResult result;
};

Replayed replay(const Recording& recording, const std::string& policy, const std::string& knob) {
  ReplaySetup setup;
  setup.config.service = "test";
  PolicySpec p;
  p.file = policy;
  setup.config.policies.push_back(p);
  KnobConfig k;
  k.spec = parseKnobOption(knob, recording).value();
  setup.config.knobs.push_back(k);
  Replayed out;
  auto r = runReplay(recording, setup, [&](const JournalRecord& rec) { out.records.push_back(rec); });
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  out.result = *r;
  return out;
}

}  // namespace

TEST_CASE("replay of a long CSV: the policy would have grown the pool twice, in dry-run") {
  ScratchDir dir("replay");
  const std::string policy = dir.write("grow.lua", kPolicy);
  auto recording = parseRecording(kLongCsv, "waiting.csv");
  REQUIRE(recording.ok());
  CHECK(recording->format == "csv-long");
  CHECK(recording->series == 1);
  CHECK(recording->spacing == 15);
  CHECK(recording->samples[0].key == "db_pool_clients_waiting{job=\"api\",pool=\"main\"}");
  Replayed r = replay(*recording, policy, "db_pool_size=20,min=5,max=50,max_step=5");
  std::vector<const JournalRecord*> wouldApply;
  for (const auto& rec : r.records)
    if (rec.kind == "decision" && rec.decision.verdict == Verdict::DryRun) wouldApply.push_back(&rec);
  // Waiting > 1 at 830, 845 and 860 s: three proposals of +5, applied in the
  // governor's shadow state (20 -> 25 -> 30 -> 35).
  REQUIRE(wouldApply.size() == 3);
  CHECK(wouldApply[0]->decision.time == 1714564830);
  CHECK(wouldApply[0]->decision.previous == 20);
  CHECK(wouldApply[0]->decision.decided == 25);
  CHECK(wouldApply[2]->decision.decided == 35);
  CHECK(wouldApply[0]->decision.reason == "3 waiting");
  CHECK(r.result.knobs["db_pool_size"].changes == 3);
  CHECK(r.result.knobs["db_pool_size"].last == 35);
  const std::string line = formatReplayRecord(*wouldApply[0]);
  CHECK(line.find("2024-05-01T12:00:30Z") == 0);
  CHECK(line.find("db_pool_size 20 -> 25") != std::string::npos);
  CHECK(line.find("would apply") != std::string::npos);
}

TEST_CASE("wide CSV (Grafana) and trimtab's JSON lines give the same replay") {
  ScratchDir dir("replay-formats");
  const std::string policy = dir.write("grow.lua", kPolicy);
  const std::string wide =
      "Time,\"db_pool_clients_waiting{job=\"\"api\"\", pool=\"\"main\"\"}\",db_pool_size\n"
      "2024-05-01 12:00:00,0,20\n2024-05-01 12:00:15,0,20\n2024-05-01 12:00:30,3,20\n"
      "2024-05-01 12:00:45,6,\n2024-05-01 12:01:00,6,20\n2024-05-01 12:01:15,0,20\n";
  auto w = parseRecording(wide, "wide.csv");
  REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.error().message));
  CHECK(w->format == "csv-wide");
  CHECK(w->series == 2);
  std::string jsonl;
  for (int i = 0; i < 6; ++i) {
    const double v[] = {0, 0, 3, 6, 6, 0};
    jsonl += "{\"t\":" + std::to_string(1714564800 + 15 * i) +
             ",\"key\":\"db_pool_clients_waiting{pool=\\\"main\\\",job=\\\"api\\\"}\",\"value\":" +
             std::to_string(v[i]) + ",\"type\":\"gauge\"}\n";
  }
  auto j = parseRecording(jsonl, "rec.jsonl");
  REQUIRE_MESSAGE(j.ok(), (j.ok() ? "" : j.error().message));
  CHECK(j->format == "jsonl");
  // Without a baseline, the knob starts at its first recorded value.
  Replayed a = replay(*w, policy, "db_pool_size,max=50");
  Replayed b = replay(*j, policy, "db_pool_size=20,max=50");
  CHECK(a.result.knobs["db_pool_size"].baseline == 20);
  CHECK(a.result.knobs["db_pool_size"].changes == 3);
  CHECK(b.result.knobs["db_pool_size"].changes == 3);
  CHECK(a.result.knobs["db_pool_size"].last == b.result.knobs["db_pool_size"].last);
}

TEST_CASE("garbage recordings are refused with the file and line") {
  CHECK(parseRecording("", "x.csv").error().message.find("empty") != std::string::npos);
  CHECK(parseRecording("when,what\n1,2\n", "x.csv").error().message.find("x.csv:1") != std::string::npos);
  CHECK(parseRecording("timestamp,metric,value\n1,up,abc\n", "x.csv").error().message.find("x.csv:2") !=
        std::string::npos);
  CHECK(parseRecording("timestamp,metric,value\n1,up{a=1},2\n", "x.csv").error().message.find("series key") !=
        std::string::npos);
  CHECK(parseRecording("timestamp,metric,value\nyesterday,up,2\n", "x.csv").error().message.find("ISO 8601") !=
        std::string::npos);
  CHECK(parseRecording("{\"t\": 1, \"key\": \"up\", \"value\": 1}\n{\"t\": \"x\"}\n", "r.jsonl").error().message.find("r.jsonl:2") !=
        std::string::npos);
  CHECK(parseRecording("{not json\n", "r.jsonl").error().message.find("JSON object") != std::string::npos);
  CHECK(parseRecording("\xEF\xBB\xBFtimestamp,metric,value\n1,up,2\n", "bom.csv").ok());  // as spreadsheets save
  CHECK(loadRecording("/tmp").error().message.find("/tmp: is a directory") != std::string::npos);
  CHECK_FALSE(parseKnobOption("pool=abc", Recording{}).ok());
  CHECK_FALSE(parseKnobOption("pool=5,min=10", Recording{}).ok());
  CHECK(parseKnobOption("pool", Recording{}).error().message.find("no baseline") != std::string::npos);
  CHECK(parseKnobOption("pool=5,colour=red", Recording{}).error().message.find("unknown setting") !=
        std::string::npos);
  auto message = [](const std::string& spec) {
    auto k = parseKnobOption(spec, Recording{});
    return k.ok() ? std::string("accepted") : k.error().message;
  };
  CHECK(message("pool=abc").find("baseline: expected a number, got 'abc'") != std::string::npos);
  CHECK(message("pool=5,cooldown=-5s").find("must be >= 0") != std::string::npos);
  CHECK(message("pool=5,max_step=-1").find("must be >= 0") != std::string::npos);
  CHECK(message("pool=20.5,type=int").find("whole baseline") != std::string::npos);
  CHECK(message("pool=5,type=int,type=float").find("'type' given twice") != std::string::npos);
  CHECK(message("pool=20.5,type=float,min=1,max=30,cooldown=10s,deadband=0.5") == "accepted");
}

TEST_CASE("timestamps: Unix seconds, milliseconds and ISO 8601") {
  CHECK(parseTimestamp("1714564800").value() == 1714564800);
  CHECK(parseTimestamp("1714564800500").value() == doctest::Approx(1714564800.5));
  CHECK(parseTimestamp("2024-05-01T12:00:00Z").value() == 1714564800);
  CHECK(parseTimestamp("2024-05-01 14:00:00.250+02:00").value() == doctest::Approx(1714564800.25));
  CHECK_FALSE(parseTimestamp("2024-13-01T00:00:00Z").ok());
  CHECK(canonicalSeriesKey("up{job=\"a\", instance=\"b\",}").value() == "up{instance=\"b\",job=\"a\"}");
}
