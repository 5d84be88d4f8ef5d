// spawn_join on Boost.Fiber: n fibers, each marking its flag and a wait group done; main
// waits for all. Checksum: the sum of i + 1 over the fibers that ran.
#include "boost_rt.hpp"

using namespace bench::bf;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  run(a.workers, [&] {
    bench::note("boost",
                "no wait_group in Boost.Fiber: an atomic counter + fibers::condition_variable");
    std::vector<std::uint8_t> ran(a.n);
    bench::stopwatch sw;
    wait_group wg;
    wg.add(a.n);
    for (std::int64_t i = 0; i < a.n; ++i)
      go([&ran, &wg, i] {
        ran[i] = 1;
        wg.done();
      });
    wg.wait();
    const double ms = sw.ms();
    bench::report("spawn_join", "boost", a, bench::sum_marked(ran), ms);
  });
}
