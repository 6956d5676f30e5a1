/* test_imgcache.c — focal_dataset_load_images: decoding, fundus crop and
 * resizing against the image functions applied one by one; gray and mixed
 * datasets; thread counts; progress; bad images (error or skip, with every
 * per-sample array compacted); and the cache: a second load is served from
 * it (shown by changing an image's bytes behind the cache's back), a new
 * modification time invalidates it, a corrupt or truncated cache file is
 * ignored and rewritten. With ../shared/data, the 10 real RFMiD images at
 * 450×300, timed with and without the cache. */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

static const char *source_dir;   /* the source tree */

/* Writes a w × h image with c channels whose pixels follow a pattern drawn
 * from seed as dir/name (PNG). */
static void write_png(const char *name, int w, int h, int c, unsigned seed)
{
    struct focal_image img = { w, h, c, malloc((size_t)w * (size_t)h * (size_t)c) };
    for (int i = 0; i < w * h * c; i++)
        img.data[i] = (uint8_t)((i * 7 + seed * 31 + (i / c) % w * 3) & 0xff);
    if (focal_image_write_png(path_in(name), &img) != FOCAL_OK) {
        fprintf(stderr, "cannot write %s: %s\n", name, focal_last_error());
        exit(1);
    }
    focal_image_release(&img);
}

/* A fundus-like picture: black, with a bright disc-shaped block at (x0, y0)
 * of bw × bh. */
static void write_fundus(const char *name, int w, int h, int x0, int y0, int bw, int bh)
{
    struct focal_image img = { w, h, 3, calloc((size_t)w * (size_t)h * 3, 1) };
    for (int y = y0; y < y0 + bh; y++)
        for (int x = x0; x < x0 + bw; x++)
            for (int k = 0; k < 3; k++)
                img.data[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)k] = (uint8_t)(120 + (x + 2 * y + k) % 100);
    if (focal_image_write_png(path_in(name), &img) != FOCAL_OK) {
        fprintf(stderr, "cannot write %s: %s\n", name, focal_last_error());
        exit(1);
    }
    focal_image_release(&img);
}

/* The pixels the loader should give for the file at path: decoded, cropped
 * to the fundus box when crop, resized to w × h, expanded to `channels`.
 * Returns a new buffer, or NULL after a failed check. */
static uint8_t *reference(const char *path, int w, int h, int crop, int channels)
{
    struct focal_image img, cut = { 0, 0, 0, NULL }, small;
    if (focal_image_read(path, &img) != FOCAL_OK) {
        CHECKF(0, "reference: %s", focal_last_error());
        return NULL;
    }
    const struct focal_image *src = &img;
    if (crop) {
        int x, y, bw, bh;
        focal_image_fundus_box(&img, &x, &y, &bw, &bh);
        CHECK(focal_image_crop(&cut, &img, x, y, bw, bh) == FOCAL_OK);
        src = &cut;
    }
    CHECK(focal_image_resize(&small, src, w, h) == FOCAL_OK);
    uint8_t *out = malloc((size_t)w * (size_t)h * (size_t)channels);
    for (int p = 0; p < w * h; p++)
        for (int k = 0; k < channels; k++)
            out[p * channels + k] = small.data[p * small.channels + (small.channels == 3 ? k : 0)];
    focal_image_release(&img);
    focal_image_release(&cut);
    focal_image_release(&small);
    return out;
}

/* Checks every sample of d against reference() of its file. */
static void check_pixels(const struct focal_dataset *d, int crop)
{
    const size_t plane = (size_t)d->width * (size_t)d->height * (size_t)d->channels;
    for (int i = 0; i < d->n; i++) {
        uint8_t *want = reference(d->paths[i], d->width, d->height, crop, d->channels);
        if (!want)
            continue;
        CHECKF(memcmp(d->pixels + (size_t)i * plane, want, plane) == 0, "sample %d (%s) differs from the reference", i,
               d->paths[i]);
        free(want);
    }
}

/* focal_dataset_open with the defaults, checked; NULL on failure. */
static struct focal_dataset *open_ds(const char *path)
{
    struct focal_dataset *d = NULL;
    focal_status st = focal_dataset_open(path, NULL, &d);
    CHECKF(st == FOCAL_OK, "%s: %s", path, focal_last_error());
    return d;
}

/* Progress calls: their number and whether done rose by one each time. */
struct progress_log {
    int calls, last, ordered, total;
};

/* A focal_progress_fn that records its calls in a progress_log. */
static void on_progress(void *ctx, int done, int total)
{
    struct progress_log *p = ctx;
    p->ordered &= done == p->last + 1;
    p->last = done;
    p->total = total;
    p->calls++;
}

/* Frees a skipped list. */
static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Pixels against the reference, gray and mixed sets, threads, crop, bad arguments. */
static void test_decode(void)
{
    mkdir_in("cls");
    mkdir_in("cls/a");
    mkdir_in("cls/b");
    write_png("cls/a/1.png", 40, 30, 3, 1);
    write_png("cls/a/2.png", 17, 23, 1, 2);    /* gray, another size */
    write_png("cls/b/3.png", 16, 12, 3, 3);    /* a fractional shrink */
    struct focal_dataset *d = open_ds(path_in("cls"));
    if (!d)
        return;
    struct focal_image_options opt = { 12, 10, 0, 0, NULL, 2, 0 };
    struct progress_log log = { 0, 0, 1, 0 };
    char **skipped = (char **)1;
    int n_skipped = -1;
    CHECKF(focal_dataset_load_images(d, &opt, on_progress, &log, &skipped, &n_skipped) == FOCAL_OK, "%s",
           focal_last_error());
    CHECK(skipped == NULL && n_skipped == 0);
    CHECK(log.calls == 3 && log.ordered && log.last == 3 && log.total == 3);
    CHECK(d->n == 3 && d->width == 12 && d->height == 10 && d->channels == 3 && d->pixels != NULL);
    if (d->pixels)
        check_pixels(d, 0);
    const size_t bytes = 3 * 12 * 10 * 3;
    uint8_t *first = malloc(bytes);
    memcpy(first, d->pixels, bytes);
    /* loading again replaces the pixels; one thread gives the same bytes */
    opt.threads = 1;
    CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_OK);
    CHECK(d->pixels && memcmp(d->pixels, first, bytes) == 0);
    free(first);
    focal_dataset_free(d);

    /* every image gray: one channel */
    mkdir_in("gray");
    mkdir_in("gray/x");
    write_png("gray/x/1.png", 9, 9, 1, 4);
    write_png("gray/x/2.png", 5, 7, 1, 5);
    if ((d = open_ds(path_in("gray"))) != NULL) {
        struct focal_image_options g = { 4, 3, 0, 0, NULL, 0, 0 };
        CHECK(focal_dataset_load_images(d, &g, NULL, NULL, NULL, NULL) == FOCAL_OK);
        CHECK(d->channels == 1 && d->width == 4 && d->height == 3);
        if (d->pixels)
            check_pixels(d, 0);
        focal_dataset_free(d);
    }

    /* fundus crop */
    mkdir_in("fundus");
    mkdir_in("fundus/r");
    write_fundus("fundus/r/1.png", 90, 60, 25, 8, 40, 44);
    if ((d = open_ds(path_in("fundus"))) != NULL) {
        struct focal_image_options f = { 20, 22, 1, 0, NULL, 0, 0 };
        CHECK(focal_dataset_load_images(d, &f, NULL, NULL, NULL, NULL) == FOCAL_OK);
        CHECK(d->channels == 3 && d->pixels);
        if (d->pixels)
            check_pixels(d, 1);
        /* the crop removed the black border: the output's corners are bright */
        CHECK(d->pixels && d->pixels[0] >= 100 && d->pixels[(20 * 22 - 1) * 3] >= 100);
        focal_dataset_free(d);
    }

    /* an image smaller than the target size is enlarged, bilinear (focal_image_resize) */
    mkdir_in("small");
    mkdir_in("small/x");
    write_png("small/x/1.png", 40, 30, 3, 6);
    write_png("small/x/2.png", 8, 6, 3, 7);
    int sw = 0, sh = 0;
    CHECK(focal_image_read_size(path_in("small/x/2.png"), &sw, &sh) == FOCAL_OK && sw == 8 && sh == 6);
    CHECK(focal_image_read_size(path_in("small/x/1.png"), &sw, &sh) == FOCAL_OK && sw == 40 && sh == 30);
    if ((d = open_ds(path_in("small"))) != NULL) {
        struct focal_image_options sm = { 12, 10, 0, 0, NULL, 0, 0 };
        CHECK(focal_dataset_load_images(d, &sm, NULL, NULL, NULL, NULL) == FOCAL_OK);
        CHECK(d->pixels != NULL && d->n == 2 && d->width == 12 && d->height == 10);
        struct focal_image src = {0, 0, 0, NULL}, big = {0, 0, 0, NULL};
        if (d->pixels && focal_image_read(path_in("small/x/2.png"), &src) == FOCAL_OK &&
            focal_image_resize(&big, &src, 12, 10) == FOCAL_OK)
            CHECK(memcmp(d->pixels + 12 * 10 * 3, big.data, 12 * 10 * 3) == 0);
        else
            CHECK(!"reading and resizing 2.png");
        focal_image_release(&src);
        focal_image_release(&big);
        focal_dataset_free(d);
    }

    /* argument errors */
    struct focal_image_options bad = { 0, 10, 0, 0, NULL, 0, 0 };
    if ((d = open_ds(path_in("gray"))) != NULL) {
        CHECK(focal_dataset_load_images(d, &bad, NULL, NULL, NULL, NULL) == FOCAL_ERR_ARG);
        CHECK(strstr(focal_last_error(), "image size 0x10") != NULL);
        CHECK(d->pixels == NULL && d->n == 2);
        focal_dataset_free(d);
    }
    char npz[600];
    snprintf(npz, sizeof npz, "%s/tests/fixtures/datasets/tiny.npz", source_dir);
    if ((d = open_ds(npz)) != NULL) {
        struct focal_image_options o = { 4, 4, 0, 0, NULL, 0, 0 };
        CHECK(focal_dataset_load_images(d, &o, NULL, NULL, NULL, NULL) == FOCAL_ERR_ARG);
        CHECK(strstr(focal_last_error(), "no image files") != NULL);
        focal_dataset_free(d);
    }
}

/* A missing and a corrupt image: an error naming the first, or skipped with
 * every per-sample array compacted. */
static void test_bad_images(void)
{
    mkdir_in("rb");
    mkdir_in("rb/images");
    put("rb/labels.csv", "ID,Disease_Risk,DR,MH\n1,1,1,0\n2,0,0,0\n3,1,0,1\n4,1,1,1\n",
        strlen("ID,Disease_Risk,DR,MH\n1,1,1,0\n2,0,0,0\n3,1,0,1\n4,1,1,1\n"));
    write_png("rb/images/1.png", 10, 10, 3, 6);
    put("rb/images/3.png", "\x89PNG\r\n\x1a\nbroken", 14);   /* corrupt */
    write_png("rb/images/4.png", 12, 9, 3, 7);               /* 2.png is missing */
    struct focal_data_options dopt;
    memset(&dopt, 0, sizeof dopt);
    struct focal_dataset *d = NULL;
    CHECK(focal_dataset_open(path_in("rb/labels.csv"), &dopt, &d) == FOCAL_OK);
    if (!d)
        return;
    struct focal_image_options opt = { 6, 5, 0, 0, NULL, 0, 0 };
    char **skipped = NULL;
    int n_skipped = 0;
    focal_status st = focal_dataset_load_images(d, &opt, NULL, NULL, &skipped, &n_skipped);
    CHECK(st == FOCAL_ERR_IO);
    CHECKF(strstr(focal_last_error(), "rb/images/2.png") != NULL, "message '%s'", focal_last_error());
    CHECK(d->n == 4 && d->pixels == NULL && skipped == NULL && n_skipped == 0);

    opt.skip_bad = 1;
    opt.threads = 3;
    st = focal_dataset_load_images(d, &opt, NULL, NULL, &skipped, &n_skipped);
    CHECKF(st == FOCAL_OK, "%s", focal_last_error());
    CHECK(d->n == 2 && n_skipped == 2 && skipped != NULL);
    if (d->n == 2 && n_skipped == 2 && skipped) {
        CHECK(strstr(skipped[0], "2.png") != NULL && strstr(skipped[1], "3.png") != NULL);
        CHECK(strcmp(d->ids[0], "1") == 0 && strcmp(d->ids[1], "4") == 0);
        CHECK(strstr(d->paths[1], "4.png") != NULL);
        CHECK(d->labels[0] == 1 && d->labels[1] == 0 && d->labels[2] == 1 && d->labels[3] == 1);
        CHECK(d->risk[0] == 1 && d->risk[1] == 1);
        check_pixels(d, 0);
    }
    free_list(skipped, n_skipped);
    focal_dataset_free(d);

    /* nothing readable */
    mkdir_in("allbad");
    mkdir_in("allbad/c");
    put("allbad/c/1.png", "nope", 4);
    if ((d = open_ds(path_in("allbad"))) != NULL) {
        CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, &skipped, &n_skipped) == FOCAL_ERR_FORMAT);
        CHECK(strstr(focal_last_error(), "no image could be read") && strstr(focal_last_error(), "1.png"));
        CHECK(d->n == 1 && skipped == NULL);
        focal_dataset_free(d);
    }
}

/* Number of *.fcache files in dir/name. */
static int count_cache_files(const char *name)
{
    DIR *dp = opendir(path_in(name));
    int n = 0;
    struct dirent *e;
    while (dp && (e = readdir(dp)) != NULL)
        n += strstr(e->d_name, ".fcache") != NULL && !strstr(e->d_name, ".tmp");
    if (dp)
        closedir(dp);
    return n;
}

/* The path of the one cache file in dir/name, in buf. */
static const char *cache_file(const char *name, char *buf, size_t n)
{
    DIR *dp = opendir(path_in(name));
    struct dirent *e;
    buf[0] = '\0';
    while (dp && (e = readdir(dp)) != NULL)
        if (strstr(e->d_name, ".fcache"))
            snprintf(buf, n, "%s/%s", path_in(name), e->d_name);
    if (dp)
        closedir(dp);
    return buf;
}

/* Overwrites the file at path in place (same inode and size) with garbage
 * and gives it back its modification time. */
static void scribble_keep_mtime(const char *path)
{
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL);
    if (!fp)
        return;
    for (off_t k = 0; k < sb.st_size; k++)
        fputc('z', fp);
    fclose(fp);
    struct timespec times[2] = { sb.st_atim, sb.st_mtim };
    CHECK(utimensat(AT_FDCWD, path, times, 0) == 0);
}

/* Loads the dataset at dir/name with opt into a new dataset (NULL on failure). */
static struct focal_dataset *load(const char *name, const struct focal_image_options *opt, focal_status *st)
{
    struct focal_dataset *d = open_ds(path_in(name));
    if (!d)
        return NULL;
    *st = focal_dataset_load_images(d, opt, NULL, NULL, NULL, NULL);
    if (*st != FOCAL_OK) {
        focal_dataset_free(d);
        return NULL;
    }
    return d;
}

/* Hits, invalidation, corrupt and truncated cache files, remembered skips,
 * a cache folder that cannot be made. */
static void test_cache(void)
{
    mkdir_in("cc");
    mkdir_in("cc/k");
    write_png("cc/k/1.png", 30, 20, 3, 8);
    write_png("cc/k/2.png", 20, 30, 3, 9);
    char cache_dir[600];
    snprintf(cache_dir, sizeof cache_dir, "%s", path_in("cache/sub"));  /* made with its parent */
    struct focal_image_options opt = { 8, 8, 0, 0, cache_dir, 2, 0 };
    focal_status st;
    struct focal_dataset *d = load("cc", &opt, &st);
    CHECKF(d != NULL, "%s", focal_last_error());
    if (!d)
        return;
    CHECK(count_cache_files("cache/sub") == 1);
    const size_t bytes = (size_t)d->n * 8 * 8 * 3;
    uint8_t *want = malloc(bytes);
    memcpy(want, d->pixels, bytes);
    focal_dataset_free(d);

    /* served from the cache: the file's bytes changed behind its back */
    char img[600];
    snprintf(img, sizeof img, "%s", path_in("cc/k/2.png"));
    scribble_keep_mtime(img);
    struct progress_log log = { 0, 0, 1, 0 };
    if ((d = open_ds(path_in("cc"))) != NULL) {
        CHECKF(focal_dataset_load_images(d, &opt, on_progress, &log, NULL, NULL) == FOCAL_OK, "%s",
               focal_last_error());
        CHECK(d->pixels && d->n == 2 && d->channels == 3 && memcmp(d->pixels, want, bytes) == 0);
        CHECK(log.calls == 1 && log.last == 2 && log.total == 2);
        focal_dataset_free(d);
    }
    /* other options: another key, so the scribbled file is decoded and fails */
    struct focal_image_options other = opt;
    other.width = 9;
    d = load("cc", &other, &st);
    CHECK(d == NULL && st == FOCAL_ERR_FORMAT && strstr(focal_last_error(), "2.png"));

    /* a new modification time invalidates the entry */
    struct timespec later[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
    struct stat before;
    stat(img, &before);
    later[1].tv_sec = before.st_mtim.tv_sec + 10;
    later[1].tv_nsec = 0;
    CHECK(utimensat(AT_FDCWD, img, later, 0) == 0);
    d = load("cc", &opt, &st);
    CHECK(d == NULL && st == FOCAL_ERR_FORMAT && strstr(focal_last_error(), "2.png"));

    /* the real image back: decoded, cached anew */
    write_png("cc/k/2.png", 20, 30, 3, 9);
    d = load("cc", &opt, &st);
    CHECK(d && memcmp(d->pixels, want, bytes) == 0);
    focal_dataset_free(d);
    CHECK(count_cache_files("cache/sub") == 2);

    /* a corrupt cache file is ignored and rewritten; so is a truncated one */
    remove_tree(path_in("cache"));
    d = load("cc", &opt, &st);
    focal_dataset_free(d);
    char cf[700];
    cache_file("cache/sub", cf, sizeof cf);
    size_t len;
    unsigned char *good = read_file(cf, &len);
    unsigned char *bad = malloc(len);
    memcpy(bad, good, len);
    bad[len - 5] ^= 0x40;   /* a pixel */
    write_new_file(cf, bad, len);
    d = load("cc", &opt, &st);
    CHECK(d && memcmp(d->pixels, want, bytes) == 0);
    focal_dataset_free(d);
    size_t len2;
    unsigned char *again = read_file(cf, &len2);
    CHECK(len2 == len && memcmp(again, good, len) == 0);
    free(again);
    const size_t cuts[] = { 0, 10, 63, 64, 70, len / 2, len - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_new_file(cf, good, cuts[k]);
        d = load("cc", &opt, &st);
        CHECKF(d && memcmp(d->pixels, want, bytes) == 0, "cache cut at %zu", cuts[k]);
        focal_dataset_free(d);
        again = read_file(cf, &len2);
        CHECKF(len2 == len && memcmp(again, good, len) == 0, "cache cut at %zu: not rewritten", cuts[k]);
        free(again);
    }
    free(good);
    free(bad);
    free(want);

    /* skipped images are remembered with their reasons */
    put("cc/k/3.png", "bad", 3);
    opt.skip_bad = 1;
    char **skipped = NULL;
    int n_skipped = 0;
    for (int round = 0; round < 2; round++) {
        if ((d = open_ds(path_in("cc"))) == NULL)
            break;
        CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, &skipped, &n_skipped) == FOCAL_OK);
        CHECK(d->n == 2 && n_skipped == 1 && skipped && strstr(skipped[0], "3.png"));
        free_list(skipped, n_skipped);
        focal_dataset_free(d);
    }
    opt.skip_bad = 0;
    d = load("cc", &opt, &st);    /* from the cache, the bad image still fails the call */
    CHECK(d == NULL && st == FOCAL_ERR_FORMAT && strstr(focal_last_error(), "3.png"));

    /* a cache folder that cannot be made */
    put("notadir", "x", 1);
    opt.cache_dir = path_in("notadir");
    d = load("cc", &opt, &st);
    CHECK(d == NULL && st == FOCAL_ERR_IO && strstr(focal_last_error(), "notadir"));
}

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The 10 real RFMiD training images at 450×300 with the fundus crop, timed
 * without and with the cache. */
static void test_real_rfmid(void)
{
    const char *shared = getenv("FOCAL_SHARED_DATA");
    char csv[700], images[700];
    snprintf(csv, sizeof csv, "%s/rfmid/RFMiD_Training_Labels.csv", shared ? shared : "");
    snprintf(images, sizeof images, "%s/rfmid/images", shared ? shared : "");
    struct stat sb;
    if (!shared || stat(csv, &sb) != 0 || stat(images, &sb) != 0) {
        printf("skip: real RFMiD images (../shared/data not found)\n");
        return;
    }
    /* a label file with the first ten rows, whose images are there */
    size_t len;
    unsigned char *text = read_file(csv, &len);
    size_t cut = 0;
    for (int lines = 0; cut < len && lines < 11; cut++)
        lines += text[cut] == '\n';
    put("RFMiD_Training_Labels.csv", text, cut);
    free(text);
    struct focal_data_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.images = images;
    char cache_dir[600];
    snprintf(cache_dir, sizeof cache_dir, "%s", path_in("rfcache"));
    struct focal_image_options opt = { 450, 300, 1, 0, cache_dir, 0, 0 };
    uint8_t *first = NULL;
    for (int round = 0; round < 2; round++) {
        struct focal_dataset *d = NULL;
        CHECK(focal_dataset_open(path_in("RFMiD_Training_Labels.csv"), &dopt, &d) == FOCAL_OK);
        if (!d)
            return;
        const double t0 = now();
        const focal_status st = focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL);
        const double dt = now() - t0;
        CHECKF(st == FOCAL_OK, "%s", focal_last_error());
        CHECK(d->n == 10 && d->channels == 3 && d->width == 450 && d->height == 300);
        printf("real RFMiD: 10 images at 450x300 with fundus crop, %d threads, %s: %.3f s\n", focal_get_threads(),
               round ? "from the cache" : "decoded", dt);
        const size_t bytes = (size_t)10 * 450 * 300 * 3;
        if (st == FOCAL_OK && round == 0) {
            first = malloc(bytes);
            memcpy(first, d->pixels, bytes);
            check_pixels(d, 1);
        } else if (st == FOCAL_OK && first) {
            CHECK(memcmp(first, d->pixels, bytes) == 0);
            CHECK(dt < 1.0);
        }
        focal_dataset_free(d);
    }
    free(first);
}

int main(void)
{
    source_dir = check_source_dir("test_imgcache");
    if (!source_dir || make_scratch_dir("focal-imgcache") != 0)
        return 1;
    test_decode();
    test_bad_images();
    test_cache();
    test_real_rfmid();
    remove_tree(dir);
    return check_done("test_imgcache");
}
