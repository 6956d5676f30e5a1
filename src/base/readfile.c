/* readfile.c — reading a whole file into memory, for the readers of CSV and
 * safetensors files. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "focal/base.h"
#include "base/internal.h"

focal_status focal_read_file(const char *path, int regular_only, char **out, size_t *len)
{
    focal_status st = FOCAL_OK;
    struct stat sb;
    *out = NULL;
    *len = 0;
    errno = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        const int e = errno;
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", path, e ? strerror(e) : "unknown error");
    }
    const int have_stat = fstat(fileno(fp), &sb) == 0;
    if (regular_only && (!have_stat || !S_ISREG(sb.st_mode))) {
        fclose(fp);
        return focal_fail(FOCAL_ERR_IO, "%s: not a regular file", path);
    }
    /* a regular file's size is known; a pipe's is read until its end */
    size_t cap = have_stat && S_ISREG(sb.st_mode) && sb.st_size >= 0 && (unsigned long long)sb.st_size < SIZE_MAX / 2
                     ? (size_t)sb.st_size + 1
                     : (size_t)1 << 16;
    size_t n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (cap - n < 2) {
            char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, n);
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        const size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                const int e = errno;
                st = focal_fail(FOCAL_ERR_IO, "%s: read error: %s", path, e ? strerror(e) : "unknown error");
                goto fail;
            }
            break;
        }
    }
    fclose(fp);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return FOCAL_OK;
fail:
    free(buf);
    fclose(fp);
    return st;
}
