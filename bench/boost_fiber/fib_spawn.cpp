// fib_spawn on Boost.Fiber: fib(n) computed naively, in parallel: every call runs in its own
// fiber and, for n >= 2, spawns two fibers for its sub-calls and receives their results over an
// unbuffered channel. Checksum: fib(n).
#include "boost_rt.hpp"

using namespace bench::bf;

static void fib(chan<std::int64_t> out, std::int64_t n) {
  if (n < 2) {
    out->push(n);
    return;
  }
  auto c = make_chan<std::int64_t>();
  go([c, n] { fib(c, n - 1); });
  go([c, n] { fib(c, n - 2); });
  const std::int64_t x = c->value_pop();
  out->push(x + c->value_pop());
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 27);
  run(a.workers, [&] {
    bench::stopwatch sw;
    auto c = make_chan<std::int64_t>();
    go([c, n = a.n] { fib(c, n); });
    const std::int64_t result = c->value_pop();
    bench::report("fib_spawn", "boost", a, result, sw.ms());
  });
}
