// Switching between contexts (fibers and worker scheduling loops) with Boost.Context's
// jump_fcontext. The jumping side leaves a switch_record on its own stack; the resumed side
// stores the jumper's saved context and then performs the record's action. Doing the action
// there is what makes parking atomic: the fiber's context is saved before anyone can see it as
// parked or runnable (Go's mcall(park_m)).
#pragma once

#include <atomic>
#include <cstdint>

#include "fiber.hpp"

namespace goro::detail {

struct worker;

enum class after_switch : std::uint8_t {
  nothing,
  park,            // commit the waiter state `park_state` to parked, then call unlock(lock) if set
  requeue,         // put `from` at the tail of the worker's run queue (yield)
  requeue_global,  // put `from` at the tail of the global queue (a spawner behind its spawns)
  release,         // `from` has finished: return its stack to the pool
};

struct switch_record {
  worker* w;  // the worker on which the switch happens
  fiber* from;
  fiber* to;
  after_switch action = after_switch::nothing;
  std::atomic<std::uint32_t>* park_state = nullptr;
  void (*unlock)(void*) = nullptr;
  void* lock = nullptr;
};

/// Suspends rec.from and resumes rec.to. Returns once rec.from is resumed again, with the
/// worker it now runs on (possibly another one).
worker* switch_context(switch_record& rec) noexcept;

/// First code of every new fiber.
[[noreturn]] void fiber_entry(bctx::transfer_t t) noexcept;

}  // namespace goro::detail
