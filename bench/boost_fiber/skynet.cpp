// skynet on Boost.Fiber: a 10-ary tree of fibers with n leaves; each leaf sends its number and
// each inner fiber the sum of its children's, over unbuffered channels.
// Checksum: 0 + 1 + ... + (n-1).
#include "boost_rt.hpp"

using namespace bench::bf;

static void skynet(chan<std::int64_t> out, std::int64_t first, std::int64_t size) {
  if (size == 1) {
    out->push(first);
    return;
  }
  const std::int64_t kids = std::min<std::int64_t>(10, size);
  auto c = make_chan<std::int64_t>();
  for (std::int64_t i = 0; i < kids; ++i)
    go([c, f = first + size * i / kids, s = size * (i + 1) / kids - size * i / kids] {
      skynet(c, f, s);
    });
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < kids; ++i) sum += c->value_pop();
  out->push(sum);
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  run(a.workers, [&] {
    bench::stopwatch sw;
    auto c = make_chan<std::int64_t>();
    go([c, n = a.n] { skynet(c, 0, n); });
    const std::int64_t sum = c->value_pop();
    bench::report("skynet", "boost", a, sum, sw.ms());
  });
}
