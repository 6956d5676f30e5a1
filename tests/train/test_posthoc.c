/* test_posthoc.c — post-hoc logit adjustment (focal_run_config.posthoc,
 * Menon et al. 2021) through the library: AUTO's τ is the grid's best
 * validation balanced accuracy and depends on the validation split only
 * (test labels that would favour another τ change nothing), the run's
 * metrics are those of the adjusted probabilities, a loaded run predicts
 * softmax(z − τ·log π) with π counted here from the training labels, TAU 0
 * equals no adjustment, an ensemble averages its members' adjusted
 * probabilities, the setting is part of the run's fingerprint, and sigmoid
 * tasks refuse it without writing anything. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "check.h"
#include "tabledata.h"
#include "testfs.h"

#define N 600
#define F 3
#define C 3
#define N_TRAIN 360
#define N_VAL 120
#define N_TEST 120

/* A long-tailed three-class table: class 2 (x0 + x1 > 2.2) is rare, then
 * x2 > 0 decides between 1 and 0. */
static struct focal_dataset *make_data(void)
{
    static const char *const names[C] = { "c0", "c1", "c2" };
    struct focal_dataset *d = table_dataset(FOCAL_TASK_MULTICLASS, N, F, names, C, -2, 4, 777);
    for (int i = 0; i < N; i++) {
        const float *x = d->features + (size_t)i * F;
        d->label[i] = x[0] + x[1] > 2.2f ? 2 : x[2] > 0 ? 1 : 0;
    }
    return d;
}

/* run.json of dir, parsed (NULL on failure). */
static cJSON *run_json(const char *rundir)
{
    char path[4096];
    cJSON *o = NULL;
    snprintf(path, sizeof path, "%s/run.json", rundir);
    return focal_read_json(path, &o) == FOCAL_OK ? o : NULL;
}

/* The probabilities of the samples idx[0..n) by the run in dir (n × C, malloc'd). */
static double *predict(const char *rundir, const struct focal_dataset *d, const int *idx, int n)
{
    struct focal_run r;
    double *p = malloc((size_t)n * C * sizeof *p);
    if (focal_run_load(&r, rundir, 32) != FOCAL_OK) {
        fprintf(stderr, "load %s: %s\n", rundir, focal_last_error());
        free(p);
        return NULL;
    }
    if (focal_run_predict(&r, d, idx, n, p) != FOCAL_OK) {
        free(p);
        p = NULL;
    }
    focal_run_release(&r);
    return p;
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

int main(void)
{
    if (make_scratch_dir("test_posthoc") != 0)
        return 1;
    struct focal_dataset *d = make_data();
    int train[N_TRAIN], val[N_VAL], test[N_TEST];
    for (int i = 0; i < N_TRAIN; i++)
        train[i] = i;
    for (int i = 0; i < N_VAL; i++)
        val[i] = N_TRAIN + i;
    for (int i = 0; i < N_TEST; i++)
        test[i] = N_TRAIN + N_VAL + i;
    /* the prior as the documentation defines it: training frequencies */
    double count[C] = { 0 }, prior[C];
    for (int i = 0; i < N_TRAIN; i++)
        count[d->label[i]]++;
    for (int j = 0; j < C; j++)
        prior[j] = count[j] / N_TRAIN;
    CHECKF(count[2] >= 5 && count[2] < 0.15 * N_TRAIN, "class 2 is rare: %g of %d", count[2], N_TRAIN);

    struct focal_run_config cfg;
    table_run_config(&cfg, FOCAL_LOSS_CE, 3, 32, 1);
    focal_set_threads(1);
    /* path_in's buffers are reused: copies */
    char *plain = strdup(path_in("plain")), *autor = strdup(path_in("auto")),
         *auto2 = strdup(path_in("auto-other-test")), *tau0 = strdup(path_in("tau0")), *tau1 = strdup(path_in("tau1")),
         *ens = strdup(path_in("ens")), *none = strdup(path_in("binary"));
    CHECK(focal_run_train(&cfg, d, train, N_TRAIN, val, N_VAL, test, N_TEST, plain, 0, NULL) == FOCAL_OK);
    struct focal_run_config c = cfg;
    c.posthoc = FOCAL_POSTHOC_AUTO;
    CHECK(focal_run_train(&c, d, train, N_TRAIN, val, N_VAL, test, N_TEST, autor, 0, NULL) == FOCAL_OK);

    /* AUTO: the grid's best validation balanced accuracy, the smallest τ on a tie */
    cJSON *rj = run_json(autor);
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(rj, "posthoc_la");
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(ph, "grid"), *e;
    CHECK(cJSON_GetArraySize(grid) == FOCAL_POSTHOC_GRID_N);
    double tau = cJSON_GetObjectItemCaseSensitive(ph, "tau") ? cJSON_GetObjectItemCaseSensitive(ph, "tau")->valuedouble
                                                              : NAN;
    double best = -1, best_tau = NAN, at_tau = NAN, at_zero = NAN;
    int k = 0;
    cJSON_ArrayForEach(e, grid) {
        double t = cJSON_GetObjectItemCaseSensitive(e, "tau")->valuedouble;
        double v = cJSON_GetObjectItemCaseSensitive(e, "val_balanced_accuracy")->valuedouble;
        CHECKF(t == k * 0.25, "grid entry %d has tau %g", k, t);
        if (v > best) {
            best = v;
            best_tau = t;
        }
        if (t == tau)
            at_tau = v;
        if (k == 0)
            at_zero = v;
        k++;
    }
    CHECKF(tau == best_tau, "chosen tau %g; the grid's best is at %g", tau, best_tau);
    CHECKF(best > at_zero, "adjustment helps balanced accuracy on validation here: %g vs %g at tau 0", best, at_zero);
    /* the run's validation metrics are those of the chosen τ, its history the unadjusted run's */
    struct focal_run_metrics ma, mp;
    CHECK(focal_run_read_metrics(autor, &ma) == FOCAL_OK && focal_run_read_metrics(plain, &mp) == FOCAL_OK);
    CHECKF(fabs(ma.val.balanced_accuracy - at_tau) < 1e-12, "metrics.json val balanced accuracy %.17g, grid %.17g",
           ma.val.balanced_accuracy, at_tau);
    CHECKF(fabs(mp.val.balanced_accuracy - at_zero) < 1e-12, "unadjusted val balanced accuracy %.17g, grid tau 0 %.17g",
           mp.val.balanced_accuracy, at_zero);
    struct focal_epoch_record *ha, *hp;
    int nha, nhp;
    CHECK(focal_run_read_history(autor, &ha, &nha) == FOCAL_OK && focal_run_read_history(plain, &hp, &nhp) == FOCAL_OK);
    CHECK(nha == 3 && nhp == 3);
    for (int i = 0; i < 3 && nha == 3 && nhp == 3; i++)
        CHECKF(ha[i].train_loss == hp[i].train_loss && ha[i].val_auc == hp[i].val_auc,
               "epoch %d trains as without adjustment", i + 1);
    free(ha);
    free(hp);

    /* τ depends on validation only: test labels all set to the rare class (which a
     * larger τ would favour) leave τ and the grid as they were, and change the test metrics */
    struct focal_dataset *d2 = make_data();
    for (int i = 0; i < N_TEST; i++)
        d2->label[test[i]] = 2;
    CHECK(focal_run_train(&c, d2, train, N_TRAIN, val, N_VAL, test, N_TEST, auto2, 0, NULL) == FOCAL_OK);
    cJSON *rj2 = run_json(auto2);
    const cJSON *ph2 = cJSON_GetObjectItemCaseSensitive(rj2, "posthoc_la");
    CHECKF(ph2 && cJSON_Compare(cJSON_GetObjectItemCaseSensitive(ph, "grid"),
                                cJSON_GetObjectItemCaseSensitive(ph2, "grid"), 1) &&
               cJSON_Compare(cJSON_GetObjectItemCaseSensitive(ph, "tau"), cJSON_GetObjectItemCaseSensitive(ph2, "tau"),
                             1),
           "other test labels give the same tau and grid");
    struct focal_run_metrics m2;
    CHECK(focal_run_read_metrics(auto2, &m2) == FOCAL_OK);
    CHECKF(m2.test.accuracy != ma.test.accuracy, "the test metrics do see the other labels (%g vs %g)",
           m2.test.accuracy, ma.test.accuracy);
    focal_run_metrics_release(&m2);
    cJSON_Delete(rj2);
    focal_dataset_free(d2);

    /* a loaded run: the shift is −τ·log π, predictions are the unadjusted ones
     * renormalised with e^shift, and evaluation reproduces metrics.json's test */
    struct focal_run r;
    CHECK(focal_run_load(&r, autor, 32) == FOCAL_OK);
    CHECKF(r.posthoc_tau == tau && r.logit_shift, "loaded tau %g", r.posthoc_tau);
    for (int j = 0; j < C && r.logit_shift; j++)
        CHECKF(fabs(r.logit_shift[j] + tau * log(prior[j])) < 1e-12, "shift[%d] %.17g, expected %.17g", j,
               r.logit_shift[j], -tau * log(prior[j]));
    struct focal_metrics m;
    struct focal_riadd ra;
    int have_ra;
    CHECK(focal_run_evaluate(&r, d, test, N_TEST, &m, &ra, &have_ra) == FOCAL_OK);
    CHECKF(fabs(m.balanced_accuracy - ma.test.balanced_accuracy) < 1e-12 && fabs(m.accuracy - ma.test.accuracy) < 1e-12,
           "evaluate: balanced accuracy %g, metrics.json %g", m.balanced_accuracy, ma.test.balanced_accuracy);
    focal_metrics_release(&m);
    focal_run_release(&r);
    double *p0 = predict(plain, d, test, N_TEST), *pa = predict(autor, d, test, N_TEST);
    CHECK(p0 && pa);
    if (p0 && pa) {
        double want[N_TEST * C];
        for (int i = 0; i < N_TEST; i++) {
            double s = 0;
            for (int j = 0; j < C; j++)
                s += (want[i * C + j] = p0[i * C + j] * pow(prior[j], -tau));
            for (int j = 0; j < C; j++)
                want[i * C + j] /= s;
        }
        double dd = max_diff(pa, want, N_TEST * C);
        CHECKF(dd < 1e-12, "adjusted predictions differ from p·π^-tau renormalised by %g", dd);
        CHECKF(tau == 0 || max_diff(pa, p0, N_TEST * C) > 1e-3, "and from the unadjusted ones (tau %g)", tau);
    }

    /* TAU 0 is no adjustment; TAU 1 is −log π */
    c.posthoc = FOCAL_POSTHOC_TAU;
    c.posthoc_tau = 0;
    CHECK(focal_run_train(&c, d, train, N_TRAIN, val, N_VAL, test, N_TEST, tau0, 0, NULL) == FOCAL_OK);
    c.posthoc_tau = 1;
    CHECK(focal_run_train(&c, d, train, N_TRAIN, val, N_VAL, test, N_TEST, tau1, 0, NULL) == FOCAL_OK);
    double *pz = predict(tau0, d, test, N_TEST);
    CHECKF(pz && p0 && max_diff(pz, p0, N_TEST * C) < 1e-15, "tau 0: %g from no adjustment",
           pz && p0 ? max_diff(pz, p0, N_TEST * C) : NAN);
    cJSON *rj1 = run_json(tau1);
    const cJSON *ph1 = cJSON_GetObjectItemCaseSensitive(rj1, "posthoc_la");
    CHECK(ph1 && !cJSON_GetObjectItemCaseSensitive(ph1, "grid") &&
          strcmp(cJSON_GetObjectItemCaseSensitive(ph1, "chosen_by")->valuestring, "given") == 0);
    cJSON_Delete(rj1);

    /* an ensemble of adjusted runs averages its members' adjusted probabilities */
    const char *members[2] = { autor, tau1 };
    CHECKF(focal_ensemble_create(ens, members, 2) == FOCAL_OK, "ensemble: %s", focal_last_error());
    double *pe = predict(ens, d, test, N_TEST), *p1 = predict(tau1, d, test, N_TEST);
    CHECK(pe && p1 && pa);
    if (pe && p1 && pa) {
        double mean[N_TEST * C];
        for (int i = 0; i < N_TEST * C; i++)
            mean[i] = (pa[i] + p1[i]) / 2;
        CHECKF(max_diff(pe, mean, N_TEST * C) < 1e-12, "ensemble = mean of adjusted members (%g)",
               max_diff(pe, mean, N_TEST * C));
    }

    /* part of the fingerprint: resuming with another τ is refused, naming it */
    c.posthoc_tau = 0.5;
    CHECK(focal_run_train(&c, d, train, N_TRAIN, val, N_VAL, test, N_TEST, tau1, FOCAL_RUN_RESUME, NULL) ==
          FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "posthoc_la"), "message: %s", focal_last_error());

    /* sigmoid tasks refuse it and leave no folder */
    struct focal_dataset *b = make_data();
    b->task = FOCAL_TASK_BINARY;
    free(b->class_names[2]);
    b->num_classes = 2;
    for (int i = 0; i < N; i++)
        b->label[i] = b->label[i] == 2;
    struct focal_run_config cb = c;
    focal_loss_init(&cb.loss, FOCAL_LOSS_BCE);
    cb.posthoc = FOCAL_POSTHOC_AUTO;
    CHECK(focal_run_train(&cb, b, train, N_TRAIN, val, N_VAL, test, N_TEST, none, 0, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "softmax head") && strstr(focal_last_error(), "absorbs"), "message: %s",
           focal_last_error());
    struct stat sb;
    CHECK(stat(none, &sb) != 0);
    focal_dataset_free(b);

    free(p0);
    free(pa);
    free(pz);
    free(pe);
    free(p1);
    focal_run_metrics_release(&ma);
    focal_run_metrics_release(&mp);
    cJSON_Delete(rj);
    focal_dataset_free(d);
    remove_tree(dir);
    free(plain);
    free(autor);
    free(auto2);
    free(tau0);
    free(tau1);
    free(ens);
    free(none);
    return check_done("test_posthoc");
}