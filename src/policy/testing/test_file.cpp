// SPDX-License-Identifier: Apache-2.0
// The C functions run by LuaSandbox::run keep no C++ object with a destructor
// alive across a Lua call that can raise; they write into the job structs,
// which outlive the protected call.
#include "policy/testing/test_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace trimtab {
namespace {

struct LoadJob {
  const char* file;
  int ref = LUA_NOREF;
};

int loadChunk(lua_State* L) {
  LoadJob& job = *static_cast<LoadJob*>(lua_touserdata(L, 1));
  if (luaL_loadfilex(L, job.file, "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  job.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

struct FindJob {
  const std::string* subject;
  const std::string* pattern;
  bool found = false;
};

int findChunk(lua_State* L) {
  FindJob& job = *static_cast<FindJob*>(lua_touserdata(L, 1));
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_getfield(L, -1, "find");
  lua_pushlstring(L, job.subject->data(), job.subject->size());
  lua_pushlstring(L, job.pattern->data(), job.pattern->size());
  lua_call(L, 2, 1);
  job.found = !lua_isnil(L, -1);
  return 0;
}

struct RefJob {
  int ref;
  LuaValue value;
};

int takeChunk(lua_State* L) {
  RefJob& job = *static_cast<RefJob*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, job.ref);
  job.value = luaValueAt(L, -1);  // raises nothing (lua_value.h)
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, job.ref);
  return 0;
}

}  // namespace

Result<std::unique_ptr<TestFile>> TestFile::load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(file + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();

  std::unique_ptr<TestFile> loaded(new TestFile());
  loaded->file_ = file;
  Result<std::unique_ptr<LuaSandbox>> sandbox = LuaSandbox::create(kTestFileCpuBudget, kTestFileMemoryCap);
  if (!sandbox.ok()) return makeError(file + ": " + sandbox.error().message);
  loaded->sandbox_ = std::move(*sandbox);
  loaded->sandbox_->setChunkFile(file);

  LoadJob job{file.c_str()};
  Status ran = loaded->sandbox_->run(loadChunk, &job);
  if (!ran.ok()) {
    const std::string& message = ran.error().message;
    return makeError(message.rfind(file, 0) == 0 ? message : file + ": " + message);
  }
  Result<LuaValue> returned = loaded->takeRef(job.ref);
  if (!returned.ok()) return makeError(file + ": " + returned.error().message);
  std::string dir = std::filesystem::path(file).parent_path().string();
  Result<std::vector<TestCase>> cases = parseTestCases(*returned, file, text.str(), dir.empty() ? "." : dir);
  if (!cases.ok()) return cases.error();
  loaded->cases_ = std::move(*cases);
  return loaded;
}

Result<bool> TestFile::find(const std::string& subject, const std::string& pattern) {
  FindJob job{&subject, &pattern};
  Status ran = sandbox_->run(findChunk, &job);
  if (!ran.ok()) return makeError("pattern '" + pattern + "': " + ran.error().message);
  return job.found;
}

Result<LuaValue> TestFile::takeRef(int ref) {
  RefJob job{ref, {}};
  Status ran = sandbox_->run(takeChunk, &job);
  if (!ran.ok()) return ran.error();
  return std::move(job.value);
}

}  // namespace trimtab
