// echo_load: the load generator for TCP echo servers (bench/net/run drives goro's and Go's
// echo_server with it, the same binary and the same arguments for both).
//
//   echo_load [-t THREADS] [-w WARMUP_S] ADDR CONNS SIZE SECONDS [DEPTH]
//
// Opens CONNS connections to ADDR (host:port, [v6]:port), TCP_NODELAY, and runs a closed loop on
// each: send a SIZE-byte message, wait until its whole echo is back, check every byte, record the
// round-trip time, send the next. With DEPTH > 1 (pipelining) each connection keeps DEPTH
// messages in flight, each timed from its own send to the end of its own echo. Every message has
// different content (a 256-periodic pattern at a per-message offset), so a lost, duplicated,
// reordered or corrupted byte is a mismatch.
//
// Plain C++20 and Linux: THREADS threads (default 1; at most CONNS), each owning every
// THREADS-th connection and one level-triggered epoll instance; a readable connection is read
// once, a message is written at once and EPOLLOUT is armed only when a write would block, so a
// round trip costs the generator about one epoll_wait (shared by all ready connections), one read
// and one write. After WARMUP_S seconds (default 0.5) it counts for SECONDS seconds; then it
// stops issuing messages, waits (at most 2 s) for the ones in flight and closes the connections.
//
// The generator runs on the same machine as the server and competes with it for the CPUs: the
// numbers are those of the pair. `load_cpu` in the result is the CPU the generator itself used
// during the measured interval, in cores (getrusage), to show how much of the machine it took.
//
// Prints one line,
//   RESULT conns=C size=S depth=D threads=T seconds=X requests=N rps=R mean_us=.. p50_us=..
//          p99_us=.. p999_us=.. max_us=.. load_cpu=.. errors=E
// (latencies from a log-linear histogram, within 1.6 %), the first errors on stderr, and exits
// 1 if there was any error (connect, reset, early end of stream, mismatch, drain timeout), 2 on
// bad arguments.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Log-linear histogram of nanoseconds: exact below 128, then 64 buckets per power of two.
class histogram {
 public:
  static constexpr int sub_bits = 6;
  static constexpr int buckets = 64 * 64;

  void add(std::uint64_t v) {
    ++counts_[index(v)];
    ++n_;
    sum_ += v;
    max_ = std::max(max_, v);
  }
  void merge(const histogram& o) {
    for (int i = 0; i < buckets; ++i) counts_[i] += o.counts_[i];
    n_ += o.n_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }
  std::uint64_t count() const { return n_; }
  double mean() const { return n_ ? double(sum_) / double(n_) : 0; }
  std::uint64_t max() const { return max_; }
  // The value below which a fraction q of the samples lie (the middle of its bucket).
  double quantile(double q) const {
    if (n_ == 0) return 0;
    auto rank = std::uint64_t(std::ceil(q * double(n_)));
    rank = std::clamp<std::uint64_t>(rank, 1, n_);
    std::uint64_t seen = 0;
    for (int i = 0; i < buckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(double(lower(i)) + double(width(i) - 1) / 2, double(max_));
    }
    return double(max_);
  }

 private:
  static int index(std::uint64_t v) {
    if (v < 128) return int(v);
    int shift = std::bit_width(v) - 1 - sub_bits;  // >= 1
    int i = (shift + 1) * 64 + int(v >> shift) - 64;
    return std::min(i, buckets - 1);
  }
  static std::uint64_t lower(int i) {
    if (i < 128) return std::uint64_t(i);
    int shift = i / 64 - 1;
    return std::uint64_t(i % 64 + 64) << shift;
  }
  static std::uint64_t width(int i) { return i < 128 ? 1 : std::uint64_t(1) << (i / 64 - 1); }

  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(buckets);
  std::uint64_t n_ = 0, sum_ = 0, max_ = 0;
};

enum phase : int { warmup, measure, drain, stop };
std::atomic<int> g_phase{warmup};
std::atomic<int> g_error_lines{0};

void report_error(const char* fmt, auto... args) {
  if (g_error_lines.fetch_add(1) < 10) {
    std::fprintf(stderr, "echo_load: ");
    std::fprintf(stderr, fmt, args...);
    std::fputc('\n', stderr);
  }
}

struct config {
  std::string addr;
  int conns = 0;
  std::size_t size = 0;
  double seconds = 0;
  int depth = 1;
  int threads = 1;
  double warmup_s = 0.5;
};

// The message stream of one connection: message k is `size` bytes of `pattern` from offset
// shift(k), so consecutive messages differ.
struct stream {
  std::vector<unsigned char> pattern;  // 256 + size bytes, period 256
  std::size_t size;

  explicit stream(std::size_t sz) : pattern(256 + sz), size(sz) {
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = (unsigned char)(i * 167 + 13);
  }
  const unsigned char* message(std::uint64_t k, std::uint32_t conn) const {
    return pattern.data() + ((k * 97 + conn * 31) & 255);
  }
};

struct connection {
  int fd = -1;
  std::uint32_t id = 0;
  std::uint64_t sent = 0;              // bytes written
  std::uint64_t recvd = 0;             // bytes echoed and checked
  std::uint64_t issued = 0;            // messages issued (to be written: bytes up to issued * size)
  std::vector<std::uint64_t> started;  // send time of message k at [k % depth]
  bool armed_out = false;
};

struct worker_result {
  histogram hist;
  std::uint64_t errors = 0;
};

class worker {
 public:
  worker(const config& c, const stream& s, std::vector<connection> conns)
      : cfg_(c), st_(s), conns_(std::move(conns)), rbuf_(64 * 1024) {}

  worker_result run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      report_error("epoll_create1: %s", std::strerror(errno));
      res_.errors += conns_.size();
      return std::move(res_);
    }
    open_ = 0;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) {
        fail(conns_[i], "epoll_ctl: %s", std::strerror(errno));
        continue;
      }
      ++open_;
    }
    std::uint64_t t = now_ns();
    for (auto& c : conns_) {
      if (c.fd < 0) continue;
      c.started.assign(std::size_t(cfg_.depth), 0);
      while (c.issued < std::uint64_t(cfg_.depth)) c.started[c.issued++ % cfg_.depth] = t;
      flush(c);
    }
    std::vector<epoll_event> evs(256);
    std::uint64_t drain_deadline = 0;
    while (open_ > 0) {
      int ph = g_phase.load(std::memory_order_relaxed);
      if (ph >= drain) {
        if (drain_deadline == 0) {
          drain_deadline = now_ns() + 2'000'000'000u;
          for (auto& c : conns_)
            if (c.fd >= 0 && c.recvd == c.issued * st_.size) close_conn(c);
          if (open_ == 0) break;
        }
        if (now_ns() > drain_deadline || ph == stop) break;
      }
      int n = epoll_wait(ep_, evs.data(), int(evs.size()), 20);
      if (n < 0) {
        if (errno == EINTR) continue;
        report_error("epoll_wait: %s", std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        connection& c = conns_[evs[i].data.u64];
        if (c.fd < 0) continue;
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
        if (c.fd >= 0 && (evs[i].events & EPOLLOUT)) flush(c);
      }
    }
    for (auto& c : conns_) {
      if (c.fd >= 0) {
        fail(c, "connection %u: %" PRIu64 " bytes still in flight after the 2 s drain", c.id,
             c.issued * st_.size - c.recvd);
      }
    }
    close(ep_);
    return std::move(res_);
  }

 private:
  template <class... A>
  void fail(connection& c, const char* fmt, A... args) {
    report_error(fmt, args...);
    ++res_.errors;
    close_conn(c);
  }

  void close_conn(connection& c) {
    if (c.fd < 0) return;
    close(c.fd);  // removes it from the epoll set
    c.fd = -1;
    --open_;
  }

  void on_readable(connection& c) {
    ssize_t n = read(c.fd, rbuf_.data(), rbuf_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      fail(c, "connection %u: read: %s", c.id, std::strerror(errno));
      return;
    }
    if (n == 0) {
      fail(c, "connection %u: end of stream with %" PRIu64 " bytes outstanding", c.id,
           c.sent - c.recvd);
      return;
    }
    if (c.recvd + std::uint64_t(n) > c.sent) {
      fail(c, "connection %u: received %" PRIu64 " bytes more than it sent", c.id,
           c.recvd + std::uint64_t(n) - c.sent);
      return;
    }
    const std::size_t size = st_.size;
    const int ph = g_phase.load(std::memory_order_relaxed);
    std::uint64_t t = 0;
    std::size_t p = 0;
    bool issued_more = false;
    while (p < std::size_t(n)) {
      std::uint64_t k = c.recvd / size;
      std::size_t j = std::size_t(c.recvd % size);
      std::size_t len = std::min(size - j, std::size_t(n) - p);
      if (std::memcmp(rbuf_.data() + p, st_.message(k, c.id) + j, len) != 0) {
        fail(c, "connection %u: message %" PRIu64 " echoed with different bytes", c.id, k);
        return;
      }
      p += len;
      c.recvd += len;
      if (j + len == size) {  // message k complete
        if (t == 0) t = now_ns();
        if (ph == measure) res_.hist.add(t - c.started[k % cfg_.depth]);
        if (ph < drain) {
          c.started[c.issued++ % cfg_.depth] = t;
          issued_more = true;
        }
      }
    }
    if (issued_more) flush(c);
    if (ph >= drain && c.recvd == c.issued * size) close_conn(c);
  }

  // Writes what is issued and not yet written; arms EPOLLOUT if the socket is full.
  void flush(connection& c) {
    const std::size_t size = st_.size;
    while (c.sent < c.issued * size) {
      std::uint64_t k = c.sent / size;
      std::size_t j = std::size_t(c.sent % size);
      ssize_t n = write(c.fd, st_.message(k, c.id) + j, size - j);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        fail(c, "connection %u: write: %s", c.id, std::strerror(errno));
        return;
      }
      c.sent += std::uint64_t(n);
    }
    bool want_out = c.sent < c.issued * size;
    if (want_out != c.armed_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
      ev.data.u64 = std::uint64_t(&c - conns_.data());
      if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        fail(c, "connection %u: epoll_ctl: %s", c.id, std::strerror(errno));
        return;
      }
      c.armed_out = want_out;
    }
  }

  const config& cfg_;
  const stream& st_;
  std::vector<connection> conns_;
  std::vector<unsigned char> rbuf_;
  worker_result res_;
  int ep_ = -1;
  std::size_t open_ = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "echo_load: %s\nusage: echo_load [-t THREADS] [-w WARMUP_S] ADDR CONNS SIZE "
               "SECONDS [DEPTH]\n",
               why);
  std::exit(2);
}

bool parse_num(const char* s, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s, &end);
  return errno == 0 && end != s && *end == '\0' && std::isfinite(out);
}

config parse(int argc, char** argv) {
  config c;
  std::vector<const char*> pos;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    double v;
    if (a == "-t" || a == "-w") {
      if (i + 1 >= argc || !parse_num(argv[i + 1], v)) usage(("bad value for " + a).c_str());
      ++i;
      if (a == "-t") {
        if (v < 1 || v != std::floor(v)) usage("-t wants a positive integer");
        c.threads = int(v);
      } else {
        if (v < 0) usage("-w wants seconds >= 0");
        c.warmup_s = v;
      }
    } else {
      pos.push_back(argv[i]);
    }
  }
  if (pos.size() < 4 || pos.size() > 5) usage("wrong number of arguments");
  c.addr = pos[0];
  double v;
  if (!parse_num(pos[1], v) || v < 1 || v != std::floor(v)) usage("CONNS: a positive integer");
  c.conns = int(v);
  if (!parse_num(pos[2], v) || v < 1 || v != std::floor(v)) usage("SIZE: a positive integer");
  c.size = std::size_t(v);
  if (!parse_num(pos[3], v) || v <= 0) usage("SECONDS: a positive number");
  c.seconds = v;
  if (pos.size() == 5) {
    if (!parse_num(pos[4], v) || v < 1 || v != std::floor(v)) usage("DEPTH: a positive integer");
    c.depth = int(v);
  }
  c.threads = std::min(c.threads, c.conns);
  return c;
}

addrinfo* resolve(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) usage("ADDR: host:port");
  std::string host = addr.substr(0, colon), port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    std::fprintf(stderr, "echo_load: %s: %s\n", addr.c_str(), gai_strerror(rc));
    std::exit(1);
  }
  return res;
}

int dial(const addrinfo* ai) {
  int err = 0;
  for (; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      return fd;
    }
    err = errno;
    close(fd);
  }
  errno = err;
  return -1;
}

void sleep_s(double s) {
  if (s <= 0) return;
  timespec ts{time_t(s), long((s - std::floor(s)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const config cfg = parse(argc, argv);
  rlimit rl;  // room for the connections
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  const stream st(cfg.size);
  addrinfo* ai = resolve(cfg.addr);
  std::vector<std::vector<connection>> groups(std::size_t(cfg.threads));
  std::uint64_t connect_errors = 0;
  for (int i = 0; i < cfg.conns; ++i) {
    connection c;
    c.id = std::uint32_t(i);
    c.fd = dial(ai);
    if (c.fd < 0) {
      report_error("connect to %s: %s", cfg.addr.c_str(), std::strerror(errno));
      ++connect_errors;
      continue;
    }
    groups[std::size_t(i % cfg.threads)].push_back(std::move(c));
  }
  freeaddrinfo(ai);

  std::vector<worker_result> results(groups.size());
  std::vector<std::thread> threads;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    threads.emplace_back([&, g] { results[g] = worker(cfg, st, std::move(groups[g])).run(); });
  }
  sleep_s(cfg.warmup_s);
  double cpu0 = cpu_seconds();
  std::uint64_t t0 = now_ns();
  g_phase.store(measure);
  sleep_s(cfg.seconds);
  g_phase.store(drain);
  std::uint64_t t1 = now_ns();
  double cpu1 = cpu_seconds();
  for (auto& t : threads) t.join();

  histogram all;
  std::uint64_t errors = connect_errors;
  for (auto& r : results) {
    all.merge(r.hist);
    errors += r.errors;
  }
  double secs = double(t1 - t0) / 1e9;
  std::printf(
      "RESULT conns=%d size=%zu depth=%d threads=%d seconds=%.3f requests=%" PRIu64
      " rps=%.1f mean_us=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f load_cpu=%.2f "
      "errors=%" PRIu64 "\n",
      cfg.conns, cfg.size, cfg.depth, cfg.threads, secs, all.count(), double(all.count()) / secs,
      all.mean() / 1e3, all.quantile(0.5) / 1e3, all.quantile(0.99) / 1e3,
      all.quantile(0.999) / 1e3, double(all.max()) / 1e3, (cpu1 - cpu0) / secs, errors);
  std::fflush(stdout);
  return errors == 0 && all.count() > 0 ? 0 : 1;
}
