// timers: n fibers each sleep 1 + mix(i) % 20 ms (the same pseudo-random sequence in every
// implementation); reports the wall time and how late the wake-ups were (mean, median, p99).
// Checksum: the sum of the requested sleeps in ms, as recorded by the fibers after waking.
#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 100'000);
  return goro::run(
      [&] {
        std::vector<std::int64_t> slept(a.n), late_ns(a.n);
        bench::stopwatch sw;
        goro::wait_group wg;
        wg.add(a.n);
        for (std::int64_t i = 0; i < a.n; ++i)
          goro::go([&, i] {
            const auto d = std::chrono::milliseconds(1 + bench::mix(i) % 20);
            const auto t0 = std::chrono::steady_clock::now();
            goro::sleep_for(d);
            late_ns[i] =
                std::chrono::nanoseconds(std::chrono::steady_clock::now() - t0 - d).count();
            slept[i] = d.count();
            wg.done();
          });
        wg.wait();
        const double ms = sw.ms();
        std::int64_t sum = 0;
        for (auto d : slept) sum += d;
        bench::report("timers", "goro", a, sum, ms, bench::lateness(late_ns));
      },
      goro::options{.workers = a.workers});
}
