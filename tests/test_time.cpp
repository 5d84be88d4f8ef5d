// after, timer, ticker.
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

TEST_CASE("after: delivers once, after the duration, usable in select", "[time]") {
  goro::runtime rt({.workers = 2});
  auto [late_ms, chose_timeout] = rt.block_on([] {
    auto t0 = clk::now();
    auto c = goro::after(15ms);
    clk::time_point fired = *c.recv();
    double late = std::chrono::duration<double, std::milli>(fired - t0 - 15ms).count();
    auto never = goro::make_chan<int>();
    std::size_t i = goro::select(goro::case_recv(never), goro::case_recv(goro::after(5ms)));
    return std::pair{late, i == 1};
  });
  CHECK(late_ms >= 0.0);
  CHECK(late_ms < 200.0);
  CHECK(chose_timeout);
  auto c = goro::after(1ms);  // from a plain thread: the default runtime's timers
  CHECK(c.recv().has_value());
}

TEST_CASE("timer: fires, stop, reset", "[time]") {
  goro::runtime rt({.workers = 2});
  struct outcome {
    bool waited, stop_after_fire, stopped, nothing, reset_stopped, refired, reset_pending;
  };
  outcome o = rt.block_on([] {
    outcome r{};
    // Deadlines count from the constructor or reset(): take the start time before them.
    auto t0 = clk::now();
    goro::timer t(10ms);
    t.c().recv();
    r.waited = clk::now() - t0 >= 10ms;
    r.stop_after_fire = !t.stop();  // already fired: false
    goro::timer s(50ms);
    r.stopped = s.stop();  // pending: true
    r.nothing = goro::select(goro::case_recv(s.c()), goro::case_recv(goro::after(80ms))) == 1;
    auto t1 = clk::now();
    r.reset_stopped = !s.reset(5ms);  // was not pending
    s.c().recv();
    r.refired = clk::now() - t1 >= 5ms;
    goro::timer p(1h);
    r.reset_pending = p.reset(1ms);
    p.c().recv();
    return r;
  });
  CHECK(o.waited);
  CHECK(o.stop_after_fire);
  CHECK(o.stopped);
  CHECK(o.nothing);
  CHECK(o.reset_stopped);
  CHECK(o.refired);
  CHECK(o.reset_pending);
}

TEST_CASE("ticker: ticks periodically, drops ticks for a slow receiver, stop", "[time]") {
  goro::runtime rt({.workers = 2});
  auto [ticks, gaps_ok, dropped_ok, stopped_ok] = rt.block_on([] {
    const auto start = clk::now();
    goro::ticker t(5ms);
    int n = 0;
    bool gaps = true;
    for (; n < 10; ++n) {
      auto at = *t.c().recv();
      // Tick k is due k periods after creation (missed ticks are skipped, never sent early);
      // a tick delayed by load does not make the later ones early.
      if (at - start < (n + 1) * 5ms) gaps = false;
    }
    goro::sleep_for(40ms);  // slow receiver: ~8 ticks due, at most one buffered
    int buffered = 0;
    while (t.c().try_recv()) ++buffered;
    t.stop();
    (void)t.c().try_recv();  // a tick may have landed between the drain and stop()
    goro::sleep_for(15ms);
    bool quiet = t.c().try_recv().empty();  // nothing after stop()
    t.reset(2ms);
    bool again = t.c().recv().has_value();
    return std::tuple{n, gaps, buffered <= 1, quiet && again};
  });
  CHECK(ticks == 10);
  CHECK(gaps_ok);
  CHECK(dropped_ok);
  CHECK(stopped_ok);
  CHECK_THROWS_AS(goro::ticker(0s), std::invalid_argument);
}

// What must stay cheap is the timers, not the spawning (under TSan every fiber costs a ThreadState
// of its own, and spawning 4,000 takes seconds): each sleeper measures its own lateness.
TEST_CASE("time: 100,000 pending timers are cheap", "[time][scale]") {
  goro::runtime rt({.workers = 2});
  const int n = static_cast<int>(goro::test::scaled_live(100000, 2000));
  std::atomic<int> fired{0};
  std::atomic<std::int64_t> max_late_us{0};
  goro::wait_group wg;
  rt.block_on([&] {
    for (int i = 0; i < n; ++i)
      wg.go([&, i] {
        const auto d = std::chrono::milliseconds(1 + i % 20);
        const auto t0 = clk::now();
        goro::sleep_for(d);
        const auto late =
            std::chrono::duration_cast<std::chrono::microseconds>(clk::now() - t0 - d).count();
        goro::test::atomic_max(max_late_us, static_cast<std::int64_t>(late));
        fired++;
      });
    wg.wait();
  });
  INFO(n << " sleepers, latest woke " << max_late_us.load() << " us late");
  CHECK(fired.load() == n);
  CHECK(max_late_us.load() < 2'000'000);
}

// Regression (defect 1): a worker fired due timers while a fiber was parking on it with its
// channel locks held; the timer's send then waited for that lock on the same thread, forever.
// One worker, four fibers, every kind of blocking receive on a timer's channel.
TEST_CASE("timers: firing while fibers park on timer channels never self-deadlocks", "[time]") {
  const std::size_t iters = goro::test::scaled(200'000, 2'000);
  std::atomic<std::size_t> good{0};
  // op() returns whether the iteration saw what it must (Catch2 asserts only on this thread).
  auto loop = [&](auto op) {
    return [&, op] {
      goro::wait_group wg;
      for (int f = 0; f < 4; ++f)
        wg.go([&] {
          for (std::size_t i = 0; i < iters; ++i)
            if (op()) good.fetch_add(1, std::memory_order_relaxed);
        });
      wg.wait();
    };
  };
  auto never = goro::make_chan<int>();
  auto select_after = [never] {
    return goro::select(goro::case_recv(never), goro::case_recv(goro::after(0us))) == 1;
  };
  SECTION("select with after(0)") {
    CHECK(goro::test::finishes_within({.workers = 1}, 30s, loop(select_after)));
  }
  SECTION("after(0).recv()") {
    CHECK(goro::test::finishes_within({.workers = 1}, 30s,
                                      loop([] { return goro::after(0us).recv().has_value(); })));
  }
  SECTION("timer(0).c().recv()") {
    CHECK(goro::test::finishes_within({.workers = 1}, 30s, loop([] {
                                        goro::timer t(0us);
                                        return t.c().recv().has_value();
                                      })));
  }
  SECTION("with_timeout(1us) then done().recv()") {
    CHECK(goro::test::finishes_within({.workers = 1}, 30s, loop([] {
                                        auto [ctx, cancel] =
                                            goro::with_timeout(goro::background(), 1us);
                                        return !ctx.done().recv() && ctx.err();
                                      })));
  }
  SECTION("two workers") {
    CHECK(goro::test::finishes_within({.workers = 2}, 30s, loop(select_after)));
  }
  CHECK(good.load() == 4 * iters);
}

// Regression (defect 8): now + nanoseconds::max() overflowed (UBSan: signed overflow) and the
// deadline landed in the past, so "never" fired at once. Durations saturate: too long means
// never (Go's math.MaxInt64), too negative means now.
TEST_CASE("time: extreme durations saturate instead of overflowing", "[time]") {
  using ns = std::chrono::nanoseconds;
  STATIC_REQUIRE(goro::detail::saturating_ns(std::chrono::hours::max()) == goro::detail::max_ns);
  STATIC_REQUIRE(goro::detail::saturating_ns(std::chrono::hours::min()) == goro::detail::min_ns);
  STATIC_REQUIRE(goro::detail::saturating_ns(std::chrono::duration<double>(1e300)) ==
                 goro::detail::max_ns);
  STATIC_REQUIRE(goro::detail::saturating_ns(std::chrono::seconds(3)) == 3'000'000'000);
  goro::runtime rt({.workers = 2});
  std::atomic<bool> sleeper_woke{false};
  std::atomic<bool> sleeper_started{false};
  rt.go([&] {
    sleeper_started = true;
    goro::sleep_for(ns::max());
    sleeper_woke = true;  // only teardown ends this sleep (by unwinding, so never reached)
  });
  struct outcome {
    std::size_t never_chosen, past_chosen;
    bool min_sleep_returned, ctx_min_done, cv_max_notified;
  };
  outcome o = rt.block_on([] {
    outcome r{};
    goro::timer t(ns::max());
    goro::ticker tk(std::chrono::hours::max());
    auto [ctx, cancel] = goro::with_timeout(goro::background(), ns::max());
    auto [sctx, scancel] = goro::with_deadline(goro::background(), clk::time_point::max());
    r.never_chosen =
        goro::select(goro::case_recv(goro::after(ns::max())),
                     goro::case_recv(goro::after(std::chrono::hours::max())),
                     goro::case_recv(t.c()), goro::case_recv(tk.c()), goro::case_recv(ctx.done()),
                     goro::case_recv(sctx.done()), goro::case_recv(goro::after(30ms)));
    r.past_chosen = goro::select(goro::case_recv(goro::after(ns::min())),
                                 goro::case_recv(goro::after(std::chrono::hours(1))));
    goro::sleep_for(ns::min());
    goro::sleep_for(std::chrono::hours::min());
    goro::sleep_until(std::chrono::system_clock::time_point::min());
    r.min_sleep_returned = true;
    auto [past, pcancel] = goro::with_timeout(goro::background(), ns::min());
    r.ctx_min_done = !past.done().recv() && goro::is(past.err(), goro::deadline_exceeded);
    goro::mutex m;
    goro::condition_variable cv;
    bool flag = false;
    goro::go([&] {
      std::lock_guard g(m);
      flag = true;
      cv.notify_one();
    });
    std::unique_lock lk(m);
    r.cv_max_notified = cv.wait_for(lk, ns::max(), [&] { return flag; });
    return r;
  });
  CHECK(o.never_chosen == 6);
  CHECK(o.past_chosen == 0);
  CHECK(o.min_sleep_returned);
  CHECK(o.ctx_min_done);
  CHECK(o.cv_max_notified);
  CHECK(sleeper_started);
  CHECK_FALSE(sleeper_woke);
}
