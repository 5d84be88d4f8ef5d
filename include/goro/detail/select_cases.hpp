// The case objects of goro::select (case_recv, case_send, case_default build them) and how
// select describes and runs each kind. Internal: used by select.hpp.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "goro/detail/chan_core.hpp"

namespace goro::detail {
struct no_handler {};

template <class T, class F>
struct recv_case {
  using value_type = T;
  chan_core* c;
  F f;
};
template <class T, class F>
struct send_case {
  using value_type = T;
  chan_core* c;
  T value;
  F f;
};
template <class F>
struct default_case {
  F f;
};

template <class C>
struct case_traits;
template <class T, class F>
struct case_traits<recv_case<T, F>> {
  static constexpr bool is_default = false;
  using storage = std::optional<T>;  // where a received value lands
  static select_case describe(recv_case<T, F>& rc, storage& s) {
    return {rc.c, &s, select_case::kind::recv, false};
  }
  static void run(recv_case<T, F>& rc, storage& s) {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) rc.f(std::move(s));
    else if constexpr (std::is_invocable_v<F&>) rc.f();
    else
      static_assert(std::is_same_v<F, no_handler>,
                    "case_recv handler must take std::optional<T> or nothing");
  }
};
template <class T, class F>
struct case_traits<send_case<T, F>> {
  static constexpr bool is_default = false;
  struct storage {};
  static select_case describe(send_case<T, F>& sc, storage&) {
    return {sc.c, &sc.value, select_case::kind::send, false};
  }
  static void run(send_case<T, F>& sc, storage&) {
    if constexpr (std::is_invocable_v<F&>) sc.f();
    else static_assert(std::is_same_v<F, no_handler>, "case_send handler must take nothing");
  }
};
template <class F>
struct case_traits<default_case<F>> {
  static constexpr bool is_default = true;
  struct storage {};
  static select_case describe(default_case<F>&, storage&) {
    return {nullptr, nullptr, select_case::kind::fallback, false};
  }
  static void run(default_case<F>& dc, storage&) {
    if constexpr (std::is_invocable_v<F&>) dc.f();
    else static_assert(std::is_same_v<F, no_handler>, "case_default handler must take nothing");
  }
};

template <class Ch>
using chan_value_t = typename std::remove_cvref_t<decltype(*std::declval<Ch>().recv())>;
}  // namespace goro::detail
