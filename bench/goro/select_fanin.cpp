// select_fanin: 4 producers, each on its own unbuffered channel, send the values 0 .. n-1
// between them; one consumer selects over the 4 channels, dropping each (to nil) once it is
// closed. Checksum: the sum of the values received.
#include <array>

#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 2'000'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        std::array<goro::chan<std::int64_t>, 4> chs;
        for (std::int64_t p = 0; p < 4; ++p) {
          chs[p] = goro::make_chan<std::int64_t>();
          goro::go([c = chs[p], p, n = a.n]() {
            for (std::int64_t v = n * p / 4; v < n * (p + 1) / 4; ++v) c.send(v);
            c.close();
          });
        }
        std::int64_t sum = 0;
        int open = 4;
        auto on = [&](int k) {
          return [&, k](std::optional<std::int64_t> v) {
            if (v) {
              sum += *v;
            } else {
              chs[k] = goro::chan<std::int64_t>();
              --open;
            }
          };
        };
        while (open > 0)
          goro::select(goro::case_recv(chs[0], on(0)), goro::case_recv(chs[1], on(1)),
                       goro::case_recv(chs[2], on(2)), goro::case_recv(chs[3], on(3)));
        bench::report("select_fanin", "goro", a, sum, sw.ms());
      },
      goro::options{.workers = a.workers});
}
