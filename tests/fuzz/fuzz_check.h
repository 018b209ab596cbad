// SPDX-License-Identifier: Apache-2.0
// What every fuzz target shares: the libFuzzer entry point's signature and a
// check that stops the run on a broken property.
//
// A target is one LLVMFuzzerTestOneInput. Built with clang and
// -DTRIMTAB_FUZZ=ON it links libFuzzer and explores inputs guided by
// coverage; built as <target>_replay (any compiler, every CTest run) it runs
// the committed corpus and a fixed number of seeded mutations of it
// (replay_main.cpp), so a crash once found stays found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Aborts (libFuzzer then saves the input as crash-*) when a property the
// target states does not hold. Not assert(): it must hold in release builds.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   what);                                                                   \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace trimtab::fuzz {

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace trimtab::fuzz
