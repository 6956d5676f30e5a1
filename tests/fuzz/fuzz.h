/* fuzz.h — what every harness in tests/fuzz/ shares: the libFuzzer entry
 * point's prototype, one private scratch folder per process (removed at
 * exit) with helpers to write the input into it, and the checks of the
 * library's promises, which abort() when one is broken so that libFuzzer
 * (or the replay driver) records the input.
 *
 * Needs _XOPEN_SOURCE 700 (mkdtemp, nftw) defined before the first
 * #include. Every helper is `static inline` so that a harness that uses only
 * some of them compiles without unused-function warnings. */
#ifndef FOCAL_FUZZ_H
#define FOCAL_FUZZ_H

#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's scratch folder ("" until fuzz_dir() first runs). */
static char fuzz_dir_path[256];

static inline int fuzz_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void fuzz_rm_dir(void)
{
    if (fuzz_dir_path[0])
        nftw(fuzz_dir_path, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch folder "$TMPDIR/focal-fuzz-XXXXXX" (or under /tmp), made on the
 * first call and removed with everything in it when the process exits. The
 * first call also keeps the library to one thread: inputs run one at a time,
 * and a crash is then reproducible from its input alone; and it sets the
 * library's memory limit for networks to 512 MiB, below the harnesses'
 * allocation bound (-malloc_limit_mb=1024), so a network the library would
 * build anyway cannot pass for a crash. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/focal-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_rm_dir);
        focal_set_threads(1);
        focal_set_memory_limit((size_t)512 << 20);
    }
    return fuzz_dir_path;
}

/* "<scratch>/name" in one of four static buffers used in turn. */
static inline const char *fuzz_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    if ((size_t)snprintf(buf[k], sizeof buf[k], "%s/%s", fuzz_dir(), name) >= sizeof buf[k])
        abort();
    return buf[k];
}

/* Replaces the file at path with the n bytes at p (aborts if it cannot: the
 * harness, not the library, would be at fault). */
static inline void fuzz_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* A broken promise: say which and abort. */
#define FUZZ_ASSERT(cond)                                                                            \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "%s:%d: broken promise: %s (last error: \"%s\")\n", __FILE__, __LINE__,  \
                    #cond, focal_last_error());                                                      \
            abort();                                                                                 \
        }                                                                                            \
    } while (0)

/* The promise of every failing call: a status other than FOCAL_OK that is
 * one of the enum's values, and a message saying why. */
#define FUZZ_CHECK_FAILURE(st)                                                                       \
    do {                                                                                             \
        FUZZ_ASSERT((int)(st) > 0 && (int)(st) <= (int)FOCAL_ERR_NUMERIC);                          \
        FUZZ_ASSERT(focal_last_error()[0] != '\0');                                                  \
    } while (0)

#endif /* FOCAL_FUZZ_H */
