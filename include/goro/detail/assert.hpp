// GORO_ASSERT: goro's internal invariants (waiter and fiber state transitions, queue links,
// run-queue ownership, timer indices), checked in Debug and sanitizer builds (GORO_CHECKS, set by
// goro's CMake) and compiled out otherwise. A failure is a bug in goro, not in its user: it
// prints the invariant and aborts.
#pragma once

namespace goro::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line) noexcept;
}  // namespace goro::detail

#if defined(GORO_CHECKS) && GORO_CHECKS
#define GORO_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::goro::detail::assert_failed(#expr, __FILE__, __LINE__))
#else
#define GORO_ASSERT(expr) static_cast<void>(sizeof(!(expr)))
#endif
