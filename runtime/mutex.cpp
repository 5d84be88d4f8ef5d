#include "goro/mutex.hpp"

#include "futex.hpp"

namespace goro {

namespace {
constexpr std::int64_t starvation_threshold_ns = 1'000'000;  // Go: 1 ms
constexpr int spin_rounds = 4;
}  // namespace

void mutex::lock_slow() {
  std::int64_t since = 0;
  bool woken = false;  // a woken waiter is first in line: it may take the lock even when starving
  int spins = 0;
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    const std::uint32_t blocked = woken ? locked : (locked | starving);
    if (!(s & blocked)) {
      if (state_.compare_exchange_weak(s, s | locked, std::memory_order_acquire)) return;
      continue;
    }
    if (s == locked && spins < spin_rounds) {  // held, nobody queued: it may be released soon
      ++spins;
      for (int i = 0; i < 30; ++i) detail::cpu_relax();
      continue;
    }
    if (since == 0) since = detail::monotonic_ns();
    if (woken && !(s & starving) && detail::monotonic_ns() - since > starvation_threshold_ns)
      state_.fetch_or(starving, std::memory_order_relaxed);  // from now on: hand-offs only

    q_.lock();
    s = state_.load(std::memory_order_relaxed);
    // Queue only if still blocked, validating the state and announcing ourselves in one CAS:
    // an unlock that beat us makes it fail, so we never park on a free mutex.
    if (!(s & blocked) || !state_.compare_exchange_strong(s, s | waiters, std::memory_order_relaxed)) {
      q_.unlock();
      continue;
    }
    detail::waiter w;
    node n{&w, nullptr, since, false};
    if (woken) {  // keep our place at the front (Go's LIFO re-queue)
      n.next = head_;
      head_ = &n;
      if (!tail_) tail_ = &n;
    } else {
      if (tail_) tail_->next = &n; else head_ = &n;
      tail_ = &n;
    }
    try {
      w.park_unlocking(detail::spin_mutex::unlock_fn, &q_);
    } catch (...) {  // runtime teardown: leave the queue
      q_.lock();
      node* prev = nullptr;
      for (node* p = head_; p; prev = p, p = p->next)
        if (p == &n) {
          (prev ? prev->next : head_) = n.next;
          if (tail_ == &n) tail_ = prev;
          break;
        }
      q_.unlock();
      throw;
    }
    if (n.handed) return;  // the lock was handed to us
    woken = true;
    spins = 0;
  }
}

void mutex::unlock_slow() {
  q_.lock();
  node* n = head_;
  if (n) {
    head_ = n->next;
    if (!head_) tail_ = nullptr;
  }
  std::uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t next = s;
    if (!head_) next &= ~waiters;
    if (n && (s & starving)) {
      // Hand the lock over: it stays locked. Leave starvation mode once the queue is empty or
      // this waiter did not wait long (Go).
      n->handed = true;
      if (!head_ || detail::monotonic_ns() - n->since_ns < starvation_threshold_ns)
        next &= ~starving;
    } else {
      next &= ~locked;
      if (!n) next &= ~starving;  // nobody to hand to: back to normal mode
    }
    if (state_.compare_exchange_weak(s, next, std::memory_order_release, std::memory_order_relaxed))
      break;
    if (n) n->handed = false;
  }
  q_.unlock();
  if (n) n->w->unpark();
}

}  // namespace goro
