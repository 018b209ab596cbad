// SPDX-License-Identifier: Apache-2.0
#include "common/http_client.h"

#include <utility>  // Boost 1.74 asio misses it in C++20 mode; keep it first.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

namespace trimtab {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

// After the deadline, cancelled operations still have to run their handlers;
// this bounds that last drain so a misbehaving handler cannot hold us.
constexpr std::chrono::milliseconds kCancelGrace{500};
// Response headers larger than this are a malformed response, not data.
constexpr std::uint32_t kMaxHeaderBytes = 64u << 10;
// Decompression reads this much at a time, so the cap is checked often.
constexpr std::size_t kInflateChunk = 64u << 10;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string formatSeconds(Seconds s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

bool validHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Resolves on a detached thread: getaddrinfo cannot be cancelled, and asio's
// resolver joins its thread on shutdown, so waiting for it could outlive the
// deadline. A late result is dropped; the thread ends when getaddrinfo does.
Result<tcp::resolver::results_type> resolveBefore(const std::string& host, const std::string& port,
                                                  SteadyTime deadline) {
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    boost::system::error_code ec;
    tcp::resolver::results_type results;
  };
  auto state = std::make_shared<State>();
  std::thread([state, host, port] {
    boost::system::error_code ec;
    tcp::resolver::results_type results;
    try {
      net::io_context ioc;
      tcp::resolver resolver(ioc);
      results = resolver.resolve(host, port, ec);
    } catch (...) {
      ec = net::error::host_not_found;
    }
    std::lock_guard lock(state->mutex);
    state->ec = ec;
    state->results = std::move(results);
    state->finished = true;
    state->done.notify_all();
  }).detach();

  std::unique_lock lock(state->mutex);
  if (!state->done.wait_until(lock, deadline, [&] { return state->finished; })) {
    return makeError("timed out resolving '" + host + "'");
  }
  if (state->ec) return makeError("cannot resolve '" + host + "': " + state->ec.message());
  if (state->results.empty()) return makeError("cannot resolve '" + host + "': no address");
  return state->results;
}

// Inflates a gzip body, refusing to produce more than maxBytes (a small body
// can expand a thousandfold).
Result<std::string> gunzipBounded(std::string_view in, std::size_t maxBytes) {
  namespace io = boost::iostreams;
  try {
    io::filtering_istream stream;
    stream.push(io::gzip_decompressor());
    stream.push(io::array_source(in.data(), in.size()));
    // Only now: a stream without a device is bad, and would throw here.
    stream.exceptions(std::ios::badbit);
    std::string out;
    // Each pass adds kInflateChunk bytes or ends the stream; the cap ends the loop.
    while (stream) {
      std::size_t before = out.size();
      out.resize(before + kInflateChunk);
      stream.read(out.data() + before, static_cast<std::streamsize>(kInflateChunk));
      out.resize(before + static_cast<std::size_t>(stream.gcount()));
      if (out.size() > maxBytes) {
        return makeError("body larger than " + std::to_string(maxBytes) + " bytes after gzip decoding");
      }
    }
    return out;
  } catch (const std::exception& e) {
    return makeError(std::string("invalid gzip body: ") + e.what());
  }
}

// State of one exchange, shared by its completion handlers.
struct Exchange {
  explicit Exchange(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::response_parser<http::string_body> parser;
  boost::system::error_code ec;
  const char* phase = "connecting";
  std::uint64_t maxBody = 0;
  bool finished = false;

  void fail(boost::system::error_code e) {
    ec = e;
    finished = true;
  }
  void start(const tcp::resolver::results_type& endpoints) {
    stream.async_connect(endpoints, [this](boost::system::error_code e, const tcp::endpoint&) {
      if (e) return fail(e);
      phase = "sending the request";
      http::async_write(stream, request, [this](boost::system::error_code e2, std::size_t) {
        if (e2) return fail(e2);
        phase = "reading the response";
        // Header first: Beast 1.74's eager async_read loses the body_limit
        // error for a Content-Length body that arrives with the header.
        http::async_read_header(stream, buffer, parser, [this](boost::system::error_code e3, std::size_t) {
          if (e3) return fail(e3);
          if (auto length = parser.content_length(); length && *length > maxBody) {
            return fail(http::error::body_limit);
          }
          http::async_read(stream, buffer, parser, [this](boost::system::error_code e4, std::size_t) {
            fail(e4);
          });
        });
      });
    });
  }
};

Result<HttpResponse> exchange(const HttpRequest& request) {
  const std::string where = request.method + " " + redactUrl(request.url);
  auto fail = [&](const std::string& message) { return makeError(where + ": " + message); };

  auto url = parseHttpUrl(request.url);
  if (!url) return url.error();
  if (!(request.timeout > 0) || !std::isfinite(request.timeout)) {
    return fail("timeout must be a positive number of seconds");
  }
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return fail("unknown HTTP method '" + request.method + "'");

  const auto start = std::chrono::steady_clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(request.timeout));

  tcp::resolver::results_type endpoints;
  boost::system::error_code addrEc;
  auto address = net::ip::make_address(url->host, addrEc);
  if (!addrEc) {
    unsigned short port = static_cast<unsigned short>(std::stoul(url->port));
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, port), url->host, url->port);
  } else {
    auto resolved = resolveBefore(url->host, url->port, deadline);
    if (!resolved) return fail(resolved.error().message);
    endpoints = std::move(resolved.value());
  }

  net::io_context ioc;
  Exchange ex(ioc);
  auto& req = ex.request;
  req.method(verb);
  req.target(url->target);
  req.version(11);
  std::string hostHeader = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  if (url->port != "80") hostHeader += ":" + url->port;
  req.set(http::field::host, hostHeader);
  req.set(http::field::user_agent, kHttpUserAgent);
  req.set(http::field::connection, "close");
  if (request.acceptGzip) req.set(http::field::accept_encoding, "gzip");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put) {
    req.body() = request.body;
    req.prepare_payload();
  }
  ex.parser.header_limit(kMaxHeaderBytes);
  ex.parser.body_limit(request.maxBodyBytes);
  ex.maxBody = request.maxBodyBytes;
  if (verb == http::verb::head) ex.parser.skip(true);

  // One deadline for connect, write and read: tcp_stream's expiry is absolute.
  ex.stream.expires_at(deadline);
  ex.start(endpoints);
  ioc.run_until(deadline + kCancelGrace);
  if (!ex.finished) {
    // Only reachable if the stream timer misbehaved; close and drain.
    boost::system::error_code ignored;
    ex.stream.socket().close(ignored);
    ioc.restart();
    ioc.run_for(kCancelGrace);
    if (!ex.finished) ex.ec = beast::error::timeout;
  }
  boost::system::error_code ignored;
  ex.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  if (ex.ec == beast::error::timeout || ex.ec == net::error::operation_aborted) {
    return fail("timed out after " + formatSeconds(request.timeout) + " while " + ex.phase);
  }
  // A body that cannot be read in full or decoded once the status came: an
  // error, or with statusOnBodyError the response without its body.
  auto unreadable = [&](HttpResponse response, const std::string& why) -> Result<HttpResponse> {
    if (!request.statusOnBodyError) return fail(why);
    response.body.clear();
    response.bodyError = why;
    return response;
  };
  if (ex.ec == http::error::body_limit) {
    const std::string why = "body larger than " + std::to_string(request.maxBodyBytes) + " bytes";
    if (!ex.parser.is_header_done()) return fail(why);
    HttpResponse partial;
    partial.status = ex.parser.get().result_int();
    return unreadable(std::move(partial), why);
  }
  if (ex.ec == http::error::header_limit) {
    return fail("response headers larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (ex.ec) return fail(std::string(ex.phase) + " failed: " + ex.ec.message());

  auto& msg = ex.parser.get();
  HttpResponse response;
  response.status = msg.result_int();
  auto contentType = msg[http::field::content_type];
  response.contentType.assign(contentType.data(), contentType.size());
  response.wireBytes = msg.body().size();
  auto encodingHeader = msg[http::field::content_encoding];
  std::string_view encoding(encodingHeader.data(), encodingHeader.size());
  if (iequals(encoding, "gzip") || iequals(encoding, "x-gzip")) {
    auto decoded = gunzipBounded(msg.body(), request.maxBodyBytes);
    if (!decoded) return unreadable(std::move(response), decoded.error().message);
    response.body = std::move(decoded.value());
  } else if (encoding.empty() || iequals(encoding, "identity")) {
    response.body = std::move(msg.body());
  } else {
    return unreadable(std::move(response), "unsupported Content-Encoding '" + std::string(encoding) + "'");
  }
  return response;
}

}  // namespace

std::string redactUrl(const std::string& url) {
  auto scheme = url.find("://");
  std::size_t authorityStart = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t authorityEnd = url.find_first_of("/?#", authorityStart);
  if (authorityEnd == std::string::npos) authorityEnd = url.size();
  auto at = url.rfind('@', authorityEnd == 0 ? 0 : authorityEnd - 1);
  if (at == std::string::npos || at < authorityStart) return url;
  return url.substr(0, authorityStart) + url.substr(at + 1);
}

Result<HttpUrl> parseHttpUrl(const std::string& url) {
  // A malformed URL may hold a password with an unencoded '/', '?' or '#'
  // (http://u:pa/ss@h/), which redactUrl does not see as user info: in this
  // message everything up to the last '@' goes.
  auto bad = [&](const std::string& why) {
    std::string shown = redactUrl(url);
    if (auto at = shown.rfind('@'); at != std::string::npos) {
      auto scheme = shown.find("://");
      shown = (scheme == std::string::npos || scheme > at ? "" : shown.substr(0, scheme + 3)) + "..." +
              shown.substr(at + 1);
    }
    return makeError("invalid URL '" + shown + "': " + why);
  };
  if (startsWithNoCase(url, "https://")) {
    return makeError("https is not supported; use an http:// URL (trimtab is built without TLS) "
                     "or put a TLS-terminating proxy in front: '" + redactUrl(url) + "'");
  }
  if (url.rfind("env:", 0) == 0 || url.rfind("file:", 0) == 0)
    return bad("give the URL itself: env: and file: are for secrets, and an http URL here carries none "
               "(credentials go in headers)");
  if (!startsWithNoCase(url, "http://")) return bad("expected http://host[:port][/path]");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("contains a space or control character");
  }
  std::string_view rest = std::string_view(url).substr(7);
  std::size_t authorityEnd = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authorityEnd);
  std::string_view tail = authorityEnd == std::string_view::npos ? "" : rest.substr(authorityEnd);
  // Credentials in the URL would be silently dropped (the client sends no
  // Authorization from them) and sit in the config as plain text.
  if (authority.find('@') != std::string_view::npos)
    return bad("user:password@ in the URL is not sent; give credentials as a header, "
               "e.g. headers: {Authorization: env:NAME}");

  HttpUrl out;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated '[' in host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("expected ':port' after ']'");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
    for (char c : out.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return bad("invalid IPv6 host");
    }
  } else {
    auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
    for (char c : out.host) {
      if (!validHostChar(c)) return bad(std::string("invalid character '") + c + "' in host");
    }
  }
  if (out.host.empty()) return bad("missing host");
  if (port.empty()) {
    out.port = "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("port must be a number from 1 to 65535");
    }
    unsigned long n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return bad("port must be a number from 1 to 65535");
    out.port = std::to_string(n);
  }
  tail = tail.substr(0, tail.find('#'));
  if (tail.empty()) {
    out.target = "/";
  } else if (tail.front() == '?') {
    out.target = "/" + std::string(tail);
  } else {
    out.target = std::string(tail);
  }
  return out;
}

Result<HttpResponse> httpExchange(const HttpRequest& request) {
  // A line break in a value would end the header and start another: values
  // from env: secrets are only known here. The message names the header, never the value.
  for (const auto& [name, value] : request.headers) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return makeError(request.method + " " + redactUrl(request.url) + ": header '" + name +
                       "': the value contains a line break or NUL, not sent");
    }
  }
  try {
    return exchange(request);
  } catch (const std::exception& e) {
    return makeError(request.method + " " + redactUrl(request.url) + ": " + e.what());
  } catch (...) {
    return makeError(request.method + " " + redactUrl(request.url) + ": unexpected failure");
  }
}

}  // namespace trimtab
