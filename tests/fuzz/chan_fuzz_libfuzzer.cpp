// The channel fuzzer as a libFuzzer target (clang: -fsanitize=fuzzer; built when the compiler
// supports it). Run: build/tests/fuzz/chan_fuzz_libfuzzer -max_total_time=60
#include <cstddef>
#include <cstdint>

#include "chan_program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  goro::fuzz::run_program(data, size);
  return 0;
}
