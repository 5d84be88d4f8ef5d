// A runtime's network poller (Go's netpoll on epoll): one epoll instance, descriptors added
// once, edge-triggered, with their poll_desc's tag as data. Workers poll it without blocking
// when they look for work; the one idle worker that sleeps for the runtime (the "sleeper", see
// scheduler::park_worker) blocks in it with the nearest timer as its timeout, and is woken
// through an eventfd (level-triggered, drained only by that blocking poller, so a
// non-blocking poll can never swallow the wakeup meant for it).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>

namespace goro::detail {

struct poll_desc;

class poller {
 public:
  static constexpr int max_events = 128;

  poller();  // throws std::system_error if epoll or eventfd cannot be created
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  /// Unique for the process's lifetime (never reused, unlike an address).
  std::uint64_t id() const noexcept { return id_; }
  /// Adds pd's descriptor to the epoll set; false (errno set) if epoll refuses it.
  bool add(poll_desc* pd) noexcept;
  /// Removes a descriptor the user still owns (goro::wait_readable's registrations).
  void remove(int fd) noexcept;

  /// Waits for events until `deadline_ns` (-1: no limit; 0 or past: do not block), then
  /// delivers them (readies the fibers waiting). Returns the number of descriptor events;
  /// sets *woken if the eventfd was seen (only a blocking call drains it).
  int poll(std::int64_t deadline_ns, bool* woken = nullptr) noexcept;
  /// Makes a blocked poll() return.
  void wake() noexcept;

  /// Fibers of this runtime parked on a descriptor (Go's netpollWaiters): nobody polls when
  /// it is zero.
  std::int32_t waiting() const noexcept { return waiting_.load(std::memory_order_seq_cst); }
  void add_waiting(std::int32_t d) noexcept { waiting_.fetch_add(d, std::memory_order_seq_cst); }
  /// When a worker or the monitor last polled (ns), for the monitor's backstop poll.
  std::int64_t last_poll() const noexcept { return last_poll_.load(std::memory_order_relaxed); }
  /// A worker is blocked in poll() (it delivers events as they come: no backstop needed).
  bool blocked() const noexcept { return blocked_.load(std::memory_order_relaxed); }

 private:
  int epfd_ = -1;
  int wakefd_ = -1;
  std::uint64_t id_;
  std::atomic<bool> wake_pending_{false};
  std::atomic<std::int32_t> waiting_{0};
  std::atomic<std::int64_t> last_poll_{0};
  std::atomic<bool> blocked_{false};
};

}  // namespace goro::detail
