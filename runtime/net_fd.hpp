// A socket behind a goro::net::conn or listener (Go's netFD with its fdMutex): the descriptor,
// its poll descriptor, the locks that serialize readers and writers, and the reference count
// that decides who closes it.
//
// `state_` packs three things so that one atomic decides every race:
//   closed   close() has begun: no operation may start any more
//   handle   the conn/listener object still exists
//   ops      operations in flight (close() counts as one while it runs)
// The operation that leaves last after `closed` closes the descriptor (so a blocked read that
// close() wakes never touches a recycled descriptor number); the last one out after the handle
// is gone frees the object.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

#include "goro/error.hpp"
#include "goro/io.hpp"
#include "goro/mutex.hpp"
#include "goro/net.hpp"
#include "poll_desc.hpp"

namespace goro::detail {

class net_fd {
 public:
  /// Takes ownership of `fd` (non-blocking, close-on-exec). `network` names it in errors.
  net_fd(int fd, std::string network);
  net_fd(const net_fd&) = delete;
  net_fd& operator=(const net_fd&) = delete;

  int sysfd() const noexcept { return fd_; }
  poll_desc* pd() const noexcept { return pd_; }
  const std::string& network() const noexcept { return network_; }

  /// Begins an operation; false once close() has begun.
  bool acquire() noexcept;
  /// Ends one (see the file comment for who closes and who frees).
  void release() noexcept;
  /// The handle is destroyed: close (if still open), then free once no operation is in flight.
  void drop_handle() noexcept;

  io::result read(std::span<std::byte> buf);
  io::result write(std::span<const std::byte> data);
  error close();
  error close_write();
  /// Sets a deadline (0: none) unless the socket is closed (then its descriptor may already
  /// serve another socket).
  void set_deadline(poll_desc::mode m, std::int64_t when_ns) noexcept;
  /// The file descriptor, -1 once closed.
  int native_handle() const noexcept;
  /// accept(): the new connection, or nullptr with *err set.
  net_fd* accept(error* err);
  /// Connects to `sa`, waiting at most until the write deadline (set by the dialer).
  error connect(const sockaddr* sa, socklen_t len);

  /// Addresses, read once the socket is bound or connected (init_addrs) and kept, so they stay
  /// valid after close() like Go's.
  void init_addrs();
  const std::string& local_addr() const noexcept { return laddr_; }
  const std::string& remote_addr() const noexcept { return raddr_; }
  void set_unlink_on_close(std::string path) { unlink_path_ = std::move(path); }

  /// "read tcp 127.0.0.1:80->127.0.0.1:41234: <cause>", Go's OpError in spirit.
  error op_error(const char* op, const error& cause) const;
  error op_errno(const char* op, int err) const;

 private:
  ~net_fd();
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t handle_bit = std::uint64_t{1} << 62;
  static constexpr std::uint64_t ops_mask = handle_bit - 1;
  error wait_error(const char* op, poll_desc::wait_result r, int reg_errno) const;

  bool closed() const noexcept { return state_.load(std::memory_order_relaxed) & closed_bit; }
  std::atomic<std::uint64_t> state_{handle_bit};
  const int fd_;
  poll_desc* const pd_;
  const std::string network_;
  std::string laddr_, raddr_;
  std::string unlink_path_;  // a Unix listener's socket file, removed by close()
  goro::mutex rmu_, wmu_;    // one reader (or acceptor) and one writer at a time
};

/// Formats a socket address as Go does ("1.2.3.4:80", "[::1]:80", a Unix path).
std::string format_sockaddr(const sockaddr* sa, socklen_t len);

}  // namespace goro::detail
