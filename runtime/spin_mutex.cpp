#include "goro/detail/spin_mutex.hpp"

#include "futex.hpp"

namespace goro::detail {

// Like Go's runtime lock: a few rounds of active spinning, one yield, then sleep on the futex.
// A contended channel lock thus parks one thread instead of keeping two cores bouncing its cache
// line; critical sections never block, so the sleep is short.
void spin_mutex::lock_slow() noexcept {
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 30; ++i) cpu_relax();
    std::uint32_t c = unlocked;
    if (state_.load(std::memory_order_relaxed) == unlocked &&
        state_.compare_exchange_strong(c, locked, std::memory_order_acquire))
      return;
  }
  sched_yield();
  while (state_.exchange(contended, std::memory_order_acquire) != unlocked)
    futex_wait(&state_, contended);
}

void spin_mutex::wake() noexcept { futex_wake(&state_, 1); }

}  // namespace goro::detail
