// Channel internals shared by channel.cpp and select.cpp. All require the channel's lock.
#pragma once

#include "goro/detail/chan_core.hpp"

namespace goro::detail {

/// Pops the first waiter of `q` that can still complete (for a select: wins its claim).
chan_waiter* dequeue(wait_queue& q) noexcept;
/// Completes a send if possible: to a parked receiver (set *wake to unpark after unlocking) or
/// into the buffer. Does not check `closed`.
bool try_send_locked(chan_core* c, void* src, waiter** wake) noexcept;
/// Completes a receive if possible (from a parked sender, setting *wake, or from the buffer).
recv_status try_recv_locked(chan_core* c, void* dst, waiter** wake) noexcept;

}  // namespace goro::detail
