#include "stack_overflow.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "worker.hpp"

namespace goro::detail {
namespace {

struct sigaction g_old_segv, g_old_bus;
std::mutex g_install_mu;

void write_str(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_num(std::uint64_t v) noexcept {
  char buf[24];
  int i = 23;
  buf[i] = 0;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && i > 0);
  write_str(buf + i);
}

[[noreturn]] void die() noexcept {
  signal(SIGABRT, SIG_DFL);
  abort();
}

void chain(int sig, siginfo_t* info, void* uctx, const struct sigaction& old) noexcept {
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) old.sa_sigaction(sig, info, uctx);
    return;
  }
  if (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) {
    signal(sig, SIG_DFL);  // returning re-executes the fault with the default action
    return;
  }
  old.sa_handler(sig);
}

// A fault is a stack overflow when it hits the guard region of the fiber running on this thread
// (TLS is fine in the handler: no switch can happen here). Only the running fiber can grow its
// stack into its guard; a fault in another fiber's guard is a wild access and is chained.
void on_fault(int sig, siginfo_t* info, void* uctx) {
  const char* addr = static_cast<const char*>(info->si_addr);
  worker* w = current_worker();
  const fiber* f = w ? w->current : nullptr;
  if (f && f != &w->sched_ctx && f->guard_lo && addr >= f->guard_lo && addr < f->stack_lo) {
    write_str("goro: fatal error: stack overflow in fiber ");
    write_num(f->id);
    write_str(" (stack of ");
    write_num(static_cast<std::uint64_t>(f->stack_hi - f->stack_lo));
    write_str(
        " bytes): guard region hit. Give it a larger stack: goro::options::stack_size or "
        "goro::spawn_options{.stack_size = ...}\n");
    die();
  }
  chain(sig, info, uctx, sig == SIGSEGV ? g_old_segv : g_old_bus);
}

constexpr std::size_t altstack_size = 64 * 1024;

}  // namespace

void install_overflow_handler() noexcept {
  std::lock_guard lk(g_install_mu);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (auto [sig, old] : {std::pair{SIGSEGV, &g_old_segv}, std::pair{SIGBUS, &g_old_bus}}) {
    struct sigaction cur;
    if (sigaction(sig, nullptr, &cur) != 0) continue;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault) continue;  // ours already
    *old = cur;  // someone (a test framework, a sanitizer) installed theirs since: chain to it
    sigaction(sig, &sa, nullptr);
  }
}

void* prepare_signal_stack() noexcept {
  stack_t cur;
  if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return nullptr;  // has one
  void* mem = std::malloc(altstack_size);
  if (!mem) return nullptr;
  stack_t ss;
  ss.ss_sp = mem;
  ss.ss_size = altstack_size;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, nullptr) != 0) {
    std::free(mem);
    return nullptr;
  }
  return mem;
}

void release_signal_stack(void* token) noexcept {
  if (!token) return;
  stack_t ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  std::free(token);
}

void report_stack_overflow(const fiber* f, const char* how) noexcept {
  write_str("goro: fatal error: stack overflow in fiber ");
  write_num(f->id);
  write_str(" (stack of ");
  write_num(static_cast<std::uint64_t>(f->stack_hi - f->stack_lo));
  write_str(" bytes): ");
  write_str(how);
  write_str(
      ". Give it a larger stack: goro::options::stack_size or "
      "goro::spawn_options{.stack_size = ...}\n");
  die();
}

}  // namespace goro::detail
