// Stack overflow detection: a SIGSEGV handler on an alternate signal stack that recognises a
// fault in the guard region of the fiber running on the faulting thread (no registry, so no
// limit on the number of stacks), and the canary check for stacks without a guard.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fiber.hpp"

namespace goro::detail {

/// Installs the SIGSEGV/SIGBUS handler unless it is already in place (each runtime calls it: a
/// handler installed by someone else since is chained to, not lost).
void install_overflow_handler() noexcept;
/// Gives the calling thread an alternate signal stack (each worker calls it at start), so the
/// handler can run after an overflow. Returns a token for release_signal_stack.
void* prepare_signal_stack() noexcept;
void release_signal_stack(void* token) noexcept;

/// Aborts with a message naming the fiber if its canary was overwritten.
[[noreturn]] void report_stack_overflow(const fiber* f, const char* how) noexcept;

inline void check_canary(const fiber* f) noexcept {
  if (f->canary && *reinterpret_cast<const std::uint64_t*>(f->stack_lo) != stack_canary)
      [[unlikely]]
    report_stack_overflow(f, "canary overwritten");
}

}  // namespace goro::detail
