/*
 * check.h -- the engine's C unit tests share these: CHECK and CHECK_EQ count
 * and report (file:line, the expression, both values), and check_report
 * prints the closing "N passed, M failed" line and gives the exit status.
 */
#ifndef SF_TEST_CHECK_H
#define SF_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (cond) {                                                           \
      passed++;                                                           \
    } else {                                                              \
      failed++;                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                     \
  } while (0)

#define CHECK_EQ(a, b)                                                    \
  do {                                                                    \
    unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
    if (a_ == b_) {                                                       \
      passed++;                                                           \
    } else {                                                              \
      failed++;                                                           \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (0x%llx != 0x%llx)\n", \
              __FILE__, __LINE__, #a, #b, a_, b_);                        \
    }                                                                     \
  } while (0)

static int check_report(const char *name) {
  printf("%s: %d passed, %d failed\n", name, passed, failed);
  return failed ? 1 : 0;
}

/* a protocol's id, as the registry assigned it */
#define ID(name) sf_proto_find(name)

#endif
