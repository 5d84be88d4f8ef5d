// goro::error: Go's `error` — nil by default, comparable by identity, wrapping a cause.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace goro {

/// A Go-style error value. Default-constructed it is nil (`explicit operator bool` is false).
/// Copies compare equal (`==` is identity, like comparing Go error values that are pointers), so
/// a sentinel declared once (`inline const goro::error not_found("not found");`) can be tested
/// with `==` or, through wrapping, with goro::is().
class error {
 public:
  /// The nil error.
  error() noexcept = default;
  /// `errors.New(msg)`.
  explicit error(std::string message);
  /// `fmt.Errorf("%s: %w", context, cause)` in spirit: message is "context: <cause's message>",
  /// and the cause stays reachable through unwrap() and goro::is().
  error(std::string_view context, const error& cause);
  /// An error carrying an exception: message is its what() (or "unknown exception").
  explicit error(std::exception_ptr e);

  /// True when non-nil.
  explicit operator bool() const noexcept { return impl_ != nullptr; }
  /// The message; empty for nil.
  const std::string& message() const noexcept;
  /// The wrapped cause (nil if none): `errors.Unwrap`.
  error unwrap() const noexcept;
  /// The exception this error was made from, if any.
  std::exception_ptr exception() const noexcept;
  /// Throws: the carried exception if there is one, else std::runtime_error(message()).
  [[noreturn]] void raise() const;

  /// Identity: the same error value (or both nil).
  friend bool operator==(const error& a, const error& b) noexcept { return a.impl_ == b.impl_; }

 private:
  struct impl;
  std::shared_ptr<const impl> impl_;
};

/// `errors.Is`: true if `err` or any error it wraps is `target`.
bool is(const error& err, const error& target) noexcept;

/// `fmt.Errorf("%s: %w", context, cause)`.
inline error wrap(const error& cause, std::string_view context) { return error(context, cause); }

}  // namespace goro
