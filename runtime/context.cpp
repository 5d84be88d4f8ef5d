// Contexts: a tree of shared states. A parent knows its live children weakly (it never keeps
// them alive) and a child keeps its parent alive; a child leaves its parent's list when it is
// canceled or destroyed, so cancelled children do not accumulate. Cancellation takes one state
// lock at a time (parent before child, never both), so it cannot deadlock.
#include "goro/context.hpp"

#include <mutex>
#include <utility>
#include <vector>

#include "goro/detail/spin_mutex.hpp"
#include "goro/runtime.hpp"
#include "goro/timer.hpp"
#include "scheduler.hpp"
#include "timer_heap.hpp"

namespace goro::detail {

struct context_state : std::enable_shared_from_this<context_state> {
  struct child {
    context_state* raw;
    std::weak_ptr<context_state> ref;
  };
  struct deadline_timer {
    timer_node node;
    context_state* owner;
    scheduler* sched;
  };

  spin_mutex mu;
  error err;  // under mu; set once
  chan<std::monostate> done = make_chan<std::monostate>();
  std::shared_ptr<context_state> parent;
  std::vector<child> children;  // under mu
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::unique_ptr<deadline_timer> timer;  // set before the state is shared, then read-only

  ~context_state() {
    if (timer) timer->sched->remove_timer(&timer->node);
    if (parent) parent->forget(this);
  }

  void forget(context_state* c) {
    std::lock_guard lk(mu);
    for (auto it = children.begin(); it != children.end(); ++it)
      if (it->raw == c) {
        children.erase(it);
        return;
      }
  }

  // from_timer: called by our own deadline timer's callback, which must not remove itself.
  void cancel(const error& why, bool from_timer = false) {
    std::vector<child> kids;
    {
      std::lock_guard lk(mu);
      if (err) return;
      err = why;
      kids.swap(children);
    }
    done.close();
    for (auto& k : kids)
      if (auto c = k.ref.lock()) c->cancel(why);
    if (timer && !from_timer) timer->sched->remove_timer(&timer->node);
    if (parent) parent->forget(this);
  }

  // Registers `c` as a child; if we are already canceled, cancels it instead.
  void adopt(const std::shared_ptr<context_state>& c) {
    error why;
    {
      std::lock_guard lk(mu);
      if (!err) {
        children.push_back({c.get(), c});
        return;
      }
      why = err;
    }
    c->cancel(why);
  }

  static std::shared_ptr<context_state> make(const context& parent) {
    auto s = std::make_shared<context_state>();
    s->parent = parent.s_;
    if (parent.s_) s->deadline = parent.s_->deadline;
    return s;
  }
  static context_with_cancel handles(const std::shared_ptr<context_state>& s) {
    return {context(s), cancel_func(s)};
  }
};

}  // namespace goro::detail

namespace goro {

using detail::context_state;

recv_chan<std::monostate> context::done() const noexcept {
  return s_ ? recv_chan<std::monostate>(s_->done) : recv_chan<std::monostate>();
}

error context::err() const {
  if (!s_) return {};
  std::lock_guard lk(s_->mu);
  return s_->err;
}

std::optional<std::chrono::steady_clock::time_point> context::deadline() const noexcept {
  return s_ ? s_->deadline : std::nullopt;
}

void cancel_func::operator()() const {
  if (s_) s_->cancel(canceled);
}

context_with_cancel with_cancel(const context& parent) {
  auto s = context_state::make(parent);
  if (s->parent) s->parent->adopt(s);
  return context_state::handles(s);
}

context_with_cancel with_deadline(const context& parent, std::chrono::steady_clock::time_point tp) {
  if (auto d = parent.deadline(); d && *d <= tp) return with_cancel(parent);  // parent's is earlier
  auto s = context_state::make(parent);
  s->deadline = tp;
  std::int64_t when = detail::to_ns(tp);
  if (when <= detail::to_ns(std::chrono::steady_clock::now())) {
    if (s->parent) s->parent->adopt(s);
    s->cancel(deadline_exceeded);
    return context_state::handles(s);
  }
  auto t = std::make_unique<context_state::deadline_timer>();
  t->owner = s.get();
  t->sched = &detail::go_target();
  t->node.when_ns = when;
  t->node.fire = [](detail::timer_node* n) -> std::int64_t {
    // The state outlives a pending timer: its destructor removes the timer first.
    reinterpret_cast<context_state::deadline_timer*>(n)->owner->cancel(deadline_exceeded, true);
    return detail::timer_heap::none;
  };
  s->timer = std::move(t);
  if (s->parent) s->parent->adopt(s);
  s->timer->sched->add_timer(&s->timer->node);
  return context_state::handles(s);
}

}  // namespace goro
