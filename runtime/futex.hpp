// Thin wrappers over the Linux futex syscall, used to park worker and plain OS threads.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "goro/detail/spin_mutex.hpp"  // cpu_relax
#include "sanitizer.hpp"

namespace goro::detail {

/// steady_clock::now() in nanoseconds (CLOCK_MONOTONIC), the time base of all deadlines.
inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

#if GORO_TSAN
// TSan runs a signal handler only when the receiving thread next enters a function it
// intercepts; a thread asleep in a raw futex syscall would hold a SIGTERM back forever. Under
// TSan, sleeps are cut into slices that each end in an intercepted call (clock_gettime).
inline constexpr std::int64_t tsan_signal_slice_ns = 100'000'000;
#endif

/// Sleeps while *word == expected, until woken or until the absolute CLOCK_MONOTONIC time
/// `deadline_ns` (< 0: no deadline). Spurious returns are allowed; callers loop.
inline void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                       std::int64_t deadline_ns = -1) noexcept {
  timespec ts{};
  timespec* tp = nullptr;
#if GORO_TSAN
  const std::int64_t slice_end = monotonic_ns() + tsan_signal_slice_ns;
  if (deadline_ns < 0 || deadline_ns > slice_end) deadline_ns = slice_end;
#endif
  if (deadline_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
    tp = &ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout (std::chrono::steady_clock).
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_BITSET_PRIVATE, expected,
          tp, nullptr, FUTEX_BITSET_MATCH_ANY);
#if GORO_TSAN
  (void)monotonic_ns();  // the intercepted call that runs a pending signal handler
#endif
}

/// Wakes up to `n` threads sleeping on `word`. Harmless if the word's memory was reused.
inline void futex_wake(std::atomic<std::uint32_t>* word, int n = 1) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, n, nullptr,
          nullptr, 0);
}

}  // namespace goro::detail
