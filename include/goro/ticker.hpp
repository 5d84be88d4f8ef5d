// goro::ticker: Go's time.Ticker.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>

#include "goro/timer.hpp"

namespace goro {

/// `time.Ticker`: delivers the time on c() every period. A slow receiver gets dropped ticks, not
/// a backlog (c() holds at most one). Must not outlive the runtime it was made on.
class ticker {
 public:
  /// Throws std::invalid_argument for a non-positive period (Go panics).
  template <class Rep, class Period>
  explicit ticker(const std::chrono::duration<Rep, Period>& d)
      : s_(detail::timer_start(detail::deadline_after_ns(d), checked(d))) {}

  /// The channel on which ticks are delivered.
  recv_chan<std::chrono::steady_clock::time_point> c() const noexcept {
    return detail::timer_chan(s_.get());
  }
  /// Stops the ticks (a tick already in c() stays there, like Go).
  void stop() noexcept { detail::timer_stop(s_.get()); }
  /// Restarts with a new period, the first tick one period from now.
  template <class Rep, class Period>
  void reset(const std::chrono::duration<Rep, Period>& d) {
    detail::timer_reset(s_.get(), detail::deadline_after_ns(d), checked(d));
  }

 private:
  template <class Rep, class Period>
  static std::int64_t checked(const std::chrono::duration<Rep, Period>& d) {
    const std::int64_t ns = detail::saturating_ns(d);
    if (ns <= 0) throw std::invalid_argument("goro: non-positive interval for goro::ticker");
    return ns;
  }
  std::unique_ptr<detail::timer_state, detail::timer_deleter> s_;
};

}  // namespace goro
