/* mpi_dispatch.c — an experiment's jobs over the ranks of an MPI job (see
 * mpi_dispatch.h).
 *
 * The protocol: a rank other than 0 sends TAG_FREE with the outcome of its
 * last job (job -1 for the first request) and waits for TAG_JOB, a job index
 * or -1 for "no more work". Rank 0 answers every waiting TAG_FREE whenever it
 * looks (between its own jobs, and at its training's progress updates), then
 * delivers the outcomes to done() outside any run. */
#define _POSIX_C_SOURCE 200809L
#include "mpi_dispatch.h"

#include <stdlib.h>
#include <time.h>

#include "args.h"
#include "mpi.h"
#include "progress.h"

#if FOCAL_HAVE_MPI
#include <mpi.h>
#endif

/* One job on this process: its outcome. */
static struct dispatch_outcome run_here(const struct dispatch_jobs *jobs, int job)
{
    struct dispatch_outcome o = { job, cli_mpi_rank(), CLI_EXIT_OK, 0, 0 };
    double t0 = progress_now();
    o.status = jobs->run(jobs->ctx, job, &o.skipped);
    o.seconds = progress_now() - t0;
    return o;
}

/* One process: the jobs in order, stopping at the first failure. */
static int run_alone(const struct dispatch_jobs *jobs, int *failed)
{
    for (int j = 0; j < jobs->n; j++) {
        struct dispatch_outcome o = run_here(jobs, j);
        int st = jobs->done(jobs->ctx, &o);
        if (o.status != CLI_EXIT_OK || st != CLI_EXIT_OK) {
            *failed = 1;
            return o.status != CLI_EXIT_OK ? o.status : st;
        }
    }
    return CLI_EXIT_OK;
}

#if FOCAL_HAVE_MPI

enum { TAG_FREE = 7301, TAG_JOB = 7302 };
/* a TAG_FREE message: job, status, skipped, seconds */
enum { MSG_JOB, MSG_STATUS, MSG_SKIPPED, MSG_SECONDS, MSG_N };

/* Sleeps a millisecond: waiting ranks poll instead of spinning in a blocking
 * call, so that they leave the cores to the ranks that train. */
static void nap(void)
{
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
}

/* Rank 0's bookkeeping. */
struct hub {
    const struct dispatch_jobs *jobs;
    int next;                          /* the next job to hand out */
    int stopped;                       /* ranks told there is no more work */
    struct dispatch_outcome *arrived;  /* outcomes not yet given to done() */
    int n_arrived;
};

/* Answers every rank that waits for work: records the outcome it brings and
 * sends it the next job, or -1. Only MPI calls: safe inside a run. */
static void hub_serve(struct hub *h)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_FREE, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            return;
        double msg[MSG_N];
        MPI_Recv(msg, MSG_N, MPI_DOUBLE, st.MPI_SOURCE, TAG_FREE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (msg[MSG_JOB] >= 0)
            h->arrived[h->n_arrived++] = (struct dispatch_outcome){ (int)msg[MSG_JOB], st.MPI_SOURCE,
                                                                    (int)msg[MSG_STATUS], (int)msg[MSG_SKIPPED],
                                                                    msg[MSG_SECONDS] };
        int job = h->next < h->jobs->n ? h->next++ : -1;
        h->stopped += job < 0;
        MPI_Send(&job, 1, MPI_INT, st.MPI_SOURCE, TAG_JOB, MPI_COMM_WORLD);
    }
}

static void hub_tick(void *ctx)
{
    hub_serve(ctx);
}

/* Gives the outcomes that arrived to done(); counts the failures and keeps
 * the first one's status. */
static void hub_deliver(struct hub *h, struct dispatch_outcome *o, int n, int *failed, int *status)
{
    for (int k = 0; k < n; k++) {
        int st = h->jobs->done(h->jobs->ctx, &o[k]);
        if (o[k].status != CLI_EXIT_OK || st != CLI_EXIT_OK) {
            if (*status == CLI_EXIT_OK)
                *status = o[k].status != CLI_EXIT_OK ? o[k].status : st;
            (*failed)++;
        }
    }
}

/* Rank 0: hands out the jobs, trains them too, and collects every outcome. */
static int run_hub(const struct dispatch_jobs *jobs, int *failed)
{
    int size = cli_mpi_size(), status = CLI_EXIT_OK;
    struct hub h = { jobs, 0, 0, NULL, 0 };
    /* each job's outcome arrives once, so n slots hold them all */
    struct dispatch_outcome *ready = malloc(((size_t)jobs->n + 1) * sizeof *ready);
    h.arrived = malloc(((size_t)jobs->n + 1) * sizeof *h.arrived);
    if (!ready || !h.arrived) {
        free(ready);
        free(h.arrived);
        cli_error("out of memory");
        return CLI_EXIT_DATA;   /* the launcher ends the job on this exit */
    }
    for (;;) {
        hub_serve(&h);
        /* done() may read files and print: never inside a run, and on a copy,
         * as hub_serve appends while the next job trains */
        int n = h.n_arrived;
        for (int k = 0; k < n; k++)
            ready[k] = h.arrived[k];
        h.n_arrived = 0;
        hub_deliver(&h, ready, n, failed, &status);
        if (h.next < jobs->n) {
            int job = h.next++;
            progress_set_tick(hub_tick, &h);
            ready[0] = run_here(jobs, job);
            progress_set_tick(NULL, NULL);
            hub_deliver(&h, ready, 1, failed, &status);
        } else if (h.stopped < size - 1) {
            nap();
        } else {
            break;
        }
    }
    free(ready);
    free(h.arrived);
    return status;
}

/* A rank other than 0: asks for work, runs it, says how it went, until told
 * there is no more. */
static int run_worker(const struct dispatch_jobs *jobs)
{
    double msg[MSG_N] = { -1, 0, 0, 0 };
    for (;;) {
        int job, flag = 0;
        MPI_Request req;
        MPI_Send(msg, MSG_N, MPI_DOUBLE, 0, TAG_FREE, MPI_COMM_WORLD);
        MPI_Irecv(&job, 1, MPI_INT, 0, TAG_JOB, MPI_COMM_WORLD, &req);
        while (MPI_Test(&req, &flag, MPI_STATUS_IGNORE), !flag)
            nap();
        if (job < 0 || job >= jobs->n)
            return CLI_EXIT_OK;
        struct dispatch_outcome o = run_here(jobs, job);
        msg[MSG_JOB] = job;
        msg[MSG_STATUS] = o.status;
        msg[MSG_SKIPPED] = o.skipped;
        msg[MSG_SECONDS] = o.seconds;
    }
}

#endif

int dispatch_run(const struct dispatch_jobs *jobs, int *failed)
{
    int dummy;
    if (!failed)
        failed = &dummy;
    *failed = 0;
#if FOCAL_HAVE_MPI
    if (cli_mpi_size() > 1)
        return cli_mpi_rank() == 0 ? run_hub(jobs, failed) : run_worker(jobs);
#endif
    return run_alone(jobs, failed);
}
