// The runtime side of goro::after, goro::timer and goro::ticker (runtime/timer.cpp).
#pragma once

#include <chrono>
#include <cstdint>

#include "goro/chan.hpp"

namespace goro {
namespace detail {
struct timer_state;  // runtime/timer.cpp
using clock = std::chrono::steady_clock;
std::int64_t to_ns(clock::time_point tp) noexcept;
recv_chan<clock::time_point> after_ns(std::int64_t when_ns);
timer_state* timer_start(std::int64_t when_ns, std::int64_t period_ns);
void timer_destroy(timer_state* s) noexcept;
bool timer_stop(timer_state* s) noexcept;
bool timer_reset(timer_state* s, std::int64_t when_ns, std::int64_t period_ns);
recv_chan<clock::time_point> timer_chan(const timer_state* s) noexcept;
struct timer_deleter {
  void operator()(timer_state* s) const noexcept { timer_destroy(s); }
};
}  // namespace detail

}  // namespace goro
