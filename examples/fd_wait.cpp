// goro::wait_readable on descriptors you own: an eventfd and a non-blocking pipe, both written by
// a plain std::thread. A fiber that waits on one is parked by the runtime's network poller; its
// worker keeps running other fibers. To make that visible the runtime has a single worker, and a
// ticker fiber counts milliseconds while the two reader fibers wait: were a wait to block the
// worker's thread, the ticker would stand still. Last, a wait with a deadline that passes first
// returns an error for which goro::net::is_timeout() is true. The same calls let third-party
// clients that expose their socket (libpq, hiredis, curl multi) run inside fibers.
#include <goro/goro.hpp>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

static const std::string pipe_message = "hello through a pipe, from a plain thread";

// Sums what the eventfd's counter receives until it reaches `total`. A read returns everything
// added since the last one, and resets the counter: writes that came close together arrive
// summed.
static std::uint64_t read_eventfd(int efd, std::uint64_t total) {
  std::uint64_t sum = 0;
  while (sum < total) {
    std::uint64_t v;
    if (::read(efd, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) {
      sum += v;
    } else if (errno == EAGAIN) {
      if (goro::wait_readable(efd)) break;  // parks this fiber, not the worker
    } else {
      break;
    }
  }
  return sum;
}

// Reads the pipe until its end (the writer closed it).
static std::string read_pipe(int fd) {
  std::string got;
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return got;
    } else if (errno != EAGAIN || goro::wait_readable(fd)) {
      return got + " [read error]";
    }
  }
}

int main() {
  // One worker: a wait that blocked its thread would stop every fiber, the ticker included.
  return goro::run(
      [] {
        int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        int p[2], idle[2];
        if (efd < 0 || ::pipe2(p, O_CLOEXEC) != 0 || ::pipe2(idle, O_CLOEXEC) != 0) {
          std::perror("FAIL: eventfd/pipe2");
          return 1;
        }
        ::fcntl(p[0], F_SETFL, O_NONBLOCK);     // our end must not block; the thread's may
        ::fcntl(idle[0], F_SETFL, O_NONBLOCK);  // nobody ever writes this one

        std::atomic<bool> stop_ticker{false};
        std::atomic<int> ticks{0};
        goro::wait_group fibers;
        fibers.go([&] {
          while (!stop_ticker.load()) {
            goro::sleep_for(1ms);
            ticks.fetch_add(1);
          }
        });

        // The thread adds 1, 2, ..., 10 to the eventfd's counter and sends the message through
        // the pipe in pieces, 5 ms apart, then closes its end of the pipe.
        constexpr std::uint64_t writes = 10, expected_sum = writes * (writes + 1) / 2;
        std::thread producer([&] {
          for (std::uint64_t i = 1; i <= writes; ++i) {
            std::this_thread::sleep_for(5ms);
            (void)!::write(efd, &i, sizeof i);
            const std::size_t piece = pipe_message.size() / writes + 1, at = (i - 1) * piece;
            if (at < pipe_message.size())
              (void)!::write(p[1], pipe_message.data() + at,
                             std::min(piece, pipe_message.size() - at));
          }
          ::close(p[1]);
        });

        const int ticks_before = ticks.load();
        std::uint64_t sum = 0;
        std::string message;
        goro::wait_group readers;
        readers.go([&] { sum = read_eventfd(efd, expected_sum); });
        readers.go([&] { message = read_pipe(p[0]); });
        readers.wait();
        producer.join();
        const int ticks_during_reads = ticks.load() - ticks_before;

        // Nothing ever comes on `idle`: the deadline ends the wait.
        const int ticks_before_deadline = ticks.load();
        const auto t0 = clk::now();
        const goro::error err = goro::wait_readable(idle[0], t0 + 50ms);
        const auto waited = clk::now() - t0;
        const int ticks_during_deadline = ticks.load() - ticks_before_deadline;

        stop_ticker = true;
        fibers.wait();
        for (int fd : {efd, p[0], idle[0], idle[1]}) ::close(fd);

        std::printf("eventfd: %llu writes from a thread, counter total %llu\n",
                    static_cast<unsigned long long>(writes), static_cast<unsigned long long>(sum));
        std::printf("pipe: \"%s\" until the end of the stream\n", message.c_str());
        std::printf("deadline: %s\n", goro::net::is_timeout(err) && waited >= 50ms
                                          ? "the 50 ms wait timed out"
                                          : "did not time out as expected");
        std::printf("ticker: %s\n", ticks_during_reads > 0 && ticks_during_deadline > 0
                                        ? "kept running while the fibers were parked"
                                        : "stood still");
        if (sum != expected_sum || message != pipe_message || !goro::net::is_timeout(err) ||
            waited < 50ms || ticks_during_reads == 0 || ticks_during_deadline == 0) {
          std::printf("FAIL: fd_wait: unexpected outcome (ticks %d and %d, waited %lld us: %s)\n",
                      ticks_during_reads, ticks_during_deadline,
                      static_cast<long long>(
                          std::chrono::duration_cast<std::chrono::microseconds>(waited).count()),
                      err.message().c_str());
          return 1;
        }
        std::printf(
            "fd_wait: eventfd total %llu, pipe message intact, deadline timed out, "
            "ticker ran meanwhile (ok)\n",
            static_cast<unsigned long long>(sum));
        return 0;
      },
      goro::options{.workers = 1});
}
