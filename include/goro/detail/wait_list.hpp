// goro::detail::wait_list: the FIFO of parked parties under every sync primitive (mutex,
// shared_mutex, condition_variable, semaphore, wait_group), and park_in(), the one way to park in
// one. Channels keep their own queue (chan_core.hpp) because a select waits in several at once.
#pragma once

#include <chrono>

#include "goro/detail/assert.hpp"
#include "goro/detail/thread_safety.hpp"
#include "goro/detail/waiter.hpp"

namespace goro::detail {

/// One parked party. Lives on its stack, so it must be off every list before that stack goes:
/// whoever unlinks it (a waker, a timeout, a teardown unwind) does so under the list's lock.
struct wait_node {
  waiter* w = nullptr;
  wait_node* prev = nullptr;
  wait_node* next = nullptr;
  bool linked = false;
};

/// Intrusive doubly linked FIFO. Not synchronised: its owner guards it with its own lock.
class wait_list {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  wait_node* front() const noexcept { return head_; }

  void push_back(wait_node& n) noexcept {
    GORO_ASSERT(!n.linked);
    n.prev = tail_;
    n.next = nullptr;
    (tail_ ? tail_->next : head_) = &n;
    tail_ = &n;
    n.linked = true;
  }
  void push_front(wait_node& n) noexcept {
    GORO_ASSERT(!n.linked);
    n.prev = nullptr;
    n.next = head_;
    (head_ ? head_->prev : tail_) = &n;
    head_ = &n;
    n.linked = true;
  }
  /// Unlinks `n` if it is still linked; false when a waker took it first.
  bool remove(wait_node& n) noexcept {
    if (!n.linked) return false;
    GORO_ASSERT(n.prev ? n.prev->next == &n : head_ == &n);
    GORO_ASSERT(n.next ? n.next->prev == &n : tail_ == &n);
    (n.prev ? n.prev->next : head_) = n.next;
    (n.next ? n.next->prev : tail_) = n.prev;
    n.prev = n.next = nullptr;
    n.linked = false;
    return true;
  }
  wait_node* pop_front() noexcept {
    wait_node* n = head_;
    if (n) remove(*n);
    return n;
  }
  /// Unlinks every node and returns them chained through `next`. Read `next` before unparking a
  /// node: it may vanish as soon as its owner runs.
  wait_node* take_all() noexcept {
    wait_node* all = head_;
    for (wait_node* n = all; n; n = n->next) n->linked = false;
    head_ = tail_ = nullptr;
    return all;
  }

 private:
  wait_node* head_ = nullptr;
  wait_node* tail_ = nullptr;
};

/// Unparks every node of a chain from take_all() (or one from pop_front()), reading each `next`
/// before the unpark that may free the node. Call it after releasing the list's lock.
inline void unpark_chain(wait_node* n) noexcept {
  while (n) {
    wait_node* next = n->next;
    n->w->unpark();
    n = next;
  }
}

/// Takes `n` off `list` under `lk` if it is still there; false when a waker took it first. For
/// the exits of a park that a waker did not cause (a teardown unwind, a timeout).
template <class Lock>
bool leave(wait_list& list, wait_node& n, Lock& lk) GORO_EXCLUDES(lk) {
  lk.lock();
  const bool was_queued = list.remove(n);
  lk.unlock();
  return was_queued;
}

/// For waiter::park_unlocking: unlocks a Lock given as void*.
template <class Lock>
void unlock_erased(void* l) noexcept GORO_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<Lock*>(l)->unlock();
}

/// Parks the caller, whose `n` the caller has linked into `list` while holding `lk`; `lk` is
/// released only once a waker can no longer miss the caller (see waiter::park_unlocking), and is
/// not held on return. Returns when a waker has unlinked `n` and unparked it.
///
/// If the park throws (the runtime is being torn down and unwinds the fiber), `n` leaves the
/// list before the exception goes on. If a waker had already unlinked it, it may have handed the
/// caller something (a lock, units): `give_back()` is then called, without `lk`, to undo that.
template <class Lock, class GiveBack>
void park_in(wait_list& list, wait_node& n, Lock& lk, GiveBack give_back) GORO_RELEASE(lk)
    GORO_NO_THREAD_SAFETY_ANALYSIS {  // lk is released by the switch, through a function pointer
  try {
    n.w->park_unlocking(&unlock_erased<Lock>, &lk);
  } catch (...) {
    if (!leave(list, n, lk)) give_back();
    throw;
  }
}

template <class Lock>
void park_in(wait_list& list, wait_node& n, Lock& lk) GORO_RELEASE(lk) {
  park_in(list, n, lk, [] {});
}

/// Parks the caller, whose `n` is linked into `list` (guarded by `lk`, not held by the caller: an
/// unpark that comes before the park leaves a token in the waiter, so it is not lost), until a
/// waker unlinks and unparks it or `deadline` passes (time_point::max(): never). Returns false on
/// timeout. A waker that unlinked `n` before the timeout could wins: the call then waits for its
/// unpark (`n` must outlive it) and returns true. On a teardown unwind `n` leaves the list.
template <class Lock>
bool park_in_until(wait_list& list, wait_node& n, Lock& lk,
                   std::chrono::steady_clock::time_point deadline) GORO_EXCLUDES(lk) {
  try {
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      n.w->park();
      return true;
    }
    if (n.w->park_until(deadline)) return true;
    if (leave(list, n, lk)) return false;  // timed out
    n.w->park();                           // a waker took n first and is about to unpark it
    return true;
  } catch (...) {
    leave(list, n, lk);
    throw;
  }
}

}  // namespace goro::detail
