// Channel internals shared by channel.cpp and select.cpp.
#pragma once

#include "goro/detail/chan_core.hpp"

namespace goro::detail {

/// Under the lock: pops the first waiter of `q` that can still complete (for a select: wins its
/// claim).
chan_waiter* dequeue(wait_queue& q) noexcept;
/// Unbuffered, under the lock: completes a send to a parked receiver if there is one (sets *wake,
/// to unpark after unlocking). Does not check `closed`.
bool try_send_locked(chan_core* c, void* src, waiter** wake) noexcept;
/// Unbuffered, under the lock: completes a receive from a parked sender if there is one.
recv_status try_recv_locked(chan_core* c, void* dst, waiter** wake) noexcept;
/// Buffered: one push (send) or pop of the ring, lock-free.
inline chan_ring::status ring_attempt(chan_core* c, bool send, void* elem) noexcept {
  return send ? c->ring().push(c->ops, elem) : c->ring().pop(c->ops, elem);
}
/// Buffered: wakes one waiter of `q` to retry. Takes the lock only when someone is queued.
void notify_one(chan_core* c, wait_queue& q) noexcept;
/// Buffered: after a push (send) or pop completed, wakes one waiter of the other side.
inline void notify_other_side(chan_core* c, bool send) noexcept {
  notify_one(c, send ? c->recvq : c->sendq);
}
/// Buffered, under the lock: queues `s` to be woken by the next notify_one or close, with the
/// fence that makes a retry after this see every push or pop whose notify_one missed `s`.
void queue_for_retry(wait_queue& q, chan_waiter& s) noexcept;

}  // namespace goro::detail
