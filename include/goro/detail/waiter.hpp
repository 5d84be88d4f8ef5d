// goro::detail::waiter: the one park/unpark primitive every blocking operation is built on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "goro/detail/assert.hpp"
#include "goro/detail/fiber_ref.hpp"

namespace goro::detail {

/// A one-shot parking spot for the fiber or OS thread that constructs it.
///
/// park() blocks its owner until unpark() has been called (before or after park: a token is
/// kept, so an early unpark is never lost). In a fiber only the fiber is suspended; on a plain
/// thread the thread waits on a futex. unpark() may be called from any thread or fiber; the
/// waiter lives on the parked party's stack, so after unpark() the caller must not touch it.
/// Build one waiter per blocking operation: a token left over from an earlier operation would
/// otherwise become a spurious wakeup.
class waiter {
 public:
  waiter() noexcept : fiber_(current_fiber()) {}
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;

  /// Blocks until unpark(). In a fiber of a runtime being destroyed, throws fiber_unwind.
  void park();

  /// Like park(), and releases a lock the caller holds only once the owner can no longer miss
  /// an unpark: for a fiber, after it is switched out (on the next context), so no waker can
  /// see a half-parked fiber. `unlock(lock)` must not block.
  void park_unlocking(void (*unlock)(void*), void* lock);

  /// Like park(), but gives up at `deadline`. Returns false on timeout. A timeout does not
  /// exclude a racing unpark(): callers decide under their own lock who won.
  bool park_until(std::chrono::steady_clock::time_point deadline);

  /// Wakes the owner (or lets its next park() return at once).
  void unpark() noexcept;

  /// The fiber that owns this waiter, nullptr for a thread.
  fiber* owner() const noexcept { return fiber_; }

  /// The switch side of a fiber's park (runtime/context_switch.cpp), run once the fiber's
  /// context is saved: empty -> parked publishes that it may now be made runnable. Returns false
  /// if an unpark came first: its token is consumed and the fiber must run again.
  static bool commit_park(std::atomic<std::uint32_t>& state) noexcept {
    std::uint32_t expected = empty;
    if (state.compare_exchange_strong(expected, parked, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      return true;
    GORO_ASSERT(expected == notified);  // only the owner parks, once per park
    state.store(empty, std::memory_order_relaxed);
    return false;
  }

 private:
  // empty: no token, owner running; notified: a token is waiting; parked: owner is suspended
  // (for a thread: it sleeps on the futex of state_).
  static constexpr std::uint32_t empty = 0, notified = 1, parked = 2;
  std::atomic<std::uint32_t> state_{empty};
  fiber* fiber_;
};

}  // namespace goro::detail
