// Timeouts (Go by Example), with the times scaled down: a select between a result channel and
// goro::after(d) bounds how long we wait. Call 1 takes 400 ms but we wait only 100 ms; call 2
// takes 50 ms and we would wait up to 500 ms. Then the same with a context deadline, the form to
// use when the timeout must reach further down (every callee can watch ctx.done()).
//
// The Go original:
//
//   c1 := make(chan string, 1)
//   go func() { time.Sleep(2 * time.Second); c1 <- "result 1" }()
//   select {
//   case res := <-c1: fmt.Println(res)
//   case <-time.After(1 * time.Second): fmt.Println("timeout 1")
//   }
//   c2 := make(chan string, 1)
//   go func() { time.Sleep(1 * time.Second); c2 <- "result 2" }()
//   select {
//   case res := <-c2: fmt.Println(res)
//   case <-time.After(3 * time.Second): fmt.Println("timeout 2")
//   }
//
// The result channels are buffered, so a late worker's send does not block: the abandoned call 1
// still finishes and its fiber exits, like in Go.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// Starts a slow call in its own fiber; the result arrives on the returned channel.
static goro::recv_chan<std::string> slow_call(std::chrono::milliseconds takes,
                                              const std::string& result) {
  auto c = goro::make_chan<std::string>(1);
  goro::go([=] {
    goro::sleep_for(takes);
    c.send(result);
  });
  return c;
}

// A case_recv handler gets std::optional<T>: nullopt would mean the channel was closed.
static void print_result(std::optional<std::string> res) {
  if (res) std::printf("%s\n", res->c_str());
}

// Waits for `c` at most `timeout`: prints the result or the timeout.
static void call_with_timeout(const goro::recv_chan<std::string>& c,
                              std::chrono::milliseconds timeout, const char* name) {
  auto print_timeout = [&](auto) { std::printf("timeout %s\n", name); };
  goro::select(goro::case_recv(c, print_result),
               goro::case_recv(goro::after(timeout), print_timeout));
}

int main() {
  return goro::run([] {
    call_with_timeout(slow_call(400ms, "result 1"), 100ms, "1");  // prints "timeout 1"
    call_with_timeout(slow_call(50ms, "result 2"), 500ms, "2");   // prints "result 2"

    // The same with a context: with_timeout cancels ctx after 100 ms, and ctx.err() says why.
    // (ctx is copied out of the structured binding: clang < 16 cannot capture bindings.)
    auto [timeout_ctx, cancel] = goro::with_timeout(goro::background(), 100ms);
    goro::context ctx = timeout_ctx;
    auto print_err = [&](auto) { std::printf("call 3: %s\n", ctx.err().message().c_str()); };
    goro::select(goro::case_recv(slow_call(400ms, "result 3"), print_result),
                 goro::case_recv(ctx.done(), print_err));
    cancel();  // Go: defer cancel(). Releases the context's timer if it has not fired yet

    // Let the abandoned calls and call 2's after() timer finish before main returns. (Returning
    // at once would be fine too: the runtime's teardown unwinds the sleeping fibers.)
    goro::sleep_for(400ms);
    return 0;
  });
}
