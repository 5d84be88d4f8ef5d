// goro's internal lock-free and queue structures, driven directly at small sizes where the
// full/empty edges and the ring wrap-around come every few operations: the local run queue, the
// global run queue, the buffered channel's ring and the timer heap. Single-threaded tests compare
// against a plain model; the threaded ones are bounded in count and account for every element.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "fiber.hpp"
#include "global_queue.hpp"
#include "goro/detail/chan_core.hpp"
#include "goro/detail/chan_ring.hpp"
#include "run_queue.hpp"
#include "test_util.hpp"
#include "timer_heap.hpp"

using goro::detail::chan_ring;
using goro::detail::fiber;
using goro::detail::global_queue;
using goro::detail::run_queue;
using goro::detail::timer_heap;
using goro::detail::timer_node;
using goro::test::scaled;

namespace {

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

// Distinct, real fiber addresses for the run queues (which only store and hand back pointers).
class fiber_pool {
 public:
  explicit fiber_pool(std::size_t n) : n_(n), v_(new fiber[n]) {}
  fiber* operator[](std::size_t i) const noexcept { return &v_[i]; }
  /// The index of `f`, or npos for a pointer that is not one of ours.
  std::size_t id(const fiber* f) const noexcept {
    const auto d = reinterpret_cast<std::uintptr_t>(f) - reinterpret_cast<std::uintptr_t>(&v_[0]);
    if (d % sizeof(fiber) != 0 || d / sizeof(fiber) >= n_) return npos;
    return d / sizeof(fiber);
  }
  std::size_t size() const noexcept { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<fiber[]> v_;
};

bool strictly_increasing(const std::vector<std::size_t>& v) {
  return std::adjacent_find(v.begin(), v.end(),
                            [](std::size_t a, std::size_t b) { return a >= b; }) == v.end();
}

// Each of 0..n-1 exactly once in `got` (npos and out-of-range ids count as errors).
std::string exactly_once(const std::vector<std::size_t>& got, std::size_t n) {
  std::vector<unsigned> seen(n, 0);
  for (std::size_t id : got) {
    if (id >= n) return "foreign or out-of-range id " + std::to_string(id);
    if (++seen[id] == 2) return "id " + std::to_string(id) + " taken twice";
  }
  for (std::size_t i = 0; i < n; ++i)
    if (seen[i] == 0) return "id " + std::to_string(i) + " never taken";
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// run_queue (runtime/run_queue.hpp): the worker-local ring, capacity 256

TEST_CASE("structures: run_queue push to full then pop in FIFO order", "[structures]") {
  constexpr std::uint32_t cap = run_queue::capacity;
  STATIC_REQUIRE(cap == 256);
  fiber_pool fs(cap + 1);
  auto q = std::make_unique<run_queue>();
  CHECK(q->empty());
  CHECK(q->size() == 0);
  CHECK(q->pop() == nullptr);

  std::uint32_t accepted = 0;
  for (std::uint32_t i = 0; i < cap; ++i) accepted += q->push(fs[i]) ? 1 : 0;
  CHECK(accepted == cap);
  CHECK(q->size() == cap);
  CHECK_FALSE(q->push(fs[cap]));  // full
  CHECK(q->size() == cap);
  CHECK_FALSE(q->empty());

  // One pop makes room for exactly one push.
  CHECK(q->pop() == fs[0]);
  CHECK(q->size() == cap - 1);
  CHECK(q->push(fs[cap]));
  CHECK_FALSE(q->push(fs[0]));
  CHECK(q->size() == cap);

  std::vector<std::size_t> got, want(cap);
  std::iota(want.begin(), want.end(), std::size_t{1});
  while (fiber* f = q->pop()) got.push_back(fs.id(f));
  CHECK(got == want);
  CHECK(q->empty());
  CHECK(q->size() == 0);
  CHECK(q->pop() == nullptr);
}

TEST_CASE("structures: run_queue ring wraps over many push and pop rounds", "[structures]") {
  constexpr std::size_t cap = run_queue::capacity;
  // Ids are reused modulo the pool; at most cap of them are in the queue at once.
  fiber_pool fs(4 * cap);
  auto q = std::make_unique<run_queue>();
  std::deque<std::size_t> model;
  std::mt19937 rng(20240611);
  std::size_t next = 0, pushes = 0, pops = 0, grabs = 0, fulls = 0, empties = 0;
  std::string err;
  const std::size_t rounds = scaled(40000, 4000);
  for (std::size_t r = 0; r < rounds && err.empty(); ++r) {
    const unsigned kind = rng() % 10;
    const std::size_t burst = rng() % 300;  // often enough to hit full or empty
    if (kind < 5) {
      for (std::size_t i = 0; i < burst && err.empty(); ++i) {
        const std::size_t id = next % fs.size();
        const bool want = model.size() < cap;
        if (q->push(fs[id]) != want) err = "push at size " + std::to_string(model.size());
        if (want) {
          model.push_back(id);
          ++next;
          ++pushes;
        } else {
          ++fulls;
        }
      }
    } else if (kind < 9) {
      for (std::size_t i = 0; i < burst && err.empty(); ++i) {
        fiber* f = q->pop();
        if (model.empty()) {
          if (f) err = "pop from an empty queue returned a fiber";
          ++empties;
        } else {
          if (fs.id(f) != model.front()) err = "pop out of FIFO order";
          model.pop_front();
          ++pops;
        }
      }
    } else {
      fiber* out[cap];
      const std::uint32_t max = rng() % 200;
      const std::size_t want = std::min<std::size_t>(model.size() - model.size() / 2, max);
      const std::uint32_t n = q->grab(out, max);
      if (n != want) err = "grab took " + std::to_string(n) + " of " + std::to_string(want);
      for (std::uint32_t i = 0; i < n && err.empty(); ++i) {
        if (fs.id(out[i]) != model.front()) err = "grab out of FIFO order";
        model.pop_front();
      }
      ++grabs;
    }
    if (err.empty() && q->size() != model.size()) err = "size() differs from the model";
    if (err.empty() && q->empty() != model.empty()) err = "empty() differs from the model";
    if (!err.empty()) err += " (round " + std::to_string(r) + ")";
  }
  CHECK(err == "");
  // The ring went round many times, and both edges were hit often.
  CHECK(pushes > 20 * cap);
  CHECK(pops > 10 * cap);
  CHECK(grabs > 10);
  CHECK(fulls > 100);
  CHECK(empties > 100);
}

TEST_CASE("structures: run_queue grab takes half rounded up capped by max", "[structures]") {
  constexpr std::uint32_t cap = run_queue::capacity;
  fiber_pool fs(cap);
  for (std::uint32_t shift : {0u, 100u, 255u}) {  // where the head sits in the ring
    for (std::uint32_t n : {0u, 1u, 2u, 3u, 4u, 5u, 127u, 128u, 129u, 200u, 255u, 256u}) {
      for (std::uint32_t max : {0u, 1u, 2u, 3u, 64u, 127u, 128u, 129u, 256u}) {
        CAPTURE(shift, n, max);
        auto q = std::make_unique<run_queue>();
        for (std::uint32_t i = 0; i < shift; ++i) {
          REQUIRE(q->push(fs[i]));
          REQUIRE(q->pop() == fs[i]);
        }
        for (std::uint32_t i = 0; i < n; ++i) REQUIRE(q->push(fs[i]));
        fiber* out[cap + 1];
        std::fill(std::begin(out), std::end(out), nullptr);
        const std::uint32_t k = q->grab(out, max);
        const std::uint32_t want = std::min(n - n / 2, max);
        CHECK(k == want);
        std::vector<std::size_t> got, rest;
        for (std::uint32_t i = 0; i < k; ++i) got.push_back(fs.id(out[i]));
        std::vector<std::size_t> want_got(want);
        std::iota(want_got.begin(), want_got.end(), std::size_t{0});
        CHECK(got == want_got);
        // Nothing written past what it returned.
        CHECK(std::all_of(out + k, std::end(out), [](fiber* f) { return f == nullptr; }));
        CHECK(q->size() == n - k);
        while (fiber* f = q->pop()) rest.push_back(fs.id(f));
        std::vector<std::size_t> want_rest(n - want);
        std::iota(want_rest.begin(), want_rest.end(), std::size_t{want});
        CHECK(rest == want_rest);
      }
    }
  }
}

TEST_CASE("structures: run_queue owner pop races one thief grab and each fiber is taken once",
          "[structures]") {
  const std::size_t n = scaled(200000, 3000);
  fiber_pool fs(n);
  std::vector<std::size_t> owner_got;
  owner_got.reserve(n);
  std::vector<std::vector<std::size_t>> thief_got;
  std::size_t next = 0, oversize = 0;
  std::mt19937 rng(7);
  // Three rounds, each with a new thief taking at most `max` at a time.
  for (std::uint32_t max : {1u, 5u, 128u}) {
    auto q = std::make_unique<run_queue>();
    const std::size_t end = std::min(n, next + n / 3 + 1);
    std::atomic<bool> done{false};
    std::vector<std::size_t> got;
    got.reserve(end - next);
    std::size_t thief_oversize = 0;
    std::atomic<std::size_t> thief_took{0};
    std::thread thief([&, max] {
      fiber* buf[run_queue::capacity];
      for (;;) {
        const bool last = done.load(std::memory_order_acquire);
        const std::uint32_t k = q->grab(buf, max);
        if (k > max) ++thief_oversize;
        for (std::uint32_t i = 0; i < k; ++i) got.push_back(fs.id(buf[i]));
        thief_took.fetch_add(k, std::memory_order_relaxed);
        if (k == 0 && last) return;
      }
    });
    const std::size_t start = next;
    for (; next < end; ++next) {
      // Once the queue has filled up, let the thief take part before going on.
      if (next == start + run_queue::capacity)
        while (thief_took.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
      while (
          !q->push(fs[next]))  // full: the owner takes one itself (the thief may have emptied it)
        if (fiber* f = q->pop()) owner_got.push_back(fs.id(f));
      if (rng() % 3 == 0)
        if (fiber* f = q->pop()) owner_got.push_back(fs.id(f));
    }
    while (fiber* f = q->pop()) owner_got.push_back(fs.id(f));
    done.store(true, std::memory_order_release);
    thief.join();
    CHECK(q->empty());
    oversize += thief_oversize;
    thief_got.push_back(std::move(got));
  }
  REQUIRE(next == n);
  CHECK(oversize == 0);
  // Each taker sees the fibers in push order; together they took each exactly once.
  CHECK(strictly_increasing(owner_got));
  std::vector<std::size_t> all = owner_got;
  std::size_t stolen = 0;
  for (const auto& g : thief_got) {
    CHECK(strictly_increasing(g));
    all.insert(all.end(), g.begin(), g.end());
    stolen += g.size();
  }
  CHECK(exactly_once(all, n) == "");
  CHECK(stolen > 0);  // the thief did take part
}

// ---------------------------------------------------------------------------------------------
// global_queue (runtime/global_queue.hpp): a locked FIFO of 254-pointer batches

namespace {
constexpr std::size_t gq_batch = 254;  // global_queue::batch::capacity (private)

// Pops everything with pops of at most `max`; the ids in order.
std::vector<std::size_t> drain(global_queue& q, const fiber_pool& fs, std::size_t max,
                               std::string& err) {
  std::vector<std::size_t> got;
  std::vector<fiber*> out(max + 1, nullptr);
  for (;;) {
    const std::size_t before = q.size();
    const std::size_t k = q.pop(out.data(), max);
    if (k > max) err = "pop returned more than max";
    if (k != std::min(before, max)) err = "pop returned fewer than it could";
    if (q.size() != before - k) err = "size() not reduced by what pop returned";
    for (std::size_t i = 0; i < k; ++i) got.push_back(fs.id(out[i]));
    if (k == 0 || !err.empty()) break;
  }
  if (!q.empty()) err = "not empty after draining";
  return got;
}
}  // namespace

TEST_CASE("structures: global_queue single pushes pop in FIFO order", "[structures]") {
  fiber_pool fs(8);
  global_queue q;
  fiber* out[8] = {};
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.pop(out, 8) == 0);
  CHECK(out[0] == nullptr);
  for (std::size_t i = 0; i < 5; ++i) q.push(fs[i]);
  CHECK_FALSE(q.empty());
  CHECK(q.size() == 5);
  CHECK(q.pop(out, 0) == 0);  // max 0 takes nothing
  CHECK(q.size() == 5);
  REQUIRE(q.pop(out, 2) == 2);
  CHECK(out[0] == fs[0]);
  CHECK(out[1] == fs[1]);
  q.push(fs[5]);
  REQUIRE(q.pop(out, 8) == 4);
  CHECK(out[0] == fs[2]);
  CHECK(out[1] == fs[3]);
  CHECK(out[2] == fs[4]);
  CHECK(out[3] == fs[5]);
  CHECK(q.empty());
  CHECK(q.pop(out, 8) == 0);
  // Usable again once empty.
  q.push(fs[7]);
  REQUIRE(q.pop(out, 1) == 1);
  CHECK(out[0] == fs[7]);
  CHECK(q.empty());
}

TEST_CASE("structures: global_queue batch boundary pushes and pops", "[structures]") {
  const std::size_t b = gq_batch;
  const std::size_t big = 3 * b + 5;
  fiber_pool fs(big);
  global_queue q;  // one queue throughout: later rounds reuse its spare batches
  for (std::size_t count : {std::size_t{1}, b - 1, b, b + 1, 2 * b - 1, 2 * b, 2 * b + 1, big}) {
    // 0: one push per fiber; 1: one array push; 2: array pushes of 7 (straddling batches)
    for (int mode = 0; mode < 3; ++mode) {
      for (std::size_t max : {std::size_t{1}, b - 1, b, b + 1, big}) {
        CAPTURE(count, mode, max);
        std::vector<fiber*> in(count);
        for (std::size_t i = 0; i < count; ++i) in[i] = fs[i];
        if (mode == 0)
          for (fiber* f : in) q.push(f);
        else if (mode == 1) q.push(in.data(), count);
        else
          for (std::size_t i = 0; i < count; i += 7)
            q.push(in.data() + i, std::min<std::size_t>(7, count - i));
        CHECK(q.size() == count);
        std::string err;
        std::vector<std::size_t> got = drain(q, fs, max, err);
        CHECK(err == "");
        std::vector<std::size_t> want(count);
        std::iota(want.begin(), want.end(), std::size_t{0});
        CHECK(got == want);
      }
    }
  }

  SECTION("a full tail batch takes the next push into a new batch") {
    std::vector<fiber*> in(b + 2);
    for (std::size_t i = 0; i < b + 2; ++i) in[i] = fs[i];
    q.push(in.data(), b);  // exactly one full batch
    fiber* out[gq_batch + 2];
    REQUIRE(q.pop(out, b - 1) == b - 1);  // one left in it
    q.push(in.data() + b, 2);             // into a fresh batch
    CHECK(q.size() == 3);
    REQUIRE(q.pop(out, 3) == 3);
    CHECK(out[0] == fs[b - 1]);
    CHECK(out[1] == fs[b]);
    CHECK(out[2] == fs[b + 1]);
    CHECK(q.empty());
  }

  SECTION("more batches than the spare list keeps") {
    // 257 full batches and one more: retiring them fills the spare list (256) and frees the rest.
    const std::size_t n = 257 * b + 1;
    fiber_pool many(n);
    std::vector<fiber*> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = many[i];
    for (int round = 0; round < 2; ++round) {
      q.push(in.data(), n);
      CHECK(q.size() == n);
      std::string err;
      std::vector<std::size_t> got = drain(q, many, 1000, err);
      CHECK(err == "");
      CHECK(exactly_once(got, n) == "");
      CHECK(strictly_increasing(got));
    }
  }
}

TEST_CASE("structures: global_queue random batches match a FIFO model", "[structures]") {
  constexpr std::size_t pool = 8192;  // in flight: at most 3000 + 600
  fiber_pool fs(pool);
  global_queue q;
  std::deque<std::size_t> model;
  std::mt19937 rng(99);
  std::size_t next = 0;
  std::string err;
  std::vector<fiber*> buf(700);
  const std::size_t rounds = scaled(20000, 2000);
  for (std::size_t r = 0; r < rounds && err.empty(); ++r) {
    const std::size_t k = rng() % 600;
    if (rng() % 2 == 0 && model.size() < 3000) {
      for (std::size_t i = 0; i < k; ++i) {
        buf[i] = fs[(next + i) % pool];
        model.push_back((next + i) % pool);
      }
      next += k;
      if (k == 1) q.push(buf[0]);
      else q.push(buf.data(), k);
    } else {
      const std::size_t n = q.pop(buf.data(), k);
      if (n != std::min(k, model.size())) err = "pop returned " + std::to_string(n);
      for (std::size_t i = 0; i < n && err.empty(); ++i) {
        if (fs.id(buf[i]) != model.front()) err = "pop out of FIFO order";
        model.pop_front();
      }
    }
    if (err.empty() && q.size() != model.size()) err = "size() differs from the model";
    if (err.empty() && q.empty() != model.empty()) err = "empty() differs from the model";
    if (!err.empty()) err += " (round " + std::to_string(r) + ")";
  }
  CHECK(err == "");
  CHECK(next > 100 * gq_batch);
}

TEST_CASE("structures: global_queue concurrent producers and consumers take each fiber once",
          "[structures]") {
  constexpr std::size_t producers = 2, consumers = 2;
  const std::size_t per = scaled(100000, 2000);
  const std::size_t total = producers * per;
  fiber_pool fs(total);  // producer p pushes ids p*per .. p*per+per-1 in order
  global_queue q;
  std::atomic<std::size_t> taken{0};
  std::vector<std::vector<std::size_t>> got(consumers);
  std::vector<std::thread> ts;
  for (std::size_t p = 0; p < producers; ++p)
    ts.emplace_back([&, p] {
      std::mt19937 rng(static_cast<unsigned>(p + 1));
      std::vector<fiber*> buf(600);
      for (std::size_t i = 0; i < per;) {
        const std::size_t k = std::min<std::size_t>(1 + rng() % 300, per - i);
        for (std::size_t j = 0; j < k; ++j) buf[j] = fs[p * per + i + j];
        if (k == 1) q.push(buf[0]);
        else q.push(buf.data(), k);
        i += k;
      }
    });
  for (std::size_t c = 0; c < consumers; ++c)
    ts.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(100 + c));
      std::vector<fiber*> buf(600);
      while (taken.load(std::memory_order_relaxed) < total) {
        const std::size_t k = q.pop(buf.data(), 1 + rng() % 300);
        for (std::size_t j = 0; j < k; ++j) got[c].push_back(fs.id(buf[j]));
        taken.fetch_add(k, std::memory_order_relaxed);
      }
    });
  for (auto& t : ts) t.join();
  CHECK(taken.load() == total);
  CHECK(q.empty());
  std::vector<std::size_t> all;
  for (std::size_t c = 0; c < consumers; ++c) {
    // Per consumer, each producer's fibers arrive in the order it pushed them.
    for (std::size_t p = 0; p < producers; ++p) {
      std::vector<std::size_t> mine;
      for (std::size_t id : got[c])
        if (id / per == p) mine.push_back(id);
      CHECK(strictly_increasing(mine));
    }
    all.insert(all.end(), got[c].begin(), got[c].end());
  }
  CHECK(exactly_once(all, total) == "");
}

// ---------------------------------------------------------------------------------------------
// chan_ring (include/goro/detail/chan_ring.hpp, runtime/chan_ring.cpp): the buffered channel's
// lock-free ring

namespace {

using status = chan_ring::status;

// An element that owns heap memory (ASan/LSan see a leaked or doubly destroyed one) and counts
// live instances.
struct counted {
  static inline std::atomic<long> live{0};
  explicit counted(std::uint64_t v) : p(std::make_unique<std::uint64_t>(v)) { ++live; }
  counted(counted&& o) noexcept : p(std::move(o.p)) { ++live; }
  counted& operator=(counted&&) = delete;
  ~counted() { --live; }
  std::uint64_t value() const noexcept { return p ? *p : ~std::uint64_t{0}; }
  std::unique_ptr<std::uint64_t> p;
};

// A ring with its slots laid out as chan_make (runtime/channel.cpp) lays them out: per slot an
// 8-byte stamp, then the element at its alignment.
template <class T>
class ring_box {
 public:
  explicit ring_box(std::size_t cap) {
    const std::size_t elem_align = alignof(T);
    slot_align_ = elem_align > 8 ? elem_align : 8;
    const std::size_t elem_offset = (8 + elem_align - 1) / elem_align * elem_align;
    const std::size_t stride =
        (elem_offset + sizeof(T) + slot_align_ - 1) / slot_align_ * slot_align_;
    mem_ = static_cast<char*>(::operator new (cap* stride, std::align_val_t{slot_align_}));
    ring.init(cap, mem_, stride, elem_offset);
  }
  ring_box(const ring_box&) = delete;
  ring_box& operator=(const ring_box&) = delete;
  ~ring_box() {
    ring.destroy_all(ops());
    ::operator delete (mem_, std::align_val_t{slot_align_});
  }
  static const goro::detail::elem_ops* ops() noexcept { return &goro::detail::elem_ops_for<T>; }
  status push(T& v) noexcept { return ring.push(ops(), &v); }
  status pop(std::optional<T>& out) noexcept {
    out.reset();
    return ring.pop(ops(), &out);
  }

  chan_ring ring;

 private:
  char* mem_ = nullptr;
  std::size_t slot_align_ = 8;
};

std::string to_string(status s) {
  switch (s) {
    case status::ok:
      return "ok";
    case status::blocked:
      return "blocked";
    case status::closed:
      return "closed";
  }
  return "?";
}

}  // namespace

TEST_CASE("structures: chan_ring full and empty at capacities 1 2 3", "[structures]") {
  const long live0 = counted::live.load();
  for (std::size_t cap = 1; cap <= 3; ++cap) {
    CAPTURE(cap);
    {
      auto b = std::make_unique<ring_box<counted>>(cap);
      std::optional<counted> out;
      CHECK(b->ring.len() == 0);
      CHECK_FALSE(b->ring.looks_nonempty());
      CHECK(b->ring.looks_nonfull());
      CHECK(b->pop(out) == status::blocked);
      CHECK_FALSE(out);
      for (std::size_t i = 0; i < cap; ++i) {
        counted v(i);
        CHECK(b->push(v) == status::ok);
        CHECK_FALSE(v.p);  // moved into the ring
        CHECK(b->ring.len() == i + 1);
        CHECK(b->ring.looks_nonempty());
      }
      CHECK_FALSE(b->ring.looks_nonfull());
      counted extra(100);
      CHECK(b->push(extra) == status::blocked);
      REQUIRE(extra.p);  // a blocked push moves nothing
      CHECK(extra.value() == 100);
      CHECK(b->ring.len() == cap);
      // One pop makes room for exactly one push.
      REQUIRE(b->pop(out) == status::ok);
      CHECK(out->value() == 0);
      CHECK(b->ring.len() == cap - 1);
      CHECK(b->ring.looks_nonfull());
      CHECK(b->push(extra) == status::ok);
      counted extra2(101);
      CHECK(b->push(extra2) == status::blocked);
      CHECK(b->ring.len() == cap);
      std::vector<std::uint64_t> got, want;
      for (std::size_t i = 1; i < cap; ++i) want.push_back(i);
      want.push_back(100);
      while (b->pop(out) == status::ok) got.push_back(out->value());
      CHECK(got == want);
      CHECK(b->pop(out) == status::blocked);
      CHECK(b->ring.len() == 0);
      CHECK_FALSE(b->ring.closed());
    }
    CHECK(counted::live.load() == live0);
  }
}

TEST_CASE("structures: chan_ring close then drain then closed", "[structures]") {
  const long live0 = counted::live.load();
  for (std::size_t cap = 1; cap <= 3; ++cap) {
    for (std::size_t fill = 0; fill <= cap; ++fill) {
      for (std::size_t shift = 0; shift <= cap; ++shift) {  // head position before filling
        CAPTURE(cap, fill, shift);
        {
          auto b = std::make_unique<ring_box<counted>>(cap);
          std::optional<counted> out;
          for (std::size_t i = 0; i < shift; ++i) {
            counted v(1000 + i);
            REQUIRE(b->push(v) == status::ok);
            REQUIRE(b->pop(out) == status::ok);
          }
          for (std::size_t i = 0; i < fill; ++i) {
            counted v(i);
            REQUIRE(b->push(v) == status::ok);
          }
          CHECK_FALSE(b->ring.closed());
          CHECK(b->ring.close());
          CHECK(b->ring.closed());
          CHECK_FALSE(b->ring.close());  // already closed
          CHECK(b->ring.len() == fill);
          counted late(7);
          CHECK(b->push(late) == status::closed);
          CHECK(late.p);  // nothing moved
          CHECK(b->ring.len() == fill);
          std::vector<std::uint64_t> got, want(fill);
          std::iota(want.begin(), want.end(), std::uint64_t{0});
          status s;
          while ((s = b->pop(out)) == status::ok) got.push_back(out->value());
          CHECK(to_string(s) == "closed");
          CHECK(got == want);
          CHECK_FALSE(out);
          CHECK(b->pop(out) == status::closed);  // stays closed
          CHECK(b->push(late) == status::closed);
          CHECK(b->ring.len() == 0);
          CHECK_FALSE(b->ring.looks_nonempty());
        }
        CHECK(counted::live.load() == live0);
      }
    }
  }
}

TEST_CASE("structures: chan_ring wraps over many operations against a model", "[structures]") {
  const long live0 = counted::live.load();
  for (std::size_t cap = 1; cap <= 3; ++cap) {
    CAPTURE(cap);
    {
      auto b = std::make_unique<ring_box<counted>>(cap);
      std::deque<std::uint64_t> model;
      std::mt19937 rng(static_cast<unsigned>(cap * 31));
      std::uint64_t next = 0;
      std::size_t fulls = 0, empties = 0;
      std::string err;
      const std::size_t ops = scaled(30000, 3000);
      for (std::size_t r = 0; r < ops && err.empty(); ++r) {
        std::optional<counted> out;
        if (rng() % 2 == 0) {
          counted v(next);
          const status want = model.size() < cap ? status::ok : status::blocked;
          const status s = b->push(v);
          if (s != want) err = "push: " + to_string(s) + ", want " + to_string(want);
          if (s == status::ok) {
            model.push_back(next++);
            if (v.p) err = "push ok but the value was not moved";
          } else {
            ++fulls;
            if (!v.p) err = "blocked push moved the value";
          }
        } else {
          const status want = model.empty() ? status::blocked : status::ok;
          const status s = b->pop(out);
          if (s != want) err = "pop: " + to_string(s) + ", want " + to_string(want);
          if (s == status::ok) {
            if (!out || model.empty() || out->value() != model.front())
              err = "pop out of FIFO order";
            else model.pop_front();
          } else {
            ++empties;
            if (out) err = "blocked pop produced a value";
          }
        }
        if (err.empty() && b->ring.len() != model.size()) err = "len() differs from the model";
        if (err.empty() && b->ring.looks_nonempty() != !model.empty())
          err = "looks_nonempty() differs from the model";
        if (err.empty() && b->ring.looks_nonfull() != (model.size() < cap))
          err = "looks_nonfull() differs from the model";
        if (!err.empty()) err += " (op " + std::to_string(r) + ")";
      }
      CHECK(err == "");
      CHECK(next > 100 * cap);  // many laps
      CHECK(fulls > ops / 100);
      CHECK(empties > ops / 100);
      // Then close: the rest drains in order.
      CHECK(b->ring.close());
      std::optional<counted> out;
      std::vector<std::uint64_t> got;
      while (b->pop(out) == status::ok) got.push_back(out->value());
      CHECK(got == std::vector<std::uint64_t>(model.begin(), model.end()));
      CHECK(b->pop(out) == status::closed);
    }
    CHECK(counted::live.load() == live0);
  }
}

TEST_CASE("structures: chan_ring destroy_all destroys the remaining elements", "[structures]") {
  const long live0 = counted::live.load();
  for (std::size_t cap = 1; cap <= 3; ++cap) {
    for (std::size_t shift = 0; shift <= 2 * cap + 1; ++shift) {
      for (std::size_t fill = 0; fill <= cap; ++fill) {
        for (bool close : {false, true}) {
          CAPTURE(cap, shift, fill, close);
          {
            auto b = std::make_unique<ring_box<counted>>(cap);
            std::optional<counted> out;
            for (std::size_t i = 0; i < shift; ++i) {
              counted v(i);
              REQUIRE(b->push(v) == status::ok);
              REQUIRE(b->pop(out) == status::ok);
            }
            out.reset();
            for (std::size_t i = 0; i < fill; ++i) {
              counted v(i);
              REQUIRE(b->push(v) == status::ok);
            }
            if (close) b->ring.close();
            CHECK(counted::live.load() == live0 + static_cast<long>(fill));
          }  // ~ring_box calls destroy_all
          CHECK(counted::live.load() == live0);
        }
      }
    }
  }
}

TEST_CASE("structures: chan_ring two producers two consumers exactly once in per-producer order",
          "[structures]") {
  const std::uint64_t per = scaled(60000, 1000);
  for (std::size_t cap = 1; cap <= 3; ++cap) {
    CAPTURE(cap);
    auto b = std::make_unique<ring_box<std::uint64_t>>(cap);
    std::vector<std::vector<std::uint64_t>> got(2);
    std::vector<std::thread> producers, consumers;
    std::atomic<unsigned> odd{0};
    for (std::uint64_t p = 0; p < 2; ++p)
      producers.emplace_back([&, p] {
        for (std::uint64_t i = 0; i < per; ++i) {
          std::uint64_t v = p << 32 | i;
          status s;
          while ((s = b->push(v)) == status::blocked) std::this_thread::yield();
          if (s != status::ok) odd.fetch_add(1);
        }
      });
    for (std::size_t c = 0; c < 2; ++c)
      consumers.emplace_back([&, c] {
        std::optional<std::uint64_t> out;
        for (;;) {
          const status s = b->pop(out);
          if (s == status::closed) return;
          if (s == status::blocked) {
            std::this_thread::yield();
            continue;
          }
          if (!out) odd.fetch_add(1);
          else got[c].push_back(*out);
        }
      });
    for (auto& t : producers) t.join();
    b->ring.close();  // the consumers drain what is left, then see closed
    for (auto& t : consumers) t.join();
    CHECK(odd.load() == 0);
    CHECK(b->ring.len() == 0);
    std::vector<std::size_t> all;
    for (std::size_t c = 0; c < 2; ++c) {
      for (std::uint64_t p = 0; p < 2; ++p) {
        std::vector<std::size_t> mine;
        for (std::uint64_t v : got[c])
          if (v >> 32 == p) mine.push_back(static_cast<std::size_t>(v & 0xffffffffu));
        CHECK(strictly_increasing(mine));
      }
      for (std::uint64_t v : got[c])
        all.push_back(static_cast<std::size_t>((v >> 32) * per + (v & 0xffffffffu)));
    }
    CHECK(exactly_once(all, 2 * per) == "");
  }
}

TEST_CASE("structures: chan_ring close races producers and every accepted element is received",
          "[structures]") {
  const std::uint64_t per = scaled(20000, 500);
  const int rounds = static_cast<int>(scaled(60, 6));
  std::string err;
  for (int round = 0; round < rounds && err.empty(); ++round) {
    const std::size_t cap = 1 + round % 3;
    auto b = std::make_unique<ring_box<std::uint64_t>>(cap);
    std::vector<std::uint64_t> accepted[2];
    std::vector<std::uint64_t> got[2];
    std::atomic<int> started{0};
    std::thread producers[2], consumers[2];
    for (std::uint64_t p = 0; p < 2; ++p)
      producers[p] = std::thread([&, p] {
        started.fetch_add(1);
        for (std::uint64_t i = 0; i < per; ++i) {
          std::uint64_t v = p << 32 | i;
          status s;
          while ((s = b->push(v)) == status::blocked) std::this_thread::yield();
          if (s == status::closed) return;  // and every later push is refused too
          accepted[p].push_back(v);
        }
      });
    for (int c = 0; c < 2; ++c)
      consumers[c] = std::thread([&, c] {
        std::optional<std::uint64_t> out;
        for (;;) {
          const status s = b->pop(out);
          if (s == status::closed) return;
          if (s == status::ok) got[c].push_back(*out);
          else std::this_thread::yield();
        }
      });
    // Close once both producers run and some elements went through (or they finished).
    while (started.load() < 2) std::this_thread::yield();
    for (int i = 0; i < (round % 10) * 20; ++i) std::this_thread::yield();
    const bool first = b->ring.close();
    for (auto& t : producers) t.join();
    for (auto& t : consumers) t.join();
    std::uint64_t v = 1;
    if (!first) err = "close() returned false";
    else if (b->push(v) != status::closed) err = "push after close was not refused";
    std::vector<std::uint64_t> a, g;
    for (int k = 0; k < 2; ++k) {
      a.insert(a.end(), accepted[k].begin(), accepted[k].end());
      g.insert(g.end(), got[k].begin(), got[k].end());
    }
    std::sort(a.begin(), a.end());
    std::sort(g.begin(), g.end());
    if (err.empty() && a != g)
      err = "accepted " + std::to_string(a.size()) + " but received " + std::to_string(g.size());
    if (!err.empty()) err += " (round " + std::to_string(round) + ")";
  }
  CHECK(err == "");
}

// ---------------------------------------------------------------------------------------------
// timer_heap (runtime/timer_heap.hpp/.cpp): a 4-ary min-heap of intrusive nodes

namespace {

constexpr std::int64_t none = timer_heap::none;

struct test_timer : timer_node {
  int id = 0;
  std::vector<int>* log = nullptr;  // fire order
  std::int64_t period = 0;          // > 0: fire re-arms at when_ns + period ...
  int rearms = -1;                  // ... this many more times (-1: forever)
  int fires = 0;
  bool bad = false;  // a callback saw the node still queued or not marked firing
  std::atomic<bool> armed{false};
};

std::int64_t record_fire(timer_node* n) {
  auto* t = static_cast<test_timer*>(n);
  if (t->index != timer_node::not_queued || !t->firing.load(std::memory_order_relaxed))
    t->bad = true;
  ++t->fires;
  if (t->log) t->log->push_back(t->id);
  if (t->period > 0 && t->rearms != 0) {
    if (t->rearms > 0) --t->rearms;
    return t->when_ns + t->period;
  }
  return none;
}

// Compares the heap with a model: pending[i] says whether nodes[i] should be queued.
std::string heap_mismatch(const timer_heap& h, const test_timer* nodes,
                          const std::vector<bool>& pending) {
  std::int64_t min = none;
  std::size_t count = 0;
  std::vector<bool> used(pending.size(), false);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const bool queued = nodes[i].index != timer_node::not_queued;
    if (queued != pending[i])
      return "node " + std::to_string(i) + (pending[i] ? " not queued" : " still queued");
    if (!pending[i]) continue;
    ++count;
    min = std::min(min, nodes[i].when_ns);
    if (nodes[i].index >= pending.size() || used[nodes[i].index])
      return "node " + std::to_string(i) + " has a bad index " + std::to_string(nodes[i].index);
    used[nodes[i].index] = true;
  }
  if (h.size() != count)
    return "size() " + std::to_string(h.size()) + ", want " + std::to_string(count);
  if (h.next_deadline() != min)
    return "next_deadline() " + std::to_string(h.next_deadline()) + ", want " + std::to_string(min);
  return "";
}

// Adds timers with deadlines `whens` in this order, then fires them deadline by deadline.
std::string add_then_fire(const std::vector<std::int64_t>& whens) {
  const std::size_t n = whens.size();
  std::vector<int> log;
  std::unique_ptr<test_timer[]> nodes(new test_timer[n]);
  timer_heap h;  // after the nodes: destroyed first
  std::vector<bool> pending(n, false);
  std::int64_t min = none;
  for (std::size_t i = 0; i < n; ++i) {
    test_timer& t = nodes[i];
    t.id = static_cast<int>(i);
    t.when_ns = whens[i];
    t.fire = record_fire;
    t.log = &log;
    const bool earliest = h.add(&t);
    // Strictly earlier: it is the new earliest; later: it is not (a tie may go either way).
    if ((whens[i] < min && !earliest) || (whens[i] > min && earliest))
      return "add " + std::to_string(i) + ": wrong earliest";
    min = std::min(min, whens[i]);
    pending[i] = true;
    if (auto e = heap_mismatch(h, nodes.get(), pending); !e.empty()) return "after add: " + e;
  }
  if (n > 0 && h.run_expired(min - 1) != 0) return "fired before the earliest deadline";
  std::vector<std::int64_t> ds(whens);
  std::sort(ds.begin(), ds.end());
  ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
  for (std::int64_t d : ds) {
    const std::size_t due = static_cast<std::size_t>(std::count(whens.begin(), whens.end(), d));
    const std::size_t before = log.size();
    const std::size_t fired = h.run_expired(d);
    if (fired != due || log.size() != before + due)
      return "run_expired(" + std::to_string(d) + ") fired " + std::to_string(fired) + ", want " +
             std::to_string(due);
    for (std::size_t k = before; k < log.size(); ++k) {
      if (whens[log[k]] != d) return "fired out of deadline order";
      pending[log[k]] = false;
    }
    if (auto e = heap_mismatch(h, nodes.get(), pending); !e.empty()) return "after fire: " + e;
  }
  if (h.run_expired(std::numeric_limits<std::int64_t>::max() - 1) != 0) return "fired again";
  for (std::size_t i = 0; i < n; ++i)
    if (nodes[i].fires != 1 || nodes[i].bad) return "node " + std::to_string(i) + " misfired";
  return "";
}

}  // namespace

TEST_CASE("structures: timer_heap fires every insertion order in deadline order", "[structures]") {
  std::mt19937 rng(4242);
  std::size_t cases = 0;
  std::string err;
  const std::vector<std::int64_t> dups = {10, 10, 20, 20, 20, 30, 40, 40, 50};
  for (std::size_t n = 0; n <= 9 && err.empty(); ++n) {
    CAPTURE(n);
    std::vector<std::int64_t> distinct(n), dup(dups.begin(), dups.begin() + n);
    for (std::size_t i = 0; i < n; ++i) distinct[i] = 10 * static_cast<std::int64_t>(i + 1);
    for (auto* base : {&distinct, &dup}) {
      std::vector<std::int64_t> whens = *base;  // sorted
      if (n <= 7) {                             // every order (for dup: every distinct arrangement)
        do {
          err = add_then_fire(whens);
          ++cases;
        } while (err.empty() && std::next_permutation(whens.begin(), whens.end()));
      } else {
        for (int k = 0; k < 3000 && err.empty(); ++k) {
          std::shuffle(whens.begin(), whens.end(), rng);
          err = add_then_fire(whens);
          ++cases;
        }
      }
      if (!err.empty()) {
        std::string order;
        for (auto w : whens) order += std::to_string(w) + " ";
        FAIL_CHECK(err << " with deadlines added in the order " << order);
        break;
      }
    }
  }
  CHECK(err == "");
  CHECK(cases > 10000);
}

TEST_CASE("structures: timer_heap remove at every heap position", "[structures]") {
  std::mt19937 rng(77);
  std::string err;
  // Up to 21 nodes: with 10 or more, the last node and a removed one can sit under different
  // parents, so the node moved into the hole may have to sift up instead of down.
  for (std::size_t n = 1; n <= 21 && err.empty(); ++n) {
    for (std::size_t pos = 0; pos < n && err.empty(); ++pos) {
      for (int trial = 0; trial < 60 && err.empty(); ++trial) {
        std::vector<int> log;
        std::unique_ptr<test_timer[]> nodes(new test_timer[n]);
        timer_heap h;
        std::vector<bool> pending(n, true);
        for (std::size_t i = 0; i < n; ++i) {
          nodes[i].id = static_cast<int>(i);
          // Half the trials with spread-out deadlines, half with many equal ones.
          nodes[i].when_ns = trial % 2 ? static_cast<std::int64_t>(rng() % 1000)
                                       : static_cast<std::int64_t>(rng() % 3);
          nodes[i].fire = record_fire;
          nodes[i].log = &log;
          h.add(&nodes[i]);
        }
        const std::string where = " (n " + std::to_string(n) + " pos " + std::to_string(pos) +
                                  " trial " + std::to_string(trial) + ")";
        if (auto e = heap_mismatch(h, nodes.get(), pending); !e.empty()) {
          err = e + where;
          break;
        }
        // The node at heap position pos: the root, one in the middle, or the last.
        std::size_t victim = npos;
        for (std::size_t i = 0; i < n; ++i)
          if (nodes[i].index == pos) victim = i;
        if (victim == npos) {
          err = "no node at position" + where;
          break;
        }
        if (!h.remove(&nodes[victim])) err = "remove of a pending node returned false";
        else if (nodes[victim].index != timer_node::not_queued) err = "removed node still indexed";
        else if (h.remove(&nodes[victim])) err = "second remove returned true";
        pending[victim] = false;
        if (err.empty()) err = heap_mismatch(h, nodes.get(), pending);
        // And a second removal, of a random pending node, on the re-sifted heap.
        if (err.empty() && n > 1) {
          std::size_t other = rng() % n;
          if (other == victim) other = (other + 1) % n;
          if (!h.remove(&nodes[other])) err = "remove of a pending node returned false";
          pending[other] = false;
          if (err.empty()) err = heap_mismatch(h, nodes.get(), pending);
        }
        // The rest still fire, in deadline order, and the removed ones never do.
        if (err.empty()) {
          const std::size_t left =
              static_cast<std::size_t>(std::count(pending.begin(), pending.end(), true));
          if (h.run_expired(1000) != left || log.size() != left) err = "wrong fire count";
          for (std::size_t k = 0; k < log.size() && err.empty(); ++k) {
            if (!pending[log[k]]) err = "a removed timer fired";
            if (k > 0 && nodes[log[k]].when_ns < nodes[log[k - 1]].when_ns)
              err = "fired out of deadline order";
          }
          pending.assign(n, false);
          if (err.empty()) err = heap_mismatch(h, nodes.get(), pending);
        }
        if (!err.empty()) err += where;
      }
    }
  }
  CHECK(err == "");
}

TEST_CASE("structures: timer_heap random operations match a model", "[structures]") {
  constexpr std::size_t n = 9;
  std::unique_ptr<test_timer[]> nodes(new test_timer[n]);
  timer_heap h;
  std::vector<bool> pending(n, false);
  std::vector<int> fires(n, 0);
  std::vector<int> log;
  for (std::size_t i = 0; i < n; ++i) {
    nodes[i].id = static_cast<int>(i);
    nodes[i].fire = record_fire;
    nodes[i].log = &log;
    nodes[i].period = i < 3 ? static_cast<std::int64_t>(i + 1) * 5 : 0;  // three periodic
  }
  std::mt19937 rng(31337);
  std::string err;
  std::size_t adds = 0, removes = 0, fired_total = 0;
  const std::size_t ops = scaled(40000, 4000);
  for (std::size_t r = 0; r < ops && err.empty(); ++r) {
    const unsigned kind = rng() % 3;
    const std::size_t i = rng() % n;
    if (kind == 0) {
      if (!pending[i]) {
        std::int64_t min = none;
        for (std::size_t j = 0; j < n; ++j)
          if (pending[j]) min = std::min(min, nodes[j].when_ns);
        nodes[i].when_ns = static_cast<std::int64_t>(rng() % 40);
        const bool earliest = h.add(&nodes[i]);
        if ((nodes[i].when_ns < min && !earliest) || (nodes[i].when_ns > min && earliest))
          err = "add: wrong earliest";
        pending[i] = true;
        ++adds;
      }
    } else if (kind == 1) {
      if (h.remove(&nodes[i]) != pending[i]) err = "remove returned the wrong value";
      removes += pending[i] ? 1 : 0;
      pending[i] = false;
    } else {
      const std::int64_t now = static_cast<std::int64_t>(rng() % 45);
      std::vector<bool> due(n, false);
      std::size_t want = 0;
      std::vector<std::int64_t> old_when(n);
      for (std::size_t j = 0; j < n; ++j) {
        old_when[j] = nodes[j].when_ns;
        due[j] = pending[j] && nodes[j].when_ns <= now;
        want += due[j] ? 1 : 0;
      }
      log.clear();
      const std::size_t got = h.run_expired(now);
      if (got != want || log.size() != want) err = "run_expired fired the wrong number";
      for (std::size_t k = 0; k < log.size() && err.empty(); ++k) {
        if (!due[log[k]]) err = "a timer not due fired";
        if (k > 0 && old_when[log[k]] < old_when[log[k - 1]]) err = "fired out of deadline order";
      }
      for (std::size_t j = 0; j < n && err.empty(); ++j) {
        if (!due[j]) continue;
        ++fires[j];
        ++fired_total;
        if (nodes[j].period > 0) {  // re-armed after its period, or just after now if past
          const std::int64_t again = old_when[j] + nodes[j].period;
          const std::int64_t want_when = again > now ? again : now + 1;
          if (nodes[j].when_ns != want_when) err = "periodic timer re-armed at the wrong time";
        } else {
          pending[j] = false;
        }
      }
    }
    if (err.empty()) err = heap_mismatch(h, nodes.get(), pending);
    for (std::size_t j = 0; j < n && err.empty(); ++j)
      if (nodes[j].fires != fires[j] || nodes[j].bad)
        err = "node " + std::to_string(j) + " misfired";
    if (!err.empty()) err += " (op " + std::to_string(r) + ")";
  }
  CHECK(err == "");
  CHECK(adds > 100);
  CHECK(removes > 100);
  CHECK(fired_total > 100);
}

TEST_CASE("structures: timer_heap periodic timers re-arm from the callback", "[structures]") {
  test_timer t, u;
  timer_heap h;
  t.when_ns = 10;
  t.period = 10;
  t.fire = record_fire;
  CHECK(h.add(&t));
  CHECK(h.next_deadline() == 10);
  CHECK(h.run_expired(9) == 0);
  CHECK(t.fires == 0);
  CHECK(h.run_expired(10) == 1);
  CHECK(t.fires == 1);
  CHECK(t.index != timer_node::not_queued);
  CHECK(t.when_ns == 20);
  CHECK(h.next_deadline() == 20);
  CHECK(h.size() == 1);
  // Fired late: the next deadline (30) has passed too, so it is re-armed just after now, once.
  CHECK(h.run_expired(35) == 1);
  CHECK(t.fires == 2);
  CHECK(t.when_ns == 36);
  CHECK(h.next_deadline() == 36);
  // A periodic timer that re-arms earlier than another becomes the earliest again.
  u.when_ns = 40;
  u.fire = record_fire;
  CHECK_FALSE(h.add(&u));
  CHECK(h.next_deadline() == 36);
  CHECK(h.run_expired(36) == 1);
  CHECK(h.next_deadline() == 40);  // t now at 46
  CHECK(t.when_ns == 46);
  CHECK(h.run_expired(40) == 1);  // u, one-shot
  CHECK(u.fires == 1);
  CHECK(u.index == timer_node::not_queued);
  CHECK(h.next_deadline() == 46);
  // The callback's last firing returns none: off the heap for good.
  t.rearms = 0;
  CHECK(h.run_expired(46) == 1);
  CHECK(t.fires == 4);
  CHECK(t.index == timer_node::not_queued);
  CHECK_FALSE(t.firing.load());
  CHECK(h.size() == 0);
  CHECK(h.next_deadline() == none);
  CHECK_FALSE(h.remove(&t));
  // A re-armed periodic timer is pending: remove takes it off and it fires no more.
  t.when_ns = 100;
  t.rearms = -1;
  CHECK(h.add(&t));
  CHECK(h.run_expired(100) == 1);
  CHECK(h.remove(&t));
  CHECK(t.index == timer_node::not_queued);
  CHECK(h.next_deadline() == none);
  CHECK(h.run_expired(1000) == 0);
  CHECK(t.fires == 5);
  CHECK_FALSE(t.bad);
  CHECK_FALSE(u.bad);
}

namespace {
struct owning_timer : timer_node {  // freed by its own callback, or by the heap's discard
  static inline int deleted = 0;
  ~owning_timer() { ++deleted; }
};
struct chain_timer : timer_node {  // adds or removes another timer from its callback
  timer_heap* heap = nullptr;
  timer_node* other = nullptr;
  bool add_other = true;
  bool removed = false;
};
std::int64_t chain_fire(timer_node* n) {
  auto* c = static_cast<chain_timer*>(n);
  if (c->add_other) c->heap->add(c->other);
  else c->removed = c->heap->remove(c->other);
  return none;
}
}  // namespace

TEST_CASE("structures: timer_heap callbacks may free their node or add and remove others",
          "[structures]") {
  SECTION("a callback that frees its node") {
    owning_timer::deleted = 0;
    timer_heap h;
    auto* o = new owning_timer;
    o->when_ns = 5;
    o->fire = [](timer_node* n) -> std::int64_t {
      delete static_cast<owning_timer*>(n);
      return timer_heap::freed;
    };
    CHECK(h.add(o));
    CHECK(h.run_expired(5) == 1);
    CHECK(owning_timer::deleted == 1);
    CHECK(h.size() == 0);
    CHECK(h.next_deadline() == none);
  }
  SECTION("pending heap-owned nodes are discarded with the heap") {
    owning_timer::deleted = 0;
    {
      timer_heap h;
      for (int i = 0; i < 3; ++i) {
        auto* o = new owning_timer;
        o->when_ns = 100 + i;
        o->fire = [](timer_node*) -> std::int64_t { return none; };
        o->discard = [](timer_node* n) { delete static_cast<owning_timer*>(n); };
        h.add(o);
      }
      CHECK(owning_timer::deleted == 0);
    }
    CHECK(owning_timer::deleted == 3);
  }
  SECTION("a callback that adds an already due timer") {
    test_timer b;
    chain_timer a;
    timer_heap h;
    b.when_ns = 3;
    b.fire = record_fire;
    a.when_ns = 10;
    a.fire = chain_fire;
    a.heap = &h;
    a.other = &b;
    CHECK(h.add(&a));
    const std::size_t first = h.run_expired(10);
    CHECK(a.index == timer_node::not_queued);
    // b either fired in the same pass or is pending as the earliest deadline.
    if (b.fires == 0) {
      CHECK(first == 1);
      CHECK(h.next_deadline() == 3);
      CHECK(h.run_expired(10) == 1);
    }
    CHECK(b.fires == 1);
    CHECK(h.next_deadline() == none);
    CHECK(h.size() == 0);
  }
  SECTION("a callback that removes a pending timer") {
    test_timer b;
    chain_timer a;
    timer_heap h;
    b.when_ns = 100;
    b.fire = record_fire;
    a.when_ns = 10;
    a.fire = chain_fire;
    a.heap = &h;
    a.other = &b;
    a.add_other = false;
    h.add(&b);
    CHECK(h.add(&a));
    CHECK(h.run_expired(10) == 1);
    CHECK(a.removed);
    CHECK(b.index == timer_node::not_queued);
    CHECK(h.next_deadline() == none);
    CHECK(h.run_expired(1000) == 0);
    CHECK(b.fires == 0);
  }
  SECTION("a callback that removes a timer due in the same pass") {
    // Regression: run_expired popped every due timer before firing any, so a callback that
    // removed another due one waited for that one's callback, on its own thread, forever. Run
    // on a watchdog thread: a hang fails the test (the thread and heap are then leaked).
    struct pair_state {
      chain_timer a, b;
      timer_heap h;
      std::size_t fired = 0;
    };
    auto* st = new pair_state;
    for (chain_timer* t : {&st->a, &st->b}) {
      t->when_ns = 10;
      t->fire = chain_fire;
      t->heap = &st->h;
      t->add_other = false;
    }
    st->a.other = &st->b;
    st->b.other = &st->a;
    st->h.add(&st->a);
    st->h.add(&st->b);
    std::atomic<bool> done{false};
    std::thread t([st, &done] {
      st->fired = st->h.run_expired(10);
      done.store(true, std::memory_order_release);
    });
    for (int i = 0; i < 10000 && !done.load(std::memory_order_acquire); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a watchdog, not a sync
    if (!done.load(std::memory_order_acquire)) {
      t.detach();
      FAIL("run_expired did not return: a callback removing a due timer deadlocked");
    }
    t.join();
    CHECK(st->fired == 1);  // the first to fire removed the other, which then never fires
    CHECK(st->a.removed != st->b.removed);
    CHECK(st->h.size() == 0);
    delete st;
  }
}

TEST_CASE("structures: timer_heap remove races run_expired and each timer ends once",
          "[structures]") {
  // One thread fires timers as a clock advances; this one adds a timer and removes it again.
  // remove() true: its callback never ran; false: it ran exactly once, and has returned.
  constexpr std::size_t pool = 8;
  std::unique_ptr<test_timer[]> nodes(new test_timer[pool]);
  timer_heap h;
  std::atomic<std::int64_t> clock{0};
  std::atomic<bool> stop{false};
  std::atomic<int> fired_unarmed{0};
  for (std::size_t i = 0; i < pool; ++i) {
    nodes[i].period = i % 2 ? 1 : 0;  // half of them periodic: pending until removed
    nodes[i].fire = [](timer_node* n) -> std::int64_t {
      auto* t = static_cast<test_timer*>(n);
      if (!t->armed.load(std::memory_order_relaxed)) t->bad = true;
      return record_fire(n);
    };
  }
  std::thread runner([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      h.run_expired(clock.fetch_add(1, std::memory_order_relaxed) + 1);
      std::this_thread::yield();
    }
  });
  std::mt19937 rng(5);
  const std::size_t iters = scaled(100000, 2000);
  std::size_t removed_pending = 0, fired_once = 0, bad = 0;
  std::size_t still_firing = 0;  // remove() returned while run_expired() still held the node
  for (std::size_t k = 0; k < iters; ++k) {
    test_timer& t = nodes[k % pool];
    const int before = t.fires;
    t.when_ns = clock.load(std::memory_order_relaxed) + static_cast<std::int64_t>(rng() % 3);
    t.armed.store(true, std::memory_order_relaxed);
    h.add(&t);
    for (unsigned spin = rng() % 64; spin > 0; --spin) goro::detail::cpu_relax();
    const bool pending = h.remove(&t);
    t.armed.store(false, std::memory_order_relaxed);
    // remove() has returned: no callback of t runs now or later, and the firing thread is done
    // with t (its owner may free it), so t is ours to read.
    if (t.index != timer_node::not_queued) ++bad;
    if (t.firing.load()) ++still_firing;
    if (t.period == 0) {
      if (pending && t.fires == before) ++removed_pending;
      else if (!pending && t.fires == before + 1) ++fired_once;
      else ++bad;
    } else {
      if (!pending) ++bad;  // a periodic timer is always pending (again) until removed
    }
  }
  stop.store(true);
  runner.join();
  for (std::size_t i = 0; i < pool; ++i) fired_unarmed += nodes[i].bad ? 1 : 0;
  CHECK(bad == 0);
  CHECK(still_firing == 0);
  CHECK(fired_unarmed.load() == 0);
  CHECK(h.size() == 0);
  CHECK(h.next_deadline() == none);
  CHECK(removed_pending + fired_once > 0);
}

TEST_CASE("structures: timer_heap run_expired fires more than one batch", "[structures]") {
  // run_expired takes due timers off the heap 64 at a time: counts around that boundary, half of
  // them periodic (re-armed past now, so each fires once per call).
  for (std::size_t n :
       {std::size_t{63}, std::size_t{64}, std::size_t{65}, std::size_t{128}, std::size_t{129}}) {
    CAPTURE(n);
    std::vector<int> log;
    std::unique_ptr<test_timer[]> nodes(new test_timer[n]);
    timer_heap h;
    for (std::size_t i = 0; i < n; ++i) {
      nodes[i].id = static_cast<int>(i);
      nodes[i].when_ns = static_cast<std::int64_t>((i * 7) % 10);  // 0..9, many ties
      nodes[i].period = i % 2 ? 100 : 0;
      nodes[i].fire = record_fire;
      nodes[i].log = &log;
      h.add(&nodes[i]);
    }
    CHECK(h.run_expired(9) == n);
    CHECK(log.size() == n);
    // In deadline order across the batches (a periodic node's when_ns is now its old one + 100).
    bool ordered = true;
    std::int64_t min_rearmed = none;
    for (std::size_t k = 1; k < log.size(); ++k)
      if (nodes[log[k]].when_ns % 100 < nodes[log[k - 1]].when_ns % 100) ordered = false;
    for (std::size_t i = 1; i < n; i += 2) min_rearmed = std::min(min_rearmed, nodes[i].when_ns);
    CHECK(ordered);
    CHECK(h.size() == n / 2);  // the periodic ones, re-armed
    CHECK(min_rearmed >= 100);
    CHECK(h.next_deadline() == min_rearmed);
    CHECK(h.run_expired(99) == 0);
    CHECK(h.run_expired(109) == n / 2);
    std::size_t once = 0;
    for (std::size_t i = 0; i < n; ++i) once += nodes[i].fires == (i % 2 ? 2 : 1) ? 1 : 0;
    CHECK(once == n);
  }
}
