/* Fuzzes the image cache's reader: a dataset of two 8 × 8 PNG files is made
 * once and loaded at 4 × 4 with a cache folder, which writes its cache entry;
 * then each input replaces that entry and the dataset is loaded again.
 * Input: byte 0 bit 0 set = "fix up": the rest is the entry with its key,
 * payload length and CRC-32 fields (bytes 36..63) replaced by the right ones,
 * so that the fuzzer reaches the payload's parser; clear = the rest is the
 * entry as it is.
 * Promises checked: the load either uses the entry (one progress call) or
 * ignores it, decodes the images (a progress call each) and rewrites the
 * entry to the bytes the first load wrote, with the first load's pixels; it
 * fails only with a status and a message (a used entry may record failures),
 * and a success has 1 or 2 samples of 4 × 4 × (1 or 3) readable pixels.
 * Bound: runs under -rss_limit_mb=2048 -malloc_limit_mb=1024. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include "fuzz.h"

static char entry[1024];                /* the cache entry's path */
static uint8_t *ref_entry;              /* its bytes after the first load */
static size_t ref_entry_len;
static uint8_t ref_pixels[2 * 4 * 4 * 3];
static int ref_channels;

static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void count_progress(void *ctx, int done, int total)
{
    (void)done;
    (void)total;
    ++*(int *)ctx;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    char *text;
    if (focal_read_file(path, 1, &text, len) != FOCAL_OK)
        return NULL;
    return (uint8_t *)text;
}

/* Opens the two-image dataset and loads it through the cache; returns the
 * status, the dataset in *out (freed by the caller) and the progress calls. */
static focal_status load(struct focal_dataset **out, int *calls)
{
    const char *inputs[1] = { fuzz_path("img") };
    FUZZ_ASSERT(focal_dataset_from_images(inputs, 1, out) == FOCAL_OK && (*out)->n == 2);
    struct focal_image_options opt;
    memset(&opt, 0, sizeof opt);
    opt.width = opt.height = 4;
    opt.skip_bad = 1;
    opt.threads = 1;
    opt.cache_dir = fuzz_path("cache");
    *calls = 0;
    char **skipped = NULL;
    int n_skipped = 0;
    const focal_status st = focal_dataset_load_images(*out, &opt, count_progress, calls, &skipped, &n_skipped);
    for (int i = 0; i < n_skipped; i++)
        free(skipped[i]);
    free(skipped);
    return st;
}

static void setup(void)
{
    mkdir(fuzz_path("img"), 0700);
    uint8_t px[8 * 8 * 3];
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < (int)sizeof px; i++)
            px[i] = (uint8_t)(i * (k ? 7 : 3) + k * 50);
        struct focal_image img = { 8, 8, 3, px };
        FUZZ_ASSERT(focal_image_write_png(fuzz_path(k ? "img/b.png" : "img/a.png"), &img) == FOCAL_OK);
    }
    struct focal_dataset *d;
    int calls;
    FUZZ_ASSERT(load(&d, &calls) == FOCAL_OK && d->n == 2 && calls == 2);
    ref_channels = d->channels;
    memcpy(ref_pixels, d->pixels, (size_t)2 * 4 * 4 * (size_t)d->channels);
    focal_dataset_free(d);
    DIR *dir = opendir(fuzz_path("cache"));
    FUZZ_ASSERT(dir != NULL);
    struct dirent *e;
    while ((e = readdir(dir)))
        if (strstr(e->d_name, ".fcache"))
            snprintf(entry, sizeof entry, "%s/cache/%s", fuzz_dir(), e->d_name);
    closedir(dir);
    FUZZ_ASSERT(entry[0] != '\0');
    ref_entry = read_all(entry, &ref_entry_len);
    FUZZ_ASSERT(ref_entry != NULL && ref_entry_len >= 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ref_entry)
        setup();
    if (size < 1)
        return 0;
    uint8_t *file = malloc(size);
    FUZZ_ASSERT(file != NULL);
    memcpy(file, data + 1, size - 1);
    const size_t len = size - 1;
    if ((data[0] & 1) && len >= 64) {
        memcpy(file + 36, ref_entry + 36, 16);
        put_le(file + 52, len - 64, 8);
        put_le(file + 60, crc32_bytes(file + 64, len - 64), 4);
    }
    fuzz_write(entry, file, len);
    free(file);

    struct focal_dataset *d;
    int calls;
    const focal_status st = load(&d, &calls);
    FUZZ_ASSERT(calls == 1 || calls == 2);
    if (calls == 2) {
        /* ignored: decoded again, and the entry rewritten as the first time */
        FUZZ_ASSERT(st == FOCAL_OK && d->n == 2 && d->channels == ref_channels);
        FUZZ_ASSERT(memcmp(d->pixels, ref_pixels, (size_t)2 * 4 * 4 * (size_t)d->channels) == 0);
        size_t got_len;
        uint8_t *got = read_all(entry, &got_len);
        FUZZ_ASSERT(got != NULL && got_len == ref_entry_len && memcmp(got, ref_entry, got_len) == 0);
        free(got);
    } else if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
    } else {
        /* used: whatever the entry says, but shaped as asked */
        FUZZ_ASSERT(d->n >= 1 && d->n <= 2 && d->width == 4 && d->height == 4);
        FUZZ_ASSERT(d->channels == 1 || d->channels == 3);
        FUZZ_ASSERT(d->pixels != NULL);
        volatile uint8_t x = d->pixels[(size_t)d->n * 4 * 4 * (size_t)d->channels - 1];
        (void)x;
    }
    focal_dataset_free(d);
    return 0;
}
