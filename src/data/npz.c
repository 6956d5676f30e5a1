/* npz.c — MedMNIST .npz files: a zip archive (members stored or deflated,
 * no ZIP64) of NumPy .npy arrays train_images, train_labels, val_*, test_*.
 * The zip central directory and local headers are parsed here and every
 * length and offset is checked against the file before use; members are
 * inflated with zlib and checked against their CRC-32. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

/* Sizes of the fixed parts of zip records. */
#define ZIP_EOCD_SIZE 22
#define ZIP_CENTRAL_SIZE 46
#define ZIP_LOCAL_SIZE 30
/* Deflate cannot expand data by more than about 1032:1. */
#define ZIP_MAX_RATIO 1032u

/* One member of a zip archive, pointing into the file's bytes. */
struct zip_member {
    const char *name;        /* not NUL-terminated */
    size_t name_len;
    const uint8_t *data;     /* compressed bytes */
    uint32_t csize, usize, crc;
    int method;              /* 0 stored, 8 deflate */
};

/* The little-endian 16-bit integer at p. */
static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* The little-endian 32-bit integer at p. */
static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

/* An open archive: the file's bytes and its members. */
struct zip {
    const char *path;
    const uint8_t *buf;
    size_t len;
    struct zip_member *m;
    int n;
};

/* Finds the end-of-central-directory record and reads every member's
 * central and local headers into z->m. FOCAL_ERR_FORMAT naming the file for
 * anything that is not a complete, unencrypted, single-disk, non-ZIP64 zip. */
static focal_status zip_open(struct zip *z)
{
    const uint8_t *b = z->buf;
    const size_t len = z->len;
    if (len < ZIP_EOCD_SIZE || rd32(b) != 0x04034b50)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: not a zip archive; expected a NumPy .npz file", z->path);
    size_t eocd = SIZE_MAX;
    const size_t lowest = len - ZIP_EOCD_SIZE > 0xFFFF ? len - ZIP_EOCD_SIZE - 0xFFFF : 0;
    for (size_t p = len - ZIP_EOCD_SIZE + 1; p-- > lowest;)
        if (rd32(b + p) == 0x06054b50 && p + ZIP_EOCD_SIZE + rd16(b + p + 20) == len) {
            eocd = p;
            break;
        }
    if (eocd == SIZE_MAX)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: no zip end-of-central-directory record; the file is truncated "
                          "or not a .npz archive", z->path);
    const uint32_t disk = rd16(b + eocd + 4), cd_disk = rd16(b + eocd + 6);
    const uint32_t n_here = rd16(b + eocd + 8), n_total = rd16(b + eocd + 10);
    const uint32_t cd_size = rd32(b + eocd + 12), cd_off = rd32(b + eocd + 16);
    if (n_total == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu ||
        (eocd >= 20 && rd32(b + eocd - 20) == 0x07064b50))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: a ZIP64 archive; expected a plain zip (members under 4 GiB), "
                          "as numpy.savez writes", z->path);
    if (disk != 0 || cd_disk != 0 || n_here != n_total)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: a multi-part zip archive; expected a single file", z->path);
    if ((size_t)cd_off > eocd || (size_t)cd_size > eocd - cd_off)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: zip central directory (%u bytes at %u) lies outside the file "
                          "(%zu bytes)", z->path, cd_size, cd_off, len);
    if (!(z->m = calloc(n_total ? n_total : 1, sizeof *z->m)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", z->path);
    size_t p = cd_off;
    const size_t cd_end = (size_t)cd_off + cd_size;
    for (uint32_t i = 0; i < n_total; i++) {
        if (cd_end - p < ZIP_CENTRAL_SIZE || rd32(b + p) != 0x02014b50)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: zip central directory entry %u is malformed", z->path, i + 1);
        struct zip_member *m = &z->m[z->n];
        const uint32_t flags = rd16(b + p + 8);
        m->method = (int)rd16(b + p + 10);
        m->crc = rd32(b + p + 16);
        m->csize = rd32(b + p + 20);
        m->usize = rd32(b + p + 24);
        const size_t nlen = rd16(b + p + 28), xlen = rd16(b + p + 30), clen = rd16(b + p + 32);
        const uint32_t lho = rd32(b + p + 42);
        if (cd_end - p - ZIP_CENTRAL_SIZE < nlen + xlen + clen)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: zip central directory entry %u runs past the directory",
                              z->path, i + 1);
        m->name = (const char *)b + p + ZIP_CENTRAL_SIZE;
        m->name_len = nlen;
        if (m->csize == 0xFFFFFFFFu || m->usize == 0xFFFFFFFFu || lho == 0xFFFFFFFFu)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' uses ZIP64 sizes; expected members under 4 GiB",
                              z->path, (int)(nlen > 60 ? 60 : nlen), m->name);
        if (flags & 1u)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' is encrypted; expected a plain .npz",
                              z->path, (int)(nlen > 60 ? 60 : nlen), m->name);
        if ((size_t)lho > cd_off || cd_off - lho < ZIP_LOCAL_SIZE || rd32(b + lho) != 0x04034b50)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' has no valid local header at offset %u",
                              z->path, (int)(nlen > 60 ? 60 : nlen), m->name, lho);
        const size_t data = (size_t)lho + ZIP_LOCAL_SIZE + rd16(b + lho + 26) + rd16(b + lho + 28);
        if (data > cd_off || cd_off - data < m->csize)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' (%u bytes at %zu) runs past its end; the file "
                              "is truncated or corrupt", z->path, (int)(nlen > 60 ? 60 : nlen), m->name,
                              m->csize, data);
        m->data = b + data;
        z->n++;
        p += ZIP_CENTRAL_SIZE + nlen + xlen + clen;
    }
    return FOCAL_OK;
}

/* The member named name, or NULL. */
static const struct zip_member *zip_find(const struct zip *z, const char *name)
{
    const size_t k = strlen(name);
    for (int i = 0; i < z->n; i++)
        if (z->m[i].name_len == k && memcmp(z->m[i].name, name, k) == 0)
            return &z->m[i];
    return NULL;
}

/* The first `want` bytes (want <= m->usize) of member m, inflated, in a new
 * buffer *out (caller frees). want = m->usize: the whole member, which must
 * end there and pass its CRC-32 check; less: a prefix, e.g. to read a .npy
 * header before trusting the member's stated size. FOCAL_ERR_FORMAT for an
 * unsupported method, inconsistent sizes or corrupt data. */
static focal_status zip_extract(const struct zip *z, const struct zip_member *m, size_t want, uint8_t **out)
{
    const int nl = (int)(m->name_len > 60 ? 60 : m->name_len);
    const int whole = want == m->usize;
    *out = NULL;
    if (m->method != 0 && m->method != 8)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' uses compression method %d; expected 0 (stored) "
                          "or 8 (deflate)", z->path, nl, m->name, m->method);
    if ((m->method == 0 && m->csize != m->usize) ||
        (m->method == 8 && (uint64_t)m->usize > (uint64_t)m->csize * ZIP_MAX_RATIO + 1024))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' claims %u bytes from %u stored; the sizes are "
                          "inconsistent", z->path, nl, m->name, m->usize, m->csize);
    uint8_t *buf = malloc(want ? want : 1);
    if (!buf)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for member '%.*s' (%zu bytes)", z->path, nl, m->name,
                          want);
    if (m->method == 0) {
        memcpy(buf, m->data, want);
    } else {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
            free(buf);
            return focal_fail(FOCAL_ERR_NOMEM, "%s: cannot start zlib's inflate", z->path);
        }
        zs.next_in = (Bytef *)(uintptr_t)m->data;
        zs.avail_in = m->csize;
        zs.next_out = buf;
        zs.avail_out = (uInt)want;
        int r = Z_OK;
        while (r == Z_OK && (whole || zs.avail_out > 0))
            r = inflate(&zs, whole ? Z_FINISH : Z_SYNC_FLUSH);
        const uLong got = zs.total_out;
        inflateEnd(&zs);
        if (got != want || (whole && r != Z_STREAM_END)) {
            free(buf);
            return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' does not inflate to its %u bytes (%s); the "
                              "file is corrupt", z->path, nl, m->name, m->usize,
                              r == Z_DATA_ERROR ? "invalid deflate data" : r == Z_BUF_ERROR ? "data ends early"
                                                                                             : "extra data");
        }
    }
    if (whole && crc32(crc32(0L, Z_NULL, 0), buf, m->usize) != m->crc) {
        free(buf);
        return focal_fail(FOCAL_ERR_FORMAT, "%s: member '%.*s' fails its CRC-32 check; the file is corrupt", z->path,
                          nl, m->name);
    }
    *out = buf;
    return FOCAL_OK;
}

/* ---- .npy arrays ------------------------------------------------------------ */

#define NPY_MAX_DIMS 4

/* A parsed .npy array; data points into the member's bytes. */
struct npy {
    char descr[16];          /* e.g. "|u1" */
    char kind;               /* 'u', 'i' or 'b' */
    int itemsize;
    int big_endian;
    int ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t count;            /* product of the shape */
    const uint8_t *data;
};

/* The value that follows "'key':" in a .npy header dictionary h[0..n), or
 * NULL. */
static const char *npy_value(const char *h, size_t n, const char *key)
{
    const size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 <= n; i++) {
        if ((h[i] != '\'' && h[i] != '"') || memcmp(h + i + 1, key, k) != 0 || h[i + 1 + k] != h[i])
            continue;
        const char *p = h + i + k + 2, *end = h + n;
        while (p < end && *p == ' ')
            p++;
        if (p < end && *p == ':') {
            p++;
            while (p < end && *p == ' ')
                p++;
            return p;
        }
    }
    return NULL;
}

/* Parses the header of the .npy array `key` whose first n bytes are b and
 * whose whole size is total (>= n) into *a; the data, when the header is
 * whole in b, starts at a->data (valid when n = total). A known dtype must
 * leave exactly count × itemsize bytes after the header. */
static focal_status npy_parse(const uint8_t *b, size_t n, size_t total, const char *path, const char *key,
                              struct npy *a)
{
    memset(a, 0, sizeof *a);
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' is not a .npy array (bad magic)", path, key);
    const int major = b[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = rd16(b + 8);
        hoff = 10;
    } else if ((major == 2 || major == 3) && n >= 12) {
        hlen = rd32(b + 8);
        hoff = 12;
    } else {
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' is .npy version %d.%d; expected 1.0, 2.0 or 3.0", path, key,
                          major, b[7]);
    }
    if (hlen > n - hoff)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has a .npy header of %zu bytes in %zu; truncated", path, key,
                          hlen, n - hoff);
    const char *h = (const char *)b + hoff, *end = h + hlen;
    const char *v = npy_value(h, hlen, "descr");
    size_t dl = 0;
    if (v && v < end && (*v == '\'' || *v == '"')) {
        const char q = *v++;
        while (v + dl < end && v[dl] != q)
            dl++;
        if (v + dl >= end)
            v = NULL;
    } else {
        v = NULL;
    }
    if (!v || dl == 0 || dl >= sizeof a->descr)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has no readable dtype ('descr') in its .npy header", path, key);
    memcpy(a->descr, v, dl);
    const char *d = a->descr;
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=') {
        a->big_endian = *d == '>';
        d++;
    }
    a->kind = *d;
    char *se;
    long size = strtol(d + 1, &se, 10);
    if (*se || (a->kind != 'u' && a->kind != 'i' && a->kind != 'b') || (size != 1 && size != 2 && size != 4 && size != 8))
        a->kind = '?';
    a->itemsize = (int)size;
    const char *fo = npy_value(h, hlen, "fortran_order");
    if (!fo || (size_t)(end - fo) < 4 || memcmp(fo, "True", 4) == 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' is %s; expected a C-order array", path, key,
                          fo ? "in Fortran order" : "missing 'fortran_order'");
    const char *sh = npy_value(h, hlen, "shape");
    if (!sh || sh >= end || *sh != '(')
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has no readable 'shape' in its .npy header", path, key);
    sh++;
    a->count = 1;
    for (;;) {
        while (sh < end && (*sh == ' ' || *sh == ','))
            sh++;
        if (sh < end && *sh == ')')
            break;
        size_t dim = 0;
        int digits = 0;
        while (sh < end && *sh >= '0' && *sh <= '9' && dim <= (SIZE_MAX - 9) / 10) {
            dim = dim * 10 + (size_t)(*sh++ - '0');
            digits++;
        }
        if (!digits || a->ndim == NPY_MAX_DIMS || (dim && a->count > SIZE_MAX / dim))
            return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has a malformed or unsupported shape (up to %d dimensions)",
                              path, key, NPY_MAX_DIMS);
        a->shape[a->ndim++] = dim;
        a->count *= dim;
    }
    if (a->ndim == 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' is a scalar; expected an array", path, key);
    if (a->kind != '?') {
        const size_t have = total - hoff - hlen;
        if (a->count > SIZE_MAX / (size_t)a->itemsize || have != a->count * (size_t)a->itemsize)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' holds %zu data bytes; its shape and dtype '%s' need %zu",
                              path, key, have, a->descr, a->count * (size_t)a->itemsize);
    }
    a->data = b + hoff + hlen;
    return FOCAL_OK;
}

/* Element i of integer array a as a 64-bit value; 0 and *ok = 0 for an
 * unsigned value beyond INT64_MAX. */
static int64_t npy_int(const struct npy *a, size_t i, int *ok)
{
    const uint8_t *p = a->data + i * (size_t)a->itemsize;
    uint64_t u = 0;
    for (int k = 0; k < a->itemsize; k++) {
        const int byte = a->big_endian ? k : a->itemsize - 1 - k;
        u = u << 8 | p[byte];
    }
    *ok = 1;
    if (a->kind == 'i' && a->itemsize < 8 && (u >> (a->itemsize * 8 - 1)) & 1u)
        return (int64_t)(u | ~(uint64_t)0 << (a->itemsize * 8));
    if (a->kind != 'i' && u > (uint64_t)INT64_MAX) {
        *ok = 0;
        return 0;
    }
    return (int64_t)u;
}

/* ---- MedMNIST splits ------------------------------------------------------- */

static const char *const npz_split_name[3] = { "train", "val", "test" };

/* One split's arrays and the buffers they live in. */
struct npz_split {
    uint8_t *img_buf, *lab_buf;
    struct npy img, lab;
    int present;
};

/* Lists the member names of z into buf (size n) for a message. */
static void npz_names(const struct zip *z, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < z->n && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%.*s", i ? ", " : "", (int)(z->m[i].name_len > 40 ? 40 : z->m[i].name_len),
                         z->m[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The .npy header of a member lies in its first bytes: version 1 headers are
 * under 64 KiB; longer (version 2/3) ones are refused. */
#define NPY_PREFIX_MAX ((size_t)65536 + 16)

/* Reads and parses array `key` (member key.npy) into *buf / *a. *present = 0
 * when the member is absent (no error). The header is read first, from the
 * member's first bytes; only a member whose stated size is what its header's
 * shape and dtype need is inflated whole, so a few bytes claiming gigabytes
 * cost nothing. An unsupported dtype is returned unread (a->data NULL) for
 * the caller's message. */
static focal_status npz_array(const struct zip *z, const char *key, uint8_t **buf, struct npy *a, int *present)
{
    char member[32];
    snprintf(member, sizeof member, "%s.npy", key);
    const struct zip_member *m = zip_find(z, member);
    *present = m != NULL;
    if (!m)
        return FOCAL_OK;
    const size_t want = m->usize < NPY_PREFIX_MAX ? m->usize : NPY_PREFIX_MAX;
    uint8_t *head = NULL;
    focal_status st = zip_extract(z, m, want, &head);
    if (st == FOCAL_OK)
        st = npy_parse(head, want, m->usize, z->path, key, a);
    free(head);
    if (st != FOCAL_OK || a->kind == '?') {
        a->data = NULL;
        return st;
    }
    st = zip_extract(z, m, m->usize, buf);
    return st == FOCAL_OK ? npy_parse(*buf, m->usize, m->usize, z->path, key, a) : st;
}

/* Reads split s (images and labels, both or neither; train required) and
 * checks its dtypes and shapes. */
static focal_status npz_read_split(const struct zip *z, int s, struct npz_split *sp)
{
    char ki[24], kl[24], names[400];
    int has_img, has_lab;
    snprintf(ki, sizeof ki, "%s_images", npz_split_name[s]);
    snprintf(kl, sizeof kl, "%s_labels", npz_split_name[s]);
    focal_status st = npz_array(z, ki, &sp->img_buf, &sp->img, &has_img);
    if (st == FOCAL_OK)
        st = npz_array(z, kl, &sp->lab_buf, &sp->lab, &has_lab);
    if (st != FOCAL_OK)
        return st;
    if (has_img != has_lab || (s == FOCAL_SPLIT_TRAIN && !has_img)) {
        npz_names(z, names, sizeof names);
        return focal_fail(FOCAL_ERR_FORMAT, "%s: no '%s' array; expected train_images and train_labels (and "
                          "val_*, test_* in pairs) as in MedMNIST; the file has: %s", z->path, has_img ? kl : ki,
                          names);
    }
    sp->present = has_img;
    if (!has_img)
        return FOCAL_OK;
    const struct npy *im = &sp->img, *lb = &sp->lab;
    if (im->kind != 'u' || im->itemsize != 1)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has dtype '%s'; expected '|u1' (uint8 pixels)", z->path, ki,
                          im->descr);
    if (!(im->ndim == 3 || (im->ndim == 4 && (im->shape[3] == 1 || im->shape[3] == 3))) || !im->shape[1] ||
        !im->shape[2] || im->shape[1] > 65535 || im->shape[2] > 65535)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has %d dimensions; expected shape (N,H,W) or (N,H,W,3)",
                          z->path, ki, im->ndim);
    if (lb->kind == '?')
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has dtype '%s'; expected an integer type such as '|u1' or "
                          "'<i8'", z->path, kl, lb->descr);
    if (lb->ndim > 2 || lb->shape[0] != im->shape[0] || (lb->ndim == 2 && lb->shape[1] == 0))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s' has shape (%zu%s); expected (%zu,) or (%zu,C) to match '%s'",
                          z->path, kl, lb->shape[0], lb->ndim == 1 ? ",)" : ",...)", im->shape[0], im->shape[0], ki);
    return FOCAL_OK;
}

/* Fills d from the parsed splits: pixels, labels, splits and IDs. */
static focal_status npz_fill(struct focal_dataset *d, const char *path, struct npz_split sp[3])
{
    const struct npy *im0 = &sp[0].img;
    const size_t h = im0->shape[1], w = im0->shape[2], c = im0->ndim == 4 ? im0->shape[3] : 1;
    const size_t width = sp[0].lab.ndim == 2 ? sp[0].lab.shape[1] : 1;
    const int multilabel = width > 1;
    size_t n = 0;
    for (int s = 0; s < 3; s++) {
        if (!sp[s].present)
            continue;
        const struct npy *im = &sp[s].img, *lb = &sp[s].lab;
        const size_t ws = lb->ndim == 2 ? lb->shape[1] : 1;
        if (im->shape[1] != h || im->shape[2] != w || (im->ndim == 4 ? im->shape[3] : 1) != c || ws != width)
            return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s_images' or '%s_labels' differs in shape from the train_ "
                              "arrays; expected the same image size, channels and label width in every split",
                              path, npz_split_name[s], npz_split_name[s]);
        n += im->shape[0];
    }
    size_t plane, total;
    if (n == 0 || n > INT_MAX || width > 4096 || focal_ds_mul3(h, w, c, &plane) != 0 ||
        focal_ds_mul3(n, plane, 1, &total) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: %zu samples of %zux%zux%zu; expected 1 to %d samples", path, n, h,
                          w, c, INT_MAX);
    d->n = (int)n;
    d->height = (int)h;
    d->width = (int)w;
    d->channels = (int)c;
    d->task = multilabel ? FOCAL_TASK_MULTILABEL : FOCAL_TASK_MULTICLASS;
    d->pixels = malloc(total);
    d->split = malloc(n);
    if (multilabel)
        d->labels = malloc(n * width);
    else
        d->label = malloc(n * sizeof *d->label);
    if (!d->pixels || !d->split || (!d->labels && !d->label))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for %zu samples", path, n);
    int64_t max_class = 0;
    size_t i0 = 0;
    for (int s = 0; s < 3; s++) {
        if (!sp[s].present)
            continue;
        const struct npy *lb = &sp[s].lab;
        const size_t ns = sp[s].img.shape[0];
        memcpy(d->pixels + i0 * plane, sp[s].img.data, ns * plane);
        memset(d->split + i0, s, ns);
        for (size_t k = 0; k < ns * width; k++) {
            int ok;
            const int64_t v = npy_int(lb, k, &ok);
            const int64_t hi = multilabel ? 1 : 65535;
            if (!ok || v < 0 || v > hi)
                return focal_fail(FOCAL_ERR_FORMAT, "%s: '%s_labels' element %zu is %lld; expected %s", path,
                                  npz_split_name[s], k, ok ? (long long)v : -1LL,
                                  multilabel ? "0 or 1" : "a class index from 0 to 65535");
            if (multilabel)
                d->labels[i0 * width + k] = (uint8_t)v;
            else
                d->label[i0 + k] = (int32_t)v;
            if (v > max_class)
                max_class = v;
        }
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%s/", npz_split_name[s]);
        focal_status st = focal_ds_number_ids(d, (int)i0, (int)ns, prefix, path);
        if (st != FOCAL_OK)
            return st;
        i0 += ns;
    }
    return focal_ds_number_classes(d, multilabel ? (int)width : (int)max_class + 1, path);
}

focal_status focal_read_npz(struct focal_dataset *d, const char *path)
{
    char *text = NULL;
    struct zip z;
    memset(&z, 0, sizeof z);
    struct npz_split sp[3];
    memset(sp, 0, sizeof sp);
    focal_status st = focal_read_file(path, 1, &text, &z.len);
    z.path = path;
    z.buf = (const uint8_t *)text;
    if (st == FOCAL_OK)
        st = zip_open(&z);
    for (int s = 0; s < 3 && st == FOCAL_OK; s++)
        st = npz_read_split(&z, s, &sp[s]);
    if (st == FOCAL_OK)
        st = npz_fill(d, path, sp);
    for (int s = 0; s < 3; s++) {
        free(sp[s].img_buf);
        free(sp[s].lab_buf);
    }
    free(z.m);
    free(text);
    return st;
}
