// mpmc on Boost.Fiber: 4 producers and 4 consumers share one buffered_channel(1024) carrying
// the values 0 .. n-1. Checksum: the sum of the values received.
#include "boost_rt.hpp"

using namespace bench::bf;

constexpr int producers = 4;
constexpr int consumers = 4;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 10'000'000);
  run(a.workers, [&] {
    bench::note("boost",
                "buffered_channel(1024) holds at most 1023 values (a ring with one free slot)");
    bench::stopwatch sw;
    auto ch = std::make_shared<fibers::buffered_channel<std::int64_t>>(1024);
    auto sums = make_chan<std::int64_t>();
    wait_group sending;
    sending.add(producers);
    for (std::int64_t p = 0; p < producers; ++p)
      go([ch, p, n = a.n, &sending] {
        for (std::int64_t v = n * p / producers; v < n * (p + 1) / producers; ++v) ch->push(v);
        sending.done();
      });
    for (int c = 0; c < consumers; ++c)
      go([ch, sums] {
        std::int64_t sum = 0;
        for (std::int64_t v; ch->pop(v) == fibers::channel_op_status::success;) sum += v;
        sums->push(sum);
      });
    sending.wait();
    ch->close();
    std::int64_t sum = 0;
    for (int c = 0; c < consumers; ++c) sum += sums->value_pop();
    bench::report("mpmc", "boost", a, sum, sw.ms());
  });
}
