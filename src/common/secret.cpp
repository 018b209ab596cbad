// SPDX-License-Identifier: Apache-2.0
#include "common/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace trimtab {

namespace {

constexpr std::string_view kEnvPrefix = "env:";
constexpr std::string_view kFilePrefix = "file:";
// A credential file holds one line; refuse to read a misconfigured huge file.
constexpr std::size_t kMaxSecretBytes = 64u << 10;

bool isEnvName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

std::string SecretRef::origin() const {
  switch (kind) {
    case Kind::Env: return "environment variable " + text;
    case Kind::File: return "file " + text;
    case Kind::Literal: return "the config file";
    case Kind::None: break;
  }
  return "nowhere";
}

Result<SecretRef> parseSecretRef(std::string_view text, bool allowLiteral) {
  SecretRef ref;
  if (text.empty()) return ref;
  if (text.substr(0, kEnvPrefix.size()) == kEnvPrefix) {
    std::string_view name = text.substr(kEnvPrefix.size());
    if (!isEnvName(name)) return makeError("expected env:VARIABLE_NAME (letters, digits, _)");
    ref.kind = SecretRef::Kind::Env;
    ref.text = std::string(name);
    return ref;
  }
  if (text.substr(0, kFilePrefix.size()) == kFilePrefix) {
    if (text.size() == kFilePrefix.size()) return makeError("expected file:PATH");
    ref.kind = SecretRef::Kind::File;
    ref.text = std::string(text.substr(kFilePrefix.size()));
    return ref;
  }
  if (!allowLiteral) return makeError("expected env:VARIABLE_NAME or file:PATH (secrets are never written in the config)");
  ref.kind = SecretRef::Kind::Literal;
  ref.text = std::string(text);
  return ref;
}

Result<std::string> readSecret(const SecretRef& ref) {
  switch (ref.kind) {
    case SecretRef::Kind::None: return std::string();
    case SecretRef::Kind::Literal: return ref.text;
    case SecretRef::Kind::Env: {
      const char* value = std::getenv(ref.text.c_str());
      if (!value) return makeError("environment variable " + ref.text + " is not set");
      return std::string(value);
    }
    case SecretRef::Kind::File: {
      // A regular file only, opened without blocking (a FIFO would block
      // every connect), and read up to the cap (not /dev/zero to the end).
      const int fd = ::open(ref.text.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) return makeError("cannot read file " + ref.text);
      struct stat st {};
      if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError("file " + ref.text + " is not a regular file");
      }
      std::string data(kMaxSecretBytes + 1, '\0');
      std::size_t got = 0;
      while (got < data.size()) {
        const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      ::close(fd);
      data.resize(got);
      std::string line = data.substr(0, data.find('\n'));  // the first line
      if (line.size() > kMaxSecretBytes) return makeError("file " + ref.text + " is too large for a secret");
      while (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
  }
  return std::string();
}

void redactSecret(std::string& text, std::string_view secret) {
  if (secret.empty()) return;
  constexpr std::string_view kRedacted = "<redacted>";
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kRedacted.size()))
    text.replace(at, secret.size(), kRedacted);
}

SecretRef readPasswordSetting(ConfigNode& params,
                              const std::function<std::string(const std::string&)>& resolvePath) {
  SecretRef out;
  if (params.has("password") && params.has("password_file"))
    params.error("password_file", "give either password or password_file, not both");
  if (params.has("password")) {
    if (auto ref = parseSecretRef(params.getString("password"), false); !ref) {
      params.error("password", ref.error().message);
    } else {
      out = *ref;
      if (out.kind == SecretRef::Kind::File) out.text = resolvePath(out.text);
    }
  }
  if (params.has("password_file")) {
    out.kind = SecretRef::Kind::File;
    out.text = resolvePath(params.getString("password_file"));
    if (out.text.empty()) params.error("password_file", "expected a file path");
  }
  return out;
}

}  // namespace trimtab
