// SPDX-License-Identifier: Apache-2.0
#include "controller/config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using trimtab::Config;
using trimtab::ConfigDiagnostics;
using trimtab::loadConfig;
using trimtab::loadConfigString;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "trimtab-config-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& relative, const std::string& text) const {
    fs::path p = path_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path path_;
};

struct Loaded {
  std::shared_ptr<ConfigDiagnostics> diagnostics = std::make_shared<ConfigDiagnostics>();
  Config config;
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& d : diagnostics->items()) out.push_back(d.format());
    return out;
  }
};

Loaded loadFile(const fs::path& file) {
  Loaded l;
  l.config = loadConfig(file.string(), l.diagnostics);
  return l;
}

Loaded loadText(const std::string& text, const std::string& file = "trimtab.yaml") {
  Loaded l;
  l.config = loadConfigString(text, file, l.diagnostics);
  return l;
}

const char* kCompleteConfig = R"(service: demo-app
mode: dry-run
tick: 250ms
watch_policies: false
store: {max_series: 500, stale_after_scrapes: 5, max_points_per_series: 1000}
policy_limits: {cpu_budget: 20ms, memory_cap: 8MiB, quarantine_after_errors: 7}
sources:
  - {name: app, kind: prometheus, interval: 5s, timeout: 2s, url: "http://127.0.0.1:8080/metrics"}
  - name: proc-1
    kind: procfs
    cmdline: demo_target
knobs:
  - name: db_pool_size
    type: int
    min: 2
    max: 64
    baseline: 8
    max_step: 4
    cooldown: 30s
    deadband: 1
    max_changes_per_hour: 12
    dry_run: true
    restore_on_exit: true
    unit: connections
    actuator: {kind: http, url: "http://127.0.0.1:8080/knobs/db_pool_size", method: PUT}
  - name: ratio
    type: float
    min: 0.5
    max: 5
    baseline: 1.25
    actuator: {kind: log}
policies:
  - file: policies/pool.lua
    interval: 2s
    priority: 5
    params: {target: 0.8, enabled: true, route: /api, count: 3, match: {database: app, port: 6432}}
  - file: policies/other.lua
journal: {path: out/journal.jsonl, fsync: true, rotate_size: 1MiB, keep: 5}
server: {enabled: false, listen: "0.0.0.0:9999"}
log: {format: json, level: debug}
)";

}  // namespace

TEST_CASE("a complete valid config lands in every field") {
  TempDir dir;
  dir.write("policies/pool.lua", "return {}\n");
  dir.write("policies/other.lua", "return {}\n");
  auto file = dir.write("trimtab.yaml", kCompleteConfig);
  auto l = loadFile(file);
  REQUIRE_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
  const Config& c = l.config;
  CHECK(c.file == file.string());
  CHECK(c.service == "demo-app");
  CHECK(c.dryRun);
  CHECK(c.tick == 0.25);
  CHECK_FALSE(c.watchPolicies);
  CHECK(c.store.maxSeries == 500);
  CHECK(c.store.staleAfterScrapes == 5);
  CHECK(c.store.maxPointsPerSeries == 1000);
  CHECK(c.policyLimits.cpuBudget == doctest::Approx(0.02));
  CHECK(c.policyLimits.memoryCapBytes == (8u << 20));
  CHECK(c.policyLimits.quarantineAfterErrors == 7);

  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0].spec.name == "app");
  CHECK(c.sources[0].spec.kind == "prometheus");
  CHECK(c.sources[0].spec.interval == 5);
  CHECK(c.sources[0].spec.timeout == 2);
  CHECK(c.sources[1].spec.name == "proc-1");
  CHECK(c.sources[1].spec.interval == 10);
  CHECK(c.sources[1].spec.timeout == 5);
  // Kind-specific keys are left for the factory.
  auto params = c.sources[0].params;
  CHECK(params.getString("url") == "http://127.0.0.1:8080/metrics");
  params.finish();
  auto procParams = c.sources[1].params;
  CHECK(procParams.getString("cmdline") == "demo_target");
  procParams.finish();

  REQUIRE(c.knobs.size() == 2);
  const auto& k = c.knobs[0].spec;
  CHECK(k.name == "db_pool_size");
  CHECK(k.integer);
  CHECK(k.min == 2);
  CHECK(k.max == 64);
  CHECK(k.baseline == 8);
  CHECK(k.maxStep == 4);
  CHECK(k.cooldown == 30);
  CHECK(k.deadband == 1);
  CHECK(k.maxChangesPerHour == 12);
  CHECK(k.dryRun);
  CHECK(k.restoreOnExit);
  CHECK(k.unit == "connections");
  CHECK(c.knobs[0].actuatorKind == "http");
  auto actuator = c.knobs[0].actuatorParams;
  CHECK(actuator.getString("url") == "http://127.0.0.1:8080/knobs/db_pool_size");
  CHECK(actuator.getString("method") == "PUT");
  actuator.finish();
  const auto& r = c.knobs[1].spec;
  CHECK_FALSE(r.integer);
  CHECK(r.min == 0.5);
  CHECK(r.baseline == 1.25);
  CHECK(r.maxStep == 0);
  CHECK(r.cooldown == 0);
  CHECK(c.knobs[1].actuatorKind == "log");

  REQUIRE(c.policies.size() == 2);
  const auto& p = c.policies[0];
  CHECK(p.file == (dir.path() / "policies/pool.lua").string());
  CHECK(p.interval == 2);
  CHECK(p.priority == 5);
  CHECK(p.order == 0);
  REQUIRE(p.params.size() == 5);
  CHECK(std::get<double>(p.params.at("target")) == 0.8);
  CHECK(std::get<bool>(p.params.at("enabled")));
  CHECK(std::get<std::string>(p.params.at("route")) == "/api");
  CHECK(std::get<trimtab::ParamMap>(p.params.at("match")) == trimtab::ParamMap{{"database", "app"}, {"port", "6432"}});
  CHECK(std::get<double>(p.params.at("count")) == 3);
  CHECK(c.policies[1].order == 1);
  CHECK(c.policies[1].interval == 0);
  CHECK(c.policies[1].priority == 0);

  CHECK(c.journal.path == (dir.path() / "out/journal.jsonl").string());
  CHECK(c.journal.fsync);
  CHECK(c.journal.rotateBytes == (1u << 20));
  CHECK(c.journal.keepFiles == 5);
  CHECK_FALSE(c.server.enabled);
  CHECK(c.server.listen == "0.0.0.0:9999");
  CHECK(c.log.format == "json");
  CHECK(c.log.level == "debug");
  CHECK_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
}

TEST_CASE("a minimal config takes every default") {
  TempDir dir;
  auto l = loadFile(dir.write("t.yaml", "service: x\n"));
  REQUIRE_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
  const Config& c = l.config;
  CHECK_FALSE(c.dryRun);
  CHECK(c.tick == 1);
  CHECK(c.watchPolicies);
  CHECK(c.store.maxSeries == 10'000);
  CHECK(c.policyLimits.memoryCapBytes == (32u << 20));
  CHECK(c.sources.empty());
  CHECK(c.journal.path == (dir.path() / "trimtab-journal.jsonl").string());
  CHECK(c.journal.rotateBytes == (64u << 20));
  CHECK(c.journal.keepFiles == 3);
  CHECK(c.server.enabled);
  CHECK(c.server.listen == "127.0.0.1:9464");
  CHECK(c.log.format == "text");
  CHECK(c.log.level == "info");

  auto disabled = loadText("service: x\njournal: {path: ''}\n");
  CHECK(disabled.diagnostics->empty());
  CHECK(disabled.config.journal.path.empty());
}

TEST_CASE("a file with many problems reports each one, located, in one pass") {
  auto l = loadText(R"(service: ""
mode: enforcing
tick: 2h
intervall: 5s
store: {max_series: 0, stale_after_scrapes: many}
policy_limits: {memory_cap: 1KiB, budget: 5}
sources:
  - {name: App, kind: prometheus, interval: 1s, timeout: 1s}
  - {name: app2, interval: fast}
  - {name: app2, kind: procfs}
  - just-a-string
knobs:
  - name: 9lives
    type: double
    min: 10
    max: 5
    cooldown: fast
    actuator: {kind: log}
  - name: pool
    min: 1.5
    baseline: 2
    max_step: -1
    max_changes_per_hour: 1.5
    dry_run: maybe
    actuator: {url: http://x}
  - name: pool
    min: 0
    max: 10
    baseline: 20
    actuator: [log]
    cooldwn: 3s
policies:
  - file: does-not-exist.lua
    priority: high
    interval: 0s
    params: {nested: {a: [1]}}
  - interval: 5s
journal: {rotate_size: 10, keep: -1}
server: {listen: localhost}
log: {level: verbose, format: [text]}
)");
  std::vector<std::string> expected = {
      "trimtab.yaml:1:10: service: expected a non-empty string, got ''",
      "trimtab.yaml:2:7: mode: expected one of enforce, dry-run, got 'enforcing' (did you mean 'enforce'?)",
      "trimtab.yaml:3:7: tick: expected a duration > 0 and at most 1h, got '2h'",
      "trimtab.yaml:5:21: store.max_series: expected an integer >= 1, got 0",
      "trimtab.yaml:5:45: store.stale_after_scrapes: expected an integer, got 'many'",
      "trimtab.yaml:6:29: policy_limits.memory_cap: expected a size >= 256KiB, got '1KiB'",
      "trimtab.yaml:6:35: policy_limits.budget: unknown key 'budget'",
      "trimtab.yaml:8:12: sources[0].name: expected a name of lower-case letters, digits, '_' and '-', got 'App'",
      "trimtab.yaml:8:58: sources[0].timeout: expected a timeout shorter than the interval (1s), got '1s'",
      "trimtab.yaml:9:5: sources[1].kind: missing required key 'kind'",
      "trimtab.yaml:9:28: sources[1].interval: expected a duration like 5s or 2m, got 'fast'",
      "trimtab.yaml:10:12: sources[2].name: duplicate source name 'app2' (first defined at line 9)",
      "trimtab.yaml:11:5: sources[3]: expected a mapping (key: value), got 'just-a-string'",
      "trimtab.yaml:13:11: knobs[0].name: expected a name of letters, digits and '_' not starting with a digit, "
      "got '9lives'",
      "trimtab.yaml:14:11: knobs[0].type: expected one of int, float, got 'double'",
      "trimtab.yaml:13:5: knobs[0].baseline: missing required key 'baseline' (a number)",
      "trimtab.yaml:16:10: knobs[0].max: expected max >= min (10), got 5",
      "trimtab.yaml:17:15: knobs[0].cooldown: expected a duration like 5s or 2m, got 'fast'",
      "trimtab.yaml:20:10: knobs[1].min: expected a whole number for an int knob, got 1.5",
      "trimtab.yaml:19:5: knobs[1].max: missing required key 'max' (a number)",
      "trimtab.yaml:22:15: knobs[1].max_step: expected a number >= 0, got -1",
      "trimtab.yaml:23:27: knobs[1].max_changes_per_hour: expected an integer, got '1.5'",
      "trimtab.yaml:24:14: knobs[1].dry_run: expected true or false, got 'maybe'",
      "trimtab.yaml:25:15: knobs[1].actuator.kind: missing required key 'kind'",
      "trimtab.yaml:26:11: knobs[2].name: duplicate knob name 'pool' (first defined at line 19)",
      "trimtab.yaml:29:15: knobs[2].baseline: expected a baseline within [0, 10], got 20",
      "trimtab.yaml:30:15: knobs[2].actuator: expected a mapping (key: value), got a list",
      "trimtab.yaml:31:5: knobs[2].cooldwn: unknown key 'cooldwn' (did you mean 'cooldown'?)",
      "trimtab.yaml:33:11: policies[0].file: expected an existing policy file, got 'does-not-exist.lua' "
      "(does-not-exist.lua does not exist)",
      "trimtab.yaml:35:15: policies[0].interval: expected a duration > 0, got '0s'",
      "trimtab.yaml:34:15: policies[0].priority: expected an integer, got 'high'",
      "trimtab.yaml:36:26: policies[0].params.nested.a: expected a string or a number",
      "trimtab.yaml:37:5: policies[1].file: missing required key 'file'",
      "trimtab.yaml:38:24: journal.rotate_size: expected a size >= 4KiB, got '10'",
      "trimtab.yaml:38:34: journal.keep: expected an integer between 0 and 1000, got -1",
      "trimtab.yaml:39:18: server.listen: expected host:port like 127.0.0.1:9464, got 'localhost'",
      "trimtab.yaml:40:31: log.format: expected one of text, json, got a list",
      "trimtab.yaml:40:14: log.level: expected one of trace, debug, info, warn, error, got 'verbose'",
      "trimtab.yaml:4:1: intervall: unknown key 'intervall'",
  };
  auto all = l.messages();
  for (const auto& want : expected) {
    CHECK_MESSAGE(std::find(all.begin(), all.end(), want) != all.end(), "missing: " << want << "\ngot:\n"
                                                                                   << l.diagnostics->format());
  }
  CHECK_MESSAGE(all.size() == expected.size(), l.diagnostics->format());
}

TEST_CASE("relative paths resolve against the config's directory") {
  TempDir dir;
  dir.write("policies/p.lua", "return {}\n");
  auto file = dir.write("conf/trimtab.yaml",
                        "service: x\n"
                        "policies: [{file: ../policies/p.lua}, {file: " +
                            (dir.path() / "policies/p.lua").string() +
                            "}]\n"
                            "journal: {path: state/j.jsonl}\n");
  auto l = loadFile(file);
  REQUIRE_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
  REQUIRE(l.config.policies.size() == 2);
  CHECK(l.config.policies[0].file == (dir.path() / "policies/p.lua").string());
  CHECK(l.config.policies[1].file == (dir.path() / "policies/p.lua").string());
  CHECK(l.config.journal.path == (dir.path() / "conf/state/j.jsonl").string());

  // The same policy path seen from the wrong directory does not exist.
  auto wrong = dir.write("trimtab.yaml", "service: x\npolicies: [{file: ../policies/p.lua}]\n");
  auto w = loadFile(wrong);
  REQUIRE(w.diagnostics->items().size() == 1);
  const auto& d = w.diagnostics->items()[0];
  CHECK(d.file == wrong.string());
  CHECK(d.line == 2);
  CHECK(d.path == "policies[0].file");
  CHECK(d.message.find("expected an existing policy file, got '../policies/p.lua'") == 0);
  CHECK(d.message.find((dir.path().parent_path() / "policies/p.lua").string() + " does not exist") !=
        std::string::npos);
}

TEST_CASE("a policy path that is a directory is rejected") {
  TempDir dir;
  fs::create_directories(dir.path() / "policies");
  auto l = loadFile(dir.write("t.yaml", "service: x\npolicies: [{file: policies}]\n"));
  REQUIRE(l.diagnostics->items().size() == 1);
  CHECK(l.diagnostics->items()[0].message.find("is a directory") != std::string::npos);
}

TEST_CASE("a missing config file or a syntax error stops with one clear message") {
  TempDir dir;
  auto missing = loadFile(dir.path() / "nope.yaml");
  REQUIRE(missing.diagnostics->items().size() == 1);
  CHECK(missing.messages()[0] == (dir.path() / "nope.yaml").string() +
                                     ": cannot read config file: No such file or directory");

  auto syntax = loadText("service: x\nknobs: [\n  {name: a\n");
  REQUIRE(syntax.diagnostics->items().size() == 1);
  CHECK(syntax.diagnostics->items()[0].line >= 3);
  CHECK(syntax.diagnostics->items()[0].message.find("invalid YAML") == 0);

  auto empty = loadText("");
  CHECK(empty.messages() == std::vector<std::string>{"trimtab.yaml: service: missing required key 'service'"});

  auto list = loadText("- a\n- b\n");
  CHECK(list.messages().at(0) == "trimtab.yaml:1:1: expected a mapping (key: value), got a list");
}

TEST_CASE("factories finish source and actuator params: unknown keys get a did-you-mean") {
  auto l = loadText(R"(service: x
sources:
  - {name: app, kind: prometheus, urll: "http://x"}
knobs:
  - {name: k, min: 0, max: 1, baseline: 0, actuator: {kind: http, url: "http://y", methd: PUT}}
)");
  REQUIRE_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
  auto params = l.config.sources[0].params;
  CHECK(params.getString("url", "none") == "none");
  params.finish();
  auto actuator = l.config.knobs[0].actuatorParams;
  actuator.getString("url");
  actuator.getString("method", "POST");
  actuator.finish();
  auto all = l.messages();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == "trimtab.yaml:3:35: sources[0].urll: unknown key 'urll' (did you mean 'url'?)");
  CHECK(all[1] == "trimtab.yaml:5:84: knobs[0].actuator.methd: unknown key 'methd' (did you mean 'method'?)");
}

TEST_CASE("a source's interval stays within 50ms and 1h") {
  auto l = loadText("service: x\nsources:\n  - {name: a, kind: k, interval: 10ms}\n"
                    "  - {name: b, kind: k, interval: 2h}\n  - {name: c, kind: k, interval: 50ms}\n");
  auto all = l.messages();
  REQUIRE_MESSAGE(all.size() == 2, l.diagnostics->format());
  CHECK(all[0] == "trimtab.yaml:3:34: sources[0].interval: expected at least 50ms (a shorter one is a busy loop), "
                  "got '10ms'");
  CHECK(all[1] == "trimtab.yaml:4:34: sources[1].interval: expected a duration > 0 and at most 1h, got '2h'");
  CHECK(l.config.sources[2].spec.interval == 0.05);
}

TEST_CASE("a journal path that is a directory, or a policy path that is no file, is one clear problem") {
  TempDir dir;
  auto file = dir.write("trimtab.yaml", "service: x\njournal: {path: .}\npolicies: [{file: /dev/null}, {file: gone.lua}]\n");
  auto l = loadFile(file);
  auto all = l.messages();
  REQUIRE_MESSAGE(all.size() == 3, l.diagnostics->format());
  auto said = [&all](const std::string& words) {
    return std::any_of(all.begin(), all.end(), [&](const std::string& m) { return m.find(words) != std::string::npos; });
  };
  CHECK_MESSAGE(said("journal.path: expected a file path, got '.', which is a directory"), l.diagnostics->format());
  CHECK(said("(/dev/null is not a regular file)"));
  CHECK(said("gone.lua does not exist)"));
}

TEST_CASE("source timeout defaults to at most half the interval") {
  auto l = loadText("service: x\nsources:\n  - {name: a, kind: k, interval: 1s}\n  - {name: b, kind: k}\n");
  REQUIRE_MESSAGE(l.diagnostics->empty(), l.diagnostics->format());
  CHECK(l.config.sources[0].spec.timeout == 0.5);
  CHECK(l.config.sources[1].spec.timeout == 5);
}

TEST_CASE("listen addresses: host:port, bracketed IPv6, port in range") {
  for (const char* good : {"127.0.0.1:9464", "localhost:0", "[::1]:9464", "0.0.0.0:65535"}) {
    auto l = loadText(std::string("service: x\nserver: {listen: '") + good + "'}\n");
    CHECK_MESSAGE(l.diagnostics->empty(), good << ": " << l.diagnostics->format());
  }
  for (const char* bad : {"9464", ":9464", "host:", "host:65536", "::1:9464", "host:port", "a b:1"}) {
    auto l = loadText(std::string("service: x\nserver: {listen: '") + bad + "'}\n");
    CHECK_MESSAGE(l.diagnostics->items().size() == 1, bad);
  }
}

TEST_CASE("policy_limits: cpu_budget is a duration; the old instruction_budget is refused by name") {
  auto contains = [](const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
  };
  auto ok = loadText("service: x\npolicy_limits: {cpu_budget: 200ms}\n");
  REQUIRE_MESSAGE(ok.diagnostics->empty(), ok.diagnostics->format());
  CHECK(ok.config.policyLimits.cpuBudget == doctest::Approx(0.2));

  auto old = loadText("service: x\npolicy_limits: {instruction_budget: 1000000}\n");
  CHECK(contains(old.diagnostics->format(),
                 "policy_limits.instruction_budget: replaced by cpu_budget, a duration of CPU per tick"));
  CHECK_FALSE(contains(old.diagnostics->format(), "unknown key"));

  auto tiny = loadText("service: x\npolicy_limits: {cpu_budget: 100us}\n");
  CHECK_FALSE(tiny.diagnostics->empty());
  auto small = loadText("service: x\npolicy_limits: {cpu_budget: 0.5ms}\n");
  CHECK(contains(small.diagnostics->format(), "policy_limits.cpu_budget: expected a duration >= 1ms"));
  CHECK(small.config.policyLimits.cpuBudget == doctest::Approx(0.05));  // the default stays
}
