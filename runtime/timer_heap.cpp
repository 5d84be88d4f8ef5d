#include "timer_heap.hpp"

namespace goro::detail {

void timer_heap::up(std::size_t i) noexcept {
  timer_node* n = heap_[i];
  while (i > 0) {
    std::size_t p = (i - 1) / 2;
    if (heap_[p]->when_ns <= n->when_ns) break;
    place(i, heap_[p]);
    i = p;
  }
  place(i, n);
}

void timer_heap::down(std::size_t i) noexcept {
  timer_node* n = heap_[i];
  std::size_t sz = heap_.size();
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= sz) break;
    if (c + 1 < sz && heap_[c + 1]->when_ns < heap_[c]->when_ns) ++c;
    if (n->when_ns <= heap_[c]->when_ns) break;
    place(i, heap_[c]);
    i = c;
  }
  place(i, n);
}

void timer_heap::erase_at(std::size_t i) noexcept {
  timer_node* gone = heap_[i];
  timer_node* last = heap_.back();
  heap_.pop_back();
  gone->index = timer_node::not_queued;
  if (last == gone) return;
  place(i, last);
  if (i > 0 && heap_[(i - 1) / 2]->when_ns > last->when_ns) up(i); else down(i);
}

bool timer_heap::add(timer_node* n) {
  std::lock_guard lk(mu_);
  heap_.push_back(n);
  up(heap_.size() - 1);
  bool earliest = heap_[0] == n;
  if (earliest) publish();
  return earliest;
}

bool timer_heap::remove(timer_node* n) noexcept {
  std::lock_guard lk(mu_);
  if (n->index == timer_node::not_queued) return false;
  bool was_first = n->index == 0;
  erase_at(n->index);
  if (was_first) publish();
  return true;
}

std::size_t timer_heap::run_expired(std::int64_t now_ns) noexcept {
  if (next_deadline() > now_ns) return 0;
  std::lock_guard lk(mu_);
  std::size_t fired = 0;
  while (!heap_.empty() && heap_[0]->when_ns <= now_ns) {
    timer_node* n = heap_[0];
    erase_at(0);
    std::int64_t again = n->fire(n);
    ++fired;
    if (again != none) {
      n->when_ns = again > now_ns ? again : now_ns + 1;  // never loop on one timer
      heap_.push_back(n);
      up(heap_.size() - 1);
    }
  }
  publish();
  return fired;
}

std::size_t timer_heap::size() const noexcept {
  std::lock_guard lk(mu_);
  return heap_.size();
}

}  // namespace goro::detail
