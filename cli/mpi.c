/* mpi.c — MPI start-up and shutdown of the program (see mpi.h). */
#include "mpi.h"

#include <stdlib.h>

#include "args.h"

#if FOCAL_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0;
static int g_size = 1;
#if FOCAL_HAVE_MPI
static int g_started = 0;
#endif

/* The number of processes the launcher says it started, 0 when not launched
 * by one. Open MPI's mpirun, PMIx (srun --mpi=pmix, prte) and PMI/PMI2
 * (srun --mpi=pmi2, MPICH's hydra) each set their own variable. */
static long launcher_size(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE" };
    for (unsigned i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            long n = strtol(v, NULL, 10);
            return n > 0 ? n : 1;
        }
    }
    /* PMIx publishes the rank, the size only through its own API */
    if (getenv("PMIX_RANK") || getenv("PMI_RANK"))
        return 2;
    return 0;
}

int cli_mpi_built(void)
{
    return FOCAL_HAVE_MPI;
}

int cli_mpi_start(int *argc, char ***argv)
{
    long n = launcher_size();
    if (n == 0)
        return CLI_EXIT_OK;
#if FOCAL_HAVE_MPI
    int provided = 0;
    /* OpenMP threads compute inside a rank; only the main thread calls MPI */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        cli_error("MPI_Init_thread failed; run without mpirun, or check the MPI installation");
        return CLI_EXIT_DATA;
    }
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return CLI_EXIT_OK;
#else
    (void)argc;
    (void)argv;
    if (n > 1) {
        cli_error("this focal was built without MPI, and %ld copies of it were started "
                  "(mpirun/srun): each would do the whole job. Rebuild with Open MPI "
                  "(Debian: libopenmpi-dev openmpi-bin; scripts/deps.sh), or run one process",
                  n);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
#endif
}

void cli_mpi_end(int status)
{
#if FOCAL_HAVE_MPI
    if (g_started) {
        g_started = 0;
        if (status == CLI_EXIT_OK)
            MPI_Finalize();
        /* a failed rank leaves without MPI_Finalize: its non-zero exit is how
         * the launcher learns of it, and the launcher then stops the job */
    }
#else
    (void)status;
#endif
}

int cli_mpi_rank(void)
{
    return g_rank;
}

int cli_mpi_size(void)
{
    return g_size;
}
