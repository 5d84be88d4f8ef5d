// The scheduler behind one goro::runtime: its workers, the global run queue, idle-worker
// bookkeeping (Go's npidle / nmspinning discipline), the timer heap, the stack pools and a
// monitor thread. See docs/architecture.md for the whole picture.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "context_switch.hpp"
#include "fiber.hpp"
#include "global_queue.hpp"
#include "goro/options.hpp"
#include "netpoll.hpp"
#include "stack_pool.hpp"
#include "timer_heap.hpp"
#include "worker.hpp"

namespace goro::detail {

class scheduler {
 public:
  /// `opts` must already be validated and resolved (workers and stack_size non-zero).
  explicit scheduler(const options& opts);
  /// Stops the workers, then unwinds every fiber that has not finished (see teardown()).
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // --- spawning (any thread) ---
  struct allocation {
    fiber* f;
    void* storage;  // where the caller constructs the callable
  };
  allocation allocate(std::size_t stack_size, std::size_t fn_size, std::size_t fn_align);
  // Makes f runnable. True when its spawner, a fiber of this scheduler, filled its worker's run
  // queue (which spilled half of itself to the global queue): the spawner should yield.
  bool launch(fiber* f, void (*invoke)(void*), void (*destroy)(void*), void* fn) noexcept;
  void discard(fiber* f) noexcept;  // an allocated fiber whose callable could not be built

  // --- scheduling (any thread) ---
  /// Makes a parked fiber runnable: into the current worker's runnext slot when called from a
  /// fiber of this scheduler, else into the global queue.
  void ready(fiber* f) noexcept;

  // --- operations of the running fiber, on its current worker w ---
  /// Switches away with the park action; returns the worker the fiber resumes on.
  worker* park_current(worker* w, std::atomic<std::uint32_t>* state, void (*unlock)(void*),
                       void* lock) noexcept;
  /// Throws fiber_unwind when resumed by teardown.
  // Puts the running fiber behind the worker's run queue, or (behind_global) behind the global
  // queue, so that everything queued now runs first (Go's treatment of a preempted fiber).
  void yield_current(worker* w, bool behind_global = false);
  // Throws fiber_unwind (or abandons the fiber) if teardown resumed `self` to unwind it.
  static void unwind_if_torn_down(fiber* self) {
    if (self->unwinding) [[unlikely]]
      unwind_torn_down();
  }
  [[noreturn]] void exit_current(worker* w, fiber* self) noexcept;
  /// Teardown only: leaves a fiber that cannot unwind further for good.
  [[noreturn]] void abandon_current(worker* w) noexcept;

  // --- timers ---
  void add_timer(timer_node* n);
  bool remove_timer(timer_node* n) noexcept { return timers_.remove(n); }

  // --- called by complete_switch on the resumed side ---
  void requeue(worker* w, fiber* f) noexcept { put_local(w, f, false); }
  void requeue_global(fiber* f) noexcept;
  void release_fiber(worker* w, fiber* f) noexcept;

  void uncaught(const std::exception_ptr& e, const fiber* f) noexcept;

  poller& net_poller() noexcept { return poller_; }

  std::size_t worker_count() const noexcept { return workers_.size(); }
  std::size_t stack_size() const noexcept { return default_pool_.usable_size(); }
  std::vector<std::uint64_t> dispatch_counts() const;
  bool stopping() const noexcept { return stopping_.load(std::memory_order_relaxed); }

 private:
  void run_worker(worker* w);
  void run_monitor();
  fiber* find_runnable(worker* w);
  // The next fiber of w's own queues. Every global_poll_interval-th call also takes from the
  // global queue and fires due timers, unless !may_poll (a parking fiber, which may hold
  // locks that timer callbacks take): then it returns nullptr so that the park goes through
  // the scheduling loop, which polls.
  fiber* next_local(worker* w, bool may_poll = true) noexcept;
  [[noreturn]] static void unwind_torn_down();
  fiber* take_global(worker* w, std::size_t max) noexcept;
  fiber* steal_work(worker* w) noexcept;
  fiber* steal_runnext(worker* victim) noexcept;
  bool spin_for_work(worker* w) noexcept;
  bool poll_timers(worker* w) noexcept;
  // Non-blocking netpoll when fibers wait on descriptors; readied fibers go to w's run queue.
  bool poll_network(worker* w) noexcept;
  void park_worker(worker* w);
  /// Returns true if the fiber became stealable (was pushed to the run queue).
  bool put_local(worker* w, fiber* f, bool next) noexcept;
  // True when the queue was full and spilled half of itself (and f) to the global queue.
  bool push_tail(worker* w, fiber* f) noexcept;
  void wakep() noexcept;
  void reset_spinning(worker* w) noexcept;
  bool wake_idle(worker* target, bool spinning) noexcept;  // target == nullptr: any idle worker
  void dispatch(worker* w, fiber* f) noexcept;
  static void count_dispatch(worker* w) noexcept;
  stack_pool& pool_for(std::size_t stack_size);
  void teardown();

  // Lock order (docs/architecture.md): primitive locks -> channel locks (by address) -> global_
  // -> leaves (idle_mu_, timer_sleep_mu_, the timer heap's, the stack pools'). Timers fire only
  // from the scheduling loop with no lock held.
  options opts_;
  std::vector<std::unique_ptr<worker>> workers_;
  global_queue global_;
  timer_heap timers_;
  stack_pool default_pool_;
  std::mutex pools_mu_;
  std::map<std::size_t, std::unique_ptr<stack_pool>> pools_;  // non-default stack sizes

  // Idle workers (Go's pidle list) and spinning workers. npidle_ and nmspinning_ are read
  // without the lock by submitters after a seq_cst fence; see wakep() and park_worker().
  std::mutex idle_mu_;
  std::vector<worker*> idle_;
  std::atomic<std::int32_t> npidle_{0};
  std::atomic<std::int32_t> nmspinning_{0};

  poller poller_;

  // The sleeper: the one idle worker that blocks in the poller until the earliest timer while
  // timers are pending or fibers wait on descriptors; the other idle workers sleep on their
  // futex until woken.
  std::mutex timer_sleep_mu_;
  worker* timer_sleeper_ = nullptr;
  std::int64_t timer_sleeper_deadline_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::uint32_t> monitor_seq_{0};
  std::thread monitor_;
};

}  // namespace goro::detail
