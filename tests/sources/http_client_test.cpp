// SPDX-License-Identifier: Apache-2.0
#include "common/http_client.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "test_http_server.h"

namespace trimtab {
namespace {

using testing::closedPort;
using testing::gzipString;
using testing::httpReply;
using testing::TestHttpServer;
using testing::TestReply;

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.timeout = 5;
  return r;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("parseHttpUrl splits host, port and target") {
  auto u = parseHttpUrl("http://example.org:9100/metrics?x=1#frag");
  REQUIRE(u.ok());
  CHECK(u->host == "example.org");
  CHECK(u->port == "9100");
  CHECK(u->target == "/metrics?x=1");

  auto d = parseHttpUrl("HTTP://localhost");
  REQUIRE(d.ok());
  CHECK(d->host == "localhost");
  CHECK(d->port == "80");
  CHECK(d->target == "/");

  auto v6 = parseHttpUrl("http://[::1]:8080?q");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == "8080");
  CHECK(v6->target == "/?q");
}

TEST_CASE("parseHttpUrl rejects malformed URLs with a reason") {
  for (const char* bad : {"", "localhost:80/metrics", "ftp://x/", "http://", "http://:80/",
                          "http://host:/", "http://host:0/", "http://host:65536/", "http://host:12ab/",
                          "http://ho st/", "http://[::1/", "http://a:b:c/"}) {
    CAPTURE(bad);
    auto u = parseHttpUrl(bad);
    REQUIRE_FALSE(u.ok());
    CHECK(contains(u.error().message, "invalid URL"));
  }
}

TEST_CASE("credentials in a URL are refused, since they would not be sent") {
  auto u = parseHttpUrl("http://bob:hunter2@example.org/metrics");
  REQUIRE_FALSE(u.ok());
  CHECK(contains(u.error().message, "user:password@ in the URL is not sent"));
  CHECK(contains(u.error().message, "headers: {Authorization: env:NAME}"));
  CHECK(contains(u.error().message, "http://example.org/metrics"));
  CHECK_FALSE(contains(u.error().message, "hunter2"));
  CHECK_FALSE(parseHttpUrl("http://bob@example.org/").ok());
  CHECK(parseHttpUrl("http://example.org/a@b").ok());  // an '@' in the path is no userinfo
  auto slash = parseHttpUrl("http://bob:hun/ter2@example.org/metrics");  // '/' in the password
  REQUIRE_FALSE(slash.ok());
  CHECK_FALSE(contains(slash.error().message, "ter2"));
  CHECK_FALSE(contains(slash.error().message, "hun"));
  auto env = parseHttpUrl("env:PROMETHEUS_URL");
  REQUIRE_FALSE(env.ok());
  CHECK(contains(env.error().message, "give the URL itself"));
}

TEST_CASE("https is rejected clearly and secrets never appear in messages") {
  auto u = parseHttpUrl("https://bob:hunter2@example.org/metrics");
  REQUIRE_FALSE(u.ok());
  CHECK(contains(u.error().message, "https is not supported"));
  CHECK_FALSE(contains(u.error().message, "hunter2"));

  auto r = httpExchange(get("https://bob:hunter2@example.org/metrics"));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "https is not supported"));
  CHECK_FALSE(contains(r.error().message, "hunter2"));

  CHECK(redactUrl("http://u:p@h:1/x@y") == "http://h:1/x@y");
  CHECK(redactUrl("http://h/x") == "http://h/x");
  CHECK(redactUrl("garbage@x") == "x");
}

TEST_CASE("a plain 200 response arrives with its body, type and request headers") {
  TestHttpServer server([](const std::string&) { return httpReply(200, "up 1\n", "text/plain; version=0.0.4"); });
  HttpRequest req = get(server.url("/metrics?a=b"));
  req.headers["X-Test"] = "yes";
  auto r = httpExchange(req);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 200);
  CHECK(r->body == "up 1\n");
  CHECK(r->contentType == "text/plain; version=0.0.4");
  CHECK(r->wireBytes == 5);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const std::string& head = requests[0];
  CHECK(head.rfind("GET /metrics?a=b HTTP/1.1\r\n", 0) == 0);
  CHECK(contains(head, "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"));
  CHECK(contains(head, "User-Agent: trimtab/0.1\r\n"));
  CHECK(contains(head, "Accept-Encoding: gzip\r\n"));
  CHECK(contains(head, "X-Test: yes\r\n"));
}

TEST_CASE("no Accept-Encoding when gzip is not wanted, and POST carries its body") {
  TestHttpServer server([](const std::string&) { return httpReply(204, ""); });
  HttpRequest req = get(server.url("/knob"));
  req.method = "POST";
  req.body = R"({"value":3})";
  req.acceptGzip = false;
  auto r = httpExchange(req);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 204);
  auto head = server.requests().at(0);
  CHECK(head.rfind("POST /knob HTTP/1.1\r\n", 0) == 0);
  CHECK(contains(head, "Content-Length: 11\r\n"));
  CHECK_FALSE(contains(head, "Accept-Encoding"));
}

TEST_CASE("a gzip body is decoded") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "metric_" + std::to_string(i) + " " + std::to_string(i) + "\n";
  std::string zipped = gzipString(text);
  TestHttpServer server([&](const std::string&) {
    return httpReply(200, zipped, "text/plain", "Content-Encoding: gzip\r\n");
  });
  auto r = httpExchange(get(server.url()));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->body == text);
  CHECK(r->wireBytes == zipped.size());
  CHECK(r->wireBytes < text.size());
}

TEST_CASE("a corrupt gzip body and an unknown encoding are errors") {
  std::string zipped = gzipString(std::string(10000, 'a'));
  std::string truncated = zipped.substr(0, zipped.size() / 2);
  TestHttpServer server([&](const std::string& req) {
    if (contains(req, "GET /br ")) return httpReply(200, "xx", "text/plain", "Content-Encoding: br\r\n");
    if (contains(req, "GET /trunc ")) return httpReply(200, truncated, "text/plain", "Content-Encoding: gzip\r\n");
    return httpReply(200, "not gzip at all", "text/plain", "Content-Encoding: gzip\r\n");
  });
  auto garbage = httpExchange(get(server.url("/garbage")));
  REQUIRE_FALSE(garbage.ok());
  CHECK(contains(garbage.error().message, "invalid gzip body"));
  auto trunc = httpExchange(get(server.url("/trunc")));
  REQUIRE_FALSE(trunc.ok());
  CHECK(contains(trunc.error().message, "gzip"));
  auto br = httpExchange(get(server.url("/br")));
  REQUIRE_FALSE(br.ok());
  CHECK(contains(br.error().message, "unsupported Content-Encoding 'br'"));
}

TEST_CASE("a slow server times out within the deadline") {
  TestHttpServer server([](const std::string&) {
    TestReply reply = httpReply(200, "late 1\n");
    reply.delaySeconds = 5;
    return reply;
  });
  HttpRequest req = get(server.url());
  req.timeout = 0.3;
  auto start = std::chrono::steady_clock::now();
  auto r = httpExchange(req);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "timed out after 0.3s while reading the response"));
  CHECK(contains(r.error().message, server.url()));
  CHECK(elapsed < 10 * req.timeout);
}

TEST_CASE("an oversized body is refused") {
  std::string big(100'000, 'x');
  TestHttpServer server([&](const std::string&) { return httpReply(200, big); });
  HttpRequest req = get(server.url());
  req.maxBodyBytes = 10'000;
  auto r = httpExchange(req);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "body larger than 10000 bytes"));

  req.maxBodyBytes = big.size();
  auto fits = httpExchange(req);
  REQUIRE_MESSAGE(fits.ok(), fits.error().message);
  CHECK(fits->body.size() == big.size());
}

TEST_CASE("statusOnBodyError: the status of a response whose body cannot be read, with why") {
  std::string big(100'000, 'x');
  TestHttpServer server([&](const std::string& req) {
    if (contains(req, "GET /br ")) return httpReply(202, "xx", "text/plain", "Content-Encoding: br\r\n");
    return httpReply(201, big);
  });
  HttpRequest req = get(server.url());
  req.maxBodyBytes = 10'000;
  req.statusOnBodyError = true;
  auto r = httpExchange(req);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 201);
  CHECK(r->body.empty());
  CHECK(r->bodyError == "body larger than 10000 bytes");
  req.url = server.url("/br");
  auto br = httpExchange(req);
  REQUIRE_MESSAGE(br.ok(), br.error().message);
  CHECK(br->status == 202);
  CHECK(br->bodyError == "unsupported Content-Encoding 'br'");
}

TEST_CASE("an oversized body without Content-Length, or chunked, is refused too") {
  std::string big(100'000, 'y');
  std::string chunked;
  for (int i = 0; i < 10; ++i) chunked += "2710\r\n" + big.substr(0, 10'000) + "\r\n";
  chunked += "0\r\n\r\n";
  TestHttpServer server([&](const std::string& req) {
    if (contains(req, "GET /chunked ")) {
      return TestReply{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked};
    }
    return TestReply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big};
  });
  for (const char* path : {"/eof", "/chunked"}) {
    CAPTURE(path);
    HttpRequest req = get(server.url(path));
    req.maxBodyBytes = 10'000;
    auto r = httpExchange(req);
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, "body larger than 10000 bytes"));
  }
  HttpRequest req = get(server.url("/chunked"));
  auto fits = httpExchange(req);
  REQUIRE_MESSAGE(fits.ok(), fits.error().message);
  CHECK(fits->body.size() == big.size());
}

TEST_CASE("a gzip bomb is cut off at the decoded size cap") {
  // 32 MiB of zeros compresses to ~32 KiB: small on the wire, huge decoded.
  std::string bomb;
  {
    boost::iostreams::filtering_ostream os;
    os.push(boost::iostreams::gzip_compressor());
    os.push(boost::iostreams::back_inserter(bomb));
    std::string zeros(1 << 20, '\0');
    for (int i = 0; i < 32; ++i) os.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    os.reset();
  }
  REQUIRE(bomb.size() < (1u << 20));
  TestHttpServer server([&](const std::string&) {
    return httpReply(200, bomb, "text/plain", "Content-Encoding: gzip\r\n");
  });
  HttpRequest req = get(server.url());
  req.maxBodyBytes = 1u << 20;
  auto r = httpExchange(req);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "body larger than 1048576 bytes after gzip decoding"));
}

TEST_CASE("a 500 status is a response, not an error") {
  TestHttpServer server([](const std::string&) { return httpReply(500, "boom"); });
  auto r = httpExchange(get(server.url()));
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->status == 500);
  CHECK(r->body == "boom");
}

TEST_CASE("a closed port is a connect error naming the URL") {
  std::string url = "http://127.0.0.1:" + std::to_string(closedPort()) + "/metrics";
  auto r = httpExchange(get(url));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, url));
  CHECK(contains(r.error().message, "connecting failed"));
}

TEST_CASE("a malformed response and bad request settings are errors") {
  TestHttpServer server([](const std::string&) { return TestReply{"this is not http\r\n\r\n"}; });
  auto r = httpExchange(get(server.url()));
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "reading the response failed"));

  HttpRequest req = get(server.url());
  req.timeout = 0;
  auto zero = httpExchange(req);
  REQUIRE_FALSE(zero.ok());
  CHECK(contains(zero.error().message, "timeout must be a positive"));

  req = get(server.url());
  req.method = "FROB";
  auto method = httpExchange(req);
  REQUIRE_FALSE(method.ok());
  CHECK(contains(method.error().message, "unknown HTTP method 'FROB'"));

  auto url = httpExchange(get("http//nope"));
  REQUIRE_FALSE(url.ok());
  CHECK(contains(url.error().message, "invalid URL 'http//nope'"));
}

TEST_CASE("a host name is resolved") {
  TestHttpServer server([](const std::string&) { return httpReply(200, "ok"); });
  auto r = httpExchange(get("http://localhost:" + std::to_string(server.port()) + "/"));
  // localhost may resolve to ::1 first; the connect falls through to 127.0.0.1.
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->body == "ok");
  CHECK(contains(server.requests().at(0), "Host: localhost:"));
}

}  // namespace
}  // namespace trimtab
