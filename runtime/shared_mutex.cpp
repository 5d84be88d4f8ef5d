#include "goro/shared_mutex.hpp"

#include <mutex>

namespace goro {

// Called with mu_ held; returns once a granter has given us the lock (and updated the state).
void shared_mutex::park(detail::wait_list& q) {
  detail::waiter w;
  detail::wait_node n{&w};
  q.push_back(n);
  // A teardown unwind after a granter took n: we were given the lock, so give it back.
  detail::park_in(q, n, mu_, [&] {
    if (&q == &waiting_writers_) unlock();
    else unlock_shared();
  });
}

void shared_mutex::lock() {
  mu_.lock();
  if (!writer_ && readers_ == 0 && waiting_writers_.empty()) {
    writer_ = true;
    mu_.unlock();
    return;
  }
  park(waiting_writers_);
}

bool shared_mutex::try_lock() noexcept {
  detail::spin_lock g(mu_);
  if (writer_ || readers_ != 0) return false;
  writer_ = true;
  return true;
}

void shared_mutex::lock_shared() {
  mu_.lock();
  if (!writer_ && waiting_writers_.empty()) {
    ++readers_;
    mu_.unlock();
    return;
  }
  park(waiting_readers_);
}

bool shared_mutex::try_lock_shared() noexcept {
  detail::spin_lock g(mu_);
  if (writer_ || !waiting_writers_.empty()) return false;
  ++readers_;
  return true;
}

// Under mu_: releases a writer's (or one reader's) hold and grants the lock to whoever is next.
// Returns the granted waiters chained through `next`, to be unparked after mu_ is released.
detail::wait_node* shared_mutex::release_locked(bool writer) noexcept {
  if (writer) {
    writer_ = false;
    if (!waiting_readers_.empty()) {  // the readers that queued behind the writer go first
      detail::wait_node* readers = waiting_readers_.take_all();
      for (detail::wait_node* n = readers; n; n = n->next) ++readers_;
      return readers;
    }
  } else if (--readers_ != 0) {
    return nullptr;
  }
  if (detail::wait_node* n = waiting_writers_.pop_front()) {
    writer_ = true;
    return n;
  }
  return nullptr;
}

void shared_mutex::unlock_shared() {
  detail::wait_node* granted;
  {
    detail::spin_lock g(mu_);
    granted = release_locked(false);
  }
  detail::unpark_chain(granted);
}

void shared_mutex::unlock() {
  detail::wait_node* granted;
  {
    detail::spin_lock g(mu_);
    granted = release_locked(true);
  }
  detail::unpark_chain(granted);
}

}  // namespace goro
