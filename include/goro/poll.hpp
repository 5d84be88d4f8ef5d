// goro::wait_readable / goro::wait_writable: park until a descriptor the caller owns is ready,
// through the runtime's network poller, so that third-party clients that expose their socket
// (libpq, hiredis, curl multi, an eventfd or pipe of your own) run inside fibers without
// blocking a worker. On a plain thread they block in poll(2).
#pragma once

#include <chrono>

#include "goro/error.hpp"

namespace goro {

/// Waits until `fd` (non-blocking, owned by the caller, open for the whole wait) is readable
/// (or at end of stream, or in error). With a deadline: returns an error with
/// goro::net::is_timeout() true if it passes first (`time_point{}`: no deadline). A regular
/// file is always ready. Throws std::invalid_argument for a negative fd, std::logic_error when
/// another fiber already waits on `fd` for the same readiness. A descriptor that a goro::net
/// connection or listener owns is refused with an error (its own calls wait on it).
error wait_readable(int fd, std::chrono::steady_clock::time_point deadline = {});
/// Like wait_readable(), for writability.
error wait_writable(int fd, std::chrono::steady_clock::time_point deadline = {});

}  // namespace goro
