// goro::net, goro::io, wait_readable/wait_writable and signal_notify.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

namespace {

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}

// Reads exactly n bytes as a string; on an error, what was read and "<error: ...>". Asserts
// nothing, so that fibers and threads running beside the test's own can use it (Catch2's
// assertions are not thread-safe: only the test's main fiber or thread asserts).
std::string read_n(goro::net::conn& c, std::size_t n) {
  std::string s(n, '\0');
  auto [got, err] = goro::io::read_full(c, std::span<char>(s));
  s.resize(got);
  if (err) s += "<error: " + err.message() + ">";
  return s;
}

// The message of err, "" for nil: what a helper fiber reports back for the test to check.
std::string what(const goro::error& err) { return err ? err.message() : ""; }

// A TCP listener on a free loopback port (fails the test if there is none).
goro::net::listener listen_loopback() {
  auto [ln, err] = goro::net::listen("tcp", "127.0.0.1:0");
  REQUIRE_FALSE(err);
  return std::move(ln);
}

// A connected pair on loopback: {client side, server side}.
std::pair<goro::net::conn, goro::net::conn> tcp_pair(std::string_view network = "tcp",
                                                     std::string_view host = "127.0.0.1:0") {
  auto [ln, err] = goro::net::listen(network, host);
  REQUIRE_FALSE(err);
  auto [c, derr] = goro::net::dial(network, ln.addr());
  REQUIRE_FALSE(derr);
  auto [s, aerr] = ln.accept();
  REQUIRE_FALSE(aerr);
  return {std::move(c), std::move(s)};
}

// Raises the soft RLIMIT_NOFILE to the hard limit for a test's lifetime; ok() is false (and the
// test should skip, saying so) when even the hard limit is below `needed`.
class nofile_limit {
 public:
  explicit nofile_limit(rlim_t needed) {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0 || saved_.rlim_max < needed) return;
    rlimit raised = saved_;
    raised.rlim_cur = raised.rlim_max;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
  }
  ~nofile_limit() {
    if (ok_) ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  nofile_limit(const nofile_limit&) = delete;
  nofile_limit& operator=(const nofile_limit&) = delete;
  bool ok() const noexcept { return ok_; }
  rlim_t hard() const noexcept { return saved_.rlim_max; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};
}  // namespace

TEST_CASE("net: tcp echo between fibers, addresses, eof", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    auto ln = listen_loopback();
    const std::string addr = ln.addr();
    CHECK(addr.rfind("127.0.0.1:", 0) == 0);
    CHECK(addr != "127.0.0.1:0");
    goro::wait_group wg;
    wg.add(1);
    std::string server_err;
    std::size_t echoed = 0;
    goro::go([&] {
      auto [c, aerr] = ln.accept();
      if (aerr) {
        server_err = aerr.message();
      } else {
        auto [n, cerr] = goro::io::copy(c, c);  // echo until the client's close_write
        server_err = what(cerr);
        echoed = n;
      }
      wg.done();
    });
    auto [c, derr] = goro::net::dial("tcp", addr);
    REQUIRE_FALSE(derr);
    CHECK(c.remote_addr() == addr);
    CHECK(c.local_addr().rfind("127.0.0.1:", 0) == 0);
    for (int i = 0; i < 1000; ++i) {
      auto [n, werr] = c.write("hello\n");
      REQUIRE_FALSE(werr);
      REQUIRE(n == 6);
      REQUIRE(read_n(c, 6) == "hello\n");
    }
    CHECK_FALSE(c.close_write());
    char b[4];
    auto [n, rerr] = c.read(std::span<char>(b));
    CHECK(n == 0);
    CHECK(rerr == goro::io::eof);
    wg.wait();
    CHECK(server_err == "");
    CHECK(echoed == 6 * 1000);
  });
}

TEST_CASE("net: tcp6 and unix sockets", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    {
      auto ln_err = goro::net::listen("tcp6", "[::1]:0");
      auto& ln = ln_err.ln;
      auto& err = ln_err.err;
      if (err) {
        WARN("no IPv6 loopback here: " << err.message());
      } else {
        CHECK(ln.addr().rfind("[::1]:", 0) == 0);
        goro::go([&ln] {
          auto [s, aerr] = ln.accept();
          if (!aerr) s.write("v6");
        });
        auto [c, derr] = goro::net::dial("tcp6", ln.addr());
        REQUIRE_FALSE(derr);
        CHECK(read_n(c, 2) == "v6");
      }
    }
    const std::string path = "/tmp/goro-test-" + std::to_string(::getpid()) + ".sock";
    {
      auto ln_err = goro::net::listen("unix", path);
      auto& ln = ln_err.ln;
      auto& err = ln_err.err;
      REQUIRE_FALSE(err);
      CHECK(ln.addr() == path);
      CHECK(::access(path.c_str(), F_OK) == 0);
      goro::go([&ln] {
        auto [s, aerr] = ln.accept();
        if (!aerr) s.write("unix");
      });
      auto [c, derr] = goro::net::dial("unix", path);
      REQUIRE_FALSE(derr);
      CHECK(c.remote_addr() == path);
      CHECK(read_n(c, 4) == "unix");
      CHECK_FALSE(ln.close());
      CHECK(::access(path.c_str(), F_OK) != 0);  // the listener removed its socket file
    }
    {
      auto ln_err = goro::net::listen("unix", "@goro-test-abstract-" + std::to_string(::getpid()));
      auto& ln = ln_err.ln;
      auto& err = ln_err.err;
      REQUIRE_FALSE(err);
      goro::go([&ln] {
        auto [s, aerr] = ln.accept();
        if (!aerr) s.write("@");
      });
      auto [c, derr] = goro::net::dial("unix", ln.addr());
      REQUIRE_FALSE(derr);
      CHECK(read_n(c, 1) == "@");
    }
  });
}

TEST_CASE("net: a plain thread and a fiber talk over a socket", "[net]") {
  goro::runtime rt({.workers = 1});
  auto ln = listen_loopback();
  auto served = rt.block_on([&ln] {
    // Fiber side: accept and echo three messages.
    auto f = goro::make_chan<int>(1);
    goro::go([&ln, f] {
      auto [s, aerr] = ln.accept();
      int n = aerr ? -1000 : 0;
      char buf[64];
      for (;;) {
        auto [got, rerr] = s.read(std::span<char>(buf));
        if (rerr) break;
        s.write(std::string_view(buf, got));
        n += static_cast<int>(got);
      }
      f.send(n);
    });
    return f;
  });
  // Thread side: blocks in poll(2), never touches a worker.
  std::string got;
  std::thread t([addr = ln.addr(), &got] {
    auto [c, derr] = goro::net::dial("tcp", addr);
    got = what(derr);
    for (std::string m : {"one", "two", "three"}) {
      got += what(c.write(m).err);
      got += read_n(c, m.size());
    }
  });
  t.join();
  CHECK(got == "onetwothree");
  CHECK(served.recv() == 11);
}

TEST_CASE("net: read deadlines fire on time, not before, and apply to blocked calls", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    auto c_s = tcp_pair();
    auto& c = c_s.first;
    auto& s = c_s.second;
    char b[8];
    // A deadline set before the call.
    auto t0 = clk::now();
    c.set_read_deadline(clk::now() + 60ms);
    auto [n, err] = c.read(std::span<char>(b));
    double took = ms_since(t0);
    CHECK(n == 0);
    CHECK(goro::net::is_timeout(err));
    CHECK(took >= 59.0);
    CHECK(took < 1000.0);
    // Once passed, later calls fail at once, even with data waiting.
    s.write("x");
    pollfd pf{c.native_handle(), POLLIN, 0};  // until the byte is in c's socket, for certain
    REQUIRE(::poll(&pf, 1, 10'000) == 1);
    CHECK(goro::net::is_timeout(c.read(std::span<char>(b)).err));
    // Cleared: the data is there.
    c.set_read_deadline({});
    CHECK(read_n(c, 1) == "x");
    // A deadline set while the call is blocked (from another fiber) applies to it.
    goro::go([&c] {
      goro::sleep_for(30ms);
      c.set_read_deadline(clk::now() + 20ms);
    });
    t0 = clk::now();
    auto r = c.read(std::span<char>(b));
    took = ms_since(t0);
    CHECK(goro::net::is_timeout(r.err));
    CHECK(took >= 49.0);
    CHECK(took < 1000.0);
    // A deadline in the past wakes a blocked call now.
    c.set_read_deadline({});
    goro::go([&c] {
      goro::sleep_for(20ms);
      c.set_read_deadline(clk::now() - 1h);
    });
    CHECK(goro::net::is_timeout(c.read(std::span<char>(b)).err));
    // Extreme deadlines: the far future never fires; the clock's minimum has passed.
    c.set_read_deadline(clk::time_point::max());
    s.write("y");
    CHECK(read_n(c, 1) == "y");
    c.set_read_deadline(clk::time_point::min());
    CHECK(goro::net::is_timeout(c.read(std::span<char>(b)).err));
  });
}

TEST_CASE("net: write deadline on a peer that does not read, and partial writes that complete",
          "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    auto c_s = tcp_pair();
    auto& c = c_s.first;
    auto& s = c_s.second;
    int small = 4096;
    ::setsockopt(c.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    // The peer does not read: the write blocks after the buffers fill, then times out.
    std::vector<char> big(8 << 20, 'z');
    c.set_write_deadline(clk::now() + 100ms);
    auto t0 = clk::now();
    auto [n, err] = c.write(std::span<const char>(big));
    CHECK(goro::net::is_timeout(err));
    CHECK(n > 0);
    CHECK(n < big.size());
    CHECK(ms_since(t0) >= 99.0);
    // The peer reads slowly: a large write goes out in many partial sends, in order.
    auto c2_s2 = tcp_pair();
    auto& c2 = c2_s2.first;
    auto& s2 = c2_s2.second;
    ::setsockopt(c2.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    std::vector<unsigned char> data(1 << 20);
    std::iota(data.begin(), data.end(), 0);
    auto wrote = goro::make_chan<goro::io::result>(1);
    goro::go([&c2, &data, wrote] {
      wrote.send(c2.write(std::as_bytes(std::span(data))));
      c2.close_write();
    });
    std::vector<unsigned char> got;
    std::byte buf[3000];
    goro::error end;
    for (;;) {
      auto [r, rerr] = s2.read(std::span<std::byte>(buf));
      got.insert(got.end(), reinterpret_cast<unsigned char*>(buf),
                 reinterpret_cast<unsigned char*>(buf) + r);
      if (rerr) {
        end = rerr;
        break;
      }
    }
    CHECK(end == goro::io::eof);
    CHECK(got == data);
    auto w = wrote.recv();
    REQUIRE(w.has_value());
    CHECK_FALSE(w->err);
    CHECK(w->n == data.size());
  });
}

TEST_CASE("net: close wakes blocked reads, writes and accepts, from fibers and threads", "[net]") {
  goro::runtime rt({.workers = 2});
  for (bool from_thread : {false, true}) {
    auto c_s = rt.block_on([] { return tcp_pair(); });
    auto& c = c_s.first;
    auto ln = listen_loopback();
    // A fiber blocked in read, one blocked in accept, and a plain thread blocked in read.
    auto results = goro::make_chan<goro::error>(3);
    rt.go([&c, results] {
      char b[4];
      results.send(c.read(std::span<char>(b)).err);
    });
    rt.go([&ln, results] { results.send(ln.accept().err); });
    auto c2_s2 = rt.block_on([] { return tcp_pair(); });
    auto& c2 = c2_s2.first;
    std::thread reader([&c2, results] {
      char b[4];
      results.send(c2.read(std::span<char>(b)).err);
    });
    std::this_thread::sleep_for(30ms);  // lets them block; the outcome is the same if not
    auto closer = [&] {
      CHECK_FALSE(c.close());
      CHECK_FALSE(ln.close());
      CHECK_FALSE(c2.close());
    };
    if (from_thread) std::thread(closer).join();
    else rt.block_on(closer);
    for (int i = 0; i < 3; ++i) {
      auto e = results.recv();
      REQUIRE(e.has_value());
      CHECK(goro::is(*e, goro::net::err_closed));
    }
    reader.join();
    // Later calls and a second close report err_closed too; the handle stays valid.
    char b[1];
    CHECK(goro::is(c.read(std::span<char>(b)).err, goro::net::err_closed));
    CHECK(goro::is(c.write("x").err, goro::net::err_closed));
    CHECK(goro::is(c.close(), goro::net::err_closed));
    CHECK(goro::is(ln.accept().err, goro::net::err_closed));
    CHECK(c.remote_addr().rfind("127.0.0.1:", 0) == 0);
  }
}

TEST_CASE("net: a write blocked on a full buffer wakes on close", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    auto c_s = tcp_pair();
    auto& c = c_s.first;
    auto done = goro::make_chan<goro::io::result>(1);
    goro::go([&c, done] {
      std::vector<char> big(16 << 20, 'w');
      done.send(c.write(std::span<const char>(big)));
    });
    goro::sleep_for(50ms);  // the write fills the buffers and blocks; a close before it is as good
    CHECK_FALSE(c.close());
    auto r = done.recv();
    REQUIRE(r.has_value());
    CHECK(goro::is(r->err, goro::net::err_closed));
    CHECK(r->n < (16u << 20));
  });
}

TEST_CASE("net: a reset peer is an error, not eof", "[net]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    auto [c, s] = tcp_pair();
    linger lg{1, 0};  // close() sends RST
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    CHECK_FALSE(s.close());
    char b[8];
    auto [n, err] = c.read(std::span<char>(b));
    CHECK(n == 0);
    REQUIRE(err);
    CHECK(err != goro::io::eof);
    CHECK(err.message().find("reset") != std::string::npos);
  });
}

TEST_CASE("net: dial errors, cancellation and timeouts", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    // Refused: a port that was just free.
    const std::string addr = listen_loopback().addr();  // closed again at once
    auto [c, err] = goro::net::dial("tcp", addr);
    CHECK_FALSE(c);
    REQUIRE(err);
    CHECK(err.message().find("refused") != std::string::npos);
    CHECK_FALSE(goro::net::is_timeout(err));

    // A listener whose backlog is full: connects hang until the deadline.
    int raw = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(raw, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    REQUIRE(::listen(raw, 0) == 0);
    socklen_t len = sizeof sin;
    ::getsockname(raw, reinterpret_cast<sockaddr*>(&sin), &len);
    const std::string full = "127.0.0.1:" + std::to_string(ntohs(sin.sin_port));
    std::vector<goro::net::conn> held;
    goro::error timed_out;
    for (int i = 0; i < 64 && !timed_out; ++i) {
      auto t0 = clk::now();
      auto [h, herr] = goro::net::dial_timeout("tcp", full, 100ms);
      if (herr) {
        timed_out = herr;
        CHECK(ms_since(t0) >= 99.0);
      } else {
        held.push_back(std::move(h));
      }
    }
    REQUIRE(timed_out);
    CHECK(goro::net::is_timeout(timed_out));
    CHECK(goro::is(timed_out, goro::deadline_exceeded));
    // Cancel while connecting.
    auto ctx_cancel = goro::with_cancel(goro::background());
    auto& ctx = ctx_cancel.ctx;
    auto& cancel = ctx_cancel.cancel;
    goro::go([cancel = cancel] {
      goro::sleep_for(30ms);
      cancel();
    });
    auto t0 = clk::now();
    auto [h, herr] = goro::net::dial(ctx, "tcp", full);
    CHECK(goro::is(herr, goro::canceled));
    CHECK_FALSE(goro::net::is_timeout(herr));
    CHECK(ms_since(t0) < 1000.0);
    // An already canceled context does not dial at all.
    CHECK(goro::is(goro::net::dial(ctx, "tcp", full).err, goro::canceled));
    ::close(raw);
  });
}

TEST_CASE("net: bad input is a clear error or exception", "[net]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    CHECK_THROWS_AS(goro::net::listen("udp", ":0"), std::invalid_argument);
    CHECK_THROWS_WITH(goro::net::dial("tcpx", "127.0.0.1:1"), Catch::Contains("unknown network"));
    auto bad = [](std::string_view addr, const char* what) {
      auto [ln, err] = goro::net::listen("tcp", addr);
      CHECK_FALSE(ln);
      REQUIRE(err);
      CHECK_THAT(err.message(), Catch::Contains(what));
    };
    bad("127.0.0.1", "missing port");
    bad("127.0.0.1:65536", "out of range");
    bad("127.0.0.1:-1", "invalid port");
    bad("127.0.0.1:http", "invalid port");
    bad("::1:80", "too many colons");
    bad("[::1:80", "missing ']'");
    bad("300.1.2.3:80", "lookup 300.1.2.3");
    CHECK(goro::net::dial_timeout("tcp", "no-such-host.invalid:80", 2s).err);
    CHECK(goro::net::listen("unix", "").err);
    CHECK(goro::net::listen("unix", std::string(200, 'a')).err);
    CHECK(goro::net::dial("unix", "/nonexistent/goro.sock").err);
    goro::net::conn c;
    goro::net::listener l;
    char b[1];
    CHECK_THROWS_AS(c.read(std::span<char>(b)), std::logic_error);
    CHECK_THROWS_AS(c.write("x"), std::logic_error);
    CHECK_THROWS_AS(c.close(), std::logic_error);
    CHECK_THROWS_AS(c.set_deadline(clk::now()), std::logic_error);
    CHECK_THROWS_AS(l.accept(), std::logic_error);
    CHECK_THROWS_AS(l.addr(), std::logic_error);
    auto [c1, s1] = tcp_pair();
    goro::net::conn moved = std::move(c1);
    CHECK_THROWS_AS(c1.read(std::span<char>(b)), std::logic_error);  // NOLINT: use after move
    CHECK(moved);
    CHECK_THROWS_AS(goro::wait_readable(-1), std::invalid_argument);
    CHECK(goro::wait_readable(1000000));  // not open: an error, not a hang
  });
}

TEST_CASE("wait_readable: a pipe and an eventfd written by another thread", "[net]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(efd >= 0);
    std::atomic<int> written{0};
    std::thread writer([&] {
      std::this_thread::sleep_for(20ms);
      written += ::write(p[1], "k", 1) == 1;
      std::uint64_t one = 1;
      written += ::write(efd, &one, sizeof one) == sizeof one;
    });
    CHECK_FALSE(goro::wait_readable(p[0]));
    char ch;
    CHECK(::read(p[0], &ch, 1) == 1);
    CHECK_FALSE(goro::wait_readable(efd));
    std::uint64_t v;
    CHECK(::read(efd, &v, sizeof v) == sizeof v);
    writer.join();
    CHECK(written.load() == 2);
    // Nothing more comes: the deadline ends the wait.
    auto t0 = clk::now();
    auto err = goro::wait_readable(p[0], clk::now() + 40ms);
    CHECK(goro::net::is_timeout(err));
    CHECK(ms_since(t0) >= 39.0);
    CHECK_FALSE(goro::wait_writable(p[1]));
    ::close(p[0]);
    ::close(p[1]);
    ::close(efd);
  });
  // A second fiber waiting for the same readiness is refused, not silently lost. One worker:
  // yield() runs the first waiter until it parks, so the order is certain.
  goro::runtime one({.workers = 1});
  one.block_on([] {
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    goro::wait_group first;
    first.add(1);
    goro::error first_err;
    goro::go([&] {
      first_err = goro::wait_readable(p[0], clk::now() + 10s);
      first.done();
    });
    goro::yield();
    CHECK_THROWS_AS(goro::wait_readable(p[0], clk::now() + 10ms), std::logic_error);
    REQUIRE(::write(p[1], "k", 1) == 1);  // the first waiter is still served
    first.wait();
    CHECK_FALSE(first_err);
    ::close(p[0]);
    ::close(p[1]);
  });
  // From a plain thread: poll(2).
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
  CHECK(goro::net::is_timeout(goro::wait_readable(p[0], clk::now() + 10ms)));
  REQUIRE(::write(p[1], "k", 1) == 1);
  CHECK_FALSE(goro::wait_readable(p[0]));
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("signal_notify: signals arrive on a channel until signal_stop", "[net]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    auto ch = goro::make_chan<int>(4);
    goro::signal_notify(ch, {SIGUSR1, SIGUSR2});
    ::raise(SIGUSR1);
    ::raise(SIGUSR2);
    std::vector<int> got{*ch.recv(), *ch.recv()};
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<int>{SIGUSR1, SIGUSR2});
    // A second channel for the same signal gets it too.
    auto ch2 = goro::make_chan<int>(1);
    goro::signal_notify(ch2, {SIGUSR1});
    ::raise(SIGUSR1);
    CHECK(ch.recv() == SIGUSR1);
    CHECK(ch2.recv() == SIGUSR1);
    goro::signal_stop(ch);
    ::raise(SIGUSR1);  // still handled: ch2 wants it
    CHECK(ch2.recv() == SIGUSR1);
    CHECK(ch.try_recv().empty());
    goro::signal_stop(ch2);
    CHECK_THROWS_AS(goro::signal_notify(ch, {SIGKILL}), std::invalid_argument);
    CHECK_THROWS_AS(goro::signal_notify(ch, {0}), std::invalid_argument);
    CHECK_THROWS_AS(goro::signal_notify(ch, {SIGSEGV}), std::invalid_argument);
    CHECK_THROWS_AS(goro::signal_notify(goro::chan<int>(), {SIGUSR1}), std::invalid_argument);
  });
}

TEST_CASE("net: a runtime destroyed while fibers wait on sockets", "[net]") {
  auto ln = listen_loopback();
  auto ln2 = listen_loopback();
  goro::net::conn client, server;
  {
    goro::runtime rt({.workers = 2});
    auto parked = std::make_shared<std::atomic<int>>(0);
    rt.go([&ln, parked] {
      ++*parked;
      (void)ln.accept();  // nobody dials ln: unwinds at teardown
    });
    client = rt.block_on([&ln2] { return goro::net::dial("tcp", ln2.addr()).c; });
    REQUIRE(client);
    server = ln2.accept().c;  // from this plain thread
    REQUIRE(server);
    rt.go([&client, parked] {
      char b[1];
      ++*parked;
      (void)client.read(std::span<char>(b));  // the server never writes
    });
    while (parked->load() < 2) std::this_thread::yield();
    std::this_thread::sleep_for(20ms);  // lets them park; teardown must cope either way
  }                                     // must not hang
  // The handles still work from this thread afterwards.
  CHECK(server.write("z").n == 1);
  CHECK(read_n(client, 1) == "z");
  CHECK_FALSE(client.close());
  CHECK_FALSE(ln.close());
}

TEST_CASE("net: 10,000 concurrent connections on loopback", "[net]") {
  // The client runs in its own process (tests/net_load_client.cpp): each side then needs about
  // n descriptors, within the usual hard limit.
  const int n = static_cast<int>(goro::test::scaled_live(10000, 500));
  nofile_limit limit(static_cast<rlim_t>(n) + 200);
  if (!limit.ok()) {
    WARN("skipped: RLIMIT_NOFILE hard limit " << limit.hard() << " is below the " << n + 200
                                              << " descriptors this test needs");
    return;
  }
  {
    goro::runtime rt({.workers = 2});
    auto ln = listen_loopback();
    std::atomic<int> live{0}, peak{0}, echoed{0}, failed{0};
    auto all_live = goro::make_chan<std::monostate>();
    std::atomic<bool> released{false};
    auto release_all = [&] {
      if (!released.exchange(true)) all_live.close();
    };
    goro::wait_group done;
    done.add(n);
    rt.go([&] {
      for (int i = 0; i < n; ++i) {
        auto [c, aerr] = ln.accept();
        if (aerr) {
          ++failed;
          done.done();
          continue;
        }
        goro::go([&, c = std::move(c)]() mutable {
          int now = ++live;
          goro::test::atomic_max(peak, now);
          if (now == n) release_all();
          c.set_deadline(clk::now() + 120s);
          std::uint64_t id = 0;
          auto r = goro::io::read_full(c, std::as_writable_bytes(std::span(&id, 1)));
          if (!r.err && !c.write(std::as_bytes(std::span(&id, 1))).err) ++echoed;
          else ++failed;
          all_live.recv();  // hold every connection open until all n are
          --live;
          c.close();  // the server closes first: TIME_WAIT stays off the client's ports
          done.done();
        });
      }
    });
    const std::string addr = ln.addr(), count = std::to_string(n);
    char* argv[] = {const_cast<char*>(GORO_NET_LOAD_CLIENT), const_cast<char*>(addr.c_str()),
                    const_cast<char*>(count.c_str()), nullptr};
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, GORO_NET_LOAD_CLIENT, nullptr, nullptr, argv, environ) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // On a failure, let the server side finish too: remaining accepts fail, held ones go.
    release_all();
    ln.close();
    rt.block_on([&] { done.wait(); });
    CHECK(failed.load() == 0);
    CHECK(echoed.load() == n);
    CHECK(peak.load() == n);
  }
}

TEST_CASE("net: a runtime with thousands of idle connections burns no CPU", "[net]") {
  // Both ends in this process, a fiber blocked in read on each: every fiber waits on a socket,
  // so the runtime's sleeper blocks in epoll with no timeout.
  const int n = static_cast<int>(goro::test::scaled_live(4000, 200));
  nofile_limit limit(static_cast<rlim_t>(2 * n) + 200);
  if (!limit.ok()) {
    WARN("skipped: RLIMIT_NOFILE hard limit " << limit.hard() << " is below the " << 2 * n + 200
                                              << " descriptors this test needs");
    return;
  }
  {
    goro::runtime rt({.workers = 2});
    auto ln = listen_loopback();
    std::vector<goro::net::conn> clients(n), servers(n);
    goro::wait_group parked, finished;
    parked.add(2 * n);
    finished.add(2 * n);
    rt.block_on([&] {
      for (int i = 0; i < n; ++i) {
        clients[i] = goro::net::dial("tcp", ln.addr()).c;
        servers[i] = ln.accept().c;
        REQUIRE(clients[i]);
        REQUIRE(servers[i]);
      }
      for (auto* side : {&clients, &servers})
        for (auto& c : *side)
          goro::go([&c, &parked, &finished] {
            char b[1];
            parked.done();
            (void)c.read(std::span<char>(b));  // until the close below
            finished.done();
          });
      parked.wait();
    });
    std::this_thread::sleep_for(100ms);  // the fibers reach their reads and the workers idle
    double c0 = goro::test::process_cpu_ms();
    std::this_thread::sleep_for(1s);
    double used_ms = goro::test::process_cpu_ms() - c0;
    INFO("CPU used over 1 s with " << n << " idle connections: " << used_ms << " ms");
    CHECK(used_ms < 20.0);
    for (auto& c : clients) c.close();  // every read returns
    for (auto& c : servers) c.close();
    rt.block_on([&] { finished.wait(); });
  }
}

TEST_CASE("net: wakeups of an idle runtime whose sleeper blocks in epoll are never lost", "[net]") {
  // A fiber blocked in a socket read keeps the sleeper in epoll; plain threads then wake fibers
  // again and again (global queue, wakep, the poller's eventfd), two at a time so that wakes
  // race with the sleeper draining the eventfd. Once, a wake in that window left the "wake
  // pending" flag set with nothing to read, and every later wake of a sleeper was lost.
  const int rounds = static_cast<int>(goro::test::scaled(20000, 500));
  goro::runtime rt({.workers = 2});
  auto cs = rt.block_on([] { return tcp_pair(); });
  auto& c = cs.first;
  auto reader_done = goro::make_chan<std::monostate>(1);
  rt.go([&c, reader_done] {
    char b[1];
    (void)c.read(std::span<char>(b));  // parked on the socket until the end
    reader_done.send({});
  });
  auto pinger = [&] {
    auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
    rt.go([ping, pong] {
      for (int v : ping) pong.send(v + 1);
    });
    int sum = 0;
    for (int i = 0; i < rounds; ++i) {
      ping.send(i);
      sum += *pong.recv() - i;
    }
    ping.close();
    return sum;
  };
  std::atomic<int> total{0};
  auto finished = std::make_shared<std::atomic<int>>(0);
  std::thread t1([&] {
    total += pinger();
    ++*finished;
  });
  std::thread t2([&] {
    total += pinger();
    ++*finished;
  });
  // A lost wakeup hangs a pinger for good: give up after a generous bound instead.
  const auto until = clk::now() + 120s;
  while (finished->load() < 2 && clk::now() < until) std::this_thread::sleep_for(10ms);
  REQUIRE(finished->load() == 2);
  t1.join();
  t2.join();
  CHECK(total.load() == 2 * rounds);
  cs.second.close();  // the reader sees EOF
  CHECK(reader_done.recv().has_value());
}

TEST_CASE("net: a closed connection's handle cannot reach the socket that reuses its slot",
          "[net]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    auto old_pair = tcp_pair();
    auto& old_c = old_pair.first;
    CHECK_FALSE(old_c.close());
    CHECK(old_c.native_handle() == -1);
    // The next sockets reuse the freed poll descriptor (and likely the fd number).
    auto fresh = tcp_pair();
    old_c.set_deadline(clk::now() - 1h);  // ignored: the old connection is closed
    fresh.second.write("ok");
    CHECK(read_n(fresh.first, 2) == "ok");
    CHECK(fresh.first.native_handle() >= 0);
  });
}

TEST_CASE("net: wait_readable on a connection's own descriptor is refused, not a hang", "[net]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    auto p = tcp_pair();
    auto& c = p.first;
    char b[1];
    c.set_read_deadline(clk::now() + 10ms);
    CHECK(goro::net::is_timeout(c.read(std::span<char>(b)).err));  // now in the epoll set
    c.set_read_deadline({});
    auto err = goro::wait_readable(c.native_handle(), clk::now() + 1s);
    REQUIRE(err);
    CHECK_THAT(err.message(), Catch::Contains("goro::net"));
    // The connection still gets its events.
    goro::go([&p] {
      goro::sleep_for(10ms);
      p.second.write("z");
    });
    CHECK(read_n(c, 1) == "z");
  });
}

TEST_CASE("net: a destructor that writes while its fiber is unwound at teardown", "[net]") {
  // The write would block (the peer does not read): waiting again during teardown's unwind
  // must not leave the fiber registered in the socket, which outlives the runtime.
  auto p = goro::runtime({.workers = 1}).block_on([] { return tcp_pair(); });
  auto q = goro::runtime({.workers = 1}).block_on([] { return tcp_pair(); });
  goro::error from_destructor;
  {
    goro::runtime rt({.workers = 1});
    auto parked = std::make_shared<std::atomic<bool>>(false);
    rt.go([&p, &q, &from_destructor, parked] {
      struct flusher {
        goro::net::conn& c;
        goro::error& out;
        ~flusher() {
          std::vector<char> big(8 << 20, 'f');
          out = c.write(std::span<const char>(big)).err;
        }
      } f{p.first, from_destructor};
      char b[1];
      *parked = true;
      (void)q.first.read(std::span<char>(b));  // parked here when the runtime goes
    });
    while (!*parked) std::this_thread::yield();
    std::this_thread::sleep_for(20ms);  // into the read; teardown unwinds it either way
  }
  CHECK(goro::is(from_destructor, goro::net::err_closed));
  p.first.set_deadline(clk::now() + 1s);  // touches the socket's waiters: none is left
  CHECK_FALSE(p.first.close());
  CHECK_FALSE(q.first.close());
}
