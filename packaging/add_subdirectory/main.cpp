// Consumer of goro built with add_subdirectory: an explicit runtime, a wait_group, a mutex and a
// ticker, used from the main thread.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>

using namespace std::chrono_literals;

int main() {
  int counter = 0;
  int ticks = 0;
  {
    goro::runtime rt({.workers = 2});
    goro::mutex mu;
    goro::wait_group wg;
    for (int i = 0; i < 100; ++i) {
      wg.go(rt, [&] {
        std::lock_guard lk(mu);
        ++counter;
      });
    }
    wg.wait();  // from a plain thread: blocks the thread
    ticks = rt.block_on([] {
      goro::ticker t(1ms);
      int n = 0;
      while (n < 3 && t.c().recv()) ++n;
      return n;
    });
  }
  const bool ok = counter == 100 && ticks == 3;
  std::printf("goro consumer: counter %d, ticks %d: %s\n", counter, ticks, ok ? "OK" : "FAIL");
  return ok ? 0 : 1;
}
