/* safetensors.c — the safetensors container: reading with every length and
 * offset checked against the file before use, and atomic writing.
 *
 * Layout: u64 little-endian N, N bytes of UTF-8 JSON (padded with spaces),
 * then the data section. The JSON maps each tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end]} with offsets relative to
 * the data section; "__metadata__" maps keys to string values. As in the
 * reference implementation, the tensors must tile the data section exactly:
 * no overlap, no gap, nothing after the last one.
 *
 * Tensor data is raw little-endian bytes; this file assumes a little-endian
 * host. A tensor's data pointer is only as aligned as its offset in the file
 * (files from other writers may place an F64 at an odd offset), so readers
 * copy it out with memcpy rather than dereferencing it as a typed pointer. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal/nn.h"
#include "base/internal.h"
#include "nn/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* The largest header accepted (as the reference implementation: 100 MB). */
#define ST_MAX_HEADER 100000000u
/* The largest integer a JSON number (a double) holds exactly. */
#define ST_MAX_JSON_INT 9007199254740992.0
#define ST_MAX_NDIM 8

static const struct {
    const char *name;
    size_t size;
} st_dtypes[] = {
    [FOCAL_ST_F32] = { "F32", 4 },
    [FOCAL_ST_F64] = { "F64", 8 },
    [FOCAL_ST_I32] = { "I32", 4 },
    [FOCAL_ST_I64] = { "I64", 8 },
    [FOCAL_ST_U8] = { "U8", 1 },
};
#define ST_NDTYPES (sizeof st_dtypes / sizeof st_dtypes[0])

/* Bytes per element of a dtype. */
static size_t st_dtype_size(enum focal_st_dtype d)
{
    return st_dtypes[d].size;
}

/* Looks up a dtype by its safetensors name; 0 on success, −1 if unknown. */
static int st_dtype_parse(const char *s, enum focal_st_dtype *d)
{
    for (size_t i = 0; i < ST_NDTYPES; i++) {
        if (strcmp(s, st_dtypes[i].name) == 0) {
            *d = (enum focal_st_dtype)i;
            return 0;
        }
    }
    return -1;
}

/* Stores a * b in *out; returns −1 (leaving *out unspecified) on overflow. */
static int st_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

/* Frees everything st holds and empties it; safe on an emptied or zeroed st. */
void focal_st_release(struct focal_st *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->t[i].name);
    free(st->t);
    for (size_t i = 0; i < st->nmeta; i++) {
        free(st->meta_key[i]);
        free(st->meta_val[i]);
    }
    free(st->meta_key);
    free(st->meta_val);
    free(st->bytes);
    memset(st, 0, sizeof *st);
}

/* The tensor called name, or NULL (linear search; files hold few tensors). */
const struct focal_st_tensor *focal_st_find(const struct focal_st *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0)
            return &st->t[i];
    return NULL;
}

/* The metadata value for key, or NULL; owned by st. */
const char *focal_st_meta(const struct focal_st *st, const char *key)
{
    for (size_t i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta_key[i], key) == 0)
            return st->meta_val[i];
    return NULL;
}

/* A JSON number that is a non-negative integer no larger than 2^53, into *v;
 * 0 on success, −1 otherwise. */
static int st_json_uint(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double d = j->valuedouble;
    if (!(d >= 0.0) || d > ST_MAX_JSON_INT || floor(d) != d)
        return -1;
    *v = (uint64_t)d;
    return 0;
}

/* Parses one tensor entry `j` (named j->string) of a header into *t (all but
 * name and data), checking dtype and shape and that the offsets are ordered
 * and span exactly the tensor's bytes; *begin and *end receive the offsets,
 * which the caller checks against the file. */
static focal_status st_parse_tensor(const char *path, const cJSON *j, struct focal_st_tensor *t,
                                    uint64_t *begin, uint64_t *end)
{
    const char *name = j->string;
    if (!cJSON_IsObject(j))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': expected an object with dtype, shape and data_offsets",
                          path, name);
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!jd || !js || !jo)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': missing \"%s\"", path, name,
                          !jd ? "dtype" : !js ? "shape" : "data_offsets");
    if (!cJSON_IsString(jd))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", path, name);
    if (st_dtype_parse(jd->valuestring, &t->dtype) != 0)
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s: tensor '%s': unsupported dtype \"%.32s\"; expected F32, F64, I32, I64 or U8",
                          path, name, jd->valuestring);

    if (!cJSON_IsArray(js))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': shape is not an array", path, name);
    int ndim = cJSON_GetArraySize(js);
    if (ndim > ST_MAX_NDIM)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': %d dimensions; at most %d supported", path,
                          name, ndim, ST_MAX_NDIM);
    size_t numel = 1;
    int overflow = 0;
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, js) {
        uint64_t dim;
        if (st_json_uint(e, &dim) != 0)
            return focal_fail(FOCAL_ERR_FORMAT,
                              "%s: tensor '%s': shape[%d] is not a non-negative integer", path, name, k);
        t->shape[k++] = (int64_t)dim;
        if (dim > SIZE_MAX || st_mul(numel, (size_t)dim, &numel) != 0)
            overflow = 1;
    }
    t->ndim = ndim;
    /* A zero dimension makes the tensor empty whatever the other dimensions. */
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] == 0) {
            numel = 0;
            overflow = 0;
        }
    size_t nbytes = 0;
    if (overflow || st_mul(numel, st_dtype_size(t->dtype), &nbytes) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': shape is too large", path, name);
    t->numel = numel;

    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || st_json_uint(jo->child, begin) != 0 ||
        st_json_uint(jo->child->next, end) != 0)
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets must be two non-negative integers [begin, end]",
                          path, name);
    if (*begin > *end)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin",
                          path, name, (unsigned long long)*begin, (unsigned long long)*end);
    if (*end - *begin != nbytes)
        return focal_fail(FOCAL_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes; %s with %zu elements needs %zu",
                          path, name, (unsigned long long)*begin, (unsigned long long)*end,
                          (unsigned long long)(*end - *begin), st_dtypes[t->dtype].name, numel, nbytes);
    return FOCAL_OK;
}

/* qsort order of C strings (an array of char *). */
static int st_str_cmp(const void *pa, const void *pb)
{
    const char *const *a = pa, *const *b = pb;
    return strcmp(*a, *b);
}

/* Parses the "__metadata__" object into st->meta_key/meta_val. */
static focal_status st_parse_meta(const char *path, const cJSON *j, struct focal_st *st)
{
    if (!cJSON_IsObject(j))
        return focal_fail(FOCAL_ERR_FORMAT, "%s: __metadata__ is not an object", path);
    size_t n = (size_t)cJSON_GetArraySize(j);
    st->meta_key = calloc(n ? n : 1, sizeof *st->meta_key);
    st->meta_val = calloc(n ? n : 1, sizeof *st->meta_val);
    if (!st->meta_key || !st->meta_val)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        if (!cJSON_IsString(e))
            return focal_fail(FOCAL_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string", path,
                              e->string);
        char *k = strdup(e->string), *v = strdup(e->valuestring);
        if (!k || !v) {
            free(k);
            free(v);
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        }
        st->meta_key[st->nmeta] = k;
        st->meta_val[st->nmeta] = v;
        st->nmeta++;
    }
    /* Duplicate keys, found by sorting a copy of the key pointers. */
    focal_status s = FOCAL_OK;
    char **keys = malloc((st->nmeta ? st->nmeta : 1) * sizeof *keys);
    if (!keys)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    memcpy(keys, st->meta_key, st->nmeta * sizeof *keys);
    qsort(keys, st->nmeta, sizeof *keys, st_str_cmp);
    for (size_t i = 1; i < st->nmeta && s == FOCAL_OK; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: __metadata__ key '%s' appears twice", path, keys[i]);
    free(keys);
    return s;
}

/* A tensor's place in the data section, for the tiling check. */
struct st_span {
    uint64_t begin, end;
    size_t index;
};

/* qsort order: by begin, then by end (so empty tensors come first). */
static int st_span_cmp(const void *pa, const void *pb)
{
    const struct st_span *a = pa, *b = pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return 0;
}

/* qsort order of tensors by name. */
static int st_name_cmp(const void *pa, const void *pb)
{
    const struct focal_st_tensor *const *a = pa, *const *b = pb;
    return strcmp((*a)->name, (*b)->name);
}

/* Checks that no name appears twice and that the spans tile [0, dsize). */
static focal_status st_check_layout(const char *path, struct focal_st *st, struct st_span *sp, size_t dsize)
{
    focal_status s = FOCAL_OK;
    const struct focal_st_tensor **byname = malloc((st->n ? st->n : 1) * sizeof *byname);
    if (!byname)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < st->n; i++)
        byname[i] = &st->t[i];
    qsort(byname, st->n, sizeof *byname, st_name_cmp);
    for (size_t i = 1; i < st->n; i++) {
        if (strcmp(byname[i - 1]->name, byname[i]->name) == 0) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", path,
                           byname[i]->name);
            goto out;
        }
    }

    qsort(sp, st->n, sizeof *sp, st_span_cmp);
    uint64_t at = 0;
    for (size_t i = 0; i < st->n; i++) {
        const char *name = st->t[sp[i].index].name;
        if (sp[i].begin < at) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: tensor '%s' (bytes %llu to %llu) overlaps '%s', which ends at %llu",
                           path, name, (unsigned long long)sp[i].begin, (unsigned long long)sp[i].end,
                           st->t[sp[i - 1].index].name, (unsigned long long)at);
            goto out;
        }
        if (sp[i].begin > at) {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: %llu unused bytes before tensor '%s' at data offset %llu",
                           path, (unsigned long long)(sp[i].begin - at), name, (unsigned long long)at);
            goto out;
        }
        at = sp[i].end;
    }
    if (at != dsize)
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: %llu bytes after the last tensor; the header describes %llu bytes of data",
                       path, (unsigned long long)(dsize - at), (unsigned long long)at);
out:
    free(byname);
    return s;
}

/* Reads and validates the whole file (see safetensors.h): on success st owns
 * the bytes and every tensor's data points into them; on failure st is empty
 * and the message names the file and the problem. */
focal_status focal_st_read(const char *path, struct focal_st *st)
{
    focal_status s;
    cJSON *root = NULL;
    char *hdr = NULL;
    struct st_span *sp = NULL;

    memset(st, 0, sizeof *st);
    char *bytes = NULL;
    s = focal_read_file(path, 1, &bytes, &st->size);
    st->bytes = bytes;
    if (s != FOCAL_OK)
        return s;
    const unsigned char *b = st->bytes;
    if (st->size < 8) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: truncated: %zu bytes, shorter than the 8-byte header length",
                       path, st->size);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    if (hlen > ST_MAX_HEADER) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: header length %llu is larger than the %u bytes allowed; not a safetensors file?",
                       path, (unsigned long long)hlen, ST_MAX_HEADER);
        goto fail;
    }
    if (hlen > st->size - 8) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: truncated: header says %llu bytes of header, file has %zu after the length",
                       path, (unsigned long long)hlen, st->size - 8);
        goto fail;
    }
    if (hlen < 2 || b[8] != '{') {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: header does not start with '{'; not a safetensors file?", path);
        goto fail;
    }
    /* The parser gets its own NUL-terminated copy, so that nothing it does
     * can look past the header into the data or beyond the buffer. */
    hdr = malloc((size_t)hlen + 1);
    if (!hdr) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for a %llu-byte header", path, (unsigned long long)hlen);
        goto fail;
    }
    memcpy(hdr, b + 8, (size_t)hlen);
    hdr[hlen] = '\0';
    const char *hend = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &hend, 0);
    if (!root || !cJSON_IsObject(root)) {
        /* On failure cJSON points hend at the error. */
        size_t at = hend && hend >= hdr && hend <= hdr + hlen ? (size_t)(hend - hdr) : 0;
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: header is not valid JSON (near byte %zu of %llu)", path, at,
                       (unsigned long long)hlen);
        goto fail;
    }
    for (const char *p = hend; p && p < hdr + hlen; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            s = focal_fail(FOCAL_ERR_FORMAT, "%s: unexpected text after the header's JSON object", path);
            goto fail;
        }
    }

    size_t dsize = st->size - 8 - (size_t)hlen;
    const unsigned char *data = b + 8 + hlen;
    size_t ntot = (size_t)cJSON_GetArraySize(root);
    st->t = calloc(ntot ? ntot : 1, sizeof *st->t);
    sp = calloc(ntot ? ntot : 1, sizeof *sp);
    if (!st->t || !sp) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    int seen_meta = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta++) {
                s = focal_fail(FOCAL_ERR_FORMAT, "%s: __metadata__ appears twice", path);
                goto fail;
            }
            s = st_parse_meta(path, e, st);
            if (s != FOCAL_OK)
                goto fail;
            continue;
        }
        struct focal_st_tensor *t = &st->t[st->n];
        uint64_t begin = 0, end = 0;
        s = st_parse_tensor(path, e, t, &begin, &end);
        if (s != FOCAL_OK)
            goto fail;
        t->name = strdup(e->string);
        if (!t->name) {
            s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        sp[st->n].begin = begin;
        sp[st->n].end = end;
        sp[st->n].index = st->n;
        st->n++;
    }
    uint64_t need = 0;
    for (size_t i = 0; i < st->n; i++)
        if (sp[i].end > need)
            need = sp[i].end;
    if (need > dsize) {
        s = focal_fail(FOCAL_ERR_FORMAT, "%s: truncated: header says %llu bytes of data, file has %zu", path,
                       (unsigned long long)need, dsize);
        goto fail;
    }
    for (size_t i = 0; i < st->n; i++)
        st->t[i].data = data + sp[i].begin;
    s = st_check_layout(path, st, sp, dsize);
    if (s != FOCAL_OK)
        goto fail;
    free(sp);
    cJSON_Delete(root);
    free(hdr);
    return FOCAL_OK;

fail:
    free(sp);
    cJSON_Delete(root);
    free(hdr);
    focal_st_release(st);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* A growing text buffer for the header; on allocation failure `failed` is set
 * and later appends do nothing. */
struct st_buf {
    char *p;
    size_t len, cap;
    int failed;
};

/* Appends n bytes of s. */
static void st_buf_add(struct st_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends a NUL-terminated string. */
static void st_buf_puts(struct st_buf *b, const char *s)
{
    st_buf_add(b, s, strlen(s));
}

/* Appends s as a JSON string literal: quotes, backslashes and control
 * characters escaped, other bytes (UTF-8) copied. */
static void st_buf_json_string(struct st_buf *b, const char *s)
{
    st_buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            st_buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            st_buf_add(b, esc, 6);
        } else {
            st_buf_add(b, (const char *)p, 1);
        }
    }
    st_buf_add(b, "\"", 1);
}

/* Builds the header (metadata first, then the tensors in the given order with
 * contiguous offsets, padded with spaces to a multiple of 8 bytes) and writes
 * it and the data through focal_wfile: temporary file, fsync, rename. Bad
 * arguments give FOCAL_ERR_ARG before anything is written; an I/O failure
 * gives FOCAL_ERR_IO and leaves any existing file as it was. */
focal_status focal_st_write(const char *path, const struct focal_st_out *t, size_t n,
                            const char *const *meta_key, const char *const *meta_val, size_t nmeta)
{
    focal_status s = FOCAL_OK;
    struct st_buf h = { 0 };
    size_t *nbytes = calloc(n ? n : 1, sizeof *nbytes);
    struct focal_wfile wf = { 0 };

    if (!nbytes)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);

    /* The header, with the tensors' byte counts and contiguous offsets. */
    st_buf_puts(&h, "{");
    if (nmeta > 0) {
        st_buf_puts(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < nmeta; i++) {
            if (i)
                st_buf_puts(&h, ",");
            st_buf_json_string(&h, meta_key[i]);
            st_buf_puts(&h, ":");
            st_buf_json_string(&h, meta_val[i]);
        }
        st_buf_puts(&h, "}");
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)t[i].dtype >= ST_NDTYPES || t[i].ndim < 0 || t[i].ndim > ST_MAX_NDIM ||
            strcmp(t[i].name, "__metadata__") == 0) {
            s = focal_fail(FOCAL_ERR_ARG, "%s: tensor '%s': bad dtype, rank or name", path, t[i].name);
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t[i].name, t[j].name) == 0) {
                s = focal_fail(FOCAL_ERR_ARG, "%s: tensor '%s' given twice", path, t[i].name);
                goto out;
            }
        }
        size_t bytes = st_dtype_size(t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++) {
            if (t[i].shape[d] < 0 || (uint64_t)t[i].shape[d] > SIZE_MAX ||
                st_mul(bytes, (size_t)t[i].shape[d], &bytes) != 0) {
                s = focal_fail(FOCAL_ERR_ARG, "%s: tensor '%s': bad shape", path, t[i].name);
                goto out;
            }
        }
        if (bytes > 0 && !t[i].data) {
            s = focal_fail(FOCAL_ERR_ARG, "%s: tensor '%s': no data", path, t[i].name);
            goto out;
        }
        nbytes[i] = bytes;
        char num[96];
        if (i || nmeta)
            st_buf_puts(&h, ",");
        st_buf_json_string(&h, t[i].name);
        st_buf_puts(&h, ":{\"dtype\":\"");
        st_buf_puts(&h, st_dtypes[t[i].dtype].name);
        st_buf_puts(&h, "\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
            st_buf_puts(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + bytes));
        st_buf_puts(&h, num);
        off += bytes;
    }
    st_buf_puts(&h, "}");
    while (!h.failed && h.len % 8 != 0)
        st_buf_puts(&h, " ");
    if (h.failed) {
        s = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory building the header", path);
        goto out;
    }
    if (h.len > ST_MAX_HEADER) {
        s = focal_fail(FOCAL_ERR_ARG, "%s: header of %zu bytes is larger than the %u allowed", path, h.len,
                       ST_MAX_HEADER);
        goto out;
    }

    s = focal_wfile_open(&wf, path);
    if (s != FOCAL_OK)
        goto out;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    fwrite(len8, 1, 8, wf.fp);
    fwrite(h.p, 1, h.len, wf.fp);
    for (size_t i = 0; i < n && !ferror(wf.fp); i++)
        if (nbytes[i] > 0)
            fwrite(t[i].data, 1, nbytes[i], wf.fp);
    /* commit detects any failed write through ferror and removes the temp. */
    s = focal_wfile_commit(&wf);
out:
    free(h.p);
    free(nbytes);
    return s;
}
