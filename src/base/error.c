/* error.c — per-thread error messages, status names, version and threads. */
#include <stdarg.h>
#include <stdio.h>
#include <omp.h>

#include "focal/base.h"
#include "base/internal.h"
#include "base/blas.h"

static _Thread_local char focal_errbuf[1024];

focal_status focal_fail(focal_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(focal_errbuf, sizeof focal_errbuf, fmt, ap);
    va_end(ap);
    return st;
}

void focal_clear_error(void)
{
    focal_errbuf[0] = '\0';
}

const char *focal_last_error(void)
{
    return focal_errbuf;
}

const char *focal_status_string(focal_status st)
{
    switch (st) {
    case FOCAL_OK: return "ok";
    case FOCAL_ERR_ARG: return "invalid argument";
    case FOCAL_ERR_NOMEM: return "out of memory";
    case FOCAL_ERR_IO: return "input/output error";
    case FOCAL_ERR_FORMAT: return "malformed input";
    case FOCAL_ERR_NUMERIC: return "non-finite value";
    case FOCAL_ERR_BUSY: return "in use";
    }
    return "unknown status";
}

const char *focal_version(void)
{
    return FOCAL_VERSION_STRING;
}

/* The BLAS is linked only into programs that use the networks (base/blas.c
 * comes with the convolution and dense layers); a program that uses only the
 * losses links neither it nor OpenBLAS, and the weak reference is then NULL. */
#if defined(__GNUC__)
#pragma weak focal_blas_set_threads
#endif

void focal_set_threads(int n)
{
    const int t = n > 0 ? n : omp_get_num_procs();
    omp_set_num_threads(t);
    if (focal_blas_set_threads)
        focal_blas_set_threads(t);
}

int focal_get_threads(void)
{
    return omp_get_max_threads();
}
