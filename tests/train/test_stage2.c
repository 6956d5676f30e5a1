/* test_stage2.c — decoupled training's second stage through the library:
 * cRT and WB leave every feature tensor (weights and batch-norm running
 * statistics) bit-identical to stage 1's best checkpoint and change the
 * classifier; WB's classifier rows stay within the MaxNorm radius;
 * τ-normalisation picks τ by the validation metric, records it, and its
 * classifier is stage 1's with rows scaled by ‖w‖^−τ; stage 2 refuses a
 * stage 1 on other data, an unfinished one, and resuming after stage 1
 * changed; a resumed stage 2 ends as an uninterrupted one, and one whose
 * features are computed every batch (augmentation) as one that computes
 * them once. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "check.h"
#include "testfs.h"

#define N 600
#define F 4
#define C 3

/* Three classes, class 2 rare: 2 when x0 + x1 > 1.6, else 1 when x2 > 0. */
static struct focal_dataset *make_data(void)
{
    struct focal_dataset *d = calloc(1, sizeof *d);
    uint64_t s = 7;
    d->task = FOCAL_TASK_MULTICLASS;
    d->n = N;
    d->num_classes = C;
    d->class_names = calloc(C, sizeof *d->class_names);
    for (int j = 0; j < C; j++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", j);
        d->class_names[j] = strdup(name);
    }
    d->label = calloc(N, sizeof *d->label);
    d->features = calloc((size_t)N * F, sizeof *d->features);
    d->n_features = F;
    for (int i = 0; i < N; i++) {
        float *x = d->features + (size_t)i * F;
        for (int j = 0; j < F; j++)
            x[j] = (float)(2 * check_urand(&s) - 1);
        d->label[i] = x[0] + x[1] > 1.1f ? 2 : x[2] > 0;
    }
    return d;
}

/* A network with batch norm and dropout in its features. */
static const char *const NET = "flatten\ndense 16\nbatchnorm\nrelu\ndropout 0.2\ndense 8\nrelu\ndense classes\n";
/* Tensors of its classifier (the last layer's weight and bias). */
#define CLASSIFIER_TENSORS 2

static struct focal_model *load(const char *run, const char *file)
{
    char path[4096];
    struct focal_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s", run, file);
    CHECKF(focal_checkpoint_load(path, 8, &m, NULL) == FOCAL_OK, "%s: %s", path, focal_last_error());
    return m;
}

/* 1 when every tensor of a and b but the classifier's is bit-identical. */
static int features_identical(const struct focal_model *a, const struct focal_model *b)
{
    size_t n = focal_model_num_tensors(a);
    if (n != focal_model_num_tensors(b))
        return 0;
    for (size_t i = 0; i + CLASSIFIER_TENSORS < n; i++) {
        struct focal_tensor_info ta, tb;
        focal_model_tensor(a, i, &ta);
        focal_model_tensor(b, i, &tb);
        if (ta.numel != tb.numel || memcmp(ta.data, tb.data, ta.numel * sizeof *ta.data) != 0) {
            fprintf(stderr, "tensor %s differs\n", ta.name);
            return 0;
        }
    }
    return 1;
}

/* The classifier's weight (C × dim). */
static float *classifier(const struct focal_model *m, int *dim)
{
    struct focal_tensor_info t;
    focal_model_tensor(m, focal_model_num_tensors(m) - CLASSIFIER_TENSORS, &t);
    *dim = t.shape[1];
    return t.data;
}

static double row_norm(const float *w, int c, int dim)
{
    double s = 0;
    for (int k = 0; k < dim; k++)
        s += (double)w[c * dim + k] * w[c * dim + k];
    return sqrt(s);
}

static cJSON *run_json(const char *run)
{
    char path[4096];
    cJSON *o = NULL;
    snprintf(path, sizeof path, "%s/run.json", run);
    CHECKF(focal_read_json(path, &o) == FOCAL_OK, "%s", focal_last_error());
    return o;
}

int main(void)
{
    if (make_scratch_dir("test_stage2") != 0)
        return 1;
    struct focal_dataset *d = make_data();
    int train[400], val[100], test[100];
    for (int i = 0; i < 400; i++)
        train[i] = i;
    for (int i = 0; i < 100; i++) {
        val[i] = 400 + i;
        test[i] = 500 + i;
    }
    struct focal_run_config s1;
    focal_run_defaults(&s1);
    /* a constant rate: a run resumed with more epochs is then the longer run */
    s1.optim.schedule = FOCAL_SCHED_CONSTANT;
    s1.model_desc = NET;
    s1.model_name = "net";
    focal_loss_init(&s1.loss, FOCAL_LOSS_CE);
    s1.epochs = 4;
    s1.batch = 16;
    s1.seed = 3;
    s1.optim.weight_decay = 5e-3;
    char r1[4096], r2[4096];
    snprintf(r1, sizeof r1, "%s", path_in("r1"));
    CHECKF(focal_run_train(&s1, d, train, 400, val, 100, test, 100, r1, 0, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    struct focal_model *m1 = load(r1, "model.safetensors");

    /* cRT: features bit-identical in the best and the last checkpoint; classifier re-initialised and trained */
    struct focal_run_config s2 = s1;
    s2.model_desc = s2.model_name = NULL;
    s2.stage2 = FOCAL_STAGE2_CRT;
    s2.stage2_from = r1;
    s2.sampler = FOCAL_SAMPLER_CLASS_BALANCED;
    s2.epochs = 3;
    s2.optim.lr = 0.01;
    snprintf(r2, sizeof r2, "%s", path_in("crt"));
    CHECKF(focal_run_train(&s2, d, train, 400, val, 100, test, 100, r2, 0, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    struct focal_model *best = load(r2, "model.safetensors"), *last = load(r2, "last.safetensors");
    CHECK(features_identical(m1, best) && features_identical(m1, last));
    int dim;
    float *w1 = classifier(m1, &dim), *w2 = classifier(best, &dim);
    CHECK(memcmp(w1, w2, (size_t)C * (size_t)dim * sizeof *w1) != 0);
    focal_model_free(best);
    focal_model_free(last);
    cJSON *o = run_json(r2);
    const cJSON *st2 = cJSON_GetObjectItemCaseSensitive(o, "stage2");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(st2, "scheme")) &&
          strcmp(cJSON_GetObjectItemCaseSensitive(st2, "scheme")->valuestring, "crt") == 0);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(st2, "from")) &&
          strcmp(cJSON_GetObjectItemCaseSensitive(st2, "from")->valuestring, r1) == 0);
    cJSON_Delete(o);
    /* eval works on it as on any run */
    struct focal_run r;
    CHECK(focal_run_load(&r, r2, 8) == FOCAL_OK);
    struct focal_metrics met;
    struct focal_riadd ra;
    int have_ra;
    CHECK(focal_run_evaluate(&r, d, test, 100, &met, &ra, &have_ra) == FOCAL_OK);
    CHECKF(met.roc_auc_macro > 0.8, "cRT test AUC %g", met.roc_auc_macro);
    focal_metrics_release(&met);
    focal_run_release(&r);

    /* resumed: 2 epochs, then raised to 3, ends with the uninterrupted run's classifier */
    char r2b[4096];
    snprintf(r2b, sizeof r2b, "%s", path_in("crt-resumed"));
    s2.epochs = 2;
    CHECK(focal_run_train(&s2, d, train, 400, val, 100, test, 100, r2b, 0, NULL) == FOCAL_OK);
    s2.epochs = 3;
    CHECKF(focal_run_train(&s2, d, train, 400, val, 100, test, 100, r2b, FOCAL_RUN_RESUME, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    struct focal_model *a = load(r2, "last.safetensors"), *b = load(r2b, "last.safetensors");
    float *wa = classifier(a, &dim), *wb = classifier(b, &dim);
    CHECK(memcmp(wa, wb, (size_t)C * (size_t)dim * sizeof *wa) == 0);
    focal_model_free(a);
    focal_model_free(b);

    /* with augmentation (a flip: a no-op on a table) the features are computed
     * batch by batch instead of once: the same classifier, to rounding */
    struct focal_run_config s2a = s2;
    s2a.augment.hflip = 1;
    const char *r2a = path_in("crt-aug");
    CHECKF(focal_run_train(&s2a, d, train, 400, val, 100, test, 100, r2a, 0, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    a = load(r2, "last.safetensors");
    b = load(r2a, "last.safetensors");
    CHECK(features_identical(m1, b));
    wa = classifier(a, &dim);
    wb = classifier(b, &dim);
    double worst = 0;
    for (int k = 0; k < C * dim; k++)
        worst = fmax(worst, fabs((double)wa[k] - wb[k]) / fmax(fabs((double)wa[k]), 1e-3));
    CHECKF(worst < 1e-4, "cached and computed features train classifiers %g apart", worst);
    focal_model_free(a);
    focal_model_free(b);

    /* WB: features bit-identical, every class's row within the radius (stage 1's were not) */
    const double radius = 0.2;
    int outside = 0;
    for (int c = 0; c < C; c++)
        outside += row_norm(w1, c, dim) > radius;
    CHECKF(outside > 0, "stage 1's rows are all within %g already: the test would not show the constraint",
           radius);
    struct focal_run_config s4 = s2;
    s4.stage2 = FOCAL_STAGE2_WB;
    s4.sampler = FOCAL_SAMPLER_SHUFFLE;
    s4.max_norm = radius;
    const char *r4 = path_in("wb");
    CHECKF(focal_run_train(&s4, d, train, 400, val, 100, test, 100, r4, 0, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    best = load(r4, "model.safetensors");
    last = load(r4, "last.safetensors");
    CHECK(features_identical(m1, best) && features_identical(m1, last));
    for (int k = 0; k < 2; k++) {
        float *w = classifier(k ? last : best, &dim);
        for (int c = 0; c < C; c++)
            CHECKF(row_norm(w, c, dim) <= radius * (1 + 1e-6), "row %d norm %g > %g", c, row_norm(w, c, dim),
                   radius);
    }
    focal_model_free(best);
    focal_model_free(last);

    /* τ-norm: τ from the grid, chosen as the best validation AUC of the search
     * (τ 0 is stage 1's best validation AUC), the run's validation AUC at
     * that τ, rows scaled by ‖w‖^−τ, features untouched */
    struct focal_run_config s3 = s2;
    s3.stage2 = FOCAL_STAGE2_TAU_NORM;
    s3.epochs = 3;
    const char *r3 = path_in("tau");
    CHECK(focal_run_train(&s3, d, train, 400, val, 100, test, 100, r3, 0, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "epochs is 3, expected 1"), "message: %s", focal_last_error());
    s3.epochs = 1;
    CHECKF(focal_run_train(&s3, d, train, 400, val, 100, test, 100, r3, 0, NULL) == FOCAL_OK, "%s",
           focal_last_error());
    o = run_json(r3);
    st2 = cJSON_GetObjectItemCaseSensitive(o, "stage2");
    const cJSON *tau = cJSON_GetObjectItemCaseSensitive(st2, "tau");
    const cJSON *search = cJSON_GetObjectItemCaseSensitive(st2, "search");
    CHECK(cJSON_IsNumber(tau) && cJSON_GetArraySize(search) == 21);
    double best_v = -1, best_tau = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, search) {
        double v = cJSON_GetObjectItemCaseSensitive(e, "value")->valuedouble;
        if (v > best_v) {
            best_v = v;
            best_tau = cJSON_GetObjectItemCaseSensitive(e, "tau")->valuedouble;
        }
    }
    struct focal_epoch_record *h1, *h3;
    int n1, n3;
    CHECK(focal_run_read_history(r1, &h1, &n1) == FOCAL_OK && focal_run_read_history(r3, &h3, &n3) == FOCAL_OK);
    double s1_best = -1;
    for (int k = 0; k < n1; k++)
        s1_best = fmax(s1_best, h1[k].val_auc);
    const double v0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(search, 0), "value")->valuedouble;
    CHECKF(check_close(v0, s1_best, 1e-6, 1e-6), "tau 0 scores %.9g, stage 1's best validation AUC %.9g", v0,
           s1_best);
    CHECKF(tau->valuedouble == best_tau, "tau %g, the search's best %g", tau->valuedouble, best_tau);
    CHECKF(n3 == 1 && check_close(h3[0].val_auc, best_v, 1e-6, 1e-6), "run's validation AUC %.9g, search %.9g",
           h3[0].val_auc, best_v);
    free(h1);
    free(h3);
    best = load(r3, "model.safetensors");
    CHECK(features_identical(m1, best));
    float *w3 = classifier(best, &dim);
    for (int c = 0; c < C; c++) {
        const double want = pow(row_norm(w1, c, dim), 1 - tau->valuedouble);
        CHECKF(check_close(row_norm(w3, c, dim), want, 1e-5, 0), "row %d norm %g, expected %g", c,
               row_norm(w3, c, dim), want);
    }
    focal_model_free(best);
    cJSON_Delete(o);

    /* refused: stage 1 on other splits, an unfinished stage 1, a changed stage 1 on resume */
    int val2[100];
    memcpy(val2, val, sizeof val);
    val2[0] = test[0];
    CHECK(focal_run_train(&s2, d, train, 400, val2, 100, test, 100, path_in("x"), 0, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "other data or splits"), "message: %s", focal_last_error());
    s2.stage2_from = path_in("crt-none");
    CHECK(focal_run_train(&s2, d, train, 400, val, 100, test, 100, path_in("y"), 0, NULL) != FOCAL_OK);
    s2.stage2_from = r1;
    s1.epochs = 5;
    CHECK(focal_run_train(&s1, d, train, 400, val, 100, test, 100, r1, FOCAL_RUN_RESUME, NULL) == FOCAL_OK);
    s2.epochs = 4;
    CHECK(focal_run_train(&s2, d, train, 400, val, 100, test, 100, r2, FOCAL_RUN_RESUME, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "stage2.from_fingerprint"), "message: %s", focal_last_error());

    focal_model_free(m1);
    focal_dataset_free(d);
    remove_tree(dir);
    return check_done("test_stage2");
}
