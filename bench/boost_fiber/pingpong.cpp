// pingpong on Boost.Fiber: n round trips between two fibers over two unbuffered channels (the
// echo fiber replies with the request plus one). Checksum: the sum of the replies.
#include "boost_rt.hpp"

using namespace bench::bf;

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  run(a.workers, [&] {
    bench::stopwatch sw;
    auto ping = make_chan<std::int64_t>();
    auto pong = make_chan<std::int64_t>();
    go([ping, pong] {
      for (std::int64_t v; ping->pop(v) == fibers::channel_op_status::success;) pong->push(v + 1);
    });
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < a.n; ++i) {
      ping->push(i);
      sum += pong->value_pop();
    }
    ping->close();
    bench::report("pingpong", "boost", a, sum, sw.ms());
  });
}
