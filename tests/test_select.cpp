// select: Go's semantics rule by rule, then contention with exact accounting.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using goro::test::latch;
using goro::test::scaled;

TEST_CASE("select: runs the ready case's handler and returns its index", "[select]") {
  auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
  b.send(5);
  int got = 0;
  std::size_t i = goro::select(goro::case_recv(a, [&](std::optional<int> v) { got = *v; }),
                               goro::case_recv(b, [&](std::optional<int> v) { got = *v; }));
  CHECK(i == 1);
  CHECK(got == 5);
  bool sent = false;
  i = goro::select(goro::case_recv(b), goro::case_send(a, 9, [&] { sent = true; }));
  CHECK(i == 1);
  CHECK(sent);
  CHECK(*a.recv() == 9);
}

TEST_CASE("select: default when nothing is ready (empty and full channels)", "[select]") {
  auto empty = goro::make_chan<int>(1);
  auto full = goro::make_chan<int>(1);
  full.send(1);
  auto unbuffered = goro::make_chan<int>();
  bool ran_default = false;
  std::size_t i =
      goro::select(goro::case_recv(empty), goro::case_send(full, 2), goro::case_send(unbuffered, 3),
                   goro::case_recv(unbuffered), goro::case_default([&] { ran_default = true; }));
  CHECK(i == 4);
  CHECK(ran_default);
  CHECK(full.len() == 1);  // the send case did not happen
  CHECK(goro::select(goro::case_default(), goro::case_recv(full)) == 1);
}

TEST_CASE("select: nil channels are never ready", "[select]") {
  goro::chan<int> nil;
  auto ready = goro::make_chan<int>(1);
  CHECK(goro::select(goro::case_recv(nil), goro::case_send(nil, 1), goro::case_default()) == 2);
  for (int k = 0; k < 100; ++k) {
    ready.send(k);
    CHECK(goro::select(goro::case_recv(nil), goro::case_recv(ready), goro::case_send(nil, 1)) == 1);
  }
}

TEST_CASE("select: ready cases are chosen uniformly at random", "[select]") {
  auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
  a.send(0);
  b.send(0);
  const int n = 100000;
  int count_a = 0;
  for (int k = 0; k < n; ++k) {
    std::size_t i = goro::select(goro::case_recv(a), goro::case_recv(b));
    if (i == 0) {
      ++count_a;
      a.send(0);
    } else {
      b.send(0);
    }
  }
  INFO("case 0 chosen " << count_a << " of " << n);
  CHECK(count_a > n * 45 / 100);
  CHECK(count_a < n * 55 / 100);
}

TEST_CASE("select: a closed channel's receive case is ready with nullopt", "[select]") {
  auto ch = goro::make_chan<int>();
  auto never = goro::make_chan<int>();
  ch.close();
  bool closed = false;
  std::size_t i = goro::select(goro::case_recv(never),
                               goro::case_recv(ch, [&](std::optional<int> v) { closed = !v; }));
  CHECK(i == 1);
  CHECK(closed);
}

TEST_CASE("select: a chosen send on a closed channel throws", "[select]") {
  auto ch = goro::make_chan<int>(1);
  ch.close();
  CHECK_THROWS_AS(goro::select(goro::case_send(ch, 1), goro::case_default()), goro::channel_closed);
  // ...also when the channel is closed while the select waits
  goro::runtime rt({.workers = 2});
  auto unbuf = goro::make_chan<int>();
  std::atomic<bool> threw{false};
  latch done(1);
  rt.go([&] {
    try {
      goro::select(goro::case_send(unbuf, 1));
    } catch (const goro::channel_closed&) {
      threw = true;
    }
    done.count_down();
  });
  rt.block_on([&] {
    goro::sleep_for(std::chrono::milliseconds(5));  // not needed for correctness: either way throws
    unbuf.close();
  });
  done.wait();
  CHECK(threw.load());
}

TEST_CASE("select: a blocked select is woken by one channel and leaves the others clean",
          "[select]") {
  goro::runtime rt({.workers = 2});
  const int rounds = static_cast<int>(scaled(2000, 100));
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>(), c = goro::make_chan<int>();
  std::atomic<int> sum{0}, wrong{0};
  latch done(1);
  rt.go([&] {
    for (int r = 0; r < rounds; ++r) {
      std::size_t i = goro::select(goro::case_recv(a, [&](std::optional<int> v) { sum += *v; }),
                                   goro::case_recv(b, [&](std::optional<int> v) { sum += *v; }),
                                   goro::case_send(c, r));
      if (i != static_cast<std::size_t>(r % 3)) wrong++;
    }
    done.count_down();
  });
  rt.block_on([&] {
    for (int r = 0; r < rounds; ++r) {
      if (r % 3 == 0) a.send(1);
      else if (r % 3 == 1) b.send(1);
      else if (*c.recv() != r) wrong++;
    }
  });
  done.wait();
  CHECK(wrong.load() == 0);
  CHECK(sum.load() == rounds - rounds / 3);
  // No stale waiters remain: nobody receives any more, so these cannot complete.
  CHECK_FALSE(a.try_send(1));
  CHECK_FALSE(b.try_send(1));
  CHECK(c.try_recv().empty());
}

TEST_CASE("select: with no cases blocks forever", "[select]") {
  std::atomic<int> reached{0}, continued{0};
  {
    goro::runtime rt({.workers = 1});
    rt.go([&] {
      reached++;
      goro::select();
      continued++;
    });
    goro::chan<int> nil;
    rt.go([&] {
      reached++;
      goro::select(goro::case_recv(nil));
      continued++;
    });
    rt.block_on([&] {
      while (reached.load() < 2) goro::yield();  // both are now blocked in select
    });
  }
  CHECK(reached.load() == 2);
  CHECK(continued.load() == 0);
}

TEST_CASE("select: the same channel in several cases", "[select]") {
  auto ch = goro::make_chan<int>(1);
  std::size_t i = goro::select(goro::case_recv(ch), goro::case_send(ch, 1));
  CHECK(i == 1);
  i = goro::select(goro::case_recv(ch), goro::case_send(ch, 2));
  CHECK(i == 0);
}

TEST_CASE("select: select_list fans in over a runtime-sized set of channels", "[select]") {
  goro::runtime rt({.workers = 2});
  const int n_chans = 20, per = static_cast<int>(scaled(500, 50));
  std::vector<goro::chan<int>> chans;
  for (int i = 0; i < n_chans; ++i) chans.push_back(goro::make_chan<int>());
  for (int i = 0; i < n_chans; ++i)
    rt.go([ch = chans[i], i]() mutable {
      for (int k = 0; k < per; ++k) ch.send(i);
      ch.close();
    });
  std::vector<int> counts(n_chans);
  rt.block_on([&] {
    goro::select_list sel;
    for (auto& ch : chans) sel.recv(ch);
    int open = n_chans;
    while (open > 0) {
      std::size_t i = goro::select(sel);
      auto v = sel.take<int>(i);
      if (v) {
        ++counts[static_cast<std::size_t>(*v)];
      } else {
        --open;
        chans[i] = goro::chan<int>();  // a nil channel is never ready again
        sel.clear();
        for (auto& ch : chans) sel.recv(ch);
      }
    }
  });
  for (int c : counts) CHECK(c == per);
  goro::select_list with_default;
  with_default.recv(chans[0]);
  with_default.add_default();
  CHECK(with_default.wait() == 1);
  CHECK_THROWS_AS(with_default.add_default(), std::logic_error);
}

// Regression (defect 7): select_list kept bare channel pointers, so a channel whose last handle
// went away after its case was added was freed under the list; and a second wait() after a send
// case was chosen sent the moved-from value again.
TEST_CASE("select: select_list keeps its channels alive and sends a value at most once",
          "[select]") {
  goro::select_list sel;
  {
    auto ch = goro::make_chan<std::string>(1);
    sel.recv(ch);
    ch.send(std::string(100, 'x'));
  }  // the list holds the only reference now
  REQUIRE(sel.wait() == 0);
  CHECK(sel.take<std::string>(0) == std::string(100, 'x'));

  // The port of reflect.Select with time.After: the list holds the timer's only channel.
  goro::runtime rt({.workers = 1});
  CHECK(rt.block_on([] {
    goro::select_list l;
    l.recv(goro::after(std::chrono::milliseconds(1)));
    l.recv(goro::make_chan<int>());
    return l.wait();
  }) == 0);

  goro::select_list out;
  auto sink = goro::make_chan<std::string>(2);
  out.send(sink, std::string(50, 'y'));
  REQUIRE(out.wait() == 0);
  CHECK_THROWS_WITH(out.wait(), Catch::Contains("send case 0 has already sent its value"));
  CHECK(sink.len() == 1);  // nothing was sent by the rejected wait
  CHECK(*sink.recv() == std::string(50, 'y'));
  out.clear();
  out.send(sink, std::string(3, 'z'));  // added again: sends again
  CHECK(out.wait() == 0);
  CHECK(*sink.recv() == "zzz");
}

TEST_CASE("select: exactly one case wins under contention", "[select][stress]") {
  goro::runtime rt({.workers = 2});
  const int senders = 4, selectors = 6, per = static_cast<int>(scaled(10000, 300));
  auto a = goro::make_chan<int>(), b = goro::make_chan<int>(2), quit = goro::make_chan<int>();
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(2 * senders * per));
  latch senders_done(senders), selectors_done(selectors + 1);
  for (int s = 0; s < senders; ++s)
    rt.go([&, s] {
      for (int i = 0; i < per; ++i) {
        a.send((2 * s) * per + i);
        b.send((2 * s + 1) * per + i);
      }
      senders_done.count_down();
    });
  auto selector = [&] {
    bool running = true;
    while (running) {
      goro::select(
          goro::case_recv(a, [&](std::optional<int> v) { seen[static_cast<std::size_t>(*v)]++; }),
          goro::case_recv(b, [&](std::optional<int> v) { seen[static_cast<std::size_t>(*v)]++; }),
          goro::case_recv(quit, [&](std::optional<int>) { running = false; }));
    }
    selectors_done.count_down();
  };
  for (int k = 0; k < selectors; ++k) rt.go(selector);
  std::thread t(selector);
  senders_done.wait();
  quit.close();
  selectors_done.wait();
  t.join();
  // b is buffered: values left in it after quit are drained here.
  while (auto v = b.try_recv()) seen[static_cast<std::size_t>(*v)]++;
  int wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("select: buffered send and receive cases never strand a value", "[select][stress]") {
  // Buffered channels wake one waiter per push or pop, who retries; a select woken that way must
  // use the wakeup on that channel, or a value would sit in the buffer while receivers sleep and
  // this test would never finish.
  goro::runtime rt({.workers = 2});
  const int producers = 4, consumers = 6, per = static_cast<int>(scaled(20000, 500));
  auto x = goro::make_chan<int>(1), y = goro::make_chan<int>(3);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(producers * per));
  latch producers_done(producers), consumers_done(consumers);
  for (int p = 0; p < producers; ++p)
    rt.go([&, p] {
      for (int i = 0; i < per; ++i) {
        int v = p * per + i;
        goro::select(goro::case_send(x, v), goro::case_send(y, v));
      }
      producers_done.count_down();
    });
  for (int c = 0; c < consumers; ++c)
    rt.go([&, c] {
      if (c % 3 == 0) {  // plain receives on y only
        while (auto v = y.recv()) seen[static_cast<std::size_t>(*v)]++;
      } else {
        goro::chan<int> cx = x, cy = y;
        while (cx || cy) {
          goro::select(goro::case_recv(cx,
                                       [&](std::optional<int> v) {
                                         if (v) seen[static_cast<std::size_t>(*v)]++;
                                         else cx = goro::chan<int>();
                                       }),
                       goro::case_recv(cy, [&](std::optional<int> v) {
                         if (v) seen[static_cast<std::size_t>(*v)]++;
                         else cy = goro::chan<int>();
                       }));
        }
      }
      consumers_done.count_down();
    });
  producers_done.wait();
  x.close();
  y.close();
  consumers_done.wait();
  int wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  CHECK(wrong == 0);
}
