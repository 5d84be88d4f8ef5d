#include "context_switch.hpp"

#include <cstdlib>
#include <exception>

#include "goro/detail/waiter.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"
#include "stack_overflow.hpp"
#include "worker.hpp"

namespace goro::detail {
namespace {

// Runs on the resumed context right after a jump: stores the jumper's context and performs the
// jumper's action. After the action the record (on the jumper's stack) must not be touched:
// a parked jumper may already be running elsewhere.
worker* complete_switch(bctx::transfer_t t, fiber* self) noexcept {
#if GORO_ASAN
  const void* old_bottom = nullptr;
  std::size_t old_size = 0;
  __sanitizer_finish_switch_fiber(self->asan_fake_stack, &old_bottom, &old_size);
#endif
  auto* rec = static_cast<switch_record*>(t.data);
  worker* w = rec->w;
  fiber* prev = rec->from;
  const after_switch action = rec->action;
  prev->ctx = t.fctx;
#if GORO_ASAN
  if (!prev->pool) {  // a thread's own stack: remember its bounds for switching back to it
    prev->stack_lo = static_cast<char*>(const_cast<void*>(old_bottom));
    prev->stack_hi = prev->stack_lo + old_size;
  }
#endif
  w->current = self;
  // A thread's own context (no pool) is not scheduled; a fiber is resumed from a run queue, or
  // parked or queued by teardown to unwind.
  GORO_ASSERT(!self->pool || run_state_of(self) == fiber::run_state::runnable ||
              (self->unwinding && run_state_of(self) == fiber::run_state::parked));
  set_run_state(self, fiber::run_state::running);
  switch (action) {
    case after_switch::nothing:
      break;
    case after_switch::park: {
      void (*unlock)(void*) = rec->unlock;
      void* lock = rec->lock;
      // Parked before the commit: an unparker may ready prev as soon as the commit is visible.
      // If an unpark slipped in before it, prev runs again instead.
      set_run_state(prev, fiber::run_state::parked);
      if (!waiter::commit_park(*rec->park_state)) {
        set_run_state(prev, fiber::run_state::runnable);
        w->sched->requeue(w, prev);
      }
      if (unlock) unlock(lock);
      break;
    }
    case after_switch::requeue:
      set_run_state(prev, fiber::run_state::runnable);
      w->sched->requeue(w, prev);
      break;
    case after_switch::requeue_global:
      set_run_state(prev, fiber::run_state::runnable);
      w->sched->requeue_global(prev);
      break;
    case after_switch::release:
      GORO_ASSERT(prev->finished);
      w->sched->release_fiber(w, prev);
      break;
  }
  return w;
}

}  // namespace

GORO_NO_TSAN __attribute__((noinline)) worker* switch_context(switch_record& rec) noexcept {
  fiber* from = rec.from;
  fiber* to = rec.to;
  check_canary(from);
  swap_exception_state(rec.w->eh_globals, from->eh, to->eh);  // the thread's becomes to's
#if GORO_ASAN
  __sanitizer_start_switch_fiber(
      rec.action == after_switch::release ? nullptr : &from->asan_fake_stack, to->stack_lo,
      static_cast<std::size_t>(to->stack_hi - to->stack_lo));
#endif
#if GORO_TSAN
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
  bctx::transfer_t t = bctx::jump_fcontext(to->ctx, &rec);
  return complete_switch(t, from);
}

void fiber_entry(bctx::transfer_t t) noexcept {
  fiber* self = static_cast<switch_record*>(t.data)->to;
  complete_switch(t, self);
  self->started = true;
  try {
    self->invoke(self->fn);
  } catch (const fiber_unwind&) {
    // the runtime is being destroyed: the stack has unwound, end quietly
  } catch (...) {
    self->sched->uncaught(std::current_exception(), self);
  }
  self->destroy(self->fn);
  self->finished = true;
  worker* w = current_worker();  // not the one we started on, possibly
  w->sched->exit_current(w, self);
}

}  // namespace goro::detail
