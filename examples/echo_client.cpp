// A checking client for echo_server: N messages of a few sizes (1 byte to 40 KB) spread over C
// concurrent connections. Each connection has two fibers: one writes its messages, the other
// reads the echoes and compares them byte for byte, so a large message never waits for its echo
// to be read (one fiber may read a goro::net::conn while another writes it). Every message's
// bytes depend on its connection and its number: an echo sent to the wrong connection, or
// reordered, is caught too.
//
//   echo_client ADDR [N=1000] [C=10]
// Prints "echo_client: N messages over C connections echoed correctly" and exits 0, or prints
// "FAIL ..." and exits 1.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

static constexpr std::size_t sizes[] = {1, 13, 512, 4096, 40000};

// Message `i` of connection `conn`: its size and contents are a function of both.
static std::vector<std::byte> message(std::size_t conn, std::size_t i) {
  std::vector<std::byte> m(sizes[(conn + i) % std::size(sizes)]);
  std::uint32_t x = static_cast<std::uint32_t>(conn * 1000003u + i * 7919u + 1u);
  for (std::byte& b : m) {
    x = x * 1664525u + 1013904223u;  // a small LCG: cheap, and different for every message
    b = static_cast<std::byte>(x >> 24);
  }
  return m;
}

// The first failure, reported once at the end.
class failures {
 public:
  void add(std::string what) {
    std::lock_guard lk(mu_);
    if (first_.empty()) first_ = std::move(what);
    ++count_;
  }
  bool any() {
    std::lock_guard lk(mu_);
    return count_ > 0;
  }
  void print() {
    std::lock_guard lk(mu_);
    std::printf("FAIL (%zu failed connections): %s\n", count_, first_.c_str());
  }

 private:
  goro::mutex mu_;
  std::string first_;
  std::size_t count_ = 0;
};

// Sends `count` messages over one connection and checks their echoes.
static void run_connection(const std::string& addr, std::size_t conn, std::size_t count,
                           failures& fails) {
  auto [dialed, err] = goro::net::dial_timeout("tcp", addr, 5s);
  goro::net::conn& c = dialed;  // clang < 16 cannot capture structured bindings
  if (err) return fails.add("dial: " + err.message());
  // A server that stops answering must not hang us.
  c.set_deadline(std::chrono::steady_clock::now() + 60s);
  const std::string where = "connection " + std::to_string(conn);

  goro::wait_group writer;
  std::string write_error;  // read after writer.wait()
  writer.go([&] {
    for (std::size_t i = 0; i < count; ++i) {
      if (auto [n, werr] = c.write(std::span<const std::byte>(message(conn, i))); werr) {
        write_error = where + ": write: " + werr.message();
        return;
      }
    }
    (void)c.close_write();  // the server sees the end of the stream and closes its side
  });

  std::vector<std::byte> got;
  std::string read_error;
  for (std::size_t i = 0; i < count && read_error.empty(); ++i) {
    const std::vector<std::byte> want = message(conn, i);
    got.resize(want.size());
    if (auto [n, rerr] = goro::io::read_full(c, got); rerr) {
      read_error = where + ": message " + std::to_string(i) + ": got " + std::to_string(n) +
                   " of " + std::to_string(want.size()) + " bytes: " + rerr.message();
    } else if (got != want) {
      std::size_t at = 0;
      while (got[at] == want[at]) ++at;
      read_error =
          where + ": message " + std::to_string(i) + ": byte " + std::to_string(at) + " differs";
    }
  }
  if (read_error.empty()) {  // then nothing more: the server closes after echoing everything
    std::byte extra[1];
    auto [n, rerr] = c.read(extra);
    if (n != 0 || rerr != goro::io::eof)
      read_error = where + ": expected the end of the stream after the last echo";
  }
  if (!read_error.empty()) (void)c.close();  // unblocks the writer (its error is then ours)
  writer.wait();
  if (!read_error.empty()) fails.add(read_error);
  else if (!write_error.empty()) fails.add(write_error);
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: echo_client ADDR [MESSAGES=1000] [CONNECTIONS=10]\n");
    return 2;
  }
  const std::string addr = argv[1];
  const long messages = argc > 2 ? std::atol(argv[2]) : 1000;
  const long connections = argc > 3 ? std::atol(argv[3]) : 10;
  if (messages < 0 || connections < 1) {
    std::fprintf(stderr, "echo_client: need MESSAGES >= 0 and CONNECTIONS >= 1\n");
    return 2;
  }
  return goro::run([&] {
    failures fails;
    goro::wait_group wg;
    for (long k = 0; k < connections; ++k) {
      // Connection k sends messages k, k + C, k + 2C, ...: N in all.
      const auto count = static_cast<std::size_t>((messages - k + connections - 1) / connections);
      wg.go([&, k, count] { run_connection(addr, static_cast<std::size_t>(k), count, fails); });
    }
    wg.wait();
    if (fails.any()) {
      fails.print();
      return 1;
    }
    std::printf("echo_client: %ld messages over %ld connections echoed correctly\n", messages,
                connections);
    return 0;
  });
}
