// A worker's local run queue: a bounded lock-free ring (Go's runq). The owning worker pushes
// at the tail and pops at the head; thieves take about half from the head. All slot accesses
// are atomic so that a thief's speculative read of a slot being rewritten is not a data race:
// its CAS on head fails and the read is discarded.
#pragma once

#include <atomic>
#include <cstdint>

#include "fiber.hpp"

namespace goro::detail {

class run_queue {
 public:
  static constexpr std::uint32_t capacity = 256;

  /// Owner only. False when full.
  bool push(fiber* f) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= capacity) return false;
    buf_[t % capacity].store(f, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);  // publishes the slot and *f to thieves
    return true;
  }

  /// Owner only.
  fiber* pop() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      fiber* f = buf_[h % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        return f;
    }
  }

  /// Any thread: moves up to half (rounded up) of the queue, at most `max`, into `out`.
  /// With `half == false` the owner uses it to spill half of a full queue.
  std::uint32_t grab(fiber** out, std::uint32_t max) noexcept {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      std::uint32_t n = t - h;
      n -= n / 2;
      if (n == 0) return 0;
      if (n > capacity / 2) continue;  // h and t read at different times: inconsistent
      if (n > max) n = max;
      for (std::uint32_t i = 0; i < n; ++i)
        out[i] = buf_[(h + i) % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel,
                                        std::memory_order_relaxed))
        return n;
    }
  }

  /// Owner only (exact for the owner up to concurrent steals, which only shrink it).
  std::uint32_t size() const noexcept {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire);
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<std::uint32_t> head_{0};  // consumers CAS it
  alignas(64) std::atomic<std::uint32_t> tail_{0};  // written by the owner only
  std::atomic<fiber*> buf_[capacity] = {};
};

}  // namespace goro::detail
