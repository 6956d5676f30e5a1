/* run_folder.c — a run folder's life: the settings that determine a run (its
 * configuration, epochs and a fingerprint of its data) and their comparison,
 * the folder's lock, what the folder holds, and the decision to start,
 * resume, skip or redo a run. One mechanism for `focal train --resume` and
 * the experiments (focal compare, focal tune). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- the data's fingerprint ------------------------------------------------------------- */

/* A 64-bit hash for change detection (not against an adversary): eight bytes
 * at a time, multiply-rotate. */
struct fp_hash {
    uint64_t h;
};

static void fp_bytes(struct fp_hash *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = f->h ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h ^= w * 0xff51afd7ed558ccdull;
        h = ((h << 31) | (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    h ^= (w + n) * 0xff51afd7ed558ccdull;
    h = ((h << 27) | (h >> 37)) * 0x9e3779b97f4a7c15ull;
    f->h = h ^ (h >> 29);
}

static void fp_int(struct fp_hash *f, long long v)
{
    fp_bytes(f, &v, sizeof v);
}

static void fp_str(struct fp_hash *f, const char *s)
{
    fp_bytes(f, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* The content of d the run sees (labels, pixels or features, class names)
 * and the samples of each split, as {"samples", "train", "val", "test",
 * "hash"}. The data's path is not in it: moving the data changes nothing. */
static cJSON *data_json(const struct focal_dataset *d, const int *train, int n_train, const int *val, int n_val,
                        const int *test, int n_test)
{
    struct fp_hash f = { 0x51ed270b27e2c5a3ull };
    size_t n = (size_t)d->n;
    fp_int(&f, d->task);
    fp_int(&f, d->n);
    fp_int(&f, d->num_classes);
    for (int j = 0; j < d->num_classes; j++)
        fp_str(&f, d->class_names[j]);
    if (d->label)
        fp_bytes(&f, d->label, n * sizeof *d->label);
    if (d->labels)
        fp_bytes(&f, d->labels, n * (size_t)d->num_classes);
    fp_int(&f, d->risk != NULL);
    if (d->risk)
        fp_bytes(&f, d->risk, n);
    fp_int(&f, d->height);
    fp_int(&f, d->width);
    fp_int(&f, d->channels);
    if (d->pixels)
        fp_bytes(&f, d->pixels, n * (size_t)d->height * (size_t)d->width * (size_t)d->channels);
    fp_int(&f, d->n_features);
    if (d->features)
        fp_bytes(&f, d->features, n * (size_t)d->n_features * sizeof *d->features);
    const int *lists[3] = { train, val, test };
    int counts[3] = { n_train, n_val, n_test };
    for (int k = 0; k < 3; k++) {
        fp_int(&f, counts[k]);
        if (counts[k] > 0)
            fp_bytes(&f, lists[k], (size_t)counts[k] * sizeof *lists[k]);
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, f.h);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "samples", d->n);
    cJSON_AddNumberToObject(o, "train", n_train);
    cJSON_AddNumberToObject(o, "val", n_val);
    cJSON_AddNumberToObject(o, "test", n_test);
    cJSON_AddStringToObject(o, "hash", hex);
    return o;
}

cJSON *focal_run_settings_json(const struct focal_run_config *cfg, int outputs, const struct focal_dataset *d,
                               const int *train, int n_train, const int *val, int n_val, const int *test,
                               int n_test)
{
    cJSON *o = focal_run_config_json(cfg, outputs);
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "epochs", cfg->epochs);
    cJSON_AddBoolToObject(o, "fundus_crop", cfg->fundus_crop);
    cJSON_AddItemToObject(o, "data", data_json(d, train, n_train, val, n_val, test, n_test));
    focal_dp_settings(o, cfg);
    return o;
}

void focal_run_fingerprint(const cJSON *settings, char out[17])
{
    struct fp_hash f = { 0x2545f4914f6cdd1dull };
    char *text = cJSON_PrintUnformatted(settings);
    fp_str(&f, text ? text : "");
    free(text);
    snprintf(out, 17, "%016" PRIx64, f.h);
}

/* Appends "path old -> new" of the first difference under (old, now) to buf;
 * 1 if there is one. */
static int diff_object(const cJSON *old, const cJSON *now, const char *prefix, const char *skip, char *buf,
                       size_t size)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, now) {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string);
        if (skip && strcmp(path, skip) == 0)
            continue;
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(old, item->string);
        if (was && cJSON_IsObject(was) && cJSON_IsObject(item)) {
            if (diff_object(was, item, path, skip, buf, size))
                return 1;
            continue;
        }
        if (!was || !cJSON_Compare(was, item, 1)) {
            char *a = was ? cJSON_PrintUnformatted(was) : NULL, *b = cJSON_PrintUnformatted(item);
            snprintf(buf, size, "%s %.80s -> %.80s", path, a ? a : "(none)", b ? b : "?");
            free(a);
            free(b);
            return 1;
        }
    }
    cJSON_ArrayForEach(item, old) {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string);
        if ((!skip || strcmp(path, skip) != 0) && !cJSON_GetObjectItemCaseSensitive(now, item->string)) {
            char *a = cJSON_PrintUnformatted(item);
            snprintf(buf, size, "%s %.80s -> (none)", path, a ? a : "?");
            free(a);
            return 1;
        }
    }
    return 0;
}

int focal_run_settings_diff(const cJSON *old, const cJSON *now, int skip_epochs, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!cJSON_IsObject(old)) {
        snprintf(buf, size, "settings (none recorded: made by an older focal) -> these");
        return 1;
    }
    return diff_object(old, now, "", skip_epochs ? "epochs" : NULL, buf, size);
}

/* ---- what a folder holds ---------------------------------------------------------------- */

/* Every file a run writes into its folder; run.json first, since it is what
 * makes the folder a run (removed first, written with every commit). */
static const char *const run_files[] = { "run.json", "last.safetensors", "last.optim.safetensors",
                                         "model.safetensors", "history.csv", "metrics.json", "scores.csv" };
#define N_RUN_FILES (sizeof run_files / sizeof run_files[0])

static int has(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;
    return focal_run_path(path, sizeof path, dir, name) == FOCAL_OK && stat(path, &sb) == 0;
}

/* The first of a run's files in dir, or NULL. */
static const char *run_file_in(const char *dir)
{
    for (size_t k = 0; k < N_RUN_FILES; k++)
        if (has(dir, run_files[k]))
            return run_files[k];
    return NULL;
}

/* Removes a run's files from dir. */
static focal_status remove_run(const char *dir)
{
    char path[4096];
    for (size_t k = 0; k < N_RUN_FILES; k++) {
        focal_status st = focal_run_path(path, sizeof path, dir, run_files[k]);
        if (st != FOCAL_OK)
            return st;
        if (unlink(path) != 0 && errno != ENOENT)
            return focal_fail(FOCAL_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
        if (k == 0)
            focal_fs_step();
    }
    return focal_sync_dir(dir);
}

focal_status focal_run_folder_open(struct focal_dir_lock *lock, const char *dir, int mode, const cJSON *settings,
                                   enum focal_run_start *how, char *why, size_t nwhy)
{
    char path[4096];
    cJSON *o = NULL;
    focal_status st;
    const char *held;
    why[0] = '\0';
    *how = FOCAL_RUN_STARTED;
    if ((st = focal_dir_lock(lock, dir)) != FOCAL_OK)
        return st;
    if ((st = focal_commit_recover(dir, NULL)) != FOCAL_OK)
        goto fail;
    held = run_file_in(dir);
    if (!held)
        return FOCAL_OK;
    if (mode == FOCAL_RUN_NEW) {
        st = focal_fail(FOCAL_ERR_ARG, "%s: holds a run already (%s); resume it, overwrite it, or choose another "
                        "folder", dir, held);
        goto fail;
    }
    if (!has(dir, "run.json")) {
        /* the leftovers of a run removed or started by an interrupted process: nothing to keep */
        if ((st = remove_run(dir)) != FOCAL_OK)
            goto fail;
        return FOCAL_OK;
    }
    if (mode == FOCAL_RUN_RESUME) {
        *how = FOCAL_RUN_RESUMED;
        return FOCAL_OK;
    }
    if (mode == FOCAL_RUN_CONTINUE) {
        if ((st = focal_run_path(path, sizeof path, dir, "run.json")) != FOCAL_OK ||
            (st = focal_read_json(path, &o)) != FOCAL_OK)
            goto fail;
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(o, "config");
        char diff[200];
        if (!focal_run_settings_diff(old, settings, 0, diff, sizeof diff)) {
            /* finished, and its results are all there (a file removed by hand is made again) */
            int done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "finished")) && has(dir, "metrics.json") &&
                       has(dir, "scores.csv") && has(dir, "model.safetensors") && has(dir, "history.csv");
            *how = done ? FOCAL_RUN_UP_TO_DATE : FOCAL_RUN_RESUMED;
            cJSON_Delete(o);
            return FOCAL_OK;
        }
        cJSON_Delete(o);
        o = NULL;
        snprintf(why, nwhy, "settings changed since it ran: %s; rerunning", diff);
    } else {
        snprintf(why, nwhy, "overwriting the run it held");
    }
    *how = FOCAL_RUN_RESTARTED;
    if ((st = remove_run(dir)) != FOCAL_OK)
        goto fail;
    return FOCAL_OK;
fail:
    cJSON_Delete(o);
    focal_dir_unlock(lock);
    return st;
}
