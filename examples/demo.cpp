// goro's main demo: the seed's worker pool (Go by Example), then skynet with 1,000,000 fibers.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "goro/goro.hpp"

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

static double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// func worker(id int, jobs <-chan int, results chan<- int)
static void worker(int id, goro::recv_chan<int> jobs, goro::send_chan<int> results) {
  for (int j : jobs) {
    std::printf("worker %d started  job %d\n", id, j);
    goro::sleep_for(10ms);  // "expensive work"
    std::printf("worker %d finished job %d\n", id, j);
    results.send(j * 2);
  }
}

static int worker_pool() {
  constexpr int num_jobs = 10;
  auto jobs = goro::make_chan<int>(num_jobs);
  auto results = goro::make_chan<int>(num_jobs);
  goro::wait_group wg;
  for (int w = 1; w <= 3; ++w) wg.go([=] { worker(w, jobs, results); });
  for (int j = 1; j <= num_jobs; ++j) jobs.send(j);
  jobs.close();
  goro::go([&wg, results]() mutable {  // close results once every worker is done
    wg.wait();
    results.close();
  });
  int sum = 0;
  for (int r : results) sum += r;
  return sum;
}

// func skynet(c chan int, num, size, div int)
static void skynet(goro::send_chan<std::int64_t> c, std::int64_t num, std::int64_t size, int div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = goro::make_chan<std::int64_t>();
  for (int i = 0; i < div; ++i) goro::go(skynet, rc, num + i * (size / div), size / div, div);
  std::int64_t sum = 0;
  for (int i = 0; i < div; ++i) sum += *rc.recv();
  c.send(sum);
}

int main() {
  return goro::run([] {
    std::printf("goro demo\n\n== worker pool: 3 workers, 10 jobs\n");
    auto t0 = clock_type::now();
    int sum = worker_pool();
    std::printf("sum of results %d (expected %d) in %.1f ms\n", sum, 2 * 55, ms_since(t0));

    std::printf("\n== skynet: 1,000,000 fibers in a 10-ary tree, sums over channels\n");
    t0 = clock_type::now();
    auto c = goro::make_chan<std::int64_t>();
    goro::go(skynet, c, 0, 1'000'000, 10);
    std::int64_t result = *c.recv();
    std::printf("result %lld (expected 499999500000) in %.1f ms\n", static_cast<long long>(result),
                ms_since(t0));
    return sum == 110 && result == 499999500000 ? 0 : 1;
  });
}
