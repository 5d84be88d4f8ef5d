#include "net_fd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

namespace goro::detail {

net_fd::net_fd(int fd, std::string network)
    : fd_(fd), pd_(poll_desc::acquire(fd)), network_(std::move(network)) {}

net_fd::~net_fd() = default;

bool net_fd::acquire() noexcept {
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  do {
    if (s & closed_bit) return false;
  } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                         std::memory_order_relaxed));
  return true;
}

void net_fd::release() noexcept {
  const std::uint64_t prev = state_.fetch_sub(1, std::memory_order_acq_rel);
  if ((prev & ops_mask) != 1 || !(prev & closed_bit)) return;
  // The last operation out after close(): nobody can reach the descriptor any more.
  poll_desc::release(pd_);
  ::close(fd_);
  if (!(prev & handle_bit)) delete this;
}

void net_fd::drop_handle() noexcept {
  (void)close();
  const std::uint64_t prev = state_.fetch_and(~handle_bit, std::memory_order_acq_rel);
  // close() has set `closed`; with no operation in flight the descriptor is closed already.
  if ((prev & ops_mask) == 0) delete this;
}

error net_fd::close() {
  if (!acquire()) return op_error("close", net::err_closed);
  const std::uint64_t prev = state_.fetch_or(closed_bit, std::memory_order_acq_rel);
  if (prev & closed_bit) {                           // a concurrent close() won
    error err = op_error("close", net::err_closed);  // before release(): it may free us
    release();
    return err;
  }
  pd_->evict();  // blocked readers, writers and acceptors return err_closed
  if (!unlink_path_.empty() && unlink_path_[0] != '@') ::unlink(unlink_path_.c_str());
  release();
  return {};
}

void net_fd::set_deadline(poll_desc::mode m, std::int64_t when_ns) noexcept {
  if (!acquire()) return;
  pd_->set_deadline(m, when_ns);
  release();
}

int net_fd::native_handle() const noexcept { return closed() ? -1 : fd_; }

error net_fd::close_write() {
  if (!acquire()) return op_error("close", net::err_closed);
  error err;
  if (::shutdown(fd_, SHUT_WR) != 0) err = op_errno("close", errno);
  release();
  return err;
}

namespace {
// Ends an operation on scope exit (also when a fiber unwinds at teardown).
struct op_guard {
  net_fd* fd;
  ~op_guard() { fd->release(); }
};
}  // namespace

error net_fd::wait_error(const char* op, poll_desc::wait_result r, int reg_errno) const {
  switch (r) {
    case poll_desc::wait_result::closed:
      return op_error(op, net::err_closed);
    case poll_desc::wait_result::timeout:
      return op_error(op, net::err_timeout);
    case poll_desc::wait_result::failed:
      if (reg_errno == EEXIST)
        return op_error(op, error("the descriptor is also being waited on with "
                                  "goro::wait_readable/wait_writable"));
      return op_errno(op, reg_errno);
    case poll_desc::wait_result::ready:
      break;
  }
  return {};
}

io::result net_fd::read(std::span<std::byte> buf) {
  if (!acquire()) return {0, op_error("read", net::err_closed)};
  op_guard g{this};
  std::lock_guard lk(rmu_);
  for (;;) {
    // Also for a reader that queued behind rmu_ while close() woke the one ahead of it.
    if (closed()) return {0, op_error("read", net::err_closed)};
    if (pd_->expired(poll_desc::mode::read)) return {0, op_error("read", net::err_timeout)};
    if (buf.empty()) return {0, {}};
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) return {static_cast<std::size_t>(n), {}};
    if (n == 0) return {0, io::eof};
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return {0, op_errno("read", errno)};
    int reg = 0;
    if (auto r = pd_->wait(poll_desc::mode::read, &reg); r != poll_desc::wait_result::ready)
      return {0, wait_error("read", r, reg)};
  }
}

io::result net_fd::write(std::span<const std::byte> data) {
  if (!acquire()) return {0, op_error("write", net::err_closed)};
  op_guard g{this};
  std::lock_guard lk(wmu_);
  std::size_t done = 0;
  for (;;) {
    if (closed()) return {done, op_error("write", net::err_closed)};
    if (pd_->expired(poll_desc::mode::write)) return {done, op_error("write", net::err_timeout)};
    if (done == data.size()) return {done, {}};
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return {done, op_errno("write", errno)};
    int reg = 0;
    if (auto r = pd_->wait(poll_desc::mode::write, &reg); r != poll_desc::wait_result::ready)
      return {done, wait_error("write", r, reg)};
  }
}

net_fd* net_fd::accept(error* err) {
  if (!acquire()) {
    *err = op_error("accept", net::err_closed);
    return nullptr;
  }
  op_guard g{this};
  std::lock_guard lk(rmu_);
  for (;;) {
    if (closed()) {
      *err = op_error("accept", net::err_closed);
      return nullptr;
    }
    if (pd_->expired(poll_desc::mode::read)) {
      *err = op_error("accept", net::err_timeout);
      return nullptr;
    }
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      if (network_ != "unix") {
        int one = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      net_fd* nf;
      try {
        nf = new net_fd(c, network_);
      } catch (...) {
        ::close(c);
        throw;
      }
      try {
        nf->init_addrs();
      } catch (...) {
        nf->drop_handle();
        throw;
      }
      return nf;
    }
    // A connection reset before it was accepted is not the listener's error (Go retries too).
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN) {
      *err = op_errno("accept", errno);
      return nullptr;
    }
    int reg = 0;
    if (auto r = pd_->wait(poll_desc::mode::read, &reg); r != poll_desc::wait_result::ready) {
      *err = wait_error("accept", r, reg);
      return nullptr;
    }
  }
}

error net_fd::connect(const sockaddr* sa, socklen_t len) {
  if (!acquire()) return op_error("dial", net::err_closed);
  op_guard g{this};
  if (::connect(fd_, sa, len) == 0) return {};
  if (errno != EINPROGRESS && errno != EINTR) return op_errno("connect", errno);
  for (;;) {
    int reg = 0;
    if (auto r = pd_->wait(poll_desc::mode::write, &reg); r != poll_desc::wait_result::ready)
      return wait_error("connect", r, reg);
    int soerr = 0;
    socklen_t l = sizeof soerr;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0) return op_errno("connect", errno);
    if (soerr == EINPROGRESS || soerr == EALREADY || soerr == EINTR) continue;
    if (soerr != 0) return op_errno("connect", soerr);
    // A stale writability edge can precede the handshake's end: connected only with a peer.
    sockaddr_storage peer;
    l = sizeof peer;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &l) == 0) return {};
    if (errno != ENOTCONN) return op_errno("connect", errno);
  }
}

std::string format_sockaddr(const sockaddr* sa, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (sa->sa_family) {
    case AF_INET: {
      auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      const int port = ntohs(in6->sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {  // a v4 peer of a dual-stack socket
        ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port);
      }
      ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port);
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<const sockaddr_un*>(sa);
      const std::size_t off = offsetof(sockaddr_un, sun_path);
      if (len <= off) return "";
      std::size_t n = static_cast<std::size_t>(len) - off;
      if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
      return std::string(un->sun_path, strnlen(un->sun_path, n));
    }
    default:
      return "";
  }
}

namespace {
std::string name_of(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return "";
  return format_sockaddr(sa, len);
}
}  // namespace

void net_fd::init_addrs() {
  laddr_ = name_of(fd_, false);
  raddr_ = name_of(fd_, true);
}

error net_fd::op_error(const char* op, const error& cause) const {
  std::string what = std::string(op) + " " + network_;
  if (!laddr_.empty() && !raddr_.empty()) what += " " + laddr_ + "->" + raddr_;
  else if (!laddr_.empty() || !raddr_.empty()) what += " " + (laddr_.empty() ? raddr_ : laddr_);
  return error(what, cause);
}

error net_fd::op_errno(const char* op, int err) const {
  return op_error(op, error(std::generic_category().message(err)));
}

}  // namespace goro::detail
