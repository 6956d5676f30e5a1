/* idx.c — MNIST idx files: an images file (magic 0x00000803: unsigned bytes,
 * three dimensions N, rows, columns) and its labels file (0x00000801: N
 * unsigned bytes), each gzip-compressed or plain (zlib's gzread reads both). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

#define IDX_IMAGES "images-idx3"
#define IDX_LABELS "labels-idx1"

/* The big-endian 32-bit integer at p. */
static uint32_t idx_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads up to `want` more bytes of gz into buf + *n (growing *buf, whose
 * capacity is *cap, geometrically: memory follows the data actually read,
 * not what a header claims). Stops at the end of the stream. FOCAL_ERR_FORMAT
 * for a truncated or corrupt gzip stream, FOCAL_ERR_NOMEM. */
static focal_status idx_gzread(gzFile gz, const char *path, uint8_t **buf, size_t *cap, size_t *n, size_t want)
{
    const size_t stop = *n + want;
    while (*n < stop) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : (size_t)1 << 16;
            if (nc > stop || nc < *cap)
                nc = stop;
            uint8_t *nb = realloc(*buf, nc);
            if (!nb)
                return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory after %zu bytes", path, *n);
            *buf = nb;
            *cap = nc;
        }
        const size_t room = (*cap < stop ? *cap : stop) - *n;
        const int got = gzread(gz, *buf + *n, (unsigned)(room < (size_t)INT_MAX ? room : (size_t)INT_MAX));
        int err = Z_OK;
        const char *msg = got < 0 || (got == 0 && !gzeof(gz)) ? gzerror(gz, &err) : NULL;
        if (got <= 0) {
            if (msg && err != Z_OK)
                return focal_fail(err == Z_ERRNO ? FOCAL_ERR_IO : FOCAL_ERR_FORMAT,
                                  "%s: cannot read after %zu bytes: %s; the file is truncated or corrupt", path, *n,
                                  msg);
            break;
        }
        *n += (size_t)got;
    }
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (err != Z_OK)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: cannot read after %zu bytes: %s; the file is truncated or corrupt",
                          path, *n, msg);
    return FOCAL_OK;
}

/* Reads an idx file of unsigned bytes (gzip-compressed or plain) with `ndim`
 * dimensions into *buf, checking its magic, and the dimensions into dims;
 * *data points at the values, whose count must be the product of the
 * dimensions. The header is read and checked first, and then at most the
 * values it implies and one byte more (to detect trailing data), so a small
 * file that inflates far beyond its header is refused without inflating it. */
static focal_status idx_read(const char *path, int ndim, uint8_t **buf, uint32_t dims[3], const uint8_t **data)
{
    *buf = NULL;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    const size_t head = 4 + 4 * (size_t)ndim;
    size_t cap = 0, len = 0;
    focal_status st = idx_gzread(gz, path, buf, &cap, &len, head);
    const uint8_t *b = *buf;
    size_t count = 1;
    if (st == FOCAL_OK && (len < head || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != ndim))
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: not an idx%d file of unsigned bytes; expected magic 0x%08x (%s)", path,
                        ndim, 0x800 + ndim, ndim == 3 ? "images" : "labels");
    for (int k = 0; st == FOCAL_OK && k < ndim; k++) {
        dims[k] = idx_be32(b + 4 + 4 * (size_t)k);
        if (dims[k] && count > (SIZE_MAX - head - 1) / dims[k])
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: dimensions too large", path);
        count *= dims[k];
    }
    if (st == FOCAL_OK)
        st = idx_gzread(gz, path, buf, &cap, &len, count + 1);
    gzclose(gz);
    if (st == FOCAL_OK && len - head != count)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: holds %s%zu bytes of data; its header's dimensions need %zu (%s)",
                        path, len - head > count ? "more than " : "", len - head > count ? count : len - head, count,
                        len - head < count ? "truncated" : "trailing data");
    if (st != FOCAL_OK) {
        free(*buf);
        *buf = NULL;
        return st;
    }
    *data = *buf + head;
    return FOCAL_OK;
}

/* The labels file beside the images file at path: "images-idx3" replaced by
 * "labels-idx1" in the last such place of the name, and the same name with
 * ".gz" added or removed when that one does not exist. */
static focal_status idx_labels_path(const char *path, char **out)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *hit = NULL;
    for (const char *p = strstr(base, IDX_IMAGES); p; p = strstr(p + 1, IDX_IMAGES))
        hit = p;
    if (!hit)
        return focal_fail(FOCAL_ERR_ARG, "%s: cannot find the labels file; expected an images file named "
                          "*-" IDX_IMAGES "-ubyte[.gz] with its labels in *-" IDX_LABELS "-ubyte[.gz]", path);
    const size_t pre = (size_t)(hit - path), n = strlen(path);
    char *a = malloc(n + 4);
    if (!a)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    memcpy(a, path, pre);
    memcpy(a + pre, IDX_LABELS, strlen(IDX_LABELS));
    memcpy(a + pre + strlen(IDX_LABELS), hit + strlen(IDX_IMAGES), n - pre - strlen(IDX_IMAGES) + 1);
    FILE *fp = fopen(a, "rb");
    if (fp) {
        fclose(fp);
        *out = a;
        return FOCAL_OK;
    }
    const size_t an = strlen(a);
    char *b = malloc(an + 4);
    if (!b) {
        free(a);
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(b, a, an + 1);
    if (an > 3 && strcmp(b + an - 3, ".gz") == 0)
        b[an - 3] = '\0';
    else
        memcpy(b + an, ".gz", 4);
    fp = fopen(b, "rb");
    if (fp) {
        fclose(fp);
        free(a);
        *out = b;
        return FOCAL_OK;
    }
    focal_status st = focal_fail(FOCAL_ERR_IO, "%s: no labels file beside it; expected %s or %s", path, a, b);
    free(a);
    free(b);
    return st;
}

focal_status focal_read_idx(struct focal_dataset *d, const char *path)
{
    uint8_t *ibuf = NULL, *lbuf = NULL;
    char *lpath = NULL;
    uint32_t idims[3], ldims[3];
    const uint8_t *pix = NULL, *lab = NULL;
    focal_status st = idx_read(path, 3, &ibuf, idims, &pix);
    if (st == FOCAL_OK)
        st = idx_labels_path(path, &lpath);
    if (st == FOCAL_OK)
        st = idx_read(lpath, 1, &lbuf, ldims, &lab);
    if (st == FOCAL_OK && ldims[0] != idims[0])
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: %u labels for the %u images of %s; expected one label per image", lpath,
                        ldims[0], idims[0], path);
    if (st == FOCAL_OK && (idims[0] == 0 || idims[0] > INT_MAX || !idims[1] || !idims[2] || idims[1] > 65535 ||
                           idims[2] > 65535))
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: %u images of %ux%u; expected 1 to %d images of 1 to 65535 pixels a side",
                        path, idims[0], idims[1], idims[2], INT_MAX);
    if (st == FOCAL_OK) {
        const size_t n = idims[0], plane = (size_t)idims[1] * idims[2];
        d->task = FOCAL_TASK_MULTICLASS;
        d->n = (int)n;
        d->height = (int)idims[1];
        d->width = (int)idims[2];
        d->channels = 1;
        d->label = malloc(n * sizeof *d->label);
        d->pixels = malloc(n * plane);
        if (!d->label || !d->pixels)
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for %zu images", path, n);
    }
    int max_class = 9;
    if (st == FOCAL_OK) {
        memcpy(d->pixels, pix, (size_t)d->n * (size_t)d->height * (size_t)d->width);
        for (int i = 0; i < d->n; i++) {
            d->label[i] = lab[i];
            if (lab[i] > max_class)
                max_class = lab[i];
        }
        st = focal_ds_number_ids(d, 0, d->n, "", path);
    }
    if (st == FOCAL_OK)
        st = focal_ds_number_classes(d, max_class + 1, path);
    free(ibuf);
    free(lbuf);
    free(lpath);
    return st;
}
