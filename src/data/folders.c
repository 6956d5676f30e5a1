/* folders.c — class folders of images: root/<class>/<image>, optionally
 * under train/, val/ and test/ split folders; a multi-class dataset whose
 * classes are the folder names. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "focal/data.h"
#include "data/dataset_internal.h"

/* The split subfolder names of a class-folder tree, per split. */
static const char *const folder_split_name[3] = { "train", "val", "test" };

/* One folder of images: root[/split]/class. */
struct folder_group {
    int split;               /* FOCAL_SPLIT_*, or −1 without splits */
    char *cls;               /* class name (the folder's) */
    char *dir;               /* the folder */
    char **files;            /* its image file names, sorted */
    int nfiles;
};

struct folder_scan {
    struct folder_group *g;
    int n, cap;
};

/* Frees every group of fs and its array. */
static void folder_scan_free(struct folder_scan *fs)
{
    for (int i = 0; i < fs->n; i++) {
        free(fs->g[i].cls);
        free(fs->g[i].dir);
        focal_ds_free_strings(fs->g[i].files, fs->g[i].nfiles);
    }
    free(fs->g);
}

/* Adds the class folders of dir (split −1 or FOCAL_SPLIT_*) to fs with their
 * image files; folders without images are left out. */
static focal_status folder_scan_dir(struct folder_scan *fs, const char *dir, int split)
{
    char **classes;
    int nc;
    focal_status st = focal_ds_list_dir(dir, FOCAL_DS_LIST_DIRS, &classes, &nc);
    for (int c = 0; c < nc && st == FOCAL_OK; c++) {
        struct folder_group g = { split, NULL, focal_ds_join(dir, classes[c]), NULL, 0 };
        if (!g.dir) {
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        st = focal_ds_list_dir(g.dir, FOCAL_DS_LIST_IMAGES, &g.files, &g.nfiles);
        if (st == FOCAL_OK && g.nfiles > 0 && fs->n == fs->cap) {
            int cap = fs->cap ? fs->cap * 2 : 16;
            struct folder_group *ng = realloc(fs->g, (size_t)cap * sizeof *ng);
            if (ng) {
                fs->g = ng;
                fs->cap = cap;
            } else {
                st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
            }
        }
        if (st == FOCAL_OK && g.nfiles > 0 && !(g.cls = focal_ds_strdup(classes[c])))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", dir);
        if (st == FOCAL_OK && g.nfiles > 0) {
            fs->g[fs->n++] = g;
        } else {
            free(g.dir);
            free(g.cls);
            focal_ds_free_strings(g.files, g.nfiles);
        }
    }
    focal_ds_free_strings(classes, nc);
    return st;
}

/* Scans root: with a train/ subfolder that holds folders, the splits train/,
 * val/ and test/ (any other subfolder is an error), else root's own class
 * folders. */
static focal_status folder_scan_root(struct folder_scan *fs, const char *root)
{
    char *train = focal_ds_join(root, folder_split_name[FOCAL_SPLIT_TRAIN]);
    if (!train)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    char **sub;
    int nsub = 0;
    focal_status st = focal_ds_is_dir(train) ? focal_ds_list_dir(train, FOCAL_DS_LIST_DIRS, &sub, &nsub) : FOCAL_OK;
    free(train);
    if (st != FOCAL_OK)
        return st;
    if (nsub == 0)
        return folder_scan_dir(fs, root, -1);
    focal_ds_free_strings(sub, nsub);
    if ((st = focal_ds_list_dir(root, FOCAL_DS_LIST_DIRS, &sub, &nsub)) != FOCAL_OK)
        return st;
    for (int i = 0; i < nsub && st == FOCAL_OK; i++) {
        int split = -1;
        for (int s = 0; s < 3; s++)
            if (strcmp(sub[i], folder_split_name[s]) == 0)
                split = s;
        char *dir = focal_ds_join(root, sub[i]);
        if (!dir)
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
        else if (split < 0)
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: unexpected folder beside train/; expected only train/, val/ "
                            "and test/, each holding one folder of images per class", dir);
        else
            st = folder_scan_dir(fs, dir, split);
        free(dir);
    }
    focal_ds_free_strings(sub, nsub);
    return st;
}

focal_status focal_read_folders(struct focal_dataset *d, const char *root)
{
    struct folder_scan fs = { NULL, 0, 0 };
    char **names = NULL;
    int nnames = 0;
    focal_status st = folder_scan_root(&fs, root);
    long total = 0;
    for (int i = 0; i < fs.n; i++)
        total += fs.g[i].nfiles;
    if (st == FOCAL_OK && total == 0)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: no images; expected one folder per class holding .png or .jpg "
                        "files (root/<class>/<image>, optionally under train/ val/ test/), or RFMiD label CSVs",
                        root);
    if (st == FOCAL_OK && total > INT_MAX)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: too many images (%ld)", root, total);
    /* class names: the distinct folder names, sorted */
    if (st == FOCAL_OK && !(names = malloc((size_t)fs.n * sizeof *names)))
        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    if (st == FOCAL_OK) {
        for (int i = 0; i < fs.n; i++)
            names[i] = fs.g[i].cls;
        qsort(names, (size_t)fs.n, sizeof *names, focal_ds_cmp_str);
        for (int i = 0; i < fs.n; i++)
            if (nnames == 0 || strcmp(names[nnames - 1], names[i]) != 0)
                names[nnames++] = names[i];
        d->task = FOCAL_TASK_MULTICLASS;
        d->n = (int)total;
        d->class_names = calloc((size_t)nnames, sizeof *d->class_names);
        d->label = malloc((size_t)total * sizeof *d->label);
        d->ids = calloc((size_t)total, sizeof *d->ids);
        d->paths = calloc((size_t)total, sizeof *d->paths);
        if (fs.g[0].split >= 0)
            d->split = malloc((size_t)total);
        if (!d->class_names || !d->label || !d->ids || !d->paths || (fs.g[0].split >= 0 && !d->split))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
        else
            d->num_classes = nnames;
    }
    for (int j = 0; j < nnames && st == FOCAL_OK; j++)
        if (!(d->class_names[j] = focal_ds_strdup(names[j])))
            st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
    /* samples: by split, then class, then file name */
    int i = 0;
    for (int s = -1; s < 3 && st == FOCAL_OK; s++)
        for (int j = 0; j < nnames && st == FOCAL_OK; j++)
            for (int g = 0; g < fs.n && st == FOCAL_OK; g++) {
                const struct folder_group *grp = &fs.g[g];
                if (grp->split != s || strcmp(grp->cls, names[j]) != 0)
                    continue;
                for (int f = 0; f < grp->nfiles && st == FOCAL_OK; f++, i++) {
                    d->label[i] = j;
                    if (d->split)
                        d->split[i] = (uint8_t)s;
                    d->paths[i] = focal_ds_join(grp->dir, grp->files[f]);
                    d->ids[i] = focal_ds_concat3(s >= 0 ? folder_split_name[s] : "", s >= 0 ? "/" : "", grp->cls);
                    char *id = d->ids[i] ? focal_ds_concat3(d->ids[i], "/", grp->files[f]) : NULL;
                    free(d->ids[i]);
                    d->ids[i] = id;
                    if (!d->paths[i] || !d->ids[i])
                        st = focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", root);
                }
            }
    free(names);
    folder_scan_free(&fs);
    return st;
}
