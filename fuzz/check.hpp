// FUZZ_CHECK: an invariant of a fuzz target. Under libFuzzer a violation
// prints the condition and aborts, which libFuzzer reports as a crash and
// keeps the input. In the corpus replay test (test/fuzz_replay_test.cpp,
// built with NETTRACE_FUZZ_REPLAY) it throws fuzz_violation instead, so one
// bad input fails its test case and the others still run.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#define NETTRACE_FUZZ_STR2(x) #x
#define NETTRACE_FUZZ_STR(x) NETTRACE_FUZZ_STR2(x)

struct fuzz_violation : std::runtime_error {
    using std::runtime_error::runtime_error;
};

#ifdef NETTRACE_FUZZ_REPLAY
#define FUZZ_CHECK(cond)                                                                                            \
    do {                                                                                                            \
        if (!(cond)) throw fuzz_violation(__FILE__ ":" NETTRACE_FUZZ_STR(__LINE__) ": invariant violated: " #cond); \
    } while (0)
#else
#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                       \
        }                                                                                       \
    } while (0)
#endif
