// goro::wait_readable / wait_writable on descriptors the user owns. A fiber's wait borrows a
// poll descriptor registered in its runtime's epoll set for as long as some fiber waits on that
// descriptor (the user may close it between waits, and the number may then be reused, so no
// registration outlives the waits). A plain thread polls it with poll(2).
#include "goro/poll.hpp"

#include <poll.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "fiber.hpp"
#include "futex.hpp"
#include "goro/detail/deadline.hpp"
#include "goro/detail/timer_ops.hpp"
#include "goro/net.hpp"
#include "poll_desc.hpp"
#include "scheduler.hpp"

namespace goro {
namespace {

using detail::poll_desc;

struct registration {
  poll_desc* pd;
  int readers = 0, writers = 0;
};

std::mutex reg_mu;
std::map<std::pair<std::uint64_t, int>, registration> regs;  // (poller id, fd), under reg_mu

error fd_error(int fd, const char* what, const error& cause) {
  return error(std::string(what) + " fd " + std::to_string(fd), cause);
}

error wait_fd(int fd, poll_desc::mode m, std::chrono::steady_clock::time_point deadline) {
  const char* what = m == poll_desc::mode::read ? "wait_readable" : "wait_writable";
  if (fd < 0) throw std::invalid_argument(std::string("goro::") + what + ": negative descriptor");
  const std::int64_t dl = deadline == std::chrono::steady_clock::time_point{}
                              ? 0
                              : std::max<std::int64_t>(detail::to_ns(deadline), 1);
  const short events = m == poll_desc::mode::read ? POLLIN : POLLOUT;
  detail::fiber* self = detail::current_fiber();
  for (;;) {
    // The level first: a ready descriptor costs one poll(2), no registration. A thread blocks
    // right here, until the deadline.
    pollfd pf{fd, events, 0};
    timespec ts{}, *tsp = &ts;
    if (!self) {
      if (dl == 0) {
        tsp = nullptr;
      } else {
        std::int64_t left = std::max<std::int64_t>(dl - detail::monotonic_ns(), 0);
        ts = {static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
      }
    }
    int n = ::ppoll(&pf, 1, tsp, nullptr);
    if (n < 0 && errno != EINTR)
      return fd_error(fd, what, error(std::generic_category().message(errno)));
    if (n > 0) {
      if (pf.revents & POLLNVAL) return fd_error(fd, what, error("bad file descriptor"));
      return {};
    }
    if (dl != 0 && detail::monotonic_ns() >= dl) return fd_error(fd, what, net::err_timeout);
    if (!self) continue;  // EINTR, or woke early

    detail::poller& p = self->sched->net_poller();
    const auto key = std::make_pair(p.id(), fd);
    poll_desc* pd;
    {
      std::lock_guard lk(reg_mu);
      auto [it, fresh] = regs.try_emplace(key);
      registration& r = it->second;
      int& mine = m == poll_desc::mode::read ? r.readers : r.writers;
      if (mine > 0)
        throw std::logic_error(std::string("goro::") + what +
                               ": another fiber already waits on fd " + std::to_string(fd) +
                               " for the same readiness");
      if (fresh) {
        try {
          r.pd = poll_desc::acquire(fd);
        } catch (...) {
          regs.erase(it);
          throw;
        }
      }
      ++mine;
      pd = r.pd;
    }
    pd->set_deadline(m, dl);
    int reg_errno = 0;
    poll_desc::wait_result res;
    struct leave {
      std::pair<std::uint64_t, int> key;
      poll_desc::mode m;
      detail::poller& p;
      ~leave() {
        std::lock_guard lk(reg_mu);
        auto it = regs.find(key);
        registration& r = it->second;
        --(m == poll_desc::mode::read ? r.readers : r.writers);
        if (r.readers == 0 && r.writers == 0) {
          // Only a registration of ours: the descriptor may belong to a goro::net socket.
          if (r.pd->registered_with(p.id())) p.remove(key.second);
          poll_desc::release(r.pd);
          regs.erase(it);
        }
      }
    } guard{key, m, p};
    res = pd->wait(m, &reg_errno);
    switch (res) {
      case poll_desc::wait_result::ready:
        continue;  // the edge may be stale: the level check above decides
      case poll_desc::wait_result::timeout:
        return fd_error(fd, what, net::err_timeout);
      case poll_desc::wait_result::failed:
        if (reg_errno == EPERM) return {};  // a regular file: always ready
        if (reg_errno == EEXIST)
          return fd_error(fd, what,
                          error("the descriptor belongs to a goro::net connection or listener "
                                "(use its read, write or accept)"));
        return fd_error(fd, what, error(std::generic_category().message(reg_errno)));
      case poll_desc::wait_result::closed:
        break;  // never evicted: the user owns the descriptor
    }
  }
}

}  // namespace

error wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
  return wait_fd(fd, poll_desc::mode::read, deadline);
}

error wait_writable(int fd, std::chrono::steady_clock::time_point deadline) {
  return wait_fd(fd, poll_desc::mode::write, deadline);
}

}  // namespace goro
