// The README's example: ten fibers send squares over a channel; main sums them.
#include <cstdio>
#include <goro/goro.hpp>

int main() {
  return goro::run([] {
    auto results = goro::make_chan<int>();
    for (int i = 0; i < 10; ++i) goro::go([=] { results.send(i * i); });  // go f()
    int sum = 0;
    for (int i = 0; i < 10; ++i) sum += *results.recv();  // <-results
    std::printf("sum of squares: %d\n", sum);
  });
}
