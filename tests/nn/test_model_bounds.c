/* test_model_bounds.c — network descriptions that ask for more than a machine
 * has are refused before anything large is allocated, with the figure and
 * the limit; shapes whose sizes do not fit the layer functions' int indices
 * are refused naming the limit; every refused number names its real range.
 * The memory cases run in child processes of their own, each measuring its
 * peak resident memory (getrusage) around the call and, outside the
 * sanitizer build, under an address-space limit so that a regression fails
 * instead of exhausting the machine. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "focal.h"

/* The most a refusal may add to the peak resident memory. */
#define ALLOWED_KB (24L << 10)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long peak_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int msg_has(const char *needle)
{
    return strstr(focal_last_error(), needle) != NULL;
}

/* Creates desc at c×h×w with 4 classes and batch `batch`: expects status
 * `want` with a message holding want1 and want2, and a peak memory that grew
 * by less than ALLOWED_KB. */
static void expect_refused(const char *name, const char *desc, int c, int h, int w, int batch, focal_status want,
                           const char *want1, const char *want2)
{
    struct focal_model *m = NULL;
    const long before = peak_kb();
    const focal_status st = focal_model_create(&m, desc, "net.txt", c, h, w, 4, FOCAL_HEAD_SIGMOID, batch);
    const long grew = peak_kb() - before;
    CHECKF(st == want && m == NULL && msg_has(want1) && msg_has(want2), "%s: status %d, message '%s'", name, (int)st,
           focal_last_error());
    CHECKF(grew < ALLOWED_KB, "%s: peak memory grew by %ld KiB", name, grew);
    printf("%s: refused, peak memory +%ld KiB: %s\n", name, grew, focal_last_error());
    focal_model_free(m);
}

/* The network: 3072 inputs × 16777216 outputs is 206 GB of weights. */
static void case_huge_dense(void)
{
    expect_refused("flatten / dense 16777216", "flatten\ndense 16777216\ndense classes", 3, 32, 32, 32, FOCAL_ERR_ARG,
                   "net.txt: the network needs", "GiB for batch 32");
    CHECK(msg_has("line 2 (dense)") && msg_has("physical memory"));
}

/* Under a limit set by the caller, a network of 1.6 GB (a few hundred MB of
 * it activations) is refused naming that limit; a small one still builds. */
static void case_set_limit(void)
{
    focal_set_memory_limit((size_t)64 << 20);
    int dflt = 1;
    CHECK(focal_memory_limit(&dflt) == (size_t)64 << 20 && dflt == 0);
    expect_refused("dense 16384 under 64 MiB", "flatten\ndense 16384\nrelu\ndense classes", 3, 64, 64, 256,
                   FOCAL_ERR_ARG, "for batch 256", "the limit is 64.0 MiB (the memory limit set)");
    struct focal_model *m = NULL;
    CHECKF(focal_model_create(&m, focal_model_preset("resnet-mini"), "resnet-mini", 3, 28, 28, 4, FOCAL_HEAD_SIGMOID,
                              8) == FOCAL_OK,
           "resnet-mini under 64 MiB: %s", focal_last_error());
    focal_model_free(m);
    focal_set_memory_limit(0);
    CHECK(focal_memory_limit(&dflt) > ((size_t)64 << 20) && dflt == 1);
}

/* dense-norm keeps its normalised weights and a weight-gradient scratch, two
 * more copies of its weight: 4096 × 1024 floats (16 MiB) take 32 MiB as
 * dense and 64 MiB as dense-norm; under a 48 MiB limit the first builds and
 * the second is refused, naming its line. */
static void case_dense_norm(void)
{
    focal_set_memory_limit((size_t)48 << 20);
    struct focal_model *m = NULL;
    CHECKF(focal_model_create(&m, "flatten\ndense 1024\ndense classes", "net.txt", 1, 64, 64, 4, FOCAL_HEAD_SIGMOID,
                              8) == FOCAL_OK, "dense 1024 under 48 MiB: %s", focal_last_error());
    focal_model_free(m);
    expect_refused("dense-norm 1024 under 48 MiB", "flatten\ndense-norm 1024\ndense classes", 1, 64, 64, 8,
                   FOCAL_ERR_ARG, "line 2 (dense-norm)", "the limit is 48.0 MiB");
    focal_set_memory_limit(0);
}

/* Activations alone: a modest network at a batch far too large for memory. */
static void case_huge_batch(void)
{
    expect_refused("conv 64 3 at batch 1000000", "conv 64 3\nrelu\ngap\ndense classes", 3, 64, 64, 1000000,
                   FOCAL_ERR_ARG, "for batch 1000000", "line 1 (conv)");
}

/* Many layers whose parameter counts would overflow a 64-bit sum. */
static void case_sum_overflow(void)
{
    const int n = 70000;
    size_t len = 0;
    char *desc = malloc(16 + (size_t)n * 16);
    len += (size_t)sprintf(desc + len, "flatten\n");
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(desc + len, "dense 16777216\n");
    sprintf(desc + len, "dense classes\n");
    struct focal_model *m = NULL;
    const focal_status st = focal_model_create(&m, desc, "net.txt", 1, 64, 64, 4, FOCAL_HEAD_SIGMOID, 1);
    CHECKF(st == FOCAL_ERR_ARG && m == NULL && msg_has("the limit is"), "sum overflow: status %d, message '%.200s'",
           (int)st, focal_last_error());
    free(desc);
    focal_model_free(m);
}

/* Shapes beyond int: refused with the limit, never computed in int (UBSan
 * reported the flatten size of `conv 65536 1 / flatten` before). */
static void test_shape_limits(void)
{
    struct {
        const char *desc, *want1, *want2;
        int c, h, w;
    } cases[] = {
        {"conv 65536 1\nflatten\ndense classes", "net.txt:1: conv:", "65536 x 224 x 224 = 3288334336 values per "
         "sample; the limit is 2147483647", 3, 224, 224},
        {"conv 65536 1\nconv 8 1024 pad=512\nflatten\ndense classes", "net.txt:2: conv:",
         "65536 channels has 68719476736 inputs per output; the limit is 2147483647", 3, 1, 1},
        {"conv 1024 1\nconv 1024 1024 pad=1024\nflatten\ndense classes", "net.txt:2: conv:",
         "of scratch per image; the limit is 2147483647", 3, 8, 8},
        {"conv 8 3 pad=1024\nmaxpool 2\nflatten\ndense classes", "net.txt:1: conv:",
         "padded side may be at most 2147483647", 1, 2147483000, 1},
        {"block 65536\ngap\ndense classes", "net.txt:1: block:", "the limit is 2147483647", 3, 224, 224},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct focal_model *m = NULL;
        const focal_status st = focal_model_create(&m, cases[i].desc, "net.txt", cases[i].c, cases[i].h, cases[i].w,
                                                   4, FOCAL_HEAD_SIGMOID, 2);
        CHECKF(st == FOCAL_ERR_FORMAT && m == NULL && msg_has(cases[i].want1) && msg_has(cases[i].want2),
               "shape case %zu: status %d, message '%s'", i, (int)st, focal_last_error());
        focal_model_free(m);
    }
    struct focal_model *m = NULL;
    CHECK(focal_model_create(&m, "flatten\ndense classes", NULL, 2, 32768, 32768, 2, FOCAL_HEAD_SIGMOID, 1) ==
              FOCAL_ERR_ARG &&
          msg_has("at most 2147483647 values"));
}

/* Every number a line refuses names the range it accepts. */
static void test_range_messages(void)
{
    struct {
        const char *desc, *want;
    } cases[] = {
        {"conv 100000000 3\nflatten\ndense classes", "'100000000' is not a valid number of output channels; "
         "expected an integer from 1 to 65536"},
        {"conv 8 2000\nflatten\ndense classes", "expected an integer from 1 to 1024"},
        {"conv 8 3 stride=0\nflatten\ndense classes", "stride '0' is not valid; expected an integer from 1 to 1024"},
        {"conv 8 3 pad=5000\nflatten\ndense classes", "pad '5000' is not valid; expected an integer from 0 to 1024"},
        {"maxpool 5000\nflatten\ndense classes", "expected an integer from 1 to 1024"},
        {"avgpool 2 stride=-1\nflatten\ndense classes", "expected an integer from 1 to 1024"},
        {"flatten\ndense 99999999\ndense classes", "expected an integer from 1 to 16777216 or `classes`"},
        {"block 70000\ngap\ndense classes", "expected an integer from 1 to 65536"},
        {"block 8 stride=17\ngap\ndense classes", "expected an integer from 1 to 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct focal_model *m = NULL;
        const focal_status st = focal_model_create(&m, cases[i].desc, "net.txt", 3, 16, 16, 4, FOCAL_HEAD_SIGMOID, 2);
        CHECKF(st == FOCAL_ERR_FORMAT && m == NULL && msg_has(cases[i].want), "range case %zu: status %d, message '%s'",
               i, (int)st, focal_last_error());
        focal_model_free(m);
    }
}

static void test_parse_memory_size(void)
{
    struct {
        const char *text;
        size_t want; /* 0: refused */
    } cases[] = {
        {"4G", (size_t)4 << 30}, {"512M", (size_t)512 << 20}, {"1073741824", (size_t)1 << 30},
        {"2GiB", (size_t)2 << 30}, {"64k", (size_t)64 << 10}, {"1t", (size_t)1 << 40}, {"100B", 100},
        {"", 0}, {"G", 0}, {"4X", 0}, {"-1G", 0}, {"0", 0}, {"4 G", 0}, {"99999999999999999999999", 0},
        {"20000000000T", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = 0;
        const focal_status st = focal_parse_memory_size(cases[i].text, &got);
        if (cases[i].want)
            CHECKF(st == FOCAL_OK && got == cases[i].want, "'%s': status %d, %zu", cases[i].text, (int)st, got);
        else
            CHECKF(st == FOCAL_ERR_ARG && msg_has(cases[i].text), "'%s': status %d, message '%s'", cases[i].text,
                   (int)st, focal_last_error());
    }
}

/* Runs one case in a child process, so that its peak memory is its own, and
 * (outside AddressSanitizer, which reserves terabytes of address space) with
 * at most 4 GiB of address space. */
static void in_child(void (*fn)(void), const char *name)
{
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        check_failed = 0;
        if (!UNDER_ASAN) {
            const struct rlimit rl = {(rlim_t)4 << 30, (rlim_t)4 << 30};
            setrlimit(RLIMIT_AS, &rl);
        }
        fn();
        fflush(stdout);
        _exit(check_failed != 0);
    }
    int status = 0;
    CHECKF(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "%s: the case failed (status %d)", name, status);
}

int main(void)
{
    in_child(case_huge_dense, "huge dense");
    in_child(case_set_limit, "set limit");
    in_child(case_huge_batch, "huge batch");
    in_child(case_dense_norm, "dense-norm");
    in_child(case_sum_overflow, "sum overflow");
    test_shape_limits();
    test_range_messages();
    test_parse_memory_size();
    return check_done("test_model_bounds");
}
