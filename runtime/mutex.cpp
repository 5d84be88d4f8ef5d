#include "goro/mutex.hpp"

#include <sched.h>

#include "futex.hpp"

namespace goro {

namespace {
constexpr std::int64_t starvation_threshold_ns = 1'000'000;  // Go: 1 ms
constexpr int spin_rounds = 4;

void backoff(int& spins) noexcept {
  if (++spins < 64) detail::cpu_relax();
  else sched_yield();
}
}  // namespace

void mutex::queue_lock::lock() noexcept {
  std::uint32_t s = m->state_.load(std::memory_order_relaxed);
  for (int waits = 0;;) {
    if (!(s & qlock) && m->state_.compare_exchange_weak(s, s | qlock, std::memory_order_acquire))
      return;
    backoff(waits);
    s = m->state_.load(std::memory_order_relaxed);
  }
}

void mutex::queue_lock::unlock() noexcept {
  m->state_.fetch_and(m->queue_.empty() ? ~(qlock | waiters) : ~qlock, std::memory_order_release);
}

// Not analysed: the queue lock is the qlock bit of state_, taken by a CAS.
void mutex::lock_slow() GORO_NO_THREAD_SAFETY_ANALYSIS {
  std::int64_t since = 0;
  bool woken = false;  // a woken waiter is first in line: it may take the lock even when starving
  int spins = 0, waits = 0;
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    const std::uint32_t blocked = woken ? locked : (locked | starving);
    if (!(s & blocked)) {
      if (state_.compare_exchange_weak(s, s | locked, std::memory_order_acquire)) return;
      continue;
    }
    // Held, not starving: spin a little even if others are queued (Go). Parking at once let a
    // queue build up whose waiters then waited > 1 ms, tipping the mutex into starvation mode,
    // where every lock is a hand-off and a context switch: 10,000 fibers x 1,000 locks took
    // 60 ms or, one run in three, 2 s.
    if ((s & (locked | starving | qlock)) == locked && spins < spin_rounds) {
      ++spins;
      for (int i = 0; i < 30; ++i) detail::cpu_relax();
      continue;
    }
    if (since == 0) since = detail::monotonic_ns();
    if (woken && !(s & starving) && detail::monotonic_ns() - since > starvation_threshold_ns)
      state_.fetch_or(starving, std::memory_order_relaxed);  // from now on: hand-offs only
    if (s & qlock) {
      backoff(waits);
      continue;
    }
    // Take the queue and announce ourselves in the CAS that also re-validates "blocked": an
    // unlock that beat us makes it fail, so we never park on a free mutex.
    if (!state_.compare_exchange_weak(s, s | qlock | waiters, std::memory_order_acquire)) continue;
    detail::waiter w;
    node n;
    n.w = &w;
    n.since_ns = since;
    if (woken) queue_.push_front(n);  // keep our place at the front (Go's LIFO re-queue)
    else queue_.push_back(n);
    queue_lock ql{this};
    // Unwound by teardown after an unlock handed us the mutex: unlock it again.
    detail::park_in(queue_, n, ql, [&] {
      if (n.handed) unlock();
    });
    if (n.handed) return;  // the lock was handed to us
    woken = true;
    spins = 0;
  }
}

void mutex::unlock_slow() {
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  for (int waits = 0;;) {
    if (s & qlock) {
      backoff(waits);
      s = state_.load(std::memory_order_relaxed);
      continue;
    }
    if (!(s & waiters)) {  // nobody queued: release (and leave starvation mode)
      if (state_.compare_exchange_weak(s, s & ~(locked | starving), std::memory_order_release))
        return;
      continue;
    }
    if (state_.compare_exchange_weak(s, s | qlock, std::memory_order_acquire)) break;
  }
  auto* n = static_cast<node*>(queue_.pop_front());
  const bool more = !queue_.empty();
  s = state_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t next = s & ~qlock;
    n->handed = false;
    if (!more) next &= ~waiters;
    if (s & starving) {
      // Hand the lock over: it stays locked. Leave starvation mode once the queue is empty or
      // this waiter did not wait long (Go).
      n->handed = true;
      if (!more || detail::monotonic_ns() - n->since_ns < starvation_threshold_ns)
        next &= ~starving;
    } else {
      next &= ~locked;
    }
    // Releases the queue and the mutex at once: *this must not be touched after it.
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  n->w->unpark();  // n lives on its waiter's stack until this wakes it
}

}  // namespace goro
