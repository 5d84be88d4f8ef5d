// goro::condition_variable: Go's sync.Cond, with std::condition_variable's interface.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "goro/detail/deadline.hpp"
#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/wait_list.hpp"
#include "goro/mutex.hpp"

namespace goro {

/// Waits with a std::unique_lock<goro::mutex>; parks the fiber (or thread). Notifications are
/// never lost: a waiter is queued before it releases the mutex.
class condition_variable {
 public:
  condition_variable() = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  /// Releases lk, parks until notified, reacquires lk (spurious wakeups are possible).
  void wait(std::unique_lock<mutex>& lk);
  /// Waits until pred() is true.
  template <class Pred>
  void wait(std::unique_lock<mutex>& lk, Pred pred) {
    while (!pred()) wait(lk);
  }

  /// Like wait(), giving up at tp.
  std::cv_status wait_until(std::unique_lock<mutex>& lk, std::chrono::steady_clock::time_point tp);
  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<mutex>& lk,
                            const std::chrono::time_point<Clock, Duration>& tp) {
    return wait_until(lk, detail::steady_at(detail::deadline_ns(tp)));
  }
  template <class Clock, class Duration, class Pred>
  bool wait_until(std::unique_lock<mutex>& lk, const std::chrono::time_point<Clock, Duration>& tp,
                  Pred pred) {
    while (!pred())
      if (wait_until(lk, tp) == std::cv_status::timeout) return pred();
    return true;
  }
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<mutex>& lk,
                          const std::chrono::duration<Rep, Period>& d) {
    return wait_until(lk, detail::steady_at(detail::deadline_after_ns(d)));
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<mutex>& lk, const std::chrono::duration<Rep, Period>& d,
                Pred pred) {
    return wait_until(lk, detail::steady_at(detail::deadline_after_ns(d)), std::move(pred));
  }

  /// Wakes the longest-waiting waiter, if any.
  void notify_one() noexcept;
  /// Wakes every waiter.
  void notify_all() noexcept;

 private:
  detail::spin_mutex q_;  // guards waiters_
  detail::wait_list waiters_ GORO_GUARDED_BY(q_);
};

}  // namespace goro
