// goro::runtime and the fiber-level free functions: Go's scheduler, `go`, runtime.Gosched,
// time.Sleep and func main.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "goro/detail/deadline.hpp"
#include "goro/detail/fiber_ref.hpp"
#include "goro/detail/spawn.hpp"
#include "goro/detail/waiter.hpp"
#include "goro/options.hpp"

namespace goro {

namespace detail {
struct runtime_access;
}  // namespace detail

/// An embeddable scheduler: `options.workers` OS threads running fibers with work stealing.
/// Several may coexist. The destructor stops the workers (a fiber that never blocks or yields
/// keeps its worker, and so the destructor, waiting), then unwinds every fiber still parked so
/// that its destructors run, and releases all stacks.
class runtime {
 public:
  /// Builds the runtime; throws std::invalid_argument for invalid options.
  explicit runtime(options opts = {});
  /// Throws std::logic_error when called from one of this runtime's own fibers (it would have
  /// to wait for the worker it runs on): the runtime is then left running, not destroyed.
  ~runtime() noexcept(false);
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// `go f(args...)`: spawns a fiber on this runtime, from any thread or fiber.
  template <class F, class... Args>
    requires detail::spawnable<F, Args...>
  void go(F&& f, Args&&... args) {
    detail::spawn(*sched_, 0, detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// Spawns with per-fiber attributes (stack size).
  template <class F, class... Args>
    requires detail::spawnable<F, Args...>
  void go(const spawn_options& so, F&& f, Args&&... args) {
    detail::spawn(*sched_, checked_stack_size(so.stack_size),
                  detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...));
  }

  /// Runs `f()` as a fiber on this runtime and blocks the caller (thread or fiber) until it
  /// returns; returns its result or rethrows its exception.
  template <class F>
  std::invoke_result_t<std::decay_t<F>&> block_on(F&& f);

  /// Number of worker threads.
  std::size_t workers() const noexcept;
  /// Default stack size of this runtime's fibers, in bytes.
  std::size_t stack_size() const noexcept;
  /// Fibers dispatched by each worker so far (statistics; shows how work spreads).
  std::vector<std::uint64_t> dispatch_counts() const;

 private:
  friend struct detail::runtime_access;
  static std::size_t checked_stack_size(std::size_t bytes);
  std::unique_ptr<detail::scheduler> sched_;
};

template <class F>
std::invoke_result_t<std::decay_t<F>&> runtime::block_on(F&& f) {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  using stored =
      std::conditional_t<std::is_reference_v<R>, std::add_pointer_t<std::remove_reference_t<R>>, R>;
  // Shared with the fiber: if the caller is itself a fiber unwound by the destruction of its
  // runtime, the task may outlive the caller's frame.
  struct state {
    detail::waiter w;
    std::optional<std::conditional_t<std::is_void_v<R>, char, stored>> value;
    std::exception_ptr error;
  };
  auto st = std::make_shared<state>();
  detail::spawn(*sched_, 0, [st, fn = std::forward<F>(f)]() mutable {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        st->value.emplace('\0');
      } else if constexpr (std::is_reference_v<R>) {
        st->value.emplace(&fn());
      } else {
        st->value.emplace(fn());
      }
    } catch (const detail::fiber_unwind&) {
      st->error = std::make_exception_ptr(
          std::runtime_error("goro: runtime destroyed before block_on's function returned"));
      st->w.unpark();
      throw;
    } catch (...) {
      st->error = std::current_exception();
    }
    st->w.unpark();
  });
  st->w.park();
  // Take the exception out of the shared state: the fiber may drop the last reference to the
  // state later, and the exception must be released on this thread, where it is caught.
  if (st->error) std::rethrow_exception(std::exchange(st->error, nullptr));
  if constexpr (std::is_reference_v<R>) {
    return static_cast<R>(**st->value);
  } else if constexpr (!std::is_void_v<R>) {
    return std::move(*st->value);
  }
}

/// `go f(args...)`: inside a fiber, spawns on the same runtime; elsewhere on the process-wide
/// default runtime (created on first use with default options, never destroyed).
template <class F, class... Args>
  requires detail::spawnable<F, Args...>
void go(F&& f, Args&&... args) {
  detail::spawn(detail::go_target(), 0,
                detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...));
}

/// `go` with per-fiber attributes.
template <class F, class... Args>
  requires detail::spawnable<F, Args...>
void go(const spawn_options& so, F&& f, Args&&... args);

/// Go's `func main()`: runs `main_fn` as the main fiber of a runtime built from `opts`, and
/// returns its int result (0 for void) once it returns; other fibers do not keep it alive.
template <class F>
int run(F&& main_fn, options opts = {}) {
  runtime rt(std::move(opts));
  if constexpr (std::is_void_v<std::invoke_result_t<std::decay_t<F>&>>) {
    rt.block_on(std::forward<F>(main_fn));
    return 0;
  } else {
    return static_cast<int>(rt.block_on(std::forward<F>(main_fn)));
  }
}

/// runtime.Gosched: lets other fibers run (on a plain thread: std::this_thread::yield).
void yield();

/// True inside a goro fiber.
bool in_fiber() noexcept;

/// time.Sleep: parks the fiber (or the thread) until `tp` (time_point::max(): forever).
template <class Clock, class Duration>
void sleep_until(const std::chrono::time_point<Clock, Duration>& tp) {
  detail::sleep_until_ns(detail::deadline_ns(tp));
}

/// time.Sleep: parks the fiber (or the thread) for `d`; durations too long for 64-bit
/// nanoseconds (e.g. nanoseconds::max()) mean forever, zero or negative ones yield.
template <class Rep, class Period>
void sleep_for(const std::chrono::duration<Rep, Period>& d) {
  detail::sleep_until_ns(detail::deadline_after_ns(d));
}

template <class F, class... Args>
  requires detail::spawnable<F, Args...>
void go(const spawn_options& so, F&& f, Args&&... args) {
  detail::spawn(detail::go_target(), detail::checked_spawn_stack_size(so.stack_size),
                detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...));
}

}  // namespace goro
