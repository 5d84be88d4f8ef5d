// Skynet (github.com/atemerev/skynet): a fiber spawns 10 children, each spawns 10 more, down to
// 1,000,000 leaves (1,111,111 fibers in all); every leaf sends its number up an unbuffered
// channel and each parent sends the sum of its children's. The answer is 0 + 1 + ... + 999,999.
//
// Usage: skynet [leaves]   (a power of 10; default 1000000)
//
// The Go original:
//
//   func skynet(c chan int, num, size, div int) {
//       if size == 1 { c <- num; return }
//       rc := make(chan int)
//       for i := 0; i < div; i++ { go skynet(rc, num+i*(size/div), size/div, div) }
//       sum := 0
//       for i := 0; i < div; i++ { sum += <-rc }
//       c <- sum
//   }
#include <goro/goro.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

static void skynet(goro::send_chan<std::int64_t> c, std::int64_t num, std::int64_t size, int div) {
  if (size == 1) {
    c.send(num);
    return;
  }
  auto rc = goro::make_chan<std::int64_t>();
  // goro::go(f, args...) decay-copies f and its arguments, like Go's `go f(args...)`.
  for (int i = 0; i < div; ++i) goro::go(skynet, rc, num + i * (size / div), size / div, div);
  std::int64_t sum = 0;
  for (int i = 0; i < div; ++i) sum += *rc.recv();  // recv() is nullopt only once closed
  c.send(sum);
}

int main(int argc, char** argv) {
  const std::int64_t leaves = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  if (leaves < 1) {
    std::fprintf(stderr, "usage: skynet [leaves]\n");
    return 2;
  }
  return goro::run([leaves] {
    auto t0 = std::chrono::steady_clock::now();
    auto c = goro::make_chan<std::int64_t>();
    goro::go(skynet, c, 0, leaves, 10);
    const std::int64_t result = *c.recv();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::int64_t expected = leaves * (leaves - 1) / 2;
    std::printf("skynet(%lld): %lld (expected %lld)\n", static_cast<long long>(leaves),
                static_cast<long long>(result), static_cast<long long>(expected));
    std::printf("took %.1f ms\n", ms);
    return result == expected ? 0 : 1;
  });
}
