// Sanitizer annotations for fiber switches. Debian's libboost_context is not instrumented, so
// every jump is announced here: ASan must learn the new stack's bounds, TSan the new fiber.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif

#if GORO_ASAN
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
}
#endif
#if GORO_TSAN
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
}
#endif

// TSan requires __tsan_switch_to_fiber to be called right before the jump from code that is not
// itself instrumented (an instrumented frame would pop its shadow entry on the wrong fiber).
#if defined(__clang__)
#define GORO_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define GORO_NO_TSAN __attribute__((no_sanitize_thread))
#endif
