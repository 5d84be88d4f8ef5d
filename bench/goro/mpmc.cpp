// mpmc: 4 producers and 4 consumers share one buffered channel (capacity 1024) carrying the
// values 0 .. n-1. Checksum: the sum of the values received.
#include "common.hpp"
#include "goro/goro.hpp"

constexpr int producers = 4;
constexpr int consumers = 4;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 10'000'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        auto ch = goro::make_chan<std::int64_t>(1024);
        auto sums = goro::make_chan<std::int64_t>();
        goro::wait_group sending;
        for (std::int64_t p = 0; p < producers; ++p)
          sending.go([ch, p, n = a.n]() {
            for (std::int64_t v = n * p / producers; v < n * (p + 1) / producers; ++v) ch.send(v);
          });
        for (int c = 0; c < consumers; ++c)
          goro::go([ch, sums]() {
            std::int64_t sum = 0;
            for (std::int64_t v : ch) sum += v;
            sums.send(sum);
          });
        sending.wait();
        ch.close();
        std::int64_t sum = 0;
        for (int c = 0; c < consumers; ++c) sum += *sums.recv();
        bench::report("mpmc", "goro", a, sum, sw.ms());
      },
      goro::options{.workers = a.workers});
}
