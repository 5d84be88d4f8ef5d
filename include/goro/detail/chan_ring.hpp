// The buffer of a buffered channel: a bounded lock-free MPMC ring (Vyukov's queue, with laps so
// that any capacity works, as in crossbeam's array channel). Senders and receivers touch
// different index words, so they do not contend with each other on a lock. Blocking is layered
// on top (runtime/channel.cpp): a full or empty ring sends the caller to the channel's wait
// queue, and every completed push or pop wakes one waiter of the other side, which retries.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace goro::detail {

struct elem_ops;

// A position is lap | index: index < cap in the low bits, then `mark` (tail only: the channel
// is closed), then the lap count in multiples of one_lap. Each slot's stamp says whose turn it
// is: stamp == pos means "empty, a push at pos may fill it"; stamp == pos + 1 means "full, a pop
// at pos may take it". A pop leaves stamp = pos + one_lap: empty for the next lap.
class chan_ring {
 public:
  enum class status : std::uint8_t { ok, blocked, closed };  // blocked: full (push) or empty (pop)

  /// `slots` holds cap slots of `stride` bytes: a stamp word, then the element at elem_offset.
  void init(std::size_t cap, char* slots, std::size_t stride, std::size_t elem_offset) noexcept;

  /// Moves *src into the ring. closed: the channel is closed (nothing moved).
  status push(const elem_ops* ops, void* src) noexcept;
  /// Emplaces the oldest element into *dst (a std::optional<T>*). closed: closed and drained.
  status pop(const elem_ops* ops, void* dst) noexcept;
  /// Marks the ring closed; false if it already was.
  bool close() noexcept;
  bool closed() const noexcept { return (tail_.load(std::memory_order_acquire) & mark_) != 0; }
  /// Number of elements (a consistent snapshot).
  std::size_t len() const noexcept;
  /// Unsynchronised hints for select's fast pass.
  bool looks_nonempty() const noexcept;
  bool looks_nonfull() const noexcept;
  /// Destroys the remaining elements; only when nobody else can touch the ring.
  void destroy_all(const elem_ops* ops) noexcept;

 private:
  std::atomic<std::uint64_t>& stamp(char* slot) const noexcept {
    return *reinterpret_cast<std::atomic<std::uint64_t>*>(slot);
  }
  char* slot(std::uint64_t pos) const noexcept { return slots_ + (pos & (mark_ - 1)) * stride_; }
  std::uint64_t next(std::uint64_t pos) const noexcept {
    return (pos & (mark_ - 1)) + 1 < cap_ ? pos + 1 : (pos & ~(one_lap_ - 1)) + one_lap_;
  }

  // Senders own tail_, receivers head_: each on its own cache line, apart from the read-only
  // geometry, so a sender and a receiver on two cores do not bounce one line.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) char* slots_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t stride_ = 0;
  std::size_t elem_offset_ = 0;
  std::uint64_t mark_ = 1;
  std::uint64_t one_lap_ = 2;
};

}  // namespace goro::detail
