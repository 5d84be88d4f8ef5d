// goro::select: Go's select statement.
//
//   std::size_t i = goro::select(
//       goro::case_recv(ch1, [](std::optional<int> v) { ... }),   // v == nullopt: ch1 closed
//       goro::case_send(ch2, 42, [] { ... }),
//       goro::case_default([] { ... }));                          // optional, at most one
//
// Returns the index of the case that ran. Ready cases are chosen uniformly at random; nil
// channels are never ready; a chosen send on a closed channel throws channel_closed;
// select() with no cases blocks forever. select_list is the runtime-sized form (reflect.Select).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "goro/chan.hpp"
#include "goro/detail/chan_core.hpp"
#include "goro/detail/select_cases.hpp"

namespace goro {

/// `case v, ok := <-ch:` — `handler(std::optional<T>)` (nullopt: closed) or `handler()`.
template <class T, class F = detail::no_handler>
auto case_recv(const chan<T>& ch, F f = {}) {
  return detail::recv_case<T, F>{detail::chan_access::core(ch), std::move(f)};
}
template <class T, class F = detail::no_handler>
auto case_recv(const recv_chan<T>& ch, F f = {}) {
  return detail::recv_case<T, F>{detail::chan_access::core(ch), std::move(f)};
}

/// `case ch <- v:` — the value is moved into the case now and sent only if the case is chosen.
template <class T, class V, class F = detail::no_handler>
  requires std::is_constructible_v<T, V&&>
auto case_send(const chan<T>& ch, V&& v, F f = {}) {
  return detail::send_case<T, F>{detail::chan_access::core(ch), T(std::forward<V>(v)),
                                 std::move(f)};
}
template <class T, class V, class F = detail::no_handler>
  requires std::is_constructible_v<T, V&&>
auto case_send(const send_chan<T>& ch, V&& v, F f = {}) {
  return detail::send_case<T, F>{detail::chan_access::core(ch), T(std::forward<V>(v)),
                                 std::move(f)};
}

/// `default:` — runs when no other case is ready.
template <class F = detail::no_handler>
auto case_default(F f = {}) {
  return detail::default_case<F>{std::move(f)};
}

namespace detail {
template <class... Cases, std::size_t... I>
std::size_t select_static(std::index_sequence<I...>, Cases&... cases) {
  std::tuple<typename case_traits<Cases>::storage...> store;
  select_case descs[sizeof...(Cases)] = {
      case_traits<Cases>::describe(cases, std::get<I>(store))...};
  const std::size_t chosen = select_impl(descs, sizeof...(Cases));
  // Run the chosen handler through a table indexed at run time (no fold over the cases: a
  // short-circuiting fold here was once miscompiled by g++ 12 at -O2).
  using runner = void (*)(void* case_ptr, void* store_ptr);
  void* case_ptrs[] = {static_cast<void*>(&cases)...};
  void* store_ptrs[] = {static_cast<void*>(&std::get<I>(store))...};
  static constexpr runner runners[] = {[](void* c, void* s) {
    case_traits<Cases>::run(*static_cast<Cases*>(c),
                            *static_cast<typename case_traits<Cases>::storage*>(s));
  }...};
  runners[chosen](case_ptrs[chosen], store_ptrs[chosen]);
  return chosen;
}
}  // namespace detail

/// Go's select over the given cases; see the top of this header.
template <class... Cases>
std::size_t select(Cases&&... cases) {
  static_assert(
      ((detail::case_traits<std::remove_cvref_t<Cases>>::is_default ? 1 : 0) + ... + 0) <= 1,
      "goro::select accepts at most one case_default");
  if constexpr (sizeof...(Cases) == 0) {
    detail::block_forever();
  } else {
    return detail::select_static(std::index_sequence_for<Cases...>{}, cases...);
  }
}

/// A select over a list of cases built at run time (Go's reflect.Select), e.g. fan-in over N
/// channels. Handlers are optional; wait() returns the index of the case that ran. The list
/// holds a reference to each of its channels, so they live as long as their cases.
class select_list {
 public:
  /// Adds `case v, ok := <-ch`; returns the case's index.
  template <class T, class F = detail::no_handler>
  std::size_t recv(const recv_chan<T>& ch, F f = {}) {
    static_assert(std::is_invocable_v<F&, std::optional<T>> || std::is_invocable_v<F&> ||
                      std::is_same_v<F, detail::no_handler>,
                  "select_list::recv handler must take std::optional<T> or nothing");
    auto e = std::make_unique<recv_entry<T, F>>(ch, std::move(f));
    e->desc = {detail::chan_access::core(ch), &e->value, detail::select_case::kind::recv, false};
    return add(std::move(e));
  }
  template <class T, class F = detail::no_handler>
  std::size_t recv(const chan<T>& ch, F f = {}) {
    return recv(recv_chan<T>(ch), std::move(f));
  }
  /// Adds `case ch <- v`; returns the case's index. The value is moved into the list now and
  /// sent at most once: a wait() after this case was chosen throws std::logic_error (add the
  /// case again, with a new value, to send again).
  template <class T, class V, class F = detail::no_handler>
  std::size_t send(const send_chan<T>& ch, V&& v, F f = {}) {
    static_assert(std::is_invocable_v<F&> || std::is_same_v<F, detail::no_handler>,
                  "select_list::send handler must take nothing");
    auto e = std::make_unique<send_entry<T, F>>(ch, T(std::forward<V>(v)), std::move(f));
    e->desc = {detail::chan_access::core(ch), &e->value, detail::select_case::kind::send, false};
    return add(std::move(e));
  }
  template <class T, class V, class F = detail::no_handler>
  std::size_t send(const chan<T>& ch, V&& v, F f = {}) {
    return send(send_chan<T>(ch), std::forward<V>(v), std::move(f));
  }
  /// Adds the `default` case (at most one; throws std::logic_error on a second).
  template <class F = detail::no_handler>
  std::size_t add_default(F f = {}) {
    static_assert(std::is_invocable_v<F&> || std::is_same_v<F, detail::no_handler>,
                  "select_list::add_default handler must take nothing");
    for (auto& e : entries_)
      if (e->desc.k == detail::select_case::kind::fallback)
        throw std::logic_error("goro: select_list already has a default case");
    auto e = std::make_unique<default_entry<F>>(std::move(f));
    e->desc = {nullptr, nullptr, detail::select_case::kind::fallback, false};
    return add(std::move(e));
  }

  /// Runs the select; returns the chosen index after running its handler.
  std::size_t wait() {
    descs_.clear();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i]->spent)
        throw std::logic_error("goro: select_list::wait: send case " + std::to_string(i) +
                               " has already sent its value; add it again to send another");
      entries_[i]->reset();
      descs_.push_back(entries_[i]->desc);
    }
    if (descs_.empty()) detail::block_forever();
    std::size_t chosen = detail::select_impl(descs_.data(), descs_.size());
    if (descs_[chosen].k == detail::select_case::kind::send) entries_[chosen]->spent = true;
    entries_[chosen]->run();
    return chosen;
  }

  /// After wait() chose receive case i: the value it received (nullopt: closed). Moves it out.
  template <class T>
  std::optional<T> take(std::size_t i) {
    auto* e = dynamic_cast<value_holder<T>*>(entries_.at(i).get());
    if (!e) throw std::logic_error("goro: select_list::take: case is not a receive of this type");
    return std::move(e->value);
  }

  std::size_t size() const noexcept { return entries_.size(); }
  void clear() noexcept { entries_.clear(); }

 private:
  struct entry {
    virtual ~entry() = default;
    virtual void reset() {}
    virtual void run() = 0;
    detail::select_case desc;
    bool spent = false;  // a send case whose value has been sent
  };
  template <class T>
  struct value_holder : entry {
    std::optional<T> value;
  };
  template <class T, class F>
  struct recv_entry : value_holder<T> {
    recv_entry(recv_chan<T> c, F fn) : ch(std::move(c)), f(std::move(fn)) {}
    void reset() override { this->value.reset(); }
    void run() override {
      if constexpr (std::is_invocable_v<F&, std::optional<T>>) f(std::move(this->value));
      else if constexpr (std::is_invocable_v<F&>) f();
    }
    recv_chan<T> ch;  // keeps the channel alive
    F f;
  };
  template <class T, class F>
  struct send_entry : entry {
    send_entry(send_chan<T> c, T v, F fn)
        : ch(std::move(c)), value(std::move(v)), f(std::move(fn)) {}
    void run() override {
      if constexpr (std::is_invocable_v<F&>) f();
    }
    send_chan<T> ch;  // keeps the channel alive
    T value;
    F f;
  };
  template <class F>
  struct default_entry : entry {
    explicit default_entry(F fn) : f(std::move(fn)) {}
    void run() override {
      if constexpr (std::is_invocable_v<F&>) f();
    }
    F f;
  };
  std::size_t add(std::unique_ptr<entry> e) {
    entries_.push_back(std::move(e));
    return entries_.size() - 1;
  }
  std::vector<std::unique_ptr<entry>> entries_;
  std::vector<detail::select_case> descs_;
};

/// Runs a select_list (same as list.wait()).
inline std::size_t select(select_list& list) { return list.wait(); }

}  // namespace goro
