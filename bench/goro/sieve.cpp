// sieve: the concurrent prime sieve. A generator fiber sends 2, 3, 4, ... through a daisy
// chain of filter fibers, one per prime found, over unbuffered channels, until main has n
// primes; then the generator stops and the chain drains and closes from its head.
// Checksum: the sum of the first n primes.
#include <atomic>

#include "common.hpp"
#include "goro/goro.hpp"

static void filter(goro::recv_chan<std::int64_t> in, goro::send_chan<std::int64_t> out,
                   std::int64_t prime) {
  for (std::int64_t v : in)
    if (v % prime != 0) out.send(v);
  out.close();
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 5'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        std::atomic<bool> stop{false};
        auto ch = goro::make_chan<std::int64_t>();
        goro::go([&stop, out = ch]() {
          for (std::int64_t i = 2; !stop.load(std::memory_order_relaxed); ++i) out.send(i);
          out.close();
        });
        std::int64_t sum = 0;
        for (std::int64_t k = 0; k < a.n; ++k) {
          const std::int64_t prime = *ch.recv();
          sum += prime;
          auto next = goro::make_chan<std::int64_t>();
          goro::go(filter, ch, next, prime);
          ch = next;
        }
        stop.store(true, std::memory_order_relaxed);
        while (ch.recv()) {
        }
        bench::report("sieve", "goro", a, sum, sw.ms());
      },
      goro::options{.workers = a.workers});
}
