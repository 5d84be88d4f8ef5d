// Fiber stacks: fixed-size slots carved from large MAP_NORESERVE slabs, so that a million
// stacks need a few hundred mappings (vm.max_map_count is 65530) and an idle stack costs only
// the pages it touched. Each slot is
//
//   [guard region][ usable stack ... | callable | fiber control block ]
//   low                                                          high
//
// The guard region (goro::stack_guard_size, one page; frames larger than that are probed page by
// page by -fstack-clash-protection, which goro::goro adds to its users) is installed with
// MADV_GUARD_INSTALL (Linux >= 6.13: no new mapping, no memory), else with mprotect while a
// process-wide budget of extra mappings lasts, else not at all; a canary word just above it is
// checked at every switch-out of a fiber that has no guard (see stack_overflow.cpp).
//
// The pool is shared by all workers of one scheduler (fibers end on other workers than they
// started on); workers keep a small private cache in front of it (worker::stack_cache).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "fiber.hpp"

namespace goro::detail {

class stack_pool {
 public:
  /// `usable` bytes of stack per slot (a multiple of the page size).
  explicit stack_pool(std::size_t usable);
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  /// Takes up to `n` free slots (at least one, or throws std::bad_alloc), returning their
  /// control blocks (state free, stack bounds set) in `out`. Every slot handed out (`carved`)
  /// has its control block built before acquire returns.
  std::size_t acquire(fiber** out, std::size_t n);
  /// Returns slots to the pool.
  void release(fiber* const* slots, std::size_t n) noexcept;

  std::size_t usable_size() const noexcept { return usable_; }

  /// Calls f(fiber*) for the control block of every slot ever handed out. Only when no worker
  /// runs (teardown); f may acquire and release slots.
  template <class F>
  void for_each_slot(F&& f) {
    for (std::size_t s = 0; s < slabs_.size(); ++s)
      for (std::size_t i = 0; i < slabs_[s].carved; ++i)
        f(control_block(slabs_[s].base + i * slot_));
  }

 private:
  struct slab {
    char* base;
    std::size_t bytes;
    std::size_t carved;  // slots handed out at least once
    std::size_t nslots;
  };
  fiber* control_block(char* slot_base) const noexcept;
  char* reserve(std::size_t* n);           // under mu_: claims up to *n never-used slots
  fiber* carve(char* slot_base) noexcept;  // prepares a claimed slot (guard, control block)

  std::size_t usable_;  // bytes of stack
  std::size_t slot_;    // guard + usable + control block area
  std::size_t guard_;   // guard bytes at the bottom of each slot (goro::stack_guard_size)
  std::mutex mu_;
  // Free slots. An array, not a list linked through the slots: every slot sits on its own page,
  // and walking a list under the lock would take a cache (and TLB) miss per slot.
  std::vector<fiber*> free_;
  std::vector<slab> slabs_;
};

}  // namespace goro::detail
