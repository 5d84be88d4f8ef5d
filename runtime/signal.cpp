// goro::signal_notify: the handler writes the signal number to a pipe (async-signal-safe, and
// never blocks: the write end is non-blocking, so a full pipe drops, like a full channel); a
// helper thread reads the pipe and try_sends to every channel registered for that signal, under
// the registry lock, so signal_stop() returning means no further send.
#include "goro/signal.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace goro {
namespace {

struct registry {
  std::mutex mu;
  int rfd = -1, wfd = -1;                       // the pipe; created once with the helper thread
  std::map<int, std::vector<chan<int>>> chans;  // under mu
  std::map<int, struct sigaction> saved;        // dispositions we replaced, under mu
};

// Leaked on purpose: the helper thread and signal handlers may run during static destruction.
registry& reg() {
  static registry* r = new registry;
  return *r;
}

std::atomic<int> handler_wfd{-1};

extern "C" void on_signal(int sig) {
  const int saved = errno;
  const unsigned char b = static_cast<unsigned char>(sig);
  const int fd = handler_wfd.load(std::memory_order_relaxed);
  if (fd >= 0) (void)!::write(fd, &b, 1);
  errno = saved;
}

void deliver_loop(int rfd) {
  unsigned char buf[64];
  for (;;) {
    ssize_t n = ::read(rfd, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    registry& r = reg();
    std::lock_guard lk(r.mu);
    for (ssize_t i = 0; i < n; ++i) {
      auto it = r.chans.find(buf[i]);
      if (it == r.chans.end()) continue;
      for (chan<int>& ch : it->second) {
        try {
          (void)ch.try_send(int{buf[i]});
        } catch (...) {  // a closed channel: the user's mistake, not the other channels'
        }
      }
    }
  }
}

void start(registry& r) {
  if (r.rfd >= 0) return;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "goro::signal_notify: pipe");
  ::fcntl(p[1], F_SETFL, O_NONBLOCK);
  // The helper starts with every signal blocked, so signals go to the other threads: it sits
  // in read(), where TSan (which defers handlers to its intercepted calls) would hold one back.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  try {
    std::thread([rfd = p[0]] { deliver_loop(rfd); }).detach();
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::close(p[0]);
    ::close(p[1]);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  r.rfd = p[0];
  r.wfd = p[1];
  handler_wfd.store(p[1], std::memory_order_relaxed);
}

void check_signal(int sig) {
  if (sig <= 0 || sig >= NSIG || sig > 255)
    throw std::invalid_argument("goro::signal_notify: " + std::to_string(sig) +
                                " is not a signal number");
  if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
      sig == SIGILL)
    throw std::invalid_argument("goro::signal_notify: signal " + std::to_string(sig) +
                                " cannot be caught or is reserved for faults");
}

}  // namespace

void signal_notify(const chan<int>& ch, std::initializer_list<int> sigs) {
  if (!ch) throw std::invalid_argument("goro::signal_notify: nil channel");
  for (int sig : sigs) check_signal(sig);
  registry& r = reg();
  std::lock_guard lk(r.mu);
  start(r);
  for (int sig : sigs) {
    auto& list = r.chans[sig];
    if (std::find(list.begin(), list.end(), ch) == list.end()) list.push_back(ch);
    if (r.saved.count(sig)) continue;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    struct sigaction old {};
    if (::sigaction(sig, &sa, &old) != 0)
      throw std::system_error(errno, std::generic_category(), "goro::signal_notify: sigaction");
    r.saved[sig] = old;
  }
}

void signal_stop(const chan<int>& ch) {
  registry& r = reg();
  std::lock_guard lk(r.mu);
  for (auto it = r.chans.begin(); it != r.chans.end();) {
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), ch), list.end());
    if (!list.empty()) {
      ++it;
      continue;
    }
    if (auto s = r.saved.find(it->first); s != r.saved.end()) {
      ::sigaction(it->first, &s->second, nullptr);
      r.saved.erase(s);
    }
    it = r.chans.erase(it);
  }
}

}  // namespace goro
