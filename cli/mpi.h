/* mpi.h — the program under an MPI launcher (mpirun, srun).
 *
 * focal is built with Open MPI when CMake finds it (FOCAL_MPI, default ON).
 * MPI is initialised only when the process was started by a launcher (the
 * launcher's environment says so): a plain `focal compare` never touches MPI
 * and behaves exactly as a build without it. A build without MPI started by a
 * launcher with several processes refuses to run, since each copy would do
 * the whole job. */
#ifndef FOCAL_CLI_MPI_H
#define FOCAL_CLI_MPI_H

/* Initialises MPI when launched by mpirun/srun (and built with MPI). Returns 0,
 * or an exit status after printing why the program cannot run as launched. */
int cli_mpi_start(int *argc, char ***argv);
/* Finalises MPI if cli_mpi_start initialised it; status is the exit status
 * about to be returned (a failing rank aborts the job only through its exit). */
void cli_mpi_end(int status);
/* Whether this build has MPI. */
int cli_mpi_built(void);
/* This process's rank and the number of ranks (0 and 1 without a launcher). */
int cli_mpi_rank(void);
int cli_mpi_size(void);

#endif
