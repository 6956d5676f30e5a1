/*
 * bench_loss.c — throughput of the fused forward+backward loss kernels, set
 * against the machine's copy bandwidth and against PyTorch, all in one run.
 *
 *     bench_loss [--threads N] [--reps R] [--seed S] [--no-peer]
 *
 * A program run by hand, never a test. For each workload it times
 * focal_sigmoid_loss / focal_softmax_loss (float32, gradient written, mean
 * reduction) and reports elements (N·C) per second and GB/s of the minimum
 * traffic a fused kernel must move:
 *     sigmoid family: 4 B logit + 4 B target read + 4 B gradient written = 12 B/element
 *     softmax family: 4 B logit read + 4 B gradient written = 8 B/element, + 4 B/row target
 * The ceiling is the copy bandwidth measured in the same run (bytes read +
 * written by an OpenMP-parallel memcpy of a large buffer; measured before our
 * kernels, after them and after the peer, best median kept), and the peer is
 * tools/bench_loss_torch.py, started with the same thread count after our
 * kernels have finished, so the two never compete for cores. Every figure is
 * the median of R repetitions after warm-up.
 *
 * Targets (docs/performance.md): >= 60% of copy bandwidth and >= 10x the torch
 * throughput. They are reported per row for information; the exit status is 0
 * whether or not they are met, 1 if a loss call fails or returns a value that
 * is not finite and positive, 2 for a bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "focal.h"

#ifndef FOCAL_SOURCE_DIR
#define FOCAL_SOURCE_DIR "." /* the build defines it as the repository root */
#endif

#define BENCH_PYTHON "/usr/bin/python3"
#define BENCH_PEER_SCRIPT "/tools/bench_loss_torch.py"
#define BENCH_PEER_INSTALL "apt-get install python3-torch python3-torchvision"
#define BENCH_WARMUP 2
#define BENCH_COPY_BYTES ((size_t)512 << 20) /* per buffer; far beyond any cache */
#define BENCH_COPY_CHUNK ((size_t)8 << 20)
#define BENCH_TARGET_BW_PCT 60.0
#define BENCH_TARGET_RATIO 10.0
#define BENCH_SIGMOID_POS_RATE 0.05

/* One row of the table: its definition, then what the run measured. */
struct bench_workload {
    const char *name;          /* focal_loss_kind_name(kind); the peer uses the same name */
    enum focal_loss_kind kind;
    size_t n, c;               /* logits are n×c */
    int measured;              /* 1 once ours_s and ours_loss hold results */
    double ours_s;             /* median seconds per fused forward+backward call */
    double ours_min_s, ours_max_s;
    double ours_loss;
    int peer_measured;         /* 1 if the peer reported this workload */
    double peer_s;             /* the peer's median seconds per forward+backward */
    double peer_min_s, peer_max_s; /* NAN if the peer did not report them */
    double peer_loss;          /* the peer's loss, on its own random data */
};

/* Explicit RNG state (splitmix64); seeded from the command line. */
struct bench_rng {
    uint64_t s;
};

static uint64_t bench_rng_next(struct bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so its logarithm is finite. */
static double bench_rng_uniform(struct bench_rng *r)
{
    return ((double)(bench_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box–Muller; one of the pair is used, for simplicity). */
static double bench_rng_normal(struct bench_rng *r)
{
    double u = bench_rng_uniform(r), v = bench_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Seconds on the monotonic clock. */
static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of t[0..n), n >= 1. Sorts t in place. */
static double bench_median(double *t, size_t n)
{
    qsort(t, n, sizeof *t, bench_cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* count×size bytes aligned to 64, or NULL on overflow or allocation failure.
 * The caller frees with free(). */
static void *bench_alloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    if (bytes > SIZE_MAX - 63)
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes ? bytes : 64);
}

/* Fills x[0..count) with N(0,1) values and, if y != NULL, y[0..count) with hard
 * targets, 1 with probability BENCH_SIGMOID_POS_RATE and 0 otherwise. Blocks of
 * elements draw from their own stream, so the data depend on the seed only, not
 * on the thread count. */
static void bench_fill_sigmoid(float *x, float *y, size_t count, uint64_t seed)
{
    const size_t block = 4096;
    const long nblocks = (long)((count + block - 1) / block);
#pragma omp parallel for schedule(static)
    for (long b = 0; b < nblocks; b++) {
        struct bench_rng r = { seed ^ ((uint64_t)b * 0xd1342543de82ef95u) };
        bench_rng_next(&r);
        size_t lo = (size_t)b * block, hi = lo + block < count ? lo + block : count;
        for (size_t i = lo; i < hi; i++) {
            x[i] = (float)bench_rng_normal(&r);
            if (y)
                y[i] = bench_rng_uniform(&r) < BENCH_SIGMOID_POS_RATE ? 1.0f : 0.0f;
        }
    }
}

/* Fills t[0..n) with classes drawn uniformly from [0, c). */
static void bench_fill_classes(int32_t *t, size_t n, size_t c, uint64_t seed)
{
    struct bench_rng r = { seed ^ 0x5851f42d4c957f2du };
    for (size_t i = 0; i < n; i++)
        t[i] = (int32_t)(bench_rng_next(&r) % c);
}

/* The loss parameters of workload w: mean reduction; sigmoid focal α = 0.25,
 * γ = 2 (torchvision's defaults); softmax focal γ = 2, no α; bce and ce plain. */
static void bench_loss_params(const struct bench_workload *w, struct focal_loss *l)
{
    focal_loss_init(l, w->kind);
    l->reduction = FOCAL_REDUCTION_MEAN;
    if (w->kind == FOCAL_LOSS_SIGMOID_FOCAL) {
        l->alpha = 0.25;
        l->gamma = 2.0;
    } else if (w->kind == FOCAL_LOSS_SOFTMAX_FOCAL) {
        l->gamma = 2.0;
    }
}

/* Bytes a fused kernel must move for one call on w (see the file comment). */
static double bench_min_bytes(const struct bench_workload *w)
{
    double elems = (double)w->n * (double)w->c;
    if (focal_loss_is_softmax(w->kind))
        return 8.0 * elems + 4.0 * (double)w->n;
    return 12.0 * elems;
}

/* Times our fused kernel on w: BENCH_WARMUP untimed calls, then reps timed ones;
 * fills w->ours_s (median), w->ours_min_s, w->ours_max_s and w->ours_loss.
 * times: scratch for reps doubles. Returns 0, or -1 after printing to stderr why
 * (allocation failure, a failed call, a loss that is not finite and positive, a
 * gradient with a non-finite element or none that is non-zero). */
static int bench_run_ours(struct bench_workload *w, int reps, uint64_t seed, double *times)
{
    const size_t count = w->n * w->c;
    const int softmax = focal_loss_is_softmax(w->kind);
    struct focal_loss l;
    int rc = -1;
    float *x = bench_alloc(count, sizeof *x);
    float *g = bench_alloc(count, sizeof *g);
    float *y = softmax ? NULL : bench_alloc(count, sizeof *y);
    int32_t *t = softmax ? bench_alloc(w->n, sizeof *t) : NULL;
    if (!x || !g || (softmax ? !t : !y)) {
        fprintf(stderr, "bench_loss: %s %zux%zu: out of memory\n", w->name, w->n, w->c);
        goto out_free;
    }
    bench_fill_sigmoid(x, y, count, seed);
    if (softmax)
        bench_fill_classes(t, w->n, w->c, seed);
    bench_loss_params(w, &l);

    double loss = 0.0;
    for (int i = 0; i < BENCH_WARMUP + reps; i++) {
        double t0 = bench_now();
        focal_status st = softmax ? focal_softmax_loss(&l, w->n, w->c, x, t, g, NULL, &loss)
                                  : focal_sigmoid_loss(&l, w->n, w->c, x, y, g, NULL, &loss);
        double t1 = bench_now();
        if (st != FOCAL_OK) {
            fprintf(stderr, "bench_loss: %s %zux%zu: %s: %s\n", w->name, w->n, w->c,
                    focal_status_string(st), focal_last_error());
            goto out_free;
        }
        if (i >= BENCH_WARMUP)
            times[i - BENCH_WARMUP] = t1 - t0;
    }
    if (!isfinite(loss) || loss <= 0.0) {
        fprintf(stderr, "bench_loss: %s %zux%zu: loss %g is not finite and positive\n",
                w->name, w->n, w->c, loss);
        goto out_free;
    }
    size_t nonzero = 0;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(g[i])) {
            fprintf(stderr, "bench_loss: %s %zux%zu: gradient[%zu] = %g is not finite\n",
                    w->name, w->n, w->c, i, (double)g[i]);
            goto out_free;
        }
        nonzero += g[i] != 0.0f;
    }
    if (nonzero == 0) {
        fprintf(stderr, "bench_loss: %s %zux%zu: the gradient is all zero\n",
                w->name, w->n, w->c);
        goto out_free;
    }
    w->ours_s = bench_median(times, (size_t)reps);
    w->ours_min_s = times[0];
    w->ours_max_s = times[reps - 1];
    w->ours_loss = loss;
    w->measured = 1;
    rc = 0;
out_free:
    free(t);
    free(y);
    free(g);
    free(x);
    return rc;
}

/* The machine's copy bandwidth in GB/s (bytes read + written, median of reps
 * copies after one warm-up) of two `bytes`-byte buffers, each thread memcpy'ing
 * its contiguous share in BENCH_COPY_CHUNK pieces. times: scratch for reps
 * doubles. Returns 0 if the buffers cannot be allocated or the copy is wrong. */
static double bench_copy_bandwidth(size_t bytes, int reps, double *times)
{
    const long nchunks = (long)((bytes + BENCH_COPY_CHUNK - 1) / BENCH_COPY_CHUNK);
    char *src = bench_alloc(bytes, 1), *dst = bench_alloc(bytes, 1);
    double gbs = 0.0;
    if (!src || !dst)
        goto out_free;
    /* First touch by the threads that will copy, so pages are mapped before timing. */
#pragma omp parallel for schedule(static)
    for (long k = 0; k < nchunks; k++) {
        size_t off = (size_t)k * BENCH_COPY_CHUNK;
        size_t len = bytes - off < BENCH_COPY_CHUNK ? bytes - off : BENCH_COPY_CHUNK;
        memset(src + off, (int)(k & 0x7f) + 1, len);
        memset(dst + off, 0, len);
    }
    for (int i = 0; i < 1 + reps; i++) {
        double t0 = bench_now();
#pragma omp parallel for schedule(static)
        for (long k = 0; k < nchunks; k++) {
            size_t off = (size_t)k * BENCH_COPY_CHUNK;
            size_t len = bytes - off < BENCH_COPY_CHUNK ? bytes - off : BENCH_COPY_CHUNK;
            memcpy(dst + off, src + off, len);
        }
        double t1 = bench_now();
        if (i >= 1)
            times[i - 1] = t1 - t0;
    }
    if (memcmp(dst, src, bytes < 4096 ? bytes : 4096) != 0) {
        fprintf(stderr, "bench_loss: the copy produced wrong bytes\n");
        goto out_free;
    }
    gbs = 2.0 * (double)bytes / bench_median(times, (size_t)reps) / 1e9;
out_free:
    free(dst);
    free(src);
    return gbs;
}

/* Appends s to buf (of size cap, holding len bytes plus a NUL) as one POSIX
 * shell word in single quotes. Returns the new length, or cap if it did not fit. */
static size_t bench_shell_quote(char *buf, size_t len, size_t cap, const char *s)
{
    if (len >= cap)
        return cap;
    const char *p = s;
    size_t need = 3; /* the two quotes and the separating space */
    for (; *p; p++)
        need += *p == '\'' ? 4 : 1;
    if (need >= cap - len)
        return cap;
    buf[len++] = '\'';
    for (p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(buf + len, "'\\''", 4);
            len += 4;
        } else {
            buf[len++] = *p;
        }
    }
    buf[len++] = '\'';
    buf[len++] = ' ';
    buf[len] = '\0';
    return len;
}

/* Copies src into dst (size cap) without its trailing newline. */
static void bench_copy_line(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
    dst[strcspn(dst, "\r\n")] = '\0';
}

/* Runs the PyTorch peer with `threads` threads and `reps` repetitions and fills
 * peer_* of the workloads it reports (matched by name, n and c). info receives
 * the peer's description line (versions, threads) if it printed one. Returns
 * the number of workloads filled; 0 with `why` saying why if the peer could
 * not be run or reported nothing (`why` also notes a peer that stopped early). */
static int bench_run_peer(struct bench_workload *ws, size_t nw, int threads, int reps,
                          char *info, size_t info_cap, char *why, size_t why_cap)
{
    char script[4096], cmd[8192], line[1024];
    int found = 0;
    info[0] = why[0] = '\0';
    if (snprintf(script, sizeof script, "%s%s", FOCAL_SOURCE_DIR, BENCH_PEER_SCRIPT)
        >= (int)sizeof script) {
        snprintf(why, why_cap, "the path of the peer script is too long");
        return 0;
    }
    if (access(BENCH_PYTHON, X_OK) != 0) {
        snprintf(why, why_cap, "%s: %s", BENCH_PYTHON, strerror(errno));
        return 0;
    }
    if (access(script, R_OK) != 0) {
        snprintf(why, why_cap, "%s: %s", script, strerror(errno));
        return 0;
    }
    cmd[0] = '\0';
    size_t len = bench_shell_quote(cmd, 0, sizeof cmd, BENCH_PYTHON);
    len = bench_shell_quote(cmd, len, sizeof cmd, script);
    if (len >= sizeof cmd
        || snprintf(cmd + len, sizeof cmd - len, "--threads %d --reps %d", threads, reps)
               >= (int)(sizeof cmd - len)) {
        snprintf(why, why_cap, "the peer's command line is too long");
        return 0;
    }
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(why, why_cap, "cannot start %s: %s", BENCH_PYTHON, strerror(errno));
        return 0;
    }
    while (fgets(line, sizeof line, p)) {
        char name[64];
        size_t n, c;
        double med;
        if (strncmp(line, "info ", 5) == 0) {
            bench_copy_line(info, info_cap, line + 5);
        } else if (strncmp(line, "unavailable=", 12) == 0) {
            bench_copy_line(why, why_cap, line + 12);
        } else if (sscanf(line, "workload=%63s n=%zu c=%zu median_s=%lf", name, &n, &c, &med)
                   == 4) {
            const char *ls = strstr(line, " loss="), *mn = strstr(line, " min_s="),
                       *mx = strstr(line, " max_s=");
            for (size_t i = 0; i < nw; i++) {
                struct bench_workload *w = &ws[i];
                if (strcmp(w->name, name) != 0 || w->n != n || w->c != c || !(med > 0.0))
                    continue;
                w->peer_measured = 1;
                w->peer_s = med;
                w->peer_loss = ls ? strtod(ls + 6, NULL) : NAN;
                w->peer_min_s = mn ? strtod(mn + 7, NULL) : NAN;
                w->peer_max_s = mx ? strtod(mx + 7, NULL) : NAN;
                found++;
            }
        }
    }
    int status = pclose(p);
    if (found > 0 && status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        snprintf(why, why_cap, "the peer stopped early (status %d) after %d workloads",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, found);
    if (found == 0 && why[0] == '\0') {
        if (status == -1)
            snprintf(why, why_cap, "waiting for the peer failed: %s", strerror(errno));
        else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            snprintf(why, why_cap, "the peer exited with status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            snprintf(why, why_cap, "the peer was killed by signal %d", WTERMSIG(status));
        else
            snprintf(why, why_cap, "the peer reported no workload");
    }
    return found;
}

/* The CPU's model name from /proc/cpuinfo into buf, or "unknown". */
static void bench_cpu_model(char *buf, size_t cap)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(buf, cap, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v) {
            v++;
            while (*v == ' ' || *v == '\t')
                v++;
            bench_copy_line(buf, cap, v);
        }
        break;
    }
    fclose(f);
}

/* The size of cpu0's last-level cache as sysfs states it (e.g. "32768K") into
 * buf, or "unknown": a working set near that size runs partly from cache. */
static void bench_llc_size(char *buf, size_t cap)
{
    char path[96], line[64];
    snprintf(buf, cap, "unknown");
    for (int idx = 0; idx < 8; idx++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        if (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(buf, cap, "%s", line); /* the highest index is the last level */
        }
        fclose(f);
    }
}

/* The 1-minute load average from /proc/loadavg into buf, or "unknown": other
 * work on the machine during the run makes every figure less trustworthy. */
static void bench_loadavg(char *buf, size_t cap)
{
    char line[128];
    FILE *f = fopen("/proc/loadavg", "r");
    snprintf(buf, cap, "unknown");
    if (!f)
        return;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, " \n")] = '\0';
        snprintf(buf, cap, "%s", line);
    }
    fclose(f);
}

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: bench_loss [--threads N] [--reps R] [--seed S] [--no-peer]\n"
            "Times the fused forward+backward loss kernels (float32, mean reduction)\n"
            "against this machine's copy bandwidth and PyTorch, in one run.\n"
            "  --threads N  threads for our kernels, the copy and the peer (default: all cores)\n"
            "  --reps R     timed repetitions per figure, after %d warm-up (default 15)\n"
            "  --seed S     seed of the random inputs (default 1)\n"
            "  --no-peer    do not run the PyTorch peer (%s%s)\n"
            "  --help       this message\n",
            BENCH_WARMUP, "<source>", BENCH_PEER_SCRIPT);
}

/* Parses a decimal integer option value in [lo, hi] into *out; prints an error
 * naming the option and the valid range and returns -1 otherwise. */
static int bench_parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "bench_loss: %s: expected an integer in [%ld, %ld], got '%s'\n", opt,
                lo, hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

/* "yes"/"no" for a figure against its target, or "n/a" if there is no figure. */
static const char *bench_verdict(int have, double value, double target)
{
    return !have ? "n/a" : value >= target ? "yes" : "no";
}

int main(int argc, char **argv)
{
    long threads = omp_get_num_procs(), reps = 15, seed = 1;
    int peer = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bench_usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-peer") == 0) {
            peer = 0;
        } else if (strcmp(a, "--threads") == 0) {
            if (bench_parse_long(a, v, 1, 1024, &threads) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            if (bench_parse_long(a, v, 1, 100000, &reps) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (bench_parse_long(a, v, 0, 2147483647L, &seed) != 0)
                return 2;
            i++;
        } else {
            fprintf(stderr, "bench_loss: unknown option '%s'; valid: --threads N, --reps R, "
                            "--seed S, --no-peer, --help\n", a);
            return 2;
        }
    }
    omp_set_num_threads((int)threads);
    focal_set_threads((int)threads);

    struct bench_workload ws[] = {
        { .kind = FOCAL_LOSS_SIGMOID_FOCAL, .n = 65536, .c = 64 },
        { .kind = FOCAL_LOSS_SIGMOID_FOCAL, .n = 1048576, .c = 16 },
        { .kind = FOCAL_LOSS_SOFTMAX_FOCAL, .n = 65536, .c = 64 },
        { .kind = FOCAL_LOSS_SOFTMAX_FOCAL, .n = 1048576, .c = 16 },
        { .kind = FOCAL_LOSS_BCE, .n = 65536, .c = 64 },
        { .kind = FOCAL_LOSS_CE, .n = 65536, .c = 64 },
    };
    const size_t nw = sizeof ws / sizeof ws[0];
    for (size_t i = 0; i < nw; i++)
        ws[i].name = focal_loss_kind_name(ws[i].kind);

    double *times = bench_alloc((size_t)reps, sizeof *times);
    if (!times) {
        fprintf(stderr, "bench_loss: out of memory\n");
        return 1;
    }

    char date[64] = "unknown", cpu[256], load[128], llc[64];
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", &tm);
    bench_cpu_model(cpu, sizeof cpu);
    bench_loadavg(load, sizeof load);
    bench_llc_size(llc, sizeof llc);
    printf("bench_loss: fused forward+backward loss kernels, float32, reduction mean\n");
    printf("date     %s\n", date);
    printf("cpu      %s (%d logical cpus), last-level cache %s, load average %s at start\n",
           cpu, omp_get_num_procs(), llc, load);
    printf("library  focal %s, %d threads (focal_get_threads)\n", focal_version(),
           focal_get_threads());
    printf("threads  %ld for ours, the copy and the peer; %ld timed reps after %d warm-up, "
           "median\n", threads, reps, BENCH_WARMUP);
    printf("sizes    ");
    for (size_t i = 0; i < nw; i++)
        printf("%s%s %zux%zu", i ? ", " : "", ws[i].name, ws[i].n, ws[i].c);
    printf("; copy 2 x %zu MiB\n", BENCH_COPY_BYTES >> 20);
    printf("inputs   logits N(0,1); sigmoid targets hard 0/1 with %.0f%% positives; "
           "softmax classes uniform; seed %ld\n\n", 100.0 * BENCH_SIGMOID_POS_RATE, seed);
    fflush(stdout);

    /* The copy is measured before our kernels, after them and after the peer; the
     * ceiling is the best of those medians, so a burst of other load on the shared
     * machine lowers it less, and the spread between rounds shows that load. */
    static const char *const copy_when[3] = { "before ours", "after ours", "after peer" };
    double copy_round[3] = { 0.0, 0.0, 0.0 };
    const int ncopy = peer ? 3 : 2;
    fprintf(stderr, "bench_loss: measuring copy bandwidth...\n");
    copy_round[0] = bench_copy_bandwidth(BENCH_COPY_BYTES, (int)reps, times);

    int failed = 0;
    for (size_t i = 0; i < nw; i++) {
        fprintf(stderr, "bench_loss: ours %s %zux%zu...\n", ws[i].name, ws[i].n, ws[i].c);
        if (bench_run_ours(&ws[i], (int)reps, (uint64_t)seed + i, times) != 0)
            failed = 1;
    }
    fprintf(stderr, "bench_loss: measuring copy bandwidth...\n");
    copy_round[1] = bench_copy_bandwidth(BENCH_COPY_BYTES, (int)reps, times);

    char info[256] = "", why[8192] = "";
    int npeer = 0;
    if (peer) {
        fprintf(stderr, "bench_loss: running the PyTorch peer (%ld threads, %ld reps)...\n",
                threads, reps);
        npeer = bench_run_peer(ws, nw, (int)threads, (int)reps, info, sizeof info, why,
                               sizeof why);
        fprintf(stderr, "bench_loss: measuring copy bandwidth...\n");
        copy_round[2] = bench_copy_bandwidth(BENCH_COPY_BYTES, (int)reps, times);
    }
    double copy_gbs = 0.0;
    for (int i = 0; i < ncopy; i++)
        copy_gbs = copy_round[i] > copy_gbs ? copy_round[i] : copy_gbs;

    printf("%-14s %-11s %12s %10s %9s %13s %11s %8s %8s\n", "workload", "shape",
           "ours Melem/s", "ours GB/s", "% copyBW", "torch Melem/s", "ours/torch",
           ">=60%BW", ">=10x");
    for (size_t i = 0; i < nw; i++) {
        const struct bench_workload *w = &ws[i];
        char shape[32], col[5][32];
        double elems = (double)w->n * (double)w->c;
        snprintf(shape, sizeof shape, "%zux%zu", w->n, w->c);
        double gbs = w->measured ? bench_min_bytes(w) / w->ours_s / 1e9 : 0.0;
        double pct = copy_gbs > 0.0 ? 100.0 * gbs / copy_gbs : 0.0;
        double ratio = w->measured && w->peer_measured ? w->peer_s / w->ours_s : 0.0;
        int have_pct = w->measured && copy_gbs > 0.0, have_ratio = ratio > 0.0;
        snprintf(col[0], sizeof col[0], "failed");
        snprintf(col[1], sizeof col[1], "-");
        snprintf(col[2], sizeof col[2], "n/a");
        snprintf(col[3], sizeof col[3], "n/a");
        snprintf(col[4], sizeof col[4], "n/a");
        if (w->measured) {
            snprintf(col[0], sizeof col[0], "%.1f", elems / w->ours_s / 1e6);
            snprintf(col[1], sizeof col[1], "%.2f", gbs);
        }
        if (have_pct)
            snprintf(col[2], sizeof col[2], "%.1f%%", pct);
        if (w->peer_measured)
            snprintf(col[3], sizeof col[3], "%.1f", elems / w->peer_s / 1e6);
        if (have_ratio)
            snprintf(col[4], sizeof col[4], "%.1fx", ratio);
        printf("%-14s %-11s %12s %10s %9s %13s %11s %8s %8s\n", w->name, shape, col[0],
               col[1], col[2], col[3], col[4],
               bench_verdict(have_pct, pct, BENCH_TARGET_BW_PCT),
               bench_verdict(have_ratio, ratio, BENCH_TARGET_RATIO));
    }
    if (copy_gbs > 0.0) {
        printf("\ncopy bandwidth: %.2f GB/s (memcpy of %zu MiB, %ld threads, bytes read + "
               "written; best of the medians", copy_gbs, BENCH_COPY_BYTES >> 20, threads);
        for (int i = 0; i < ncopy; i++)
            printf("%s %s %.2f", i ? "," : "", copy_when[i], copy_round[i]);
        printf(")\n");
    } else {
        printf("\ncopy bandwidth: not measured\n");
    }
    printf("GB/s counts the minimum traffic: sigmoid 12 B/element, softmax 8 B/element + "
           "4 B/row.\n");
    printf("targets (informational): >= %.0f%% of copy bandwidth, >= %.0fx torch.\n",
           BENCH_TARGET_BW_PCT, BENCH_TARGET_RATIO);

    if (!peer) {
        printf("peer: not run (--no-peer)\n");
    } else if (npeer == 0) {
        printf("peer: unavailable: %s\n", why);
        if (!strstr(why, BENCH_PEER_INSTALL))
            printf("      it needs %s with torch and torchvision: %s\n", BENCH_PYTHON,
                   BENCH_PEER_INSTALL);
    } else {
        printf("peer: %s%s%s\n", info[0] ? info : "PyTorch", why[0] ? "; " : "", why);
    }
    bench_loadavg(load, sizeof load);
    printf("load average at end: %s\n", load);

    /* The spread shows how noisy the run was. Each side draws its own random data
     * from the same distributions, so the mean losses should agree to about a
     * percent; a larger gap means the two do not compute the same loss. */
    printf("\ndetail: working set (logits + targets + gradient); ms per call, median [min, max];"
           " loss\n");
    for (size_t i = 0; i < nw; i++) {
        const struct bench_workload *w = &ws[i];
        char shape[32];
        snprintf(shape, sizeof shape, "%zux%zu", w->n, w->c);
        if (!w->measured) {
            printf("  %-14s %-11s ours failed\n", w->name, shape);
            continue;
        }
        printf("  %-14s %-11s %4.0f MiB  ours %7.2f [%7.2f, %7.2f] loss %.6f", w->name, shape,
               bench_min_bytes(w) / 1048576.0, 1e3 * w->ours_s, 1e3 * w->ours_min_s, 1e3 * w->ours_max_s, w->ours_loss);
        if (w->peer_measured)
            printf(" | torch %7.2f [%7.2f, %7.2f] loss %.6f", 1e3 * w->peer_s,
                   1e3 * w->peer_min_s, 1e3 * w->peer_max_s, w->peer_loss);
        printf("\n");
    }
    free(times);
    return failed ? 1 : 0;
}
