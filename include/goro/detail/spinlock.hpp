// A small test-and-test-and-set lock for goro's short critical sections (channel state).
// Holders never block while holding it; a waiter spins briefly, then yields its thread in case
// the holder's thread was preempted.
#pragma once

#include <sched.h>

#include <atomic>

namespace goro::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class spinlock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 100) cpu_relax(); else sched_yield();
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  /// For waiter::park_unlocking.
  static void unlock_fn(void* l) noexcept { static_cast<spinlock*>(l)->unlock(); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace goro::detail
