// The fiber control block. It lives at the top of the fiber's own stack slot (see
// stack_pool.hpp), so spawning allocates nothing besides taking a slot from a pool.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "exception_state.hpp"
#include "goro/detail/assert.hpp"
#include "goro/detail/fiber_ref.hpp"

namespace goro::detail {

class stack_pool;

namespace bctx = boost::context::detail;

struct fiber {
  enum class slot_state : std::uint8_t { free, live };

  bctx::fcontext_t ctx = nullptr;  // saved context while not running
  scheduler* sched = nullptr;
  void (*invoke)(void*) = nullptr;   // runs the callable stored at `fn`
  void (*destroy)(void*) = nullptr;  // destroys it
  void* fn = nullptr;
  std::uint64_t id = 0;      // shown in diagnostics (stack overflow, uncaught exception)
  char* guard_lo = nullptr;  // lowest byte of the guard region below the stack (no guard: null)
  char* stack_lo = nullptr;  // lowest usable stack byte (just above the guard region)
  char* stack_hi = nullptr;  // one past the highest usable byte (the callable sits above)
  stack_pool* pool = nullptr;
  exception_state eh;  // its C++ exception state while it is not running (see exception_state.hpp)
  slot_state state = slot_state::free;  // owner-written; read by teardown after workers join
  // What the fiber is doing (Go's g status). idle: not launched; runnable: in a run queue or
  // runnext (or being handed to one); running: on a worker; parked: committed to a waiter, only
  // an unpark (or teardown) resumes it; dead: finished. Written by whoever holds the fiber at that
  // moment (its spawner, its worker, the switch that parks it, its unparker); relaxed, as each
  // hand-off is ordered by the run queues or the waiter's CAS. Checked by GORO_ASSERT at every
  // transition; read by diagnostics.
  enum class run_state : std::uint8_t { idle, runnable, running, parked, dead };
  std::atomic<run_state> run{run_state::idle};
  bool started = false;    // entry function has run
  bool unwinding = false;  // set by runtime teardown: blocking calls throw fiber_unwind
  bool finished = false;   // returned from its entry; stack about to be released
  bool canary = false;     // no guard page below this stack: check the canary at switch-out
  // Sanitizer bookkeeping (unused in normal builds).
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;
};

/// Written just above the guard page of every stack and checked when its fiber switches out:
/// catches overflows where no guard page could be installed.
inline constexpr std::uint64_t stack_canary = 0x676f726f5f737461ull;  // "goro_sta"

inline fiber::run_state run_state_of(const fiber* f) noexcept {
  return f->run.load(std::memory_order_relaxed);
}
inline void set_run_state(fiber* f, fiber::run_state s) noexcept {
  f->run.store(s, std::memory_order_relaxed);
}

}  // namespace goro::detail
