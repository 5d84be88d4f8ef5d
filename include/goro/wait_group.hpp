// goro::wait_group: Go's sync.WaitGroup.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/waiter.hpp"
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

  /// Adds `delta` (may be negative) to the counter; at zero, releases every waiter.
  void add(std::int64_t delta) {
    std::int64_t now = count_.fetch_add(delta, std::memory_order_acq_rel) + delta;
    if (now < 0) {
      count_.fetch_sub(delta, std::memory_order_relaxed);
      throw std::logic_error("goro: negative wait_group counter");
    }
    if (now == 0 && delta != 0) release_all();
  }
  /// add(-1).
  void done() { add(-1); }

  /// Blocks until the counter is zero.
  void wait() {
    if (count_.load(std::memory_order_acquire) == 0) return;
    lock_.lock();
    // Checked under the lock: the add() that reaches zero takes the lock after its decrement,
    // so either we see zero here or it sees us queued.
    if (count_.load(std::memory_order_acquire) == 0) {
      lock_.unlock();
      return;
    }
    detail::waiter w;
    node n{&w, waiters_};
    waiters_ = &n;
    try {
      w.park_unlocking(detail::spin_mutex::unlock_fn, &lock_);
    } catch (...) {  // runtime teardown unwinds us: leave the list
      lock_.lock();
      for (node** p = &waiters_; *p; p = &(*p)->next)
        if (*p == &n) {
          *p = n.next;
          break;
        }
      lock_.unlock();
      throw;
    }
  }

  /// Go's WaitGroup.Go: add(1), then run `f` in a new fiber that calls done() when f returns
  /// (on the current runtime inside a fiber, else on the default runtime).
  template <class F>
  void go(F&& f) {
    add(1);
    goro::go([this, fn = std::forward<F>(f)]() mutable {
      struct guard {
        wait_group* wg;
        ~guard() { wg->done(); }
      } g{this};
      fn();
    });
  }

  /// go() on a given runtime.
  template <class F>
  void go(runtime& rt, F&& f) {
    add(1);
    rt.go([this, fn = std::forward<F>(f)]() mutable {
      struct guard {
        wait_group* wg;
        ~guard() { wg->done(); }
      } g{this};
      fn();
    });
  }

 private:
  struct node {
    detail::waiter* w;
    node* next;
  };
  void release_all() {
    lock_.lock();
    node* n = std::exchange(waiters_, nullptr);
    lock_.unlock();
    while (n) {
      node* next = n->next;  // read before unpark: the node lives on the waiter's stack
      n->w->unpark();
      n = next;
    }
  }

  std::atomic<std::int64_t> count_{0};
  detail::spin_mutex lock_;
  node* waiters_ = nullptr;
};

}  // namespace goro
