/* mpi_dispatch.h — the runs of an experiment (`focal compare`, `focal tune`)
 * shared out over the ranks of an MPI job.
 *
 * Rank 0 hands out the jobs one at a time to whichever rank asks for work
 * (runs differ in length, so a fixed round-robin would leave ranks idle), and
 * trains jobs itself in between: it answers requests between its own jobs and
 * at every progress update of its training (progress_set_tick: between
 * batches, on the main thread, as MPI_THREAD_FUNNELED allows). Each job is
 * given to exactly one rank, so no two ranks ever train the same run folder
 * (the library's run folder lock refuses a second writer as well). Results
 * travel through the run folders, which every rank must see (a shared
 * filesystem); the messages only say which job finished, how, and where.
 *
 * Without a launcher (or in a build without MPI) the jobs run in order on the
 * one process, exactly as before. */
#ifndef FOCAL_CLI_MPI_DISPATCH_H
#define FOCAL_CLI_MPI_DISPATCH_H

/* What became of one job. */
struct dispatch_outcome {
    int job;          /* its index, 0 .. n_jobs-1 */
    int rank;         /* the rank that ran it */
    int status;       /* its exit status: CLI_EXIT_OK when it succeeded */
    int skipped;      /* it had finished before: nothing was trained */
    double seconds;   /* wall time on that rank */
};

/* The jobs of one experiment, the same on every rank. */
struct dispatch_jobs {
    int n;
    void *ctx;
    /* Runs job j on this rank; returns an exit status and sets *skipped.
     * Its errors are printed by the rank that ran it. */
    int (*run)(void *ctx, int job, int *skipped);
    /* Rank 0 only: takes the outcome of a finished job (read its results,
     * print its line), on the main thread, never inside a run. Returns an
     * exit status: not CLI_EXIT_OK makes the job count as failed. */
    int (*done)(void *ctx, const struct dispatch_outcome *o);
};

/* Runs every job once over the ranks of the job (the one process without a
 * launcher). One process: the jobs in order, stopping at the first failure,
 * as before MPI. Several ranks: a failed job does not stop the others; every
 * job is run, and done() sees each outcome in the order they arrive. Returns,
 * on rank 0, CLI_EXIT_OK when every job and its done() succeeded, else the
 * first failure's status (done() has reported it); on the other ranks,
 * CLI_EXIT_OK once rank 0 has no more work for them (their failed jobs are
 * rank 0's to report). *failed (may be NULL) = the number of failed jobs on
 * rank 0, 0 elsewhere. */
int dispatch_run(const struct dispatch_jobs *jobs, int *failed);

#endif
