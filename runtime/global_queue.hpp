// The scheduler's global run queue: spawns and wakeups that come from plain threads (or from
// another runtime), and the overflow of full local queues. Every worker polls it periodically
// (see scheduler::next_local), so nothing placed here starves.
//
// It is a FIFO of batches (a local queue spills half of itself at once); taking a whole batch is
// O(1) under the lock, so the cache misses of walking the fibers happen outside it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "fiber.hpp"

namespace goro::detail {

class global_queue {
 public:
  /// Appends the chain first..last (linked through fiber::next) of n fibers as one batch.
  void push(fiber* first, fiber* last, std::size_t n) noexcept {
    last->next = nullptr;
    first->batch_next = nullptr;
    first->batch_len = static_cast<std::uint32_t>(n);
    std::lock_guard lk(mu_);
    if (tail_) tail_->batch_next = first;
    else head_ = first;
    tail_ = first;
    size_.store(size_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void push(fiber* f) noexcept { push(f, f, 1); }

  /// Removes up to `max` (>= 1) fibers from the oldest batch; returns them as a chain linked
  /// through fiber::next, and their number in *n. nullptr when empty.
  fiber* pop(std::size_t max, std::size_t* n) noexcept {
    *n = 0;
    if (empty()) return nullptr;
    std::lock_guard lk(mu_);
    fiber* first = head_;
    if (!first) return nullptr;
    std::size_t len = first->batch_len;
    if (len <= max) {  // the whole batch
      head_ = first->batch_next;
      if (!head_) tail_ = nullptr;
      *n = len;
    } else {  // split it: walk `max` fibers (callers ask for few when batches are long)
      fiber* last = first;
      for (std::size_t i = 1; i < max; ++i) last = last->next;
      fiber* rest = last->next;
      last->next = nullptr;
      rest->batch_next = first->batch_next;
      rest->batch_len = static_cast<std::uint32_t>(len - max);
      head_ = rest;
      if (tail_ == first) tail_ = rest;
      *n = max;
    }
    size_.store(size_.load(std::memory_order_relaxed) - *n, std::memory_order_relaxed);
    return first;
  }

  /// A hint without the lock; callers that must not miss work order it with a seq_cst fence.
  bool empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  fiber* head_ = nullptr;  // first fiber of the oldest batch
  fiber* tail_ = nullptr;  // first fiber of the newest batch
  std::atomic<std::size_t> size_{0};
};

}  // namespace goro::detail
