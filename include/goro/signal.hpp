// goro::signal_notify / goro::signal_stop: Go's os/signal — POSIX signals delivered on a channel.
#pragma once

#include <initializer_list>

#include "goro/chan.hpp"

namespace goro {

/// `signal.Notify(ch, sigs...)`: from now on, each listed signal the process receives is sent to
/// `ch` (which should be buffered) without blocking: a signal arriving while `ch`'s buffer is
/// full is dropped for `ch`, like Go, never lost while it has room. Several channels may ask for
/// the same signal; each gets it. The handler only writes to a pipe (async-signal-safe); a
/// helper thread does the sends. SIGKILL, SIGSTOP and signals used for faults (SIGSEGV, SIGBUS,
/// SIGFPE, SIGILL) and out-of-range numbers throw std::invalid_argument; a nil `ch` throws too.
void signal_notify(const chan<int>& ch, std::initializer_list<int> sigs);
/// `signal.Stop(ch)`: `ch` receives no more signals once this returns; a signal no channel
/// asks for any more gets its default action back.
void signal_stop(const chan<int>& ch);

}  // namespace goro
