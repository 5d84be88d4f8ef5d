// goro::semaphore: golang.org/x/sync/semaphore.Weighted.
#pragma once

#include <cstdint>

#include "goro/context.hpp"
#include "goro/detail/spin_mutex.hpp"
#include "goro/detail/wait_list.hpp"
#include "goro/error.hpp"

namespace goro {

/// A weighted semaphore with FIFO fairness: a large request at the head of the queue is not
/// overtaken by later small ones (x/sync/semaphore semantics).
class semaphore {
 public:
  /// `n` units; throws std::invalid_argument if negative.
  explicit semaphore(std::int64_t n);
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  /// Blocks until `k` units are acquired. Throws std::invalid_argument if k is negative or
  /// larger than the semaphore (it could never succeed).
  void acquire(std::int64_t k = 1);
  /// Like acquire(k), but gives up when `ctx` is done: returns nil on success, else ctx.err().
  error acquire(const context& ctx, std::int64_t k = 1);
  /// Acquires `k` units only if available now and nobody is queued.
  bool try_acquire(std::int64_t k = 1) noexcept;
  /// Releases `k` units; throws std::logic_error when releasing more than are held.
  void release(std::int64_t k = 1);

 private:
  struct node;
  void grant_waiters() noexcept GORO_REQUIRES(mu_);  // the granted are collected in woken_
  static void wake(node* p) noexcept;

  detail::spin_mutex mu_;
  const std::int64_t size_;
  std::int64_t cur_ GORO_GUARDED_BY(mu_) = 0;
  detail::wait_list waiters_ GORO_GUARDED_BY(mu_);  // of node, FIFO
  node* woken_ GORO_GUARDED_BY(mu_) = nullptr;      // granted, to be woken after unlocking
};

}  // namespace goro
