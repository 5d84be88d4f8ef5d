// Deadlines in CLOCK_MONOTONIC nanoseconds (std::chrono::steady_clock), saturating: a duration
// or time point beyond what 64-bit nanoseconds hold means "never" (Go: math.MaxInt64), not an
// overflow that wraps into the past.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace goro::detail {

inline constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t min_ns = std::numeric_limits<std::int64_t>::min();

/// `d` in nanoseconds, clamped to the int64 range.
template <class Rep, class Period>
constexpr std::int64_t saturating_ns(const std::chrono::duration<Rep, Period>& d) noexcept {
  // The range check in long double: exact enough at the edges, and never overflows itself.
  const long double ns = std::chrono::duration<long double, std::nano>(d).count();
  if (!(ns == ns)) return 0;  // NaN
  if (ns >= static_cast<long double>(max_ns)) return max_ns;
  if (ns <= static_cast<long double>(min_ns)) return min_ns;
  if constexpr (std::is_floating_point_v<Rep>) return static_cast<std::int64_t>(ns);
  else return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? max_ns : min_ns;
  return r;
}

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// now + d, saturated.
template <class Rep, class Period>
std::int64_t deadline_after_ns(const std::chrono::duration<Rep, Period>& d) noexcept {
  return saturating_add(now_ns(), saturating_ns(d));
}

/// A time point of any clock as a steady_clock deadline in nanoseconds, saturated.
template <class Clock, class Duration>
std::int64_t deadline_ns(const std::chrono::time_point<Clock, Duration>& tp) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
    return saturating_ns(tp.time_since_epoch());
  } else {
    // tp - now in long double (no overflow for min()/max() time points), then from steady now.
    const long double left =
        std::chrono::duration<long double, std::nano>(tp.time_since_epoch()).count() -
        std::chrono::duration<long double, std::nano>(Clock::now().time_since_epoch()).count();
    return saturating_add(now_ns(),
                          saturating_ns(std::chrono::duration<long double, std::nano>(left)));
  }
}

inline std::chrono::steady_clock::time_point steady_at(std::int64_t ns) noexcept {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

}  // namespace goro::detail
