// The scheduler's global run queue: spawns and wakeups that come from plain threads (or from
// another runtime), and the overflow of full local queues. Every worker polls it periodically
// (see scheduler::next_local), so nothing placed here starves.
//
// A FIFO of fiber-pointer arrays: a local queue spills half of itself as one block copy, and a
// worker takes a batch back the same way, without touching the fibers themselves (walking a
// list linked through them cost a cache miss, often a TLB miss, per fiber). Emptied arrays are
// kept for reuse, so after warm-up neither side allocates.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

#include "fiber.hpp"

namespace goro::detail {

class global_queue {
 public:
  global_queue() = default;
  global_queue(const global_queue&) = delete;
  global_queue& operator=(const global_queue&) = delete;
  ~global_queue() {
    for (batch* lists : {head_, free_})
      while (lists) delete std::exchange(lists, lists->next);
  }

  /// Appends fibers[0..n) in this order.
  void push(fiber* const* fibers, std::size_t n) noexcept {
    std::lock_guard lk(mu_);
    while (n > 0) {
      if (!tail_ || tail_->end == batch::capacity) append_batch();
      const std::size_t k = std::min<std::size_t>(n, batch::capacity - tail_->end);
      std::copy_n(fibers, k, tail_->slots + tail_->end);
      tail_->end += static_cast<std::uint32_t>(k);
      fibers += k;
      n -= k;
      size_.store(size_.load(std::memory_order_relaxed) + k, std::memory_order_relaxed);
    }
  }
  void push(fiber* f) noexcept { push(&f, 1); }

  /// Moves up to `max` of the oldest fibers to out[]; returns how many (0 when empty).
  std::size_t pop(fiber** out, std::size_t max) noexcept {
    if (empty()) return 0;
    std::lock_guard lk(mu_);
    std::size_t n = 0;
    while (n < max && head_) {
      batch* b = head_;
      const std::size_t k = std::min<std::size_t>(max - n, b->end - b->begin);
      std::copy_n(b->slots + b->begin, k, out + n);
      b->begin += static_cast<std::uint32_t>(k);
      n += k;
      if (b->begin == b->end) retire_head();
    }
    size_.store(size_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    return n;
  }

  /// A hint without the lock; callers that must not miss work order it with a seq_cst fence.
  bool empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  struct batch {
    static constexpr std::uint32_t capacity = 254;  // the whole batch: 2 KiB
    batch* next = nullptr;
    std::uint32_t begin = 0, end = 0;
    fiber* slots[capacity];
  };
  static constexpr std::size_t max_free = 256;  // spare arrays kept: 512 KiB at most

  void append_batch() noexcept {
    batch* b = free_;
    if (b) {
      free_ = b->next;
      --nfree_;
      b->next = nullptr;
      b->begin = b->end = 0;
    } else {
      b = new (std::nothrow) batch;
      if (!b) {
        std::fputs("goro: out of memory for the global run queue\n", stderr);
        std::abort();
      }
    }
    if (tail_) tail_->next = b;
    else head_ = b;
    tail_ = b;
  }
  void retire_head() noexcept {
    batch* b = head_;
    head_ = b->next;
    if (!head_) tail_ = nullptr;
    if (nfree_ < max_free) {
      b->next = free_;
      free_ = b;
      ++nfree_;
    } else {
      delete b;
    }
  }

  // Lock order: may be taken under channel and primitive locks (a park's requeue spills here);
  // nothing is taken under it.
  std::mutex mu_;
  batch* head_ = nullptr;  // oldest; fibers in slots[begin, end)
  batch* tail_ = nullptr;  // newest, appended to until full
  batch* free_ = nullptr;
  std::size_t nfree_ = 0;
  std::atomic<std::size_t> size_{0};
};

}  // namespace goro::detail
