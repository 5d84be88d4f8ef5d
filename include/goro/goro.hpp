// goro: goroutines for C++. The umbrella header.
#pragma once

#include "goro/chan.hpp"
#include "goro/channel_closed.hpp"
#include "goro/options.hpp"
#include "goro/runtime.hpp"
#include "goro/select.hpp"
#include "goro/wait_group.hpp"
