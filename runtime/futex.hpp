// Thin wrappers over the Linux futex syscall, used to park worker and plain OS threads.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "goro/detail/spin_mutex.hpp"  // cpu_relax

namespace goro::detail {

/// Sleeps while *word == expected, until woken or until the absolute CLOCK_MONOTONIC time
/// `deadline_ns` (< 0: no deadline). Spurious returns are allowed; callers loop.
inline void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                       std::int64_t deadline_ns = -1) noexcept {
  timespec ts{};
  timespec* tp = nullptr;
  if (deadline_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    tp = &ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout (std::chrono::steady_clock).
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_BITSET_PRIVATE, expected,
          tp, nullptr, FUTEX_BITSET_MATCH_ANY);
}

/// Wakes up to `n` threads sleeping on `word`. Harmless if the word's memory was reused.
inline void futex_wake(std::atomic<std::uint32_t>* word, int n = 1) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, n, nullptr,
          nullptr, 0);
}

/// steady_clock::now() in nanoseconds (CLOCK_MONOTONIC), the time base of all deadlines.
inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace goro::detail
