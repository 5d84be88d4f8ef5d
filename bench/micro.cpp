// Micro-benchmarks of goro's hot paths (Google Benchmark), each on a one-worker runtime so that
// nothing is contended: fiber switch, spawn, channel operations, select, wait_group, mutex.
// Times are real time per iteration (the work runs on the worker thread, not the caller).
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include <benchmark/benchmark.h>

#include "goro/goro.hpp"

#if __has_include("goro/mutex.hpp")
#include "goro/mutex.hpp"
#define GORO_BENCH_HAVE_MUTEX 1
#endif

namespace {

// Runs `f` as a fiber on a one-worker runtime and waits for it.
template <class F>
void on_one_worker(F&& f) {
  static goro::runtime rt(goro::options{.workers = 1});
  rt.block_on(std::forward<F>(f));
}

// One iteration: a yield to another fiber that yields back (two switches).
void BM_switch(benchmark::State& state) {
  on_one_worker([&] {
    std::atomic<bool> stop{false};
    goro::wait_group partner;
    partner.go([&] {
      while (!stop.load(std::memory_order_relaxed)) goro::yield();
    });
    for (auto _ : state) goro::yield();
    stop = true;
    partner.wait();
  });
  state.counters["per_switch"] =
      benchmark::Counter(2 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_switch)->UseRealTime();

// One iteration: spawning a fiber that runs to completion (joined in batches of 256).
void BM_spawn(benchmark::State& state) {
  on_one_worker([&] {
    goro::wait_group wg;
    std::int64_t batch = 0;
    for (auto _ : state) {
      wg.go([] {});
      if (++batch == 256) {
        wg.wait();
        batch = 0;
      }
    }
    wg.wait();
  });
}
BENCHMARK(BM_spawn)->UseRealTime();

// One iteration: send then receive on a buffered channel, in one fiber (never parks).
void BM_chan_buffered(benchmark::State& state) {
  on_one_worker([&] {
    auto ch = goro::make_chan<std::int64_t>(1);
    std::int64_t i = 0;
    for (auto _ : state) {
      ch.send(i++);
      benchmark::DoNotOptimize(ch.recv());
    }
  });
}
BENCHMARK(BM_chan_buffered)->UseRealTime();

// One iteration: a round trip to an echo fiber over two channels of capacity Arg (0 or 1).
void BM_chan_pingpong(benchmark::State& state) {
  on_one_worker([&] {
    const auto cap = static_cast<std::size_t>(state.range(0));
    auto ping = goro::make_chan<std::int64_t>(cap);
    auto pong = goro::make_chan<std::int64_t>(cap);
    goro::wait_group echo;
    echo.go([&] {
      for (std::int64_t v : ping) pong.send(v);
    });
    std::int64_t i = 0;
    for (auto _ : state) {
      ping.send(i++);
      benchmark::DoNotOptimize(pong.recv());
    }
    ping.close();
    echo.wait();
  });
}
BENCHMARK(BM_chan_pingpong)->ArgName("cap")->Arg(0)->Arg(1)->UseRealTime();

template <std::size_t N, std::size_t... I>
std::size_t select_recv(std::array<goro::chan<int>, N>& chs, std::index_sequence<I...>) {
  return goro::select(goro::case_recv(chs[I])...);
}

// One iteration: a send on one of N buffered channels (in turn), then a select receiving over
// all N (one ready).
template <std::size_t N>
void BM_select(benchmark::State& state) {
  on_one_worker([&] {
    std::array<goro::chan<int>, N> chs;
    for (auto& c : chs) c = goro::make_chan<int>(1);
    std::size_t i = 0;
    for (auto _ : state) {
      chs[i++ % N].send(1);
      benchmark::DoNotOptimize(select_recv(chs, std::make_index_sequence<N>{}));
    }
  });
}
BENCHMARK(BM_select<2>)->UseRealTime();
BENCHMARK(BM_select<8>)->UseRealTime();

// One iteration: add(1) then done() on a wait_group nobody waits on.
void BM_wait_group(benchmark::State& state) {
  on_one_worker([&] {
    goro::wait_group wg;
    for (auto _ : state) {
      wg.add(1);
      wg.done();
    }
  });
}
BENCHMARK(BM_wait_group)->UseRealTime();

#ifdef GORO_BENCH_HAVE_MUTEX
// One iteration: lock and unlock an uncontended goro::mutex.
void BM_mutex(benchmark::State& state) {
  on_one_worker([&] {
    goro::mutex m;
    std::int64_t x = 0;
    for (auto _ : state) {
      std::lock_guard lock(m);
      benchmark::DoNotOptimize(++x);
    }
  });
}
BENCHMARK(BM_mutex)->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
