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

namespace goro::detail {

// A fast per-thread random number (select's poll order). The TLS access happens inside one
// call, with no switch in between, so migration cannot make it read another thread's state.
__attribute__((noinline)) std::uint32_t fast_random() noexcept {
  thread_local std::uint64_t state = 0;
  if (state == 0) state = reinterpret_cast<std::uintptr_t>(&state) * 0x9e3779b97f4a7c15ull | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<std::uint32_t>(state >> 32);
}

}  // namespace goro::detail
