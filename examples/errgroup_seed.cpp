// errgroup with a context: two tasks run under one group. The first fails after a short while;
// the group's first error cancels the shared context, and the second task, which was waiting for
// a (long) timeout, sees the cancellation and stops early. wait() returns the first error.
//
// The Go original:
//
//   g, ctx := errgroup.WithContext(context.Background())
//   g.Go(func() error {
//       time.Sleep(50 * time.Millisecond)
//       return errors.New("database connection timeout")
//   })
//   g.Go(func() error {
//       select {
//       case <-ctx.Done():
//           fmt.Println("task 2: canceled:", ctx.Err())
//           return ctx.Err()
//       case <-time.After(10 * time.Second):
//           return nil
//       }
//   })
//   if err := g.Wait(); err != nil { fmt.Println("error:", err) }
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

int main() {
  return goro::run([] {
    auto [g, ctx] = goro::errgroup::with_context(goro::background());

    g.go([]() -> goro::error {
      goro::sleep_for(50ms);
      return goro::error("database connection timeout");  // errors.New(...)
    });

    // C++20 lets lambdas capture structured bindings, but clang only since version 16: copy the
    // context handle first (a context is a cheap handle, like Go's interface value).
    goro::context c = ctx;
    g.go([c]() -> goro::error {
      goro::error result;
      goro::select(
          goro::case_recv(c.done(),
                          [&](auto) {  // closed: the group was canceled by the other task
                            std::printf("task 2: saw the cancellation: %s\n",
                                        c.err().message().c_str());
                            result = c.err();
                          }),
          goro::case_recv(goro::after(10s), [](auto) { std::printf("task 2: finished\n"); }));
      return result;
    });

    if (goro::error err = g.wait()) {  // the first error; the second task's is dropped
      std::printf("error: %s\n", err.message().c_str());
      return 0;
    }
    std::printf("FAIL: wait() returned no error\n");
    return 1;
  });
}
