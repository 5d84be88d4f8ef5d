// memory on Boost.Fiber: n fibers parked on one unbuffered channel; reports the resident memory
// per parked fiber (VmRSS once all have started, minus VmRSS before, over n), then closes the
// channel to release them. ms: spawn, park and release all.
// Checksum: the sum of i + 1 over the released fibers.
#include <string>

#include "boost_rt.hpp"

using namespace bench::bf;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  run(a.workers, [&] {
    std::vector<std::uint8_t> released(a.n);
    auto ch = make_chan<int>();
    wait_group started, finished;
    started.add(a.n);
    finished.add(a.n);
    const std::int64_t rss0 = bench::proc_status_kb("VmRSS") * 1024;
    bench::stopwatch sw;
    for (std::int64_t i = 0; i < a.n; ++i)
      go([&, i] {
        started.done();
        int v;
        ch->pop(v);
        released[i] = 1;
        finished.done();
      });
    started.wait();
    const std::int64_t rss1 = bench::proc_status_kb("VmRSS") * 1024;
    ch->close();
    finished.wait();
    const double ms = sw.ms();
    bench::report("memory", "boost", a, bench::sum_marked(released), ms,
                  " bytes_per_fiber=" + std::to_string((rss1 - rss0) / a.n));
  });
}
