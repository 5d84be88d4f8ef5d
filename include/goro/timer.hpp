// goro::after and goro::timer: Go's time.After and time.Timer, on the runtime's timer heap.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "goro/chan.hpp"
#include "goro/detail/deadline.hpp"
#include "goro/detail/timer_ops.hpp"

namespace goro {

/// `time.After(d)`: a channel that delivers the time once, after `d`. Inside a fiber the timer
/// lives on that fiber's runtime (do not keep waiting on it after the runtime is destroyed);
/// elsewhere on the default runtime.
template <class Rep, class Period>
recv_chan<std::chrono::steady_clock::time_point> after(
    const std::chrono::duration<Rep, Period>& d) {
  return detail::after_ns(detail::deadline_after_ns(d));
}

/// `time.Timer`: delivers the time on c() once, after the duration. stop() and reset() leave no
/// stale value in c() (like Go 1.23 timers). Must not outlive the runtime it was made on.
class timer {
 public:
  /// Starts a timer that fires once, after d.
  template <class Rep, class Period>
  explicit timer(const std::chrono::duration<Rep, Period>& d)
      : s_(detail::timer_start(detail::deadline_after_ns(d), 0)) {}

  /// The channel on which the time is delivered.
  recv_chan<std::chrono::steady_clock::time_point> c() const noexcept {
    return detail::timer_chan(s_.get());
  }
  /// Prevents the timer from firing; true if it was pending (Go's Stop).
  bool stop() noexcept { return detail::timer_stop(s_.get()); }
  /// Re-arms the timer for `d` from now; true if it was pending (Go's Reset).
  template <class Rep, class Period>
  bool reset(const std::chrono::duration<Rep, Period>& d) {
    return detail::timer_reset(s_.get(), detail::deadline_after_ns(d), 0);
  }

 private:
  std::unique_ptr<detail::timer_state, detail::timer_deleter> s_;
};

}  // namespace goro
