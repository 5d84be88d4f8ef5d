// Channel operations (Go's chan.go): one short critical section per operation; a sender that
// finds a parked receiver hands the value over directly (and the receiver runs next on the
// sender's worker), and parking releases the channel lock only after the switch.
#include <cstdlib>
#include <new>

#include "channel_ops.hpp"
#include "goro/channel_closed.hpp"

namespace goro::detail {

chan_core* chan_make(const elem_ops* ops, std::size_t elem_align, std::size_t cap) {
  if (cap > (std::size_t{1} << 40) / (ops->size ? ops->size : 1))
    throw std::length_error("goro: make_chan capacity too large");
  std::size_t align = elem_align > alignof(chan_core) ? elem_align : alignof(chan_core);
  std::size_t off = (sizeof(chan_core) + elem_align - 1) / elem_align * elem_align;
  void* mem = ::operator new (off + cap * ops->size, std::align_val_t{align});
  auto* c = ::new (mem) chan_core();
  c->cap = cap;
  c->ops = ops;
  c->alloc_align = align;
  c->buf = cap ? static_cast<char*>(mem) + off : nullptr;
  return c;
}

void chan_release(chan_core* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) c->ops->destroy(c->slot(c->head + i));
  std::size_t align = c->alloc_align;
  c->~chan_core();
  ::operator delete (static_cast<void*>(c), std::align_val_t{align});
}

chan_waiter* dequeue(wait_queue& q) noexcept {
  while (chan_waiter* s = q.head) {
    q.remove(s);
    if (s->sel) {
      std::uint32_t expected = 0;
      // The select is already won on another channel: drop this waiter and look further.
      if (!s->sel->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
      s->sel->winner = s->case_index;
    }
    return s;
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
  const std::size_t n = c->count.load(std::memory_order_relaxed);
  if (n < c->cap) {
    c->ops->to_slot(c->slot(c->head + n), src);
    c->count.store(n + 1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

recv_status try_recv_locked(chan_core* c, void* dst, waiter** wake) noexcept {
  if (chan_waiter* s = dequeue(c->sendq)) {
    if (c->cap == 0) {
      c->ops->direct(dst, s->elem);
    } else {
      // Full buffer: the receiver takes the oldest value, the sender's goes to the back.
      void* slot = c->slot(c->head);
      c->ops->from_slot(dst, slot);
      c->ops->to_slot(slot, s->elem);
      c->head = (c->head + 1) % c->cap;
    }
    s->success = true;
    *wake = s->w;
    return recv_status::ok;
  }
  if (const std::size_t n = c->count.load(std::memory_order_relaxed); n > 0) {
    c->ops->from_slot(dst, c->slot(c->head));
    c->head = (c->head + 1) % c->cap;
    c->count.store(n - 1, std::memory_order_relaxed);
    return recv_status::ok;
  }
  return c->closed.load(std::memory_order_relaxed) ? recv_status::closed : recv_status::empty;
}

namespace {

[[noreturn]] void throw_send_closed() { throw channel_closed("goro: send on closed channel"); }

// Parks on `c` with `s` queued in `q`, releasing c's lock after the switch. If the runtime is
// torn down meanwhile, takes `s` off the queue before the unwind continues.
void park_on(chan_core* c, wait_queue& q, chan_waiter& s) {
  q.push_back(&s);
  try {
    s.w->park_unlocking(spin_mutex::unlock_fn, &c->lock);
  } catch (...) {
    c->lock.lock();
    if (s.queued) q.remove(&s);
    c->lock.unlock();
    throw;
  }
}

}  // namespace

void chan_send(chan_core* c, void* src) {
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw_send_closed();
  }
  waiter* wake = nullptr;
  if (try_send_locked(c, src, &wake)) {
    c->lock.unlock();
    if (wake) wake->unpark();
    return;
  }
  waiter w;
  chan_waiter s;
  s.w = &w;
  s.elem = src;
  park_on(c, c->sendq, s);
  if (!s.success) throw_send_closed();  // woken by close
}

bool chan_try_send(chan_core* c, void* src) {
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
  park_on(c, c->recvq, r);
  return r.success;
}

recv_status chan_try_recv(chan_core* c, void* dst) {
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

std::size_t chan_len(chan_core* c) noexcept {
  c->lock.lock();
  std::size_t n = c->count.load(std::memory_order_relaxed);
  c->lock.unlock();
  return n;
}

void block_forever() {
  waiter w;  // nobody can unpark it; a runtime teardown unwinds a fiber parked here
  for (;;) w.park();
}

}  // namespace goro::detail
