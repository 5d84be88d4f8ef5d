#include "scheduler.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "futex.hpp"
#include "sanitizer.hpp"
#include "stack_overflow.hpp"

namespace goro::detail {
namespace {

// A fiber readied from runnext inherits the time slice of the fiber that readied it (Go); after
// this many consecutive runnext dispatches the slice is over and it goes behind the run queue,
// so a pair of fibers waking each other cannot starve the rest.
constexpr std::uint32_t max_runnext_streak = 64;
// Go checks the global queue every 61st schedule; so do we (and the timers).
constexpr std::uint32_t global_poll_interval = 61;
// How long a thief gives a busy victim to run its runnext fiber itself (Go: usleep(3)).
constexpr std::int64_t runnext_grace_ns = 3'000;
constexpr int steal_rounds = 4;
// How long a spinning worker keeps polling for work before parking its thread.
constexpr std::int64_t idle_spin_ns = 50'000;
constexpr std::uint64_t id_batch = 64;
// Monitor period while some worker is busy, and the longest back-off while all are idle.
constexpr std::int64_t monitor_busy_ns = 1'000'000;
constexpr std::int64_t monitor_idle_max_ns = 20'000'000;
constexpr std::int64_t monitor_netpoll_ns = 10'000'000;

std::size_t page_round(std::size_t n) {
  std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + p - 1) / p * p;
}

void thread_stack_bounds(fiber& ctx) noexcept {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* addr = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    ctx.stack_lo = static_cast<char*>(addr);
    ctx.stack_hi = static_cast<char*>(addr) + size;
  }
  pthread_attr_destroy(&attr);
}

void init_thread_context(fiber& ctx) noexcept {
  thread_stack_bounds(ctx);
#if GORO_TSAN
  ctx.tsan_fiber = __tsan_get_current_fiber();
#endif
}

}  // namespace

scheduler::scheduler(const options& opts)
    : opts_(opts), default_pool_(page_round(opts.stack_size)) {
  install_overflow_handler();
  workers_.reserve(opts.workers);
  for (std::size_t i = 0; i < opts.workers; ++i)
    workers_.push_back(std::make_unique<worker>(this, i));
  try {
    for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { run_worker(p); });
    monitor_ = std::thread([this] { run_monitor(); });
  } catch (...) {
    teardown();
    throw;
  }
}

scheduler::~scheduler() { teardown(); }

// ---------------------------------------------------------------------------------------------
// Spawning

stack_pool& scheduler::pool_for(std::size_t stack_size) {
  std::size_t usable = page_round(stack_size);
  if (usable == default_pool_.usable_size()) return default_pool_;
  std::lock_guard lk(pools_mu_);
  auto& p = pools_[usable];
  if (!p) p = std::make_unique<stack_pool>(usable);
  return *p;
}

scheduler::allocation scheduler::allocate(std::size_t stack_size, std::size_t fn_size,
                                          std::size_t fn_align) {
  worker* w = current_worker();
  if (w && w->sched != this) w = nullptr;
  stack_pool& pool = stack_size == 0 ? default_pool_ : pool_for(stack_size);
  fiber* f;
  if (&pool == &default_pool_ && w) {
    if (w->stack_cached == 0)
      w->stack_cached = pool.acquire(w->stack_cache, worker::stack_cache_cap / 2);
    f = w->stack_cache[--w->stack_cached];
  } else {
    pool.acquire(&f, 1);
  }
  GORO_ASSERT(run_state_of(f) == fiber::run_state::idle ||
              run_state_of(f) == fiber::run_state::dead);
  set_run_state(f, fiber::run_state::idle);
  f->sched = this;
  f->state = fiber::slot_state::live;
  f->started = f->unwinding = f->finished = false;
  // A finished fiber left no exception state (its last switch saved the thread's, empty once
  // fiber_entry's handlers are done), so a reused slot needs no reset.
  GORO_ASSERT(f->eh.caught == nullptr && f->eh.uncaught == 0);
  if (w) {
    if (w->id_next == w->id_end) {
      w->id_next = next_id_.fetch_add(id_batch, std::memory_order_relaxed);
      w->id_end = w->id_next + id_batch;
    }
    f->id = w->id_next++;
  } else {
    f->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  }
#if GORO_ASAN
  __asan_unpoison_memory_region(f->stack_lo, static_cast<std::size_t>(f->stack_hi - f->stack_lo));
#endif
  auto top = reinterpret_cast<std::uintptr_t>(f->stack_hi);
  std::uintptr_t align = std::max<std::size_t>(fn_align, 16);
  std::uintptr_t storage = (top - fn_size) & ~(align - 1);
  auto* sp = reinterpret_cast<char*>(storage & ~std::uintptr_t{15});
  f->ctx = bctx::make_fcontext(sp, static_cast<std::size_t>(sp - f->stack_lo), fiber_entry);
#if GORO_TSAN
  f->tsan_fiber = __tsan_create_fiber(0);
#endif
  return {f, reinterpret_cast<void*>(storage)};
}

bool scheduler::launch(fiber* f, void (*invoke)(void*), void (*destroy)(void*), void* fn) noexcept {
  f->invoke = invoke;
  f->destroy = destroy;
  f->fn = fn;
  GORO_ASSERT(run_state_of(f) == fiber::run_state::idle);
  set_run_state(f, fiber::run_state::runnable);
  worker* w = current_worker();
  bool spilled = false;
  if (w && w->sched == this && w->current != &w->sched_ctx) {
    // Go's newproc: the new fiber runs next, the spawner's slot is stolen.
    f = w->runnext.exchange(f, std::memory_order_acq_rel);
    if (f) spilled = push_tail(w, f) && !w->in_timers;  // a timer callback cannot yield
  } else {
    global_.push(f);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  wakep();
  return spilled;
}

void scheduler::discard(fiber* f) noexcept {
  worker* w = current_worker();
  release_fiber(w && w->sched == this ? w : nullptr, f);
}

void scheduler::release_fiber(worker* w, fiber* f) noexcept {
#if GORO_TSAN
  if (f->tsan_fiber) __tsan_destroy_fiber(f->tsan_fiber);
  f->tsan_fiber = nullptr;
#endif
  f->state = fiber::slot_state::free;
  set_run_state(f, fiber::run_state::dead);
  if (w && f->pool == &default_pool_) {
    if (w->stack_cached == worker::stack_cache_cap) {
      constexpr std::size_t half = worker::stack_cache_cap / 2;
      default_pool_.release(w->stack_cache + half, half);
      w->stack_cached = half;
    }
    w->stack_cache[w->stack_cached++] = f;
  } else {
    f->pool->release(&f, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Run queues

bool scheduler::push_tail(worker* w, fiber* f) noexcept {
  GORO_ASSERT(w == current_worker());  // a run queue is pushed by its owner only
  while (!w->runq.push(f)) {
    // Full: move half of it and f to the global queue in one batch (Go's runqputslow).
    fiber* batch[run_queue::capacity / 2 + 1];
    std::uint32_t n = w->runq.grab(batch, run_queue::capacity / 2);
    if (n == 0) continue;  // thieves emptied it meanwhile
    batch[n++] = f;
    global_.push(batch, n);
    return true;
  }
  return false;
}

bool scheduler::put_local(worker* w, fiber* f, bool next) noexcept {
  if (next) {
    f = w->runnext.exchange(f, std::memory_order_acq_rel);
    if (!f) return false;  // only this worker will run it: nothing new to steal
  }
  push_tail(w, f);
  return true;
}

void scheduler::ready(fiber* f) noexcept {
  GORO_ASSERT(run_state_of(f) == fiber::run_state::parked);  // only an unpark readies
  set_run_state(f, fiber::run_state::runnable);
  worker* w = current_worker();
  bool stealable = true;
  if (w && w->sched == this) {
    bool in_fiber = w->current != &w->sched_ctx && !w->in_timers;
    stealable = put_local(w, f, in_fiber);
  } else {
    global_.push(f);
  }
  // A fiber placed in runnext is not worth a wakeup: the running worker takes it at its next
  // scheduling point, and the monitor hands it to an idle worker if that point does not come.
  if (stealable) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    wakep();
  }
}

// Takes one fiber to run and, up to `max`, more of the global queue for the local one (Go's
// globrunqget); never more than fits, or the surplus would spill straight back.
fiber* scheduler::take_global(worker* w, std::size_t max) noexcept {
  if (global_.empty()) return nullptr;
  fiber* got[run_queue::capacity / 2 + 1];
  const std::size_t room = run_queue::capacity - w->runq.size();
  const std::size_t n = global_.pop(got, std::min({max, room + 1, std::size(got)}));
  if (n == 0) return nullptr;
  for (std::size_t i = 1; i < n; ++i) push_tail(w, got[i]);
  return got[0];
}

fiber* scheduler::next_local(worker* w, bool may_poll) noexcept {
  if (stopping_.load(std::memory_order_relaxed)) return nullptr;
  std::uint32_t tick = w->schedtick.load(std::memory_order_relaxed) + 1;
  w->schedtick.store(tick, std::memory_order_relaxed);
  if (tick % global_poll_interval == 0) w->poll_due = true;
  if (w->poll_due) {
    // A parking fiber may still hold locks (its channels', a primitive's) that a timer callback
    // takes: it would wait for them on this very thread. The park then goes through the
    // scheduling loop, which polls with nothing held.
    if (!may_poll) return nullptr;
    w->poll_due = false;
    if (fiber* f = take_global(w, 1)) return f;
    poll_timers(w);
    poll_network(w);  // a worker that never runs dry still sees its sockets
  }
  fiber* f = w->runnext.load(std::memory_order_relaxed);
  if (f) {
    if (w->runnext_streak < max_runnext_streak) {
      if (w->runnext.compare_exchange_strong(f, nullptr, std::memory_order_acquire)) {
        ++w->runnext_streak;
        return f;
      }
    } else if ((f = w->runnext.exchange(nullptr, std::memory_order_acquire))) {
      push_tail(w, f);  // its inherited time slice is used up
    }
  }
  w->runnext_streak = 0;
  return w->runq.pop();
}

bool scheduler::poll_timers(worker* w) noexcept {
  std::int64_t next = timers_.next_deadline();
  if (next == timer_heap::none) return false;
  std::int64_t now = monotonic_ns();
  if (next > now) return false;
  w->in_timers = true;
  std::size_t n = timers_.run_expired(now);
  w->in_timers = false;
  return n > 0;
}

bool scheduler::poll_network(worker* w) noexcept {
  if (poller_.waiting() == 0) return false;
  w->in_timers = true;  // like timers: readied fibers queue behind, never in runnext
  int n = poller_.poll(0);
  w->in_timers = false;
  return n > 0;
}

// ---------------------------------------------------------------------------------------------
// Stealing and idling (Go's findRunnable / wakep / stopm discipline)

fiber* scheduler::steal_runnext(worker* v) noexcept {
  fiber* f = v->runnext.load(std::memory_order_acquire);
  if (!f) return nullptr;
  // Only from a worker stuck on one fiber: give it a moment to schedule f itself, so that a
  // ping-pong pair is not torn apart.
  std::uint32_t tick = v->schedtick.load(std::memory_order_relaxed);
  std::int64_t until = monotonic_ns() + runnext_grace_ns;
  while (monotonic_ns() < until) {
    if (v->schedtick.load(std::memory_order_relaxed) != tick) return nullptr;
    cpu_relax();
  }
  if (v->runnext.compare_exchange_strong(f, nullptr, std::memory_order_acq_rel)) return f;
  return nullptr;
}

fiber* scheduler::steal_work(worker* w) noexcept {
  const std::size_t n = workers_.size();
  fiber* batch[run_queue::capacity / 2];
  for (int round = 0; round < steal_rounds; ++round) {
    const bool last = round == steal_rounds - 1;
    std::size_t start = w->next_random() % n;
    for (std::size_t i = 0; i < n; ++i) {
      worker* v = workers_[(start + i) % n].get();
      if (v == w) continue;
      if (stopping_.load(std::memory_order_relaxed)) return nullptr;
      std::uint32_t got = v->runq.grab(batch, run_queue::capacity / 2);
      if (got) {
        for (std::uint32_t k = 1; k < got; ++k) push_tail(w, batch[k]);
        return batch[0];
      }
      if (last) {
        if (fiber* f = steal_runnext(v)) return f;
      }
    }
    if (fiber* f = take_global(w, run_queue::capacity / 2)) return f;
  }
  return nullptr;
}

bool scheduler::spin_for_work(worker* w) noexcept {
  const std::int64_t until = monotonic_ns() + idle_spin_ns;
  // While fibers wait on descriptors, the spin yields the CPU between checks instead of
  // pausing: the peer that will send the next request (on this machine, a client or a load
  // generator) runs at once if it is waiting for this CPU, and otherwise the CPU stays awake,
  // so a request that comes within the spin is served without waking a sleeping thread (and,
  // on a VM, an idle virtual CPU). Measured (bench/net, echo, 2 workers): a pausing spin took
  // CPU from the generator (100 connections: ~100k req/s), no spin paid the wake-up on every
  // request (1 connection: ~14k req/s, p50 80 us); the yielding spin gave ~137k and ~39k.
  const bool net = poller_.waiting() > 0;
  do {
    if (net) sched_yield();
    else
      for (int i = 0; i < 64; ++i) cpu_relax();
    if (stopping_.load(std::memory_order_relaxed) || !global_.empty()) return true;
    for (auto& v : workers_)
      if (v.get() != w && !v->runq.empty()) return true;
    if (timers_.next_deadline() != timer_heap::none && poll_timers(w)) return true;
    if (poll_network(w)) return true;
  } while (monotonic_ns() < until);
  return false;
}

void scheduler::reset_spinning(worker* w) noexcept {
  w->spinning = false;
  nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
  // We found work: there may be more, and nobody else may be looking (Go's resetspinning).
  wakep();
}

// Called after publishing work and a seq_cst fence: wakes an idle worker, as a spinner, unless
// one is spinning already (it will find the work, and wakes another if it finds some).
void scheduler::wakep() noexcept {
  if (npidle_.load(std::memory_order_seq_cst) == 0) return;
  if (nmspinning_.load(std::memory_order_seq_cst) != 0) return;
  std::int32_t zero = 0;
  if (!nmspinning_.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) return;
  if (stopping_.load(std::memory_order_relaxed) || !wake_idle(nullptr, true))
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
}

bool scheduler::wake_idle(worker* target, bool spinning) noexcept {
  worker* v = nullptr;
  bool in_poll = false;
  {
    std::lock_guard lk(idle_mu_);
    if (target) {
      if (!target->idle_listed) return false;
      idle_.erase(std::find(idle_.begin(), idle_.end(), target));
      v = target;
    } else {
      if (idle_.empty()) return false;
      v = idle_.back();
      idle_.pop_back();
    }
    v->idle_listed = false;
    v->handed_spinning = spinning;
    in_poll = v->in_poll;
    npidle_.fetch_sub(1, std::memory_order_seq_cst);
  }
  if (in_poll) {
    poller_.wake();
    return true;
  }
  v->wake_seq.fetch_add(1, std::memory_order_release);
  futex_wake(&v->wake_seq);
  return true;
}

void scheduler::park_worker(worker* w) {
  {
    std::lock_guard lk(idle_mu_);
    idle_.push_back(w);
    w->idle_listed = true;
    npidle_.fetch_add(1, std::memory_order_seq_cst);
  }
  const bool was_spinning = w->spinning;
  if (was_spinning) {
    w->spinning = false;
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Re-check after becoming visible as idle (Go's "delicate dance"): a submitter that read
  // npidle/nmspinning before our update published its work before that, so we see it here.
  bool work = stopping_.load(std::memory_order_relaxed) || !global_.empty() ||
              timers_.next_deadline() <= monotonic_ns();
  for (std::size_t i = 0; !work && i < workers_.size(); ++i)
    work = workers_[i].get() != w && !workers_[i]->runq.empty();

  if (!work) {
    bool sleeper = false;
    std::int64_t deadline = -1;
    {
      std::lock_guard lk(timer_sleep_mu_);
      std::int64_t d = timers_.next_deadline();
      if (!timer_sleeper_ && (d != timer_heap::none || poller_.waiting() > 0)) {
        timer_sleeper_ = w;
        timer_sleeper_deadline_ = d;
        sleeper = true;
        deadline = d == timer_heap::none ? -1 : d;
      }
    }
    // The sleeper blocks in the poller: socket readiness and the earliest timer both end its
    // wait, and a waker that finds it there (in_poll, under idle_mu_) signals the poller's
    // eventfd instead of the futex. Events it delivers go to its own run queue (still listed
    // as idle, it wakes a spinner for them through wakep).
    bool polled = false;
    if (sleeper) {
      bool block;
      {
        std::lock_guard lk(idle_mu_);
        block = w->idle_listed && !stopping_.load(std::memory_order_relaxed);
        w->in_poll = block;
      }
      if (block) {
        w->in_timers = true;
        poller_.poll(deadline < 0 ? -1 : std::max<std::int64_t>(deadline, 1));
        w->in_timers = false;
        std::lock_guard lk(idle_mu_);
        w->in_poll = false;
      }
      polled = true;
    }
    for (; !polled;) {
      std::uint32_t seq = w->wake_seq.load(std::memory_order_acquire);
      {
        std::lock_guard lk(idle_mu_);
        if (!w->idle_listed) break;
      }
      if (stopping_.load(std::memory_order_relaxed)) break;
      if (deadline >= 0 && monotonic_ns() >= deadline) break;
      futex_wait(&w->wake_seq, seq, deadline);
    }
    if (sleeper) {
      std::lock_guard lk(timer_sleep_mu_);
      if (timer_sleeper_ == w) timer_sleeper_ = nullptr;
    }
  }

  std::lock_guard lk(idle_mu_);
  if (w->idle_listed) {  // work seen, timer due or stopping: leave the idle list ourselves
    idle_.erase(std::find(idle_.begin(), idle_.end(), w));
    w->idle_listed = false;
    npidle_.fetch_sub(1, std::memory_order_seq_cst);
    if (work && was_spinning) {
      w->spinning = true;
      nmspinning_.fetch_add(1, std::memory_order_seq_cst);
    }
  } else {  // a waker took us off the list and decided whether we spin
    w->spinning = w->handed_spinning;
    w->handed_spinning = false;
  }
}

fiber* scheduler::find_runnable(worker* w) {
  for (;;) {
    if (fiber* f = next_local(w)) return f;
    if (stopping_.load(std::memory_order_relaxed)) return nullptr;
    if (poll_timers(w)) continue;
    if (fiber* f = take_global(w, run_queue::capacity / 2)) return f;
    if (poll_network(w)) continue;  // before stealing, like Go's findRunnable
    // Spin (steal) only while spinners are fewer than half the busy workers (Go).
    const auto busy =
        static_cast<std::int32_t>(workers_.size()) - npidle_.load(std::memory_order_relaxed);
    if (w->spinning || 2 * nmspinning_.load(std::memory_order_relaxed) < busy) {
      if (!w->spinning) {
        w->spinning = true;
        nmspinning_.fetch_add(1, std::memory_order_seq_cst);
      }
      if (fiber* f = steal_work(w)) return f;
      // Waking a parked thread costs tens of microseconds: poll a little longer first.
      if (spin_for_work(w)) continue;
    }
    park_worker(w);
  }
}

// ---------------------------------------------------------------------------------------------
// Worker threads and switching

// Statistics only; written by the owning worker alone, so no read-modify-write is needed.
void scheduler::count_dispatch(worker* w) noexcept {
  w->dispatches.store(w->dispatches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void scheduler::dispatch(worker* w, fiber* f) noexcept {
  count_dispatch(w);
  switch_record rec{w, &w->sched_ctx, f};
  switch_context(rec);
}

void scheduler::run_worker(worker* w) {
  set_current_worker(w);
  init_thread_context(w->sched_ctx);
  w->eh_globals = thread_exception_state();
  void* altstack = prepare_signal_stack();
  w->current = &w->sched_ctx;
  while (fiber* f = find_runnable(w)) {
    if (w->spinning) reset_spinning(w);
    dispatch(w, f);
  }
  release_signal_stack(altstack);
  set_current_worker(nullptr);
}

worker* scheduler::park_current(worker* w, std::atomic<std::uint32_t>* state, void (*unlock)(void*),
                                void* lock) noexcept {
  fiber* next = next_local(w, false);  // no timers here: see next_local
  switch_record rec{w,      w->current, next ? next : &w->sched_ctx, after_switch::park, state,
                    unlock, lock};
  if (next) count_dispatch(w);
  return switch_context(rec);
}

void scheduler::yield_current(worker* w, bool behind_global) {
  fiber* self = w->current;
  if (stopping()) {
    // Let the worker exit even if this fiber only ever yields; teardown resumes it to unwind.
    if (!self->unwinding) {
      switch_record rec{w, self, &w->sched_ctx, after_switch::requeue};
      switch_context(rec);
    }
  } else {
    fiber* next = next_local(w);
    if (!next) next = take_global(w, 1);
    if (!next) return;  // nothing else to run here: keep going
    count_dispatch(w);
    switch_record rec{w, self, next,
                      behind_global ? after_switch::requeue_global : after_switch::requeue};
    switch_context(rec);
  }
  unwind_if_torn_down(self);
}

// A fiber resumed by teardown (parked or queued): unwind now rather than run on. While another
// exception propagates (blocking in a destructor) throwing would terminate and returning would
// look like a wakeup: the fiber is abandoned instead (never resumed; its stack is released with
// the runtime).
void scheduler::unwind_torn_down() {
  if (std::uncaught_exceptions() == 0) throw fiber_unwind{};
  worker* w = current_worker();
  w->sched->abandon_current(w);
}

void scheduler::requeue_global(fiber* f) noexcept {
  global_.push(f);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  wakep();
}

void scheduler::abandon_current(worker* w) noexcept {
  switch_record rec{w, w->current, &w->sched_ctx};
  switch_context(rec);
  std::abort();  // unreachable: teardown never resumes an abandoned fiber
}

void scheduler::exit_current(worker* w, fiber* self) noexcept {
  fiber* next = next_local(w);
  if (next) count_dispatch(w);
  switch_record rec{w, self, next ? next : &w->sched_ctx, after_switch::release};
  switch_context(rec);
  std::abort();  // unreachable: a released fiber is never resumed
}

// ---------------------------------------------------------------------------------------------
// Timers

void scheduler::add_timer(timer_node* n) {
  if (!timers_.add(n)) return;  // not the earliest: whoever sleeps for timers wakes earlier
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (npidle_.load(std::memory_order_seq_cst) == 0) return;  // busy workers poll the timers
  worker* target;
  {
    std::lock_guard lk(timer_sleep_mu_);
    if (timer_sleeper_ && timer_sleeper_deadline_ <= n->when_ns) return;
    target = timer_sleeper_;
  }
  // Wake the timer sleeper to re-arm earlier, or any idle worker to become the sleeper.
  if (!target || !wake_idle(target, false)) wake_idle(nullptr, false);
}

// ---------------------------------------------------------------------------------------------
// Monitor: the backstop for fibers left in the runnext slot or run queue of a worker that is
// stuck running one fiber, while other workers idle (Go's sysmon retake, minus preemption).

void scheduler::run_monitor() {
  std::vector<std::uint32_t> last(workers_.size());
  std::int64_t delay = monitor_busy_ns;
  while (!stopping_.load(std::memory_order_acquire)) {
    std::uint32_t seq = monitor_seq_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) break;
    futex_wait(&monitor_seq_, seq, monotonic_ns() + delay);
    // Busy workers poll the network only at their 61st dispatch or when they run dry: if none
    // has for a while, poll for them (Go's sysmon does the same); readied fibers go global.
    if (poller_.waiting() > 0 && !poller_.blocked() &&
        monotonic_ns() - poller_.last_poll() > monitor_netpoll_ns)
      poller_.poll(0);
    if (npidle_.load(std::memory_order_relaxed) == static_cast<std::int32_t>(workers_.size())) {
      delay = std::min(delay * 2, monitor_idle_max_ns);
      continue;
    }
    delay = monitor_busy_ns;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      worker* v = workers_[i].get();
      std::uint32_t tick = v->schedtick.load(std::memory_order_relaxed);
      bool waiting = v->runnext.load(std::memory_order_relaxed) || !v->runq.empty();
      if (tick == last[i] && waiting) wakep();
      last[i] = tick;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

void scheduler::uncaught(const std::exception_ptr& e, const fiber* f) noexcept {
  if (opts_.on_uncaught) {
    try {
      opts_.on_uncaught(e);
      return;
    } catch (...) {
      std::fprintf(stderr, "goro: the uncaught-exception handler threw\n");
      std::abort();
    }
  }
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  std::fprintf(stderr, "goro: fatal error: uncaught exception in fiber %llu: %s\n",
               static_cast<unsigned long long>(f->id), what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::vector<std::uint64_t> scheduler::dispatch_counts() const {
  std::vector<std::uint64_t> v;
  for (auto& w : workers_) v.push_back(w->dispatches.load(std::memory_order_relaxed));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Teardown: stop and join the workers, then resume every unfinished fiber once on this thread
// with `unwinding` set, so that its blocking call throws fiber_unwind and its stack unwinds. A
// fiber that blocks again while unwinding is abandoned; never-started fibers just have their
// callable destroyed. Finally the stacks are unmapped with the pools.

void scheduler::teardown() {
  stopping_.store(true, std::memory_order_seq_cst);
  for (auto& w : workers_) {
    wake_idle(w.get(), false);
    w->wake_seq.fetch_add(1, std::memory_order_release);
    futex_wake(&w->wake_seq);
  }
  poller_.wake();
  monitor_seq_.fetch_add(1, std::memory_order_release);
  futex_wake(&monitor_seq_);
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (monitor_.joinable()) monitor_.join();
  if (workers_.empty()) return;

  worker* w0 = workers_[0].get();
  worker* saved = current_worker();
  set_current_worker(w0);
  init_thread_context(w0->sched_ctx);
  w0->eh_globals = thread_exception_state();  // this thread's, not the worker thread's
  w0->current = &w0->sched_ctx;
  auto unwind = [&](fiber* f) {
    if (f->state != fiber::slot_state::live) return false;
    if (!f->started) {
      f->destroy(f->fn);
      release_fiber(w0, f);
      return true;
    }
    if (f->unwinding) return false;  // abandoned: blocked again while unwinding
    f->unwinding = true;
    switch_record rec{w0, &w0->sched_ctx, f};
    switch_context(rec);
    return true;
  };
  // Unwinding may spawn or finish other fibers: repeat until a pass changes nothing.
  for (bool again = true; again;) {
    again = false;
    default_pool_.for_each_slot([&](fiber* f) { again |= unwind(f); });
    for (auto& [size, pool] : pools_) pool->for_each_slot([&](fiber* f) { again |= unwind(f); });
  }
#if GORO_TSAN
  auto drop_tsan = [](fiber* f) {
    if (f->state == fiber::slot_state::live && f->tsan_fiber) __tsan_destroy_fiber(f->tsan_fiber);
  };
  default_pool_.for_each_slot(drop_tsan);
  for (auto& [size, pool] : pools_) pool->for_each_slot(drop_tsan);
#endif
  set_current_worker(saved);
}

}  // namespace goro::detail
