/* progress.c — progress bars for long work. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define BAR_WIDTH 24

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_start(struct progress *p, int quiet)
{
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->t0 = progress_now();
    p->last = 0;
    p->drawn = 0;
}

double progress_elapsed(const struct progress *p)
{
    return progress_now() - p->t0;
}

static void (*g_tick)(void *ctx);
static void *g_tick_ctx;

void progress_set_tick(void (*fn)(void *ctx), void *ctx)
{
    g_tick = fn;
    g_tick_ctx = ctx;
}

void progress_update(struct progress *p, const char *label, long done, long total, const char *unit,
                     const char *extra)
{
    if (g_tick)
        g_tick(g_tick_ctx);
    if (p->quiet || !p->tty || total <= 0)
        return;
    double now = progress_now();
    if (done < total && now - p->last < 0.1)
        return;
    p->last = now;
    double el = now - p->t0, rate = el > 0 ? (double)done / el : 0.0;
    long eta = rate > 0 ? (long)((double)(total - done) / rate + 0.5) : 0;
    int fill = (int)((double)BAR_WIDTH * (double)done / (double)total);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %ld/%ld %.0f %s/s ETA %ld:%02ld%s%s", label, bar, done, total, rate, unit,
            eta / 60, eta % 60, extra ? "  " : "", extra ? extra : "");
    fflush(stderr);
    p->drawn = 1;
}

void progress_clear(struct progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = 0;
    }
}
