// goro's main demo: a million fibers, spawned from one fiber, each parked once and then woken.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

#include "goro/goro.hpp"

int main() {
  constexpr std::size_t n = 1'000'000;
  goro::runtime rt;
  std::printf("goro demo: %zu workers\n", rt.workers());

  auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::size_t> sum{0};
  rt.block_on([&] {
    std::atomic<std::size_t> left{n};
    goro::detail::waiter all_done;
    for (std::size_t i = 0; i < n; ++i)
      goro::go([&, i] {
        sum.fetch_add(i, std::memory_order_relaxed);
        if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) all_done.unpark();
      });
    all_done.park();
  });
  auto t1 = std::chrono::steady_clock::now();
  std::printf("spawned and completed %zu fibers in %.1f ms (sum of ids %zu, expected %zu)\n", n,
              std::chrono::duration<double, std::milli>(t1 - t0).count(), sum.load(),
              n * (n - 1) / 2);
  return sum.load() == n * (n - 1) / 2 ? 0 : 1;
}
