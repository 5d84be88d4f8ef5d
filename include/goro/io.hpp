// goro::io: Go's `io` basics for goro::net connections (and any type with the same read/write):
// the result of a read or write, io.EOF, io.ReadFull and io.Copy.
#pragma once

#include <cstddef>
#include <span>

#include "goro/error.hpp"

namespace goro::io {

/// `io.EOF`: a read found the end of the stream (the peer closed its side).
inline const error eof("EOF");
/// `io.ErrUnexpectedEOF`: read_full met the end of the stream after a part of the buffer.
inline const error err_unexpected_eof("unexpected EOF");

/// What a read or write returns: `auto [n, err] = c.read(buf);` — `n` bytes were transferred
/// before `err` (nil on success) stopped it.
struct result {
  std::size_t n = 0;
  error err;
};

/// `io.ReadFull`: reads exactly `buf.size()` bytes from `r` (anything with
/// `read(std::span<std::byte>)` returning goro::io::result). Returns eof if nothing was read
/// before the end of the stream, err_unexpected_eof if only a part was, nil once `buf` is full.
template <class Reader>
result read_full(Reader& r, std::span<std::byte> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    auto [n, err] = r.read(buf.subspan(got));
    got += n;
    if (err) {
      if (got == buf.size()) break;
      if (err == eof) return {got, got == 0 ? eof : err_unexpected_eof};
      return {got, err};
    }
  }
  return {got, {}};
}
template <class Reader>
result read_full(Reader& r, std::span<char> buf) {
  return read_full(r, std::as_writable_bytes(buf));
}

namespace detail {
struct copy_buffer {
  copy_buffer();
  ~copy_buffer();
  copy_buffer(const copy_buffer&) = delete;
  copy_buffer& operator=(const copy_buffer&) = delete;
  std::span<std::byte> bytes() const noexcept { return {p, size}; }
  static constexpr std::size_t size = 32 * 1024;
  std::byte* p;
};
}  // namespace detail

/// `io.Copy`: copies from `src` to `dst` until the end of `src` (not an error) or the first
/// error. The 32 KiB buffer is on the heap, not the stack, so fibers with small stacks can call
/// it. Returns the number of bytes written.
template <class Writer, class Reader>
result copy(Writer& dst, Reader& src) {
  detail::copy_buffer buf;
  std::size_t total = 0;
  for (;;) {
    auto [n, rerr] = src.read(buf.bytes());
    if (n > 0) {
      auto [w, werr] = dst.write(std::span<const std::byte>(buf.bytes().first(n)));
      total += w;
      if (werr) return {total, werr};
    }
    if (rerr) return {total, rerr == eof ? error() : rerr};
  }
}

}  // namespace goro::io
