// Rate limiting (Go by Example), with the interval shortened from 200 ms to 20 ms:
//
// 1. Steady: serve one request per tick of a ticker.
// 2. Bursty: a buffered channel of 3 "tokens" lets a burst of 3 requests through at once; a
//    fiber refills one token per tick, so after the burst the rate is one per interval again.
//
// The program checks the guarantee a limiter gives: the k-th request limited by the ticker is
// served no earlier than k intervals after the ticker started (timers never fire early). It does
// not check exact times, which depend on the machine's load.
//
// The Go original (steady part):
//
//   requests := make(chan int, 5)
//   for i := 1; i <= 5; i++ { requests <- i }
//   close(requests)
//   limiter := time.Tick(200 * time.Millisecond)
//   for req := range requests { <-limiter; fmt.Println("request", req, time.Now()) }
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <variant>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto interval = 20ms;

static long long ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

int main() {
  return goro::run([] {
    bool ok = true;

    // 1. Steady rate.
    {
      auto requests = goro::make_chan<int>(5);
      for (int i = 1; i <= 5; ++i) requests.send(i);
      requests.close();

      const auto start = steady::now();
      goro::ticker limiter(interval);  // Go's time.Tick, but stoppable: stops when destroyed
      int k = 0;
      for (int req : requests) {
        limiter.c().recv();  // <-limiter
        ++k;
        const auto now = steady::now();
        std::printf("request %d at +%lld ms\n", req, ms_between(start, now));
        if (now < start + k * interval) ok = false;  // served too early: the limiter failed
      }
    }

    // 2. Bursts of up to 3.
    {
      auto bursty = goro::make_chan<steady::time_point>(3);
      for (int i = 0; i < 3; ++i) bursty.send(steady::now());  // the initial burst allowance

      // The refiller: one token per tick, until told to stop. Its ticker lives in the fiber.
      auto stop = goro::make_chan<std::monostate>();
      goro::wait_group refiller;
      const auto start = steady::now();
      refiller.go([bursty, stop] {
        goro::ticker t(interval);
        for (;;) {
          auto tick = t.c().recv();
          // Wait for room in the bucket, or stop.
          if (goro::select(goro::case_send(bursty, *tick), goro::case_recv(stop)) == 1) return;
        }
      });

      auto requests = goro::make_chan<int>(5);
      for (int i = 1; i <= 5; ++i) requests.send(i);
      requests.close();
      int k = 0;
      for (int req : requests) {
        bursty.recv();
        ++k;
        const auto now = steady::now();
        std::printf("bursty request %d at +%lld ms\n", req, ms_between(start, now));
        // Requests 1-3 use the burst; request 3+j needs the j-th tick.
        if (k > 3 && now < start + (k - 3) * interval) ok = false;
      }
      stop.close();
      refiller.wait();
    }

    std::printf(ok ? "rate limits respected\n" : "FAIL: a request was served too early\n");
    return ok ? 0 : 1;
  });
}
