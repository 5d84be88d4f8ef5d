// select (Go's selectgo): lock every channel of the select in address order, poll the cases in
// a random order and complete the first ready one; otherwise (no fallback case) enqueue one
// chan_waiter per case, all sharing one waiter and one select_state, and park releasing every
// lock after the switch. The first peer to win select_state::done completes its case (an
// unbuffered one) or wakes us to retry it (a buffered one); the others skip our waiters. Once
// woken, relock and take the losing waiters off their queues.
#include <algorithm>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "channel_ops.hpp"
#include "goro/channel_closed.hpp"

namespace goro::detail {

std::uint32_t fast_random() noexcept;  // current.cpp

namespace {

// Small selects keep their scratch arrays on the stack.
constexpr std::size_t inline_cases = 16;

// Uninitialised storage for n trivially destructible Ts: the hot path writes only what it uses.
template <class T>
class scratch {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  explicit scratch(std::size_t n) {
    if (n > inline_cases) {
      heap_ = std::make_unique<storage[]>(n);
      p_ = reinterpret_cast<T*>(heap_.get());
    }
  }
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  T* data() noexcept { return p_; }

 private:
  struct storage {
    alignas(T) unsigned char bytes[sizeof(T)];  // NOLINT(bugprone-sizeof-expression): T may be a
                                                // pointer
  };
  storage local_[inline_cases];
  std::unique_ptr<storage[]> heap_;
  T* p_ = reinterpret_cast<T*>(local_);
};

// A runtime-sized set of locks: opaque to the thread-safety analysis.
struct lockset {
  chan_core** chans;
  std::size_t n;
  void lock() noexcept GORO_NO_THREAD_SAFETY_ANALYSIS {
    for (std::size_t i = 0; i < n; ++i) chans[i]->lock.lock();
  }
  void unlock() noexcept GORO_NO_THREAD_SAFETY_ANALYSIS {
    for (std::size_t i = n; i-- > 0;) chans[i]->lock.unlock();
  }
  static void unlock_fn(void* p) noexcept { static_cast<lockset*>(p)->unlock(); }
};

// A hint read without the lock: may the case complete now?
bool looks_ready(const select_case& sc) noexcept {
  const chan_core* c = sc.c;
  if (c->closed.load(std::memory_order_relaxed)) return true;
  const bool send = sc.k == select_case::kind::send;
  if (c->cap) return send ? c->ring().looks_nonfull() : c->ring().looks_nonempty();
  return (send ? c->recvq : c->sendq).size.load(std::memory_order_relaxed) != 0;
}

// Completes the case if it can: unbuffered under sc.c's lock (a peer to unpark after unlocking
// lands in *wake), buffered lock-free. 1: done; 0: not ready; -1: a send on a closed channel.
int attempt(select_case& sc, waiter** wake) noexcept {
  chan_core* c = sc.c;
  const bool send = sc.k == select_case::kind::send;
  if (c->cap) {
    chan_ring::status st = ring_attempt(c, send, sc.elem);
    if (st == chan_ring::status::blocked) return 0;
    if (send) return st == chan_ring::status::ok ? 1 : -1;
    sc.ok = st == chan_ring::status::ok;
    return 1;
  }
  if (send) {
    if (c->closed.load(std::memory_order_relaxed)) return -1;
    return try_send_locked(c, sc.elem, wake) ? 1 : 0;
  }
  recv_status st = try_recv_locked(c, sc.elem, wake);
  if (st == recv_status::empty) return 0;
  sc.ok = st == recv_status::ok;
  return 1;
}

// After attempt() returned r != 0 for case i, with no lock held: wakes the unbuffered peer, or
// one waiter of the other side of a buffered channel; throws for a send on a closed channel.
std::size_t finish(select_case* cases, std::size_t i, int r, waiter* wake) {
  if (r < 0) throw channel_closed("goro: send on closed channel (in select)");
  select_case& sc = cases[i];
  const bool send = sc.k == select_case::kind::send;
  if (wake) wake->unpark();
  else if (sc.c->cap && (send || sc.ok)) notify_other_side(sc.c, send);
  return i;
}

wait_queue& queue_of(select_case& sc) noexcept {
  return sc.k == select_case::kind::send ? sc.c->sendq : sc.c->recvq;
}

}  // namespace

std::size_t select_impl(select_case* cases, std::size_t n) {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t fallback = none;
  scratch<std::uint32_t> order(n);  // poll order: the active cases, shuffled
  scratch<chan_core*> chans(n);     // lock order: distinct channels by address
  std::size_t active = 0;
  bool any_buffered = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].k == select_case::kind::fallback) {
      fallback = i;
      continue;
    }
    if (!cases[i].c) continue;  // nil channel: never ready
    // Inside-out Fisher-Yates: every permutation equally likely. j = r * (active + 1) / 2^32 is
    // in [0, active] without a division (Lemire).
    std::size_t j = static_cast<std::size_t>((std::uint64_t{fast_random()} * (active + 1)) >> 32);
    order[active] = order[j];
    order[j] = static_cast<std::uint32_t>(i);
    chans[active] = cases[i].c;
    any_buffered |= cases[i].c->cap != 0;
    ++active;
  }
  if (active == 0) {
    if (fallback != none) return fallback;
    block_forever();  // select {} or only nil channels
  }
  std::sort(chans.data(), chans.data() + active);
  lockset locks{chans.data(), static_cast<std::size_t>(
                                  std::unique(chans.data(), chans.data() + active) - chans.data())};

  for (;;) {
    // Fast pass: in poll order, try only the cases that look ready, locking at most one
    // channel at a time. Usually a case is ready and this is all a select costs.
    for (std::size_t k = 0; k < active; ++k) {
      select_case& sc = cases[order[k]];
      if (!looks_ready(sc)) continue;
      waiter* wake = nullptr;
      int r;
      if (sc.c->cap) {
        r = attempt(sc, &wake);
      } else {
        sc.c->lock.lock();
        r = attempt(sc, &wake);
        sc.c->lock.unlock();
      }
      if (r != 0) return finish(cases, order[k], r, wake);
    }

    // Slow pass: all channels locked, so that no unbuffered case can become ready unseen
    // before we queue, and nobody can dequeue us while we still look.
    locks.lock();
    for (std::size_t k = 0; k < active; ++k) {
      // A blocking select tries its buffered cases after queueing, below.
      if (cases[order[k]].c->cap && fallback == none) continue;
      waiter* wake = nullptr;
      if (int r = attempt(cases[order[k]], &wake); r != 0) {
        locks.unlock();
        return finish(cases, order[k], r, wake);
      }
    }
    if (fallback != none) {
      locks.unlock();
      return fallback;
    }

    // Block on every channel at once.
    waiter w;
    select_state st;
    scratch<chan_waiter> ws(n);
    for (std::size_t k = 0; k < active; ++k) {
      std::uint32_t i = order[k];
      chan_waiter& cw = *::new (&ws[i]) chan_waiter();
      cw.w = &w;
      cw.elem = cases[i].elem;
      cw.sel = &st;
      cw.case_index = i;
      queue_of(cases[i]).push_back(&cw);
    }
    auto dequeue_locked = [&] {
      for (std::size_t k = 0; k < active; ++k)
        if (ws[order[k]].queued) queue_of(cases[order[k]]).remove(&ws[order[k]]);
    };
    if (any_buffered) {
      // A buffered push or pop that completed before we were queued did not wake us (see
      // queue_for_retry): look at the buffered cases once more.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      for (std::size_t k = 0; k < active; ++k) {
        select_case& sc = cases[order[k]];
        if (!sc.c->cap) continue;
        waiter* wake = nullptr;
        if (int r = attempt(sc, &wake); r != 0) {
          dequeue_locked();
          locks.unlock();
          return finish(cases, order[k], r, wake);
        }
      }
    }
    try {
      w.park_unlocking(lockset::unlock_fn, &locks);
    } catch (...) {  // runtime teardown
      locks.lock();
      dequeue_locked();
      const bool notified = st.done.load(std::memory_order_relaxed) != 0 &&
                            cases[st.winner].c->cap != 0 && ws[st.winner].success &&
                            !ws[st.winner].delivered;
      locks.unlock();
      // Pass on a buffered wakeup we can no longer use.
      if (notified) notify_one(cases[st.winner].c, queue_of(cases[st.winner]));
      throw;
    }
    locks.lock();
    dequeue_locked();
    locks.unlock();
    const std::size_t won = st.winner;
    select_case& sc = cases[won];
    if (sc.c->cap && ws[won].delivered) {  // a notifier did our push (pop), in queue order
      if (sc.k == select_case::kind::recv) sc.ok = true;
      return won;
    }
    if (sc.c->cap) {
      // Woken to retry this buffered case (a push, pop or close on it). Retry it first: the
      // wakeup was meant for its value (or room), which must not be left behind for a case
      // that happens to come earlier in the order while other waiters sleep.
      waiter* wake = nullptr;
      if (int r = attempt(sc, &wake); r != 0) return finish(cases, won, r, wake);
      continue;  // somebody else was faster: start over
    }
    if (sc.k == select_case::kind::send) {
      if (!ws[won].success) throw channel_closed("goro: send on closed channel (in select)");
    } else {
      sc.ok = ws[won].success;
    }
    return won;
  }
}

}  // namespace goro::detail
