#include "goro/detail/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace goro::detail {

void assert_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "goro: internal invariant violated: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

}  // namespace goro::detail
