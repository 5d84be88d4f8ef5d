// The concurrent prime sieve from the Go tour / go.dev: a generator fiber sends 2, 3, 4, ... down
// a channel; each prime found adds a filter fiber that drops that prime's multiples, so the
// numbers flow through a daisy chain of filters and whatever comes out of the last one is prime.
//
// Usage: prime_sieve [n]   (print the first n primes; default 100)
//
// The Go original:
//
//   func generate(ch chan<- int) { for i := 2; ; i++ { ch <- i } }
//   func filter(in <-chan int, out chan<- int, prime int) {
//       for { i := <-in; if i%prime != 0 { out <- i } }
//   }
//   func main() {
//       ch := make(chan int)
//       go generate(ch)
//       for i := 0; i < n; i++ {
//           prime := <-ch
//           fmt.Println(prime)
//           ch1 := make(chan int)
//           go filter(ch, ch1, prime)
//           ch = ch1
//       }
//   }
//
// As in Go, main returns while the generator and the filters are still blocked in send or
// receive. goro::run returns too: destroying its runtime unwinds every parked fiber (their
// destructors run) and frees their stacks.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

static void generate(goro::send_chan<int> ch) {
  for (int i = 2;; ++i) ch.send(i);
}

static void filter(goro::recv_chan<int> in, goro::send_chan<int> out, int prime) {
  for (;;) {
    int i = *in.recv();  // nobody closes `in`, so recv() always holds a value
    if (i % prime != 0) out.send(i);
  }
}

// The same primes by trial division, to check the sieve's output.
static std::vector<int> first_primes(int n) {
  std::vector<int> primes;
  for (int c = 2; static_cast<int>(primes.size()) < n; ++c) {
    bool prime = true;
    for (int p : primes) {
      if (p * p > c) break;
      if (c % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes.push_back(c);
  }
  return primes;
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  if (n < 1) {
    std::fprintf(stderr, "usage: prime_sieve [n]\n");
    return 2;
  }
  return goro::run([n] {
    auto ch = goro::make_chan<int>();
    goro::go(generate, ch);
    std::vector<int> primes;
    for (int i = 0; i < n; ++i) {
      int prime = *ch.recv();
      primes.push_back(prime);
      std::printf("%d%c", prime, (i % 10 == 9 || i == n - 1) ? '\n' : ' ');
      auto ch1 = goro::make_chan<int>();
      goro::go(filter, ch, ch1, prime);
      ch = ch1;
    }
    const bool ok = primes == first_primes(n);
    std::printf("prime number %d is %d; %s\n", n, primes.back(),
                ok ? "all match trial division" : "FAIL: trial division disagrees");
    return ok ? 0 : 1;
  });
}
