#include "goro/shared_mutex.hpp"

#include <mutex>

namespace goro {

void shared_mutex::queue::push(node* n) noexcept {
  n->next = nullptr;
  if (tail) tail->next = n;
  else head = n;
  tail = n;
}

void shared_mutex::queue::erase(node* n) noexcept {
  node* prev = nullptr;
  for (node* p = head; p; prev = p, p = p->next)
    if (p == n) {
      (prev ? prev->next : head) = n->next;
      if (tail == n) tail = prev;
      return;
    }
}

// Called with mu_ held; returns once a granter has given us the lock (and updated the state).
void shared_mutex::park(queue& q) {
  detail::waiter w;
  node n{&w, nullptr};
  q.push(&n);
  try {
    w.park_unlocking(detail::spin_mutex::unlock_fn, &mu_);
  } catch (...) {  // runtime teardown
    std::lock_guard g(mu_);
    q.erase(&n);
    throw;
  }
}

void shared_mutex::lock() {
  mu_.lock();
  if (!writer_ && readers_ == 0 && !waiting_writers_.head) {
    writer_ = true;
    mu_.unlock();
    return;
  }
  park(waiting_writers_);
}

bool shared_mutex::try_lock() noexcept {
  std::lock_guard g(mu_);
  if (writer_ || readers_ != 0) return false;
  writer_ = true;
  return true;
}

void shared_mutex::lock_shared() {
  mu_.lock();
  if (!writer_ && !waiting_writers_.head) {
    ++readers_;
    mu_.unlock();
    return;
  }
  park(waiting_readers_);
}

bool shared_mutex::try_lock_shared() noexcept {
  std::lock_guard g(mu_);
  if (writer_ || waiting_writers_.head) return false;
  ++readers_;
  return true;
}

void shared_mutex::unlock_shared() {
  detail::waiter* wake = nullptr;
  {
    std::lock_guard g(mu_);
    if (--readers_ == 0 && waiting_writers_.head) {
      node* n = waiting_writers_.head;
      waiting_writers_.head = n->next;
      if (!waiting_writers_.head) waiting_writers_.tail = nullptr;
      writer_ = true;
      wake = n->w;
    }
  }
  if (wake) wake->unpark();
}

void shared_mutex::unlock() {
  node* readers = nullptr;
  detail::waiter* writer = nullptr;
  {
    std::lock_guard g(mu_);
    writer_ = false;
    if (waiting_readers_.head) {  // the readers that queued behind us go first
      readers = waiting_readers_.head;
      waiting_readers_.head = waiting_readers_.tail = nullptr;
      for (node* n = readers; n; n = n->next) ++readers_;
    } else if (node* n = waiting_writers_.head) {
      waiting_writers_.head = n->next;
      if (!waiting_writers_.head) waiting_writers_.tail = nullptr;
      writer_ = true;
      writer = n->w;
    }
  }
  while (readers) {
    node* next = readers->next;  // read before unpark: the node lives on the reader's stack
    readers->w->unpark();
    readers = next;
  }
  if (writer) writer->unpark();
}

}  // namespace goro
