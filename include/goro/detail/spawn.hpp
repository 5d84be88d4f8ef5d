// How goro spawns a fiber: the callable is moved to the top of the new fiber's stack (no heap
// allocation for ordinary lambdas). Internal: used by runtime.hpp and goro's other headers.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/detail/fiber_ref.hpp"
#include "goro/options.hpp"

namespace goro {
class runtime;
}  // namespace goro

namespace goro::detail {

struct allocation {
  fiber* f;
  void* storage;
};
allocation allocate_fiber(scheduler& s, std::size_t stack_size, std::size_t fn_size,
                          std::size_t fn_align);
// Yields the calling fiber when its worker's run queue is full (see runtime.cpp); during a
// runtime teardown that yield may throw fiber_unwind, like any blocking call.
void launch_fiber(scheduler& s, fiber* f, void (*invoke)(void*), void (*destroy)(void*), void* fn);
void discard_fiber(scheduler& s, fiber* f) noexcept;
scheduler& default_scheduler();
void sleep_until_ns(std::int64_t deadline_ns);

// Callables larger than this live on the heap instead of the top of the fiber's stack.
inline constexpr std::size_t max_inline_callable = 1024;

/// Spawns `fn()` on `s`. The callable is moved to the top of the new fiber's stack: no heap
/// allocation for ordinary lambdas.
template <class Fn>
void spawn(scheduler& s, std::size_t stack_size, Fn&& fn) {
  using F = std::decay_t<Fn>;
  if constexpr (sizeof(F) > max_inline_callable) {
    spawn(s, stack_size, [p = std::make_unique<F>(std::forward<Fn>(fn))] { (*p)(); });
  } else {
    allocation a = allocate_fiber(s, stack_size, sizeof(F), alignof(F));
    F* stored;
    try {
      stored = ::new (a.storage) F(std::forward<Fn>(fn));
    } catch (...) {
      discard_fiber(s, a.f);
      throw;
    }
    launch_fiber(
        s, a.f, [](void* p) { (*static_cast<F*>(p))(); }, [](void* p) { static_cast<F*>(p)->~F(); },
        stored);
  }
}

/// Go's `go f(args...)`: f and args are decay-copied now, f is invoked later with them.
template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
  return [fn = std::forward<F>(f), tup = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    std::apply([&](auto&... a) { std::invoke(std::move(fn), std::move(a)...); }, tup);
  };
}

template <class F, class... Args>
concept spawnable = std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...> &&
    !std::is_same_v<std::remove_cvref_t<F>, spawn_options>;

scheduler& go_target();

std::size_t checked_spawn_stack_size(std::size_t bytes);

/// A runtime's scheduler, for goro's own code.
struct runtime_access {
  static scheduler& of(runtime& rt) noexcept;
};

}  // namespace goro::detail
