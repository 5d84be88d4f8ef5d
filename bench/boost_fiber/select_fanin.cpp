// select_fanin on Boost.Fiber: 4 producers, each on its own unbuffered channel, send the values
// 0 .. n-1 between them; one consumer takes them all. Boost.Fiber has no select: one forwarder
// fiber per channel moves its values into a merged unbuffered channel that the consumer reads
// (one extra hop per value; the last forwarder to finish closes it).
// Checksum: the sum of the values received.
#include "boost_rt.hpp"

using namespace bench::bf;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 2'000'000);
  run(a.workers, [&] {
    bench::note("boost",
                "no select in Boost.Fiber: 4 forwarder fibers merge the 4 channels into one (one "
                "extra hop per value)");
    bench::stopwatch sw;
    auto merged = make_chan<std::int64_t>();
    auto forwarding = std::make_shared<std::atomic<int>>(4);
    for (std::int64_t p = 0; p < 4; ++p) {
      auto c = make_chan<std::int64_t>();
      go([c, p, n = a.n] {
        for (std::int64_t v = n * p / 4; v < n * (p + 1) / 4; ++v) c->push(v);
        c->close();
      });
      go([c, merged, forwarding] {
        for (std::int64_t v; c->pop(v) == fibers::channel_op_status::success;) merged->push(v);
        if (forwarding->fetch_sub(1) == 1) merged->close();
      });
    }
    std::int64_t sum = 0;
    for (std::int64_t v; merged->pop(v) == fibers::channel_op_status::success;) sum += v;
    bench::report("select_fanin", "boost", a, sum, sw.ms());
  });
}
