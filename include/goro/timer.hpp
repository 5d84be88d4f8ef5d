// goro::after and goro::timer: Go's time.After and time.Timer, on the runtime's timer heap.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "goro/chan.hpp"

namespace goro {

namespace detail {
struct timer_state;  // runtime/timer.cpp
using clock = std::chrono::steady_clock;
std::int64_t to_ns(clock::time_point tp) noexcept;
template <class Rep, class Period>
std::int64_t deadline_after(const std::chrono::duration<Rep, Period>& d) noexcept {
  return to_ns(clock::now()) + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
recv_chan<clock::time_point> after_ns(std::int64_t when_ns);
timer_state* timer_start(std::int64_t when_ns, std::int64_t period_ns);
void timer_destroy(timer_state* s) noexcept;
bool timer_stop(timer_state* s) noexcept;
bool timer_reset(timer_state* s, std::int64_t when_ns, std::int64_t period_ns);
recv_chan<clock::time_point> timer_chan(const timer_state* s) noexcept;
struct timer_deleter {
  void operator()(timer_state* s) const noexcept { timer_destroy(s); }
};
}  // namespace detail

/// `time.After(d)`: a channel that delivers the time once, after `d`. Inside a fiber the timer
/// lives on that fiber's runtime (do not keep waiting on it after the runtime is destroyed);
/// elsewhere on the default runtime.
template <class Rep, class Period>
recv_chan<std::chrono::steady_clock::time_point> after(
    const std::chrono::duration<Rep, Period>& d) {
  return detail::after_ns(detail::deadline_after(d));
}

/// `time.Timer`: delivers the time on c() once, after the duration. stop() and reset() leave no
/// stale value in c() (like Go 1.23 timers). Must not outlive the runtime it was made on.
class timer {
 public:
  /// Starts a timer that fires once, after d.
  template <class Rep, class Period>
  explicit timer(const std::chrono::duration<Rep, Period>& d)
      : s_(detail::timer_start(detail::deadline_after(d), 0)) {}

  /// The channel on which the time is delivered.
  recv_chan<std::chrono::steady_clock::time_point> c() const noexcept {
    return detail::timer_chan(s_.get());
  }
  /// Prevents the timer from firing; true if it was pending (Go's Stop).
  bool stop() noexcept { return detail::timer_stop(s_.get()); }
  /// Re-arms the timer for `d` from now; true if it was pending (Go's Reset).
  template <class Rep, class Period>
  bool reset(const std::chrono::duration<Rep, Period>& d) {
    return detail::timer_reset(s_.get(), detail::deadline_after(d), 0);
  }

 private:
  std::unique_ptr<detail::timer_state, detail::timer_deleter> s_;
};

}  // namespace goro
