// Thread-local state of the runtime. Every access goes through these out-of-line functions,
// whose asm barrier also stops the compiler from treating them as pure: after a switch a fiber
// may run on another worker, and a TLS address computed before it would be the old thread's.
#include "scheduler.hpp"
#include "worker.hpp"

namespace goro::detail {
namespace {
thread_local worker* tl_worker = nullptr;
}

__attribute__((noinline)) worker* current_worker() noexcept {
  asm volatile("" ::: "memory");
  return tl_worker;
}

__attribute__((noinline)) void set_current_worker(worker* w) noexcept {
  asm volatile("" ::: "memory");
  tl_worker = w;
}

fiber* current_fiber() noexcept {
  worker* w = current_worker();
  if (!w || w->current == &w->sched_ctx) return nullptr;
  return w->current;
}

scheduler* current_scheduler() noexcept {
  worker* w = current_worker();
  if (!w || w->current == &w->sched_ctx) return nullptr;
  return w->sched;
}

}  // namespace goro::detail
