// Bounded parallelism with errgroup's set_limit (golang.org/x/sync/errgroup's SetLimit): digest
// 48 "files" with at most 4 digests running at once. g.go() blocks while 4 tasks are running, so
// the producer is throttled too and never has more than 4 tasks in flight. The results land in a
// vector indexed by item, so no lock is needed; the first error (none here) would cancel ctx.
//
// The Go shape:
//
//   g, ctx := errgroup.WithContext(context.Background())
//   g.SetLimit(4)
//   for i := range items {
//       g.Go(func() error {
//           if err := ctx.Err(); err != nil { return err }
//           digests[i] = digest(items[i])
//           return nil
//       })
//   }
//   if err := g.Wait(); err != nil { ... }
#include <goro/goro.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// FNV-1a, 64 bit: stands in for md5.Sum in the Go blog's bounded-parallelism example.
static std::uint64_t digest(const std::string& data) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : data) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// The content of "file" i: a few KiB of deterministic bytes.
static std::string make_item(int i) {
  std::string s;
  for (int k = 0; k < 4096; ++k) s.push_back(static_cast<char>('a' + (i * 31 + k * 7) % 26));
  return s;
}

int main() {
  return goro::run([] {
    constexpr int num_items = 48;
    constexpr int limit = 4;
    std::vector<std::string> items;
    items.reserve(num_items);
    for (int i = 0; i < num_items; ++i) items.push_back(make_item(i));

    std::vector<std::uint64_t> digests(num_items);
    std::atomic<int> running{0}, max_running{0};

    auto [g, ctx] = goro::errgroup::with_context(goro::background());
    g.set_limit(limit);
    goro::context c = ctx;  // a copy the lambdas can capture (clang < 16: no capture of bindings)
    for (int i = 0; i < num_items; ++i) {
      // Blocks here while `limit` tasks are running.
      g.go([&, c, i]() -> goro::error {
        if (goro::error err = c.err()) return err;  // another task failed: skip the work
        int now = running.fetch_add(1) + 1;
        int seen = max_running.load();
        while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
        }
        digests[i] = digest(items[i]);
        goro::sleep_for(2ms);  // e.g. waiting for the disk: lets the other tasks overlap
        running.fetch_sub(1);
        return {};
      });
    }
    if (goro::error err = g.wait()) {
      std::printf("FAIL: %s\n", err.message().c_str());
      return 1;
    }

    // Check against a sequential run.
    bool same = true;
    for (int i = 0; i < num_items; ++i) same = same && digests[i] == digest(items[i]);
    std::uint64_t combined = 0;
    for (std::uint64_t d : digests) combined = combined * 31 + d;
    const int max_seen = max_running.load();
    std::printf("max tasks running at once: %d\n", max_seen);  // 4 in practice; not guaranteed
    std::printf("digested %d items with limit %d: %s; digests %s the sequential ones\n", num_items,
                limit, max_seen <= limit ? "never exceeded" : "FAIL: exceeded",
                same ? "match" : "FAIL: differ from");
    std::printf("combined digest %016llx\n", static_cast<unsigned long long>(combined));
    return same && max_seen <= limit ? 0 : 1;
  });
}
