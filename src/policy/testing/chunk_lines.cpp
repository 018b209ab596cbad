// SPDX-License-Identifier: Apache-2.0
// Reads the binary chunk format of Lua 5.4 (ldump.c): header, then each
// function prototype with its nested prototypes and debug line info.
#include "policy/testing/chunk_lines.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <lua.hpp>
#include <memory>
#include <set>
#include <sstream>

namespace trimtab {
namespace {

constexpr int kAbsLineInfo = -0x80;  // ABSLINEINFO: this instruction's line is in abslineinfo
constexpr int kMaxNesting = 200;     // the Lua parser's own limit is lower (LUAI_MAXCCALLS)
// Constant type tags (lobject.h: makevariant(type, variant)).
constexpr int kNil = 0x00, kFalse = 0x01, kTrue = 0x11, kInteger = 0x03, kFloat = 0x13, kShortString = 0x04,
              kLongString = 0x14;

class DumpReader {
 public:
  explicit DumpReader(const std::string& bytes) : data_(bytes) {}

  bool header() {
    static const char kSignature[] = "\x1bLua";
    static const char kData[] = "\x19\x93\r\n\x1a\n";
    if (!literal(kSignature, 4) || byte() != 0x54 || byte() != 0) return false;
    if (!literal(kData, 6)) return false;
    if (byte() != 4 || byte() != sizeof(lua_Integer) || byte() != sizeof(lua_Number)) return false;
    skip(sizeof(lua_Integer) + sizeof(lua_Number));  // LUAC_INT, LUAC_NUM
    byte();                                          // upvalues of the main closure
    return ok_;
  }

  // One prototype and, recursively, those nested in it.
  bool function(std::set<int>& lines, int depth) {
    if (depth > kMaxNesting) return false;
    skipString();  // source
    int lineDefined = static_cast<int>(size());
    size();  // lastlinedefined
    byte();  // numparams
    bool vararg = byte() != 0;
    byte();  // maxstacksize
    std::size_t code = size();
    skip(code * 4);
    std::size_t constants = size();
    for (std::size_t i = 0; i < constants && ok_; ++i) {
      int tag = byte();
      if (tag == kFloat || tag == kInteger) {
        skip(8);
      } else if (tag == kShortString || tag == kLongString) {
        skipString();
      } else if (tag != kNil && tag != kFalse && tag != kTrue) {
        return false;
      }
    }
    std::size_t upvalues = size();
    skip(upvalues * 3);
    std::size_t protos = size();
    for (std::size_t i = 0; i < protos && ok_; ++i) {
      if (!function(lines, depth + 1)) return false;
    }
    // Debug info: line deltas, absolute lines, locals, upvalue names.
    std::size_t lineInfoSize = size();
    if (!ok_ || pos_ + lineInfoSize > data_.size()) return false;
    std::vector<signed char> lineInfo(lineInfoSize);
    for (std::size_t i = 0; i < lineInfoSize; ++i) lineInfo[i] = static_cast<signed char>(data_[pos_ + i]);
    pos_ += lineInfoSize;
    std::size_t absCount = size();
    std::vector<std::pair<std::size_t, int>> absLines;
    for (std::size_t i = 0; i < absCount && ok_; ++i) {
      std::size_t pc = size();
      absLines.emplace_back(pc, static_cast<int>(size()));
    }
    std::size_t locals = size();
    for (std::size_t i = 0; i < locals && ok_; ++i) {
      skipString();
      size();
      size();
    }
    std::size_t upvalueNames = size();
    for (std::size_t i = 0; i < upvalueNames && ok_; ++i) skipString();
    if (!ok_) return false;

    int line = lineDefined;
    for (std::size_t pc = 0; pc < lineInfo.size(); ++pc) {
      if (lineInfo[pc] != kAbsLineInfo) {
        line += lineInfo[pc];
      } else {
        auto it = std::find_if(absLines.begin(), absLines.end(), [pc](const auto& a) { return a.first == pc; });
        if (it == absLines.end()) return false;
        line = it->second;
      }
      if (pc == 0 && vararg) continue;  // OP_VARARGPREP: the hook starts after it
      lines.insert(line);
    }
    return true;
  }

  bool atEnd() const { return ok_ && pos_ == data_.size(); }

 private:
  int byte() {
    if (pos_ >= data_.size()) {
      ok_ = false;
      return -1;
    }
    return static_cast<unsigned char>(data_[pos_++]);
  }
  void skip(std::size_t n) {
    if (n > data_.size() - std::min(pos_, data_.size())) {
      ok_ = false;
      pos_ = data_.size();
      return;
    }
    pos_ += n;
  }
  bool literal(const char* text, std::size_t n) {
    if (pos_ + n > data_.size() || std::memcmp(data_.data() + pos_, text, n) != 0) return false;
    pos_ += n;
    return true;
  }
  // dumpSize: 7 bits per byte, most significant first, the last byte has 0x80.
  std::size_t size() {
    std::size_t x = 0;
    for (int i = 0; i < 10; ++i) {
      int b = byte();
      if (b < 0) return 0;
      x = (x << 7) | static_cast<std::size_t>(b & 0x7f);
      if (b & 0x80) return x;
    }
    ok_ = false;
    return 0;
  }
  void skipString() {
    std::size_t n = size();
    if (n > 0) skip(n - 1);
  }

  const std::string& data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

int collect(lua_State* /*L*/, const void* p, std::size_t size, void* ud) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(p), size);
  return 0;
}

struct StateCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};

}  // namespace

Result<std::vector<int>> executableLinesOfText(const std::string& text, const std::string& chunkName) {
  // A bare state: the chunk is compiled, never run, so it needs no library.
  std::unique_ptr<lua_State, StateCloser> L(luaL_newstate());
  if (!L) return makeError(chunkName + ": cannot create a Lua state");
  std::string name = "@" + chunkName;
  std::string source = text;
  if (!source.empty() && source[0] == '#') {
    source.erase(0, source.find('\n') == std::string::npos ? source.size() : source.find('\n'));  // as luaL_loadfile
  }
  if (luaL_loadbufferx(L.get(), source.data(), source.size(), name.c_str(), "t") != LUA_OK) {
    return makeError(lua_tostring(L.get(), -1));
  }
  std::string bytes;
  if (lua_dump(L.get(), collect, &bytes, 0) != 0) return makeError(chunkName + ": cannot dump the compiled chunk");
  DumpReader reader(bytes);
  std::set<int> lines;
  if (!reader.header() || !reader.function(lines, 0) || !reader.atEnd()) {
    return makeError(chunkName + ": unexpected Lua binary chunk format (not Lua 5.4?)");
  }
  return std::vector<int>(lines.begin(), lines.end());
}

Result<std::vector<int>> executableLines(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(file + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return executableLinesOfText(text.str(), file);
}

}  // namespace trimtab
