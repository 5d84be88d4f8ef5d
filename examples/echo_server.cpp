// A TCP echo server: one fiber per connection, each reading into a buffer and writing back what
// it read until the peer closes. While a fiber waits for its socket, its worker runs the others.
// The accept loop and the graceful shutdown on SIGINT/SIGTERM, shared by every server example,
// are in serve.hpp.
//
//   echo_server [ADDR]    listens on ADDR (default 127.0.0.1:7007; port 0 picks a free one)
//   echo_client ADDR      checks it
#include <goro/goro.hpp>

#include <cstddef>
#include <span>
#include <vector>

#include "serve.hpp"

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
  return goro::run([addr] { return example::serve("echo_server", addr, echo); });
}
