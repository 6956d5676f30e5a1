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
 * Targets (informational): >= 60% of copy bandwidth and >= 10x the torch
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

#include "benchcommon.h"
#include "focal.h"

#define BENCH_PEER_SCRIPT "/tools/bench_loss_torch.py"
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

/* Runs the PyTorch peer with `threads` threads and `reps` repetitions and fills
 * peer_* of the workloads it reports (matched by name, n and c). info receives
 * the peer's description line (versions, threads) if it printed one. Returns
 * the number of workloads filled; 0 with `why` saying why if the peer could
 * not be run or reported nothing (`why` also notes a peer that stopped early). */
static int bench_run_peer(struct bench_workload *ws, size_t nw, int threads, int reps,
                          char *info, size_t info_cap, char *why, size_t why_cap)
{
    char cmd[8192], line[1024], num[64];
    int found = 0;
    info[0] = why[0] = '\0';
    size_t len = bench_peer_command(cmd, sizeof cmd, BENCH_PEER_SCRIPT, why, why_cap);
    if (len == 0)
        return 0;
    snprintf(num, sizeof num, "--threads %d --reps %d", threads, reps);
    len = bench_append(cmd, len, sizeof cmd, num);
    FILE *p = bench_peer_start(cmd, len, sizeof cmd, why, why_cap);
    if (!p)
        return 0;
    while (fgets(line, sizeof line, p)) {
        char name[64];
        size_t n, c;
        double med;
        if (!bench_peer_line(line, info, info_cap, why, why_cap)
            && sscanf(line, "workload=%63s n=%zu c=%zu median_s=%lf", name, &n, &c, &med) == 4) {
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
            if (bench_parse_long("bench_loss", a, v, 1, 1024, &threads) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            if (bench_parse_long("bench_loss", a, v, 1, 100000, &reps) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (bench_parse_long("bench_loss", a, v, 0, 2147483647L, &seed) != 0)
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

    char date[64], cpu[256], load[128], llc[64];
    bench_date(date, sizeof date);
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

    bench_print_peer(peer, npeer, info, why);
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
