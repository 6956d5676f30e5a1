/* progress.h — progress bars on a terminal, nothing (or one line per unit of
 * work) when stderr is not one. */
#ifndef FOCAL_CLI_PROGRESS_H
#define FOCAL_CLI_PROGRESS_H

struct progress {
    int tty;            /* stderr is a terminal: redraw one line in place */
    int quiet;          /* print nothing */
    double t0;          /* start, seconds */
    double last;        /* last redraw, seconds */
    int drawn;          /* a bar is on the screen */
};

/* Starts a progress display on stderr; quiet silences it. */
void progress_start(struct progress *p, int quiet);

/* Redraws "label [#####.....] done/total rate unit/s ETA m:ss extra" at most
 * ten times a second (always when done == total); only on a terminal. */
void progress_update(struct progress *p, const char *label, long done, long total, const char *unit,
                     const char *extra);

/* Work to do at every progress_update, quiet or not, on the thread that calls
 * it (a training's main thread, between batches): fn(ctx); fn NULL for none.
 * An MPI rank that hands out work answers requests from here while it trains
 * (mpi_dispatch.c). */
void progress_set_tick(void (*fn)(void *ctx), void *ctx);

/* Clears the bar so that the next line starts clean. */
void progress_clear(struct progress *p);

/* Seconds since progress_start. */
double progress_elapsed(const struct progress *p);

/* Monotonic seconds. */
double progress_now(void);

#endif
