// goro::shared_mutex: Go's sync.RWMutex.
#pragma once

#include <cstdint>

#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/wait_list.hpp"

namespace goro {

/// A readers-writer lock meeting SharedLockable (std::shared_lock, std::unique_lock). Writers
/// are not starved: once a writer waits, new readers queue behind it; when a writer unlocks, the
/// readers that queued meanwhile go first, so readers are not starved either (Go's RWMutex).
class shared_mutex {
 public:
  shared_mutex() = default;
  shared_mutex(const shared_mutex&) = delete;
  shared_mutex& operator=(const shared_mutex&) = delete;

  /// Acquires exclusive ownership (a writer).
  void lock();
  /// Exclusive ownership only if free now.
  bool try_lock() noexcept;
  /// Releases exclusive ownership.
  void unlock();
  /// Acquires shared ownership (a reader); waits behind a queued writer.
  void lock_shared();
  /// Shared ownership only if no writer holds or waits for the lock.
  bool try_lock_shared() noexcept;
  /// Releases shared ownership.
  void unlock_shared();

 private:
  void park(detail::wait_list& q) GORO_RELEASE(mu_);
  detail::wait_node* release_locked(bool writer) noexcept GORO_REQUIRES(mu_);

  detail::spin_mutex mu_;
  std::int64_t readers_ GORO_GUARDED_BY(mu_) = 0;  // active readers
  bool writer_ GORO_GUARDED_BY(mu_) = false;       // a writer holds it
  detail::wait_list waiting_readers_ GORO_GUARDED_BY(mu_);
  detail::wait_list waiting_writers_ GORO_GUARDED_BY(mu_);
};

}  // namespace goro
