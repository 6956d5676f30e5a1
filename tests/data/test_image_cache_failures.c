/* test_image_cache_failures.c — what the image cache must not remember and
 * where it must not stand in the way: a decode that ran out of memory (the
 * FOCAL_TEST_DECODE_NOMEM hook) is not cached, so the next load decodes the
 * image; a cache folder that exists but cannot be written still serves hits
 * and decodes misses without saving, leaving a note; a folder that cannot be
 * made names --cache none; whether a failed load was one image's (the skip
 * hint's condition); and a dataset of one class is refused. The read-only
 * case runs in a child process that, under root (which writes anywhere),
 * first becomes the unprivileged user 65534. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

static void write_png(const char *name, int w, int h, unsigned seed)
{
    struct focal_image img = { w, h, 3, malloc((size_t)w * (size_t)h * 3) };
    for (int i = 0; i < w * h * 3; i++)
        img.data[i] = (uint8_t)((i * 7 + seed * 31) & 0xff);
    if (focal_image_write_png(path_in(name), &img) != FOCAL_OK) {
        fprintf(stderr, "cannot write %s: %s\n", name, focal_last_error());
        exit(1);
    }
    focal_image_release(&img);
}

static struct focal_dataset *open_ds(const char *path)
{
    struct focal_dataset *d = NULL;
    CHECKF(focal_dataset_open(path, NULL, &d) == FOCAL_OK, "%s: %s", path, focal_last_error());
    return d;
}

static void count_calls(void *ctx, int done, int total)
{
    (void)done, (void)total;
    ++*(int *)ctx;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Loads cls with skip and the cache folder `cache`; returns how many images
 * were skipped (−1 on failure) and the progress calls in *calls (1: a hit). */
static int load(const char *cache, int size, int *calls)
{
    struct focal_dataset *d = open_ds(path_in("cls"));
    if (!d)
        return -1;
    struct focal_image_options opt = { size, size, 0, 1, cache, 2, 0 };
    char **skipped = NULL;
    int n_skipped = 0;
    *calls = 0;
    const focal_status st = focal_dataset_load_images(d, &opt, count_calls, calls, &skipped, &n_skipped);
    CHECKF(st == FOCAL_OK, "load: %s", focal_last_error());
    const int n = st == FOCAL_OK ? n_skipped : -1;
    free_list(skipped, n_skipped);
    focal_dataset_free(d);
    return n;
}

/* An out-of-memory failure with skip: the image is left out of this load but
 * not cached as bad; the next load without the failure decodes it. */
static void test_nomem_not_cached(void)
{
    char cache[512];
    snprintf(cache, sizeof cache, "%s", mkdir_in("cache-nomem"));
    int calls;
    setenv("FOCAL_TEST_DECODE_NOMEM", "1,3", 1);
    CHECK(load(cache, 8, &calls) == 2 && calls == 6);
    unsetenv("FOCAL_TEST_DECODE_NOMEM");
    const int again = load(cache, 8, &calls);
    CHECKF(again == 0 && calls == 6, "after an out-of-memory load: %d skipped, %d progress calls (1: a cache hit)",
           again, calls);
    /* with every image decoded it is cached: the third load is a hit */
    CHECK(load(cache, 8, &calls) == 0 && calls == 1);
    /* a permanent failure (a malformed file) is cached with the rest */
    put("cls/b/bad.png", "not a png", 9);
    CHECK(load(cache, 8, &calls) == 1 && calls == 7);
    CHECK(load(cache, 8, &calls) == 1 && calls == 1);
    unlink(path_in("cls/b/bad.png"));
}

/* Read-only cache folder: hits are served; a miss is decoded, not written,
 * and said once. Run as a user the folder's permissions apply to. */
static void case_read_only(void)
{
    char cache[512];
    snprintf(cache, sizeof cache, "%s", path_in("cache-ro"));
    if (mkdir(cache, 0755) != 0) {
        CHECKF(0, "mkdir %s", cache);
        return;
    }
    int calls;
    CHECK(load(cache, 8, &calls) == 0 && calls == 6);
    CHECK(strcmp(focal_dataset_load_note(), "") == 0);
    chmod(cache, 0555);
    const int hit = load(cache, 8, &calls);
    CHECKF(hit == 0 && calls == 1, "read-only cache: %d skipped, %d progress calls (1: a hit): %s", hit, calls,
           focal_last_error());
    CHECK(load(cache, 9, &calls) == 0 && calls == 6);
    CHECKF(strstr(focal_dataset_load_note(), "cannot be written") != NULL, "note '%s'", focal_dataset_load_note());
    int files = 0;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls '%s' | wc -l", cache);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (fscanf(p, "%d", &files) != 1)
            files = -1;
        pclose(p);
    }
    CHECKF(files == 1, "the read-only cache holds %d files; expected the first one only", files);
    chmod(cache, 0755);
}

static void test_read_only_cache(void)
{
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        check_failed = 0;
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
            fprintf(stderr, "cannot become user 65534\n");
            _exit(1);
        }
        case_read_only();
        fflush(stdout);
        _exit(check_failed != 0);
    }
    int status = 0;
    CHECKF(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "read-only cache: the case failed (status %d)", status);
}

/* Which failures the skip hint is for, and the cache folder's message. */
static void test_failure_kinds(void)
{
    struct focal_dataset *d = open_ds(path_in("cls"));
    if (!d)
        return;
    struct focal_image_options opt = { 8, 8, 0, 0, "/dev/null/cache", 2, 0 };
    CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_ERR_IO);
    CHECKF(strstr(focal_last_error(), "--cache none") != NULL, "'%s'", focal_last_error());
    CHECK(focal_dataset_load_failed_on_image() == 0);
    opt.cache_dir = NULL;
    setenv("FOCAL_TEST_DECODE_NOMEM", "2", 1);
    CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_ERR_NOMEM);
    CHECK(focal_dataset_load_failed_on_image() == 0);
    unsetenv("FOCAL_TEST_DECODE_NOMEM");
    focal_dataset_free(d);
    put("cls/a/bad.png", "not a png", 9);
    d = open_ds(path_in("cls"));
    CHECK(d && focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_ERR_FORMAT);
    CHECK(focal_dataset_load_failed_on_image() == 1);
    CHECK(focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_ERR_FORMAT);
    focal_dataset_free(d);
    unlink(path_in("cls/a/bad.png"));
    d = open_ds(path_in("cls"));
    CHECK(d && focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) == FOCAL_OK);
    CHECK(focal_dataset_load_failed_on_image() == 0 && strcmp(focal_dataset_load_note(), "") == 0);
    focal_dataset_free(d);
}

static void test_one_class(void)
{
    struct focal_dataset *d = open_ds(path_in("cls"));
    CHECK(d && focal_dataset_check_classes(d, "cls") == FOCAL_OK);
    focal_dataset_free(d);
    d = open_ds(path_in("one"));
    if (!d)
        return;
    const focal_status st = focal_dataset_check_classes(d, "one");
    CHECKF(st == FOCAL_ERR_FORMAT && strstr(focal_last_error(), "one: every one of its 2 samples is of the one "
                                                                "class 'only'"),
           "status %d: '%s'", (int)st, focal_last_error());
    focal_dataset_free(d);
}

int main(void)
{
    if (make_scratch_dir("focal-imgcache-fail") != 0)
        return 1;
    chmod(dir, 0777); /* the read-only case may run as another user */
    mkdir_in("cls");
    mkdir_in("cls/a");
    mkdir_in("cls/b");
    mkdir_in("one");
    mkdir_in("one/only");
    chmod(path_in("cls"), 0755);
    chmod(path_in("cls/a"), 0755);
    chmod(path_in("cls/b"), 0755);
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "cls/%c/%d.png", i % 2 ? 'b' : 'a', i);
        write_png(name, 12, 10, (unsigned)i);
        chmod(path_in(name), 0644);
    }
    write_png("one/only/1.png", 12, 10, 1);
    write_png("one/only/2.png", 12, 10, 2);
    test_read_only_cache(); /* first: a child forked after OpenMP has run may hang in it */
    test_nomem_not_cached();
    test_failure_kinds();
    test_one_class();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done("test_image_cache_failures");
}
