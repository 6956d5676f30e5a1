/* error.c — per-thread error messages, status names, version, threads and the
 * memory limit. */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#define _DEFAULT_SOURCE /* _SC_PHYS_PAGES */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
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

/* ---- the memory limit --------------------------------------------------------- */

static size_t focal_mem_limit; /* 0: the machine's physical memory */

void focal_set_memory_limit(size_t bytes)
{
    focal_mem_limit = bytes;
}

size_t focal_memory_limit(int *is_default)
{
    if (is_default)
        *is_default = focal_mem_limit == 0;
    if (focal_mem_limit)
        return focal_mem_limit;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0 || (unsigned long)pages > SIZE_MAX / (unsigned long)page)
        return SIZE_MAX;
    return (size_t)pages * (size_t)page;
}

focal_status focal_parse_memory_size(const char *text, size_t *bytes)
{
    const char *s = text ? text : "";
    unsigned long long v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        goto bad;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (ULLONG_MAX - 9) / 10)
            goto big;
        v = v * 10 + (unsigned)(*p - '0');
    }
    int shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: break;
    }
    if (shift && (*p == 'i' || *p == 'I') && (p[1] == 'b' || p[1] == 'B'))
        p += 2;
    else if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        goto bad;
    if (v == 0)
        return focal_fail(FOCAL_ERR_ARG, "memory size '%s' is zero; expected a size such as 4G or 512M", s);
    if (shift && v > (ULLONG_MAX >> shift))
        goto big;
    v <<= shift;
    if (v > SIZE_MAX)
        goto big;
    *bytes = (size_t)v;
    return FOCAL_OK;
bad:
    return focal_fail(FOCAL_ERR_ARG, "'%s' is not a memory size; expected a number with an optional K, M, G or T "
                                     "suffix, such as 4G or 512M", s);
big:
    return focal_fail(FOCAL_ERR_ARG, "memory size '%s' is too large", s);
}
