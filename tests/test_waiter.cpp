// The park/unpark primitive: no lost wakeups between fibers and threads, in any mix.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using goro::detail::waiter;
using goro::test::latch;
using goro::test::scaled;

namespace {

// One side publishes a fresh waiter and parks on it; the other takes it and unparks it. Every
// round races park against unpark; a lost wakeup hangs the test (caught by ctest's timeout).
struct handoff {
  std::atomic<waiter*> slot{nullptr};
};

void parker_loop(handoff& h, std::size_t rounds, std::atomic<std::size_t>& done) {
  for (std::size_t i = 0; i < rounds; ++i) {
    waiter w;
    h.slot.store(&w, std::memory_order_release);
    w.park();
    done.fetch_add(1, std::memory_order_relaxed);
  }
}

void unparker_loop(handoff& h, std::size_t rounds) {
  for (std::size_t i = 0; i < rounds; ++i) {
    waiter* w;
    while (!(w = h.slot.exchange(nullptr, std::memory_order_acq_rel))) {
      if (goro::in_fiber()) goro::yield();
      else std::this_thread::yield();
    }
    w->unpark();
  }
}

enum class side { fiber, thread };

// Runs `pairs` parker/unparker pairs, each side a fiber or a plain thread.
std::size_t hammer(goro::runtime& rt, side parker, side unparker, int pairs, std::size_t rounds) {
  std::vector<handoff> hs(pairs);
  std::atomic<std::size_t> done{0};
  latch fibers_done(static_cast<std::size_t>(pairs) *
                    ((parker == side::fiber) + (unparker == side::fiber)));
  std::vector<std::thread> threads;
  for (int p = 0; p < pairs; ++p) {
    handoff& h = hs[p];
    if (parker == side::fiber)
      rt.go([&] {
        parker_loop(h, rounds, done);
        fibers_done.count_down();
      });
    else threads.emplace_back([&] { parker_loop(h, rounds, done); });
    if (unparker == side::fiber)
      rt.go([&] {
        unparker_loop(h, rounds);
        fibers_done.count_down();
      });
    else threads.emplace_back([&] { unparker_loop(h, rounds); });
  }
  for (auto& t : threads) t.join();
  fibers_done.wait();
  return done.load();
}

}  // namespace

TEST_CASE("waiter: an unpark before park is kept", "[waiter]") {
  goro::runtime rt({.workers = 2});
  int parked_and_returned = rt.block_on([] {
    waiter w;
    w.unpark();
    w.park();
    return 1;
  });
  CHECK(parked_and_returned == 1);
  waiter tw;  // on a plain thread
  tw.unpark();
  tw.park();
  CHECK_FALSE(goro::in_fiber());
}

TEST_CASE("waiter: park/unpark hammering across fibers and threads", "[waiter][stress]") {
  const std::size_t rounds = scaled(20000, 500);
  const int pairs = 3;
  goro::runtime rt({.workers = 2});
  SECTION("fiber -> fiber") {
    CHECK(hammer(rt, side::fiber, side::fiber, pairs, rounds) == pairs * rounds);
  }
  SECTION("thread -> fiber") {
    CHECK(hammer(rt, side::fiber, side::thread, pairs, rounds) == pairs * rounds);
  }
  SECTION("fiber -> thread") {
    CHECK(hammer(rt, side::thread, side::fiber, pairs, rounds) == pairs * rounds);
  }
  SECTION("thread -> thread") {
    CHECK(hammer(rt, side::thread, side::thread, 1, rounds) == rounds);
  }
}

TEST_CASE("waiter: park_until times out and reports an unpark", "[waiter]") {
  goro::runtime rt({.workers = 2});
  using clock = std::chrono::steady_clock;
  auto check = [] {
    waiter w;
    auto t0 = clock::now();
    bool woken = w.park_until(t0 + std::chrono::milliseconds(20));
    auto waited = clock::now() - t0;
    CHECK_FALSE(woken);
    CHECK(waited >= std::chrono::milliseconds(20));
    waiter w2;
    w2.unpark();
    CHECK(w2.park_until(clock::now() + std::chrono::seconds(10)));
  };
  rt.block_on(check);
  check();
}
