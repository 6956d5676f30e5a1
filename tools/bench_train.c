/*
 * bench_train.c — training throughput of whole optimiser steps, set against
 * the machine's sgemm rate and against PyTorch, all in one run.
 *
 *     bench_train [--threads N] [--rows A,B,...] [--no-peer] [--profile]
 *
 * A program run by hand, never a test. Each row trains a preset network on one
 * synthetic batch (inputs N(0,1), targets drawn from a seed; the same batch
 * every step) with focal_train_step — forward, loss, zeroed gradients,
 * backward, optimiser update — and reports images per second from the median
 * step time after a few untimed warm-up steps:
 *
 *   keras-cnn-96x144    keras-cnn, 3x96x144,  batch 32, 45 sigmoid outputs,
 *   keras-cnn-300x450   keras-cnn, 3x300x450, batch 16,   sigmoid focal a=0.25 g=2,
 *                                                         Adam lr 1e-3
 *   resnet-mini-28x28   resnet-mini, 3x28x28, batch 64, 5 softmax classes,
 *   resnet-mini-64x64   resnet-mini, 3x64x64, batch 64,   softmax focal g=2, SGD lr 0.01
 *                                                         momentum 0.9, weight decay
 *                                                         5e-4 on weights only
 *
 * The ceiling is the single-precision matrix multiply rate of the BLAS the
 * library links (focal_sgemm, square n = 2048 and 4096, the best median),
 * measured before our rows and again after the peer; a step's FLOPs are taken
 * as 3 x focal_model_flops (forward, input gradient, weight gradient) for both
 * sides. The peer is tools/bench_train_torch.py, which builds the same network
 * from the same description text (tools/focal_torch.py) with the same batch,
 * loss and optimiser and times whole steps (zero_grad, forward, loss,
 * backward, step) the same way; it starts after our rows, with the same thread
 * count, so the two never compete for cores.
 *
 * Peak memory: every row of ours runs in a child process (this program
 * re-executed with the hidden option --row NAME) and reports its own
 * getrusage ru_maxrss, so peaks of different rows do not accumulate; the
 * parent itself does no heavy work, so the footprint a child inherits through
 * fork/exec is a few MiB, shown in the detail as "rss at start". The sgemm
 * runs in a child too (hidden option --sgemm). The peer measures each row in
 * its own Python process the same way.
 *
 * The machines are shared: for each row and side the detail shows the load
 * average when it started and the involuntary context switches per timed
 * step (getrusage ru_nivcsw, all threads). Many of them mean another program
 * took cores during the timing, which stalls every thread at the next
 * barrier; compare the min and max beside the median before trusting a ratio.
 *
 * Targets (informational): >= 1.0x torch on every row,
 * goal 1.5x. The exit status is 0 whether or not they are met, 1 if one of our
 * rows failed (the reason is printed), 2 for a bad command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchcommon.h"
#include "focal.h"
#include "base/blas.h" /* focal_sgemm, the library's one BLAS call site */


#define BENCH_PEER_SCRIPT "/tools/bench_train_torch.py"
#define BENCH_SEED 1
#define BENCH_SIGMOID_POS_RATE 0.1
#define BENCH_TARGET_RATIO 1.0
#define BENCH_GOAL_RATIO 1.5
#define BENCH_MAX_LAYERS 64
#define BENCH_MAX_STEPS 64
#define BENCH_SGEMM_ROUNDS 2

/* One layer of a profiled row: seconds per timed step. */
struct bench_layer {
    char kind[16];
    int line;
    double fwd_s, bwd_s;
};

/* One row of the table: its definition, then what the run measured. */
struct bench_row {
    const char *name;           /* the peer reports under the same name */
    const char *preset;         /* focal_model_preset name */
    int c, h, w, batch, classes;
    enum focal_head head;       /* SIGMOID: sigmoid focal + Adam; SOFTMAX: softmax focal + SGD */
    int warmup, steps;          /* untimed, then timed steps (both sides) */
    int selected;
    /* ours, from the child process */
    int measured;               /* 1 once the fields below hold results */
    double ours_s, ours_min_s, ours_max_s;
    double flops_fwd;           /* focal_model_flops(m, batch) */
    double loss_first, loss_last;
    long maxrss_kib, start_rss_kib;
    double csw;                 /* involuntary context switches per timed step; -1 unknown */
    double load1;               /* 1-minute load average when the row started */
    char why[512];              /* why the row failed, if it did */
    int nlayers;                /* profile, if --profile */
    struct bench_layer layers[BENCH_MAX_LAYERS];
    double prof_step_s;         /* mean step time over the profiled steps */
    /* the peer */
    int peer_measured;
    double peer_s, peer_min_s, peer_max_s;
    double peer_loss_first, peer_loss_last;
    long peer_maxrss_kib;
    long peer_start_rss_kib;    /* the peer's peak once torch is imported; -1 if not reported */
    double peer_csw, peer_load1;  /* as csw and load1; -1 if not reported */
    char peer_why[256];         /* why the peer did not report this row */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* The peak resident set of this process in KiB (getrusage ru_maxrss), or -1. */
static long bench_maxrss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (long)ru.ru_maxrss : -1;
}

/* Involuntary context switches of this process so far (all threads): each is
 * a moment some other program took a core from us. */
static long bench_nivcsw(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (long)ru.ru_nivcsw : 0;
}

/* The 1-minute load average, or -1. */
static double bench_load1(void)
{
    char buf[64], *end;
    bench_loadavg(buf, sizeof buf);
    const double v = strtod(buf, &end);
    return end == buf ? -1.0 : v;
}

/* The path of this program for re-executing it: /proc/self/exe if readable,
 * else argv0. */
static void bench_self_path(char *buf, size_t cap, const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n > 0 && (size_t)n < cap - 1) {
        buf[n] = '\0';
        return;
    }
    snprintf(buf, cap, "%s", argv0);
}

/* ------------------------------------------------------------------------ */
/* Child: one row of ours                                                    */
/* ------------------------------------------------------------------------ */

/* The loss and optimiser of a row: sigmoid head → sigmoid focal (α 0.25, γ 2,
 * mean) + Adam lr 1e-3; softmax head → softmax focal (γ 2, mean) + SGD lr 0.01,
 * momentum 0.9, weight decay 5e-4 on conv/dense weights only. */
static void bench_row_setup(const struct bench_row *r, struct focal_loss *l, struct focal_optim_config *oc)
{
    if (r->head == FOCAL_HEAD_SIGMOID) {
        focal_loss_init(l, FOCAL_LOSS_SIGMOID_FOCAL);
        l->alpha = 0.25;
        l->gamma = 2.0;
        focal_optim_defaults(oc, FOCAL_OPTIM_ADAM);
        oc->lr = 1e-3;
    } else {
        focal_loss_init(l, FOCAL_LOSS_SOFTMAX_FOCAL);
        l->gamma = 2.0;
        focal_optim_defaults(oc, FOCAL_OPTIM_SGD);
        oc->lr = 0.01;
        oc->momentum = 0.9;
        oc->weight_decay = 5e-4;
        oc->decay_all = 0;
    }
    l->reduction = FOCAL_REDUCTION_MEAN;
}

/* Runs row r in this process and prints machine-readable lines on stdout:
 *   row=<name> median_s= min_s= max_s= flops_fwd= loss_first= loss_last=
 *       maxrss_kib= start_rss_kib=
 *   layer=<i> kind=<k> line=<l> forward_s=<per step> backward_s=<per step>   (profile)
 *   profile_step_s=<mean timed step>                                        (profile)
 * or error=<message> on failure. Returns the process exit status: 0 or 1. */
static int bench_child_row(const struct bench_row *r, int profile)
{
    const long start_rss = bench_maxrss_kib();
    const char *desc = focal_model_preset(r->preset);
    struct focal_model *m = NULL;
    struct focal_optim *o = NULL;
    struct focal_loss l;
    struct focal_optim_config oc;
    double times[BENCH_MAX_STEPS];
    float *x = NULL, *ty = NULL;
    int32_t *tc = NULL;
    int rc = 1;
    focal_status st;

    if (!desc) {
        printf("error=unknown preset '%s'\n", r->preset);
        return 1;
    }
    bench_row_setup(r, &l, &oc);
    if ((st = focal_model_create(&m, desc, r->preset, r->c, r->h, r->w, r->classes, r->head, r->batch))
            != FOCAL_OK
        || (st = focal_model_init(m, BENCH_SEED, 0.0)) != FOCAL_OK
        || (st = focal_optim_create(&o, &oc, m)) != FOCAL_OK) {
        printf("error=building the network or optimiser: %s: %s\n", focal_status_string(st),
               focal_last_error());
        goto out;
    }
    const size_t in_len = (size_t)r->batch * r->c * r->h * r->w;
    x = bench_alloc(in_len, sizeof *x);
    if (r->head == FOCAL_HEAD_SIGMOID)
        ty = bench_alloc((size_t)r->batch * r->classes, sizeof *ty);
    else
        tc = bench_alloc((size_t)r->batch, sizeof *tc);
    if (!x || (!ty && !tc)) {
        printf("error=out of memory for the batch\n");
        goto out;
    }
    struct bench_rng g = { BENCH_SEED * 0x2545f4914f6cdd1du };
    for (size_t i = 0; i < in_len; i++)
        x[i] = (float)bench_rng_normal(&g);
    if (ty) {
        for (size_t i = 0; i < (size_t)r->batch * r->classes; i++)
            ty[i] = bench_rng_uniform(&g) < BENCH_SIGMOID_POS_RATE ? 1.0f : 0.0f;
    } else {
        for (int i = 0; i < r->batch; i++)
            tc[i] = (int32_t)(bench_rng_next(&g) % (uint64_t)r->classes);
    }
    const void *targets = ty ? (const void *)ty : (const void *)tc;

    double loss = NAN, loss_first = NAN, prof_total = 0.0;
    long csw0 = 0;
    for (int i = 0; i < r->warmup + r->steps; i++) {
        if (i == r->warmup) {
            if (profile)
                focal_model_profile(m, 1); /* also resets the per-layer sums */
            csw0 = bench_nivcsw();
        }
        double t0 = bench_now();
        st = focal_train_step(m, o, &l, x, targets, r->batch, &loss);
        double t1 = bench_now();
        if (st != FOCAL_OK) {
            printf("error=focal_train_step, step %d: %s: %s\n", i + 1, focal_status_string(st),
                   focal_last_error());
            goto out;
        }
        if (i == 0)
            loss_first = loss;
        if (i >= r->warmup) {
            times[i - r->warmup] = t1 - t0;
            prof_total += t1 - t0;
        }
    }
    if (!isfinite(loss) || !isfinite(loss_first)) {
        printf("error=the loss is not finite (first %g, last %g)\n", loss_first, loss);
        goto out;
    }
    if (profile) {
        const int nl = focal_model_num_layers(m);
        for (int i = 0; i < nl; i++) {
            const char *kind;
            int line;
            double f, b;
            focal_model_layer_time(m, i, &kind, &line, &f, &b);
            printf("layer=%d kind=%s line=%d forward_s=%.9g backward_s=%.9g\n", i, kind, line,
                   f / r->steps, b / r->steps);
        }
        printf("profile_step_s=%.9g\n", prof_total / r->steps);
    }
    const double csw = (double)(bench_nivcsw() - csw0) / r->steps;
    const double flops = focal_model_flops(m, r->batch);
    const double med = bench_median(times, (size_t)r->steps);
    printf("row=%s median_s=%.9g min_s=%.9g max_s=%.9g flops_fwd=%.9g loss_first=%.9g loss_last=%.9g "
           "maxrss_kib=%ld start_rss_kib=%ld nivcsw_per_step=%.3g\n",
           r->name, med, times[0], times[r->steps - 1], flops, loss_first, loss, bench_maxrss_kib(),
           start_rss, csw);
    rc = 0;
out:
    fflush(stdout);
    free(tc);
    free(ty);
    free(x);
    focal_optim_free(o);
    focal_model_free(m);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Child: the sgemm rate                                                     */
/* ------------------------------------------------------------------------ */

static const int bench_sgemm_sizes[] = { 2048, 4096 };
#define BENCH_NSGEMM ((int)(sizeof bench_sgemm_sizes / sizeof bench_sgemm_sizes[0]))

/* Times C = A·B through focal_sgemm for each size: one warm-up, then 5 timed
 * (n = 2048) or 3 timed (n = 4096) calls; prints
 *   sgemm n=<n> median_s=<s> gflops=<2n³/median/1e9>
 * per size. Returns the process exit status. */
static int bench_child_sgemm(void)
{
    for (int s = 0; s < BENCH_NSGEMM; s++) {
        const int n = bench_sgemm_sizes[s];
        const int reps = n <= 2048 ? 5 : 3;
        const size_t nn = (size_t)n * n;
        float *a = bench_alloc(nn, sizeof *a), *b = bench_alloc(nn, sizeof *b),
              *c = bench_alloc(nn, sizeof *c);
        double times[8];
        if (!a || !b || !c) {
            printf("error=out of memory for sgemm n=%d\n", n);
            free(a);
            free(b);
            free(c);
            return 1;
        }
        struct bench_rng g = { 0x9e3779b9u + (uint64_t)n };
        for (size_t i = 0; i < nn; i++) {
            a[i] = (float)(bench_rng_uniform(&g) - 0.5);
            b[i] = (float)(bench_rng_uniform(&g) - 0.5);
            c[i] = 0.0f;
        }
        for (int i = 0; i < 1 + reps; i++) {
            double t0 = bench_now();
            focal_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            double t1 = bench_now();
            if (i >= 1)
                times[i - 1] = t1 - t0;
        }
        /* One element checked against a direct dot product, so a broken call
         * cannot pass for a fast one. */
        double ref = 0.0;
        for (int k = 0; k < n; k++)
            ref += (double)a[(size_t)7 * n + k] * b[(size_t)k * n + 11];
        const double got = c[(size_t)7 * n + 11];
        if (!(fabs(got - ref) <= 1e-3 * (1.0 + fabs(ref)))) {
            printf("error=sgemm n=%d computed %g where %g was expected\n", n, got, ref);
            free(a);
            free(b);
            free(c);
            return 1;
        }
        const double med = bench_median(times, (size_t)reps);
        printf("sgemm n=%d median_s=%.9g gflops=%.6g\n", n, med, 2.0 * (double)n * n * n / med / 1e9);
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parent: running the children and the peer                                 */
/* ------------------------------------------------------------------------ */

/* Runs `self --row NAME --threads N [--profile]` and fills r's results, or
 * r->why with the reason it failed (the child's error line, or how it ended,
 * with the last line it printed otherwise). */
static void bench_run_ours(struct bench_row *r, const char *self, int threads, int profile)
{
    char cmd[8192], line[2048], last[512] = "", num[64];
    int have_row = 0;
    size_t len = bench_shell_quote(cmd, 0, sizeof cmd, self);
    len = bench_append(cmd, len, sizeof cmd, "--row ");
    len = bench_shell_quote(cmd, len, sizeof cmd, r->name);
    snprintf(num, sizeof num, "--threads %d%s 2>&1", threads, profile ? " --profile" : "");
    len = bench_append(cmd, len, sizeof cmd, num);
    if (len >= sizeof cmd) {
        snprintf(r->why, sizeof r->why, "the command line is too long");
        return;
    }
    FILE *p = bench_popen(cmd, "the child", r->why, sizeof r->why);
    if (!p)
        return;
    r->nlayers = 0;
    while (fgets(line, sizeof line, p)) {
        char name[128], kind[16];
        int idx, ln;
        double f, b;
        if (strncmp(line, "error=", 6) == 0) {
            bench_copy_line(r->why, sizeof r->why, line + 6);
        } else if (sscanf(line, "layer=%d kind=%15s line=%d forward_s=%lf backward_s=%lf", &idx, kind, &ln,
                          &f, &b) == 5) {
            if (r->nlayers < BENCH_MAX_LAYERS) {
                struct bench_layer *L = &r->layers[r->nlayers++];
                snprintf(L->kind, sizeof L->kind, "%s", kind);
                L->line = ln;
                L->fwd_s = f;
                L->bwd_s = b;
            }
        } else if (strncmp(line, "profile_step_s=", 15) == 0) {
            r->prof_step_s = strtod(line + 15, NULL);
        } else if (sscanf(line, "row=%127s median_s=%lf min_s=%lf max_s=%lf flops_fwd=%lf loss_first=%lf "
                                "loss_last=%lf maxrss_kib=%ld start_rss_kib=%ld",
                          name, &r->ours_s, &r->ours_min_s, &r->ours_max_s, &r->flops_fwd, &r->loss_first,
                          &r->loss_last, &r->maxrss_kib, &r->start_rss_kib)
                       == 9
                   && strcmp(name, r->name) == 0) {
            const char *cs = strstr(line, " nivcsw_per_step=");
            r->csw = cs ? strtod(cs + 17, NULL) : -1.0;
            have_row = r->ours_s > 0.0;
        } else {
            /* Anything else (a library assertion, a sanitizer report) goes to
             * our stderr as it is, and the last such line is kept as a clue. */
            fprintf(stderr, "  [%s] %s", r->name, line);
            bench_copy_line(last, sizeof last, line);
        }
    }
    int status = pclose(p);
    if (have_row && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        r->measured = 1;
        return;
    }
    if (r->why[0] == '\0') {
        char how[160];
        bench_describe_status(status, how, sizeof how);
        snprintf(r->why, sizeof r->why, "the row's process %s%s%s", how, last[0] ? "; last output: " : "",
                 last);
    }
}

/* Runs `self --sgemm --threads N`; fills gflops[BENCH_NSGEMM] (0 for a size not
 * reported). Returns 0, or -1 with why filled. */
static int bench_run_sgemm(const char *self, int threads, double *gflops, char *why, size_t why_cap)
{
    char cmd[4096], line[512], num[64];
    for (int s = 0; s < BENCH_NSGEMM; s++)
        gflops[s] = 0.0;
    size_t len = bench_shell_quote(cmd, 0, sizeof cmd, self);
    snprintf(num, sizeof num, "--sgemm --threads %d 2>&1", threads);
    len = bench_append(cmd, len, sizeof cmd, num);
    if (len >= sizeof cmd) {
        snprintf(why, why_cap, "the command line is too long");
        return -1;
    }
    FILE *p = bench_popen(cmd, "the child", why, why_cap);
    if (!p)
        return -1;
    int found = 0;
    while (fgets(line, sizeof line, p)) {
        int n;
        double med, gf;
        if (strncmp(line, "error=", 6) == 0) {
            bench_copy_line(why, why_cap, line + 6);
        } else if (sscanf(line, "sgemm n=%d median_s=%lf gflops=%lf", &n, &med, &gf) == 3) {
            for (int s = 0; s < BENCH_NSGEMM; s++)
                if (bench_sgemm_sizes[s] == n && gf > 0.0) {
                    gflops[s] = gf;
                    found++;
                }
        } else {
            fprintf(stderr, "  [sgemm] %s", line);
        }
    }
    int status = pclose(p);
    if (found == BENCH_NSGEMM && status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (why[0] == '\0') {
        char how[160];
        bench_describe_status(status, how, sizeof how);
        snprintf(why, why_cap, "the sgemm process %s", how);
    }
    return -1;
}

/* Runs the PyTorch peer for the selected rows with `threads` threads, passing
 * each preset's description text, and fills peer_* of the rows it reports
 * (matched by name, input shape and batch). info receives the peer's
 * description line. Returns the number of rows filled; why says why none (or
 * not all) were. */
static int bench_run_peer(struct bench_row *rows, size_t nr, int threads, char *info, size_t info_cap,
                          char *why, size_t why_cap)
{
    char line[2048], num[64];
    static char cmd[65536];
    int found = 0;
    info[0] = why[0] = '\0';
    size_t len = bench_peer_command(cmd, sizeof cmd, BENCH_PEER_SCRIPT, why, why_cap);
    if (len == 0)
        return 0;
    snprintf(num, sizeof num, "--threads %d --rows ", threads);
    len = bench_append(cmd, len, sizeof cmd, num);
    char list[1024] = "";
    for (size_t i = 0; i < nr; i++)
        if (rows[i].selected) {
            size_t ll = strlen(list);
            snprintf(list + ll, sizeof list - ll, "%s%s", ll ? "," : "", rows[i].name);
        }
    len = bench_shell_quote(cmd, len, sizeof cmd, list);
    /* Each preset's text once, as --desc NAME=TEXT. */
    for (size_t i = 0; i < nr; i++) {
        if (!rows[i].selected)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= rows[j].selected && strcmp(rows[j].preset, rows[i].preset) == 0;
        if (seen)
            continue;
        const char *desc = focal_model_preset(rows[i].preset);
        char *arg = desc ? malloc(strlen(rows[i].preset) + strlen(desc) + 2) : NULL;
        if (!arg) {
            snprintf(why, why_cap, "no description for preset '%s'", rows[i].preset);
            return 0;
        }
        sprintf(arg, "%s=%s", rows[i].preset, desc);
        len = bench_append(cmd, len, sizeof cmd, "--desc ");
        len = bench_shell_quote(cmd, len, sizeof cmd, arg);
        free(arg);
    }
    FILE *p = bench_peer_start(cmd, len, sizeof cmd, why, why_cap);
    if (!p)
        return 0;
    while (fgets(line, sizeof line, p)) {
        char name[128];
        int c, h, w, batch;
        double med, mn, mx, lf, ll;
        long rss;
        if (bench_peer_line(line, info, info_cap, why, why_cap))
            continue;
        if (sscanf(line, "row_failed=%127s", name) == 1) {
            const char *e = strstr(line, " error=");
            for (size_t i = 0; i < nr; i++)
                if (strcmp(rows[i].name, name) == 0)
                    bench_copy_line(rows[i].peer_why, sizeof rows[i].peer_why, e ? e + 7 : "failed");
        } else if (sscanf(line, "row=%127s c=%d h=%d w=%d batch=%d median_s=%lf min_s=%lf max_s=%lf "
                                "loss_first=%lf loss_last=%lf maxrss_kib=%ld",
                          name, &c, &h, &w, &batch, &med, &mn, &mx, &lf, &ll, &rss)
                   == 11) {
            for (size_t i = 0; i < nr; i++) {
                struct bench_row *r = &rows[i];
                if (strcmp(r->name, name) != 0 || !r->selected)
                    continue;
                if (r->c != c || r->h != h || r->w != w || r->batch != batch || !(med > 0.0)) {
                    snprintf(r->peer_why, sizeof r->peer_why,
                             "the peer ran %dx%dx%d batch %d (median %g s), not this row's shape", c, h, w,
                             batch, med);
                    continue;
                }
                r->peer_measured = 1;
                r->peer_s = med;
                r->peer_min_s = mn;
                r->peer_max_s = mx;
                r->peer_loss_first = lf;
                r->peer_loss_last = ll;
                r->peer_maxrss_kib = rss;
                const char *sr = strstr(line, " start_rss_kib=");
                r->peer_start_rss_kib = sr ? strtol(sr + 15, NULL, 10) : -1;
                const char *cs = strstr(line, " nivcsw_per_step="), *ld = strstr(line, " load1=");
                r->peer_csw = cs ? strtod(cs + 17, NULL) : -1.0;
                r->peer_load1 = ld ? strtod(ld + 7, NULL) : -1.0;
                found++;
            }
        }
    }
    int status = pclose(p);
    if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) && why[0] == '\0') {
        char how[160];
        bench_describe_status(status, how, sizeof how);
        snprintf(why, why_cap, "the peer %s after %d rows", how, found);
    }
    if (found == 0 && why[0] == '\0')
        snprintf(why, why_cap, "the peer reported no row");
    return found;
}

/* ------------------------------------------------------------------------ */
/* Preset description text                                                  */
/* ------------------------------------------------------------------------ */

/* Line `line` (1-based) of text, trimmed of a comment and surrounding blanks,
 * into buf; "" if there is no such line. */
static void bench_desc_line(const char *text, int line, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!text || line < 1)
        return;
    const char *p = text;
    for (int i = 1; i < line && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return;
    size_t n = strcspn(p, "#\n");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    snprintf(buf, cap, "%.*s", (int)n, p);
}

/* ------------------------------------------------------------------------ */
/* Command line and report                                                   */
/* ------------------------------------------------------------------------ */

static void bench_usage(FILE *out, const struct bench_row *rows, size_t nr)
{
    fprintf(out,
            "usage: bench_train [--threads N] [--rows A,B,...] [--no-peer] [--profile]\n"
            "Times whole training steps (forward, loss, backward, update) of preset networks\n"
            "on synthetic data, against this machine's sgemm rate and PyTorch, in one run.\n"
            "  --threads N   threads for ours, the sgemm and the peer (default: all cores)\n"
            "  --rows LIST   comma-separated rows to run (default: all):\n");
    for (size_t i = 0; i < nr; i++)
        fprintf(out, "                  %-19s %s %dx%dx%d, batch %d, %d %s outputs\n", rows[i].name,
                rows[i].preset, rows[i].c, rows[i].h, rows[i].w, rows[i].batch, rows[i].classes,
                rows[i].head == FOCAL_HEAD_SIGMOID ? "sigmoid" : "softmax");
    fprintf(out,
            "  --no-peer     do not run the PyTorch peer (<source>%s)\n"
            "  --profile     after the table, a per-layer breakdown of each of our rows\n"
            "  --help        this message\n",
            BENCH_PEER_SCRIPT);
}

/* Marks the rows named in the comma list s as selected. Returns -1 after an
 * error message for an unknown or empty name. */
static int bench_select_rows(struct bench_row *rows, size_t nr, const char *s)
{
    for (size_t i = 0; i < nr; i++)
        rows[i].selected = 0;
    const char *p = s;
    while (1) {
        size_t n = strcspn(p, ",");
        int ok = 0;
        for (size_t i = 0; i < nr && n > 0; i++)
            if (strlen(rows[i].name) == n && strncmp(rows[i].name, p, n) == 0)
                ok = rows[i].selected = 1;
        if (!ok) {
            fprintf(stderr, "bench_train: --rows: unknown row '%.*s'; valid:", (int)n, p);
            for (size_t i = 0; i < nr; i++)
                fprintf(stderr, "%s %s", i ? "," : "", rows[i].name);
            fprintf(stderr, "\n");
            return -1;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static void bench_print_profile(const struct bench_row *r)
{
    const char *desc = focal_model_preset(r->preset);
    printf("\nprofile %s (ours, %d timed steps, mean step %.1f ms; per layer ms per step)\n", r->name,
           r->steps, 1e3 * r->prof_step_s);
    if (!r->measured || r->nlayers == 0) {
        printf("  not available%s%s\n", r->why[0] ? ": " : "", r->why);
        return;
    }
    printf("  %3s %4s  %-26s %-10s %10s %10s %8s\n", "#", "line", "layer", "kind", "fwd ms", "bwd ms", "% step");
    double sum = 0.0;
    for (int i = 0; i < r->nlayers; i++) {
        const struct bench_layer *L = &r->layers[i];
        char text[64];
        bench_desc_line(desc, L->line, text, sizeof text);
        const double t = L->fwd_s + L->bwd_s;
        sum += t;
        printf("  %3d %4d  %-26s %-10s %10.2f %10.2f %7.1f%%\n", i, L->line, text, L->kind, 1e3 * L->fwd_s,
               1e3 * L->bwd_s, r->prof_step_s > 0 ? 100.0 * t / r->prof_step_s : 0.0);
    }
    const double rest = r->prof_step_s - sum;
    printf("  %3s %4s  %-26s %-10s %21.2f %7.1f%%\n", "", "", "rest: loss, zero_grad, update", "", 1e3 * rest,
           r->prof_step_s > 0 ? 100.0 * rest / r->prof_step_s : 0.0);
}

int main(int argc, char **argv)
{
    struct bench_row rows[] = {
        { .name = "keras-cnn-96x144", .preset = "keras-cnn", .c = 3, .h = 96, .w = 144, .batch = 32,
          .classes = 45, .head = FOCAL_HEAD_SIGMOID, .warmup = 3, .steps = 10 },
        { .name = "keras-cnn-300x450", .preset = "keras-cnn", .c = 3, .h = 300, .w = 450, .batch = 16,
          .classes = 45, .head = FOCAL_HEAD_SIGMOID, .warmup = 2, .steps = 5 },
        { .name = "resnet-mini-28x28", .preset = "resnet-mini", .c = 3, .h = 28, .w = 28, .batch = 64,
          .classes = 5, .head = FOCAL_HEAD_SOFTMAX, .warmup = 3, .steps = 10 },
        { .name = "resnet-mini-64x64", .preset = "resnet-mini", .c = 3, .h = 64, .w = 64, .batch = 64,
          .classes = 5, .head = FOCAL_HEAD_SOFTMAX, .warmup = 2, .steps = 6 },
    };
    const size_t nr = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < nr; i++)
        rows[i].selected = 1;

    int threads = omp_get_num_procs(), peer = 1, profile = 0, child_sgemm = 0;
    const char *child_row = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bench_usage(stdout, rows, nr);
            return 0;
        } else if (strcmp(a, "--no-peer") == 0) {
            peer = 0;
        } else if (strcmp(a, "--profile") == 0) {
            profile = 1;
        } else if (strcmp(a, "--threads") == 0) {
            long n;
            if (bench_parse_long("bench_train", a, v, 1, 1024, &n) != 0)
                return 2;
            threads = (int)n;
            i++;
        } else if (strcmp(a, "--rows") == 0) {
            if (!v) {
                fprintf(stderr, "bench_train: --rows needs a comma-separated list of rows\n");
                return 2;
            }
            if (bench_select_rows(rows, nr, v) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--row") == 0 && v) { /* hidden: run one row in this process */
            child_row = v;
            i++;
        } else if (strcmp(a, "--sgemm") == 0) {     /* hidden: measure the sgemm rate */
            child_sgemm = 1;
        } else {
            fprintf(stderr, "bench_train: unknown option '%s'; valid: --threads N, --rows LIST, --no-peer, "
                            "--profile, --help\n", a);
            return 2;
        }
    }
    omp_set_num_threads(threads);
    focal_set_threads(threads);

    if (child_sgemm)
        return bench_child_sgemm();
    if (child_row) {
        for (size_t i = 0; i < nr; i++)
            if (strcmp(rows[i].name, child_row) == 0)
                return bench_child_row(&rows[i], profile);
        printf("error=unknown row '%s'\n", child_row);
        return 1;
    }

    char self[4096], date[64], cpu[256], load_start[64], load_end[64];
    bench_self_path(self, sizeof self, argv[0]);
    bench_date(date, sizeof date);
    bench_cpu_model(cpu, sizeof cpu);
    bench_loadavg(load_start, sizeof load_start);

    /* sgemm before ours and after the peer; the ceiling is the best median. */
    double sg[BENCH_SGEMM_ROUNDS][BENCH_NSGEMM];
    char sg_why[BENCH_SGEMM_ROUNDS][256];
    memset(sg, 0, sizeof sg);
    memset(sg_why, 0, sizeof sg_why);
    fprintf(stderr, "bench_train: measuring sgemm...\n");
    bench_run_sgemm(self, threads, sg[0], sg_why[0], sizeof sg_why[0]);

    int failed = 0;
    for (size_t i = 0; i < nr; i++) {
        if (!rows[i].selected)
            continue;
        fprintf(stderr, "bench_train: ours %s (%d + %d steps)...\n", rows[i].name, rows[i].warmup,
                rows[i].steps);
        rows[i].load1 = bench_load1();
        bench_run_ours(&rows[i], self, threads, profile);
        if (!rows[i].measured) {
            failed = 1;
            fprintf(stderr, "bench_train: ours %s failed: %s\n", rows[i].name, rows[i].why);
        }
    }

    char info[256] = "", why[4096] = "";
    int npeer = 0;
    if (peer) {
        fprintf(stderr, "bench_train: running the PyTorch peer (%d threads)...\n", threads);
        npeer = bench_run_peer(rows, nr, threads, info, sizeof info, why, sizeof why);
    }
    fprintf(stderr, "bench_train: measuring sgemm...\n");
    bench_run_sgemm(self, threads, sg[1], sg_why[1], sizeof sg_why[1]);
    bench_loadavg(load_end, sizeof load_end);

    double ceiling = 0.0;
    for (int k = 0; k < BENCH_SGEMM_ROUNDS; k++)
        for (int s = 0; s < BENCH_NSGEMM; s++)
            ceiling = sg[k][s] > ceiling ? sg[k][s] : ceiling;

    printf("bench_train: whole training steps (forward, loss, backward, update), float32\n");
    printf("date     %s\n", date);
    printf("cpu      %s (%d logical cpus), load average %s at start, %s at end\n", cpu, omp_get_num_procs(),
           load_start, load_end);
    printf("threads  %d for ours (focal_set_threads; OpenBLAS follows OpenMP), the sgemm and the peer\n",
           threads);
    printf("library  focal %s\n", focal_version());
    if (ceiling > 0.0) {
        printf("sgemm    %.1f GFLOP/s (focal_sgemm, best median;", ceiling);
        for (int k = 0; k < BENCH_SGEMM_ROUNDS; k++) {
            printf(" %s:", k == 0 ? "before ours" : "after peer");
            for (int s = 0; s < BENCH_NSGEMM; s++)
                printf(" n=%d %.1f", bench_sgemm_sizes[s], sg[k][s]);
            if (k + 1 < BENCH_SGEMM_ROUNDS)
                printf(",");
        }
        printf(")\n");
    } else {
        printf("sgemm    not measured: %s\n", sg_why[0][0] ? sg_why[0] : sg_why[1]);
    }
    printf("steps    median step time over the timed steps after untimed warm-up; one synthetic batch\n"
           "         (inputs N(0,1), seed %d), reused every step; FLOPs/step = 3 x focal_model_flops\n\n",
           BENCH_SEED);

    printf("%-18s %10s %11s %10s %11s %12s %8s %9s %5s %6s\n", "row", "ours img/s", "torch img/s", "ours/torch",
           "ours %sgemm", "torch %sgemm", "ours MiB", "torch MiB", ">=1x", ">=1.5x");
    for (size_t i = 0; i < nr; i++) {
        const struct bench_row *r = &rows[i];
        if (!r->selected)
            continue;
        char col[7][32];
        const double step_flops = 3.0 * r->flops_fwd;
        for (int k = 0; k < 7; k++)
            snprintf(col[k], sizeof col[k], "n/a");
        if (r->measured) {
            snprintf(col[0], sizeof col[0], "%.1f", r->batch / r->ours_s);
            if (ceiling > 0.0)
                snprintf(col[3], sizeof col[3], "%.1f%%", 100.0 * step_flops / r->ours_s / 1e9 / ceiling);
            snprintf(col[5], sizeof col[5], "%.0f", r->maxrss_kib / 1024.0);
        } else {
            snprintf(col[0], sizeof col[0], "failed");
        }
        if (r->peer_measured) {
            snprintf(col[1], sizeof col[1], "%.1f", r->batch / r->peer_s);
            if (ceiling > 0.0 && r->measured)
                snprintf(col[4], sizeof col[4], "%.1f%%", 100.0 * step_flops / r->peer_s / 1e9 / ceiling);
            snprintf(col[6], sizeof col[6], "%.0f", r->peer_maxrss_kib / 1024.0);
        }
        const int have_ratio = r->measured && r->peer_measured;
        const double ratio = have_ratio ? r->peer_s / r->ours_s : 0.0;
        if (have_ratio)
            snprintf(col[2], sizeof col[2], "%.2fx", ratio);
        printf("%-18s %10s %11s %10s %11s %12s %8s %9s %5s %6s\n", r->name, col[0], col[1], col[2], col[3],
               col[4], col[5], col[6], bench_verdict(have_ratio, ratio, BENCH_TARGET_RATIO),
               bench_verdict(have_ratio, ratio, BENCH_GOAL_RATIO));
    }
    printf("\ntargets (informational): >= %.1fx torch on every row, goal %.1fx.\n", BENCH_TARGET_RATIO,
           BENCH_GOAL_RATIO);
    printf("peak MiB: getrusage ru_maxrss of the process that ran the row (one process per row, each side).\n");
    bench_print_peer(peer, npeer, info, why);

    /* Per row: the work, the spread and the signs of other load on the machine
     * (a core taken away stalls every thread at the next barrier). Both sides train on their own random
     * batch from the same distributions with their own initialisation, so the
     * losses agree only roughly; each should fall from its first step to its
     * last, as the same batch is seen again and again. */
    printf("\ndetail: GFLOP per step; ms per step, median [min, max]; loss at first -> last step\n");
    for (size_t i = 0; i < nr; i++) {
        const struct bench_row *r = &rows[i];
        if (!r->selected)
            continue;
        printf("  %-18s %s %dx%dx%d batch %d, %d %s, %s; %d warm-up + %d timed steps\n", r->name, r->preset, r->c,
               r->h, r->w, r->batch, r->classes, r->head == FOCAL_HEAD_SIGMOID ? "sigmoid" : "softmax",
               r->head == FOCAL_HEAD_SIGMOID ? "sigmoid focal a=0.25 g=2, Adam lr 1e-3"
                                             : "softmax focal g=2, SGD lr 0.01 mom 0.9 wd 5e-4 (weights)",
               r->warmup, r->steps);
        if (r->measured)
            printf("    ours   %.2f GFLOP/step  %9.1f [%9.1f, %9.1f] ms  loss %.5f -> %.5f  "
                   "peak %.0f MiB (rss at start %.0f MiB)\n",
                   3.0 * r->flops_fwd / 1e9, 1e3 * r->ours_s, 1e3 * r->ours_min_s, 1e3 * r->ours_max_s,
                   r->loss_first, r->loss_last, r->maxrss_kib / 1024.0, r->start_rss_kib / 1024.0);
        else
            printf("    ours   failed: %s\n", r->why);
        if (r->measured && r->csw >= 0.0)
            printf("           load %.2f at start, %.1f involuntary context switches per timed step\n", r->load1,
                   r->csw);
        if (r->peer_measured) {
            printf("    torch                    %9.1f [%9.1f, %9.1f] ms  loss %.5f -> %.5f  peak %.0f MiB",
                   1e3 * r->peer_s, 1e3 * r->peer_min_s, 1e3 * r->peer_max_s, r->peer_loss_first,
                   r->peer_loss_last, r->peer_maxrss_kib / 1024.0);
            if (r->peer_start_rss_kib >= 0)
                printf(" (rss with torch imported %.0f MiB)", r->peer_start_rss_kib / 1024.0);
            printf("\n");
            if (r->peer_csw >= 0.0)
                printf("           load %.2f at start, %.1f involuntary context switches per timed step\n",
                       r->peer_load1, r->peer_csw);
        } else if (peer && npeer > 0)
            printf("    torch  not reported%s%s\n", r->peer_why[0] ? ": " : "", r->peer_why);
    }

    if (profile)
        for (size_t i = 0; i < nr; i++)
            if (rows[i].selected)
                bench_print_profile(&rows[i]);
    return failed ? 1 : 0;
}
