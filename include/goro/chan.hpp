// goro::chan<T>: Go's channels. A cheap copyable handle; copies refer to the same channel.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "goro/channel_closed.hpp"
#include "goro/detail/chan_core.hpp"

namespace goro {

/// Result of try_recv(): behaves like std::optional<T> (engaged when a value was received);
/// closed() tells "closed and drained" from "nothing available yet" (empty()).
template <class T>
class recv_result : public std::optional<T> {
 public:
  recv_result() = default;
  /// A result holding `v` (engaged or not) with status `s`.
  recv_result(std::optional<T>&& v, detail::recv_status s)
      : std::optional<T>(std::move(v)), status_(s) {}
  /// True when the channel is closed and drained (no value).
  bool closed() const noexcept { return status_ == detail::recv_status::closed; }
  /// True when nothing was available but the channel is open (or nil).
  bool empty() const noexcept { return status_ == detail::recv_status::empty; }

 private:
  detail::recv_status status_ = detail::recv_status::empty;
};

template <class T>
class chan;

namespace detail {
/// How goro's own headers (select) reach a channel handle's core; not part of the API.
struct chan_access {
  template <class Ch>
  static chan_core* core(const Ch& ch) noexcept {
    return ch.core();
  }
};
}  // namespace detail

/// `chan T`: a channel of T. Default-constructed: the nil channel (blocks forever, never ready
/// in select). Make one with goro::make_chan<T>(capacity). A handle: copies share the channel,
/// and operations are const (they do not change which channel the handle refers to).
template <class T>
class chan {
  static_assert(std::is_move_constructible_v<T>, "goro::chan<T> needs a move-constructible T");
  static_assert(!std::is_reference_v<T> && !std::is_void_v<T>,
                "goro::chan<T> needs an object type");

 public:
  using value_type = T;  ///< the element type

  /// The nil channel.
  chan() noexcept = default;
  /// Another handle to the same channel.
  chan(const chan& o) noexcept : c_(o.c_) {
    if (c_) c_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  chan(chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan& operator=(chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan() {
    if (c_) detail::chan_release(c_);
  }

  /// `ch <- v`: blocks until a receiver takes v (unbuffered) or there is room in the buffer.
  /// Throws channel_closed if the channel is or becomes closed. On the nil channel: blocks forever.
  void send(T&& v) const { send_ptr(&v); }
  void send(const T& v) const requires std::is_copy_constructible_v<T> {
    T copy(v);
    send_ptr(&copy);
  }
  /// Non-blocking send: true if delivered; on false `v` is left unchanged. Throws channel_closed
  /// on a closed channel (like a chosen send case in Go).
  bool try_send(T&& v) const { return c_ && detail::chan_try_send(c_, &v); }
  bool try_send(const T& v) const requires std::is_copy_constructible_v<T> {
    if (!c_) return false;
    T copy(v);
    return detail::chan_try_send(c_, &copy);
  }

  /// `v, ok := <-ch`: blocks until a value arrives; std::nullopt when closed and drained.
  std::optional<T> recv() const {
    std::optional<T> out;
    if (!c_) detail::block_forever();
    detail::chan_recv(c_, &out);
    return out;
  }
  /// Non-blocking receive; see recv_result for telling "empty" from "closed".
  recv_result<T> try_recv() const {
    std::optional<T> out;
    if (!c_) return {std::move(out), detail::recv_status::empty};
    detail::recv_status s = detail::chan_try_recv(c_, &out);
    return {std::move(out), s};
  }

  /// `close(ch)`: receivers drain the buffer, then get nullopt; senders throw. Throws
  /// channel_closed if already closed, std::logic_error on the nil channel.
  void close() const {
    if (!c_) throw std::logic_error("goro: close of nil channel");
    detail::chan_close(c_);
  }

  /// `len(ch)`: buffered values. `cap(ch)`: buffer capacity. Both 0 for the nil channel.
  std::size_t len() const noexcept { return c_ ? detail::chan_len(c_) : 0; }
  std::size_t cap() const noexcept { return c_ ? c_->cap : 0; }

  /// True unless nil.
  explicit operator bool() const noexcept { return c_ != nullptr; }
  /// Identity: the same channel.
  friend bool operator==(const chan& a, const chan& b) noexcept { return a.c_ == b.c_; }

  /// `for v := range ch`.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() = default;
    explicit iterator(const chan* ch) : ch_(ch) { ++*this; }
    T& operator*() { return *cur_; }
    T* operator->() { return &*cur_; }
    iterator& operator++() {
      cur_ = ch_->recv();
      if (!cur_) ch_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.ch_ == b.ch_; }

   private:
    const chan* ch_ = nullptr;
    std::optional<T> cur_;
  };
  /// Receives the first value (range-for).
  iterator begin() const { return iterator(this); }
  /// The end of the range: closed and drained.
  iterator end() const noexcept { return iterator(); }

  template <class U>
  friend chan<U> make_chan(std::size_t);

 private:
  friend struct detail::chan_access;
  detail::chan_core* core() const noexcept { return c_; }  // nullptr when nil
  explicit chan(detail::chan_core* c) noexcept : c_(c) {}
  void send_ptr(T* v) const {
    if (!c_) detail::block_forever();
    detail::chan_send(c_, v);
  }
  detail::chan_core* c_ = nullptr;
};

/// `make(chan T, capacity)`; capacity 0 (the default) makes an unbuffered channel.
template <class T>
chan<T> make_chan(std::size_t capacity = 0) {
  return chan<T>(detail::chan_make(&detail::elem_ops_for<T>, alignof(T), capacity));
}

/// `chan<- T`: the send-only view of a channel.
template <class T>
class send_chan {
 public:
  /// The nil channel.
  send_chan() noexcept = default;
  /// The send side of `ch` (implicit, like Go's conversion).
  send_chan(chan<T> ch) noexcept : ch_(std::move(ch)) {}  // NOLINT: implicit, like Go
  /// chan::send.
  void send(T&& v) const { ch_.send(std::move(v)); }
  /// chan::send (copies v).
  void send(const T& v) const requires std::is_copy_constructible_v<T> { ch_.send(v); }
  /// chan::try_send.
  bool try_send(T&& v) const { return ch_.try_send(std::move(v)); }
  /// chan::try_send (copies v).
  bool try_send(const T& v) const requires std::is_copy_constructible_v<T> {
    return ch_.try_send(v);
  }
  /// chan::close.
  void close() const { ch_.close(); }
  /// chan::len.
  std::size_t len() const noexcept { return ch_.len(); }
  /// chan::cap.
  std::size_t cap() const noexcept { return ch_.cap(); }
  /// True unless nil.
  explicit operator bool() const noexcept { return static_cast<bool>(ch_); }
  /// Identity: the same channel.
  friend bool operator==(const send_chan& a, const send_chan& b) noexcept { return a.ch_ == b.ch_; }

 private:
  friend struct detail::chan_access;
  detail::chan_core* core() const noexcept { return detail::chan_access::core(ch_); }
  chan<T> ch_;
};

/// `<-chan T`: the receive-only view of a channel.
template <class T>
class recv_chan {
 public:
  /// The nil channel.
  recv_chan() noexcept = default;
  /// The receive side of `ch` (implicit, like Go's conversion).
  recv_chan(chan<T> ch) noexcept : ch_(std::move(ch)) {}  // NOLINT: implicit, like Go
  /// chan::recv.
  std::optional<T> recv() const { return ch_.recv(); }
  /// chan::try_recv.
  recv_result<T> try_recv() const { return ch_.try_recv(); }
  /// chan::len.
  std::size_t len() const noexcept { return ch_.len(); }
  /// chan::cap.
  std::size_t cap() const noexcept { return ch_.cap(); }
  /// True unless nil.
  explicit operator bool() const noexcept { return static_cast<bool>(ch_); }
  /// Identity: the same channel.
  friend bool operator==(const recv_chan& a, const recv_chan& b) noexcept { return a.ch_ == b.ch_; }
  /// Receives the first value (range-for).
  typename chan<T>::iterator begin() const { return ch_.begin(); }
  /// The end of the range: closed and drained.
  typename chan<T>::iterator end() const noexcept { return ch_.end(); }

 private:
  friend struct detail::chan_access;
  detail::chan_core* core() const noexcept { return detail::chan_access::core(ch_); }
  chan<T> ch_;
};

}  // namespace goro
