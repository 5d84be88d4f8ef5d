#include "goro/semaphore.hpp"

#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "goro/select.hpp"

namespace goro {

// A queued acquire. A plain acquire parks on its waiter (wait_node::w); a context-aware one has
// no waiter and waits on `ready` (a one-slot channel) or ctx.done() in a select.
struct semaphore::node : detail::wait_node {
  std::int64_t k = 0;
  chan<std::monostate> ready;
  node* next_woken = nullptr;
  bool granted = false;
};

namespace {
void check_request(std::int64_t k, std::int64_t size) {
  if (k < 0 || k > size)
    throw std::invalid_argument("goro: semaphore acquire of " + std::to_string(k) +
                                " units exceeds its size " + std::to_string(size));
}
}  // namespace

semaphore::semaphore(std::int64_t n) : size_(n) {
  if (n < 0) throw std::invalid_argument("goro: semaphore size must not be negative");
}

bool semaphore::try_acquire(std::int64_t k) noexcept {
  detail::spin_lock g(mu_);
  if (k < 0 || !waiters_.empty() || size_ - cur_ < k) return false;
  cur_ += k;
  return true;
}

void semaphore::grant_waiters() noexcept {
  while (auto* n = static_cast<node*>(waiters_.front())) {
    if (size_ - cur_ < n->k) break;  // FIFO: do not let smaller requests overtake the head
    cur_ += n->k;
    waiters_.remove(*n);
    n->granted = true;
    n->next_woken = woken_;
    woken_ = n;
  }
}

// Wakes the nodes that grant_waiters() collected (after mu_ is released).
void semaphore::wake(node* p) noexcept {
  while (p) {
    node* next = p->next_woken;  // read first: a woken node may vanish at once
    if (p->w) p->w->unpark();
    else p->ready.try_send(std::monostate{});
    p = next;
  }
}

void semaphore::acquire(std::int64_t k) {
  check_request(k, size_);
  mu_.lock();
  if (waiters_.empty() && size_ - cur_ >= k) {
    cur_ += k;
    mu_.unlock();
    return;
  }
  detail::waiter w;
  node n;
  n.w = &w;
  n.k = k;
  waiters_.push_back(n);
  // Returns once granted. Unwound by teardown after being granted: give the units back.
  detail::park_in(waiters_, n, mu_, [&] { release(k); });
}

error semaphore::acquire(const context& ctx, std::int64_t k) {
  check_request(k, size_);
  node n;
  n.k = k;
  n.ready = make_chan<std::monostate>(1);
  {
    detail::spin_lock g(mu_);  // check and queue in one critical section: no release in between
    if (waiters_.empty() && size_ - cur_ >= k) {
      cur_ += k;
      return {};
    }
    if (error e = ctx.err()) return e;
    waiters_.push_back(n);
  }
  std::size_t chosen;
  try {
    chosen = select(case_recv(n.ready), case_recv(ctx.done()));
  } catch (...) {  // runtime teardown: leave the queue, give back units granted meanwhile
    if (!detail::leave(waiters_, n, mu_)) release(k);
    throw;
  }
  if (chosen == 0) return {};
  mu_.lock();
  if (n.granted) {
    // Granted just as ctx was done. The releaser is about to send on n.ready (it read the node
    // under the lock): wait for that before n goes away, then give the units back (x/sync does).
    mu_.unlock();
    n.ready.recv();
    release(k);
    return ctx.err();
  }
  waiters_.remove(n);
  grant_waiters();  // our leaving may let the next ones in
  node* woken = std::exchange(woken_, nullptr);
  mu_.unlock();
  wake(woken);
  return ctx.err();
}

void semaphore::release(std::int64_t k) {
  node* woken;
  {
    detail::spin_lock g(mu_);
    if (k < 0 || k > cur_) throw std::logic_error("goro: semaphore released more than held");
    cur_ -= k;
    grant_waiters();
    woken = std::exchange(woken_, nullptr);
  }
  wake(woken);
}

}  // namespace goro
