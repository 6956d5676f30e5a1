/* dataset_check.h — the promises of a dataset focal_dataset_open returned,
 * checked by the harnesses of its readers: at least one sample, the task's
 * label array and no other, every label in range, the per-sample arrays
 * present that the format says, and every value of them readable (so that
 * AddressSanitizer sees a short allocation). */
#ifndef FOCAL_FUZZ_DATASET_CHECK_H
#define FOCAL_FUZZ_DATASET_CHECK_H

#include "fuzz.h"

static inline void fuzz_check_dataset(const struct focal_dataset *d, enum focal_format format)
{
    FUZZ_ASSERT(d != NULL);
    FUZZ_ASSERT(d->format == format);
    FUZZ_ASSERT(d->n >= 1);
    FUZZ_ASSERT(d->num_classes >= 1);
    FUZZ_ASSERT(d->class_names != NULL);
    for (int j = 0; j < d->num_classes; j++)
        FUZZ_ASSERT(d->class_names[j] != NULL);
    const size_t n = (size_t)d->n, c = (size_t)d->num_classes;
    if (d->task == FOCAL_TASK_MULTILABEL) {
        FUZZ_ASSERT(d->labels != NULL && d->label == NULL);
        for (size_t i = 0; i < n * c; i++)
            FUZZ_ASSERT(d->labels[i] <= 1);
    } else {
        FUZZ_ASSERT(d->task == FOCAL_TASK_BINARY || d->task == FOCAL_TASK_MULTICLASS);
        FUZZ_ASSERT(d->label != NULL && d->labels == NULL);
        if (d->task == FOCAL_TASK_BINARY)
            FUZZ_ASSERT(d->num_classes == 2);
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(d->label[i] >= 0 && d->label[i] < d->num_classes);
    }
    if (d->risk)
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(d->risk[i] <= 1);
    if (d->split)
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(d->split[i] <= FOCAL_SPLIT_TEST);
    FUZZ_ASSERT(d->ids != NULL);
    for (size_t i = 0; i < n; i++)
        FUZZ_ASSERT(d->ids[i] != NULL && strlen(d->ids[i]) < 1u << 20);
    if (d->paths)
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(d->paths[i] != NULL);
    if (d->pixels) {
        FUZZ_ASSERT(d->height >= 1 && d->width >= 1 && (d->channels == 1 || d->channels == 3));
        const size_t px = n * (size_t)d->height * (size_t)d->width * (size_t)d->channels;
        volatile uint8_t x = 0;
        x ^= d->pixels[0];
        x ^= d->pixels[px - 1];
        (void)x;
    }
    if (d->features) {
        FUZZ_ASSERT(d->n_features >= 1);
        volatile float x = d->features[n * (size_t)d->n_features - 1];
        (void)x;
        if (d->feature_names)
            for (int j = 0; j < d->n_features; j++)
                FUZZ_ASSERT(d->feature_names[j] != NULL);
    }
    switch (format) {
    case FOCAL_FORMAT_RFMID:
        FUZZ_ASSERT(d->paths != NULL && d->task == FOCAL_TASK_MULTILABEL);
        break;
    case FOCAL_FORMAT_NPZ:
    case FOCAL_FORMAT_IDX:
        FUZZ_ASSERT(d->pixels != NULL && d->paths == NULL);
        break;
    case FOCAL_FORMAT_CSV:
        FUZZ_ASSERT(d->features != NULL && d->task != FOCAL_TASK_MULTILABEL);
        break;
    default:
        break;
    }
}

/* Opens the file at path with opt (format forced) and checks the promises:
 * a failure has a status, a message and *out NULL; a success passes
 * fuzz_check_dataset and is freed. */
static inline void fuzz_open_dataset(const char *path, const struct focal_data_options *opt)
{
    struct focal_dataset *d = (struct focal_dataset *)(uintptr_t)1;
    const focal_status st = focal_dataset_open(path, opt, &d);
    if (st != FOCAL_OK) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_ASSERT(d == NULL);
        return;
    }
    fuzz_check_dataset(d, opt->format);
    focal_dataset_free(d);
}

#endif /* FOCAL_FUZZ_DATASET_CHECK_H */
