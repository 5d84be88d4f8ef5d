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

// Slabs known to the fault handler. Entries are published with release stores and read by the
// signal handler with acquire loads; a freed entry has base == 0.
struct slab_entry {
  std::atomic<std::uintptr_t> base{0};
  std::atomic<std::size_t> bytes{0}, slot{0}, guard{0};
};
constexpr int registry_size = 8192;
slab_entry g_registry[registry_size];
std::atomic<int> g_registry_high{0};  // entries [0, high) may be in use
std::mutex g_registry_mu;             // serialises registration (not used by the handler)

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

void on_fault(int sig, siginfo_t* info, void* uctx) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  int high = g_registry_high.load(std::memory_order_acquire);
  for (int i = 0; i < high; ++i) {
    std::uintptr_t base = g_registry[i].base.load(std::memory_order_acquire);
    if (base == 0 || addr < base) continue;
    std::size_t bytes = g_registry[i].bytes.load(std::memory_order_relaxed);
    if (addr >= base + bytes) continue;
    std::size_t slot = g_registry[i].slot.load(std::memory_order_relaxed);
    std::size_t off = (addr - base) % slot;
    if (off >= g_registry[i].guard.load(std::memory_order_relaxed)) break;
    // The faulting fiber is the one running on this thread (TLS is fine in the handler: no
    // switch can happen here).
    worker* w = current_worker();
    const fiber* f = w ? w->current : nullptr;
    write_str("goro: fatal error: stack overflow in fiber ");
    if (f && f != &w->sched_ctx) {
      write_num(f->id);
      write_str(" (stack of ");
      write_num(static_cast<std::uint64_t>(f->stack_hi - f->stack_lo));
      write_str(" bytes)");
    } else {
      write_str("?");
    }
    write_str(
        ": guard page hit. Give it a larger stack: goro::options::stack_size or "
        "goro::spawn_options{.stack_size = ...}\n");
    die();
  }
  chain(sig, info, uctx, sig == SIGSEGV ? g_old_segv : g_old_bus);
}

constexpr std::size_t altstack_size = 64 * 1024;

}  // namespace

int register_stack_slab(char* base, std::size_t bytes, std::size_t slot,
                        std::size_t guard) noexcept {
  std::lock_guard lk(g_registry_mu);
  int high = g_registry_high.load(std::memory_order_relaxed);
  for (int i = 0; i < registry_size; ++i) {
    if (g_registry[i].base.load(std::memory_order_relaxed) != 0) continue;
    g_registry[i].bytes.store(bytes, std::memory_order_relaxed);
    g_registry[i].slot.store(slot, std::memory_order_relaxed);
    g_registry[i].guard.store(guard, std::memory_order_relaxed);
    g_registry[i].base.store(reinterpret_cast<std::uintptr_t>(base), std::memory_order_release);
    if (i >= high) g_registry_high.store(i + 1, std::memory_order_release);
    return i;
  }
  return -1;
}

void unregister_stack_slab(int index) noexcept {
  if (index < 0) return;
  std::lock_guard lk(g_registry_mu);
  g_registry[index].base.store(0, std::memory_order_release);
}

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
