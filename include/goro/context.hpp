// goro::context: Go's context.Context — cancellation and deadlines across a tree of tasks.
#pragma once

#include <chrono>

#include <memory>
#include <optional>
#include <variant>
#include "goro/detail/deadline.hpp"

#include "goro/chan.hpp"
#include "goro/error.hpp"

namespace goro {

/// `context.Canceled`: err() of a context canceled by its cancel function (or an ancestor's).
inline const error canceled("context canceled");
/// `context.DeadlineExceeded`: err() of a context whose deadline passed.
inline const error deadline_exceeded("context deadline exceeded");

namespace detail {
struct context_state;  // runtime/context.cpp
}

/// `context.Context`: a cheap copyable handle. Cancelling a context cancels all its descendants,
/// never its parent. All members are safe from any thread or fiber.
class context {
 public:
  /// The background context (never canceled, no deadline).
  context() noexcept = default;

  /// `ctx.Done()`: closed when the context is canceled; nil (never ready) for background().
  recv_chan<std::monostate> done() const noexcept;
  /// `ctx.Err()`: nil while active, then goro::canceled or goro::deadline_exceeded.
  error err() const;
  /// `ctx.Deadline()`.
  std::optional<std::chrono::steady_clock::time_point> deadline() const noexcept;

  friend bool operator==(const context& a, const context& b) noexcept { return a.s_ == b.s_; }

 private:
  friend struct detail::context_state;
  explicit context(std::shared_ptr<detail::context_state> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<detail::context_state> s_;
};

/// `context.CancelFunc`: idempotent, callable from any thread.
class cancel_func {
 public:
  cancel_func() noexcept = default;
  /// Cancels the context (and its descendants) with goro::canceled; idempotent.
  void operator()() const;

 private:
  friend struct detail::context_state;
  explicit cancel_func(std::shared_ptr<detail::context_state> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<detail::context_state> s_;
};

/// What with_cancel / with_timeout / with_deadline return: `auto [ctx, cancel] = ...`.
struct context_with_cancel {
  context ctx;         ///< the new context
  cancel_func cancel;  ///< cancels it
};

/// `context.Background()`.
inline context background() noexcept { return context(); }

/// `context.WithCancel(parent)`.
context_with_cancel with_cancel(const context& parent);

/// `context.WithDeadline(parent, tp)`.
context_with_cancel with_deadline(const context& parent, std::chrono::steady_clock::time_point tp);

/// `context.WithTimeout(parent, d)`.
template <class Rep, class Period>
context_with_cancel with_timeout(const context& parent,
                                 const std::chrono::duration<Rep, Period>& d) {
  return with_deadline(parent, detail::steady_at(detail::deadline_after_ns(d)));
}

}  // namespace goro
