// The client half of the "10,000 concurrent connections" test (tests/test_net.cpp), in its own
// process so that each side stays within the descriptor limit:
//   net_load_client ADDR N
// dials N connections (at most 500 dials in flight), and once all are connected, each sends its
// 8-byte index, checks the echo, then reads until the server closes. Exits 0 and prints
// "net_load_client: N connections ok" if every connection did exactly that.
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "goro/goro.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: net_load_client ADDR N\n");
    return 2;
  }
  const std::string addr = argv[1];
  const int n = std::atoi(argv[2]);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  return goro::run([&]() -> int {
    std::atomic<int> ok{0};
    std::atomic<int> failures{0};
    goro::wait_group connected, finished;
    auto all_connected = goro::make_chan<std::monostate>();
    goro::semaphore dials(500);
    connected.add(n);
    finished.add(n);
    for (int i = 0; i < n; ++i) {
      goro::go([&, i] {
        dials.acquire();
        auto [c, err] = goro::net::dial("tcp", addr);
        dials.release();
        connected.done();
        if (err) {
          std::fprintf(stderr, "dial %d: %s\n", i, err.message().c_str());
          ++failures;
          finished.done();
          return;
        }
        c.set_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(120));
        all_connected.recv();
        std::uint64_t id = static_cast<std::uint64_t>(i), back = 0;
        bool good = !c.write(std::as_bytes(std::span(&id, 1))).err &&
                    !goro::io::read_full(c, std::as_writable_bytes(std::span(&back, 1))).err &&
                    back == id;
        char b[1];
        good = good && c.read(std::span<char>(b)).err == goro::io::eof;
        good ? ++ok : ++failures;
        finished.done();
      });
    }
    connected.wait();
    all_connected.close();
    finished.wait();
    std::printf("net_load_client: %d connections %s (%d failed)\n", ok.load(),
                failures ? "FAILED" : "ok", failures.load());
    return failures ? 1 : 0;
  });
}
