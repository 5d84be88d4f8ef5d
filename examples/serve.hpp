// What the network example servers share: a TCP server with one fiber per connection and a
// graceful shutdown.
//
// Shutdown: SIGINT or SIGTERM arrives on a channel (goro::signal_notify); a fiber waiting on it
// closes the listener, so accept() returns err_closed and the accept loop ends; then the open
// connections are closed (their fibers' blocked reads and writes return err_closed), their
// fibers are awaited, and serve() returns 0 for main to return.
#pragma once

#include <goro/goro.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <span>
#include <unordered_set>

namespace example {

// The open connections, so that shutdown can close them. A connection's fiber removes it before
// destroying it, under the lock close_all() holds while closing: close_all() never touches a
// destroyed connection.
class conn_registry {
 public:
  // False once shutdown has begun: the caller drops the connection.
  bool add(goro::net::conn* c) {
    std::lock_guard lk(mu_);
    if (closing_) return false;
    open_.insert(c);
    return true;
  }
  void remove(goro::net::conn* c) {
    std::lock_guard lk(mu_);
    open_.erase(c);
  }
  void close_all() {
    std::lock_guard lk(mu_);
    closing_ = true;
    for (goro::net::conn* c : open_) (void)c->close();  // wakes its fiber's read or write
  }

 private:
  goro::mutex mu_;
  std::unordered_set<goro::net::conn*> open_;
  bool closing_ = false;
};

// Closes our side first, then reads (and drops) whatever the client still sends for a moment:
// closing with unread input would send a reset, which can destroy our last answer before the
// client reads it. Go's net/http does the same.
inline void close_gracefully(goro::net::conn& c) {
  using namespace std::chrono_literals;
  (void)c.close_write();
  c.set_read_deadline(std::chrono::steady_clock::now() + 500ms);
  char sink[4096];
  for (std::size_t total = 0; total < 256 * 1024;) {
    auto [n, err] = c.read(std::span<char>(sink));
    if (err) break;
    total += n;
  }
}

// Listens on `addr`, prints "listening on ADDR" (the bound address: port 0 picks one), runs
// `handle(conn&)` in a fiber per connection until SIGINT/SIGTERM, then shuts down as above.
// Call it from the main fiber (goro::run); returns main's exit status. `name` prefixes messages.
template <class Handler>
int serve(const char* name, const char* addr, Handler handle) {
  using namespace std::chrono_literals;
  auto [listener, err] = goro::net::listen("tcp", addr);
  goro::net::listener& ln = listener;  // clang < 16 cannot capture structured bindings
  if (err) {
    std::fprintf(stderr, "%s: %s\n", name, err.message().c_str());
    return 1;
  }
  // Before announcing the address: a client may signal us as soon as it knows we are up.
  auto sigs = goro::make_chan<int>(1);
  goro::signal_notify(sigs, {SIGINT, SIGTERM});
  std::printf("listening on %s\n", ln.addr().c_str());
  std::fflush(stdout);

  goro::wait_group fibers;  // the shutdown fiber and every connection's fiber
  auto [stop_ctx, stop] = goro::with_cancel(goro::background());
  goro::context stopped = stop_ctx;  // copied: clang < 16 cannot capture bindings
  fibers.go([&, sigs] {
    goro::select(goro::case_recv(sigs), goro::case_recv(stopped.done()));
    goro::signal_stop(sigs);  // a second Ctrl-C kills us the default way
    (void)ln.close();         // accept() returns err_closed
  });

  conn_registry conns;
  auto backoff = 0ms;
  for (;;) {
    auto [c, aerr] = ln.accept();
    if (aerr) {
      if (goro::is(aerr, goro::net::err_closed)) break;  // shutdown
      // Out of descriptors or the like: wait and retry, like Go's http.Server.
      backoff = std::clamp(backoff * 2, std::chrono::milliseconds(5), 1000ms);
      std::fprintf(stderr, "%s: %s; retrying in %lld ms\n", name, aerr.message().c_str(),
                   static_cast<long long>(backoff.count()));
      goro::sleep_for(backoff);
      continue;
    }
    backoff = 0ms;
    fibers.go([&conns, &handle, c = std::move(c)]() mutable {
      if (!conns.add(&c)) return;
      handle(c);
      conns.remove(&c);
    });  // the connection closes when the fiber ends and destroys its lambda
  }
  stop();  // ends the shutdown fiber if no signal did
  conns.close_all();
  fibers.wait();
  std::printf("%s: shut down\n", name);
  return 0;
}

}  // namespace example
