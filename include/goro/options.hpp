// goro::options: how a goro::runtime is built.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>

namespace goro {

/// Called when an exception escapes a fiber's function (on the fiber, before it ends).
using uncaught_handler = std::function<void(std::exception_ptr)>;

/// Default fiber stack size in bytes (virtual; pages are committed only when touched).
inline constexpr std::size_t default_stack_size = 64 * 1024;
/// Smallest accepted stack size in bytes.
inline constexpr std::size_t min_stack_size = 16 * 1024;
/// Largest accepted stack size in bytes.
inline constexpr std::size_t max_stack_size = std::size_t{1} << 30;
/// Bytes of inaccessible guard region below every fiber stack (at least a page). A frame larger
/// than the room left on the stack plus this would jump over it into the neighbouring stack:
/// code that may build such frames (local arrays over a few KiB, alloca, VLAs) must be compiled
/// with -fstack-clash-protection, which probes large frames page by page so that they fault in
/// the guard. goro's CMake target (and goro.pc) add it to its users' compile options. One page:
/// a 64 KiB guard made skynet 20% and spawn_join 9% slower (docs/performance.md).
inline constexpr std::size_t stack_guard_size = 4096;
/// Largest accepted worker count.
inline constexpr std::size_t max_workers = 1024;

/// Configuration of a goro::runtime (Go: GOMAXPROCS and friends).
struct options {
  /// Worker threads. 0: the GORO_MAXPROCS environment variable if set, else hardware threads.
  std::size_t workers = 0;
  /// Default fiber stack size in bytes. 0: goro::default_stack_size. Rounded up to whole pages.
  std::size_t stack_size = 0;
  /// Handler for exceptions escaping a fiber. Empty: print the exception's what() and abort,
  /// like an unrecovered Go panic.
  uncaught_handler on_uncaught{};
};

/// Per-spawn attributes: `rt.go(goro::spawn_options{.stack_size = 1 << 20}, f)`.
struct spawn_options {
  /// Stack size in bytes for this fiber; 0: the runtime's default.
  std::size_t stack_size = 0;
};

}  // namespace goro
