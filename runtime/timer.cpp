// goro::after, goro::timer and goro::ticker on the scheduler's timer heap. The callback only
// try_sends on a one-slot channel, so it never blocks and a slow receiver loses ticks instead of
// piling them up.
#include "goro/timer.hpp"
#include "goro/ticker.hpp"

#include "futex.hpp"
#include "goro/runtime.hpp"
#include "scheduler.hpp"

namespace goro::detail {

struct timer_state {
  timer_node node;
  scheduler* sched;
  chan<clock::time_point> ch;
  std::int64_t period_ns;
};

namespace {

std::int64_t fire_timer(timer_node* n) {
  auto* s = reinterpret_cast<timer_state*>(n);  // node is the first member
  s->ch.try_send(clock::now());                 // full: the receiver is slow, drop this one
  if (s->period_ns == 0) return timer_heap::none;
  std::int64_t next = saturating_add(n->when_ns, s->period_ns);
  std::int64_t now = monotonic_ns();
  if (next <= now) next = now + s->period_ns - (now - n->when_ns) % s->period_ns;  // skip missed
  return next;
}

void drain(const chan<clock::time_point>& ch) {
  while (ch.try_recv()) {
  }
}

}  // namespace

std::int64_t to_ns(clock::time_point tp) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
}

recv_chan<clock::time_point> after_ns(std::int64_t when_ns) {
  struct one_shot {
    timer_node node;
    chan<clock::time_point> ch;
  };
  auto* o = new one_shot{{}, make_chan<clock::time_point>(1)};
  recv_chan<clock::time_point> out = o->ch;
  o->node.when_ns = when_ns;
  o->node.fire = [](timer_node* n) -> std::int64_t {
    auto* self = reinterpret_cast<one_shot*>(n);
    self->ch.try_send(clock::now());
    delete self;  // nobody else references the node
    return timer_heap::freed;
  };
  o->node.discard = [](timer_node* n) { delete reinterpret_cast<one_shot*>(n); };
  go_target().add_timer(&o->node);
  return out;
}

timer_state* timer_start(std::int64_t when_ns, std::int64_t period_ns) {
  auto* s = new timer_state{{}, &go_target(), make_chan<clock::time_point>(1), period_ns};
  s->node.when_ns = when_ns;
  s->node.fire = fire_timer;
  s->sched->add_timer(&s->node);
  return s;
}

void timer_destroy(timer_state* s) noexcept {
  s->sched->remove_timer(&s->node);
  delete s;
}

bool timer_stop(timer_state* s) noexcept {
  bool pending = s->sched->remove_timer(&s->node);
  if (s->period_ns == 0) drain(s->ch);  // no stale value after Stop (Go 1.23 timers)
  return pending;
}

bool timer_reset(timer_state* s, std::int64_t when_ns, std::int64_t period_ns) {
  bool pending = s->sched->remove_timer(&s->node);
  drain(s->ch);
  s->period_ns = period_ns;
  s->node.when_ns = when_ns;
  s->sched->add_timer(&s->node);
  return pending;
}

recv_chan<clock::time_point> timer_chan(const timer_state* s) noexcept { return s->ch; }

}  // namespace goro::detail
