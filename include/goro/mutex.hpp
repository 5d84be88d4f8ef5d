// goro::mutex: Go's sync.Mutex — parks fibers (or threads) instead of blocking workers.
#pragma once

#include <atomic>
#include <cstdint>

#include "goro/detail/spin_mutex.hpp"  // cpu_relax
#include "goro/detail/wait_list.hpp"

namespace goro {

/// A mutual-exclusion lock meeting the standard Lockable requirements (use it with
/// std::lock_guard, std::unique_lock, std::scoped_lock). Like Go's sync.Mutex: a short spin,
/// then the caller parks in a FIFO queue; a woken waiter competes with newcomers, and a waiter
/// that has waited more than 1 ms switches the mutex to starvation mode, where unlock hands it
/// the lock directly, so no waiter starves.
class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  /// Blocks (parking) until the mutex is acquired.
  void lock() {
    std::uint32_t s = 0;
    if (!state_.compare_exchange_strong(s, locked, std::memory_order_acquire)) lock_slow();
  }
  /// Acquires the mutex only if it is free now (and nobody is being handed it).
  bool try_lock() noexcept {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    while (!(s & (locked | starving)))
      if (state_.compare_exchange_weak(s, s | locked, std::memory_order_acquire)) return true;
    return false;
  }
  /// Releases the mutex (the caller must hold it).
  void unlock() {
    std::uint32_t s = locked;
    if (!state_.compare_exchange_strong(s, 0, std::memory_order_release)) unlock_slow();
  }

 private:
  // state_ bits. `waiters`: the queue is not empty. `qlock`: the queue (head_, tail_) is being
  // changed. Keeping the queue lock in the same word lets unlock release the mutex and the queue
  // in one CAS, after which it never touches *this: a thread that then locks, unlocks and
  // destroys the mutex cannot pull it from under us.
  static constexpr std::uint32_t locked = 1, waiters = 2, starving = 4, qlock = 8;
  struct node : detail::wait_node {
    std::int64_t since_ns = 0;  // when this caller started waiting
    bool handed = false;        // unlock gave it the lock (starvation mode)
  };
  // The queue's lock, for detail::park_in: the qlock bit. Unlocking also clears `waiters` when
  // the queue is empty.
  struct queue_lock {
    mutex* m;
    void lock() noexcept;
    void unlock() noexcept;
  };
  void lock_slow();
  void unlock_slow();

  std::atomic<std::uint32_t> state_{0};
  detail::wait_list queue_;  // FIFO of waiters, under the qlock bit
};

}  // namespace goro
