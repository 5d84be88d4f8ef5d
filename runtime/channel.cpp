// Channel operations (Go's chan.go). Unbuffered: one short critical section per operation; a
// sender that finds a parked receiver hands the value over directly (and the receiver runs next
// on the sender's worker), and parking releases the channel lock only after the switch.
// Buffered: the lock-free ring (chan_ring.hpp), with the lock only around the wait queues.
#include <cstdlib>
#include <new>

#include "channel_ops.hpp"
#include "goro/channel_closed.hpp"

namespace goro::detail {

chan_core* chan_make(const elem_ops* ops, std::size_t elem_align, std::size_t cap) {
  if (cap > (std::size_t{1} << 40) / (ops->size ? ops->size : 1))
    throw std::length_error("goro: make_chan capacity too large");
  if (cap == 0) {
    auto* c = ::new (::operator new(sizeof(chan_core))) chan_core();
    c->ops = ops;
    return c;
  }
  // Buffered: core, ring, then the slots, each an 8-byte stamp and the element at its alignment.
  const std::size_t slot_align = elem_align > 8 ? elem_align : 8;
  const std::size_t elem_offset = (8 + elem_align - 1) / elem_align * elem_align;
  const std::size_t stride = (elem_offset + ops->size + slot_align - 1) / slot_align * slot_align;
  const std::size_t align = slot_align > alignof(chan_ring) ? slot_align : alignof(chan_ring);
  const std::size_t slots_offset =
      (chan_core::ring_offset() + sizeof(chan_ring) + slot_align - 1) / slot_align * slot_align;
  char* mem =
      static_cast<char*>(::operator new (slots_offset + cap * stride, std::align_val_t{align}));
  auto* c = ::new (mem) chan_core();
  c->cap = cap;
  c->ops = ops;
  c->alloc_align = align;
  ::new (mem + chan_core::ring_offset()) chan_ring();
  c->ring().init(cap, mem + slots_offset, stride, elem_offset);
  return c;
}

void chan_release(chan_core* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const std::size_t align = c->alloc_align;
  if (c->cap) {
    c->ring().destroy_all(c->ops);
    c->ring().~chan_ring();
  }
  c->~chan_core();
  if (align) ::operator delete (static_cast<void*>(c), std::align_val_t{align});
  else ::operator delete(static_cast<void*>(c));
}

namespace {
// Under the lock: may this waiter complete? A plain one may; a select's waiter only if this wins
// its select (false: already won on another channel, the waiter is stale).
bool claim(chan_waiter* s) noexcept {
  if (!s->sel) return true;
  std::uint32_t expected = 0;
  if (!s->sel->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) return false;
  s->sel->winner = s->case_index;
  return true;
}
}  // namespace

chan_waiter* dequeue(wait_queue& q) noexcept {
  while (chan_waiter* s = q.head) {
    q.remove(s);
    if (claim(s)) return s;  // else stale: drop it and look further
  }
  return nullptr;
}

bool try_send_locked(chan_core* c, void* src, waiter** wake) noexcept {
  if (chan_waiter* r = dequeue(c->recvq)) {
    c->ops->direct(r->elem, src);
    r->success = true;
    *wake = r->w;
    return true;
  }
  return false;
}

recv_status try_recv_locked(chan_core* c, void* dst, waiter** wake) noexcept {
  if (chan_waiter* s = dequeue(c->sendq)) {
    c->ops->direct(dst, s->elem);
    s->success = true;
    *wake = s->w;
    return recv_status::ok;
  }
  return c->closed.load(std::memory_order_relaxed) ? recv_status::closed : recv_status::empty;
}

// Buffered: a push or pop just completed; serve the first waiter of q, the other side. Its own
// push (pop) is done for it here, under the lock, so that blocked senders' values enter the ring
// in the order they queued and blocked receivers take values in theirs (Go's chan.go hands
// over under the lock the same way). A plain waiter stays queued, unwoken, if the ring op fails
// (someone not queued was faster): its size stays counted, so the push or pop that makes the op
// possible again calls us and finds it. A select waiter must be claimed before its op, so it is
// woken to retry instead. A delivery is itself a push (pop): the other side is served in turn,
// in the same critical section (nobody can queue meanwhile, so the chain is bounded by the
// queues' lengths), and the served waiters are woken after unlocking. *c is not touched after
// the first unpark: a woken party may drop the last handle.
void notify_one(chan_core* c, wait_queue& q) noexcept {
  // seq_cst: pairs with the waiter's "enlarge size, fence, retry" (see chan_ring::push).
  if (q.size.load(std::memory_order_seq_cst) == 0) return;
  chan_waiter* woken = nullptr;
  c->lock.lock();
  for (wait_queue* cur = &q; cur;) {
    const bool send = cur == &c->sendq;
    // The head: stale select waiters are dropped, so that a plain waiter behind them is served
    // as the head it is; a live select's waiter is claimed before its op, so it leaves the queue
    // even if the op fails (it is then woken to retry); a plain waiter leaves only if it does not.
    chan_waiter* s;
    while ((s = cur->head) && !claim(s)) cur->remove(s);
    chan_ring::status st = chan_ring::status::blocked;
    if (s) {
      st = ring_attempt(c, send, s->elem);
      if (s->sel || st != chan_ring::status::blocked) cur->remove(s);
      else s = nullptr;  // stays queued and counted
    }
    const bool delivered = st == chan_ring::status::ok;
    if (s) {
      s->success = true;  // not delivered: retry (and find the channel closed)
      s->delivered = delivered;
      s->next = woken;
      woken = s;
    }
    cur = delivered ? (send ? &c->recvq : &c->sendq) : nullptr;
  }
  c->lock.unlock();
  while (woken) {
    chan_waiter* next = woken->next;  // read before unpark: *woken may vanish after it
    woken->w->unpark();
    woken = next;
  }
}

void queue_for_retry(wait_queue& q, chan_waiter& s) noexcept {
  q.push_back(&s);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

namespace {

[[noreturn]] void throw_send_closed() { throw channel_closed("goro: send on closed channel"); }

// Parks with `s` queued in `q` and c's lock held, releasing the lock after the switch. If the
// runtime is torn down meanwhile, takes `s` off the queue (or passes on the buffered wakeup it
// was given) before the unwind continues.
void park_queued(chan_core* c, wait_queue& q, chan_waiter& s)
    GORO_RELEASE(c->lock) GORO_NO_THREAD_SAFETY_ANALYSIS {  // c->lock is released by the switch
  try {
    s.w->park_unlocking(spin_mutex::unlock_fn, &c->lock);
  } catch (...) {
    c->lock.lock();
    const bool notified = !s.queued && s.success && !s.delivered;
    if (s.queued) q.remove(&s);
    c->lock.unlock();
    if (notified && c->cap) notify_one(c, q);  // pass on a wakeup we can no longer use
    throw;
  }
}

// Buffered channels: try the ring; when it is full (empty), queue up, try once more (a pop or
// push that completed before we were queued did not see us), and park until a pop (push) or a
// close wakes us to retry. The retry under the lock cannot race with a wakeup: wakers dequeue
// under the same lock. Returns ok or closed.
template <bool send>
chan_ring::status buffered_op(chan_core* c, void* elem) {
  wait_queue& mine = send ? c->sendq : c->recvq;
  for (;;) {
    chan_ring::status st = ring_attempt(c, send, elem);
    if (st == chan_ring::status::blocked) {
      waiter w;
      chan_waiter s;
      s.w = &w;
      s.elem = elem;  // a notifier may do our push (pop) for us
      c->lock.lock();
      queue_for_retry(mine, s);
      st = ring_attempt(c, send, elem);
      if (st == chan_ring::status::blocked) {
        park_queued(c, mine, s);
        if (s.delivered) return chan_ring::status::ok;  // the other side is notified too
        continue;
      }
      mine.remove(&s);
      c->lock.unlock();
    }
    if (st == chan_ring::status::ok) notify_other_side(c, send);
    return st;
  }
}

}  // namespace

void chan_send(chan_core* c, void* src) {
  if (c->cap) {
    if (buffered_op<true>(c, src) == chan_ring::status::closed) throw_send_closed();
    return;
  }
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw_send_closed();
  }
  waiter* wake = nullptr;
  if (try_send_locked(c, src, &wake)) {
    c->lock.unlock();
    wake->unpark();
    return;
  }
  waiter w;
  chan_waiter s;
  s.w = &w;
  s.elem = src;
  c->sendq.push_back(&s);
  park_queued(c, c->sendq, s);
  if (!s.success) throw_send_closed();  // woken by close
}

bool chan_try_send(chan_core* c, void* src) {
  if (c->cap) {
    chan_ring::status st = ring_attempt(c, true, src);
    if (st == chan_ring::status::closed) throw_send_closed();
    if (st == chan_ring::status::blocked) return false;
    notify_other_side(c, true);
    return true;
  }
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw_send_closed();
  }
  waiter* wake = nullptr;
  bool sent = try_send_locked(c, src, &wake);
  c->lock.unlock();
  if (wake) wake->unpark();
  return sent;
}

bool chan_recv(chan_core* c, void* dst) {
  if (c->cap) return buffered_op<false>(c, dst) == chan_ring::status::ok;
  c->lock.lock();
  waiter* wake = nullptr;
  recv_status st = try_recv_locked(c, dst, &wake);
  if (st != recv_status::empty) {
    c->lock.unlock();
    if (wake) wake->unpark();
    return st == recv_status::ok;
  }
  waiter w;
  chan_waiter r;
  r.w = &w;
  r.elem = dst;
  c->recvq.push_back(&r);
  park_queued(c, c->recvq, r);
  return r.success;
}

recv_status chan_try_recv(chan_core* c, void* dst) {
  if (c->cap) {
    switch (ring_attempt(c, false, dst)) {
      case chan_ring::status::ok:
        notify_other_side(c, false);
        return recv_status::ok;
      case chan_ring::status::closed:
        return recv_status::closed;
      case chan_ring::status::blocked:
        break;
    }
    return recv_status::empty;
  }
  c->lock.lock();
  waiter* wake = nullptr;
  recv_status st = try_recv_locked(c, dst, &wake);
  c->lock.unlock();
  if (wake) wake->unpark();
  return st;
}

void chan_close(chan_core* c) {
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw channel_closed("goro: close of closed channel");
  }
  c->closed.store(true, std::memory_order_relaxed);
  // Under the lock: a buffered waiter queued after this sees the mark when it retries.
  if (c->cap) c->ring().close();
  // Collect everyone first, wake after unlocking (a woken fiber may run at once elsewhere and
  // touch the channel). The waiters stay valid: their owners cannot return until unparked.
  chan_waiter* woken = nullptr;
  for (wait_queue* q : {&c->recvq, &c->sendq}) {
    while (chan_waiter* s = dequeue(*q)) {
      s->success = false;
      s->next = woken;
      woken = s;
    }
  }
  c->lock.unlock();
  while (woken) {
    chan_waiter* next = woken->next;  // read before unpark: *woken may vanish after it
    woken->w->unpark();
    woken = next;
  }
}

std::size_t chan_len(chan_core* c) noexcept { return c->cap ? c->ring().len() : 0; }

void block_forever() {
  waiter w;  // nobody can unpark it; a runtime teardown unwinds a fiber parked here
  for (;;) w.park();
}

}  // namespace goro::detail
