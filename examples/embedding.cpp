// Embedding goro in an existing multi-threaded C++ program.
//
// The "existing program" here is a few plain std::threads (think request handlers of a server).
// They hand work to a compute_service, which owns a goro::runtime: a pool of fibers receives jobs
// from a channel and sends each result back on the job's own reply channel. The threads need to
// know nothing about fibers: channel operations called from a plain thread simply block that
// thread. Two styles are shown:
//
//   - request/reply: a thread sends {n, reply channel} to the service and blocks on the reply;
//   - block_on: a thread runs a whole fiber computation (here a fan-out over many fibers) on the
//     runtime and waits for its result, like calling a function.
//
// Shutdown is explicit and clean: the threads are joined, then the service closes its jobs
// channel (the fibers' range loops end), waits for its fibers with a wait_group, and finally the
// runtime's destructor stops and joins its worker threads.
#include <goro/goro.hpp>

#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

// The work: the number of Collatz steps from n down to 1.
static std::uint64_t collatz_steps(std::uint64_t n) {
  std::uint64_t steps = 0;
  for (; n != 1; ++steps) n = n % 2 ? 3 * n + 1 : n / 2;
  return steps;
}

class compute_service {
 public:
  explicit compute_service(std::size_t fibers) {
    for (std::size_t i = 0; i < fibers; ++i) {
      // wg.go(rt, f): spawn on this runtime (we are on a plain thread, not in a fiber).
      fibers_.go(rt_, [jobs = jobs_] {
        for (const job& j : jobs) j.reply.send(collatz_steps(j.n));  // ends when jobs_ is closed
      });
    }
  }

  compute_service(const compute_service&) = delete;
  compute_service& operator=(const compute_service&) = delete;

  ~compute_service() {
    jobs_.close();   // no more jobs: each fiber's range loop ends after the queued ones
    fibers_.wait();  // blocks this thread until every service fiber has returned
  }                  // then ~runtime: stops and joins the worker threads

  // Request/reply, callable from any thread (or fiber): blocks the caller, not a worker.
  std::uint64_t compute(std::uint64_t n) {
    auto reply = goro::make_chan<std::uint64_t>(1);  // buffered: the fiber never waits for us
    jobs_.send(job{n, reply});
    return *reply.recv();
  }

  // Runs f as a fiber on the service's runtime and returns its result (rethrows its exception).
  template <class F>
  auto run(F&& f) {
    return rt_.block_on(std::forward<F>(f));
  }

 private:
  struct job {
    std::uint64_t n;
    goro::chan<std::uint64_t> reply;
  };

  // Declared first, so destroyed last: everything below is used by fibers of this runtime.
  goro::runtime rt_{goro::options{.workers = 2}};
  goro::chan<job> jobs_ = goro::make_chan<job>(64);
  goro::wait_group fibers_;
};

int main() {
  constexpr int num_threads = 3;
  constexpr int per_thread = 200;
  std::vector<std::uint64_t> totals(num_threads);
  std::uint64_t fan_out_total = 0;
  {
    compute_service service(8);

    // The existing program's threads.
    std::vector<std::thread> threads;
    threads.reserve(num_threads);
    for (int t = 0; t < num_threads; ++t) {
      threads.emplace_back([&service, &totals, t] {
        std::uint64_t total = 0;
        for (int i = 1; i <= per_thread; ++i) total += service.compute(t * per_thread + i);
        totals[t] = total;
      });
    }

    // Meanwhile the main thread runs one computation as a fiber that fans out to 100 fibers.
    fan_out_total = service.run([] {
      auto results = goro::make_chan<std::uint64_t>(100);
      for (std::uint64_t n = 1; n <= 100; ++n) goro::go([=] { results.send(collatz_steps(n)); });
      std::uint64_t sum = 0;
      for (int i = 0; i < 100; ++i) sum += *results.recv();
      return sum;
    });

    for (auto& th : threads) th.join();
  }  // ~compute_service: close, wait for the fibers, destroy the runtime
  std::printf("runtime shut down\n");

  // Check every result against a plain sequential computation.
  bool ok = true;
  for (int t = 0; t < num_threads; ++t) {
    std::uint64_t expect = 0;
    for (int i = 1; i <= per_thread; ++i) expect += collatz_steps(t * per_thread + i);
    std::printf("thread %d: %d requests, total steps %llu (%s)\n", t, per_thread,
                static_cast<unsigned long long>(totals[t]), totals[t] == expect ? "ok" : "FAIL");
    ok = ok && totals[t] == expect;
  }
  std::uint64_t expect = 0;
  for (std::uint64_t n = 1; n <= 100; ++n) expect += collatz_steps(n);
  std::printf("block_on fan-out over 100 fibers: total steps %llu (%s)\n",
              static_cast<unsigned long long>(fan_out_total),
              fan_out_total == expect ? "ok" : "FAIL");
  ok = ok && fan_out_total == expect;
  std::printf(ok ? "all results correct\n" : "FAIL: wrong results\n");
  return ok ? 0 : 1;
}
