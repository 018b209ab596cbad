// SPDX-License-Identifier: Apache-2.0
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "common/http_client.h"
#include "common/units.h"
#include "sources/scrape_report.h"

namespace trimtab {

namespace {

// Appends `in` to `out` up to `limit` bytes; false if there was more.
bool readAtMost(std::istream& in, std::size_t limit, std::string& out) {
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (out.size() + n > limit) return false;
    out.append(chunk, n);
  }
  return true;
}

constexpr const char* kAcceptBoth =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

}  // namespace

void addScrapeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "scrape",
      "Parse one exposition (URL, file or - for stdin) and print what trimtab would store, with every\n"
      "error and its line number. Exit code 1 if any line was rejected.");
  struct Options {
    std::string target;
    std::string format = "auto";
    std::string timeout = "5s";
    std::string maxBody = "16MiB";
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("target", o->target, "http://host:port/metrics, a file, or - for stdin")->required();
  cmd->add_option("--format", o->format, "auto (from Content-Type or '# EOF'), prometheus or openmetrics")
      ->check(CLI::IsMember({"auto", "prometheus", "openmetrics"}));
  cmd->add_option("--timeout", o->timeout, "HTTP timeout (default 5s)");
  cmd->add_option("--max-body", o->maxBody, "Largest body accepted (default 16MiB)");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->callback([o] {
    setupLogging("text", "warn");
    auto timeout = parseDuration(o->timeout);
    auto maxBody = parseSize(o->maxBody);
    if (!timeout.ok() || !maxBody.ok()) {
      std::cerr << (timeout.ok() ? "--max-body: " + maxBody.error().message : "--timeout: " + timeout.error().message)
                << "\n";
      throw CLI::RuntimeError(2);
    }
    std::string body;
    std::string contentType;
    if (o->target.rfind("http://", 0) == 0 || o->target.rfind("https://", 0) == 0) {
      HttpRequest req;
      req.url = o->target;
      req.timeout = *timeout;
      req.maxBodyBytes = *maxBody;
      req.headers["Accept"] = kAcceptBoth;
      auto resp = httpExchange(req);
      if (!resp.ok()) {
        std::cerr << "scrape: " << resp.error().message << "\n";
        throw CLI::RuntimeError(1);
      }
      if (resp->status < 200 || resp->status > 299) {
        std::cerr << "scrape: HTTP " << resp->status << " from " << redactUrl(o->target) << "\n";
        throw CLI::RuntimeError(1);
      }
      body = std::move(resp->body);
      contentType = resp->contentType;
    } else {
      std::ifstream file;
      if (o->target != "-") {
        file.open(o->target, std::ios::binary);
        if (!file) {
          std::cerr << "scrape: cannot read " << o->target << "\n";
          throw CLI::RuntimeError(1);
        }
      }
      // Read no more than the limit allows: a pipe or a device has no size
      // to check first (`scrape /dev/zero` grew without bound).
      if (!readAtMost(o->target == "-" ? std::cin : file, *maxBody, body)) {
        std::cerr << "scrape: " << (o->target == "-" ? "stdin" : o->target) << ": body exceeds " << *maxBody
                  << " bytes (--max-body)\n";
        throw CLI::RuntimeError(1);
      }
    }
    ExpositionFormat format = ExpositionFormat::Prometheus004;
    if (o->format == "openmetrics") {
      format = ExpositionFormat::OpenMetrics;
    } else if (o->format == "auto") {
      if (!contentType.empty()) {
        format = formatFromContentType(contentType);
      } else if (body.find("# EOF") != std::string::npos) {
        format = ExpositionFormat::OpenMetrics;
      }
    }
    ExpositionLimits limits;
    limits.maxBodyBytes = *maxBody;
    int rejected = writeScrapeReport(body, format, limits, std::cout, o->json);
    if (rejected > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace trimtab
