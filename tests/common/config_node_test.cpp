// SPDX-License-Identifier: Apache-2.0
#include "common/config_node.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using trimtab::closestMatch;
using trimtab::ConfigDiagnostics;
using trimtab::ConfigNode;

namespace {

struct Doc {
  std::shared_ptr<ConfigDiagnostics> diagnostics = std::make_shared<ConfigDiagnostics>();
  ConfigNode root;
  explicit Doc(const std::string& text) : root(ConfigNode::loadString(text, "t.yaml", diagnostics)) {}

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& d : diagnostics->items()) out.push_back(d.format());
    return out;
  }
  // The only diagnostic, formatted.
  std::string only() const {
    auto all = messages();
    REQUIRE_MESSAGE(all.size() == 1, diagnostics->format());
    return all[0];
  }
};

}  // namespace

TEST_CASE("getters read well-typed values and mark them consumed") {
  Doc doc(
      "name: app\n"
      "ratio: 0.5\n"
      "count: 42\n"
      "neg: -7\n"
      "on: true\n"
      "every: 1m30s\n"
      "cap: 2GiB\n"
      "tags: [a, b]\n"
      "mode: json\n"
      "headers: {X-Token: abc, Accept: text/plain}\n"
      "empty:\n");
  auto& r = doc.root;
  CHECK(r.isMap());
  CHECK(r.getString("name") == "app");
  CHECK(r.requiredString("name") == std::optional<std::string>("app"));
  CHECK(r.getNumber("ratio", 0) == 0.5);
  CHECK(r.optionalNumber("count") == std::optional<double>(42));
  CHECK(r.getInteger("count", 0) == 42);
  CHECK(r.getInteger("neg", 0) == -7);
  CHECK(r.getBool("on", false));
  CHECK(r.getDuration("every", 0) == 90);
  CHECK(r.getSize("cap", 0) == (2ull << 30));
  CHECK(r.getStringList("tags") == std::vector<std::string>{"a", "b"});
  CHECK(r.getEnum("mode", {"text", "json"}, "text") == "json");
  auto headers = r.getStringMap("headers");
  CHECK(headers.size() == 2);
  CHECK(headers["X-Token"] == "abc");
  // Absent and empty values give the fallback without complaint.
  CHECK(r.getInteger("empty", 9) == 9);
  CHECK(r.getString("absent", "dflt") == "dflt");
  CHECK_FALSE(r.optionalNumber("absent").has_value());
  CHECK_FALSE(r.has("empty"));
  CHECK_FALSE(r.has("absent"));
  CHECK(r.has("name"));
  r.finish();
  CHECK_MESSAGE(doc.diagnostics->empty(), doc.diagnostics->format());
}

TEST_CASE("each getter's error names file, line, column, key path and the expectation") {
  Doc doc(
      "outer:\n"
      "  s: {a: 1}\n"
      "  n: abc\n"
      "  i: 1.5\n"
      "  big: 99999999999999999999\n"
      "  b: maybe\n"
      "  d: fast\n"
      "  z: big\n"
      "  l: scalar\n"
      "  l2: [ok, [nested]]\n"
      "  e: jsno\n"
      "  m: [1]\n"
      "  sm: {k: [1]}\n"
      "  cl: 5\n"
      "  cm: [x]\n");
  auto outer = doc.root.child("outer");
  CHECK(outer.getString("s", "x") == "x");
  CHECK(outer.getNumber("n", 1) == 1);
  CHECK(outer.getInteger("i", 2) == 2);
  CHECK(outer.getInteger("big", 3) == 3);
  CHECK(outer.getBool("b", true));
  CHECK(outer.getDuration("d", 4) == 4);
  CHECK(outer.getSize("z", 5) == 5);
  CHECK(outer.getStringList("l").empty());
  CHECK(outer.getStringList("l2") == std::vector<std::string>{"ok"});
  CHECK(outer.getEnum("e", {"text", "json"}, "text") == "text");
  CHECK_FALSE(outer.requiredString("m").has_value());
  CHECK(outer.getStringMap("sm").empty());
  CHECK(outer.childList("cl").empty());
  CHECK(outer.childMap("cm").empty());
  CHECK_FALSE(outer.requiredString("nope").has_value());
  outer.finish();
  auto all = doc.messages();
  std::vector<std::string> expected = {
      "t.yaml:2:6: outer.s: expected a string, got a mapping",
      "t.yaml:3:6: outer.n: expected a number, got 'abc'",
      "t.yaml:4:6: outer.i: expected an integer, got '1.5'",
      "t.yaml:5:8: outer.big: expected an integer, got '99999999999999999999' (out of range)",
      "t.yaml:6:6: outer.b: expected true or false, got 'maybe'",
      "t.yaml:7:6: outer.d: expected a duration like 5s or 2m, got 'fast'",
      "t.yaml:8:6: outer.z: expected a size like 512, 64KiB or 2GiB, got 'big'",
      "t.yaml:9:6: outer.l: expected a list of strings, got 'scalar'",
      "t.yaml:10:12: outer.l2[1]: expected a string, got a list",
      "t.yaml:11:6: outer.e: expected one of text, json, got 'jsno' (did you mean 'json'?)",
      "t.yaml:12:6: outer.m: expected a string, got a list",
      "t.yaml:13:11: outer.sm.k: expected a string, got a list",
      "t.yaml:14:7: outer.cl: expected a list, got '5'",
      "t.yaml:15:7: outer.cm: expected a mapping (key: value), got a list",
      "t.yaml:2:3: outer.nope: missing required key 'nope'",
  };
  REQUIRE(all.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(all[i] == expected[i]);
}

TEST_CASE("requiredString rejects an empty string and reports a missing key at the mapping") {
  Doc doc("a:\n  url: ''\n");
  auto a = doc.root.child("a");
  CHECK_FALSE(a.requiredString("url").has_value());
  CHECK(doc.only() == "t.yaml:2:8: a.url: expected a non-empty string, got ''");
}

TEST_CASE("unknown keys are reported once, with a did-you-mean when one is close") {
  Doc doc(
      "interval: 5s\n"
      "intervall: 6s\n"
      "timeuot: 1s\n"
      "zzzzzzzz: 1\n");
  auto& r = doc.root;
  r.getDuration("interval", 0);
  r.getDuration("timeout", 0);
  r.finish();
  r.finish();  // idempotent: the lead's compile step may finish again
  auto all = doc.messages();
  REQUIRE(all.size() == 3);
  CHECK(all[0] == "t.yaml:2:1: intervall: unknown key 'intervall' (did you mean 'interval'?)");
  CHECK(all[1] == "t.yaml:3:1: timeuot: unknown key 'timeuot' (did you mean 'timeout'?)");
  CHECK(all[2] == "t.yaml:4:1: zzzzzzzz: unknown key 'zzzzzzzz'");
}

TEST_CASE("copies and repeated child() calls share consumed-key tracking") {
  Doc doc(
      "sources:\n"
      "  - name: app\n"
      "    url: http://x\n"
      "    headers: {A: b}\n"
      "    extra: 1\n"
      "actuator: {kind: http, url: http://y, method: PUT}\n");
  auto& r = doc.root;
  auto sources = r.childList("sources");
  REQUIRE(sources.size() == 1);
  ConfigNode stored = sources[0];  // e.g. SourceConfig::params
  CHECK(sources[0].getString("name") == "app");
  {
    ConfigNode factoryCopy = stored;  // the factory's own copy
    CHECK(factoryCopy.getString("url") == "http://x");
    CHECK(factoryCopy.getStringMap("headers").size() == 1);
  }
  ConfigNode assigned;
  assigned = stored;
  assigned.finish();
  CHECK(doc.only() == "t.yaml:5:5: sources[0].extra: unknown key 'extra'");

  // child() twice gives views of one node.
  CHECK(r.child("actuator").getString("kind") == "http");
  auto again = r.child("actuator");
  again.getString("url");
  auto third = r.child("actuator");
  third.finish();
  CHECK(doc.messages().size() == 2);
  CHECK(doc.messages()[1] == "t.yaml:6:39: actuator.method: unknown key 'method'");
  r.finish();
  CHECK(doc.messages().size() == 2);
}

TEST_CASE("a YAML syntax error is reported with its line and column") {
  Doc doc("a: 1\nb: [1, 2\nc: 3\n");
  CHECK(doc.root.missing());
  REQUIRE(doc.diagnostics->items().size() == 1);
  const auto& d = doc.diagnostics->items()[0];
  CHECK(d.file == "t.yaml");
  CHECK(d.line >= 2);
  CHECK(d.column >= 1);
  CHECK(d.message.find("invalid YAML") == 0);

  Doc tab("a:\n\tb: 1\n");
  REQUIRE(tab.diagnostics->items().size() == 1);
  CHECK(tab.diagnostics->items()[0].line == 2);
}
TEST_CASE("nesting past the YAML parser's limit is named as such, not as a bad file") {
  Doc doc("a: " + std::string(100'000, '[') + "\n");
  REQUIRE(doc.diagnostics->items().size() == 1);
  const auto& message = doc.diagnostics->items()[0].message;
  CHECK(message.find("invalid YAML: nested deeper than the parser's limit of") == 0);
  CHECK(message.find("bad file") == std::string::npos);
}


TEST_CASE("duplicate keys are errors naming the first occurrence") {
  Doc doc("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n");
  auto all = doc.messages();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == "t.yaml:4:3: b.x: duplicate key 'x' (first at line 3)");
  CHECK(all[1] == "t.yaml:5:1: a: duplicate key 'a' (first at line 1)");
}

TEST_CASE("alias fan-out is bounded") {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string previous = "a";
  for (char level = 'b'; level <= 'h'; ++level) {
    std::string name(1, level);
    text += name + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", *" : "*") + previous;
    text += "]\n";
    previous = name;
  }
  Doc doc(text);
  REQUIRE(doc.diagnostics->items().size() == 1);
  CHECK(doc.diagnostics->items()[0].message.find("aliases") != std::string::npos);
}

TEST_CASE("a node of the wrong shape is reported once, however often it is read") {
  Doc doc("store: 5\n");
  auto store = doc.root.child("store");
  CHECK(store.isScalar());
  CHECK(store.asString() == "5");
  CHECK(store.getInteger("max_series", 7) == 7);
  CHECK(store.getInteger("other", 8) == 8);
  store.finish();
  CHECK(doc.only() == "t.yaml:1:8: store: expected a mapping (key: value), got '5'");
}

TEST_CASE("missing nodes and the default node read as empty") {
  ConfigNode empty;
  CHECK(empty.missing());
  CHECK(empty.line() == 0);
  CHECK(empty.getInteger("x", 3) == 3);
  CHECK(empty.keys().empty());
  empty.finish();
  CHECK(empty.diagnostics().empty());

  Doc doc("a: 1\n");
  auto absent = doc.root.child("nope");
  CHECK(absent.missing());
  CHECK(absent.path() == "nope");
  CHECK(absent.line() == 1);  // located at the nearest ancestor
  CHECK(doc.root.keys() == std::vector<std::string>{"a"});
}

TEST_CASE("error() locates at the key's value, or at the node when the key is absent") {
  Doc doc("knob:\n  max: 3\n");
  auto knob = doc.root.child("knob");
  knob.error("max", "expected max >= min (5), got 3");
  knob.error("min", "missing required key 'min'");
  knob.error("", "whole node");
  auto all = doc.messages();
  REQUIRE(all.size() == 3);
  CHECK(all[0] == "t.yaml:2:8: knob.max: expected max >= min (5), got 3");
  CHECK(all[1] == "t.yaml:2:3: knob.min: missing required key 'min'");
  CHECK(all[2] == "t.yaml:2:3: knob: whole node");
}

TEST_CASE("loadFile reports a missing file clearly") {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto path = (std::filesystem::temp_directory_path() / "trimtab-no-such-config-91823.yaml").string();
  auto root = ConfigNode::loadFile(path, diagnostics);
  CHECK(root.missing());
  REQUIRE(diagnostics->items().size() == 1);
  CHECK(diagnostics->items()[0].format() == path + ": cannot read config file: No such file or directory");

  auto dirDiagnostics = std::make_shared<ConfigDiagnostics>();
  ConfigNode::loadFile(std::filesystem::temp_directory_path().string(), dirDiagnostics);
  REQUIRE(dirDiagnostics->items().size() == 1);
  CHECK(dirDiagnostics->items()[0].message.find("directory") != std::string::npos);
}

TEST_CASE("closestMatch uses edit distance with a length-scaled threshold") {
  std::vector<std::string> keys = {"interval", "timeout", "name", "kind", "max_series"};
  CHECK(closestMatch("intervall", keys) == "interval");
  CHECK(closestMatch("intreval", keys) == "interval");
  CHECK(closestMatch("nmae", keys) == "name");
  CHECK(closestMatch("max_seires", keys) == "max_series");
  CHECK(closestMatch("url", keys) == "");
  CHECK(closestMatch("completely_different", keys) == "");
  CHECK(closestMatch("x", {}) == "");
  // Lengths further apart than the threshold are never close (and cost nothing).
  CHECK(closestMatch("interval_seconds_max", keys) == "");
  CHECK(closestMatch("timeout_s", keys) == "timeout");
  // A word past kMaxClosestMatchBytes gets no suggestion: the distance is
  // |word| x |candidate| steps, in C++ where a policy's budget cannot stop it.
  std::string huge(trimtab::kMaxClosestMatchBytes + 1, 'a');
  CHECK(closestMatch(huge, {huge + "b"}) == "");
  std::string big(trimtab::kMaxClosestMatchBytes, 'a');
  CHECK(closestMatch(big, {big + "b"}) == big + "b");
}

TEST_CASE("diagnostics format sorts by location and omits what is unknown") {
  ConfigDiagnostics d;
  d.add({"f.yaml", 3, 1, "b", "second"});
  d.add({"f.yaml", 1, 5, "a", "first"});
  d.add({"f.yaml", 0, 0, "", "whole file"});
  CHECK(d.format() == "f.yaml: whole file\nf.yaml:1:5: a: first\nf.yaml:3:1: b: second\n");
}
