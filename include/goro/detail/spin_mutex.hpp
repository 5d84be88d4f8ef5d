// goro's internal lock for short critical sections (channel state, wait_group waiters), like
// Go's runtime mutex: an uncontended lock is one CAS; a contended one spins briefly, then sleeps
// the thread on a futex (runtime/spin_mutex.cpp). Holders never block while holding it.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

namespace goro::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class spin_mutex {
 public:
  void lock() noexcept {
    std::uint32_t c = unlocked;
    if (state_.compare_exchange_strong(c, locked, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() noexcept {
    std::uint32_t c = unlocked;
    return state_.compare_exchange_strong(c, locked, std::memory_order_acquire);
  }
  void unlock() noexcept {
    if (state_.exchange(unlocked, std::memory_order_release) == contended) wake();
  }
  /// For waiter::park_unlocking.
  static void unlock_fn(void* l) noexcept { static_cast<spin_mutex*>(l)->unlock(); }

 private:
  static constexpr std::uint32_t unlocked = 0, locked = 1, contended = 2;
  void lock_slow() noexcept;
  void wake() noexcept;
  std::atomic<std::uint32_t> state_{unlocked};
};

}  // namespace goro::detail
