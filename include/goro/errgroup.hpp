// goro::errgroup: golang.org/x/sync/errgroup.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "goro/chan.hpp"
#include "goro/context.hpp"
#include "goro/detail/spin_mutex.hpp"
#include "goro/error.hpp"
#include "goro/runtime.hpp"
#include "goro/wait_group.hpp"

namespace goro {

/// A group of fibers working on subtasks of one task. The zero value is usable. go(f) runs f in a
/// new fiber; f returns goro::error or void, and an exception thrown by f becomes its error
/// (message = what()). wait() waits for all and returns the first error. A group made with
/// with_context() cancels its context at the first error (and when wait() returns), so the other
/// tasks can stop early.
class errgroup {
 public:
  errgroup() : s_(std::make_shared<state>()) {}

  /// `errgroup.WithContext(parent)`: `auto [g, ctx] = goro::errgroup::with_context(parent);`
  static std::pair<errgroup, context> with_context(const context& parent) {
    errgroup g;
    auto [ctx, cancel] = with_cancel(parent);
    g.s_->cancel = cancel;
    return {std::move(g), ctx};
  }

  /// `SetLimit(n)`: at most n tasks run at once (go() blocks for a free slot); negative: no
  /// limit. Throws std::logic_error while tasks are running (Go panics).
  void set_limit(int n);

  /// `Go(f)`: runs f in a new fiber (on the current runtime in a fiber, else the default one),
  /// after waiting for a free slot if a limit is set.
  template <class F>
  void go(F&& f) {
    if (s_->slots) s_->slots.send(std::monostate{});
    start(std::forward<F>(f));
  }

  /// `TryGo(f)`: like go(f), but only if a slot is free now; returns whether f was started.
  template <class F>
  bool try_go(F&& f) {
    if (s_->slots && !s_->slots.try_send(std::monostate{})) return false;
    start(std::forward<F>(f));
    return true;
  }

  /// `Wait()`: blocks until every task has returned; returns the first error (nil if none).
  error wait() {
    s_->wg.wait();
    s_->cancel();
    std::lock_guard g(s_->mu);
    return s_->first;
  }

 private:
  struct state {
    wait_group wg;
    detail::spin_mutex mu;
    error first;                 // under mu
    cancel_func cancel;          // no-op unless made by with_context
    chan<std::monostate> slots;  // set_limit: one buffered element per running task
    std::size_t running = 0;     // under mu
  };

  template <class F>
  void start(F&& f) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    static_assert(std::is_void_v<R> || std::is_convertible_v<R, error>,
                  "errgroup tasks return goro::error or void");
    s_->wg.add(1);
    {
      std::lock_guard g(s_->mu);
      ++s_->running;
    }
    goro::go([s = s_, fn = std::forward<F>(f)]() mutable {
      error err;
      try {
        if constexpr (std::is_void_v<R>) fn();
        else err = fn();
      } catch (const detail::fiber_unwind&) {
        throw;  // runtime teardown, not a task failure
      } catch (...) {
        err = error(std::current_exception());
      }
      finish(*s, err);
    });
  }

  static void finish(state& s, const error& err) {
    if (err) {
      bool first = false;
      {
        std::lock_guard g(s.mu);
        if (!s.first) s.first = err, first = true;
      }
      if (first) s.cancel();
    }
    {
      std::lock_guard g(s.mu);
      --s.running;
    }
    if (s.slots) s.slots.try_recv();  // free our slot
    s.wg.done();
  }

  std::shared_ptr<state> s_;
};

inline void errgroup::set_limit(int n) {
  std::lock_guard g(s_->mu);
  if (s_->running != 0)
    throw std::logic_error("goro: errgroup limit modified while tasks are running");
  s_->slots =
      n < 0 ? chan<std::monostate>() : make_chan<std::monostate>(static_cast<std::size_t>(n));
}

}  // namespace goro
