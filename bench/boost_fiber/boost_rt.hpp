// The Boost.Fiber side of the benchmarks: runs main on `workers` threads scheduled by Boost's
// work_stealing algorithm, spawns detached fibers with goro's default stack size, and provides
// what Boost.Fiber lacks and the workloads need (a wait_group, a semaphore).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/fiber/all.hpp>

#include "common.hpp"
#include "goro/options.hpp"

namespace bench::bf {

namespace fibers = boost::fibers;

/// Channels are shared by handle, like goro::chan and Go's channels: a fiber may still be
/// inside push() when the receiver is done with the channel.
template <class T>
using chan = std::shared_ptr<fibers::unbuffered_channel<T>>;
template <class T>
chan<T> make_chan() {
  return std::make_shared<fibers::unbuffered_channel<T>>();
}

/// Spawns a detached fiber with a fixed-size stack as large as goro's default.
template <class F>
void go(F&& f) {
  fibers::fiber(std::allocator_arg, fibers::fixedsize_stack(goro::default_stack_size),
                std::forward<F>(f))
      .detach();
}

/// Runs `main_fn` on the calling thread's main fiber while `workers` threads (this one and
/// workers - 1 helpers) run fibers with work_stealing. For one worker: Boost's default
/// round_robin, as work_stealing with a single thread hangs (its steal loop finds no victim).
template <class F>
void run(std::size_t workers, F&& main_fn) {
  if (workers == 1) {
    note("boost", "1 worker: round_robin scheduler (work_stealing needs 2+ threads)");
    main_fn();
    return;
  }
  note("boost", "work_stealing with default suspend=false: idle workers spin instead of sleeping");
  fibers::mutex m;
  fibers::condition_variable cv;
  bool done = false;
  std::vector<std::thread> helpers;
  for (std::size_t i = 1; i < workers; ++i)
    helpers.emplace_back([&] {
      fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(workers);
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return done; });
    });
  fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(workers);
  main_fn();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  for (auto& t : helpers) t.join();
}

/// Boost.Fiber has no wait_group: an atomic counter; waiters sleep on a fiber condition variable.
class wait_group {
 public:
  void add(std::int64_t delta) {
    if (count_.fetch_add(delta, std::memory_order_acq_rel) + delta == 0) {
      std::lock_guard lock(m_);
      cv_.notify_all();
    }
  }
  void done() { add(-1); }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return count_.load(std::memory_order_acquire) == 0; });
  }

 private:
  std::atomic<std::int64_t> count_{0};
  fibers::mutex m_;
  fibers::condition_variable cv_;
};

/// Boost.Fiber has no semaphore: a count under a fiber mutex and condition variable.
class semaphore {
 public:
  explicit semaphore(std::int64_t n) : n_(n) {}
  void acquire() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return n_ > 0; });
    --n_;
  }
  void release() {
    {
      std::lock_guard lock(m_);
      ++n_;
    }
    cv_.notify_one();
  }

 private:
  std::int64_t n_;
  fibers::mutex m_;
  fibers::condition_variable cv_;
};

}  // namespace bench::bf
