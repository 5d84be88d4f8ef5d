// memory: n fibers parked on one unbuffered channel; reports the resident memory per parked
// fiber (VmRSS once all have started, minus VmRSS before, over n), then closes the channel to
// release them. ms: spawn, park and release all. Checksum: the sum of i + 1 over released fibers.
#include <string>

#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  return goro::run(
      [&] {
        std::vector<std::uint8_t> released(a.n);
        auto ch = goro::make_chan<int>();
        goro::wait_group started, finished;
        started.add(a.n);
        finished.add(a.n);
        const std::int64_t rss0 = bench::proc_status_kb("VmRSS") * 1024;
        bench::stopwatch sw;
        for (std::int64_t i = 0; i < a.n; ++i)
          goro::go([&, i] {
            started.done();
            ch.recv();
            released[i] = 1;
            finished.done();
          });
        started.wait();
        const std::int64_t rss1 = bench::proc_status_kb("VmRSS") * 1024;
        ch.close();
        finished.wait();
        const double ms = sw.ms();
        bench::report("memory", "goro", a, bench::sum_marked(released), ms,
                      " bytes_per_fiber=" + std::to_string((rss1 - rss0) / a.n));
      },
      goro::options{.workers = a.workers});
}
