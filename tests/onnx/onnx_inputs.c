/* onnx_inputs.c — the inputs an exported ONNX model is checked on, made by
 * the library the way `focal predict` makes them, with the library's own
 * probabilities for the same samples (tests/onnx/export_onnx.sh).
 *
 *   onnx_inputs pngs DATA OUTDIR N
 *       writes the first N test samples (or the first N samples, for data
 *       without splits) of a dataset of decoded pixels (MedMNIST .npz, idx)
 *       as OUTDIR/<k>.png, so that `focal predict` can score them as files.
 *   onnx_inputs classes DATA OUTDIR N
 *       writes the first N training samples of such a dataset as class
 *       folders, OUTDIR/<class>/<k>.png: a small training set.
 *   onnx_inputs images RUNDIR OUT IMAGE...
 *       loads the run and the images exactly as focal predict does
 *       (focal_run_load, focal_dataset_from_images, focal_run_image_options,
 *       focal_dataset_load_images without a cache), and writes OUT.npy, the
 *       float32 [N, C, H, W] tensor the ONNX graph takes: each value pixel/255
 *       in CHW order (focal_augment_image without augmentation, the step
 *       focal_run_predict takes before normalising), and OUT.csv, the
 *       probabilities focal_run_predict gives for the same images (%.9g).
 *   onnx_inputs table RUNDIR DATA N OUT
 *       the first N rows of a CSV table: OUT.npy the raw features, float32
 *       [N, F] (NaN where missing), and OUT.csv focal_run_predict's
 *       probabilities.
 * The CSVs have a header "id,p0,p1,..." and one row per sample. Exits 0, or
 * 1 with a message. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "focal.h"

static int die(const char *what)
{
    fprintf(stderr, "onnx_inputs: %s: %s\n", what, focal_last_error());
    return 1;
}

/* Writes x (n × per floats, shape dims[0..ndim)) as a NumPy .npy file. */
static int write_npy(const char *path, const float *x, int ndim, const int *dims)
{
    char shape[128] = "";
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%d%s", dims[i],
                 ndim == 1 || i + 1 < ndim ? ", " : "");
        count *= (size_t)dims[i];
    }
    char hdr[256];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "onnx_inputs: cannot write %s\n", path);
        return 1;
    }
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    const unsigned hl = (unsigned)(len + pad + 1);
    const unsigned char hlen[2] = {(unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
    fwrite(magic, 1, 8, f);
    fwrite(hlen, 1, 2, f);
    fwrite(hdr, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(x, sizeof *x, count, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "onnx_inputs: write error on %s\n", path);
        return 1;
    }
    return 0;
}

/* Writes the probabilities of the samples as OUT.csv. */
static int write_probs(const char *path, char **ids, int n, int outputs, const double *p)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "onnx_inputs: cannot write %s\n", path);
        return 1;
    }
    fputs("id", f);
    for (int j = 0; j < outputs; j++)
        fprintf(f, ",p%d", j);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        fputs(ids[i], f);
        for (int j = 0; j < outputs; j++)
            fprintf(f, ",%.9g", p[(size_t)i * (size_t)outputs + (size_t)j]);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : 1;
}

/* The first n samples of split `want` (any sample for data without splits)
 * as PNGs: dir/<k>.png, or dir/<class>/<k>.png with by_class. */
static int cmd_pngs(const char *data, const char *dir, int n, int want, int by_class)
{
    struct focal_dataset *d;
    if (focal_dataset_open(data, NULL, &d) != FOCAL_OK)
        return die(data);
    if (!d->pixels) {
        fprintf(stderr, "onnx_inputs: %s holds no decoded pixels\n", data);
        focal_dataset_free(d);
        return 1;
    }
    int st = 0, done = 0;
    for (int i = 0; i < d->n && done < n && st == 0; i++) {
        if (d->split && d->split[i] != want)
            continue;
        size_t per = (size_t)d->height * (size_t)d->width * (size_t)d->channels;
        struct focal_image img = {d->width, d->height, d->channels, d->pixels + (size_t)i * per};
        char path[4096];
        if (by_class && d->label) {
            snprintf(path, sizeof path, "%s/%s", dir, d->class_names[d->label[i]]);
            mkdir(path, 0777);
            snprintf(path, sizeof path, "%s/%s/%03d.png", dir, d->class_names[d->label[i]], done++);
        } else {
            snprintf(path, sizeof path, "%s/%03d.png", dir, done++);
        }
        if (focal_image_write_png(path, &img) != FOCAL_OK)
            st = die(path);
    }
    focal_dataset_free(d);
    return st;
}

/* OUT.npy and OUT.csv of samples 0..n-1 of d, which is shaped as the run's input. */
static int write_pair(struct focal_run *run, const struct focal_dataset *d, int n, const char *out)
{
    const int c = run->channels, h = run->height, w = run->width;
    const int table = d->features != NULL;
    const int outputs = focal_model_classes(run->model);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    float *x = malloc((size_t)n * per * sizeof *x);
    double *p = malloc((size_t)n * (size_t)outputs * sizeof *p);
    int *idx = malloc((size_t)n * sizeof *idx);
    int st = 1;
    if (!x || !p || !idx) {
        fprintf(stderr, "onnx_inputs: out of memory\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        if (table)
            memcpy(x + (size_t)i * per, d->features + (size_t)i * per, per * sizeof *x);
        else
            focal_augment_image(NULL, 0, d->pixels + (size_t)i * per, h, w, c, x + (size_t)i * per);
    }
    if (focal_run_predict(run, d, idx, n, p) != FOCAL_OK) {
        st = die("focal_run_predict");
        goto out;
    }
    char path[4096];
    const int dims4[4] = {n, c, h, w}, dims2[2] = {n, c};
    snprintf(path, sizeof path, "%s.npy", out);
    if (write_npy(path, x, table ? 2 : 4, table ? dims2 : dims4))
        goto out;
    snprintf(path, sizeof path, "%s.csv", out);
    st = write_probs(path, d->ids, n, outputs, p);
out:
    free(x);
    free(p);
    free(idx);
    return st;
}

static int cmd_images(const char *dir, const char *out, const char *const *images, int n_images)
{
    struct focal_run run = {0};
    struct focal_dataset *d = NULL;
    int st = 1;
    if (focal_run_load(&run, dir, 64) != FOCAL_OK)
        return die(dir);
    if (focal_dataset_from_images(images, n_images, &d) != FOCAL_OK) {
        st = die("images");
        goto out;
    }
    struct focal_image_options opt = {0};
    focal_run_image_options(&run, &opt);
    if (focal_dataset_load_images(d, &opt, NULL, NULL, NULL, NULL) != FOCAL_OK) {
        st = die("decoding");
        goto out;
    }
    st = write_pair(&run, d, d->n, out);
out:
    focal_dataset_free(d);
    focal_run_release(&run);
    return st;
}

static int cmd_table(const char *dir, const char *data, int n, const char *out)
{
    struct focal_run run = {0};
    struct focal_dataset *d = NULL;
    int st = 1;
    struct focal_data_options opt = {.header = -1};
    if (focal_run_load(&run, dir, 64) != FOCAL_OK)
        return die(dir);
    if (focal_dataset_open(data, &opt, &d) != FOCAL_OK) {
        st = die(data);
        goto out;
    }
    if (!d->features) {
        fprintf(stderr, "onnx_inputs: %s is not a table\n", data);
        goto out;
    }
    st = write_pair(&run, d, n < d->n ? n : d->n, out);
out:
    focal_dataset_free(d);
    focal_run_release(&run);
    return st;
}

int main(int argc, char **argv)
{
    focal_set_threads(1);
    if (argc == 5 && strcmp(argv[1], "pngs") == 0)
        return cmd_pngs(argv[2], argv[3], atoi(argv[4]), FOCAL_SPLIT_TEST, 0);
    if (argc == 5 && strcmp(argv[1], "classes") == 0)
        return cmd_pngs(argv[2], argv[3], atoi(argv[4]), FOCAL_SPLIT_TRAIN, 1);
    if (argc >= 5 && strcmp(argv[1], "images") == 0)
        return cmd_images(argv[2], argv[3], (const char *const *)argv + 4, argc - 4);
    if (argc == 6 && strcmp(argv[1], "table") == 0)
        return cmd_table(argv[2], argv[3], atoi(argv[4]), argv[5]);
    fputs("usage: onnx_inputs pngs|classes DATA OUTDIR N | images RUNDIR OUT IMAGE... | table RUNDIR DATA N OUT\n", stderr);
    return 1;
}
