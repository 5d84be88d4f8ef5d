// skynet: a 10-ary tree of fibers with n leaves; each leaf sends its number and each inner fiber
// the sum of its children's, over unbuffered channels. Checksum: 0 + 1 + ... + (n-1).
#include "common.hpp"
#include "goro/goro.hpp"

static void skynet(goro::send_chan<std::int64_t> out, std::int64_t first, std::int64_t size) {
  if (size == 1) {
    out.send(first);
    return;
  }
  const std::int64_t kids = std::min<std::int64_t>(10, size);
  auto c = goro::make_chan<std::int64_t>();
  for (std::int64_t i = 0; i < kids; ++i)
    goro::go(skynet, c, first + size * i / kids, size * (i + 1) / kids - size * i / kids);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < kids; ++i) sum += *c.recv();
  out.send(sum);
}

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        auto c = goro::make_chan<std::int64_t>();
        goro::go(skynet, c, 0, a.n);
        const std::int64_t sum = *c.recv();
        bench::report("skynet", "goro", a, sum, sw.ms());
      },
      goro::options{.workers = a.workers});
}
