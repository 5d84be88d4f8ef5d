// A TCP echo server: one fiber per connection, each reading into a buffer and writing back what
// it read until the peer closes. While a fiber waits for its socket, its worker runs the others.
//
// Graceful shutdown, the pattern of every server example: SIGINT or SIGTERM arrives on a channel
// (goro::signal_notify); a fiber waiting on it closes the listener, so accept() returns
// err_closed and the accept loop ends; main then closes the open connections (their blocked
// reads return err_closed), waits for their fibers, and returns 0.
//
//   echo_server [ADDR]    listens on ADDR (default 127.0.0.1:7007; port 0 picks a free one)
//   echo_client ADDR      checks it
#include <goro/goro.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_set>
#include <vector>

using namespace std::chrono_literals;

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

// Echoes until the end of the stream or an error (a reset peer, or shutdown closing the
// connection): either way the connection is done, and there is nobody to tell.
static void echo(goro::net::conn& c) {
  std::vector<std::byte> buf(16 * 1024);  // on the heap: fiber stacks are small
  for (;;) {
    auto [n, err] = c.read(buf);
    if (n > 0 && c.write(std::span<const std::byte>(buf.data(), n)).err) return;
    if (err) return;
  }
}

int main(int argc, char** argv) {
  const char* addr = argc > 1 ? argv[1] : "127.0.0.1:7007";
  return goro::run([addr] {
    auto [listener, err] = goro::net::listen("tcp", addr);
    goro::net::listener& ln = listener;  // clang < 16 cannot capture structured bindings
    if (err) {
      std::fprintf(stderr, "echo_server: %s\n", err.message().c_str());
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
        std::fprintf(stderr, "echo_server: %s; retrying in %lld ms\n", aerr.message().c_str(),
                     static_cast<long long>(backoff.count()));
        goro::sleep_for(backoff);
        continue;
      }
      backoff = 0ms;
      fibers.go([&conns, c = std::move(c)]() mutable {
        if (!conns.add(&c)) return;
        echo(c);
        conns.remove(&c);
      });  // the connection closes when the fiber ends and destroys its lambda
    }
    stop();  // ends the shutdown fiber if no signal did
    conns.close_all();
    fibers.wait();
    std::printf("echo_server: shut down\n");
    return 0;
  });
}
