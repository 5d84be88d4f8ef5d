// goro: goroutines for C++. The umbrella header.
#pragma once

#include "goro/options.hpp"
#include "goro/runtime.hpp"
