// mutex: n fibers each lock a goro::mutex, increment a shared counter and unlock, 1,000 times.
// Checksum: the counter (n * 1000).
#include <mutex>

#include "common.hpp"
#include "goro/goro.hpp"
#include "goro/mutex.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 10'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        goro::mutex m;
        std::int64_t counter = 0;
        goro::wait_group wg;
        for (std::int64_t i = 0; i < a.n; ++i)
          wg.go([&] {
            for (int k = 0; k < 1000; ++k) {
              std::lock_guard lock(m);
              ++counter;
            }
          });
        wg.wait();
        bench::report("mutex", "goro", a, counter, sw.ms());
      },
      goro::options{.workers = a.workers});
}
