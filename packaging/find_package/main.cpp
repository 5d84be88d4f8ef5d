// Consumer of the installed goro package: fibers, a buffered channel, errgroup and select.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

int main() {
  return goro::run([] {
    auto values = goro::make_chan<int>(10);
    goro::errgroup g;
    for (int i = 1; i <= 10; ++i) g.go([values, i] { values.send(i); });
    goro::error err = g.wait();
    values.close();
    int sum = 0;
    for (int v : values) sum += v;

    bool timed_out = false;
    goro::select(goro::case_recv(goro::make_chan<int>()),  // never ready
                 goro::case_recv(goro::after(1ms), [&] { timed_out = true; }));

    const bool ok = sum == 55 && !err && timed_out;
    std::printf("goro consumer: sum %d, error '%s', timeout %s: %s\n", sum, err.message().c_str(),
                timed_out ? "yes" : "no", ok ? "OK" : "FAIL");
    return ok ? 0 : 1;
  });
}
