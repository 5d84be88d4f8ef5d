// goro::wait_group: Go's sync.WaitGroup.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/wait_list.hpp"
#include "goro/runtime.hpp"

namespace goro {

/// Waits for a collection of fibers (or threads) to finish: add(n) before starting them, done()
/// when each finishes, wait() blocks until the counter is zero. A negative counter throws
/// std::logic_error. Usable from fibers and plain threads alike.
class wait_group {
 public:
  wait_group() = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  /// Adds `delta` (may be negative) to the counter; at zero, releases every waiter. Throws
  /// std::logic_error, leaving the counter unchanged, if it would become negative (Go panics)
  /// or exceed 2^31 - 1.
  void add(std::int64_t delta) {
    if (delta > max_count || delta < -max_count)
      throw std::invalid_argument("goro: wait_group delta out of range");
    // A CAS, not fetch_add and undo: a bad value must never be visible, or a concurrent wait()
    // that read it would queue on a counter that nobody brings back to zero.
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    std::int64_t v;
    do {
      v = static_cast<std::int32_t>(s >> 32) + delta;
      if (v < 0) throw std::logic_error("goro: negative wait_group counter");
      if (v > max_count) throw std::logic_error("goro: wait_group counter overflow");
    } while (
        !state_.compare_exchange_weak(s, (static_cast<std::uint64_t>(v) << 32) | (s & 0xffffffffu),
                                      std::memory_order_acq_rel, std::memory_order_relaxed));
    // Nobody queued: do not touch *this again. A wait() that sees zero may return and destroy
    // the wait_group right after our decrement.
    if (v > 0 || static_cast<std::uint32_t>(s) == 0) return;
    release_all();
  }
  /// add(-1).
  void done() { add(-1); }

  /// Blocks until the counter is zero.
  void wait() GORO_NO_THREAD_SAFETY_ANALYSIS {  // lock_ is released by the park's switch
    if (static_cast<std::int32_t>(state_.load(std::memory_order_acquire) >> 32) == 0) return;
    lock_.lock();
    // Register while holding the lock, which the releasing add() takes before it looks at the
    // queue: it cannot miss us.
    std::uint64_t s = state_.load(std::memory_order_acquire);
    do {
      if (static_cast<std::int32_t>(s >> 32) == 0) {
        lock_.unlock();
        return;
      }
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel));
    detail::waiter w;
    detail::wait_node n{&w};
    waiters_.push_back(n);
    try {
      w.park_unlocking(detail::spin_mutex::unlock_fn, &lock_);
    } catch (...) {  // runtime teardown unwinds us: leave the list (and its count)
      if (detail::leave(waiters_, n, lock_)) state_.fetch_sub(1, std::memory_order_relaxed);
      throw;
    }
  }

  /// Go's WaitGroup.Go: add(1), then run `f` in a new fiber that calls done() when f returns
  /// (on the current runtime inside a fiber, else on the default runtime).
  template <class F>
  void go(F&& f) {
    add(1);
    goro::go(tracked(std::forward<F>(f)));
  }

  /// go() on a given runtime.
  template <class F>
  void go(runtime& rt, F&& f) {
    add(1);
    rt.go(tracked(std::forward<F>(f)));
  }

 private:
  // f wrapped to call done() when it returns or throws.
  template <class F>
  auto tracked(F&& f) {
    return [this, fn = std::forward<F>(f)]() mutable {
      struct guard {
        wait_group* wg;
        ~guard() { wg->done(); }
      } g{this};
      fn();
    };
  }

  static constexpr std::int64_t max_count = 0x7fffffff;
  // The counter reached zero with waiters queued: they cannot return before we wake them, so
  // *this stays alive until the unlock; the wakes touch only their nodes.
  void release_all() GORO_EXCLUDES(lock_) {
    lock_.lock();
    detail::wait_node* n = waiters_.take_all();
    std::uint32_t k = 0;
    for (detail::wait_node* p = n; p; p = p->next) ++k;
    state_.fetch_sub(k, std::memory_order_relaxed);
    lock_.unlock();
    detail::unpark_chain(n);
  }

  // Counter (signed, high 32 bits) and number of queued waiters (low 32 bits), like Go's.
  std::atomic<std::uint64_t> state_{0};
  detail::spin_mutex lock_;  // guards waiters_
  detail::wait_list waiters_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro
