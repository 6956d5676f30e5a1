/* dataset.c — opening a labelled dataset: format detection and dispatch to
 * the readers (RFMiD label CSVs in rfmid.c, class folders in folders.c, CSV
 * tables in table.c, MedMNIST .npz in npz.c, MNIST idx in idx.c); freeing a
 * dataset, its class counts, and an unlabelled dataset of image files for
 * prediction. What the readers share is in dataset_build.c; image files are
 * decoded in image_load.c. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

void focal_dataset_free(struct focal_dataset *d)
{
    if (!d)
        return;
    focal_ds_free_strings(d->class_names, d->num_classes);
    focal_ds_free_strings(d->ids, d->n);
    focal_ds_free_strings(d->paths, d->n);
    focal_ds_free_strings(d->feature_names, d->n_features);
    free(d->label);
    free(d->labels);
    free(d->risk);
    free(d->split);
    free(d->pixels);
    free(d->features);
    free(d);
}

void focal_dataset_class_counts(const struct focal_dataset *d, const int *idx, int n, double *counts)
{
    const int c = d->num_classes;
    if (!idx)
        n = d->n;
    for (int j = 0; j < c; j++)
        counts[j] = 0.0;
    for (int k = 0; k < n; k++) {
        const int i = idx ? idx[k] : k;
        if (d->labels) {
            for (int j = 0; j < c; j++)
                counts[j] += d->labels[(size_t)i * (size_t)c + (size_t)j] ? 1.0 : 0.0;
        } else if (d->label && d->label[i] >= 0 && d->label[i] < c) {
            counts[d->label[i]] += 1.0;
        }
    }
}

/* Appends a copy of path to the growing list *v (count *n, capacity *cap). */
static focal_status ds_push_path(char ***v, int *n, int *cap, const char *path)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        char **nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv)
            return focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
        *v = nv;
        *cap = nc;
    }
    if (!((*v)[*n] = focal_ds_strdup(path)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
    (*n)++;
    return FOCAL_OK;
}

focal_status focal_dataset_from_images(const char *const *inputs, int n_inputs, struct focal_dataset **out)
{
    char **paths = NULL;
    int n = 0, cap = 0;
    focal_status st = FOCAL_OK;
    *out = NULL;
    for (int k = 0; k < n_inputs && st == FOCAL_OK; k++) {
        if (!focal_ds_is_dir(inputs[k])) {
            st = ds_push_path(&paths, &n, &cap, inputs[k]);
            continue;
        }
        char **names;
        int m;
        if ((st = focal_ds_list_dir(inputs[k], FOCAL_DS_LIST_IMAGES, &names, &m)) != FOCAL_OK)
            break;
        if (m == 0)
            st = focal_fail(FOCAL_ERR_IO, "%s: the folder holds no .png, .jpg or .jpeg files", inputs[k]);
        for (int j = 0; j < m && st == FOCAL_OK; j++) {
            char *full = focal_ds_join(inputs[k], names[j]);
            st = full ? ds_push_path(&paths, &n, &cap, full)
                      : focal_fail(FOCAL_ERR_NOMEM, "out of memory listing images");
            free(full);
        }
        focal_ds_free_strings(names, m);
    }
    struct focal_dataset *d = NULL;
    if (st == FOCAL_OK && n == 0)
        st = focal_fail(FOCAL_ERR_ARG, "no image files given");
    if (st == FOCAL_OK && !(d = calloc(1, sizeof *d)))
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    if (st == FOCAL_OK) {
        d->task = FOCAL_TASK_MULTILABEL;
        d->n = n;
        d->paths = paths;
        paths = NULL;
        d->ids = calloc((size_t)n, sizeof *d->ids);
        if (!d->ids)
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n && st == FOCAL_OK; i++) {
            const char *base = strrchr(d->paths[i], '/');
            base = base ? base + 1 : d->paths[i];
            const char *dot = strrchr(base, '.');
            size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
            if (!(d->ids[i] = malloc(len + 1)))
                st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            else {
                memcpy(d->ids[i], base, len);
                d->ids[i][len] = 0;
            }
        }
    }
    focal_ds_free_strings(paths, n);
    if (st != FOCAL_OK) {
        focal_dataset_free(d);
        return st;
    }
    *out = d;
    return FOCAL_OK;
}

/* ---- opening: format detection ------------------------------------------- */

/* The format of path by the rules of focal_dataset_open. */
static focal_status ds_detect(const char *path, enum focal_format *fmt)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (strchr(path, ',')) {
            *fmt = FOCAL_FORMAT_RFMID;
            return FOCAL_OK;
        }
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode)) {
        char **names;
        int n;
        focal_status st = focal_ds_list_dir(path, FOCAL_DS_LIST_CSV, &names, &n);
        if (st != FOCAL_OK)
            return st;
        *fmt = FOCAL_FORMAT_FOLDERS;
        for (int i = 0; i < n; i++) {
            char *full = focal_ds_join(path, names[i]);
            if (full && focal_rfmid_csv_starts_with_id(full))
                *fmt = FOCAL_FORMAT_RFMID;
            free(full);
        }
        focal_ds_free_strings(names, n);
        return FOCAL_OK;
    }
    if (focal_ds_ends_with(path, ".npz")) {
        *fmt = FOCAL_FORMAT_NPZ;
    } else if (strstr(path, "idx3-ubyte")) {
        *fmt = FOCAL_FORMAT_IDX;
    } else if (focal_ds_ends_with(path, ".csv")) {
        *fmt = focal_rfmid_csv_starts_with_id(path) ? FOCAL_FORMAT_RFMID : FOCAL_FORMAT_CSV;
    } else {
        /* by content: a zip archive, a gzip or idx file, else a text table */
        unsigned char m[4] = { 0, 0, 0, 0 };
        FILE *fp = fopen(path, "rb");
        size_t got = fp ? fread(m, 1, 4, fp) : 0;
        if (fp)
            fclose(fp);
        if (got == 4 && memcmp(m, "PK\3\4", 4) == 0)
            *fmt = FOCAL_FORMAT_NPZ;
        else if (got >= 2 && ((m[0] == 0x1f && m[1] == 0x8b) || (got == 4 && !m[0] && !m[1] && m[2] == 8 && m[3] == 3)))
            *fmt = FOCAL_FORMAT_IDX;
        else
            *fmt = FOCAL_FORMAT_CSV;
    }
    return FOCAL_OK;
}

/* Data with exactly two (single-label) classes: binary, with the positive
 * class (opt->positive, else the rarer one) as class 1 — or multi-class when
 * opt->two_class_softmax asks for a two-way softmax. */
static focal_status ds_two_classes(struct focal_dataset *d, const char *path, const struct focal_data_options *opt)
{
    const int two = d->task != FOCAL_TASK_MULTILABEL && d->num_classes == 2 && d->label;
    if (!two) {
        if (opt->positive)
            return focal_fail(FOCAL_ERR_ARG, "%s: a positive class ('%s') applies to data with two classes; this "
                              "data is %s with %d %s", path, opt->positive, focal_task_name(d->task), d->num_classes,
                              d->task == FOCAL_TASK_MULTILABEL ? "labels" : "classes");
        return FOCAL_OK;
    }
    if (opt->two_class_softmax) {
        d->task = FOCAL_TASK_MULTICLASS;
        return FOCAL_OK;
    }
    d->task = FOCAL_TASK_BINARY;
    int pos;
    if (opt->positive) {
        pos = strcmp(opt->positive, d->class_names[0]) == 0 ? 0 : strcmp(opt->positive, d->class_names[1]) == 0 ? 1 : -1;
        if (pos < 0)
            return focal_fail(FOCAL_ERR_ARG, "%s: no class '%s' to be the positive one; expected %s or %s", path,
                              opt->positive, d->class_names[0], d->class_names[1]);
    } else {
        long n1 = 0;
        for (int i = 0; i < d->n; i++)
            n1 += d->label[i] == 1;
        pos = n1 > d->n - n1 ? 0 : 1;
    }
    if (pos == 0) {
        char *tmp = d->class_names[0];
        d->class_names[0] = d->class_names[1];
        d->class_names[1] = tmp;
        for (int i = 0; i < d->n; i++)
            d->label[i] = 1 - d->label[i];
    }
    return FOCAL_OK;
}

focal_status focal_dataset_open(const char *path, const struct focal_data_options *opt, struct focal_dataset **out)
{
    static const struct focal_data_options defaults = { .header = -1 };
    *out = NULL;
    if (!path || !*path)
        return focal_fail(FOCAL_ERR_ARG, "dataset path is empty; expected a file, a folder or a list of label CSVs");
    if (!opt)
        opt = &defaults;
    enum focal_format fmt = opt->format;
    focal_status st = FOCAL_OK;
    if (fmt == FOCAL_FORMAT_AUTO && (st = ds_detect(path, &fmt)) != FOCAL_OK)
        return st;
    struct focal_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    d->format = fmt;
    switch (fmt) {
    case FOCAL_FORMAT_RFMID: st = focal_read_rfmid(d, path, opt); break;
    case FOCAL_FORMAT_FOLDERS: st = focal_read_folders(d, path); break;
    case FOCAL_FORMAT_NPZ: st = focal_read_npz(d, path); break;
    case FOCAL_FORMAT_IDX: st = focal_read_idx(d, path); break;
    case FOCAL_FORMAT_CSV: st = focal_read_table(d, path, opt); break;
    default: st = focal_fail(FOCAL_ERR_ARG, "unknown dataset format %d; expected one of enum focal_format", (int)fmt);
    }
    if (st == FOCAL_OK)
        st = ds_two_classes(d, path, opt);
    if (st != FOCAL_OK) {
        focal_dataset_free(d);
        return st;
    }
    focal_clear_error();
    *out = d;
    return FOCAL_OK;
}
