// Channels: Go's semantics rule by rule, then stress with exact accounting.
#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using goro::test::latch;
using goro::test::scaled;

namespace {
struct no_default {  // not default-constructible, move-only
  explicit no_default(int v) : p(std::make_unique<int>(v)) {}
  std::unique_ptr<int> p;
};
}  // namespace

TEST_CASE("chan: the nil channel", "[chan]") {
  goro::chan<int> nil;
  CHECK_FALSE(nil);
  CHECK(nil.len() == 0);
  CHECK(nil.cap() == 0);
  CHECK_THROWS_AS(nil.close(), std::logic_error);
  CHECK_FALSE(nil.try_send(1));
  auto r = nil.try_recv();
  CHECK_FALSE(r);
  CHECK(r.empty());
  CHECK(nil == goro::chan<int>());
  // Blocking on nil blocks forever: the fiber never continues, and teardown unwinds it.
  std::atomic<int> reached{0}, continued{0};
  {
    goro::runtime rt({.workers = 1});
    rt.go([&] {
      reached++;
      nil.recv();
      continued++;
    });
    rt.go([&] {
      reached++;
      nil.send(1);
      continued++;
    });
    rt.block_on([&] {
      while (reached.load() < 2) goro::yield();  // both are now blocked on nil
    });
  }
  CHECK(reached.load() == 2);
  CHECK(continued.load() == 0);
}

TEST_CASE("chan: make, len, cap, identity", "[chan]") {
  auto a = goro::make_chan<int>(3);
  auto b = a;
  auto c = goro::make_chan<int>(3);
  CHECK(a);
  CHECK(a == b);
  CHECK_FALSE(a == c);
  CHECK(a.cap() == 3);
  CHECK(goro::make_chan<int>().cap() == 0);
  a.send(1);
  b.send(2);
  CHECK(a.len() == 2);
  CHECK(c.len() == 0);
  CHECK(*b.recv() == 1);
  CHECK(a.len() == 1);
}

TEST_CASE("chan: buffered FIFO across fibers", "[chan]") {
  goro::runtime rt({.workers = 2});
  const int n = static_cast<int>(scaled(100000, 2000));
  auto ch = goro::make_chan<int>(16);
  std::atomic<bool> in_order{true};
  latch done(1);
  rt.go([&] {
    for (int i = 0; i < n; ++i) ch.send(i);
  });
  rt.go([&] {
    for (int i = 0; i < n; ++i)
      if (*ch.recv() != i) in_order = false;
    done.count_down();
  });
  done.wait();
  CHECK(in_order.load());
}

TEST_CASE("chan: unbuffered send completes only after a receiver took the value", "[chan]") {
  SECTION("deterministic, one worker") {
    goro::runtime rt({.workers = 1});
    rt.block_on([] {
      auto ch = goro::make_chan<int>();
      std::atomic<bool> sent{false};
      goro::go([&] {
        ch.send(42);
        sent = true;
      });
      for (int i = 0; i < 10; ++i) goro::yield();  // the sender runs and parks in send
      CHECK_FALSE(sent.load());
      CHECK(*ch.recv() == 42);
      for (int i = 0; i < 10 && !sent; ++i) goro::yield();
      CHECK(sent.load());
    });
  }
  SECTION("invariant under parallelism: completed sends never exceed receives") {
    goro::runtime rt({.workers = 2});
    const int n = static_cast<int>(scaled(50000, 1000));
    for (std::size_t cap : {std::size_t{0}, std::size_t{4}}) {
      auto ch = goro::make_chan<int>(cap);
      std::atomic<int> completed_sends{0}, received{0}, violations{0};
      latch done(2);
      rt.go([&] {
        for (int i = 0; i < n; ++i) {
          ch.send(i);
          completed_sends.store(i + 1);
        }
        done.count_down();
      });
      rt.go([&] {
        for (int i = 0; i < n; ++i) {
          if (completed_sends.load() > received.load() + static_cast<int>(cap)) violations++;
          ch.recv();
          received.store(i + 1);
        }
        done.count_down();
      });
      done.wait();
      INFO("capacity " << cap);
      CHECK(violations.load() == 0);
      CHECK(received.load() == n);
    }
  }
}

TEST_CASE("chan: close delivers buffered values, then nullopt", "[chan]") {
  auto ch = goro::make_chan<std::string>(4);
  ch.send("a");
  ch.send("b");
  ch.close();
  CHECK(*ch.recv() == "a");
  CHECK(*ch.recv() == "b");
  CHECK_FALSE(ch.recv().has_value());
  CHECK_FALSE(ch.recv().has_value());  // and keeps doing so
  auto r = ch.try_recv();
  CHECK(r.closed());
  CHECK_FALSE(r);
  CHECK_THROWS_AS(ch.send("c"), goro::channel_closed);
  CHECK_THROWS_AS(ch.try_send("c"), goro::channel_closed);
  CHECK_THROWS_AS(ch.close(), goro::channel_closed);
  CHECK_THROWS_AS(ch.close(), std::logic_error);  // channel_closed is a logic_error
}

TEST_CASE("chan: close wakes every parked receiver and sender", "[chan]") {
  goro::runtime rt({.workers = 2});
  const int receivers = 50, senders = 50;
  auto rch = goro::make_chan<int>();
  auto sch = goro::make_chan<int>();
  std::atomic<int> got_nullopt{0}, got_throw{0}, parked{0};
  latch done(receivers + senders);
  for (int i = 0; i < receivers; ++i)
    rt.go([&] {
      parked++;
      if (!rch.recv()) got_nullopt++;
      done.count_down();
    });
  for (int i = 0; i < senders; ++i)
    rt.go([&, i] {
      parked++;
      try {
        sch.send(i);
      } catch (const goro::channel_closed&) {
        got_throw++;
      }
      done.count_down();
    });
  // Close once everyone is (about to be) parked; a late arrival sees the closed channel, which
  // must give the same result.
  rt.block_on([&] {
    while (parked.load() < receivers + senders) goro::yield();
    rch.close();
    sch.close();
  });
  done.wait();
  CHECK(got_nullopt.load() == receivers);
  CHECK(got_throw.load() == senders);
}

TEST_CASE("chan: try_send and try_recv", "[chan]") {
  auto ch = goro::make_chan<std::unique_ptr<int>>(1);
  auto v = std::make_unique<int>(1);
  CHECK(ch.try_send(std::move(v)));
  CHECK(v == nullptr);
  auto w = std::make_unique<int>(2);
  CHECK_FALSE(ch.try_send(std::move(w)));  // full
  REQUIRE(w != nullptr);                   // left unchanged
  CHECK(*w == 2);
  auto r = ch.try_recv();
  REQUIRE(r);
  CHECK(**r == 1);
  auto e = ch.try_recv();
  CHECK_FALSE(e);
  CHECK(e.empty());
  CHECK_FALSE(e.closed());
  auto unbuf = goro::make_chan<int>();
  CHECK_FALSE(unbuf.try_send(1));  // no receiver waiting
  CHECK(unbuf.try_recv().empty());
}

TEST_CASE("chan: try_send hands over to a parked receiver", "[chan]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    auto ch = goro::make_chan<int>();
    std::atomic<int> got{0};
    goro::go([&] { got = *ch.recv(); });
    goro::yield();  // let it park in recv
    while (!ch.try_send(7)) goro::yield();
    while (got.load() == 0) goro::yield();
    CHECK(got.load() == 7);
  });
}

TEST_CASE("chan: range-for drains until close", "[chan]") {
  goro::runtime rt({.workers = 2});
  int sum = rt.block_on([] {
    auto ch = goro::make_chan<int>(8);
    goro::go([ch]() mutable {
      for (int i = 1; i <= 100; ++i) ch.send(i);
      ch.close();
    });
    int s = 0;
    for (int v : ch) s += v;
    goro::recv_chan<int> ro = ch;
    for (int v : ro) s += v;  // already drained: no iterations
    return s;
  });
  CHECK(sum == 5050);
}

TEST_CASE("chan: move-only and non-default-constructible payloads", "[chan]") {
  goro::runtime rt({.workers = 2});
  auto ch = goro::make_chan<no_default>();
  auto buf = goro::make_chan<no_default>(2);
  int total = rt.block_on([&] {
    goro::go([&] {
      for (int i = 1; i <= 10; ++i) ch.send(no_default(i));
      ch.close();
    });
    int s = 0;
    for (auto& v : ch) {
      buf.send(std::move(v));
      s += *buf.recv()->p;
    }
    return s;
  });
  CHECK(total == 55);
  buf.send(no_default(5));  // destroyed with the channel: no leak under ASan
}

TEST_CASE("chan: send_chan and recv_chan views", "[chan]") {
  auto ch = goro::make_chan<int>(2);
  goro::send_chan<int> out = ch;
  goro::recv_chan<int> in = ch;
  out.send(1);
  CHECK(out.try_send(2));
  CHECK(out.len() == 2);
  CHECK(in.cap() == 2);
  CHECK(*in.recv() == 1);
  CHECK(*in.try_recv() == 2);
  out.close();
  CHECK(in.try_recv().closed());
  CHECK(out == goro::send_chan<int>(ch));
  CHECK(in == goro::recv_chan<int>(ch));
}

TEST_CASE("chan: fibers and plain threads exchange values both ways", "[chan]") {
  goro::runtime rt({.workers = 2});
  const int n = static_cast<int>(scaled(20000, 500));
  for (std::size_t cap : {std::size_t{0}, std::size_t{8}}) {
    auto to_fiber = goro::make_chan<int>(cap), to_thread = goro::make_chan<int>(cap);
    std::atomic<long> fiber_sum{0};
    latch done(1);
    rt.go([&] {
      for (int i = 0; i < n; ++i) {
        int v = *to_fiber.recv();
        fiber_sum += v;
        to_thread.send(v * 2);
      }
      done.count_down();
    });
    long thread_sum = 0;
    std::thread t([&] {
      for (int i = 0; i < n; ++i) to_fiber.send(i);
    });
    for (int i = 0; i < n; ++i) thread_sum += *to_thread.recv();
    t.join();
    done.wait();
    const long expect = static_cast<long>(n) * (n - 1) / 2;
    CHECK(fiber_sum.load() == expect);
    CHECK(thread_sum == 2 * expect);
  }
}

TEST_CASE("chan: many producers and consumers, each value delivered exactly once",
          "[chan][stress]") {
  goro::runtime rt({.workers = 2});
  const int producers = 8, consumers = 8;
  const int per = static_cast<int>(scaled(20000, 500));
  for (std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
    auto ch = goro::make_chan<int>(cap);
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(producers * per));
    latch producers_done(producers), consumers_done(consumers + 2);
    for (int p = 0; p < producers; ++p)
      rt.go([&, p] {
        for (int i = 0; i < per; ++i) {
          int v = p * per + i;
          if (i % 3 == 0) {
            goro::select(goro::case_send(ch, v));
          } else {
            ch.send(v);
          }
        }
        producers_done.count_down();
      });
    auto consume = [&](bool use_select) {
      for (;;) {
        std::optional<int> v;
        if (use_select) {
          goro::select(goro::case_recv(ch, [&](std::optional<int> x) { v = x; }));
        } else {
          v = ch.recv();
        }
        if (!v) break;
        seen[static_cast<std::size_t>(*v)].fetch_add(1);
      }
      consumers_done.count_down();
    };
    for (int c = 0; c < consumers; ++c) rt.go(consume, c % 2 == 0);
    std::thread t1(consume, false), t2(consume, true);  // plain threads consume too
    rt.go([&] {
      producers_done.wait();
      ch.close();
    });
    consumers_done.wait();
    t1.join();
    t2.join();
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    INFO("capacity " << cap);
    CHECK(wrong == 0);
  }
}

// Regression (defect 11): a receive that freed a slot of a full buffered channel woke the first
// blocked sender to retry, and a later receive woke the second; the two retried in whatever
// order the scheduler ran them (the second, readied into runnext last, ran first), so the values
// of blocked senders entered the buffer out of their order. Now the receive pushes the first
// sender's value for it, in queue order (Go's chan.go does the same under its lock); likewise a
// send serves the first blocked receiver. Senders blocked in a select keep their place too.
TEST_CASE("chan: blocked senders and receivers of a buffered channel are served in order",
          "[chan]") {
  goro::runtime rt({.workers = 1});
  rt.block_on([] {
    const int blocked = 6;
    auto ch = goro::make_chan<int>(2);
    ch.send(-2);
    ch.send(-1);
    for (int i = 0; i < blocked; ++i) {
      latch parked(1);
      goro::go([&parked, ch, i] {
        goro::go([&parked] { parked.count_down(); });  // runs once we are queued (1 worker)
        if (i % 2) ch.send(i);
        else goro::select(goro::case_send(ch, i));
      });
      parked.wait();
    }
    for (int want = -2; want < blocked; ++want) CHECK(*ch.recv() == want);

    // Receivers, plain and in a select, blocked on an empty channel: served in queue order.
    auto got = goro::make_chan<std::pair<int, int>>(blocked);
    for (int i = 0; i < blocked; ++i) {
      latch parked(1);
      goro::go([&parked, ch, got, i] {
        goro::go([&parked] { parked.count_down(); });
        int v = -100;
        if (i % 2) v = *ch.recv();
        else goro::select(goro::case_recv(ch, [&](std::optional<int> x) { v = *x; }));
        got.send({i, v});
      });
      parked.wait();
    }
    for (int i = 0; i < blocked; ++i) ch.send(100 + i);
    for (int i = 0; i < blocked; ++i) {
      auto [who, v] = *got.recv();
      CHECK(v == 100 + who);
    }
  });
}
