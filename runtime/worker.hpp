// A worker: one OS thread of a scheduler, with its local run queue, its "run next" slot, its
// scheduling context and a small cache of free stacks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "fiber.hpp"
#include "run_queue.hpp"

namespace goro::detail {

class scheduler;

struct alignas(64) worker {
  static constexpr std::size_t stack_cache_cap = 64;

  worker(scheduler* s, std::size_t i) noexcept
      : sched(s), index(i), rng(0x9e3779b97f4a7c15ull * (i + 1)) {}

  scheduler* const sched;
  const std::size_t index;

  run_queue runq;
  // A fiber made ready by the fiber running here runs next here (Go's runnext): a ping-pong
  // pair stays on one worker. Thieves may take it only from a worker stuck on one fiber.
  std::atomic<fiber*> runnext{nullptr};

  // The worker thread's own stack, where the scheduling loop runs (Go's g0).
  fiber sched_ctx;
  fiber* current = &sched_ctx;  // the context running on this worker
  // The C++ exception state of the thread running this worker, swapped at every switch.
  exception_state* eh_globals = nullptr;
  // Incremented at every dispatch; a thief reads it to tell whether the worker is stuck.
  std::atomic<std::uint32_t> schedtick{0};
  std::uint32_t runnext_streak = 0;  // consecutive dispatches from runnext (time-slice inheritance)
  bool spinning = false;             // counted in scheduler::nmspinning
  bool poll_due = false;             // the global queue and timers are due for a check (next_local)
  std::uint64_t rng;

  // Idle parking: a waker removes us from scheduler::idle (under idle_mu), sets handed_spinning,
  // then bumps wake_seq and wakes the futex.
  alignas(64) std::atomic<std::uint32_t> wake_seq{0};
  bool idle_listed = false;      // under scheduler::idle_mu
  bool handed_spinning = false;  // under scheduler::idle_mu
  bool in_poll = false;          // under scheduler::idle_mu: blocked in the poller, not the futex

  fiber* stack_cache[stack_cache_cap];  // free default-size stacks, owner only
  std::size_t stack_cached = 0;

  std::uint64_t id_next = 0, id_end = 0;  // batch of fiber ids reserved by this worker
  bool in_timers = false;  // firing timers: woken fibers go to the run queue tail, not runnext

  std::atomic<std::uint64_t> dispatches{0};  // statistics (written by the owner only)
  std::thread thread;

  std::uint32_t next_random() noexcept {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<std::uint32_t>(rng >> 16);
  }
};

/// The worker of this thread, nullptr on a plain thread. Out of line with a compiler barrier:
/// a fiber may resume on another thread, so no TLS address may be cached across a switch.
worker* current_worker() noexcept;
void set_current_worker(worker* w) noexcept;

}  // namespace goro::detail
