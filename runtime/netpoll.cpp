#include "netpoll.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <mutex>
#include <system_error>

#include "fiber.hpp"
#include "futex.hpp"
#include "goro/detail/deadline.hpp"
#include "poll_desc.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"

namespace goro::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// The descriptor cache: chunks that are never freed, a free list under a mutex (taken once per
// socket, not per operation).

std::mutex cache_mu;
poll_desc* cache_free = nullptr;  // under cache_mu
constexpr std::size_t cache_chunk = 64;

// The eventfd a plain thread waits on beside its descriptor in poll(2), so that close() and
// set_deadline() can interrupt it. One per thread, created on first use.
struct thread_wake_fd {
  int fd = -1;
  ~thread_wake_fd() {
    if (fd >= 0) ::close(fd);
  }
};
thread_local thread_wake_fd t_wake;

int thread_wake() {
  if (t_wake.fd < 0) {
    t_wake.fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t_wake.fd < 0) throw std::system_error(errno, std::generic_category(), "goro: eventfd");
  }
  return t_wake.fd;
}

void drain(int efd) noexcept {
  std::uint64_t v;
  while (::read(efd, &v, sizeof v) < 0 && errno == EINTR) {
  }
}

void signal_fd(int efd) noexcept {
  std::uint64_t one = 1;
  while (::write(efd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

timespec to_timespec(std::int64_t ns) noexcept {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

std::atomic<std::uint64_t> next_poller_id{1};
std::atomic<bool> no_pwait2{false};  // the kernel predates epoll_pwait2 (Linux 5.11)

}  // namespace

// ---------------------------------------------------------------------------------------------
// poll_desc

poll_desc* poll_desc::acquire(int fd) {
  poll_desc* pd;
  {
    std::lock_guard lk(cache_mu);
    if (!cache_free) {
      auto* chunk = new poll_desc[cache_chunk];  // never freed: see the file comment
      for (std::size_t i = 0; i < cache_chunk; ++i) {
        chunk[i].next_free = cache_free;
        cache_free = &chunk[i];
      }
    }
    pd = cache_free;
    cache_free = pd->next_free;
  }
  spin_lock lk(pd->mu);
  pd->fd = fd;
  pd->closing = false;
  pd->poller_id = 0;
  for (side* s : {&pd->rd, &pd->wr}) {
    s->ready = false;
    s->parked = nullptr;
    s->thread_wake = -1;
    s->deadline.store(0, std::memory_order_relaxed);
  }
  return pd;
}

void poll_desc::release(poll_desc* pd) noexcept {
  {
    spin_lock lk(pd->mu);
    GORO_ASSERT(!pd->rd.parked && !pd->wr.parked);
    ++pd->seq;  // events still queued for the old use no longer match
    pd->fd = -1;
  }
  std::lock_guard lk(cache_mu);
  pd->next_free = cache_free;
  cache_free = pd;
}

bool poll_desc::expired(mode m) const noexcept {
  std::int64_t d = (m == mode::read ? rd : wr).deadline.load(std::memory_order_relaxed);
  return d != 0 && monotonic_ns() >= d;
}

void poll_desc::wake_fiber(side& s) noexcept {
  if (s.parked) {
    s.parked->unpark();  // under mu: the waiter cannot have left (it clears parked under mu)
    s.parked = nullptr;
  }
}

void poll_desc::wake(side& s) noexcept {
  wake_fiber(s);
  if (s.thread_wake >= 0) signal_fd(s.thread_wake);
}

bool poll_desc::settled(side& s, mode m, wait_result* r) noexcept {
  if (closing) {
    *r = wait_result::closed;
  } else if (expired(m)) {
    *r = wait_result::timeout;
  } else if (s.ready) {
    s.ready = false;
    *r = wait_result::ready;
  } else {
    return false;
  }
  return true;
}

poll_desc::wait_result poll_desc::wait(mode m, int* register_errno) {
  side& s = of(m);
  fiber* self = current_fiber();
  if (self && self->unwinding) return wait_result::closed;  // see below
  if (self) {
    // (A fiber that its runtime's teardown is unwinding may wait again in a destructor; if it
    // parked, it would be abandoned with its waiter still registered here.)
    waiter w;
    poller& p = self->sched->net_poller();
    {
      spin_lock lk(mu);
      if (wait_result r; settled(s, m, &r)) return r;
      if (poller_id != p.id()) {
        if (!p.add(this)) {
          if (register_errno) *register_errno = errno;
          return wait_result::failed;
        }
        poller_id = p.id();
      }
      GORO_ASSERT(!s.parked);  // one waiter per direction: callers serialize
      s.parked = &w;
    }
    p.add_waiting(1);
    struct leave {
      poll_desc* pd;
      side& s;
      waiter* w;
      poller& p;
      ~leave() {
        {
          spin_lock lk(pd->mu);
          if (s.parked == w) s.parked = nullptr;
        }
        p.add_waiting(-1);
      }
    } guard{this, s, &w, p};
    std::int64_t d = s.deadline.load(std::memory_order_relaxed);
    if (d != 0) w.park_until(steady_at(d));
    else w.park();  // throws fiber_unwind at teardown; the guard leaves the descriptor
  } else {
    const int efd = thread_wake();
    {
      spin_lock lk(mu);
      if (wait_result r; settled(s, m, &r)) return r;
      s.thread_wake = efd;
    }
    pollfd pf[2] = {{fd, static_cast<short>(m == mode::read ? POLLIN : POLLOUT), 0},
                    {efd, POLLIN, 0}};
    std::int64_t d = s.deadline.load(std::memory_order_relaxed);
    timespec ts{};
    if (d != 0) {
      std::int64_t left = d - monotonic_ns();
      ts = to_timespec(left > 0 ? left : 0);
    }
    ::ppoll(pf, 2, d != 0 ? &ts : nullptr, nullptr);  // EINTR: re-evaluated by the caller
    {
      spin_lock lk(mu);
      s.thread_wake = -1;
    }
    drain(efd);  // a wake that raced with the poll's return
  }
  // Woken (or a spurious return): the caller retries its system call unless it is settled.
  spin_lock lk(mu);
  wait_result r = wait_result::ready;
  settled(s, m, &r);
  return r;
}

void poll_desc::evict() noexcept {
  spin_lock lk(mu);
  closing = true;
  wake(rd);
  wake(wr);
}

void poll_desc::set_deadline(mode m, std::int64_t when_ns) noexcept {
  spin_lock lk(mu);
  side& s = of(m);
  s.deadline.store(when_ns, std::memory_order_relaxed);
  wake(s);  // a waiter already blocked re-evaluates against the new deadline
}

void poll_desc::notify(std::uint16_t event_seq, bool readable, bool writable) noexcept {
  spin_lock lk(mu);
  if (event_seq != seq || fd < 0) return;  // an event for an earlier use of this descriptor
  // Only fibers need the edge: a thread's poll(2) sees the level itself.
  if (readable) {
    rd.ready = true;
    wake_fiber(rd);
  }
  if (writable) {
    wr.ready = true;
    wake_fiber(wr);
  }
}

// ---------------------------------------------------------------------------------------------
// poller

poller::poller() : id_(next_poller_id.fetch_add(1, std::memory_order_relaxed)) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "goro: epoll_create1");
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) {
    int e = errno;
    ::close(epfd_);
    throw std::system_error(e, std::generic_category(), "goro: eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: see the header
  ev.data.u64 = 0;      // no descriptor lives at address 0
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) {
    int e = errno;
    ::close(wakefd_);
    ::close(epfd_);
    throw std::system_error(e, std::generic_category(), "goro: epoll_ctl");
  }
}

poller::~poller() {
  ::close(wakefd_);
  ::close(epfd_);
}

bool poller::add(poll_desc* pd) noexcept {
#if GORO_TSAN
  // The kernel hands pd to whichever thread polls: tell TSan that this is an edge.
  __tsan_release(pd);
#endif
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = pd->tag();
  // No EPOLL_CTL_MOD on EEXIST: the descriptor is registered through another poll descriptor
  // (a goro::net socket also given to wait_readable), and taking its events over would leave
  // that one waiting forever. The caller reports the conflict instead.
  return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, pd->fd, &ev) == 0;
}

void poller::remove(int fd) noexcept {
  epoll_event ev{};
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);  // ENOENT/EBADF: the user closed it already
}

int poller::poll(std::int64_t deadline_ns, bool* woken) noexcept {
  epoll_event evs[max_events];
  int n;
  const bool blocking = deadline_ns != 0;
#if GORO_TSAN
  // See futex.hpp: under TSan a signal waits for an intercepted call, which this is not.
  if (blocking) {
    const std::int64_t slice_end = monotonic_ns() + tsan_signal_slice_ns;
    if (deadline_ns < 0 || deadline_ns > slice_end) deadline_ns = slice_end;
  }
#endif
  if (blocking) blocked_.store(true, std::memory_order_relaxed);
  if (!blocking) {
    n = ::epoll_wait(epfd_, evs, max_events, 0);
  } else if (deadline_ns < 0) {
    n = ::epoll_wait(epfd_, evs, max_events, -1);
  } else {
    std::int64_t left = deadline_ns - monotonic_ns();
    if (left < 0) left = 0;
    n = -1;
    if (!no_pwait2.load(std::memory_order_relaxed)) {
      timespec ts = to_timespec(left);
      n = ::epoll_pwait2(epfd_, evs, max_events, &ts, nullptr);
      // ENOSYS before Linux 5.11; EPERM from seccomp filters that predate the call: either way
      // returning at once would make the sleeper spin, so fall back for good.
      if (n < 0 && errno != EINTR) no_pwait2.store(true, std::memory_order_relaxed);
    }
    if (no_pwait2.load(std::memory_order_relaxed)) {
      // Milliseconds, rounded up: waking early would only make the sleeper go round again.
      std::int64_t ms = (left + 999'999) / 1'000'000;
      n = ::epoll_wait(epfd_, evs, max_events, ms > 1'000'000'000 ? 1'000'000'000 : int(ms));
    }
  }
  last_poll_.store(monotonic_ns(), std::memory_order_relaxed);
  if (blocking) blocked_.store(false, std::memory_order_relaxed);
  if (n <= 0) return 0;  // timeout or EINTR
  int delivered = 0;
  for (int i = 0; i < n; ++i) {
    if (evs[i].data.u64 == 0) {
      if (blocking) {
        // Drain, then clear: the other order lets a wake() slip in between, whose write the
        // drain eats while wake_pending_ stays set, and every later wake() would skip its write
        // (a lost wakeup for every future sleeper). A wake() after the drain but before the
        // clear is skipped harmlessly: its target is this sleeper, which is leaving anyway.
        drain(wakefd_);
        wake_pending_.store(false, std::memory_order_seq_cst);
        if (woken) *woken = true;
      }
      continue;
    }
    std::uint16_t seq;
    poll_desc* pd = poll_desc::from_tag(evs[i].data.u64, &seq);
#if GORO_TSAN
    __tsan_acquire(pd);
#endif
    const std::uint32_t e = evs[i].events;
    pd->notify(seq, e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR),
               e & (EPOLLOUT | EPOLLHUP | EPOLLERR));
    ++delivered;
  }
  return delivered;
}

void poller::wake() noexcept {
  if (!wake_pending_.exchange(true, std::memory_order_seq_cst)) signal_fd(wakefd_);
}

}  // namespace goro::detail
