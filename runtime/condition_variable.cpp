#include "goro/condition_variable.hpp"

namespace goro {

// Not analysed: park_in_until takes q_ itself, and the analysis cannot see that.
std::cv_status condition_variable::wait_until(std::unique_lock<mutex>& lk,
                                              std::chrono::steady_clock::time_point tp)
    GORO_NO_THREAD_SAFETY_ANALYSIS {
  detail::waiter w;
  detail::wait_node n{&w};
  {
    detail::spin_lock g(q_);  // queued before lk is released: a notify after that finds us
    waiters_.push_back(n);
  }
  lk.unlock();
  bool notified;
  try {
    notified = detail::park_in_until(waiters_, n, q_, tp);
  } catch (...) {  // runtime teardown: n has left the queue; hand lk back locked, as promised
    lk.lock();
    throw;
  }
  lk.lock();
  return notified ? std::cv_status::no_timeout : std::cv_status::timeout;
}

void condition_variable::wait(std::unique_lock<mutex>& lk) {
  wait_until(lk, std::chrono::steady_clock::time_point::max());
}

void condition_variable::notify_one() noexcept {
  detail::wait_node* n;
  {
    detail::spin_lock g(q_);
    n = waiters_.pop_front();
  }
  detail::unpark_chain(n);
}

void condition_variable::notify_all() noexcept {
  detail::wait_node* n;
  {
    detail::spin_lock g(q_);
    n = waiters_.take_all();
  }
  detail::unpark_chain(n);
}

}  // namespace goro
