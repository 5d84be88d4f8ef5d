// A minimal HTTP/1.1 server with keep-alive, one fiber per connection. Each fiber buffers what
// it reads and answers every complete request in the buffer before reading again, so pipelined
// requests and requests split across reads both work; the answers to one batch go out in a
// single write. `GET /` (and HEAD) answers 200 "hello"; other paths 404; other methods on / 405.
// A malformed request, or a head over 8 KiB, gets 400 and the connection is closed; so does a
// request with a body in Transfer-Encoding (501: not supported here). HTTP/1.0 connections
// close after each answer unless the client asked for keep-alive; `Connection: close` is
// honoured. The accept loop and the shutdown on SIGINT/SIGTERM are in serve.hpp.
//
//   http_hello [ADDR]    listens on ADDR (default 127.0.0.1:8080); try `wrk http://ADDR/`
#include <goro/goro.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "serve.hpp"

using namespace std::chrono_literals;

// ---- Parsing a request head ----

constexpr std::size_t max_head = 8 * 1024;  // request line and headers

struct request {
  std::string_view method, target;                   // into the connection's buffer
  bool http10 = false;                               // HTTP/1.0 (else HTTP/1.1)
  bool conn_close = false, conn_keep_alive = false;  // the Connection header's options
  bool keep_alive = true;                            // decided from both of the above
  bool chunked = false;  // Transfer-Encoding present: a body we cannot frame
  std::uint64_t content_length = 0;
};

enum class parse_status { incomplete, complete, bad };

static bool is_tchar(char c) {  // RFC 9110 token characters
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
static bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}
static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
static bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}
static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next line of `buf` from `pos`, without its CRLF (a bare LF is accepted too, RFC 9112
// 2.2); false if it is not complete yet.
static bool next_line(std::string_view buf, std::size_t& pos, std::string_view& line) {
  const std::size_t nl = buf.find('\n', pos);
  if (nl == std::string_view::npos) return false;
  line = buf.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = nl + 1;
  return true;
}

// "GET /path HTTP/1.1"
static bool parse_request_line(std::string_view line, request& req) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method) || req.target.empty()) return false;
  for (unsigned char c : req.target)
    if (c <= ' ' || c >= 0x7f) return false;  // controls, spaces and non-ASCII bytes
  if (version == "HTTP/1.1") req.http10 = false;
  else if (version == "HTTP/1.0") req.http10 = true;
  else return false;
  return true;
}

// One header line, "Name: value"; false if malformed.
static bool parse_header(std::string_view line, request& req, bool& have_length) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view name = line.substr(0, colon);  // no space allowed before the colon
  const std::string_view value = trim(line.substr(colon + 1));
  if (!is_token(name)) return false;
  for (unsigned char c : value)
    if ((c < ' ' && c != '\t') || c == 0x7f) return false;  // controls; bytes >= 0x80 are fine
  if (iequals(name, "connection")) {
    // A comma-separated list of options: "keep-alive", "close", "Upgrade", ...
    for (std::size_t pos = 0; pos <= value.size();) {
      std::size_t comma = std::min(value.find(',', pos), value.size());
      const std::string_view opt = trim(value.substr(pos, comma - pos));
      if (iequals(opt, "close")) req.conn_close = true;
      else if (iequals(opt, "keep-alive")) req.conn_keep_alive = true;
      pos = comma + 1;
    }
  } else if (iequals(name, "content-length")) {
    if (value.empty() || value.size() > 18) return false;
    std::uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (have_length && n != req.content_length) return false;  // conflicting: smuggling?
    req.content_length = n;
    have_length = true;
  } else if (iequals(name, "transfer-encoding")) {
    req.chunked = true;
  }
  return true;
}

// Parses the request head at the start of `buf`. On `complete`, `used` is its length. A bad
// line is reported as soon as it is complete, without waiting for the rest of the head.
static parse_status parse_head(std::string_view buf, request& req, std::size_t& used) {
  std::size_t pos = 0;
  std::string_view line;
  do {  // empty lines before a request are ignored (RFC 9112 2.2)
    if (!next_line(buf, pos, line)) return parse_status::incomplete;
  } while (line.empty());
  req = request{};
  if (!parse_request_line(line, req)) return parse_status::bad;
  bool have_length = false;
  for (;;) {
    if (!next_line(buf, pos, line)) return parse_status::incomplete;
    if (line.empty()) break;
    // Obsolete line folding (a line starting with a space) is rejected, as RFC 9112 allows.
    if (line[0] == ' ' || line[0] == '\t' || !parse_header(line, req, have_length))
      return parse_status::bad;
  }
  used = pos;
  req.keep_alive = !req.conn_close && (!req.http10 || req.conn_keep_alive);
  return parse_status::complete;
}

// ---- Answering ----

// An answer to `req` (nullptr: to a request we could not parse); HEAD gets no body.
static void append_response(std::string& out, std::string_view status, std::string_view body,
                            const request* req, bool keep_alive, std::string_view extra = {}) {
  out += "HTTP/1.1 ";
  out += status;
  out += "\r\nContent-Type: text/plain\r\nContent-Length: ";
  out += std::to_string(body.size());
  if (!keep_alive) out += "\r\nConnection: close";
  else if (req && req->http10) out += "\r\nConnection: keep-alive";
  out += extra;
  out += "\r\n\r\n";
  if (!req || req->method != "HEAD") out += body;
}

static void answer(const request& req, std::string& out) {
  const std::string_view path = req.target.substr(0, req.target.find('?'));
  if (path != "/") {
    append_response(out, "404 Not Found", "not found\n", &req, req.keep_alive);
  } else if (req.method == "GET" || req.method == "HEAD") {
    append_response(out, "200 OK", "hello", &req, req.keep_alive);
  } else {
    append_response(out, "405 Method Not Allowed", "method not allowed\n", &req, req.keep_alive,
                    "\r\nAllow: GET, HEAD");
  }
}

static void serve(goro::net::conn& c) {
  std::string in;   // bytes read; those before `start` are consumed
  std::string out;  // answers not written yet
  std::size_t start = 0;
  std::uint64_t body_left = 0;  // body bytes of the last request still to skip
  for (;;) {
    bool close_after = false;
    while (!close_after) {  // answer every complete request in the buffer
      const std::size_t skip = static_cast<std::size_t>(
          std::min<std::uint64_t>(body_left, in.size() - start));  // we ignore bodies
      start += skip;
      body_left -= skip;
      if (body_left > 0) break;
      request req;
      std::size_t used = 0;
      const parse_status st = parse_head(std::string_view(in).substr(start), req, used);
      if (st == parse_status::incomplete) {
        if (in.size() - start <= max_head) break;  // read more
        append_response(out, "400 Bad Request", "request head too large\n", nullptr, false);
        close_after = true;
      } else if (st == parse_status::bad || used > max_head) {
        append_response(out, "400 Bad Request", "bad request\n", nullptr, false);
        close_after = true;
      } else if (req.chunked) {
        append_response(out, "501 Not Implemented", "transfer codings not supported\n", &req,
                        false);
        close_after = true;
      } else {
        answer(req, out);
        start += used;
        body_left = req.content_length;
        close_after = !req.keep_alive;
      }
    }
    if (!out.empty()) {
      if (c.write(out).err) return;  // the client went away
      out.clear();
    }
    if (close_after) return example::close_gracefully(c);
    in.erase(0, start);  // keep only the incomplete request
    start = 0;
    const std::size_t have = in.size();
    in.resize(have + 4096);
    auto [n, err] = c.read(std::span<char>(in.data() + have, 4096));
    in.resize(have + n);
    if (err) return;  // the end of the stream, a reset, or shutdown: nobody to answer
  }
}

int main(int argc, char** argv) {
  const char* addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
  return goro::run([addr] { return example::serve("http_hello", addr, serve); });
}
