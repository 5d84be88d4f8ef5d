// sieve on Boost.Fiber: the concurrent prime sieve. A generator fiber sends 2, 3, 4, ...
// through a daisy chain of filter fibers, one per prime found, over unbuffered channels, until
// main has n primes; then the generator stops and the chain drains and closes from its head.
// Checksum: the sum of the first n primes.
#include "boost_rt.hpp"

using namespace bench::bf;

static void filter(chan<std::int64_t> in, chan<std::int64_t> out, std::int64_t prime) {
  for (std::int64_t v; in->pop(v) == fibers::channel_op_status::success;)
    if (v % prime != 0) out->push(v);
  out->close();
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 5'000);
  run(a.workers, [&] {
    bench::stopwatch sw;
    std::atomic<bool> stop{false};
    auto ch = make_chan<std::int64_t>();
    go([&stop, out = ch] {
      for (std::int64_t i = 2; !stop.load(std::memory_order_relaxed); ++i) out->push(i);
      out->close();
    });
    std::int64_t sum = 0;
    for (std::int64_t k = 0; k < a.n; ++k) {
      const std::int64_t prime = ch->value_pop();
      sum += prime;
      auto next = make_chan<std::int64_t>();
      go([ch, next, prime] { filter(ch, next, prime); });
      ch = next;
    }
    stop.store(true, std::memory_order_relaxed);
    for (std::int64_t v; ch->pop(v) == fibers::channel_op_status::success;) {
    }
    bench::report("sieve", "boost", a, sum, sw.ms());
  });
}
