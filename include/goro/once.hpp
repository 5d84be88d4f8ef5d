// goro::once: Go's sync.Once.
#pragma once

#include <atomic>
#include <mutex>
#include <utility>

#include "goro/mutex.hpp"

namespace goro {

/// Runs a function exactly once: `o.call(f)`. Concurrent callers wait (parking) until the first
/// call has finished. Like Go, a call that throws counts as done (the exception propagates to
/// that caller; later calls return at once).
class once {
 public:
  /// `Do(f)`: calls f unless a call already completed; waits for a call in progress.
  template <class F>
  void call(F&& f) {
    if (done_.load(std::memory_order_acquire)) return;
    std::lock_guard g(m_);
    if (done_.load(std::memory_order_relaxed)) return;
    struct mark_done {
      std::atomic<bool>& d;
      ~mark_done() { d.store(true, std::memory_order_release); }
    } mark{done_};
    std::forward<F>(f)();
  }
  /// True once a call has completed.
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> done_{false};
  mutex m_;
};

}  // namespace goro
