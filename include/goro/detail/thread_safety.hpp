// Clang's thread-safety annotations (-Wthread-safety, an error in goro's clang builds): which
// lock guards which member, which functions take or release it. Empty for other compilers.
#pragma once

#if defined(__clang__)
#define GORO_TSA(x) __attribute__((x))
#else
#define GORO_TSA(x)
#endif

#define GORO_CAPABILITY(name) GORO_TSA(capability(name))
#define GORO_SCOPED_CAPABILITY GORO_TSA(scoped_lockable)
#define GORO_GUARDED_BY(m) GORO_TSA(guarded_by(m))
#define GORO_REQUIRES(...) GORO_TSA(requires_capability(__VA_ARGS__))
#define GORO_ACQUIRE(...) GORO_TSA(acquire_capability(__VA_ARGS__))
#define GORO_RELEASE(...) GORO_TSA(release_capability(__VA_ARGS__))
#define GORO_TRY_ACQUIRE(...) GORO_TSA(try_acquire_capability(__VA_ARGS__))
#define GORO_EXCLUDES(...) GORO_TSA(locks_excluded(__VA_ARGS__))
#define GORO_NO_THREAD_SAFETY_ANALYSIS GORO_TSA(no_thread_safety_analysis)
