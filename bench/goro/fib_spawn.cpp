// fib_spawn: fib(n) computed naively, in parallel: every call runs in its own fiber and, for
// n >= 2, spawns two fibers for its sub-calls and receives their results over an unbuffered
// channel. Checksum: fib(n).
#include "common.hpp"
#include "goro/goro.hpp"

static void fib(goro::send_chan<std::int64_t> out, std::int64_t n) {
  if (n < 2) {
    out.send(n);
    return;
  }
  auto c = goro::make_chan<std::int64_t>();
  goro::go(fib, c, n - 1);
  goro::go(fib, c, n - 2);
  const std::int64_t x = *c.recv();
  out.send(x + *c.recv());
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 27);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        auto c = goro::make_chan<std::int64_t>();
        goro::go(fib, c, a.n);
        const std::int64_t result = *c.recv();
        bench::report("fib_spawn", "goro", a, result, sw.ms());
      },
      goro::options{.workers = a.workers});
}
