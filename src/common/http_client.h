// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace trimtab {

struct HttpRequest {
  std::string method = "GET";   // GET, POST, PUT
  std::string url;              // http://host:port/path?query (no TLS)
  std::map<std::string, std::string> headers;
  std::string body;
  Seconds timeout = 5;          // whole exchange: resolve, connect, write, read
  std::size_t maxBodyBytes = 16u << 20;  // after decompression; larger -> Error
  bool acceptGzip = true;       // send Accept-Encoding: gzip, decode if the server uses it
  // A body that cannot be read in full or decoded (over maxBodyBytes, an
  // unknown Content-Encoding) once the status line has come: by default an
  // Error; with this set, the response with its status and `bodyError`
  // (for a caller that needs the status, not the body: the request took
  // effect, and sending it again would repeat it).
  bool statusOnBodyError = false;
};

struct HttpResponse {
  int status = 0;
  std::string contentType;
  std::string body;             // decoded (gunzipped) body
  std::size_t wireBytes = 0;    // bytes received before decoding
  std::string bodyError;        // statusOnBodyError: why `body` is empty
};

// Parsed http:// URL. https is rejected with a clear error (no TLS build).
struct HttpUrl {
  std::string host;
  std::string port;   // "80" when absent
  std::string target; // path + query, "/" when absent
};
Result<HttpUrl> parseHttpUrl(const std::string& url);

// The URL with any userinfo ("user:password@") removed, for messages and logs.
// Works on malformed URLs too (best effort).
std::string redactUrl(const std::string& url);

// Sent as User-Agent on every request.
inline constexpr const char* kHttpUserAgent = "trimtab/0.1";

// One blocking HTTP/1.1 exchange with Boost.Beast. Never throws; a transport
// failure, timeout, malformed response or oversized body is an Error naming
// the URL (without userinfo). A non-2xx status is not an Error: callers judge.
//
// Thread safety: stateless, callable from any thread.
Result<HttpResponse> httpExchange(const HttpRequest& request);

}  // namespace trimtab
