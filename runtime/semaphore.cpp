#include "goro/semaphore.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

#include "goro/select.hpp"

namespace goro {

// A queued acquire. A plain acquire parks on `w`; a context-aware one waits on `ready` (a
// one-slot channel) or ctx.done() in a select.
struct semaphore::node {
  std::int64_t k = 0;
  detail::waiter* w = nullptr;
  chan<std::monostate> ready;
  node* prev = nullptr;
  node* next = nullptr;
  node* next_woken = nullptr;
  bool granted = false;
};

semaphore::semaphore(std::int64_t n) : size_(n) {
  if (n < 0) throw std::invalid_argument("goro: semaphore size must not be negative");
}

bool semaphore::try_acquire(std::int64_t k) noexcept {
  std::lock_guard g(mu_);
  if (k < 0 || head_ || size_ - cur_ < k) return false;
  cur_ += k;
  return true;
}

void semaphore::grant_waiters() noexcept {
  while (node* n = head_) {
    if (size_ - cur_ < n->k) break;  // FIFO: do not let smaller requests overtake the head
    cur_ += n->k;
    head_ = n->next;
    (head_ ? head_->prev : tail_) = nullptr;
    n->granted = true;
    n->next_woken = woken_;
    woken_ = n;
  }
}

void semaphore::acquire(std::int64_t k) {
  if (k < 0 || k > size_)
    throw std::invalid_argument("goro: semaphore acquire of " + std::to_string(k) +
                                " units exceeds its size " + std::to_string(size_));
  mu_.lock();
  if (!head_ && size_ - cur_ >= k) {
    cur_ += k;
    mu_.unlock();
    return;
  }
  detail::waiter w;
  node n;
  n.k = k;
  n.w = &w;
  n.prev = tail_;
  if (tail_) tail_->next = &n;
  else head_ = &n;
  tail_ = &n;
  w.park_unlocking(detail::spin_mutex::unlock_fn, &mu_);  // returns once granted
}

error semaphore::acquire(const context& ctx, std::int64_t k) {
  if (k < 0 || k > size_)
    throw std::invalid_argument("goro: semaphore acquire of " + std::to_string(k) +
                                " units exceeds its size " + std::to_string(size_));
  node n;
  n.k = k;
  n.ready = make_chan<std::monostate>(1);
  {
    std::lock_guard g(mu_);  // check and queue in one critical section: no release in between
    if (!head_ && size_ - cur_ >= k) {
      cur_ += k;
      return {};
    }
    if (error e = ctx.err()) return e;
    n.prev = tail_;
    if (tail_) tail_->next = &n;
    else head_ = &n;
    tail_ = &n;
  }
  if (select(case_recv(n.ready), case_recv(ctx.done())) == 0) return {};
  mu_.lock();
  if (n.granted) {
    // Granted just as ctx was done. The releaser is about to send on n.ready (it read the node
    // under the lock): wait for that before n goes away, then give the units back (x/sync does).
    mu_.unlock();
    n.ready.recv();
    mu_.lock();
  }
  node* woken = nullptr;
  {
    std::lock_guard g(mu_, std::adopt_lock);
    if (n.granted) {
      cur_ -= k;
    } else {
      (n.prev ? n.prev->next : head_) = n.next;
      (n.next ? n.next->prev : tail_) = n.prev;
    }
    grant_waiters();  // our leaving may let the next ones in
    woken = woken_;
    woken_ = nullptr;
  }
  for (node* p = woken; p;) {
    node* next = p->next_woken;
    if (p->w) p->w->unpark();
    else p->ready.try_send(std::monostate{});
    p = next;
  }
  return ctx.err();
}

void semaphore::release(std::int64_t k) {
  node* woken;
  {
    std::lock_guard g(mu_);
    if (k < 0 || k > cur_) throw std::logic_error("goro: semaphore released more than held");
    cur_ -= k;
    grant_waiters();
    woken = woken_;
    woken_ = nullptr;
  }
  for (node* p = woken; p;) {
    node* next = p->next_woken;  // read first: a woken node may vanish at once
    if (p->w) p->w->unpark();
    else p->ready.try_send(std::monostate{});
    p = next;
  }
}

}  // namespace goro
