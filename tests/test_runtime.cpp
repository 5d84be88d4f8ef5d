#include <catch2/catch.hpp>
#include "goro/goro.hpp"
TEST_CASE("runtime: block_on returns", "[runtime]") {
  goro::runtime rt({.workers = 2});
  CHECK(rt.block_on([] { return 42; }) == 42);
}
