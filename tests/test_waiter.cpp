// The park/unpark primitive: no lost wakeups between fibers and threads in any mix.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "goro/goro.hpp"
#include "test_util.hpp"

using goro::detail::waiter;

namespace {

// A mailbox through which one side publishes its waiter and the other unparks it: the race
// between park and unpark is exercised every round.
struct handoff {
  std::atomic<waiter*> slot{nullptr};
  waiter* take() {
    waiter* w;
    while (!(w = slot.exchange(nullptr, std::memory_order_acq_rel))) {
      if (goro::in_fiber()) goro::yield(); else std::this_thread::yield();
    }
    return w;
  }
};

// One round: the parker publishes a fresh waiter and parks; the unparker takes it and unparks.
void parker_loop(handoff& h, std::size_t rounds, std::atomic<std::size_t>& done) {
  for (std::size_t i = 0; i < rounds; ++i) {
    waiter w;
    h.slot.store(&w, std::memory_order_release);
    w.park();
    done.fetch_add(1, std::memory_order_relaxed);
  }
}
void unparker_loop(handoff& h, std::size_t rounds) {
  for (std::size_t i = 0; i < rounds; ++i) h.take()->unpark();
}

}  // namespace

TEST_CASE("waiter: unpark before park is not lost", "[waiter]") {
  goro::runtime rt({.workers = 2});
  rt.block_on([] {
    waiter w;
    w.unpark();
    w.park();  // returns at once: the token was kept
  });
  waiter tw;  // and on a plain thread
  tw.unpark();
  tw.park();
}
