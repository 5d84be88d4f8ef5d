// A poll descriptor: the runtime's record of one non-blocking file descriptor waited on by
// fibers and threads (Go's pollDesc). Each direction (read, write) has at most one waiter,
// because a connection serializes its readers and its writers; its state is:
//   ready    an edge arrived from epoll that no waiter has consumed yet
//   parked   a fiber's waiter (woken through the scheduler) or
//   thread   the eventfd of a plain thread blocked in poll(2) on the descriptor
// A waiter registers under the lock, re-checks ready/closing/deadline, then parks; every wake
// (epoll readiness, close, a new deadline) happens under the same lock, so none is lost and
// none reaches a waiter that has left. The woken waiter re-evaluates; its caller then retries
// its system call, so a stale edge costs one extra EAGAIN, never a hang.
//
// Descriptors come from a process-wide cache and are never freed: epoll data may still name
// one after its file descriptor is closed. A 16-bit sequence number, bumped at every reuse and
// carried in the epoll data beside the pointer (Go's tagged pointer), filters such stale events.
#pragma once

#include <atomic>
#include <cstdint>

#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/waiter.hpp"

namespace goro::detail {

class poller;

struct poll_desc {
  enum class mode { read, write };
  enum class wait_result { ready, closed, timeout, failed };

  struct side {
    bool ready = false;        // under mu
    waiter* parked = nullptr;  // under mu: a parked fiber's waiter
    int thread_wake = -1;      // under mu: eventfd of a thread in poll(2), -1 if none
    // Deadline in CLOCK_MONOTONIC ns, 0 for none. Written under mu; read without it by the
    // operations' fast path (a stale read only delays the timeout to the wait's re-check).
    std::atomic<std::int64_t> deadline{0};
  };

  spin_mutex mu;
  int fd = -1;
  std::uint16_t seq = 0;        // under mu; identifies this use of the descriptor
  bool closing = false;         // under mu
  std::uint64_t poller_id = 0;  // under mu; the poller whose epoll set holds fd (0: none)
  side rd, wr;
  poll_desc* next_free = nullptr;  // in the cache's free list

  /// A descriptor for `fd` from the cache (never fails; allocates a chunk when empty).
  static poll_desc* acquire(int fd);
  /// Returns it to the cache; its epoll events from now on are ignored.
  static void release(poll_desc* pd) noexcept;

  side& of(mode m) noexcept { return m == mode::read ? rd : wr; }

  /// Whether this descriptor is in the epoll set of the poller with this id.
  bool registered_with(std::uint64_t id) noexcept {
    spin_lock lk(mu);
    return poller_id == id;
  }

  /// True if the direction's deadline has passed (one clock read, only when one is set).
  bool expired(mode m) const noexcept;

  /// Blocks the calling fiber or thread until the direction may be ready (the caller retries
  /// its system call), the descriptor is closed, or the deadline passes. In a fiber, adds fd to
  /// the epoll set of the fiber's runtime first (once per runtime); `failed` (with the errno in
  /// *register_errno) if epoll refuses the descriptor.
  wait_result wait(mode m, int* register_errno = nullptr);

  /// close(): every waiter returns wait_result::closed, now and later.
  void evict() noexcept;
  /// Sets the direction's deadline (0: none); a parked waiter re-evaluates at once.
  void set_deadline(mode m, std::int64_t when_ns) noexcept;
  /// From a poller: readiness arrived for `seq`'s use of this descriptor.
  void notify(std::uint16_t event_seq, bool readable, bool writable) noexcept;

  /// epoll data for this use: the pointer with the sequence number in its top 16 bits.
  std::uint64_t tag() const noexcept {
    return reinterpret_cast<std::uintptr_t>(this) | (std::uint64_t{seq} << 48);
  }
  static poll_desc* from_tag(std::uint64_t t, std::uint16_t* seq) noexcept {
    *seq = static_cast<std::uint16_t>(t >> 48);
    return reinterpret_cast<poll_desc*>(t & ((std::uint64_t{1} << 48) - 1));
  }

 private:
  // What a waiter gets without parking, if anything: closed, timeout, or a pending edge
  // (consumed). False if it has to wait.
  bool settled(side& s, mode m, wait_result* r) noexcept GORO_REQUIRES(mu);
  void wake_fiber(side& s) noexcept GORO_REQUIRES(mu);
  void wake(side& s) noexcept GORO_REQUIRES(mu);
};

}  // namespace goro::detail
