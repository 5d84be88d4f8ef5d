// Worker pools (Go by Example): three workers drain a channel of ten jobs and send j*2 for each
// job j to a results channel; a wait_group tells when every worker is done, so that the results
// channel can be closed and ranged over.
//
// The Go original, line by line:
//
//   func worker(id int, jobs <-chan int, results chan<- int) {
//       for j := range jobs { ...; results <- j * 2 }
//   }
//   jobs := make(chan int, numJobs); results := make(chan int, numJobs)
//   var wg sync.WaitGroup
//   for w := 1; w <= 3; w++ { wg.Go(func() { worker(w, jobs, results) }) }
//   for j := 1; j <= numJobs; j++ { jobs <- j }
//   close(jobs)
//   go func() { wg.Wait(); close(results) }()
//   for r := range results { sum += r }
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

// recv_chan / send_chan are Go's `<-chan int` and `chan<- int`: a chan<int> converts to either.
static void worker(int id, goro::recv_chan<int> jobs, goro::send_chan<int> results) {
  for (int j : jobs) {  // for j := range jobs: ends when jobs is closed and drained
    std::printf("worker %d started  job %d\n", id, j);
    goro::sleep_for(10ms);  // the "expensive" work: parks this fiber only, not the thread
    std::printf("worker %d finished job %d\n", id, j);
    results.send(j * 2);
  }
}

int main() {
  return goro::run([] {
    constexpr int num_jobs = 10;
    auto jobs = goro::make_chan<int>(num_jobs);  // buffered: sending the jobs never blocks
    auto results = goro::make_chan<int>(num_jobs);

    goro::wait_group wg;
    // Channels are cheap handles, so the lambda captures copies of them by value, as Go's
    // closures do. wg.go() is Go 1.25's WaitGroup.Go: add(1), then done() when the fiber ends.
    for (int w = 1; w <= 3; ++w) wg.go([=] { worker(w, jobs, results); });

    for (int j = 1; j <= num_jobs; ++j) jobs.send(j);
    jobs.close();  // the workers' range loops end once the jobs are drained

    // Close results once every worker has finished, so the range below terminates.
    goro::go([&wg, results] {
      wg.wait();
      results.close();
    });

    int sum = 0;
    for (int r : results) sum += r;
    std::printf("sum of results: %d\n", sum);  // 2 * (1 + ... + 10) = 110
    return sum == 110 ? 0 : 1;
  });
}
