/* test_run.c — training runs through the library: a NaN/Inf loss stops the
 * run and keeps the last good epoch's files; a loaded run predicts what the
 * run evaluated; a softmax loss on a sigmoid task is refused; a folder
 * holding a run is refused as a new run, and resumed only on the same data. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "check.h"
#include "tabledata.h"
#include "testfs.h"

#define N 240
#define F 3

/* A binary table: label = x0 + x1 > 0. */
static struct focal_dataset *make_data(void)
{
    static const char *const names[2] = { "no", "yes" };
    struct focal_dataset *d = table_dataset(FOCAL_TASK_BINARY, N, F, names, 2, -1, 2, 42);
    for (int i = 0; i < N; i++)
        d->label[i] = d->features[i * F] + d->features[i * F + 1] > 0;
    return d;
}

/* An epoch callback that makes every input overflow after epoch 1, so that
 * epoch 2 of the same run meets an infinite loss. */
static void overflow_after_epoch_1(void *ctx, const struct focal_epoch_record *rec)
{
    struct focal_dataset *d = ctx;
    if (rec->epoch == 1)
        for (int i = 0; i < N * F; i++)
            d->features[i] = d->features[i] > 0 ? 3e38f : -3e38f;
}

/* Lines of a text file, or -1. */
static int count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int n = 0, ch;
    if (!fp)
        return -1;
    while ((ch = fgetc(fp)) != EOF)
        n += ch == '\n';
    fclose(fp);
    return n;
}

int main(void)
{
    if (make_scratch_dir("test_run") != 0)
        return 1;
    struct focal_dataset *d = make_data();
    int train[160], val[40], test[40];
    for (int i = 0; i < 160; i++)
        train[i] = i;
    for (int i = 0; i < 40; i++) {
        val[i] = 160 + i;
        test[i] = 200 + i;
    }
    struct focal_run_config cfg;
    table_run_config(&cfg, FOCAL_LOSS_SIGMOID_FOCAL, 1, 16, 5);
    const char *run = path_in("run");

    /* a softmax loss does not fit a binary task */
    struct focal_run_config bad = cfg;
    focal_loss_init(&bad.loss, FOCAL_LOSS_CE);
    CHECK(focal_run_train(&bad, d, train, 160, val, 40, test, 40, run, 0, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "softmax") != NULL, "message: %s", focal_last_error());

    /* one good epoch */
    CHECK(focal_run_train(&cfg, d, train, 160, val, 40, test, 40, run, 0, NULL) == FOCAL_OK);
    CHECK(count_lines(path_in("run/history.csv")) == 2);

    /* the loaded run predicts what it was evaluated on */
    struct focal_run r;
    CHECK(focal_run_load(&r, run, 8) == FOCAL_OK);
    CHECK(r.task == FOCAL_TASK_BINARY && r.num_classes == 2 && r.channels == F);
    struct focal_metrics m;
    struct focal_riadd ra;
    int have_ra = 1;
    CHECK(focal_run_evaluate(&r, d, test, 40, &m, &ra, &have_ra) == FOCAL_OK);
    CHECK(have_ra == 0);
    CHECKF(m.roc_auc_macro > 0.7, "test AUC after one epoch %g", m.roc_auc_macro);
    focal_metrics_release(&m);
    focal_run_release(&r);

    /* the same folder again: refused as a new run; resuming on other data
     * is refused, naming the data's fingerprint */
    CHECK(focal_run_train(&cfg, d, train, 160, val, 40, test, 40, run, FOCAL_RUN_NEW, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "holds a run already"), "message: %s", focal_last_error());
    d->features[0] += 1.0f;
    CHECK(focal_run_train(&cfg, d, train, 160, val, 40, test, 40, run, FOCAL_RUN_RESUME, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "data.hash"), "message: %s", focal_last_error());
    d->features[0] -= 1.0f;

    /* epoch 2 sees inputs that overflow: the run stops with a numeric error
     * and keeps epoch 1's files */
    struct focal_run_callbacks cb = { d, NULL, overflow_after_epoch_1, NULL, NULL };
    cfg.epochs = 2;
    focal_status st = focal_run_train(&cfg, d, train, 160, val, 40, test, 40, run, FOCAL_RUN_OVERWRITE, &cb);
    CHECKF(st == FOCAL_ERR_NUMERIC, "status %d: %s", st, focal_last_error());
    CHECKF(strstr(focal_last_error(), "epoch 2, batch 1") && strstr(focal_last_error(), "keeps epoch 1"),
           "message: %s", focal_last_error());
    CHECK(count_lines(path_in("run/history.csv")) == 2);
    struct focal_model *last = NULL;
    struct focal_ckpt_meta meta;
    CHECK(focal_checkpoint_load(path_in("run/last.safetensors"), 8, &last, &meta) == FOCAL_OK);
    CHECK(meta.epoch == 1 && meta.extra != NULL);
    focal_ckpt_meta_release(&meta);
    focal_model_free(last);
    CHECK(focal_run_load(&r, run, 8) == FOCAL_OK);
    focal_run_release(&r);

    focal_dataset_free(d);
    remove_tree(dir);
    return check_done("test_run");
}
