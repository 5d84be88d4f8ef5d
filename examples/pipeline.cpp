// "Go Concurrency Patterns: Pipelines and cancellation" (go.dev/blog/pipelines), ported:
//
//   gen ──► in ──┬─► sq ─┐
//                ├─► sq ─┼─► merge ──► consumer
//                └─► sq ─┘
//
// gen emits numbers, several sq stages square them (fan-out: they all receive from one channel),
// and merge funnels their outputs into one channel (fan-in). Every stage sends with a select that
// also watches a `done` channel, and closes its output when it returns, so that when the
// consumer stops early and cancels, every stage returns instead of blocking forever on a send
// nobody will receive (a goroutine leak in Go, a fiber leak here).
//
// `done` is a receive-only channel of std::monostate (Go's `<-chan struct{}`), and that is
// exactly what goro::context::done() returns: part 1 closes a plain channel, like the blog; part 2
// cancels a context instead. A wait_group counts the stage fibers, so both parts check that every
// stage really exited.
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <numeric>
#include <variant>
#include <vector>

// Go: done <-chan struct{}. (goro::context::done() returns the same type.)
using done_chan = goro::recv_chan<std::monostate>;

// Starts every stage fiber and knows when all of them have returned.
struct stage_group {
  goro::wait_group wg;
  std::atomic<int> started{0};

  template <class F>
  void go(F&& f) {
    started.fetch_add(1, std::memory_order_relaxed);
    wg.go(std::forward<F>(f));
  }
};

// Sends v on out unless done is closed first; false means "canceled: stop".
static bool send_or_done(const goro::chan<int>& out, int v, const done_chan& done) {
  return goro::select(goro::case_send(out, v), goro::case_recv(done)) == 0;
}

// func gen(done <-chan struct{}, nums ...int) <-chan int
static goro::recv_chan<int> gen(stage_group& stages, goro::recv_chan<std::monostate> done,
                                std::vector<int> nums) {
  auto out = goro::make_chan<int>();
  stages.go([done, out, nums = std::move(nums)] {
    for (int n : nums)
      if (!send_or_done(out, n, done)) break;
    out.close();  // Go: defer close(out)
  });
  return out;
}

// func sq(done <-chan struct{}, in <-chan int) <-chan int
static goro::recv_chan<int> sq(stage_group& stages, goro::recv_chan<std::monostate> done,
                               goro::recv_chan<int> in) {
  auto out = goro::make_chan<int>();
  stages.go([done, in, out] {
    for (int n : in)
      if (!send_or_done(out, n * n, done)) break;
    out.close();
  });
  return out;
}

// func merge(done <-chan struct{}, cs ...<-chan int) <-chan int
static goro::recv_chan<int> merge(stage_group& stages, goro::recv_chan<std::monostate> done,
                                  const std::vector<goro::recv_chan<int>>& cs) {
  auto out = goro::make_chan<int>();
  // Shared by the output fibers and the closer, which may outlive this call.
  auto wg = std::make_shared<goro::wait_group>();
  wg->add(static_cast<std::int64_t>(cs.size()));
  for (const auto& c : cs) {
    stages.go([done, c, out, wg] {  // func output(c <-chan int)
      for (int n : c)
        if (!send_or_done(out, n, done)) break;
      wg->done();
    });
  }
  stages.go([wg, out] {  // close out once all the output fibers are done
    wg->wait();
    out.close();
  });
  return out;
}

int main() {
  return goro::run([] {
    bool ok = true;

    // Part 1: consume everything. 1..10 through three sq workers: 1 + 4 + ... + 100 = 385.
    {
      stage_group stages;
      auto done = goro::make_chan<std::monostate>();  // done := make(chan struct{})
      std::vector<int> nums(10);
      std::iota(nums.begin(), nums.end(), 1);
      auto in = gen(stages, done, nums);
      auto out =
          merge(stages, done, {sq(stages, done, in), sq(stages, done, in), sq(stages, done, in)});
      int sum = 0;
      for (int v : out) sum += v;
      done.close();  // Go: defer close(done); nothing is blocked any more, but it is the idiom
      stages.wg.wait();
      std::printf(
          "part 1: sum of squares of 1..10 through 3 sq stages = %d; %d stage fibers exited\n", sum,
          stages.started.load());
      ok = ok && sum == 385;
    }

    // Part 2: the consumer takes two values of a long stream, then cancels the context. Every
    // stage is blocked in (or about to reach) a send; each select sees ctx.done() close, returns,
    // and closes its output, which ends the next stage's range loop.
    {
      stage_group stages;
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      std::vector<int> nums(100'000);
      std::iota(nums.begin(), nums.end(), 1);
      auto in = gen(stages, ctx.done(), std::move(nums));
      std::vector<goro::recv_chan<int>> squares;
      squares.reserve(4);
      for (int i = 0; i < 4; ++i) squares.push_back(sq(stages, ctx.done(), in));
      auto out = merge(stages, ctx.done(), squares);
      int taken = 0;
      for (int i = 0; i < 2; ++i)
        if (out.recv()) ++taken;
      cancel();          // tell every stage to stop
      stages.wg.wait();  // hangs (and the test times out) if any stage fiber leaked
      std::printf("part 2: took %d values, then %s; all %d stage fibers exited\n", taken,
                  ctx.err().message().c_str(), stages.started.load());
      ok = ok && taken == 2 && ctx.err() == goro::canceled;
    }
    if (!ok) std::printf("FAIL: unexpected results\n");
    return ok ? 0 : 1;
  });
}
