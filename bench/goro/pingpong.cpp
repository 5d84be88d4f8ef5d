// pingpong: n round trips between two fibers over two unbuffered channels (the echo fiber
// replies with the request plus one). Checksum: the sum of the replies.
#include "common.hpp"
#include "goro/goro.hpp"

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  return goro::run(
      [&] {
        bench::stopwatch sw;
        auto ping = goro::make_chan<std::int64_t>();
        auto pong = goro::make_chan<std::int64_t>();
        goro::go([ping, pong]() {
          for (std::int64_t v : ping) pong.send(v + 1);
        });
        std::int64_t sum = 0;
        for (std::int64_t i = 0; i < a.n; ++i) {
          ping.send(i);
          sum += *pong.recv();
        }
        ping.close();
        bench::report("pingpong", "goro", a, sum, sw.ms());
      },
      goro::options{.workers = a.workers});
}
