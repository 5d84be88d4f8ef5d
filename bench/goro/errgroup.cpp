// errgroup: n tasks run through a goro::errgroup limited to 8 at a time (set_limit(8)); each
// task stores i + 1 and returns no error. Checksum: the sum of the stored values.
#include "goro/errgroup.hpp"
#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  return goro::run(
      [&] {
        std::vector<std::int64_t> got(a.n);
        bench::stopwatch sw;
        goro::errgroup g;
        g.set_limit(8);
        for (std::int64_t i = 0; i < a.n; ++i)
          g.go([&got, i] {
            got[i] = i + 1;
            return goro::error();
          });
        const goro::error err = g.wait();
        const double ms = sw.ms();
        if (err) bench::fail("errgroup: " + std::string(err.message()));
        std::int64_t sum = 0;
        for (auto v : got) sum += v;
        bench::report("errgroup", "goro", a, sum, ms);
      },
      goro::options{.workers = a.workers});
}
