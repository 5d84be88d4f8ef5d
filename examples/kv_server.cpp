// An in-memory key-value server speaking RESP, the Redis protocol: redis-cli and
// redis-benchmark work against it. One fiber per connection. Commands: PING [msg], SET k v,
// GET k, DEL k [k ...], INCR k, MGET k [k ...], QUIT; CONFIG GET and COMMAND [DOCS] answer an
// empty array (redis-benchmark and redis-cli ask for them). Requests are RESP arrays of bulk
// strings, or inline commands (a plain line such as `PING`, for telnet users).
//
// Pipelining: a connection's fiber executes every complete command already buffered, appends
// the replies to one output buffer, and writes it once no complete command remains. The parser
// is incremental: arguments already parsed are kept across reads, so a long request arriving in
// many pieces is never parsed twice. A malformed request gets `-ERR Protocol error: ...` and the
// connection is closed; declared sizes are checked before anything is allocated for them.
//
// The store is a hash map split into 64 shards by key hash, each under its own goro::mutex:
// the connections' fibers run on several workers, and rarely contend for the same shard.
// The accept loop and the shutdown on SIGINT/SIGTERM are in serve.hpp.
//
//   kv_server [ADDR]    listens on ADDR (default 127.0.0.1:6399); try `redis-cli -p 6399`
#include <goro/goro.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serve.hpp"

using namespace std::chrono_literals;

// ---- The store ----

class store {
 public:
  // Appends the RESP reply for GET k: the value, or the null bulk string.
  void get(const std::string& k, std::string& out) {
    shard& s = shard_of(k);
    std::lock_guard lk(s.mu);
    auto it = s.map.find(k);
    if (it == s.map.end()) out += "$-1\r\n";
    else append_bulk(out, it->second);
  }
  void set(std::string k, std::string v) {
    shard& s = shard_of(k);
    std::lock_guard lk(s.mu);
    s.map.insert_or_assign(std::move(k), std::move(v));
  }
  bool del(const std::string& k) {
    shard& s = shard_of(k);
    std::lock_guard lk(s.mu);
    return s.map.erase(k) > 0;
  }
  // INCR: the new value, or nullopt with `err` set when the value is not a 64-bit integer.
  std::optional<long long> incr(const std::string& k, const char*& err) {
    shard& s = shard_of(k);
    std::lock_guard lk(s.mu);
    std::string& v = s.map[k];  // a missing key counts as 0
    long long n = 0;
    if (!v.empty() && !parse_int(v, n)) {
      err = "-ERR value is not an integer or out of range\r\n";
      return std::nullopt;
    }
    if (n == LLONG_MAX) {
      err = "-ERR increment or decrement would overflow\r\n";
      return std::nullopt;
    }
    v = std::to_string(++n);
    return n;
  }

  static void append_bulk(std::string& out, std::string_view v) {
    out += '$';
    out += std::to_string(v.size());
    out += "\r\n";
    out += v;
    out += "\r\n";
  }
  // Redis's strict integer syntax: no sign but '-', no leading zeros, no spaces, fits 64 bits.
  static bool parse_int(std::string_view s, long long& n) {
    if (s.empty() || s.size() > 20) return false;
    const std::string_view digits = s[0] == '-' ? s.substr(1) : s;
    if (digits.empty() || (digits[0] == '0' && s.size() > 1)) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && end == s.data() + s.size();
  }

 private:
  struct alignas(64) shard {  // one cache line each at least: no false sharing of the mutexes
    goro::mutex mu;
    std::unordered_map<std::string, std::string> map;
  };
  shard& shard_of(std::string_view k) {
    return shards_[std::hash<std::string_view>{}(k) % shards_.size()];
  }
  std::array<shard, 64> shards_;
};

// ---- The RESP request parser ----

constexpr long long max_bulk = 512LL * 1024 * 1024;  // Redis's proto-max-bulk-len
constexpr long long max_args = 1024 * 1024;
constexpr std::size_t max_line = 64 * 1024;  // a count line or an inline command

// Parses requests out of a connection's input, one call per request. Arguments parsed from a
// request that is not complete yet stay here across calls (the caller drops the bytes consumed).
class resp_parser {
 public:
  enum class status { need_more, command, error };

  // Parses from buf[pos...], advancing `pos` past what it consumed. On `command`, args() holds
  // the request; on `error`, error() says why (the connection cannot be resynchronized).
  status next(std::string_view buf, std::size_t& pos) {
    if (pending_ == 0) {  // between requests
      args_.clear();
      for (;;) {
        if (pos == buf.size()) return status::need_more;
        if (buf[pos] != '*') {
          const status st = parse_inline(buf, pos);
          if (st == status::command && args_.empty()) continue;  // an empty line
          return st;
        }
        long long count;
        if (step st = parse_count_line(buf, pos, count, "multibulk"); st != step::done)
          return st == step::need_more ? status::need_more : status::error;
        if (count > max_args) return fail("invalid multibulk length");
        if (count > 0) {
          pending_ = count;
          args_.reserve(static_cast<std::size_t>(std::min(count, 16LL)));
          break;
        }
        // "*0" and "*-1": nothing to do, like Redis
      }
    }
    while (pending_ > 0) {
      if (bulk_len_ < 0) {
        if (pos == buf.size()) return status::need_more;
        if (buf[pos] != '$')
          return fail(std::string("expected '$', got '") + printable(buf[pos]) + "'");
        long long len;
        if (step st = parse_count_line(buf, pos, len, "bulk"); st != step::done)
          return st == step::need_more ? status::need_more : status::error;
        if (len < 0 || len > max_bulk) return fail("invalid bulk length");
        bulk_len_ = len;
      }
      const auto len = static_cast<std::size_t>(bulk_len_);
      if (buf.size() - pos < len + 2) return status::need_more;
      if (buf[pos + len] != '\r' || buf[pos + len + 1] != '\n')
        return fail("expected CRLF after a bulk string");
      args_.emplace_back(buf.substr(pos, len));
      pos += len + 2;
      bulk_len_ = -1;
      --pending_;
    }
    return status::command;
  }

  std::vector<std::string>& args() { return args_; }
  const std::string& error() const { return error_; }
  // How many bytes the parser waits for at least: lets the caller read a large value in big
  // pieces.
  std::size_t wanted() const { return bulk_len_ > 0 ? static_cast<std::size_t>(bulk_len_) + 2 : 0; }

 private:
  status fail(const std::string& why) {
    error_ = "Protocol error: " + why;
    return status::error;
  }
  static char printable(char c) { return c >= ' ' && c < 0x7f ? c : '?'; }

  enum class step { done, need_more, error };

  // "*<n>\r\n" or "$<n>\r\n" at buf[pos]: its number.
  step parse_count_line(std::string_view buf, std::size_t& pos, long long& n, const char* what) {
    const std::size_t cr = buf.find('\r', pos);
    if (cr == std::string_view::npos || cr + 1 == buf.size()) {
      if (buf.size() - pos <= max_line) return step::need_more;
      fail(std::string("too big ") + what + " count string");
      return step::error;
    }
    const std::string_view digits = buf.substr(pos + 1, cr - pos - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (buf[cr + 1] != '\n' || digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      fail(std::string("invalid ") + what + " length");
      return step::error;
    }
    pos = cr + 2;
    return step::done;
  }

  // A plain line of words separated by spaces (no quoting, unlike Redis); may be empty.
  status parse_inline(std::string_view buf, std::size_t& pos) {
    const std::size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (buf.size() - pos > max_line) return fail("too big inline request");
      return status::need_more;
    }
    std::string_view line = buf.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (std::size_t i = 0; i < line.size();) {
      if (line[i] == ' ' || line[i] == '\t') {
        ++i;
        continue;
      }
      std::size_t j = line.find_first_of(" \t", i);
      if (j == std::string_view::npos) j = line.size();
      args_.emplace_back(line.substr(i, j - i));
      i = j;
    }
    return status::command;
  }

  std::vector<std::string> args_;
  long long pending_ = 0;    // bulk strings still expected in the current request
  long long bulk_len_ = -1;  // length of the bulk string being read; -1 before its "$<n>" line
  std::string error_;
};

// ---- Commands ----

static bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
         });
}

// A client's string, made safe to put in an error reply (one line, bounded).
static std::string sanitized(std::string_view s) {
  std::string r(s.substr(0, 128));
  for (char& c : r)
    if (c == '\r' || c == '\n') c = ' ';
  return r;
}

static void wrong_arity(std::string& out, std::string_view name) {
  out += "-ERR wrong number of arguments for '";
  out += name;
  out += "' command\r\n";
}

// Executes one command (not QUIT: the connection handles it), appending its reply.
static void execute(store& db, std::vector<std::string>& args, std::string& out) {
  const std::string_view cmd = args[0];
  const std::size_t argc = args.size();
  if (iequals(cmd, "GET")) {
    if (argc != 2) return wrong_arity(out, "get");
    db.get(args[1], out);
  } else if (iequals(cmd, "SET")) {
    if (argc < 3) return wrong_arity(out, "set");
    if (argc > 3) {  // no EX, NX, ... options here
      out += "-ERR syntax error\r\n";
      return;
    }
    db.set(std::move(args[1]), std::move(args[2]));
    out += "+OK\r\n";
  } else if (iequals(cmd, "PING")) {
    if (argc > 2) return wrong_arity(out, "ping");
    if (argc == 1) out += "+PONG\r\n";
    else store::append_bulk(out, args[1]);
  } else if (iequals(cmd, "INCR")) {
    if (argc != 2) return wrong_arity(out, "incr");
    const char* err = nullptr;
    if (auto n = db.incr(args[1], err)) {
      out += ':';
      out += std::to_string(*n);
      out += "\r\n";
    } else {
      out += err;
    }
  } else if (iequals(cmd, "DEL")) {
    if (argc < 2) return wrong_arity(out, "del");
    long long n = 0;
    for (std::size_t i = 1; i < argc; ++i) n += db.del(args[i]);
    out += ':';
    out += std::to_string(n);
    out += "\r\n";
  } else if (iequals(cmd, "MGET")) {  // each key read on its own: not one atomic snapshot
    if (argc < 2) return wrong_arity(out, "mget");
    out += '*';
    out += std::to_string(argc - 1);
    out += "\r\n";
    for (std::size_t i = 1; i < argc; ++i) db.get(args[i], out);
  } else if (iequals(cmd, "CONFIG")) {
    if (argc < 2) return wrong_arity(out, "config");
    if (!iequals(args[1], "GET")) out += "-ERR unknown subcommand '" + sanitized(args[1]) + "'\r\n";
    else if (argc < 3) wrong_arity(out, "config|get");
    else out += "*0\r\n";  // no configuration parameters here
  } else if (iequals(cmd, "COMMAND")) {
    out += "*0\r\n";  // no command table either (redis-cli asks for COMMAND DOCS)
  } else {
    out += "-ERR unknown command '" + sanitized(cmd) + "'\r\n";
  }
}

// ---- Connections ----

constexpr std::size_t flush_at = 64 * 1024;  // write replies early past this size

static void serve(goro::net::conn& c, store& db) {
  resp_parser parser;
  std::string in;   // bytes read; those before `pos` are consumed
  std::string out;  // replies not written yet
  for (;;) {
    std::size_t pos = 0;
    bool close_after = false;
    for (;;) {  // execute every complete request in the buffer
      const auto st = parser.next(in, pos);
      if (st == resp_parser::status::need_more) break;
      if (st == resp_parser::status::error) {
        out += "-ERR " + parser.error() + "\r\n";
        close_after = true;
        break;
      }
      if (iequals(parser.args()[0], "QUIT")) {
        out += "+OK\r\n";
        close_after = true;
        break;
      }
      execute(db, parser.args(), out);
      if (out.size() >= flush_at) {
        if (c.write(out).err) return;
        out.clear();
      }
    }
    if (!out.empty()) {
      if (c.write(out).err) return;  // the client went away
      out.clear();
    }
    if (close_after) return example::close_gracefully(c);
    in.erase(0, pos);  // keep only the incomplete request
    // At least 16 KiB per read; more when a large bulk string is coming (up to 1 MiB a read).
    const std::size_t room =
        std::clamp(parser.wanted() > in.size() ? parser.wanted() - in.size() : 0,
                   std::size_t{16 * 1024}, std::size_t{1024 * 1024});
    const std::size_t have = in.size();
    in.resize(have + room);
    auto [n, err] = c.read(std::span<char>(in.data() + have, room));
    in.resize(have + n);
    if (err) return;  // the end of the stream, a reset, or shutdown
  }
}

int main(int argc, char** argv) {
  const char* addr = argc > 1 ? argv[1] : "127.0.0.1:6399";
  return goro::run([addr] {
    auto db = std::make_unique<store>();  // on the heap: fiber stacks are small
    return example::serve("kv_server", addr, [&db](goro::net::conn& c) { serve(c, *db); });
  });
}
