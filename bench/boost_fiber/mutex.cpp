// mutex on Boost.Fiber: n fibers each lock a fibers::mutex, increment a shared counter and
// unlock, 1,000 times. Checksum: the counter (n * 1000).
#include "boost_rt.hpp"

using namespace bench::bf;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 10'000);
  run(a.workers, [&] {
    bench::stopwatch sw;
    fibers::mutex m;
    std::int64_t counter = 0;
    wait_group wg;
    wg.add(a.n);
    for (std::int64_t i = 0; i < a.n; ++i)
      go([&] {
        for (int k = 0; k < 1000; ++k) {
          std::lock_guard lock(m);
          ++counter;
        }
        wg.done();
      });
    wg.wait();
    bench::report("mutex", "boost", a, counter, sw.ms());
  });
}
