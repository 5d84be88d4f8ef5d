// errgroup on Boost.Fiber: n tasks, at most 8 at a time; each task stores i + 1 and returns no
// error. Boost.Fiber has no errgroup: the same construction as Go's x/sync/errgroup — take a
// semaphore token before spawning, a wait group, the first error kept.
// Checksum: the sum of the stored values.
#include <system_error>

#include "boost_rt.hpp"

using namespace bench::bf;

class errgroup {
 public:
  explicit errgroup(std::int64_t limit) : tokens_(limit) {}
  template <class F>
  void go(F f) {
    tokens_.acquire();
    wg_.add(1);
    bench::bf::go([this, f = std::move(f)] {
      if (const std::error_code e = f()) {
        std::lock_guard lock(m_);
        if (!err_) err_ = e;
      }
      tokens_.release();
      wg_.done();
    });
  }
  std::error_code wait() {
    wg_.wait();
    return err_;
  }

 private:
  semaphore tokens_;
  wait_group wg_;
  fibers::mutex m_;
  std::error_code err_;
};

int main(int argc, char** argv) {
  const auto a = bench::parse_args(argc, argv, 1'000'000);
  run(a.workers, [&] {
    bench::note("boost",
                "no errgroup in Boost.Fiber: semaphore (fibers mutex + condition_variable) + wait "
                "group, as in Go's x/sync/errgroup");
    std::vector<std::int64_t> got(a.n);
    bench::stopwatch sw;
    errgroup g(8);
    for (std::int64_t i = 0; i < a.n; ++i)
      g.go([&got, i] {
        got[i] = i + 1;
        return std::error_code();
      });
    const std::error_code err = g.wait();
    const double ms = sw.ms();
    if (err) bench::fail("errgroup: " + err.message());
    std::int64_t sum = 0;
    for (auto v : got) sum += v;
    bench::report("errgroup", "boost", a, sum, ms);
  });
}
