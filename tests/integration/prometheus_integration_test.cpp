// SPDX-License-Identifier: Apache-2.0
// A real Prometheus scrapes trimtab's own /metrics, and the promql source
// reads the answer back (scripts/services).
#include <utility>  // before asio (Boost 1.74 in C++20)

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "controller/http_server.h"
#include "controller/own_metrics.h"
#include "server_builders.h"
#include "services_env.h"

namespace trimtab::integration {
namespace {

// trimtab's own HTTP server with its metrics, on a free loopback port.
struct OwnEndpoint {
  OwnEndpoint() : metrics("9.9.9-itest"), work(boost::asio::make_work_guard(io)), server(io, "127.0.0.1:0") {
    server.route("/metrics", [this] { return HttpReply{200, kPrometheusTextContentType, metrics.serialize()}; });
    REQUIRE(server.start().ok());
    thread = std::thread([this] { io.run(); });
    metrics.setKnobValue("db_pool_size", 12);
  }
  ~OwnEndpoint() {
    server.stop();
    work.reset();
    io.stop();
    thread.join();
  }
  OwnMetrics metrics;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  HttpServer server;
  std::thread thread;
};

std::string promqlYaml(const Services& s) {
  return "url: " + s["PROMETHEUS_URL"] +
         "\nqueries:\n"
         "  - {name: itest_up, query: 'up{job=\"trimtab\",service=\"itest\"}'}\n"
         "  - {name: itest_knob, query: 'max by (knob) (trimtab_knob_value{service=\"itest\"})'}\n"
         "  - {name: itest_build, query: 'trimtab_build_info{service=\"itest\"}'}\n";
}

}  // namespace

TEST_CASE("prometheus: scrapes trimtab's /metrics; the promql source reads the answer back; survives a restart") {
  TRIMTAB_REQUIRE_SERVICES(s);
  OwnEndpoint endpoint;
  const std::filesystem::path target = std::filesystem::path((*s)["PROMETHEUS_TARGETS_DIR"]) / "itest.json";
  std::ofstream(target) << R"([{"targets":["127.0.0.1:)" << endpoint.server.port()
                        << R"("],"labels":{"service":"itest"}}])";

  auto source = makeSource("promql", promqlYaml(*s), 2, 1);
  std::map<std::string, double> m;
  const bool scraped = eventually(40, [&] {
    m = collectMap(*source);
    return valueOr(m, "itest_up{instance=\"127.0.0.1:" + std::to_string(endpoint.server.port()) +
                          "\",job=\"trimtab\",service=\"itest\"}") == 1 &&
           valueOr(m, "itest_knob{knob=\"db_pool_size\"}") == 12;
  });
  REQUIRE_MESSAGE(scraped, "Prometheus never reported the target up");
  bool build = false;
  for (const auto& [key, value] : m)
    build = build || (key.rfind("itest_build{", 0) == 0 && key.find("version=\"9.9.9-itest\"") != std::string::npos && value == 1);
  CHECK(build);

  REQUIRE(s->run("kill", "prometheus"));
  std::string error;
  CHECK(collectMap(*source, &error).empty());
  CHECK(error.rfind("promql: ", 0) == 0);
  REQUIRE(s->run("start", "prometheus"));
  CHECK(eventually(30, [&] { return collectOk(*source); }));
  std::filesystem::remove(target);
}

}  // namespace trimtab::integration
