/* tabledata.h — an in-memory table dataset for the tests that train runs
 * through the library: n samples of f features drawn uniformly from
 * [lo, lo + width) in sample order with check_urand, the given class names
 * and zeroed labels (the test sets them from the features), sample ids "1",
 * "2", ... Free with focal_dataset_free. Include after check.h. And a run
 * configuration to train on it. */
#ifndef FOCAL_TABLEDATA_H
#define FOCAL_TABLEDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"

static inline struct focal_dataset *table_dataset(enum focal_task task, int n, int f, const char *const *names,
                                                  int classes, double lo, double width, uint64_t seed)
{
    struct focal_dataset *d = calloc(1, sizeof *d);
    uint64_t s = seed;
    d->task = task;
    d->n = n;
    d->num_classes = classes;
    d->class_names = calloc((size_t)classes, sizeof *d->class_names);
    for (int j = 0; j < classes; j++)
        d->class_names[j] = strdup(names[j]);
    d->label = calloc((size_t)n, sizeof *d->label);
    d->ids = calloc((size_t)n, sizeof *d->ids);
    d->features = calloc((size_t)n * (size_t)f, sizeof *d->features);
    d->n_features = f;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i + 1);
        d->ids[i] = strdup(id);
        for (int j = 0; j < f; j++)
            d->features[(size_t)i * (size_t)f + (size_t)j] = (float)(lo + width * check_urand(&s));
    }
    return d;
}

/* A run configuration for such a table: the mlp preset, loss `kind`,
 * epochs, batch and seed; the rest focal_run_defaults. */
static inline void table_run_config(struct focal_run_config *cfg, enum focal_loss_kind kind, int epochs, int batch,
                                    uint64_t seed)
{
    focal_run_defaults(cfg);
    cfg->model_desc = focal_model_preset("mlp");
    cfg->model_name = "mlp";
    focal_loss_init(&cfg->loss, kind);
    cfg->epochs = epochs;
    cfg->batch = batch;
    cfg->seed = seed;
}

#endif
