// The scheduler's global run queue: spawns and wakeups that come from plain threads (or from
// another runtime), and the overflow of full local queues. Every worker polls it periodically
// (see worker::next_local), so nothing placed here starves.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "fiber.hpp"

namespace goro::detail {

class global_queue {
 public:
  /// Appends the chain first..last (linked through fiber::next) of n fibers.
  void push(fiber* first, fiber* last, std::size_t n) noexcept {
    last->next = nullptr;
    std::lock_guard lk(mu_);
    if (tail_) tail_->next = first; else head_ = first;
    tail_ = last;
    size_.store(size_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void push(fiber* f) noexcept { push(f, f, 1); }

  /// Removes up to `max` fibers (at least one if not empty) into `out`; returns the count.
  std::size_t pop(fiber** out, std::size_t max) noexcept {
    if (empty()) return 0;
    std::lock_guard lk(mu_);
    std::size_t n = 0;
    while (n < max && head_) {
      out[n++] = head_;
      head_ = head_->next;
    }
    if (!head_) tail_ = nullptr;
    size_.store(size_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    return n;
  }

  /// A hint without the lock; callers that must not miss work order it with a seq_cst fence.
  bool empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  fiber* head_ = nullptr;
  fiber* tail_ = nullptr;
  std::atomic<std::size_t> size_{0};
};

}  // namespace goro::detail
