// goro::net: Go's `net` for TCP (v4, v6) and Unix-domain stream sockets. Sockets are
// non-blocking underneath and driven by the runtime's network poller: a fiber that waits on one
// is parked and its worker runs other fibers; a plain thread blocks in poll(2). Run-time failures
// (a refused connection, a reset peer, a deadline, the end of the stream) are returned as a
// goro::error beside the result; misuse (an unknown network, an operation on a
// default-constructed handle) throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "goro/context.hpp"
#include "goro/detail/deadline.hpp"
#include "goro/error.hpp"
#include "goro/io.hpp"

namespace goro {
namespace detail {
class net_fd;  // runtime/net_fd.hpp

// What conn and listener have in common: the one owning pointer to their socket. Movable, not
// copyable; destroying (or assigning over) it drops the handle, which closes the socket.
class net_handle {
 public:
  net_handle(const net_handle&) = delete;
  net_handle& operator=(const net_handle&) = delete;

 protected:
  net_handle() noexcept = default;
  explicit net_handle(net_fd* fd) noexcept : fd_(fd) {}
  net_handle(net_handle&& o) noexcept : fd_(o.fd_) { o.fd_ = nullptr; }
  net_handle& operator=(net_handle&& o) noexcept;
  ~net_handle();
  bool holds() const noexcept { return fd_ != nullptr; }
  // The socket; std::logic_error naming `what` when there is none (default-constructed or
  // moved from).
  net_fd& socket(const char* what) const;

 private:
  net_fd* fd_ = nullptr;
};
}  // namespace detail

namespace net {

/// `net.ErrClosed`: the operation used a connection or listener that was closed (also when the
/// close came from another fiber or thread while the operation was blocked).
inline const error err_closed("use of closed network connection");
/// `os.ErrDeadlineExceeded`: a deadline set with set_deadline() and friends passed.
inline const error err_timeout("i/o timeout");

/// `err.(net.Error).Timeout()`: true for a passed deadline (err_timeout) and for a dial whose
/// context's deadline passed (goro::deadline_exceeded), wrapped or not.
bool is_timeout(const error& err) noexcept;

using time_point = std::chrono::steady_clock::time_point;

/// `net.Conn`: a stream connection. Movable, not copyable; destroying it closes it. One fiber
/// may read while another writes; concurrent reads (or writes) are serialized, like Go's.
/// close() and the deadline setters may be called from any fiber or thread at any time; a
/// call blocked in read or write wakes up. Destroying the handle while another fiber or thread
/// still uses it is undefined, like destroying a std::mutex in use.
class conn : private detail::net_handle {
 public:
  conn() noexcept = default;
  conn(conn&&) noexcept = default;
  conn& operator=(conn&&) noexcept = default;

  /// True when the handle holds a connection (open or closed), false when default-constructed
  /// or moved from.
  explicit operator bool() const noexcept { return holds(); }

  /// `Read`: waits until at least one byte is available (or the deadline, or a close), then
  /// returns what is there, up to `buf.size()`. At the end of the stream: {0, goro::io::eof}.
  /// An empty `buf` returns {0, nil} at once.
  io::result read(std::span<std::byte> buf);
  io::result read(std::span<char> buf) { return read(std::as_writable_bytes(buf)); }

  /// `Write`: writes all of `data` unless an error (deadline, close, reset) stops it; `n` is
  /// what was written. Never raises SIGPIPE.
  io::result write(std::span<const std::byte> data);
  io::result write(std::span<const char> data) { return write(std::as_bytes(data)); }
  io::result write(std::string_view s) { return write(std::span<const char>(s.data(), s.size())); }
  io::result write(const std::string& s) { return write(std::string_view(s)); }
  io::result write(const char* s) { return write(std::string_view(s)); }

  /// `Close`: wakes blocked calls (they return err_closed); returns err_closed if already closed.
  error close();
  /// `CloseWrite`: shuts down the sending side (the peer reads EOF); reading still works.
  error close_write();

  /// `SetDeadline` / `SetReadDeadline` / `SetWriteDeadline`: calls blocked now or later past `tp`
  /// return an error with is_timeout() true; `time_point{}` clears the deadline. A deadline
  /// that has passed fails calls at once, even if data is available. Ignored once closed.
  void set_deadline(time_point tp);
  void set_read_deadline(time_point tp);
  void set_write_deadline(time_point tp);

  /// `LocalAddr().String()` / `RemoteAddr().String()`: "127.0.0.1:8080", "[::1]:8080", a
  /// Unix socket's path ("" for an unnamed one).
  std::string local_addr() const;
  std::string remote_addr() const;

  /// The socket's file descriptor (owned by the connection; for setsockopt and the like), -1
  /// once closed. Not for goro::wait_readable: the connection's own calls already wait on it.
  int native_handle() const;

 private:
  friend struct detail_access;
  explicit conn(detail::net_fd* fd) noexcept : net_handle(fd) {}
  detail::net_fd& fd() const;
};

/// What accept() and dial() return: `auto [c, err] = ln.accept();`.
struct conn_result {
  conn c;
  error err;
};

/// `net.Listener`. Movable, not copyable; destroying it closes it (and removes the socket file of
/// a Unix listener it created).
class listener : private detail::net_handle {
 public:
  listener() noexcept = default;
  listener(listener&&) noexcept = default;
  listener& operator=(listener&&) noexcept = default;

  explicit operator bool() const noexcept { return holds(); }

  /// `Accept`: waits for the next connection. After close() (also from another fiber or
  /// thread while waiting): an error with goro::is(err, err_closed).
  conn_result accept();
  /// `Close`: returns err_closed if already closed.
  error close();
  /// `Addr().String()`: the bound address, with the port the kernel picked for port 0.
  std::string addr() const;
  /// Deadline for accept(), as for conn; `time_point{}` clears it.
  void set_deadline(time_point tp);
  /// The socket's file descriptor, -1 once closed.
  int native_handle() const;

 private:
  friend struct detail_access;
  explicit listener(detail::net_fd* fd) noexcept : net_handle(fd) {}
  detail::net_fd& fd() const;
};

/// What listen() returns: `auto [ln, err] = goro::net::listen("tcp", "127.0.0.1:0");`.
struct listen_result {
  listener ln;
  error err;
};

/// `net.Listen`: network is "tcp", "tcp4", "tcp6" or "unix" (anything else throws
/// std::invalid_argument). For TCP, address is "host:port" ("[v6]:port"; an empty host listens
/// on every interface; port 0 picks a free one); host names are resolved without blocking a
/// worker. For "unix", a path ("@name": Linux's abstract namespace). SO_REUSEADDR is set.
/// A malformed address or a port out of range is returned as an error.
listen_result listen(std::string_view network, std::string_view address);

/// `net.Dial`. TCP connections have TCP_NODELAY set, like Go's.
conn_result dial(std::string_view network, std::string_view address);
/// `Dialer.DialContext`: gives up when `ctx` is canceled or its deadline passes (then
/// is_timeout(err) is true). Name resolution runs on a helper thread, never on a worker.
conn_result dial(const context& ctx, std::string_view network, std::string_view address);
}  // namespace net

namespace detail {
// dial() for a context nobody else can cancel: only its deadline needs watching.
net::conn_result dial_deadline_only(const context& ctx, std::string_view network,
                                    std::string_view address);
}  // namespace detail

namespace net {
/// `net.DialTimeout`: dial() that gives up after `timeout` (then is_timeout(err) is true).
template <class Rep, class Period>
conn_result dial_timeout(std::string_view network, std::string_view address,
                         const std::chrono::duration<Rep, Period>& timeout) {
  auto [ctx, cancel] = with_timeout(background(), timeout);
  auto r = detail::dial_deadline_only(ctx, network, address);
  cancel();
  return r;
}
}  // namespace net

}  // namespace goro
