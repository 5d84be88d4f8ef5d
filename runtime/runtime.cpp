// goro::runtime: option checking, the process-wide default runtime, and the free functions.
#include "goro/runtime.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "futex.hpp"
#include "scheduler.hpp"
#include "worker.hpp"

namespace goro {
namespace detail {
namespace {

std::size_t workers_from_env() {
  const char* env = std::getenv("GORO_MAXPROCS");
  if (!env || !*env) {
    unsigned hw = std::thread::hardware_concurrency();
    return hw ? hw : 1;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || v < 1 ||
      static_cast<unsigned long long>(v) > max_workers)
    throw std::invalid_argument("goro: GORO_MAXPROCS='" + std::string(env) +
                                "' is not a worker count between 1 and " +
                                std::to_string(max_workers));
  return static_cast<std::size_t>(v);
}

options resolve(options o) {
  if (o.workers == 0) o.workers = workers_from_env();
  if (o.workers > max_workers)
    throw std::invalid_argument("goro: options.workers = " + std::to_string(o.workers) +
                                " exceeds the maximum of " + std::to_string(max_workers));
  if (o.stack_size == 0) o.stack_size = default_stack_size;
  o.stack_size = checked_spawn_stack_size(o.stack_size);
  return o;
}

}  // namespace

std::size_t checked_spawn_stack_size(std::size_t bytes) {
  if (bytes == 0) return 0;
  if (bytes < min_stack_size || bytes > max_stack_size)
    throw std::invalid_argument("goro: stack size " + std::to_string(bytes) +
                                " bytes is outside [" + std::to_string(min_stack_size) + ", " +
                                std::to_string(max_stack_size) + "]");
  return bytes;
}

allocation allocate_fiber(scheduler& s, std::size_t stack_size, std::size_t fn_size,
                          std::size_t fn_align) {
  auto a = s.allocate(stack_size, fn_size, fn_align);
  return {a.f, a.storage};
}

void launch_fiber(scheduler& s, fiber* f, void (*invoke)(void*), void (*destroy)(void*), void* fn) {
  // A fiber spawning in a loop would otherwise make every fiber before any runs (Go preempts
  // such a spawner; goro has no preemption): once it has filled its worker's run queue, it goes
  // behind every queued fiber, which keeps the number alive, and their stacks, bounded.
  if (s.launch(f, invoke, destroy, fn)) s.yield_current(current_worker(), true);
}

void discard_fiber(scheduler& s, fiber* f) noexcept { s.discard(f); }

scheduler& default_scheduler() {
  // Never destroyed, like Go's: fibers may still run while static destructors do.
  static runtime* rt = new runtime();
  return runtime_access::of(*rt);
}

scheduler& runtime_access::of(runtime& rt) noexcept { return *rt.sched_; }

scheduler& go_target() {
  scheduler* s = current_scheduler();
  return s ? *s : default_scheduler();
}

void sleep_until_ns(std::int64_t deadline_ns) {
  fiber* f = current_fiber();
  if (!f) {
    std::this_thread::sleep_until(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns)));
    return;
  }
  if (deadline_ns <= monotonic_ns()) {
    goro::yield();
    return;
  }
  waiter w;
  while (w.park_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns))))
    ;  // nobody else unparks this waiter; loop only for robustness
}

}  // namespace detail

runtime::runtime(options opts)
    : sched_(std::make_unique<detail::scheduler>(detail::resolve(std::move(opts)))) {}

runtime::~runtime() noexcept(false) {
  if (sched_ && detail::current_scheduler() == sched_.get()) {
    (void)sched_.release();  // its workers keep running; stopping them would wait for ourselves
    throw std::logic_error(
        "goro: a runtime was destroyed from one of its own fibers; destroy it from another "
        "thread or runtime (it is left running)");
  }
}

std::size_t runtime::workers() const noexcept { return sched_->worker_count(); }
std::size_t runtime::stack_size() const noexcept { return sched_->stack_size(); }
std::vector<std::uint64_t> runtime::dispatch_counts() const { return sched_->dispatch_counts(); }
std::size_t runtime::checked_stack_size(std::size_t bytes) {
  return detail::checked_spawn_stack_size(bytes);
}

void yield() {
  detail::worker* w = detail::current_worker();
  if (!w || w->current == &w->sched_ctx) {
    std::this_thread::yield();
    return;
  }
  w->sched->yield_current(w);
}

bool in_fiber() noexcept { return detail::current_fiber() != nullptr; }

}  // namespace goro
