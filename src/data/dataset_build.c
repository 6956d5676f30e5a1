/* dataset_build.c — what the dataset readers share for building a struct
 * focal_dataset: string copies and joins, overflow-checked sizes, numbered
 * class names and sample IDs, and listing a folder's subfolders, images or
 * CSV files. Declared in dataset_internal.h. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

char *focal_ds_strdup(const char *s)
{
    return focal_ds_concat3(s, "", "");
}

char *focal_ds_concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = malloc(na + nb + nc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

int focal_ds_mul3(size_t a, size_t b, size_t c, size_t *out)
{
    if ((b && a > SIZE_MAX / b) || (c && a * b > SIZE_MAX / c))
        return -1;
    *out = a * b * c;
    return 0;
}

char *focal_ds_itoa(long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return focal_ds_strdup(buf);
}

void focal_ds_free_strings(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

focal_status focal_ds_number_classes(struct focal_dataset *d, int c, const char *path)
{
    d->class_names = calloc((size_t)c, sizeof *d->class_names);
    if (!d->class_names)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    d->num_classes = c;
    for (int j = 0; j < c; j++)
        if (!(d->class_names[j] = focal_ds_itoa(j)))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    return FOCAL_OK;
}

focal_status focal_ds_number_ids(struct focal_dataset *d, int first, int count, const char *prefix,
                                 const char *path)
{
    if (!d->ids && !(d->ids = calloc((size_t)d->n, sizeof *d->ids)))
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < count; i++) {
        char num[24];
        snprintf(num, sizeof num, "%d", i);
        if (!(d->ids[first + i] = focal_ds_concat3(prefix, num, "")))
            return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    return FOCAL_OK;
}

int focal_ds_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int focal_ds_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int focal_ds_is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int focal_ds_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcasecmp(name + n - k, suffix) == 0;
}

/* 1 if name ends in .png, .jpg or .jpeg (any case). */
static int ds_is_image_name(const char *name)
{
    return focal_ds_ends_with(name, ".png") || focal_ds_ends_with(name, ".jpg") || focal_ds_ends_with(name, ".jpeg");
}

char *focal_ds_join(const char *dir, const char *name)
{
    return *dir ? focal_ds_concat3(dir, "/", name) : focal_ds_strdup(name);
}

focal_status focal_ds_list_dir(const char *dir, enum focal_ds_list_kind kind, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **v = NULL;
    int cnt = 0, cap = 0;
    focal_status st = FOCAL_OK;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (kind == FOCAL_DS_LIST_IMAGES && !ds_is_image_name(e->d_name))
            continue;
        if (kind == FOCAL_DS_LIST_CSV && !focal_ds_ends_with(e->d_name, ".csv"))
            continue;
        char *full = focal_ds_join(dir, e->d_name);
        if (!full) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        const int keep = kind == FOCAL_DS_LIST_DIRS ? focal_ds_is_dir(full) : focal_ds_is_file(full);
        free(full);
        if (!keep)
            continue;
        if (cnt == INT_MAX) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: too many entries", dir);
            break;
        }
        if (cnt == cap) {
            int nc = cap ? (cap > INT_MAX / 2 ? INT_MAX : cap * 2) : 16;
            char **nv = realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = focal_ds_strdup(e->d_name))) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        cnt++;
    }
    closedir(dp);
    if (st != FOCAL_OK) {
        focal_ds_free_strings(v, cnt);
        return st;
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, focal_ds_cmp_str);
    *names = v;
    *n = cnt;
    return FOCAL_OK;
}
