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
/// Buffered: after a push (pop) completed, wakes one waiter of the receivers (senders) to retry.
/// Takes the lock only when someone is queued.
void notify_one(chan_core* c, wait_queue& q) noexcept;
/// Buffered, under the lock: queues `s` to be woken by the next notify_one or close, with the
/// fence that makes a retry after this see every push or pop whose notify_one missed `s`.
void queue_for_retry(wait_queue& q, chan_waiter& s) noexcept;

}  // namespace goro::detail
