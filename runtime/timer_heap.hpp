// A scheduler's timers: a 4-ary min-heap of intrusive nodes keyed by deadline. Nodes live in
// their owners (a sleeping fiber's frame, a goro::timer), so adding a timer allocates only when
// the heap's vector grows. Callbacks run outside the heap lock (they may cancel contexts, send on
// channels, add or remove other timers); remove() returning means the node's callback has either
// run to completion or will never run, so its owner may free it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

namespace goro::detail {

struct timer_node {
  static constexpr std::size_t not_queued = std::numeric_limits<std::size_t>::max();
  std::int64_t when_ns = 0;  // CLOCK_MONOTONIC deadline
  // Runs on a worker (without the heap lock) and must not block. Returns the deadline at which
  // to fire again (periodic timers), timer_heap::none, or timer_heap::freed if it destroyed the
  // node (one-shot timers nobody else references).
  std::int64_t (*fire)(timer_node*) = nullptr;
  // For nodes owned by the heap itself (goro::after): frees a node still pending when the heap
  // is destroyed. nullptr for nodes whose owner removes them.
  void (*discard)(timer_node*) = nullptr;
  std::size_t index = not_queued;   // position in the heap (under the heap lock)
  std::atomic<bool> firing{false};  // its callback is running
};

class timer_heap {
 public:
  static constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();
  static constexpr std::int64_t freed = std::numeric_limits<std::int64_t>::min();

  timer_heap() = default;
  timer_heap(const timer_heap&) = delete;
  timer_heap& operator=(const timer_heap&) = delete;
  /// Discards the heap-owned nodes still pending (see timer_node::discard).
  ~timer_heap();

  /// Queues `n`; returns true if it became the earliest deadline.
  bool add(timer_node* n);
  /// Dequeues `n`, waiting for a running callback of `n` to finish; true if it was still
  /// pending. Must not be called from n's own callback.
  bool remove(timer_node* n) noexcept;
  /// Fires every timer due at `now_ns`; returns how many fired.
  std::size_t run_expired(std::int64_t now_ns) noexcept;
  /// Earliest deadline, or `none`. Lock-free.
  std::int64_t next_deadline() const noexcept { return next_.load(std::memory_order_seq_cst); }
  std::size_t size() const noexcept;

 private:
  void up(std::size_t i) noexcept;
  void down(std::size_t i) noexcept;
  struct entry {
    std::int64_t when;  // == node->when_ns while queued
    timer_node* node;
  };
  static constexpr std::size_t arity = 4;
  void place(std::size_t i, const entry& e) noexcept {
    heap_[i] = e;
    e.node->index = i;
  }
  void erase_at(std::size_t i) noexcept;
  void publish() noexcept {
    next_.store(heap_.empty() ? none : heap_[0].when, std::memory_order_seq_cst);
  }

  // The batch run_expired is firing on this thread (callbacks do not switch fibers, so the
  // thread is the right scope); `next` is the callback running, those after it are pending.
  struct batch_in_flight {
    timer_heap* heap;
    timer_node** due;
    std::size_t next, n;
    batch_in_flight* outer;  // a callback's own run_expired of another heap
  };
  static thread_local batch_in_flight* t_batch;

  mutable std::mutex mu_;
  std::vector<entry> heap_;
  std::atomic<std::int64_t> next_{none};
};

}  // namespace goro::detail
