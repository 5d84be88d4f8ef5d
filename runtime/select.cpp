// select (Go's selectgo): lock every channel of the select in address order, poll the cases in
// a random order and complete the first ready one; otherwise (no fallback case) enqueue one
// chan_waiter per case, all sharing one waiter and one select_state, and park releasing every
// lock after the switch. The first peer to win select_state::done completes its case; the
// others skip our waiters. Once woken, relock and take the losing waiters off their queues.
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

struct lockset {
  chan_core** chans;
  std::size_t n;
  void lock() noexcept {
    for (std::size_t i = 0; i < n; ++i) chans[i]->lock.lock();
  }
  void unlock() noexcept {
    for (std::size_t i = n; i-- > 0;) chans[i]->lock.unlock();
  }
  static void unlock_fn(void* p) noexcept { static_cast<lockset*>(p)->unlock(); }
};

// A hint read without the lock: may the case complete now?
bool looks_ready(const select_case& sc) noexcept {
  const chan_core* c = sc.c;
  if (c->closed.load(std::memory_order_relaxed)) return true;
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  if (sc.k == select_case::kind::send)
    return c->recvq.size.load(std::memory_order_relaxed) != 0 || n < c->cap;
  return c->sendq.size.load(std::memory_order_relaxed) != 0 || n != 0;
}

// Under sc.c's lock: completes the case if it can. 1: done (a peer to unpark may be in *wake);
// 0: not ready; -1: a send on a closed channel.
int try_case_locked(select_case& sc, waiter** wake) noexcept {
  if (sc.k == select_case::kind::send) {
    if (sc.c->closed.load(std::memory_order_relaxed)) return -1;
    return try_send_locked(sc.c, sc.elem, wake) ? 1 : 0;
  }
  recv_status st = try_recv_locked(sc.c, sc.elem, wake);
  if (st == recv_status::empty) return 0;
  sc.ok = st == recv_status::ok;
  return 1;
}

}  // namespace

std::size_t select_impl(select_case* cases, std::size_t n) {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t fallback = none;
  scratch<std::uint32_t> order(n);  // poll order: the active cases, shuffled
  scratch<chan_core*> chans(n);     // lock order: distinct channels by address
  std::size_t active = 0;
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
    ++active;
  }
  if (active == 0) {
    if (fallback != none) return fallback;
    block_forever();  // select {} or only nil channels
  }
  std::sort(chans.data(), chans.data() + active);
  lockset locks{chans.data(), static_cast<std::size_t>(
                                  std::unique(chans.data(), chans.data() + active) - chans.data())};

  // Fast pass: in poll order, try only the cases that look ready, locking one channel at a
  // time. Usually a case is ready and this is all a select costs.
  for (std::size_t k = 0; k < active; ++k) {
    select_case& sc = cases[order[k]];
    if (!looks_ready(sc)) continue;
    sc.c->lock.lock();
    waiter* wake = nullptr;
    int r = try_case_locked(sc, &wake);
    sc.c->lock.unlock();
    if (r < 0) throw channel_closed("goro: send on closed channel (in select)");
    if (r > 0) {
      if (wake) wake->unpark();
      return order[k];
    }
  }

  // Slow pass: all channels locked, so that no case can become ready unseen before we queue.
  locks.lock();
  for (std::size_t k = 0; k < active; ++k) {
    select_case& sc = cases[order[k]];
    waiter* wake = nullptr;
    int r = try_case_locked(sc, &wake);
    if (r == 0) continue;
    locks.unlock();
    if (r < 0) throw channel_closed("goro: send on closed channel (in select)");
    if (wake) wake->unpark();
    return order[k];
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
    (cases[i].k == select_case::kind::send ? cases[i].c->sendq : cases[i].c->recvq).push_back(&cw);
  }
  auto dequeue_all = [&] {
    locks.lock();
    for (std::size_t k = 0; k < active; ++k) {
      chan_waiter& cw = ws[order[k]];
      if (cw.queued)
        (cases[order[k]].k == select_case::kind::send ? cases[order[k]].c->sendq
                                                      : cases[order[k]].c->recvq)
            .remove(&cw);
    }
    locks.unlock();
  };
  try {
    w.park_unlocking(lockset::unlock_fn, &locks);
  } catch (...) {  // runtime teardown
    dequeue_all();
    throw;
  }
  dequeue_all();
  const std::size_t won = st.winner;
  if (cases[won].k == select_case::kind::send) {
    if (!ws[won].success) throw channel_closed("goro: send on closed channel (in select)");
  } else {
    cases[won].ok = ws[won].success;
  }
  return won;
}

}  // namespace goro::detail
