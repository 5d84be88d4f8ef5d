#include "goro/detail/chan_ring.hpp"

#include <sched.h>

#include <bit>
#include <new>

#include "goro/detail/chan_core.hpp"

namespace goro::detail {

namespace {

// A slot in a transient state belongs to a peer between its index CAS and its stamp store: a
// few instructions on another thread (no fiber switches inside), unless that thread was
// preempted by the OS, hence the yield after a short spin.
void backoff(unsigned& spins) noexcept {
  if (spins < 7) {
    for (unsigned i = 0; i < (1u << spins); ++i) cpu_relax();
  } else {
    sched_yield();
  }
  ++spins;
}

}  // namespace

void chan_ring::init(std::size_t cap, char* slots, std::size_t stride,
                     std::size_t elem_offset) noexcept {
  cap_ = cap;
  slots_ = slots;
  stride_ = stride;
  elem_offset_ = elem_offset;
  mark_ = std::bit_ceil(std::uint64_t{cap} + 1);
  one_lap_ = mark_ * 2;
  for (std::size_t i = 0; i < cap; ++i)
    ::new (slots + i * stride) std::atomic<std::uint64_t>(std::uint64_t{i});
}

// Both index CASes are seq_cst: the blocking layer relies on "CAS on tail, then load the
// receivers' queue size" against "enlarge that size, fence, then load tail" (and the same for
// head and senders) so that a waiter queueing itself cannot miss a completed push or pop.
chan_ring::status chan_ring::push(const elem_ops* ops, void* src) noexcept {
  unsigned spins = 0;
  std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  for (;;) {
    if (tail & mark_) return status::closed;
    char* s = slot(tail);
    const std::uint64_t st = stamp(s).load(std::memory_order_acquire);
    if (st == tail) {
      if (tail_.compare_exchange_weak(tail, next(tail), std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        ops->to_slot(s + elem_offset_, src);
        stamp(s).store(tail + 1, std::memory_order_release);
        return status::ok;
      }
      cpu_relax();  // lost to another sender; the CAS reloaded tail
    } else if (st + one_lap_ == tail + 1) {
      // The slot still holds last lap's element: full, unless a receiver just took it.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (head_.load(std::memory_order_relaxed) + one_lap_ == tail) return status::blocked;
      backoff(spins);
      tail = tail_.load(std::memory_order_relaxed);
    } else {
      backoff(spins);  // another sender won this slot: tail moved on
      tail = tail_.load(std::memory_order_relaxed);
    }
  }
}

chan_ring::status chan_ring::pop(const elem_ops* ops, void* dst) noexcept {
  unsigned spins = 0;
  std::uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    char* s = slot(head);
    const std::uint64_t st = stamp(s).load(std::memory_order_acquire);
    if (st == head + 1) {
      if (head_.compare_exchange_weak(head, next(head), std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        ops->from_slot(dst, s + elem_offset_);
        stamp(s).store(head + one_lap_, std::memory_order_release);
        return status::ok;
      }
      cpu_relax();
    } else if (st == head) {
      // Empty, unless a sender has claimed this slot and is writing it.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      // acquire: a receive that reports "closed" is ordered after the close (Go's rule).
      const std::uint64_t tail = tail_.load(std::memory_order_acquire);
      if ((tail & ~mark_) == head) return (tail & mark_) ? status::closed : status::blocked;
      backoff(spins);
      head = head_.load(std::memory_order_relaxed);
    } else {
      backoff(spins);
      head = head_.load(std::memory_order_relaxed);
    }
  }
}

bool chan_ring::close() noexcept {
  return (tail_.fetch_or(mark_, std::memory_order_seq_cst) & mark_) == 0;
}

std::size_t chan_ring::len() const noexcept {
  for (;;) {
    std::uint64_t tail = tail_.load(std::memory_order_seq_cst);
    const std::uint64_t head = head_.load(std::memory_order_seq_cst);
    if (tail_.load(std::memory_order_seq_cst) != tail) continue;
    tail &= ~mark_;
    const std::uint64_t hix = head & (mark_ - 1);
    const std::uint64_t tix = tail & (mark_ - 1);
    if (hix < tix) return tix - hix;
    if (hix > tix) return cap_ - hix + tix;
    return tail == head ? 0 : cap_;
  }
}

bool chan_ring::looks_nonempty() const noexcept {
  return (tail_.load(std::memory_order_relaxed) & ~mark_) != head_.load(std::memory_order_relaxed);
}

bool chan_ring::looks_nonfull() const noexcept {
  return head_.load(std::memory_order_relaxed) + one_lap_ !=
         (tail_.load(std::memory_order_relaxed) & ~mark_);
}

void chan_ring::destroy_all(const elem_ops* ops) noexcept {
  const std::uint64_t tail = tail_.load(std::memory_order_acquire) & ~mark_;
  for (std::uint64_t pos = head_.load(std::memory_order_acquire); pos != tail; pos = next(pos))
    ops->destroy(slot(pos) + elem_offset_);
}

}  // namespace goro::detail
