/* image_load.c — turning a dataset's image files into pixels: decode, optional
 * fundus crop and resize, in parallel over samples; bad images dropped or
 * reported; and a cache of the result on disk, so that a second run with the
 * same files and options reads one file instead of decoding every image.
 *
 * Cache file <cache_dir>/<32 hex digits>.fcache, little-endian:
 *   0  "FOCALIMC"   8 bytes magic
 *   8  u32 version (IMGCACHE_VERSION)
 *  12  u32 width, height, channels, fundus_crop
 *  28  u32 samples, samples decoded
 *  36  u64 key[2]  (the name's two hashes)
 *  52  u64 payload bytes
 *  60  u32 CRC-32 of the payload
 *  64  payload: per sample u32 id length, id, u8 status (0: decoded, else
 *      the focal_status of the failure) and, for a failure, u32 reason
 *      length, reason; then the pixels of the decoded samples, each
 *      height × width × channels bytes.
 * The key hashes the library version, the options (size, crop) and, per
 * sample, its path, its ID and its file's size, modification time (ns) and
 * inode, or a mark that it does not exist. A file that changes, appears or
 * disappears therefore changes the key: a deleted image is not served from
 * the cache but reported missing as without one. A cache file whose header,
 * CRC, sample count or IDs do not match is ignored, decoded again and
 * rewritten. Old cache files are never removed.
 *
 * Only what would come out the same next time is cached: decoded images and
 * permanent failures (a malformed or oversized file, a missing one — whose
 * absence is part of the key). A load where any image failed for a
 * resource reason (out of memory, a read error on a file that exists) is not
 * written, so a later run decodes those images again.
 *
 * A cache folder that exists but cannot be written still serves hits; a
 * miss is decoded and not saved, and the load leaves a note saying so
 * (focal_dataset_load_note).
 *
 * Test hook: the environment variable FOCAL_TEST_DECODE_NOMEM, a
 * comma-separated list of sample indices, makes decoding those samples
 * report FOCAL_ERR_NOMEM, as a real allocation failure would. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "focal/data.h"
#include "data/dataset_internal.h"
#include "base/rng.h"

#define IMGCACHE_MAGIC "FOCALIMC"
#define IMGCACHE_VERSION 2u /* 2: images smaller than the target are enlarged, no longer refused */
#define IMGCACHE_HEADER 64

/* What the calling thread's last load leaves beside its status. */
static _Thread_local char load_note[512];
static _Thread_local int load_failed_on_image;

const char *focal_dataset_load_note(void)
{
    return load_note;
}

int focal_dataset_load_failed_on_image(void)
{
    return load_failed_on_image;
}

/* 1 when the failure `status` of the image at path would recur on the next
 * load with the same cache key, 0 for a resource failure that may not. */
static int failure_is_permanent(uint8_t status, const char *path)
{
    struct stat sb;
    if (status == FOCAL_ERR_NOMEM)
        return 0;
    if (status == FOCAL_ERR_IO)
        return stat(path, &sb) != 0 && errno == ENOENT; /* missing: part of the key */
    return 1;
}

/* 1 when sample i is in the test hook's list (FOCAL_TEST_DECODE_NOMEM). */
static int hook_nomem(const char *list, int i)
{
    for (const char *s = list; s && *s;) {
        char *end;
        const long k = strtol(s, &end, 10);
        if (end == s)
            return 0;
        if (k == i)
            return 1;
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

/* ---- the key ----------------------------------------------------------------- */

/* Two independent 64-bit hashes of one byte stream: FNV-1a, and a
 * multiply-rotate hash; both are finished by hash_mix. */
struct imgcache_hash {
    uint64_t a, b;
};

/* Starts both hashes from their offset bases. */
static void hash_init(struct imgcache_hash *h)
{
    h->a = 0xcbf29ce484222325ull;
    h->b = 0x243f6a8885a308d3ull;
}

/* Adds the n bytes at p to both hashes. */
static void hash_bytes(struct imgcache_hash *h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ s[i]) * 0x100000001b3ull;
        h->b = (h->b ^ s[i]) * 0x9e3779b97f4a7c15ull;
        h->b = h->b << 29 | h->b >> 35;
    }
}

/* Adds v as 8 little-endian bytes. */
static void hash_u64(struct imgcache_hash *h, uint64_t v)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(v >> (8 * k));
    hash_bytes(h, b, 8);
}

/* Adds a string with its length, so that concatenations cannot collide. */
static void hash_str(struct imgcache_hash *h, const char *s)
{
    const size_t n = s ? strlen(s) : 0;
    hash_u64(h, n);
    hash_bytes(h, s, n);
}

/* z spread over 64 bits: the first output of the library's generator
 * seeded with z (splitmix64 expansion, then xoshiro256**). */
static uint64_t hash_mix(uint64_t z)
{
    struct focal_rng r;
    focal_rng_seed(&r, z);
    return focal_rng_next(&r);
}

/* The key of d's files under opt. */
static void imgcache_key(const struct focal_dataset *d, const struct focal_image_options *opt, uint64_t key[2])
{
    struct imgcache_hash h;
    hash_init(&h);
    hash_str(&h, "focal image cache " FOCAL_VERSION_STRING);
    hash_u64(&h, IMGCACHE_VERSION);
    hash_u64(&h, (uint64_t)opt->width);
    hash_u64(&h, (uint64_t)opt->height);
    hash_u64(&h, opt->fundus_crop ? 1u : 0u);
    hash_u64(&h, (uint64_t)opt->channels);
    hash_u64(&h, (uint64_t)d->n);
    for (int i = 0; i < d->n; i++) {
        struct stat sb;
        hash_str(&h, d->paths[i]);
        hash_str(&h, d->ids ? d->ids[i] : "");
        if (stat(d->paths[i], &sb) == 0) {
            hash_u64(&h, 1);
            hash_u64(&h, (uint64_t)sb.st_size);
            hash_u64(&h, (uint64_t)sb.st_mtim.tv_sec);
            hash_u64(&h, (uint64_t)sb.st_mtim.tv_nsec);
            hash_u64(&h, (uint64_t)sb.st_ino);
        } else {
            hash_u64(&h, 0);
        }
    }
    key[0] = hash_mix(h.a);
    key[1] = hash_mix(h.b);
}

/* ---- the result of loading --------------------------------------------------------- */

/* What loading d's images gave: per sample how and why it failed (FOCAL_OK
 * and NULL when it was decoded), and the decoded samples' pixels, compacted,
 * in order. */
struct imgcache_result {
    int n, n_ok;
    int width, height, channels;
    uint8_t *status;         /* n focal_status values */
    char **reason;           /* n messages naming the file, NULL where decoded */
    uint8_t *pixels;         /* n_ok × height × width × channels */
};

/* Frees what r holds and zeroes it. */
static void result_free(struct imgcache_result *r)
{
    if (r->reason)
        for (int i = 0; i < r->n; i++)
            free(r->reason[i]);
    free(r->reason);
    free(r->status);
    free(r->pixels);
    memset(r, 0, sizeof *r);
}

/* Copies sample i's row (of `size` bytes) of the per-sample array base to
 * row k; nothing when base is NULL. */
static void move_sample(void *base, size_t size, int k, int i)
{
    if (base)
        memcpy((char *)base + (size_t)k * size, (const char *)base + (size_t)i * size, size);
}

/* Moves r into d: removes the samples that were not decoded from every
 * per-sample array of d (their reasons go to *skipped), sets d's pixels and
 * image size. With !skip_bad, a failed sample fails the call instead, naming
 * the first. r is emptied either way, except on failure. */
static focal_status result_apply(struct focal_dataset *d, struct imgcache_result *r, int skip_bad, char ***skipped,
                                 int *n_skipped)
{
    int first_bad = -1;
    for (int i = 0; i < r->n && first_bad < 0; i++)
        if (r->reason[i])
            first_bad = i;
    if (first_bad >= 0 && !skip_bad) {
        load_failed_on_image = r->status[first_bad] != FOCAL_ERR_NOMEM;
        return focal_fail((focal_status)r->status[first_bad], "%s", r->reason[first_bad]);
    }
    if (r->n_ok == 0)
        return focal_fail((focal_status)r->status[0], "no image could be read; the first: %s", r->reason[0]);
    char **list = NULL;
    const int n_bad = r->n - r->n_ok;
    if (n_bad > 0 && skipped && !(list = malloc((size_t)n_bad * sizeof *list)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory listing %d skipped images", n_bad);
    const size_t c = (size_t)d->num_classes, f = (size_t)d->n_features;
    int k = 0, b = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->reason[i]) {
            if (list)
                list[b] = r->reason[i];
            else
                free(r->reason[i]);
            r->reason[i] = NULL;
            b++;
            free(d->paths[i]);
            if (d->ids)
                free(d->ids[i]);
            continue;
        }
        if (k != i) {
            move_sample(d->paths, sizeof *d->paths, k, i);
            move_sample(d->ids, sizeof *d->ids, k, i);
            move_sample(d->label, sizeof *d->label, k, i);
            move_sample(d->labels, c, k, i);
            move_sample(d->risk, 1, k, i);
            move_sample(d->split, 1, k, i);
            move_sample(d->features, f * sizeof *d->features, k, i);
        }
        k++;
    }
    d->n = k;
    free(d->pixels);
    d->pixels = r->pixels;
    d->width = r->width;
    d->height = r->height;
    d->channels = r->channels;
    r->pixels = NULL;
    if (skipped) {
        *skipped = list;
        if (n_skipped)
            *n_skipped = n_bad;
    }
    result_free(r);
    return FOCAL_OK;
}

/* ---- decoding --------------------------------------------------------------------- */

/* Decodes the image at path, crops it to the fundus box if asked, resizes it
 * to the options' size and writes it into out3 (height × width × 3, gray
 * replicated); *gray = 1 for a gray file. An image smaller than the target
 * size is enlarged (bilinear, focal_image_resize). */
static focal_status decode_one(const char *path, const struct focal_image_options *opt, uint8_t *out3, int *gray)
{
    struct focal_image img = { 0, 0, 0, NULL }, crop = { 0, 0, 0, NULL }, small = { 0, 0, 0, NULL };
    focal_status st = focal_image_read(path, &img);
    const struct focal_image *src = &img;
    if (st == FOCAL_OK && opt->fundus_crop) {
        int x, y, w, h;
        focal_image_fundus_box(&img, &x, &y, &w, &h);
        if (w != img.width || h != img.height) {
            st = focal_image_crop(&crop, &img, x, y, w, h);
            src = &crop;
        }
    }
    if (st == FOCAL_OK)
        st = focal_image_resize(&small, src, opt->width, opt->height);
    if (st == FOCAL_OK) {
        const size_t plane = (size_t)opt->width * (size_t)opt->height;
        *gray = small.channels == 1;
        if (small.channels == 1) {
            for (size_t p = 0; p < plane; p++)
                out3[3 * p] = out3[3 * p + 1] = out3[3 * p + 2] = small.data[p];
        } else {
            memcpy(out3, small.data, plane * 3);
        }
    }
    focal_image_release(&img);
    focal_image_release(&crop);
    focal_image_release(&small);
    return st;
}

/* A new copy of the calling thread's last error message, or of a generic
 * one naming path if there is none; NULL when out of memory. */
static char *copy_error(const char *path)
{
    const char *msg = focal_last_error();
    return *msg ? focal_ds_strdup(msg) : focal_ds_concat3(path, ": cannot be decoded", "");
}

/* Decodes every image of d into r, in parallel. Bad images are recorded in
 * r->status and r->reason; without skip_bad, the samples after the first
 * bad one are not decoded and r holds only that one's failure (the call
 * will fail with it). FOCAL_ERR_NOMEM only. */
static focal_status decode_all(const struct focal_dataset *d, const struct focal_image_options *opt,
                               focal_progress_fn progress, void *ctx, struct imgcache_result *r)
{
    const int n = d->n;
    const size_t plane = (size_t)opt->width * (size_t)opt->height;
    r->n = n;
    r->width = opt->width;
    r->height = opt->height;
    r->reason = calloc((size_t)n, sizeof *r->reason);
    r->status = calloc((size_t)n, 1);
    uint8_t *is_gray = calloc((size_t)n, 1);
    r->pixels = malloc((size_t)n * plane * 3);
    if (!r->reason || !r->status || !is_gray || !r->pixels) {
        free(is_gray);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory for %d images of %dx%d", n, opt->width, opt->height);
    }
    const int threads = opt->threads > 0 ? opt->threads : focal_get_threads();
    const char *hook = getenv("FOCAL_TEST_DECODE_NOMEM");
    int first_bad = INT_MAX, done = 0, nomem = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n; i++) {
        int stop;
#pragma omp atomic read
        stop = first_bad;
        if (!opt->skip_bad && i > stop)
            continue;
        int gray = 0;
        const focal_status st = hook_nomem(hook, i)
                                    ? focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory decoding the image", d->paths[i])
                                    : decode_one(d->paths[i], opt, r->pixels + (size_t)i * plane * 3, &gray);
        if (st != FOCAL_OK) {
            r->status[i] = (uint8_t)st;
            r->reason[i] = copy_error(d->paths[i]);
#pragma omp critical(focal_imgcache_bad)
            {
                nomem |= r->reason[i] == NULL;
                if (i < first_bad) {
#pragma omp atomic write
                    first_bad = i;
                }
            }
        }
        is_gray[i] = (uint8_t)gray;
#pragma omp critical(focal_imgcache_progress)
        {
            done++;
            if (progress)
                progress(ctx, done, n);
        }
    }
    if (nomem) {
        free(is_gray);
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory recording why an image could not be read");
    }
    if (!opt->skip_bad && first_bad < n) {
        free(is_gray);
        return FOCAL_OK;
    }
    /* compact the decoded samples; 1 channel when every one is gray */
    int all_gray = 1, k = 0;
    for (int i = 0; i < n; i++)
        if (!r->reason[i])
            all_gray &= is_gray[i];
    free(is_gray);
    if (opt->channels == 3)
        all_gray = 0;
    const int to_luma = opt->channels == 1 && !all_gray;
    if (opt->channels == 1)
        all_gray = 1;
    r->channels = all_gray ? 1 : 3;
    const size_t out_plane = plane * (size_t)r->channels;
    for (int i = 0; i < n; i++) {
        if (r->reason[i])
            continue;
        const uint8_t *src = r->pixels + (size_t)i * plane * 3;
        uint8_t *dst = r->pixels + (size_t)k * out_plane;
        if (to_luma) {
            /* ITU-R BT.601 luma, rounded */
            for (size_t p = 0; p < plane; p++)
                dst[p] = (uint8_t)((299u * src[3 * p] + 587u * src[3 * p + 1] + 114u * src[3 * p + 2] + 500u) / 1000u);
        } else if (all_gray) {
            for (size_t p = 0; p < plane; p++)
                dst[p] = src[3 * p];
        } else if (dst != src) {
            memmove(dst, src, out_plane);
        }
        k++;
    }
    r->n_ok = k;
    uint8_t *shrunk = realloc(r->pixels, k ? (size_t)k * out_plane : 1);
    if (shrunk)
        r->pixels = shrunk;
    return FOCAL_OK;
}

/* ---- the cache file -------------------------------------------------------------- */

/* Little-endian stores and loads of 32- and 64-bit integers at p. */
static void put32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* crc updated with n bytes at p, in pieces zlib's uInt can count. */
static uLong crc_bytes(uLong crc, const uint8_t *p, size_t n)
{
    while (n > 0) {
        const size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        crc = crc32(crc, p, (uInt)chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

/* "<dir>/<key as 32 hex digits>.fcache", or NULL when out of memory. */
static char *cache_path(const char *dir, const uint64_t key[2])
{
    char name[48];
    snprintf(name, sizeof name, "%016llx%016llx.fcache", (unsigned long long)key[0], (unsigned long long)key[1]);
    return focal_ds_concat3(dir, "/", name);
}

/* The ID that identifies sample i in a cache file. */
static const char *sample_id(const struct focal_dataset *d, int i)
{
    return d->ids && d->ids[i] ? d->ids[i] : "";
}

/* Makes dir and its missing parents (mode 0777 & ~umask); FOCAL_ERR_IO naming
 * it, and how to choose another or none, when it cannot be made or is not a
 * folder. *writable: 0 when it exists but cannot be written (it still serves
 * hits). */
static focal_status cache_dir_ready(const char *dir, int *writable)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        char *p = focal_ds_strdup(dir);
        if (!p)
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
        for (char *s = p + 1; *s; s++) {
            if (*s != '/')
                continue;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                break;
            *s = '/';
        }
        const int made = mkdir(p, 0777) == 0 || errno == EEXIST;
        const int e = errno;
        free(p);
        if (!made)
            return focal_fail(FOCAL_ERR_IO, "%s: cannot create the image cache folder: %s; choose a writable one "
                              "with --cache DIR, or decode without a cache with --cache none", dir, strerror(e));
        if (stat(dir, &sb) != 0)
            return focal_fail(FOCAL_ERR_IO, "%s: cannot create the image cache folder; choose a writable one with "
                              "--cache DIR, or decode without a cache with --cache none", dir);
    }
    if (!S_ISDIR(sb.st_mode))
        return focal_fail(FOCAL_ERR_IO, "%s: the image cache folder is not a folder; choose one with --cache DIR, "
                          "or decode without a cache with --cache none", dir);
    *writable = access(dir, W_OK | X_OK) == 0;
    return FOCAL_OK;
}

/* Reads the cache file at path into r if it matches d, opt and key in every
 * respect; 1 on a hit, 0 (r empty) otherwise — a missing, truncated, corrupt
 * or mismatched file is a miss, never an error. */
static int cache_read(const char *path, const struct focal_dataset *d, const struct focal_image_options *opt,
                      const uint64_t key[2], struct imgcache_result *r)
{
    char *text;
    size_t len;
    if (focal_read_file(path, 1, &text, &len) != FOCAL_OK)
        return 0;
    uint8_t *b = (uint8_t *)text;
    memset(r, 0, sizeof *r);
    if (len < IMGCACHE_HEADER || memcmp(b, IMGCACHE_MAGIC, 8) != 0 || get32(b + 8) != IMGCACHE_VERSION)
        goto miss;
    const uint32_t w = get32(b + 12), h = get32(b + 16), ch = get32(b + 20), crop = get32(b + 24);
    const uint32_t n = get32(b + 28), n_ok = get32(b + 32);
    if (w != (uint32_t)opt->width || h != (uint32_t)opt->height || (ch != 1 && ch != 3) ||
        crop != (opt->fundus_crop ? 1u : 0u) || n != (uint32_t)d->n || n_ok > n || get64(b + 36) != key[0] ||
        get64(b + 44) != key[1] || get64(b + 52) != len - IMGCACHE_HEADER ||
        crc_bytes(crc32(0L, Z_NULL, 0), b + IMGCACHE_HEADER, len - IMGCACHE_HEADER) != get32(b + 60))
        goto miss;
    r->n = (int)n;
    r->width = (int)w;
    r->height = (int)h;
    r->channels = (int)ch;
    if (!(r->reason = calloc(n ? n : 1, sizeof *r->reason)) || !(r->status = calloc(n ? n : 1, 1)))
        goto miss;
    size_t p = IMGCACHE_HEADER;
    uint32_t ok_seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *id = sample_id(d, (int)i);
        const size_t idl = strlen(id);
        if (len - p < 4 || get32(b + p) != idl || len - p - 4 < idl + 1 || memcmp(b + p + 4, id, idl) != 0)
            goto miss;
        p += 4 + idl;
        const uint8_t status = b[p++];
        if (status > FOCAL_ERR_NUMERIC)
            goto miss;
        if (status == FOCAL_OK) {
            ok_seen++;
            continue;
        }
        r->status[i] = status;
        if (len - p < 4)
            goto miss;
        const uint32_t rl = get32(b + p);
        if (len - p - 4 < rl || !(r->reason[i] = malloc((size_t)rl + 1)))
            goto miss;
        memcpy(r->reason[i], b + p + 4, rl);
        r->reason[i][rl] = '\0';
        p += 4 + (size_t)rl;
    }
    const size_t pix = (size_t)n_ok * w * h * ch;
    if (ok_seen != n_ok || len - p != pix)
        goto miss;
    memmove(b, b + p, pix);
    uint8_t *shrunk = realloc(b, pix ? pix : 1);
    r->pixels = shrunk ? shrunk : b;
    r->n_ok = (int)n_ok;
    return 1;
miss:
    result_free(r);
    free(text);
    return 0;
}

/* Writes r (d's samples under key) to path atomically. Best effort: a
 * failure leaves no file, returns FOCAL_ERR_IO with the reason, and does not
 * fail the load. */
static focal_status cache_write(const char *path, const struct focal_dataset *d, const struct focal_image_options *opt,
                        const uint64_t key[2], const struct imgcache_result *r)
{
    const size_t pix = (size_t)r->n_ok * (size_t)r->width * (size_t)r->height * (size_t)r->channels;
    uint8_t head[IMGCACHE_HEADER], num[4];
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t payload = pix;
    for (int i = 0; i < r->n; i++) {
        const char *id = sample_id(d, i);
        put32(num, (uint32_t)strlen(id));
        crc = crc_bytes(crc, num, 4);
        crc = crc_bytes(crc, (const uint8_t *)id, strlen(id));
        crc = crc_bytes(crc, &r->status[i], 1);
        payload += 5 + strlen(id);
        if (r->reason[i]) {
            put32(num, (uint32_t)strlen(r->reason[i]));
            crc = crc_bytes(crc, num, 4);
            crc = crc_bytes(crc, (const uint8_t *)r->reason[i], strlen(r->reason[i]));
            payload += 4 + strlen(r->reason[i]);
        }
    }
    crc = crc_bytes(crc, r->pixels, pix);
    memcpy(head, IMGCACHE_MAGIC, 8);
    put32(head + 8, IMGCACHE_VERSION);
    put32(head + 12, (uint32_t)r->width);
    put32(head + 16, (uint32_t)r->height);
    put32(head + 20, (uint32_t)r->channels);
    put32(head + 24, opt->fundus_crop ? 1u : 0u);
    put32(head + 28, (uint32_t)r->n);
    put32(head + 32, (uint32_t)r->n_ok);
    put64(head + 36, key[0]);
    put64(head + 44, key[1]);
    put64(head + 52, payload);
    put32(head + 60, (uint32_t)crc);
    struct focal_wfile wf;
    focal_status st = focal_wfile_open(&wf, path);
    if (st != FOCAL_OK)
        return st;
    fwrite(head, 1, sizeof head, wf.fp);
    for (int i = 0; i < r->n; i++) {
        const char *id = sample_id(d, i);
        put32(num, (uint32_t)strlen(id));
        fwrite(num, 1, 4, wf.fp);
        fwrite(id, 1, strlen(id), wf.fp);
        fwrite(&r->status[i], 1, 1, wf.fp);
        if (r->reason[i]) {
            put32(num, (uint32_t)strlen(r->reason[i]));
            fwrite(num, 1, 4, wf.fp);
            fwrite(r->reason[i], 1, strlen(r->reason[i]), wf.fp);
        }
    }
    fwrite(r->pixels, 1, pix, wf.fp);
    return focal_wfile_commit(&wf);
}

/* ---- the entry point ------------------------------------------------------------- */

focal_status focal_dataset_load_images(struct focal_dataset *d, const struct focal_image_options *opt,
                                       focal_progress_fn progress, void *ctx, char ***skipped, int *n_skipped)
{
    if (skipped)
        *skipped = NULL;
    if (n_skipped)
        *n_skipped = 0;
    load_note[0] = '\0';
    load_failed_on_image = 0;
    if (!d->paths || d->n <= 0)
        return focal_fail(FOCAL_ERR_ARG, "the dataset has no image files to decode (its pixels or features are "
                          "already in memory)");
    size_t total;
    if (opt->width < 1 || opt->height < 1 || opt->width > FOCAL_IMAGE_MAX_SIDE || opt->height > FOCAL_IMAGE_MAX_SIDE ||
        (uint64_t)opt->width * (uint64_t)opt->height > FOCAL_IMAGE_MAX_PIXELS ||
        focal_ds_mul3((size_t)opt->width * (size_t)opt->height, 3, (size_t)d->n, &total) != 0)
        return focal_fail(FOCAL_ERR_ARG, "image size %dx%d for %d images; expected 1 to %d pixels a side", opt->width,
                          opt->height, d->n, FOCAL_IMAGE_MAX_SIDE);
    struct imgcache_result r;
    memset(&r, 0, sizeof r);
    uint64_t key[2] = { 0, 0 };
    char *cpath = NULL;
    focal_status st = FOCAL_OK;
    int hit = 0, writable = 1;
    if (opt->cache_dir) {
        if ((st = cache_dir_ready(opt->cache_dir, &writable)) != FOCAL_OK)
            return st;
        imgcache_key(d, opt, key);
        if (!(cpath = cache_path(opt->cache_dir, key)))
            return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        hit = cache_read(cpath, d, opt, key, &r);
        if (hit && progress)
            progress(ctx, d->n, d->n);
    }
    if (!hit) {
        st = decode_all(d, opt, progress, ctx, &r);
        int lasting = st == FOCAL_OK && (opt->skip_bad || r.n_ok == r.n);
        for (int i = 0; lasting && i < r.n; i++)
            lasting = !r.reason[i] || failure_is_permanent(r.status[i], d->paths[i]);
        if (lasting && cpath && !writable) {
            snprintf(load_note, sizeof load_note, "%s: the image cache folder cannot be written; the images were "
                     "decoded but not saved to it (cached ones are still read)", opt->cache_dir);
        } else if (lasting && cpath && cache_write(cpath, d, opt, key, &r) != FOCAL_OK) {
            snprintf(load_note, sizeof load_note, "the decoded images could not be saved to the cache: %s",
                     focal_last_error());
        }
    }
    free(cpath);
    if (st == FOCAL_OK)
        st = result_apply(d, &r, opt->skip_bad, skipped, n_skipped);
    result_free(&r);
    if (st == FOCAL_OK)
        focal_clear_error();
    return st;
}
