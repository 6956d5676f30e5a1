/* mpi_train.h — data-parallel `mpirun -np N focal train`: the library's
 * struct focal_comm (include/focal/nn.h) implemented with MPI_Allreduce over
 * all the ranks the launcher started, with the time spent in it. */
#ifndef FOCAL_CLI_MPI_TRAIN_H
#define FOCAL_CLI_MPI_TRAIN_H

#include "focal.h"

struct mpi_train {
    struct focal_comm comm;
    double allreduce_s;          /* seconds spent in MPI_Allreduce, waiting for other ranks included */
    long allreduce_calls;
    double allreduce_bytes;      /* bytes summed (each rank's buffer) */
    size_t grad_values;          /* the longest float sum: the gradient, one value per parameter */
    long grad_sums;              /* the sums of that length: one per optimiser step */
};

/* Removes "--sync-bn" from argv[1..*argc) into *sync_bn (0 when absent). */
void mpi_train_take_options(int *argc, char **argv, int *sync_bn);

/* Fills *t for this process when MPI was started (a launcher started it, in
 * a build with MPI; one rank included, which then trains alone) and returns
 * 1; else zeroes *t and returns 0. */
int mpi_train_init(struct mpi_train *t);

#endif
