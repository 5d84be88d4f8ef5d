// goro: goroutines for C++. The umbrella header.
#pragma once

#include "goro/chan.hpp"
#include "goro/channel_closed.hpp"
#include "goro/condition_variable.hpp"
#include "goro/context.hpp"
#include "goro/errgroup.hpp"
#include "goro/error.hpp"
#include "goro/mutex.hpp"
#include "goro/once.hpp"
#include "goro/options.hpp"
#include "goro/runtime.hpp"
#include "goro/select.hpp"
#include "goro/semaphore.hpp"
#include "goro/shared_mutex.hpp"
#include "goro/ticker.hpp"
#include "goro/timer.hpp"
#include "goro/wait_group.hpp"
