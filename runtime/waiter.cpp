#include "goro/detail/waiter.hpp"

#include "futex.hpp"
#include "scheduler.hpp"
#include "worker.hpp"

namespace goro::detail {

// State transitions (E = empty, N = notified, P = parked):
//   owner:    N -> E (consume a token)           E -> P (commit park; fibers: after the switch)
//   unparker: E -> N (leave a token)             P -> E (fiber: then ready it)
//                                                P -> N (thread: then futex wake)
// Only the owner leaves N and only unparkers leave P, so each unpark wakes the owner at most
// once and an unpark racing with park is never lost.

void waiter::park() {
  if (state_.load(std::memory_order_acquire) == notified) {
    state_.store(empty, std::memory_order_relaxed);
    return;
  }
  if (fiber_) {
    worker* w = current_worker();
    w->sched->park_current(w, &state_, nullptr, nullptr);
    scheduler::unwind_if_torn_down(fiber_);  // resumed by teardown
    return;
  }
  std::uint32_t s = empty;
  if (state_.compare_exchange_strong(s, parked, std::memory_order_acq_rel)) {
    while (state_.load(std::memory_order_acquire) == parked) futex_wait(&state_, parked);
  }
  state_.store(empty, std::memory_order_relaxed);  // consumed the token
}

void waiter::park_unlocking(void (*unlock)(void*), void* lock) {
  if (fiber_) {
    worker* w = current_worker();
    w->sched->park_current(w, &state_, unlock, lock);
    scheduler::unwind_if_torn_down(fiber_);  // resumed by teardown
    return;
  }
  unlock(lock);  // a thread keeps the token, so an unpark after this is not lost
  park();
}

bool waiter::park_until(std::chrono::steady_clock::time_point deadline) {
  const std::int64_t when =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  if (fiber_) {
    struct wake_timer : timer_node {
      waiter* w;
      bool fired = false;
    } t;
    t.when_ns = when;
    t.w = this;
    t.fire = [](timer_node* n) -> std::int64_t {
      auto* wt = static_cast<wake_timer*>(n);
      wt->fired = true;
      wt->w->unpark();
      return timer_heap::none;
    };
    scheduler* s = fiber_->sched;
    s->add_timer(&t);
    try {
      park();
    } catch (...) {
      s->remove_timer(&t);
      throw;
    }
    // remove() returning means the callback has run to completion or never will.
    s->remove_timer(&t);
    return !t.fired;
  }
  if (state_.load(std::memory_order_acquire) == notified) {
    state_.store(empty, std::memory_order_relaxed);
    return true;
  }
  std::uint32_t s = empty;
  if (state_.compare_exchange_strong(s, parked, std::memory_order_acq_rel)) {
    while (state_.load(std::memory_order_acquire) == parked) {
      if (monotonic_ns() >= when) {
        s = parked;
        if (state_.compare_exchange_strong(s, empty, std::memory_order_acq_rel)) return false;
        break;  // an unpark won the race
      }
      futex_wait(&state_, parked, when);
    }
  }
  state_.store(empty, std::memory_order_relaxed);
  return true;
}

void waiter::unpark() noexcept {
  fiber* f = fiber_;  // read before the state change: *this may vanish right after it
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s == notified) return;
    if (s == empty) {
      if (state_.compare_exchange_weak(s, notified, std::memory_order_release,
                                       std::memory_order_relaxed))
        return;
      continue;
    }
    if (f) {
      if (state_.compare_exchange_weak(s, empty, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        f->sched->ready(f);
        return;
      }
    } else if (state_.compare_exchange_weak(s, notified, std::memory_order_release,
                                            std::memory_order_relaxed)) {
      futex_wake(&state_);  // harmless if the waiter is already gone (see futex.hpp)
      return;
    }
  }
}

}  // namespace goro::detail
