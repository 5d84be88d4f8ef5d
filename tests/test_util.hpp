// Helpers shared by the tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>

#ifndef GORO_TEST_SCALE
#define GORO_TEST_SCALE 1
#endif
// TSan tracks each fiber like a thread and dies beyond 8128 of them alive at once.
#ifndef GORO_TEST_MAX_LIVE
#define GORO_TEST_MAX_LIVE 100000000
#endif

#include <atomic>

#include "goro/detail/waiter.hpp"

namespace goro::test {

/// A one-shot latch for tests that predate goro::wait_group: the thread or fiber that builds it
/// waits until count_down() was called `n` times.
class latch {
 public:
  explicit latch(std::size_t n) : left_(n), none_(n == 0) {}
  void count_down() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) w_.unpark();
  }
  // Always parks (the last count_down's unpark is kept as a token): returning on seeing zero
  // could free the latch while that count_down is still inside unpark().
  void wait() {
    if (!none_) w_.park();
  }

 private:
  std::atomic<std::size_t> left_;
  const bool none_;
  goro::detail::waiter w_;
};

/// Raises `m` to `v` if `v` is larger (a CAS loop: a load-then-store would lose a concurrent
/// larger value).
template <class T>
void atomic_max(std::atomic<T>& m, T v) {
  T cur = m.load();
  while (v > cur && !m.compare_exchange_weak(cur, v)) {
  }
}

/// CPU time used by this process so far, in milliseconds (all threads).
inline double process_cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/// Divides a workload size by the sanitizer slowdown factor (never below `floor`).
constexpr std::size_t scaled(std::size_t n, std::size_t floor = 1) {
  std::size_t s = n / GORO_TEST_SCALE;
  return s < floor ? floor : s;
}
/// scaled(), also capped for workloads that keep that many fibers alive at once.
constexpr std::size_t scaled_live(std::size_t n, std::size_t floor = 1) {
  std::size_t s = scaled(n, floor);
  return s > GORO_TEST_MAX_LIVE ? GORO_TEST_MAX_LIVE : s;
}
}  // namespace goro::test

#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "goro/runtime.hpp"

namespace goro::test {

/// Runs `body` as a fiber of a new runtime and waits at most `limit` for it. On a hang the
/// runtime is leaked (its workers may be deadlocked, so destroying it would hang too) and false
/// is returned, so the test fails instead of stalling the suite.
inline bool finishes_within(goro::options opts, std::chrono::milliseconds limit,
                            std::function<void()> body) {
  auto rt = std::make_unique<goro::runtime>(std::move(opts));
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  rt->go([done, body = std::move(body)] {
    body();
    done->set_value();
  });
  if (f.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "finishes_within: still running after %lld ms; runtime leaked\n",
                 static_cast<long long>(limit.count()));
    (void)rt.release();
    return false;
  }
  return true;
}

}  // namespace goro::test
