#include "exception_state.hpp"

#if defined(__arm__) && !defined(__aarch64__)
#error "goro: ARM EHABI's __cxa_eh_globals has another layout (propagatingExceptions)"
#endif

// Declared here rather than through <cxxabi.h>, which marks it __attribute__((const)): a caller
// that calls it on both sides of a switch could then reuse the first thread's address.
extern "C" void* __cxa_get_globals() noexcept;

namespace goro::detail {

exception_state* thread_exception_state() noexcept {
  return static_cast<exception_state*>(__cxa_get_globals());
}

}  // namespace goro::detail
