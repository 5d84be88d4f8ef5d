// goro's internal lock for short critical sections (channel state, wait_group waiters), like
// Go's runtime mutex: an uncontended lock is one CAS; a contended one spins briefly, then sleeps
// the thread on a futex (runtime/spin_mutex.cpp). Holders never block while holding it.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

#include "goro/detail/thread_safety.hpp"

namespace goro::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class GORO_CAPABILITY("mutex") spin_mutex {
 public:
  void lock() noexcept GORO_ACQUIRE() {
    std::uint32_t c = unlocked;
    if (state_.compare_exchange_strong(c, locked, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() noexcept GORO_TRY_ACQUIRE(true) {
    std::uint32_t c = unlocked;
    return state_.compare_exchange_strong(c, locked, std::memory_order_acquire);
  }
  void unlock() noexcept GORO_RELEASE() {
    if (state_.exchange(unlocked, std::memory_order_release) == contended) wake();
  }
  /// For waiter::park_unlocking.
  static void unlock_fn(void* l) noexcept GORO_NO_THREAD_SAFETY_ANALYSIS {
    static_cast<spin_mutex*>(l)->unlock();
  }

 private:
  static constexpr std::uint32_t unlocked = 0, locked = 1, contended = 2;
  void lock_slow() noexcept;
  void wake() noexcept;
  std::atomic<std::uint32_t> state_{unlocked};
};

/// std::lock_guard for a spin_mutex, visible to the thread-safety analysis.
class GORO_SCOPED_CAPABILITY spin_lock {
 public:
  explicit spin_lock(spin_mutex& m) noexcept GORO_ACQUIRE(m) : m_(m) { m_.lock(); }
  spin_lock(const spin_lock&) = delete;
  spin_lock& operator=(const spin_lock&) = delete;
  ~spin_lock() GORO_RELEASE() { m_.unlock(); }

 private:
  spin_mutex& m_;
};

}  // namespace goro::detail
