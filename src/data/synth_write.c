/* synth_write.c — writing the synthetic dataset folder: the split sizes,
 * every sample drawn in parallel (synth_draw.c) and written as a PNG into
 * Training/, Validation/ or Test/, the three RFMiD label CSVs and the
 * synth.json marker. The whole dataset is written into a temporary directory
 * and renamed into place; an existing non-empty directory is replaced only
 * with force and only when focal synth wrote it. */
#define _GNU_SOURCE   /* nftw, syncfs */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "focal/data.h"
#include "base/internal.h"

/* The file that marks a directory as written by focal synth (and records
 * how); --force replaces only directories that hold it. */
#define SYNTH_MARKER "synth.json"

static const char *const synth_split_csv[3] = { "RFMiD_Training_Labels.csv", "RFMiD_Validation_Labels.csv",
                                                "RFMiD_Testing_Labels.csv" };
static const char *const synth_split_dir[3] = { "Training", "Validation", "Test" };

void focal_synth_split_sizes(int n, int counts[3])
{
    counts[FOCAL_SPLIT_VAL] = n / 5;
    counts[FOCAL_SPLIT_TEST] = n / 5;
    counts[FOCAL_SPLIT_TRAIN] = n - 2 * (n / 5);
}

/* Opens path as a new file for writing; FOCAL_ERR_IO naming it. */
static focal_status out_open(const char *path, FILE **fp)
{
    *fp = fopen(path, "wbx");
    if (!*fp)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return FOCAL_OK;
}

/* Closes a file opened by out_open; FOCAL_ERR_IO if any write or the close
 * failed. The data is not synced here: the dataset is synced as a whole
 * before it is renamed into place. */
static focal_status out_close(const char *path, FILE *fp)
{
    const int bad = ferror(fp);
    int err = bad ? errno : 0;
    if (fclose(fp) != 0 && !bad)
        err = errno;
    else if (!bad)
        return FOCAL_OK;
    return focal_fail(FOCAL_ERR_IO, "%s: write failed: %s", path, strerror(err ? err : EIO));
}

/* path ← "<a>/<b>" (b may contain further slashes); cap bytes. */
static void join(char *path, size_t cap, const char *a, const char *b)
{
    snprintf(path, cap, "%s/%s", a, b);
}

/* The split of sample i (0-based over the dataset) and its ID there (*id,
 * from 1). */
static int sample_place(int i, const int counts[3], int *id)
{
    const int split = i < counts[0] ? 0 : i < counts[0] + counts[1] ? 1 : 2;
    *id = i - (split > 0 ? counts[0] : 0) - (split > 1 ? counts[1] : 0) + 1;
    return split;
}

/* Disease_Risk: 1 if any of the labels is set. */
static int any_label(const uint8_t *labels)
{
    int any = 0;
    for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
        any |= labels[j];
    return any;
}

/* Draws sample i of the dataset, labels into labels[0..C), and writes its
 * PNG into tmp/<split folder>/<ID>.png. */
static focal_status synth_one(const char *tmp, size_t cap, const struct focal_synth_options *opt, int i,
                              const int counts[3], uint8_t *labels)
{
    struct focal_image img;
    char *path = malloc(cap);
    void *png = NULL;
    size_t len;
    FILE *fp;
    if (!path)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    focal_status st = focal_synth_sample(opt->seed, i, opt->size, labels, &img);
    if (st == FOCAL_OK) {
        st = focal_image_encode_png(&img, &png, &len);
        focal_image_release(&img);
    }
    if (st == FOCAL_OK) {
        int id;
        const int split = sample_place(i, counts, &id);
        snprintf(path, cap, "%s/%s/%d.png", tmp, synth_split_dir[split], id);
        if ((st = out_open(path, &fp)) == FOCAL_OK) {
            fwrite(png, 1, len, fp);
            st = out_close(path, fp);
        }
    }
    free(png);
    free(path);
    return st;
}

/* Writes the three label CSVs and the marker into tmp. */
static focal_status synth_tables(const char *tmp, size_t cap, const struct focal_synth_options *opt,
                                 const int counts[3], const uint8_t *labels)
{
    const struct focal_synth_condition *cond = focal_synth_conditions();
    char *path = malloc(cap);
    FILE *fp;
    focal_status st = FOCAL_OK;
    if (!path)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    int first = 0;
    for (int s = 0; s < 3 && st == FOCAL_OK; s++) {
        join(path, cap, tmp, synth_split_csv[s]);
        if ((st = out_open(path, &fp)) != FOCAL_OK)
            break;
        fputs("ID,Disease_Risk", fp);
        for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
            fprintf(fp, ",%s", cond[j].name);
        fputc('\n', fp);
        for (int k = 0; k < counts[s]; k++) {
            const uint8_t *l = labels + (size_t)(first + k) * FOCAL_SYNTH_CONDITIONS;
            fprintf(fp, "%d,%d", k + 1, any_label(l));
            for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
                fprintf(fp, ",%d", l[j]);
            fputc('\n', fp);
        }
        first += counts[s];
        st = out_close(path, fp);
    }
    if (st == FOCAL_OK) {
        join(path, cap, tmp, SYNTH_MARKER);
        if ((st = out_open(path, &fp)) == FOCAL_OK) {
            fprintf(fp, "{\n  \"generator\": \"focal synth\",\n  \"version\": \"%s\",\n  \"n\": %d,\n"
                        "  \"size\": %d,\n  \"seed\": %llu,\n  \"splits\": {\"Training\": %d, \"Validation\": %d, "
                        "\"Test\": %d},\n  \"conditions\": [",
                    FOCAL_VERSION_STRING, opt->n, opt->size, (unsigned long long)opt->seed, counts[0], counts[1],
                    counts[2]);
            for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
                fprintf(fp, "%s\n    {\"name\": \"%s\", \"prevalence\": %g, \"sign\": \"%s\"}", j ? "," : "",
                        cond[j].name, cond[j].prevalence, cond[j].sign);
            fputs("\n  ]\n}\n", fp);
            st = out_close(path, fp);
        }
    }
    free(path);
    return st;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the directory tree at path (links are removed, not followed);
 * 0 on success, −1 with errno set. */
static int remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 if the directory at path holds no entries, 0 if it holds some, −1 if it
 * cannot be read (errno set). */
static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Creates a new directory "<base><infix><pid>.<k>" (mode 0777 less the
 * umask) for the first k that is free, or just finds a free name when
 * make is 0; the name goes to out (cap bytes). */
static focal_status fresh_name(char *out, size_t cap, const char *base, const char *infix, int make)
{
    for (int k = 0; k < 1000; k++) {
        snprintf(out, cap, "%s%s%ld.%d", base, infix, (long)getpid(), k);
        struct stat sb;
        if (make ? mkdir(out, 0777) == 0 : lstat(out, &sb) != 0 && errno == ENOENT)
            return FOCAL_OK;
        if (errno != EEXIST && make)
            return focal_fail(FOCAL_ERR_IO, "%s: cannot create a directory beside it: %s", base, strerror(errno));
    }
    return focal_fail(FOCAL_ERR_IO, "%s: no free temporary name beside it", base);
}

/* Makes the directory entries under tmp durable: syncs the file system
 * that holds it. */
static focal_status sync_tree(const char *tmp)
{
    int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) != 0) {
        const int e = errno;
        if (fd >= 0)
            close(fd);
        return focal_fail(FOCAL_ERR_IO, "%s: cannot sync: %s", tmp, strerror(e));
    }
    close(fd);
    return FOCAL_OK;
}

/* Best effort: fsyncs the directory that holds path, making a rename in it
 * durable. */
static void sync_parent(const char *path)
{
    char *parent = strdup(path);
    if (!parent)
        return;
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    int fd = open(slash ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(parent);
}

/* Checks what is at dir now: *replace is set when a dataset focal synth
 * wrote is there and force allows replacing it. */
static focal_status synth_check_target(const char *dir, int force, int *replace)
{
    struct stat sb;
    *replace = 0;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT)
            return FOCAL_OK;
        return focal_fail(FOCAL_ERR_IO, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return focal_fail(FOCAL_ERR_IO, "%s: exists and is not a directory", dir);
    const int empty = dir_is_empty(dir);
    if (empty < 0)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot read: %s", dir, strerror(errno));
    if (empty)
        return FOCAL_OK;
    if (!force)
        return focal_fail(FOCAL_ERR_IO, "%s: exists and is not empty; refusing to overwrite it", dir);
    size_t cap = strlen(dir) + sizeof SYNTH_MARKER + 2;
    char *marker = malloc(cap);
    if (!marker)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    join(marker, cap, dir, SYNTH_MARKER);
    const int ours = lstat(marker, &sb) == 0 && S_ISREG(sb.st_mode);
    free(marker);
    if (!ours)
        return focal_fail(FOCAL_ERR_IO, "%s: is not empty and holds no %s, so focal synth did not write it; "
                          "refusing to replace it", dir, SYNTH_MARKER);
    *replace = 1;
    return FOCAL_OK;
}

focal_status focal_synth_write(const char *dir, const struct focal_synth_options *opt,
                               void (*progress)(void *ctx, int done, int total), void *ctx,
                               struct focal_synth_summary *summary)
{
    focal_status st;
    char *base = NULL, *tmp = NULL, *old = NULL;
    uint8_t *labels = NULL;
    int counts[3], replace = 0, made_tmp = 0;

    assert(opt);
    if (!dir || !*dir)
        return focal_fail(FOCAL_ERR_ARG, "output directory is empty; expected a directory name");
    if (opt->n < FOCAL_SYNTH_MIN_N || opt->n > FOCAL_SYNTH_MAX_N)
        return focal_fail(FOCAL_ERR_ARG, "n = %d images is out of range; expected %d..%d", opt->n,
                          FOCAL_SYNTH_MIN_N, FOCAL_SYNTH_MAX_N);
    if (opt->size < FOCAL_SYNTH_MIN_SIZE || opt->size > FOCAL_SYNTH_MAX_SIZE)
        return focal_fail(FOCAL_ERR_ARG, "size = %d pixels is out of range; expected %d..%d", opt->size,
                          FOCAL_SYNTH_MIN_SIZE, FOCAL_SYNTH_MAX_SIZE);
    /* "out/" names the same directory as "out"; the temporary one goes beside it */
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    const size_t cap = len + 96;
    base = malloc(cap);
    tmp = malloc(cap);
    old = malloc(cap);
    labels = malloc((size_t)opt->n * FOCAL_SYNTH_CONDITIONS);
    if (!base || !tmp || !old || !labels) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(base, dir, len);
    base[len] = '\0';
    if ((st = synth_check_target(base, opt->force, &replace)) != FOCAL_OK)
        goto out;
    if ((st = fresh_name(tmp, cap, base, ".tmp.", 1)) != FOCAL_OK)
        goto out;
    made_tmp = 1;
    for (int s = 0; s < 3 && st == FOCAL_OK; s++) {
        join(old, cap, tmp, synth_split_dir[s]);
        if (mkdir(old, 0777) != 0)
            st = focal_fail(FOCAL_ERR_IO, "%s: cannot create: %s", old, strerror(errno));
    }
    if (st != FOCAL_OK)
        goto out;

    focal_synth_split_sizes(opt->n, counts);
    int failed = 0, done = 0;
    focal_status first_st = FOCAL_OK;
    char first_msg[1024] = "";
#pragma omp parallel for schedule(dynamic, 8)
    for (int i = 0; i < opt->n; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        focal_status s = synth_one(tmp, cap, opt, i, counts, labels + (size_t)i * FOCAL_SYNTH_CONDITIONS);
#pragma omp critical(focal_synth_progress)
        {
            if (s != FOCAL_OK && !failed) {
                first_st = s;
                snprintf(first_msg, sizeof first_msg, "%s", focal_last_error());
#pragma omp atomic write
                failed = 1;
            }
            done++;
            if (progress && !failed)
                progress(ctx, done, opt->n);
        }
    }
    if (failed) {
        st = focal_fail(first_st, "%s", first_msg);
        goto out;
    }
    if ((st = synth_tables(tmp, cap, opt, counts, labels)) != FOCAL_OK || (st = sync_tree(tmp)) != FOCAL_OK)
        goto out;

    if (replace) {
        if ((st = fresh_name(old, cap, base, ".old.", 0)) != FOCAL_OK)
            goto out;
        if (rename(base, old) != 0) {
            st = focal_fail(FOCAL_ERR_IO, "%s: cannot move the old dataset aside: %s", base, strerror(errno));
            goto out;
        }
    }
    if (rename(tmp, base) != 0) {
        st = focal_fail(FOCAL_ERR_IO, "%s: cannot rename the new dataset into place: %s", base, strerror(errno));
        if (replace)
            (void)rename(old, base);
        goto out;
    }
    made_tmp = 0;
    sync_parent(base);
    if (replace && remove_tree(old) != 0)
        st = focal_fail(FOCAL_ERR_IO, "%s: written, but the dataset it replaced could not be removed from %s: %s",
                        base, old, strerror(errno));
    if (summary) {
        memset(summary, 0, sizeof *summary);
        for (int i = 0; i < opt->n; i++) {
            int id;
            const int s = sample_place(i, counts, &id);
            const uint8_t *l = labels + (size_t)i * FOCAL_SYNTH_CONDITIONS;
            summary->images[s]++;
            for (int j = 0; j < FOCAL_SYNTH_CONDITIONS; j++)
                summary->positives[s][j] += l[j];
            summary->risk[s] += any_label(l);
        }
    }
out:
    if (made_tmp)
        (void)remove_tree(tmp);
    free(base);
    free(tmp);
    free(old);
    free(labels);
    return st;
}
