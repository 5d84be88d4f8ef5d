// Helpers shared by the tests.
#pragma once

#include <chrono>
#include <cstddef>

#ifndef GORO_TEST_SCALE
#define GORO_TEST_SCALE 1
#endif

#include <atomic>

#include "goro/detail/waiter.hpp"

namespace goro::test {

/// A one-shot latch for tests that predate goro::wait_group: the thread or fiber that builds it
/// waits until count_down() was called `n` times.
class latch {
 public:
  explicit latch(std::size_t n) : left_(n) {}
  void count_down() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) w_.unpark();
  }
  void wait() {
    if (left_.load(std::memory_order_acquire) != 0) w_.park();
  }

 private:
  std::atomic<std::size_t> left_;
  goro::detail::waiter w_;
};

/// Divides a workload size by the sanitizer slowdown factor (never below `floor`).
constexpr std::size_t scaled(std::size_t n, std::size_t floor = 1) {
  std::size_t s = n / GORO_TEST_SCALE;
  return s < floor ? floor : s;
}
}  // namespace goro::test
