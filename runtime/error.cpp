#include "goro/error.hpp"

#include <stdexcept>
#include <utility>

namespace goro {

struct error::impl {
  std::string message;
  error cause;
  std::exception_ptr exception;
};

namespace {
std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}
const std::string empty_message;
}  // namespace

error::error(std::string message)
    : impl_(std::make_shared<const impl>(impl{std::move(message), {}, nullptr})) {}

error::error(std::string_view context, const error& cause)
    : impl_(std::make_shared<const impl>(
          impl{std::string(context) + ": " + cause.message(), cause, nullptr})) {}

error::error(std::exception_ptr e)
    : impl_(e ? std::make_shared<const impl>(impl{describe(e), {}, std::move(e)}) : nullptr) {}

const std::string& error::message() const noexcept {
  return impl_ ? impl_->message : empty_message;
}
error error::unwrap() const noexcept { return impl_ ? impl_->cause : error(); }
std::exception_ptr error::exception() const noexcept { return impl_ ? impl_->exception : nullptr; }

void error::raise() const {
  if (impl_ && impl_->exception) std::rethrow_exception(impl_->exception);
  throw std::runtime_error(message());
}

bool is(const error& err, const error& target) noexcept {
  for (error e = err; e; e = e.unwrap())
    if (e == target) return true;
  return !err && !target;
}

}  // namespace goro
