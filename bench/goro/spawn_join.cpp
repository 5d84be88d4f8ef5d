// spawn_join: n fibers, each marking its flag and a wait_group done; main waits for all.
// Checksum: the sum of i + 1 over the fibers that ran.
#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  return goro::run(
      [&] {
        std::vector<std::uint8_t> ran(a.n);
        bench::stopwatch sw;
        goro::wait_group wg;
        wg.add(a.n);
        for (std::int64_t i = 0; i < a.n; ++i)
          goro::go([&ran, &wg, i] {
            ran[i] = 1;
            wg.done();
          });
        wg.wait();
        const double ms = sw.ms();
        bench::report("spawn_join", "goro", a, bench::sum_marked(ran), ms);
      },
      goro::options{.workers = a.workers});
}
