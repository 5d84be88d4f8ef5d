#include "goro/condition_variable.hpp"

namespace goro {

void condition_variable::enqueue(node& n) noexcept {
  std::lock_guard g(q_);
  n.prev = tail_;
  n.next = nullptr;
  if (tail_) tail_->next = &n;
  else head_ = &n;
  tail_ = &n;
  n.queued = true;
}

bool condition_variable::dequeue_if_queued(node& n) noexcept {
  std::lock_guard g(q_);
  if (!n.queued) return false;
  (n.prev ? n.prev->next : head_) = n.next;
  (n.next ? n.next->prev : tail_) = n.prev;
  n.queued = false;
  return true;
}

void condition_variable::wait(std::unique_lock<mutex>& lk) {
  detail::waiter w;
  node n{&w, nullptr, nullptr, false};
  enqueue(n);  // before unlocking: a notify after our unlock finds us
  lk.unlock();
  try {
    w.park();
  } catch (...) {  // runtime teardown: leave the queue (see "Teardown" in docs/architecture.md)
    dequeue_if_queued(n);
    lk.lock();
    throw;
  }
  lk.lock();
}

std::cv_status condition_variable::wait_until(std::unique_lock<mutex>& lk,
                                              std::chrono::steady_clock::time_point tp) {
  detail::waiter w;
  node n{&w, nullptr, nullptr, false};
  enqueue(n);
  lk.unlock();
  bool notified = w.park_until(tp);
  if (!notified && !dequeue_if_queued(n)) {
    // Timed out, but a notifier dequeued us meanwhile and is about to unpark: wait for it (the
    // waiter must outlive that unpark), and count it as a notification.
    w.park();
    notified = true;
  }
  lk.lock();
  return notified ? std::cv_status::no_timeout : std::cv_status::timeout;
}

void condition_variable::notify_one() noexcept {
  detail::waiter* w = nullptr;
  {
    std::lock_guard g(q_);
    if (node* n = head_) {
      head_ = n->next;
      (head_ ? head_->prev : tail_) = nullptr;
      n->queued = false;
      w = n->w;
    }
  }
  if (w) w->unpark();
}

void condition_variable::notify_all() noexcept {
  node* list;
  {
    std::lock_guard g(q_);
    list = head_;
    head_ = tail_ = nullptr;
    for (node* n = list; n; n = n->next) n->queued = false;
  }
  while (list) {
    node* next = list->next;  // read before unpark: the node lives on the waiter's stack
    list->w->unpark();
    list = next;
  }
}

}  // namespace goro
