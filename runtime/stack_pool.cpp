#include "stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>

#include "goro/options.hpp"
#include "sanitizer.hpp"
#include "stack_overflow.hpp"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux >= 6.13; older kernels answer EINVAL
#endif

namespace goro::detail {
namespace {

std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// How guard pages are made: decided once per process by the first attempt.
enum class guard_kind : int { unknown, madvise, mprotect };
std::atomic<guard_kind> g_guard_kind{guard_kind::unknown};
// mprotect splits the mapping (two more entries in vm.max_map_count per stack); stop at a
// budget far below the default limit of 65530 and fall back to the canary alone.
constexpr long mprotect_budget = 8192;
std::atomic<long> g_mprotect_guards{0};

constexpr std::size_t slab_target_bytes = std::size_t{256} << 20;

// Returns true if a guard page is now in place at `p`.
bool install_guard(char* p, std::size_t len) noexcept {
  guard_kind k = g_guard_kind.load(std::memory_order_relaxed);
  if (k != guard_kind::mprotect) {
    if (madvise(p, len, MADV_GUARD_INSTALL) == 0) {
      g_guard_kind.store(guard_kind::madvise, std::memory_order_relaxed);
      return true;
    }
    if (k == guard_kind::madvise) return false;  // worked before: a transient failure
    g_guard_kind.store(guard_kind::mprotect, std::memory_order_relaxed);
  }
  if (g_mprotect_guards.fetch_add(1, std::memory_order_relaxed) >= mprotect_budget) return false;
  return mprotect(p, len, PROT_NONE) == 0;
}

}  // namespace

stack_pool::stack_pool(std::size_t usable)
    : usable_(usable), guard_(std::max(stack_guard_size, page_size())) {
  slot_ = guard_ + usable_;
}

stack_pool::~stack_pool() {
  for (auto& s : slabs_) munmap(s.base, s.bytes);
}

fiber* stack_pool::control_block(char* slot_base) const noexcept {
  auto top = reinterpret_cast<std::uintptr_t>(slot_base + slot_);
  return reinterpret_cast<fiber*>((top - sizeof(fiber)) & ~std::uintptr_t{63});
}

char* stack_pool::reserve(std::size_t* n) {
  if (slabs_.empty() || slabs_.back().carved == slabs_.back().nslots) {
    std::size_t count = slab_target_bytes / slot_;
    if (count == 0) count = 1;
    std::size_t bytes = count * slot_;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes, MADV_NOHUGEPAGE);  // a huge page would commit 2 MiB per touched stack
    char* base = static_cast<char*>(p);
    slabs_.push_back(slab{base, bytes, 0, count});
  }
  slab& s = slabs_.back();
  if (*n > s.nslots - s.carved) *n = s.nslots - s.carved;
  char* first = s.base + s.carved * slot_;
  s.carved += *n;
  return first;
}

fiber* stack_pool::carve(char* slot_base) noexcept {
  bool guarded = install_guard(slot_base, guard_);
  fiber* f = ::new (control_block(slot_base)) fiber();
  f->guard_lo = guarded ? slot_base : nullptr;
  f->stack_lo = slot_base + guard_;
  f->stack_hi = reinterpret_cast<char*>(f);
  f->pool = this;
  f->canary = !guarded;
  if (f->canary) *reinterpret_cast<std::uint64_t*>(f->stack_lo) = stack_canary;
  return f;
}

std::size_t stack_pool::acquire(fiber** out, std::size_t n) {
  char* fresh;
  {
    std::lock_guard lk(mu_);
    if (!free_.empty()) {
      std::size_t got = std::min(n, free_.size());
      std::copy(free_.end() - static_cast<std::ptrdiff_t>(got), free_.end(), out);
      free_.resize(free_.size() - got);
      return got;
    }
    fresh = reserve(&n);
  }
  // New slots: the guard-page syscalls happen outside the lock.
  for (std::size_t i = 0; i < n; ++i) out[i] = carve(fresh + i * slot_);
  return n;
}

void stack_pool::release(fiber* const* slots, std::size_t n) noexcept {
  if (n == 0) return;
  std::lock_guard lk(mu_);
  try {
    free_.insert(free_.end(), slots, slots + n);
  } catch (const std::bad_alloc&) {
    // Out of memory for the list itself: leak these slots (they are unmapped with the pool).
  }
}

}  // namespace goro::detail
