/* check.h — the tests' tiny harness: counts checks, reports failures with
 * file:line, and makes the program exit non-zero if any check failed. */
#ifndef FOCAL_CHECK_H
#define FOCAL_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int check_count, check_failed;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECKF(cond, ...) do { check_count++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* |a − b| <= atol + rtol·|b| */
static inline int check_close(double a, double b, double rtol, double atol)
{
    if (isnan(a) || isnan(b)) return 0;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* xorshift64 over *state (nonzero): uniform in [0, 1), for test data only. */
static inline double check_urand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* The source tree's root, where the reference data lives, from the
 * environment variable FOCAL_SOURCE_DIR (CTest sets it); NULL, after saying
 * how to set it, when it is missing. */
static inline const char *check_source_dir(const char *name)
{
    const char *dir = getenv("FOCAL_SOURCE_DIR");
    if (dir && *dir)
        return dir;
    fprintf(stderr, "%s: FOCAL_SOURCE_DIR is not set; it must name the source tree "
            "(CTest sets it; by hand: FOCAL_SOURCE_DIR=/path/to/focal %s)\n", name, name);
    return NULL;
}

/* Opens tests/fixtures/<file> of the source tree for reading; NULL, after
 * saying why (and failing a check when the file cannot be opened), when
 * FOCAL_SOURCE_DIR is missing or the file cannot be read. */
static inline FILE *check_open_fixture(const char *name, const char *file)
{
    const char *src = check_source_dir(name);
    if (!src)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", src, file);
    FILE *f = fopen(path, "r");
    check_count++;
    if (!f) {
        check_failed++;
        fprintf(stderr, "%s: cannot open %s\n", name, path);
    }
    return f;
}

/* Prints the tally and returns the exit status for main. */
static inline int check_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failed);
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    return check_failed ? 1 : 0;
}

/* Skips a whole test program with a visible message (ctest status 77 is not
 * used: the program prints SKIPPED and exits 0 only when data is absent). */
#define CHECK_SKIP(name, why) do { printf("%s: SKIPPED: %s\n", name, why); return 0; } while (0)

#endif
