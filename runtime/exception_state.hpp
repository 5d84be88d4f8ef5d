// Per-fiber C++ exception state. The C++ runtime keeps the stack of caught exceptions (what
// `throw;` and std::current_exception() see) and the count of uncaught ones
// (std::uncaught_exceptions()) per thread. A fiber that parks inside a catch block or a
// destructor running during unwinding and resumes on another thread, or on the same thread after
// other fibers ran there, would see theirs. Every switch therefore swaps this state with the
// thread's (folly fibers do the same).
#pragma once

namespace goro::detail {

/// The Itanium C++ ABI's __cxa_eh_globals (libstdc++ and libc++abi lay it out alike on the
/// targets goro supports; ARM EHABI adds a field and is not supported).
struct exception_state {
  void* caught = nullptr;     // caughtExceptions: the innermost handled exception
  unsigned int uncaught = 0;  // uncaughtExceptions
};

/// The calling thread's exception state (constant for the thread; a worker keeps it, since the
/// lookup, a call into the C++ runtime and a dynamic TLS access, would double a switch's cost).
exception_state* thread_exception_state() noexcept;

/// Saves the thread's exception state `globals` into `save` and installs `load`.
inline void swap_exception_state(exception_state* globals, exception_state& save,
                                 const exception_state& load) noexcept {
  save = *globals;
  *globals = load;
}

}  // namespace goro::detail
