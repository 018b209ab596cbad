// SPDX-License-Identifier: Apache-2.0
// Runs a fuzz target without libFuzzer: every file of the given corpus
// directories, then `--mutations N` inputs made from them by seeded byte
// mutations (flip, insert, erase, duplicate, splice), the same ones on every
// run; a failing input is left in ./fuzz-failure-<target>.bin. CTest runs it on every build, sanitized builds included, so inputs
// that once broke a parser stay in the suite; finding new ones is the job of
// the libFuzzer build (docs/testing.md).
//
//   <target>_replay [--mutations N] [--seed S] [--max-len BYTES] PATH...
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;
using Input = std::vector<std::uint8_t>;

bool readInput(const fs::path& path, Input& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Bytes that mean something to the formats fuzzed here (delimiters, signs,
// escapes, digits), tried more often than the other 240.
constexpr std::uint8_t kInteresting[] = {'\0', '\n', '\r', '\t', ' ', '"', '\'', '\\', '{', '}', '[', ']',
                                         ',', ':', '=', '#', '%', '-', '+', '.', 'e', '0', '9', 0x7f, 0xff};

Input mutate(const std::vector<Input>& corpus, std::mt19937_64& rng, std::size_t maxLen) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  Input in = corpus[pick(corpus.size())];
  const int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = pick(in.size() + 1);
    switch (pick(7)) {
      case 0:  // flip one bit
        if (!in.empty()) in[pick(in.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1:  // overwrite with an interesting byte
        if (!in.empty()) in[pick(in.size())] = kInteresting[pick(std::size(kInteresting))];
        break;
      case 2:  // insert a byte
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(at),
                  pick(2) ? kInteresting[pick(std::size(kInteresting))] : static_cast<std::uint8_t>(rng()));
        break;
      case 3: {  // erase a range
        const std::size_t n = std::min(in.size() - std::min(at, in.size()), 1 + pick(16));
        in.erase(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 4: {  // duplicate a range in place (repeats, deep nesting)
        if (in.empty()) break;
        const std::size_t from = pick(in.size());
        const std::size_t n = std::min(in.size() - from, 1 + pick(64));
        const Input chunk(in.begin() + static_cast<std::ptrdiff_t>(from),
                          in.begin() + static_cast<std::ptrdiff_t>(from + n));
        const int copies = 1 + static_cast<int>(pick(8));
        for (int c = 0; c < copies; ++c) in.insert(in.begin() + static_cast<std::ptrdiff_t>(from), chunk.begin(), chunk.end());
        break;
      }
      case 5: {  // splice: a piece of another input
        const Input& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        const std::size_t n = std::min(other.size() - from, 1 + pick(128));
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(at), other.begin() + static_cast<std::ptrdiff_t>(from),
                  other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      default:  // truncate
        in.resize(at);
        break;
    }
  }
  if (in.size() > maxLen) in.resize(maxLen);
  return in;
}

// The input being run, written to ./fuzz-failure-<target>.bin when a
// property check aborts or a sanitizer reports, so a failure found by a
// mutation can be replayed (`<target>_replay fuzz-failure-<target>.bin`) and
// kept in the corpus. One file per target: CTest runs them side by side.
const Input* gCurrent = nullptr;
char gFailurePath[256] = "fuzz-failure.bin";  // set in main; the handler may only read it

void dumpCurrent() {
  if (gCurrent == nullptr) return;
  const int fd = ::open(gFailurePath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < gCurrent->size()) {
    const ssize_t n = ::write(fd, gCurrent->data() + done, gCurrent->size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  constexpr char kSaid[] = "the failing input is in ./";
  (void)!::write(2, kSaid, sizeof kSaid - 1);
  (void)!::write(2, gFailurePath, std::strlen(gFailurePath));
  (void)!::write(2, "\n", 1);
}

extern "C" void onAbort(int) {
  dumpCurrent();
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

void run(const Input& in) {
  gCurrent = &in;
  LLVMFuzzerTestOneInput(in.data(), in.size());
  gCurrent = nullptr;
}

}  // namespace

// Sanitizers report and exit without SIGABRT; they call this first when linked in.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

int main(int argc, char** argv) {
  const std::string target = fs::path(argv[0]).filename().string();
  std::snprintf(gFailurePath, sizeof gFailurePath, "fuzz-failure-%s.bin", target.c_str());
  std::signal(SIGABRT, onAbort);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(dumpCurrent);
  long mutations = 0;
  std::uint64_t seed = 1;
  std::size_t maxLen = 16384;
  std::vector<Input> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << name << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (arg == "--mutations") {
        mutations = std::stol(value("--mutations"));
        continue;
      }
      if (arg == "--seed") {
        seed = std::stoull(value("--seed"));
        continue;
      }
      if (arg == "--max-len") {
        maxLen = std::stoul(value("--max-len"));
        continue;
      }
    } catch (const std::exception&) {
      std::cerr << arg << ": expected a whole number\n";
      return 2;
    }
    const fs::path path(arg);
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(path, ec)) {
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // one order on every machine: the mutations depend on it
    } else {
      files.push_back(path);
    }
    for (const auto& file : files) {
      Input in;
      if (!readInput(file, in)) {
        std::cerr << file.string() << ": cannot read\n";
        return 2;
      }
      run(in);
      corpus.push_back(std::move(in));
    }
  }
  if (corpus.empty()) {
    std::cerr << "no corpus input given (usage: " << argv[0] << " [--mutations N] [--seed S] PATH...)\n";
    return 2;
  }
  std::mt19937_64 rng(seed);
  for (long m = 0; m < mutations; ++m) {
    run(mutate(corpus, rng, maxLen));
  }
  std::cout << argv[0] << ": " << corpus.size() << " corpus inputs and " << mutations
            << " mutations ran, every property held\n";
  return 0;
}
