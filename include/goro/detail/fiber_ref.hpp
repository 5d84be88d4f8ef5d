// Opaque handles to runtime internals that the header-only parts of goro need.
#pragma once

#include <cstddef>

namespace goro::detail {

struct fiber;     // runtime/fiber.hpp: a fiber's control block, at the top of its stack
class scheduler;  // runtime/scheduler.hpp: one runtime's workers, queues, timers and stacks

/// The fiber running on this thread, or nullptr on a plain thread. Never cached across a
/// switch by the compiler (out-of-line, see runtime/current.cpp).
fiber* current_fiber() noexcept;

/// Scheduler of the running fiber, or nullptr on a plain thread.
scheduler* current_scheduler() noexcept;

/// Thrown out of a parked fiber's blocking call when its runtime is destroyed, so that the
/// fiber's stack unwinds and its destructors run. Not derived from std::exception: do not
/// swallow it (catch (...) must rethrow).
struct fiber_unwind {};

}  // namespace goro::detail
