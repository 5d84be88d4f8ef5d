// Shared by the goro and Boost.Fiber workload programs (the Go ones mirror it in
// go/benchutil): the command line `[-w workers] [n]`, a stopwatch, VmRSS, the pseudo-random
// mix shared by all three languages, and the one machine-readable RESULT line (which ends with
// the process's peak RSS, VmHWM: getrusage of a child started by the harness would count the
// harness's own pages, which a fork-and-exec inherits as the floor of ru_maxrss).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace bench {

struct args {
  std::size_t workers;  // -w N; default: the hardware threads
  std::int64_t n;       // the workload's size
};

[[noreturn]] inline void fail(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

[[noreturn]] inline void usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [-w workers] [n]\n", prog);
  std::exit(2);
}

inline std::int64_t parse_positive(const char* s, const char* prog) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0) usage(prog);
  return v;
}

/// `prog [-w workers] [n]`.
inline args parse_args(int argc, char** argv, std::int64_t default_n) {
  args a{std::max(1u, std::thread::hardware_concurrency()), default_n};
  bool have_n = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
      a.workers = static_cast<std::size_t>(parse_positive(argv[++i], argv[0]));
    } else if (!have_n) {
      a.n = parse_positive(argv[i], argv[0]);
      have_n = true;
    } else {
      usage(argv[0]);
    }
  }
  return a;
}

class stopwatch {
 public:
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

/// A "Vm…:" line of /proc/self/status in kB: VmRSS (resident now), VmHWM (peak resident).
inline std::int64_t proc_status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0 && line[std::strlen(key)] == ':')
      return std::stoll(line.substr(std::strlen(key) + 1));
  fail(std::string("no ") + key + " in /proc/self/status");
}

/// splitmix64's finalizer: the pseudo-random numbers all three languages agree on.
inline std::uint64_t mix(std::uint64_t x) {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Sum of i + 1 over the set flags: proves which fibers ran.
inline std::int64_t sum_marked(const std::vector<std::uint8_t>& flags) {
  std::int64_t s = 0;
  for (std::size_t i = 0; i < flags.size(); ++i)
    if (flags[i]) s += static_cast<std::int64_t>(i) + 1;
  return s;
}

/// " late_mean_us=… late_median_us=… late_p99_us=…" for lateness samples in nanoseconds.
inline std::string lateness(std::vector<std::int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  double sum = 0;
  for (auto v : ns) sum += static_cast<double>(v);
  const std::size_t n = ns.size();
  char buf[128];
  std::snprintf(buf, sizeof buf, " late_mean_us=%.1f late_median_us=%.1f late_p99_us=%.1f",
                sum / static_cast<double>(n) / 1e3, static_cast<double>(ns[n / 2]) / 1e3,
                static_cast<double>(ns[std::min(n - 1, n * 99 / 100)]) / 1e3);
  return buf;
}

/// A human note about this implementation (the harness collects them).
inline void note(const char* impl, const char* text) {
  std::printf("NOTE impl=%s %s\n", impl, text);
}

/// The one machine-readable line; `extra` is " key=value" pairs.
inline void report(const char* workload, const char* impl, const args& a, std::int64_t checksum,
                   double ms, const std::string& extra = {}) {
  std::printf("RESULT workload=%s impl=%s workers=%zu n=%lld checksum=%lld ms=%.3f%s", workload,
              impl, a.workers, static_cast<long long>(a.n), static_cast<long long>(checksum), ms,
              extra.c_str());
  std::printf(" peak_rss_kb=%lld\n", static_cast<long long>(proc_status_kb("VmHWM")));
  std::fflush(stdout);
}

}  // namespace bench
