/* mpi_train.c — struct focal_comm over MPI_COMM_WORLD (see mpi_train.h). */
#include "mpi_train.h"

#include <string.h>

#include "mpi.h"

#if FOCAL_HAVE_MPI
#include <mpi.h>
#endif

void mpi_train_take_options(int *argc, char **argv, int *sync_bn)
{
    *sync_bn = 0;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--sync-bn") != 0)
            continue;
        *sync_bn = 1;
        for (int k = i; k + 1 < *argc; k++)
            argv[k] = argv[k + 1];
        (*argc)--;
        i--;
    }
}

#if FOCAL_HAVE_MPI
/* In place over every rank. Open MPI's reductions for a given rank count
 * and length take a fixed order and give every rank the same bits (the run
 * checks the parameters agree after every epoch). */
static int sum(struct mpi_train *t, void *buf, size_t n, MPI_Datatype type, size_t size)
{
    const double t0 = MPI_Wtime();
    int rc = MPI_SUCCESS;
    /* counts are int: long buffers go in pieces */
    for (size_t at = 0; at < n && rc == MPI_SUCCESS; at += (size_t)1 << 30) {
        const size_t k = n - at < (size_t)1 << 30 ? n - at : (size_t)1 << 30;
        rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * size, (int)k, type, MPI_SUM, MPI_COMM_WORLD);
    }
    t->allreduce_s += MPI_Wtime() - t0;
    t->allreduce_calls++;
    t->allreduce_bytes += (double)n * (double)size;
    return rc == MPI_SUCCESS ? 0 : -1;
}

static int sum_float(void *ctx, float *buf, size_t n)
{
    struct mpi_train *t = ctx;
    if (n > t->grad_values) {
        t->grad_values = n;
        t->grad_sums = 0;
    }
    t->grad_sums += n == t->grad_values;
    return sum(ctx, buf, n, MPI_FLOAT, sizeof *buf);
}

static int sum_double(void *ctx, double *buf, size_t n)
{
    return sum(ctx, buf, n, MPI_DOUBLE, sizeof *buf);
}
#endif

int mpi_train_init(struct mpi_train *t)
{
    memset(t, 0, sizeof *t);
#if FOCAL_HAVE_MPI
    int started = 0;
    MPI_Initialized(&started);
    if (!started)
        return 0;
    t->comm.ctx = t;
    t->comm.rank = cli_mpi_rank();
    t->comm.size = cli_mpi_size();
    t->comm.sum_float = sum_float;
    t->comm.sum_double = sum_double;
    return 1;
#else
    return 0;
#endif
}
