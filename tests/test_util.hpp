// Helpers shared by the tests.
#pragma once

#include <chrono>
#include <cstddef>

#ifndef GORO_TEST_SCALE
#define GORO_TEST_SCALE 1
#endif

namespace goro::test {
/// Divides a workload size by the sanitizer slowdown factor (never below `floor`).
constexpr std::size_t scaled(std::size_t n, std::size_t floor = 1) {
  std::size_t s = n / GORO_TEST_SCALE;
  return s < floor ? floor : s;
}
}  // namespace goro::test
