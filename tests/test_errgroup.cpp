// error, context and errgroup.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using goro::test::scaled;
using namespace std::chrono_literals;

namespace {
const goro::error not_found("not found");
}

TEST_CASE("error: nil, messages, identity, wrapping, exceptions", "[error]") {
  goro::error nil;
  CHECK_FALSE(nil);
  CHECK(nil.message().empty());
  CHECK(nil == goro::error());
  goro::error a("boom"), b("boom");
  CHECK(a);
  CHECK(a.message() == "boom");
  CHECK_FALSE(a == b);  // identity, not message
  goro::error copy = a;
  CHECK(copy == a);
  goro::error w = goro::wrap(not_found, "loading user 7");
  CHECK(w.message() == "loading user 7: not found");
  CHECK(w.unwrap() == not_found);
  CHECK(goro::is(w, not_found));
  CHECK(goro::is(goro::wrap(w, "request"), not_found));
  CHECK_FALSE(goro::is(w, a));
  goro::error ex(std::make_exception_ptr(std::out_of_range("index 9")));
  CHECK(ex.message() == "index 9");
  CHECK_THROWS_AS(ex.raise(), std::out_of_range);
  CHECK_THROWS_WITH(a.raise(), "boom");
}

TEST_CASE("context: cancel reaches every descendant, never the parent", "[context]") {
  auto [root, cancel_root] = goro::with_cancel(goro::background());
  auto [mid, cancel_mid] = goro::with_cancel(root);
  auto [leaf, cancel_leaf] = goro::with_cancel(mid);
  auto [sibling, cancel_sibling] = goro::with_cancel(root);
  CHECK_FALSE(leaf.err());
  cancel_mid();
  CHECK(mid.err() == goro::canceled);
  CHECK(leaf.err() == goro::canceled);
  CHECK_FALSE(root.err());  // never the parent
  CHECK_FALSE(sibling.err());
  CHECK(leaf.done().try_recv().closed());
  CHECK(sibling.done().try_recv().empty());
  cancel_mid();  // idempotent
  cancel_root();
  CHECK(sibling.err() == goro::canceled);
  auto [late, cancel_late] = goro::with_cancel(root);  // child of a canceled parent
  CHECK(late.err() == goro::canceled);
  CHECK_FALSE(goro::background().err());
  CHECK_FALSE(goro::background().done());  // nil: never ready
  (void)cancel_leaf;
  (void)cancel_sibling;
  (void)cancel_late;
}

TEST_CASE("context: trees of depth and breadth, canceled from another thread", "[context]") {
  goro::runtime rt({.workers = 2});
  auto [root, cancel] = goro::with_cancel(goro::background());
  std::vector<goro::context> leaves;
  std::vector<goro::cancel_func> keep;
  for (int b = 0; b < 50; ++b) {
    goro::context c = root;
    for (int d = 0; d < 20; ++d) {
      auto [child, cf] = goro::with_cancel(c);
      keep.push_back(cf);
      c = child;
    }
    leaves.push_back(c);
  }
  std::atomic<int> woke{0};
  goro::wait_group wg;
  for (auto& leaf : leaves)
    wg.go(rt, [&, leaf] {
      leaf.done().recv();  // parks until the root is canceled
      if (leaf.err() == goro::canceled) woke++;
    });
  std::thread t([c = cancel] { c(); });
  t.join();
  wg.wait();
  CHECK(woke.load() == 50);
}

TEST_CASE("context: deadlines and timeouts", "[context]") {
  goro::runtime rt({.workers = 2});
  auto [outcome, waited_ms] = rt.block_on([] {
    auto t0 = std::chrono::steady_clock::now();  // before the deadline is set: 20 ms from here
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 20ms);
    goro::select(goro::case_recv(ctx.done()));
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return std::pair{ctx.err(), ms};
  });
  CHECK(outcome == goro::deadline_exceeded);
  CHECK(waited_ms >= 20.0);
  auto tp = std::chrono::steady_clock::now() + 1h;
  auto [a, ca] = goro::with_deadline(goro::background(), tp);
  REQUIRE(a.deadline());
  CHECK(*a.deadline() == tp);
  auto [b, cb] = goro::with_timeout(a, 2h);  // the parent's deadline is earlier: kept
  CHECK(*b.deadline() == tp);
  auto [c, cc] = goro::with_timeout(a, -1s);  // already past
  CHECK(c.err() == goro::deadline_exceeded);
  ca();
  CHECK(b.err() == goro::canceled);
  CHECK_FALSE(goro::background().deadline());
  (void)cb;
  (void)cc;
}

TEST_CASE("errgroup: the seed example — first error wins and cancels the siblings", "[errgroup]") {
  goro::runtime rt({.workers = 2});
  auto [err, sibling_saw_cancel] = rt.block_on([] {
    auto [g, ctx] = goro::errgroup::with_context(goro::background());
    std::atomic<bool> saw{false};
    g.go([ctx = ctx]() -> goro::error {
      goro::sleep_for(5ms);
      return goro::error("database connection timeout");
    });
    g.go([ctx = ctx, &saw]() -> goro::error {
      std::size_t i = goro::select(goro::case_recv(ctx.done()), goro::case_recv(goro::after(10s)));
      saw = i == 0 && ctx.err() == goro::canceled;
      return ctx.err();
    });
    goro::error e = g.wait();
    return std::pair{e, saw.load()};
  });
  CHECK(err.message() == "database connection timeout");
  CHECK(sibling_saw_cancel);
}

TEST_CASE("errgroup: void tasks, exceptions become errors, zero value usable", "[errgroup]") {
  goro::runtime rt({.workers = 2});
  goro::error e = rt.block_on([] {
    goro::errgroup g;
    std::atomic<int> n{0};
    for (int i = 0; i < 10; ++i) g.go([&] { n++; });
    g.go([] { throw std::runtime_error("disk full"); });
    goro::error err = g.wait();
    return n.load() == 10 ? err : goro::error("not all ran");
  });
  CHECK(e.message() == "disk full");
  CHECK_THROWS_AS(e.raise(), std::runtime_error);
  goro::errgroup ok;
  CHECK_FALSE(ok.wait());
}

TEST_CASE("errgroup: set_limit is observed, try_go", "[errgroup]") {
  goro::runtime rt({.workers = 2});
  const int tasks = static_cast<int>(scaled(2000, 200));
  auto [max_running, count, full_at_limit, tried] = rt.block_on([tasks] {
    goro::errgroup g;
    g.set_limit(8);
    std::atomic<int> running{0}, max_running{0}, count{0};
    auto gate = goro::make_chan<int>();
    auto task = [&] {
      int now = ++running;
      int m = max_running.load();
      while (now > m && !max_running.compare_exchange_weak(m, now)) {
      }
      gate.recv();  // held until the gate closes
      count++;
      --running;
    };
    for (int i = 0; i < 8; ++i) g.go(task);  // fills every slot
    while (running.load() < 8) goro::yield();
    bool full = !g.try_go(task);  // a ninth may not start
    goro::go([&] {
      goro::sleep_for(std::chrono::milliseconds(2));
      gate.close();
    });
    for (int i = 8; i < tasks; ++i) g.go(task);  // blocks for free slots
    g.wait();
    goro::errgroup h;
    h.set_limit(1);
    goro::chan<int> block = goro::make_chan<int>();
    bool first = h.try_go([block] { block.recv(); });
    bool second = h.try_go([] {});  // the only slot is taken
    block.send(1);
    h.wait();
    return std::tuple{max_running.load(), count.load(), full, first && !second};
  });
  CHECK(max_running == 8);
  CHECK(count == tasks);
  CHECK(full_at_limit);
  CHECK(tried);
  goro::errgroup busy;
  auto hold = goro::make_chan<int>();
  busy.go([hold] { hold.recv(); });
  CHECK_THROWS_AS(busy.set_limit(2), std::logic_error);  // not while tasks run
  hold.send(1);
  busy.wait();
}
