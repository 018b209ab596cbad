// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/config_node.h"
#include "common/result.h"

namespace trimtab {

// Where a credential comes from. Config files are read by people and kept in
// repositories, so a password is never written in them: a setting names an
// environment variable ("env:REDIS_PASSWORD") or a file ("file:/run/secrets/pg",
// or a `*_file` key), read at connect time so a rotated secret is picked up.
struct SecretRef {
  enum class Kind { None, Literal, Env, File };
  Kind kind = Kind::None;
  std::string text;  // the literal, the variable name or the file path

  bool empty() const { return kind == Kind::None; }
  // "environment variable PG_DSN", "file /run/secrets/pg", "the config file":
  // where the value came from, for messages (never the value).
  std::string origin() const;
};

// "env:NAME" -> Env, "file:PATH" -> File, "" -> None, anything else -> Literal
// when `allowLiteral`, else an Error saying what is expected.
// REQUIRES for Env: NAME matches [A-Za-z_][A-Za-z0-9_]*.
Result<SecretRef> parseSecretRef(std::string_view text, bool allowLiteral);

// The secret's current value: the literal, $NAME, or the first line of the
// file (trailing "\r\n" removed). Errors name the variable or the file, never
// a value.
Result<std::string> readSecret(const SecretRef& ref);

// Reads the `password` ("env:NAME" or "file:PATH", never a literal) and
// `password_file` keys every server connection has, recording diagnostics on
// `params`; file paths go through `resolvePath` (relative to the config).
SecretRef readPasswordSetting(ConfigNode& params,
                              const std::function<std::string(const std::string&)>& resolvePath);

// Replaces every occurrence of `secret` in `text` by "<redacted>" (nothing
// when `secret` is empty).
void redactSecret(std::string& text, std::string_view secret);

}  // namespace trimtab
