// goro::channel_closed: thrown by a send on a closed channel and by closing it twice (Go panics).
#pragma once

#include <stdexcept>

namespace goro {

/// A send on a closed channel (also one that was waiting when the channel was closed), or a
/// close of a closed channel.
class channel_closed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace goro
