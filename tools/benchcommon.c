/*
 * benchcommon.c — support code shared by the benchmark programs; see
 * benchcommon.h for the contract of each function.
 */
#define _POSIX_C_SOURCE 200809L

#include "benchcommon.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FOCAL_SOURCE_DIR
#define FOCAL_SOURCE_DIR "." /* the build defines it as the repository root */
#endif

uint64_t bench_rng_next(struct bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

double bench_rng_uniform(struct bench_rng *r)
{
    return ((double)(bench_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double bench_rng_normal(struct bench_rng *r)
{
    double u = bench_rng_uniform(r), v = bench_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort comparator: ascending doubles. */
static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *t, size_t n)
{
    qsort(t, n, sizeof *t, bench_cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

void *bench_alloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    if (bytes > SIZE_MAX - 63)
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes ? bytes : 64);
}

void bench_copy_line(char *dst, size_t cap, const char *src)
{
    size_t n = strcspn(src, "\r\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

size_t bench_shell_quote(char *buf, size_t len, size_t cap, const char *s)
{
    if (len >= cap)
        return cap;
    size_t need = 3; /* the two quotes and the separating space */
    for (const char *p = s; *p; p++)
        need += *p == '\'' ? 4 : 1;
    if (need >= cap - len)
        return cap;
    buf[len++] = '\'';
    for (const char *p = s; *p; p++) {
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

size_t bench_append(char *buf, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (len >= cap || n >= cap - len)
        return cap;
    memcpy(buf + len, s, n + 1);
    return len + n;
}

void bench_describe_status(int status, char *buf, size_t cap)
{
    if (status == -1)
        snprintf(buf, cap, "waiting for it failed: %s", strerror(errno));
    else if (WIFEXITED(status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(status),
                 WTERMSIG(status) == 11 ? "segmentation fault"
                 : WTERMSIG(status) == 6 ? "abort, e.g. a failed assertion"
                 : WTERMSIG(status) == 9 ? "killed, e.g. out of memory"
                                         : "see signal(7)");
    else
        snprintf(buf, cap, "stopped with wait status %d", status);
}

void bench_cpu_model(char *buf, size_t cap)
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
            for (v++; *v == ' ' || *v == '\t'; v++)
                ;
            bench_copy_line(buf, cap, v);
        }
        break;
    }
    fclose(f);
}

/* The first line of the file at path, with its newline if it has one, into
 * line (size cap <= INT_MAX, truncated to cap - 1 bytes). Returns 1, 0 if the
 * file is empty (line is then unspecified), -1 if it cannot be opened. */
static int bench_first_line(const char *path, char *line, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    const int got = fgets(line, (int)cap, f) != NULL;
    fclose(f);
    return got;
}

void bench_llc_size(char *buf, size_t cap)
{
    char path[96], line[64];
    snprintf(buf, cap, "unknown");
    for (int idx = 0; idx < 8; idx++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        const int got = bench_first_line(path, line, sizeof line);
        if (got < 0)
            break;
        if (got > 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(buf, cap, "%s", line); /* the highest index is the last level */
        }
    }
}

void bench_loadavg(char *buf, size_t cap)
{
    char line[128];
    snprintf(buf, cap, "unknown");
    if (bench_first_line("/proc/loadavg", line, sizeof line) > 0) {
        line[strcspn(line, " \n")] = '\0';
        snprintf(buf, cap, "%s", line);
    }
}

void bench_date(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    snprintf(buf, cap, "unknown");
    if (localtime_r(&now, &tm))
        strftime(buf, cap, "%Y-%m-%d %H:%M:%S %Z", &tm);
}

int bench_parse_long(const char *prog, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: expected an integer in [%ld, %ld], got '%s'\n", prog, opt, lo, hi,
                s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

const char *bench_verdict(int have, double value, double target)
{
    return !have ? "n/a" : value >= target ? "yes" : "no";
}

size_t bench_peer_command(char *cmd, size_t cap, const char *script_rel, char *why, size_t why_cap)
{
    char script[4096];
    if (snprintf(script, sizeof script, "%s%s", FOCAL_SOURCE_DIR, script_rel) >= (int)sizeof script) {
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
    if (cap > 0)
        cmd[0] = '\0';
    size_t len = bench_shell_quote(cmd, 0, cap, BENCH_PYTHON);
    return bench_shell_quote(cmd, len, cap, script);
}

FILE *bench_popen(const char *cmd, const char *what, char *why, size_t why_cap)
{
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p)
        snprintf(why, why_cap, "cannot start %s: %s", what, strerror(errno));
    return p;
}

FILE *bench_peer_start(const char *cmd, size_t len, size_t cap, char *why, size_t why_cap)
{
    if (len >= cap) {
        snprintf(why, why_cap, "the peer's command line is too long");
        return NULL;
    }
    return bench_popen(cmd, BENCH_PYTHON, why, why_cap);
}

int bench_peer_line(const char *line, char *info, size_t info_cap, char *why, size_t why_cap)
{
    if (strncmp(line, "info ", 5) == 0) {
        bench_copy_line(info, info_cap, line + 5);
        return 1;
    }
    if (strncmp(line, "unavailable=", 12) == 0) {
        bench_copy_line(why, why_cap, line + 12);
        return 1;
    }
    return 0;
}

void bench_print_peer(int peer, int npeer, const char *info, const char *why)
{
    if (!peer) {
        printf("peer: not run (--no-peer)\n");
    } else if (npeer == 0) {
        printf("peer: unavailable: %s\n", why);
        if (!strstr(why, BENCH_PEER_INSTALL))
            printf("      it needs %s with torch and torchvision: %s\n", BENCH_PYTHON, BENCH_PEER_INSTALL);
    } else {
        printf("peer: %s%s%s\n", info[0] ? info : "PyTorch", why[0] ? "; " : "", why);
    }
}
