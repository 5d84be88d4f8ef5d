// The type-erased core of a channel: lock, wait queues and (buffered) a lock-free ring. chan<T> and
// select drive it through the functions below (runtime/channel.cpp, runtime/select.cpp); element
// moves go through a per-type table, so one implementation serves every T and mixed-type selects.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>

#include "goro/detail/assert.hpp"
#include "goro/detail/chan_ring.hpp"
#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/waiter.hpp"

namespace goro::detail {

struct select_state;

/// One blocked operation on one channel (Go's sudog). Lives on the blocked party's stack.
struct chan_waiter {
  waiter* w = nullptr;
  void* elem = nullptr;  // send: T* to move from; recv: std::optional<T>* to emplace into
  chan_waiter* prev = nullptr;
  chan_waiter* next = nullptr;
  select_state* sel = nullptr;  // set when part of a select: wakers must win sel->done first
  std::uint32_t case_index = 0;
  bool queued = false;   // linked in a wait queue; under the channel's lock
  bool success = false;  // completed by a peer (false: woken by close)
  // Buffered: a peer made room (a value) and did the push (pop) for us, in queue order; without
  // it, success means "retry" (see notify_one in channel.cpp).
  bool delivered = false;
};

/// Shared by all chan_waiters of one blocked select: exactly one waker wins `done`.
struct select_state {
  std::atomic<std::uint32_t> done{0};
  std::uint32_t winner = 0;  // written by the winning waker under its channel's lock
};

/// FIFO of chan_waiters (intrusive, doubly linked for O(1) removal by a select). Changed only
/// under the channel's lock; `size` may be read without it as a hint (select's fast pass).
struct wait_queue {
  chan_waiter* head = nullptr;
  chan_waiter* tail = nullptr;
  std::atomic<std::uint32_t> size{0};
  bool empty() const noexcept { return head == nullptr; }
  void push_back(chan_waiter* s) noexcept {
    GORO_ASSERT(!s->queued);
    s->next = nullptr;
    s->prev = tail;
    if (tail) tail->next = s;
    else head = s;
    tail = s;
    s->queued = true;
    size.store(size.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void remove(chan_waiter* s) noexcept {
    GORO_ASSERT(s->queued && (s->prev ? s->prev->next == s : head == s) &&
                (s->next ? s->next->prev == s : tail == s));
    if (s->prev) s->prev->next = s->next;
    else head = s->next;
    if (s->next) s->next->prev = s->prev;
    else tail = s->prev;
    s->prev = s->next = nullptr;
    s->queued = false;
    size.store(size.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
};

/// How to move elements of one type T. `dst` is always a std::optional<T>*.
struct elem_ops {
  void (*to_slot)(void* slot, void* src) noexcept;    // construct *slot from std::move(*src)
  void (*from_slot)(void* dst, void* slot) noexcept;  // emplace std::move(*slot), destroy *slot
  void (*direct)(void* dst, void* src) noexcept;      // emplace std::move(*src)
  void (*destroy)(void* slot) noexcept;
  std::size_t size;
};

// Moves must not throw: a channel cannot undo half a transfer (checked in chan<T>).
template <class T>
inline constexpr elem_ops elem_ops_for{
    [](void* slot, void* src) noexcept { ::new (slot) T(std::move(*static_cast<T*>(src))); },
    [](void* dst, void* slot) noexcept {
      T* s = static_cast<T*>(slot);
      static_cast<std::optional<T>*>(dst)->emplace(std::move(*s));
      s->~T();
    },
    [](void* dst, void* src) noexcept {
      static_cast<std::optional<T>*>(dst)->emplace(std::move(*static_cast<T*>(src)));
    },
    [](void* slot) noexcept { static_cast<T*>(slot)->~T(); }, sizeof(T)};

// An unbuffered channel lives under `lock`: its wait queues and `closed`. A buffered one keeps
// its elements in the lock-free ring() (which also holds its closed mark) and uses the lock only
// for the wait queues; `closed` is then set too, as a hint. `closed` and the queues' sizes are
// atomics so that they may be read without the lock.
struct chan_core {
  // Lock order (docs/architecture.md): after a primitive's lock, before the global run queue;
  // a select takes its channels' locks in address order. No timer fires while it is held.
  spin_mutex lock;
  std::atomic<bool> closed{false};
  std::size_t cap = 0;
  const elem_ops* ops = nullptr;
  wait_queue sendq, recvq;
  std::atomic<std::size_t> refs{1};
  std::size_t alloc_align = 0;  // of the block holding core, ring and slots; 0: unbuffered

  /// cap > 0 only: the ring lives right after the core, on its own cache lines (unbuffered
  /// channels, often made by the thousand, stay small and need no over-aligned allocation).
  static constexpr std::size_t ring_offset() noexcept {
    return (sizeof(chan_core) + alignof(chan_ring) - 1) / alignof(chan_ring) * alignof(chan_ring);
  }
  chan_ring& ring() noexcept {
    return *std::launder(
        reinterpret_cast<chan_ring*>(reinterpret_cast<char*>(this) + ring_offset()));
  }
  const chan_ring& ring() const noexcept {
    return *std::launder(
        reinterpret_cast<const chan_ring*>(reinterpret_cast<const char*>(this) + ring_offset()));
  }
};

enum class recv_status : std::uint8_t { ok, empty, closed };

chan_core* chan_make(const elem_ops* ops, std::size_t elem_align, std::size_t cap);
void chan_release(chan_core* c) noexcept;     // drops a reference; frees on the last
void chan_send(chan_core* c, void* src);      // blocks; throws channel_closed
bool chan_try_send(chan_core* c, void* src);  // throws channel_closed
bool chan_recv(chan_core* c, void* dst);      // blocks; false: closed and drained
recv_status chan_try_recv(chan_core* c, void* dst);
void chan_close(chan_core* c);  // throws channel_closed
std::size_t chan_len(chan_core* c) noexcept;
[[noreturn]] void block_forever();  // nil channel operations, select {}

/// One case of a select, as seen by the algorithm.
struct select_case {
  enum class kind : std::uint8_t { recv, send, fallback };
  chan_core* c = nullptr;  // nullptr: a nil channel, never ready
  void* elem = nullptr;    // send: T*; recv: std::optional<T>*
  kind k = kind::recv;
  bool ok = false;  // recv: a value arrived (false: the channel is closed)
};

/// Go's selectgo: returns the index of the case that completed (or of the fallback case when
/// no other is ready). Throws channel_closed when the chosen case is a send on a closed channel.
std::size_t select_impl(select_case* cases, std::size_t n);

}  // namespace goro::detail
