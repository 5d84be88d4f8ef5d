// The channel fuzzer's seeded stand-alone driver (CI runs it under every build, sanitizers
// included): random programs from a fixed seed, for a bounded number of programs and time.
//   chan_fuzz_driver [--seed S] [--programs N] [--seconds T] [--only K]
// --only K runs just program K of the seed's sequence (to reproduce a report), K times over.
// A violation aborts with the seed and program number that reproduce it.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "chan_program.hpp"

namespace {
char g_where[128];
// A program that does not end is a hang in the runtime (every program is built to end).
void on_alarm(int) {
  const char msg[] = "chan fuzz: violation: a program did not end within 30 s: ";
  (void)!write(2, msg, sizeof msg - 1);
  (void)!write(2, g_where, strnlen(g_where, sizeof g_where));
  (void)!write(2, "\n", 1);
  abort();
}
}  // namespace

int main(int argc, char** argv) {
  signal(SIGALRM, on_alarm);
  std::uint64_t seed = 1;
  long programs = 2000;
  double seconds = 20;
  long only = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--programs")) programs = std::strtol(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::strtod(argv[i + 1], nullptr);
    else if (!std::strcmp(argv[i], "--only")) only = std::strtol(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--seed S] [--programs N] [--seconds T] [--only K]\n",
                   argv[0]);
      return 2;
    }
  }
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  long ran = 0;
  std::vector<std::uint8_t> bytes;
  for (; ran < programs; ++ran) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds)
      break;
    bytes.resize(8 + rng() % 120);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    if (only >= 0 && ran != only) {
      if (ran > only) break;
      continue;
    }
    goro::fuzz::where() = "seed " + std::to_string(seed) + ", program " + std::to_string(ran);
    std::snprintf(g_where, sizeof g_where, "%s", goro::fuzz::where().c_str());
    if (only >= 0) std::fputs(goro::fuzz::describe(bytes.data(), bytes.size()).c_str(), stderr);
    for (int r = 0; r < (only >= 0 ? 200 : 1); ++r) {
      alarm(30);
      goro::fuzz::run_program(bytes.data(), bytes.size());
    }
  }
  std::printf("chan fuzz: %ld programs from seed %llu passed\n", ran,
              static_cast<unsigned long long>(seed));
  return ran > 0 ? 0 : 1;
}
