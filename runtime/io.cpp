#include "goro/io.hpp"

namespace goro::io::detail {

copy_buffer::copy_buffer() : p(new std::byte[size]) {}
copy_buffer::~copy_buffer() { delete[] p; }

}  // namespace goro::io::detail
