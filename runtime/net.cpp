// goro::net's entry points: networks and addresses, name resolution off the workers, listen
// and dial, and the conn / listener handles over runtime/net_fd.
#include "goro/net.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "goro/detail/timer_ops.hpp"
#include "goro/runtime.hpp"
#include "goro/select.hpp"
#include "net_fd.hpp"

namespace goro::net {

struct detail_access {
  static conn make_conn(detail::net_fd* fd) noexcept { return conn(fd); }
  static listener make_listener(detail::net_fd* fd) noexcept { return listener(fd); }
};

}  // namespace goro::net

namespace goro::detail {
namespace {

enum class family { any, v4, v6, local };

family parse_network(std::string_view network) {
  if (network == "tcp") return family::any;
  if (network == "tcp4") return family::v4;
  if (network == "tcp6") return family::v6;
  if (network == "unix") return family::local;
  throw std::invalid_argument("goro::net: unknown network \"" + std::string(network) +
                              "\" (use \"tcp\", \"tcp4\", \"tcp6\" or \"unix\")");
}

struct address {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&ss); }
};

error addr_error(std::string_view addr, const char* why) {
  return error("address " + std::string(addr) + ": " + why);
}

// Go's SplitHostPort: "host:port", "[v6]:port"; an empty port means 0.
error split_host_port(std::string_view addr, std::string* host, int* port) {
  std::string_view h, p;
  if (!addr.empty() && addr[0] == '[') {
    auto end = addr.find(']');
    if (end == std::string_view::npos) return addr_error(addr, "missing ']' in address");
    h = addr.substr(1, end - 1);
    if (end + 1 >= addr.size() || addr[end + 1] != ':')
      return addr_error(addr, "missing port in address");
    p = addr.substr(end + 2);
  } else {
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return addr_error(addr, "missing port in address");
    h = addr.substr(0, colon);
    if (h.find(':') != std::string_view::npos)
      return addr_error(addr, "too many colons in address");
    p = addr.substr(colon + 1);
  }
  long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return addr_error(addr, "invalid port");
    v = v * 10 + (c - '0');
    if (v > 65535) return addr_error(addr, "invalid port (out of range 0-65535)");
  }
  *host = std::string(h);
  *port = static_cast<int>(v);
  return {};
}

address make_v4(const in_addr& a, int port) {
  address r;
  auto* in = reinterpret_cast<sockaddr_in*>(&r.ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<std::uint16_t>(port));
  in->sin_addr = a;
  r.len = sizeof(sockaddr_in);
  return r;
}

address make_v6(const in6_addr& a, int port) {
  address r;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&r.ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(static_cast<std::uint16_t>(port));
  in6->sin6_addr = a;
  r.len = sizeof(sockaddr_in6);
  return r;
}

struct lookup_state {
  std::vector<address> addrs;
  int rc = 0;
  chan<std::monostate> done = make_chan<std::monostate>();
};

// getaddrinfo blocks: it runs on a helper thread while the caller waits on a channel (with the
// context), so no worker is ever held by a slow resolver.
error lookup(const context& ctx, const std::string& host, int port, family fam,
             std::vector<address>* out) {
  auto st = std::make_shared<lookup_state>();
  try {
    std::thread([st, host, port, fam] {
      addrinfo hints{};
      hints.ai_family = fam == family::v4 ? AF_INET : fam == family::v6 ? AF_INET6 : AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* res = nullptr;
      st->rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
      for (addrinfo* ai = res; st->rc == 0 && ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
          st->addrs.push_back(make_v4(reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, port));
        else if (ai->ai_family == AF_INET6)
          st->addrs.push_back(
              make_v6(reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, port));
      }
      if (res) ::freeaddrinfo(res);
      st->done.close();  // publishes addrs and rc
    }).detach();
  } catch (const std::system_error& e) {
    return error("lookup " + host + ": " + e.what());
  }
  if (goro::select(goro::case_recv(st->done), goro::case_recv(ctx.done())) == 1)
    return error("lookup " + host, ctx.err());
  if (st->rc != 0) return error("lookup " + host + ": " + ::gai_strerror(st->rc));
  if (st->addrs.empty()) return error("lookup " + host + ": no suitable address found");
  *out = std::move(st->addrs);
  return {};
}

// Addresses for host (literal, "localhost", empty or a name). `passive`: for listening (an
// empty host is every interface).
error resolve(const context& ctx, std::string_view addr, family fam, bool passive,
              std::vector<address>* out) {
  std::string host;
  int port = 0;
  if (error e = split_host_port(addr, &host, &port)) return e;
  in_addr a4{};
  in6_addr a6{};
  if (host.empty() || host == "localhost") {
    if (host.empty() && passive) {
      if (fam == family::v4) out->push_back(make_v4(in_addr{htonl(INADDR_ANY)}, port));
      else out->push_back(make_v6(in6addr_any, port));  // dual-stack for "tcp", see listen
    } else {
      if (fam == family::v6) out->push_back(make_v6(in6addr_loopback, port));
      else out->push_back(make_v4(in_addr{htonl(INADDR_LOOPBACK)}, port));
    }
    return {};
  }
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    if (fam == family::v6) return addr_error(addr, "no suitable address found");
    out->push_back(make_v4(a4, port));
    return {};
  }
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (fam == family::v4) return addr_error(addr, "no suitable address found");
    out->push_back(make_v6(a6, port));
    return {};
  }
  return lookup(ctx, host, port, fam, out);
}

error unix_address(std::string_view path, address* out) {
  auto* un = reinterpret_cast<sockaddr_un*>(&out->ss);
  un->sun_family = AF_UNIX;
  if (path.empty()) return addr_error(path, "empty Unix socket path");
  if (path.size() >= sizeof un->sun_path) return addr_error(path, "Unix socket path too long");
  std::memcpy(un->sun_path, path.data(), path.size());
  out->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') un->sun_path[0] = '\0';  // Linux's abstract namespace: no file, no terminator
  else out->len += 1;
  return {};
}

int new_socket(int domain) {
  return ::socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

error sys_error(const std::string& what, int err) {
  return error(what + ": " + std::generic_category().message(err));
}

std::int64_t deadline_ns(net::time_point tp) noexcept {
  if (tp == net::time_point{}) return 0;
  std::int64_t ns = to_ns(tp);
  return ns > 0 ? ns : 1;  // a time before the clock's epoch has passed too
}

// Connects one socket to `a`, honouring ctx (deadline through the poll descriptor; a cancel
// through a watcher fiber that expires the deadline at once).
net_fd* connect_one(const context& ctx, bool watch_cancel, const std::string& network,
                    const address& a, error* err) {
  const int s = new_socket(a.sa()->sa_family);
  if (s < 0) {
    *err = sys_error("dial " + network + " " + format_sockaddr(a.sa(), a.len) + ": socket", errno);
    return nullptr;
  }
  auto* fd = new net_fd(s, network);
  struct owner {
    net_fd* fd;
    ~owner() {
      if (fd) fd->drop_handle();
    }
  } own{fd};
  if (a.sa()->sa_family != AF_UNIX) {
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  poll_desc* pd = fd->pd();
  if (auto d = ctx.deadline()) pd->set_deadline(poll_desc::mode::write, deadline_ns(*d));
  chan<std::monostate> stop, finished;
  if (watch_cancel && ctx.done()) {
    stop = make_chan<std::monostate>();
    finished = make_chan<std::monostate>();
    goro::go([done = ctx.done(), stop, finished, pd] {
      goro::select(goro::case_recv(done,
                                   [pd](std::optional<std::monostate>) {
                                     pd->set_deadline(poll_desc::mode::write, 1);
                                   }),
                   goro::case_recv(stop));
      finished.close();
    });
  }
  error e = fd->connect(a.sa(), a.len);
  if (stop) {
    stop.close();
    finished.recv();  // the watcher no longer touches pd
  }
  if (e) {
    const std::string where = "dial " + network + " " + format_sockaddr(a.sa(), a.len);
    if (goro::is(e, net::err_timeout) && ctx.err())
      *err = error(where, ctx.err());  // canceled, or deadline_exceeded (is_timeout)
    else *err = error(where, e.unwrap() ? e.unwrap() : e);
    return nullptr;
  }
  pd->set_deadline(poll_desc::mode::write, 0);
  fd->init_addrs();
  own.fd = nullptr;
  return fd;
}

net::conn_result dial_impl(const context& ctx, std::string_view network, std::string_view addr,
                           bool watch_cancel) {
  const family fam = parse_network(network);
  const std::string net_name(network);
  if (error e = ctx.err()) return {{}, error("dial " + net_name + " " + std::string(addr), e)};
  std::vector<address> addrs;
  if (fam == family::local) {
    addrs.emplace_back();
    if (error e = unix_address(addr, &addrs.back())) return {{}, error("dial unix", e)};
  } else if (error e = resolve(ctx, addr, fam, false, &addrs)) {
    return {{}, error("dial " + net_name, e)};
  }
  error first;
  for (const address& a : addrs) {
    error e;
    if (net_fd* fd = connect_one(ctx, watch_cancel, net_name, a, &e))
      return {net::detail_access::make_conn(fd), {}};
    if (!first) first = e;
    if (ctx.err()) break;
  }
  return {{}, first};
}

}  // namespace

// --- the handles conn and listener share ---

net_handle& net_handle::operator=(net_handle&& o) noexcept {
  if (this != &o) {
    if (fd_) fd_->drop_handle();
    fd_ = o.fd_;
    o.fd_ = nullptr;
  }
  return *this;
}

net_handle::~net_handle() {
  if (fd_) fd_->drop_handle();
}

net_fd& net_handle::socket(const char* what) const {
  if (!fd_) throw std::logic_error(std::string(what) + " (default-constructed or moved from)");
  return *fd_;
}

net::conn_result dial_deadline_only(const context& ctx, std::string_view network,
                                    std::string_view address) {
  return dial_impl(ctx, network, address, false);
}

}  // namespace goro::detail

namespace goro::net {

using detail::net_fd;

bool is_timeout(const error& err) noexcept {
  return err && (goro::is(err, err_timeout) || goro::is(err, deadline_exceeded));
}

// --- conn ---

detail::net_fd& conn::fd() const { return socket("goro::net::conn: no connection"); }

io::result conn::read(std::span<std::byte> buf) { return fd().read(buf); }
io::result conn::write(std::span<const std::byte> data) { return fd().write(data); }
error conn::close() { return fd().close(); }
error conn::close_write() { return fd().close_write(); }

void conn::set_deadline(time_point tp) {
  set_read_deadline(tp);
  set_write_deadline(tp);
}
void conn::set_read_deadline(time_point tp) {
  fd().set_deadline(detail::poll_desc::mode::read, detail::deadline_ns(tp));
}
void conn::set_write_deadline(time_point tp) {
  fd().set_deadline(detail::poll_desc::mode::write, detail::deadline_ns(tp));
}
std::string conn::local_addr() const { return fd().local_addr(); }
std::string conn::remote_addr() const { return fd().remote_addr(); }
int conn::native_handle() const { return fd().native_handle(); }

// --- listener ---

detail::net_fd& listener::fd() const { return socket("goro::net::listener: no listener"); }

conn_result listener::accept() {
  error err;
  net_fd* c = fd().accept(&err);
  if (!c) return {{}, err};
  return {detail_access::make_conn(c), {}};
}
error listener::close() { return fd().close(); }
std::string listener::addr() const { return fd().local_addr(); }
void listener::set_deadline(time_point tp) {
  fd().set_deadline(detail::poll_desc::mode::read, detail::deadline_ns(tp));
}
int listener::native_handle() const { return fd().native_handle(); }

// --- listen and dial ---

listen_result listen(std::string_view network, std::string_view address) {
  using namespace detail;
  const family fam = parse_network(network);
  const std::string net_name(network);
  const std::string where = "listen " + net_name + " " + std::string(address);
  detail::address a;
  bool dual_stack = false;
  if (fam == family::local) {
    if (error e = unix_address(address, &a)) return {{}, error("listen unix", e)};
  } else {
    std::vector<detail::address> addrs;
    if (error e = resolve(background(), address, fam, true, &addrs))
      return {{}, error("listen " + net_name, e)};
    a = addrs.front();
    std::string host;
    int port;
    (void)split_host_port(address, &host, &port);
    dual_stack = fam == family::any && host.empty();
  }
  int s = new_socket(a.sa()->sa_family);
  if (s < 0 && dual_stack && errno == EAFNOSUPPORT) {  // no IPv6 here: every IPv4 interface
    int port = ntohs(reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port);
    a = make_v4(in_addr{htonl(INADDR_ANY)}, port);
    dual_stack = false;
    s = new_socket(AF_INET);
  }
  if (s < 0) return {{}, sys_error(where + ": socket", errno)};
  auto* fd = new net_fd(s, net_name);
  listener ln = detail_access::make_listener(fd);
  int one = 1, zero = 0;
  if (fam != family::local) ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.sa()->sa_family == AF_INET6)
    ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof one);
  if (::bind(s, a.sa(), a.len) != 0) return {{}, sys_error(where + ": bind", errno)};
  if (::listen(s, SOMAXCONN) != 0) return {{}, sys_error(where + ": listen", errno)};
  fd->init_addrs();
  if (fam == family::local) fd->set_unlink_on_close(std::string(address));
  return {std::move(ln), {}};
}

conn_result dial(std::string_view network, std::string_view address) {
  return detail::dial_impl(background(), network, address, false);
}

conn_result dial(const context& ctx, std::string_view network, std::string_view address) {
  return detail::dial_impl(ctx, network, address, true);
}

}  // namespace goro::net
