#include "timer_heap.hpp"

#include "goro/detail/assert.hpp"

#include <sched.h>

namespace goro::detail {

thread_local timer_heap::batch_in_flight* timer_heap::t_batch = nullptr;

// A 4-ary heap (as Go's): half the depth of a binary one, and the 4 children's keys share a
// cache line or two; the keys are stored inline so that sifting never dereferences a node.
void timer_heap::up(std::size_t i) noexcept {
  const entry e = heap_[i];
  while (i > 0) {
    std::size_t p = (i - 1) / arity;
    if (heap_[p].when <= e.when) break;
    place(i, heap_[p]);
    i = p;
  }
  place(i, e);
}

void timer_heap::down(std::size_t i) noexcept {
  const entry e = heap_[i];
  const std::size_t sz = heap_.size();
  for (;;) {
    const std::size_t first = arity * i + 1;
    if (first >= sz) break;
    std::size_t c = first;
    const std::size_t last = first + arity < sz ? first + arity : sz;
    for (std::size_t k = first + 1; k < last; ++k)
      if (heap_[k].when < heap_[c].when) c = k;
    if (e.when <= heap_[c].when) break;
    place(i, heap_[c]);
    i = c;
  }
  place(i, e);
}

void timer_heap::erase_at(std::size_t i) noexcept {
  GORO_ASSERT(i < heap_.size() && heap_[i].node->index == i);
  timer_node* gone = heap_[i].node;
  const entry last = heap_.back();
  heap_.pop_back();
  gone->index = timer_node::not_queued;
  if (last.node == gone) return;
  place(i, last);
  if (i > 0 && heap_[(i - 1) / arity].when > last.when) up(i);
  else down(i);
}

timer_heap::~timer_heap() {
  for (const entry& e : heap_) {
    timer_node* n = e.node;
    n->index = timer_node::not_queued;
    if (n->discard) n->discard(n);
  }
}

bool timer_heap::add(timer_node* n) {
  std::lock_guard lk(mu_);
  GORO_ASSERT(n->index == timer_node::not_queued);  // a node is in the heap at most once
  heap_.push_back({n->when_ns, n});
  up(heap_.size() - 1);
  bool earliest = heap_[0].node == n;
  if (earliest) publish();
  return earliest;
}

bool timer_heap::remove(timer_node* n) noexcept {
  // From a callback of this thread's batch: a node still waiting in the batch never fires.
  for (batch_in_flight* b = t_batch; b; b = b->outer)
    if (b->heap == this)
      for (std::size_t i = b->next; i < b->n; ++i)
        if (b->due[i] == n) {
          b->due[i] = nullptr;
          n->firing.store(false, std::memory_order_release);
          return true;
        }
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (n->index != timer_node::not_queued) {
        bool was_first = n->index == 0;
        erase_at(n->index);
        if (was_first) publish();
        return true;
      }
      // Popped for firing under this lock, or neither queued nor firing: then for good (only
      // the owner, who is calling us, could queue it again).
      if (!n->firing.load(std::memory_order_acquire)) return false;
    }
    // Its callback is running (short by contract); it may re-arm the node, so look again.
    while (n->firing.load(std::memory_order_acquire)) sched_yield();
  }
}

std::size_t timer_heap::run_expired(std::int64_t now_ns) noexcept {
  if (next_deadline() > now_ns) return 0;
  std::size_t fired = 0;
  for (;;) {
    constexpr std::size_t batch_max = 64;
    timer_node* due[batch_max];
    std::size_t n = 0;
    {
      std::lock_guard lk(mu_);
      while (n < batch_max && !heap_.empty() && heap_[0].when <= now_ns) {
        timer_node* t = heap_[0].node;
        erase_at(0);
        t->firing.store(true, std::memory_order_relaxed);
        due[n++] = t;
      }
      publish();
    }
    // A callback may remove a timer of this batch that has not fired yet (remove() looks here:
    // waiting for its `firing` to clear would wait for this very thread).
    batch_in_flight b{this, due, 0, n, t_batch};
    t_batch = &b;
    for (; b.next < n; ++b.next) {
      timer_node* t = due[b.next];
      if (!t) continue;  // removed by an earlier callback of this batch
      due[b.next] = nullptr;
      ++fired;
      const std::int64_t again = t->fire(t);
      if (again == freed) continue;  // t is gone
      if (again != none) {
        // Periodic: re-arm, and clear `firing` in the same critical section. Cleared after
        // unlocking, a remove() could take the re-armed node off the heap and return (letting
        // its owner free it) before the store, which would then write to freed memory.
        t->when_ns = again > now_ns ? again : now_ns + 1;
        std::lock_guard lk(mu_);
        heap_.push_back({t->when_ns, t});
        up(heap_.size() - 1);
        if (heap_[0].node == t) publish();
        t->firing.store(false, std::memory_order_release);
        continue;
      }
      t->firing.store(false, std::memory_order_release);  // t may be freed from here on
    }
    t_batch = b.outer;
    if (n < batch_max) return fired;
  }
}

std::size_t timer_heap::size() const noexcept {
  std::lock_guard lk(mu_);
  return heap_.size();
}

}  // namespace goro::detail
