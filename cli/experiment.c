/* experiment.c — runs and numbers shared by `focal compare` and `focal tune`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "experiment.h"
#include "report/report.h"

static const char *const metric_keys[EXP_N] = { "map", "auc", "macro_f1", "balanced_accuracy", "accuracy",
                                                "rare_ap", "seconds" };
static const char *const metric_labels[EXP_N] = { "mAP", "macro ROC-AUC", "macro F1", "balanced acc.",
                                                  "accuracy", "AP rarest 3", "train s" };

const char *exp_metric_key(enum exp_metric m)
{
    return metric_keys[m];
}

const char *exp_metric_label(enum exp_metric m)
{
    return metric_labels[m];
}

int exp_metric_of_select(enum focal_select s)
{
    switch (s) {
    case FOCAL_SELECT_MAP: return EXP_MAP;
    case FOCAL_SELECT_AUC: return EXP_AUC;
    case FOCAL_SELECT_MACRO_F1: return EXP_MACRO_F1;
    case FOCAL_SELECT_BALANCED_ACCURACY: return EXP_BACC;
    case FOCAL_SELECT_ACCURACY: return EXP_ACC;
    default: return -1;
    }
}

/* Spec keys and the command-line options they stand for. */
static const struct {
    const char *key;
    int id;
} spec_keys[] = {
    { "loss", TRAINOPT_LOSS }, { "weights", TRAINOPT_CLASS_WEIGHTS }, { "sampler", TRAINOPT_SAMPLER },
    { "prior", TRAINOPT_PRIOR }, { "gamma", LOSSOPT_GAMMA }, { "alpha", LOSSOPT_ALPHA }, { "beta", LOSSOPT_BETA },
    { "gamma-pos", LOSSOPT_GAMMA_POS }, { "gamma-neg", LOSSOPT_GAMMA_NEG }, { "margin", LOSSOPT_MARGIN },
    { "epsilon", LOSSOPT_EPSILON }, { "label-smoothing", LOSSOPT_LABEL_SMOOTHING },
    { "reweight-from", TRAINOPT_REWEIGHT_FROM }, { "reweight-beta", TRAINOPT_REWEIGHT_BETA },
    { "mixup", TRAINOPT_MIXUP }, { "weight-decay", TRAINOPT_WEIGHT_DECAY }, { "stage2", TRAINOPT_STAGE2 },
    { "max-norm", TRAINOPT_MAX_NORM },
    { "posthoc-la", TRAINOPT_POSTHOC_LA },
};
#define N_SPEC_KEYS (sizeof spec_keys / sizeof spec_keys[0])

int exp_apply_spec(struct trainopt *t, char *spec)
{
    char *save = NULL;
    for (char *item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        size_t k = 0;
        if (colon) {
            *colon = 0;
            while (k < N_SPEC_KEYS && strcmp(item, spec_keys[k].key) != 0)
                k++;
        }
        if (!colon || k == N_SPEC_KEYS || !colon[1]) {
            cli_error("method spec: '%s%s%s' is not KEY:VALUE with KEY one of loss, weights, sampler, prior, gamma, "
                      "alpha, beta, gamma-pos, gamma-neg, margin, epsilon, label-smoothing, reweight-from, "
                      "reweight-beta, mixup, weight-decay, stage2, max-norm, posthoc-la", item,
                      colon ? ":" : "", colon ? colon + 1 : "");
            return -1;
        }
        if (trainopt_take(t, spec_keys[k].id, colon + 1) < 0)
            return -1;
    }
    return 0;
}

int exp_mkdirs(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf) {
        cli_error("%s: path too long", dir);
        return -1;
    }
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            cli_error("%s: cannot create the folder: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = c;
    }
    return 0;
}

/* 1 when the spec has a second-stage key (stage2, max-norm) at item. */
static int stage2_key(const char *item, size_t len)
{
    return (len > 7 && strncmp(item, "stage2:", 7) == 0) || (len > 9 && strncmp(item, "max-norm:", 9) == 0);
}

/* 1 when spec names a second stage. */
int exp_two_stage(const char *spec)
{
    for (const char *p = spec; *p;) {
        size_t len = strcspn(p, ",");
        if (len > 7 && strncmp(p, "stage2:", 7) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* 1 when the stage-1 recipe of the two-stage spec a (its items but the
 * second stage's) is the spec b, or b's stage-1 recipe when b is two-stage. */
static int same_stage1(const char *a, const char *b)
{
    const char *p = a, *q = b;
    for (;;) {
        while (*p && stage2_key(p, strcspn(p, ",")))
            p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',');
        while (*q && stage2_key(q, strcspn(q, ",")))
            q += strcspn(q, ",") + (q[strcspn(q, ",")] == ',');
        if (!*p || !*q)
            return !*p && !*q;
        size_t lp = strcspn(p, ","), lq = strcspn(q, ",");
        if (lp != lq || strncmp(p, q, lp) != 0)
            return 0;
        p += lp + (p[lp] == ',');
        q += lq + (q[lq] == ',');
    }
}

int exp_stage1_dir(char *buf, size_t size, const char *out, int k, int seed, const char *const *names,
                   const char *const *specs, int n, int quiet)
{
    if (!exp_two_stage(specs[k]))
        return 0;
    int j = 0;
    while (j < n && (exp_two_stage(specs[j]) || !same_stage1(specs[k], specs[j])))
        j++;
    if (j < n) {
        snprintf(buf, size, "%s/runs/%s/seed%d", out, names[j], seed);
        if (!quiet && seed == 0)
            printf("compare: %s's stage 1 is %s's run of each seed (the same recipe), trained once\n", names[k],
                   names[j]);
        return 1;
    }
    /* else the first two-stage method with this stage 1 keeps it */
    for (j = 0; j < k && !(exp_two_stage(specs[j]) && same_stage1(specs[k], specs[j])); j++)
        ;
    snprintf(buf, size, "%s/runs/%s/stage1/seed%d", out, names[j], seed);
    if (!quiet && seed == 0 && j < k)
        printf("compare: %s's stage 1 is %s's (the same recipe), trained once\n", names[k], names[j]);
    return 1;
}

static int train_one(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                     const int *val, int n_val, const int *test, int n_test, const char *dir, int *skipped);

/* Waits while another process (another rank of an MPI job) holds the lock of
 * run folder dir: a stage 1 that is another method's run, or the shared
 * stage 1 of another two-stage method, being trained there. */
static int wait_for_folder(const char *dir)
{
    if (exp_mkdirs(dir) != 0)
        return CLI_EXIT_DATA;
    for (;;) {
        struct focal_dir_lock l = { -1, NULL };
        focal_status st = focal_dir_lock(&l, dir);
        if (st == FOCAL_OK) {
            focal_dir_unlock(&l);
            return CLI_EXIT_OK;
        }
        if (st != FOCAL_ERR_BUSY) {
            cli_error("%s", focal_last_error());
            return CLI_EXIT_DATA;
        }
        nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
    }
}

/* A two-stage method: its stage 1 (t without the second stage) into
 * t->stage1_dir, then the second stage from it into dir. */
static int train_two_stages(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                            const int *val, int n_val, const int *test, int n_test, const char *dir, int *skipped)
{
    struct trainopt s1 = *t;
    int skip1, skip2;
    if (wait_for_folder(t->stage1_dir) != CLI_EXIT_OK)
        return CLI_EXIT_DATA;
    s1.model_text = NULL;
    s1.class_weights = NULL;
    s1.cfg.stage2 = FOCAL_STAGE2_NONE;
    s1.cfg.stage2_from = NULL;
    int status = train_one(&s1, d, train, n_train, val, n_val, test, n_test, t->stage1_dir, &skip1);
    trainopt_free(&s1);
    if (status != CLI_EXIT_OK)
        return status;
    t->cfg.stage2_from = t->stage1_dir;
    if (t->cfg.stage2 == FOCAL_STAGE2_TAU_NORM)
        t->cfg.epochs = 1; /* the tau search */
    status = train_one(t, d, train, n_train, val, n_val, test, n_test, dir, &skip2);
    *skipped = skip1 && skip2;
    return status;
}

int exp_train(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train, const int *val,
              int n_val, const int *test, int n_test, const char *dir, int *skipped)
{
    *skipped = 0;
    /* a second stage of a given run (--stage2 --from for every run) is one run */
    if (t->cfg.stage2 == FOCAL_STAGE2_NONE || !t->stage1_dir)
        return train_one(t, d, train, n_train, val, n_val, test, n_test, dir, skipped);
    return train_two_stages(t, d, train, n_train, val, n_val, test, n_test, dir, skipped);
}

static int train_one(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                     const int *val, int n_val, const int *test, int n_test, const char *dir, int *skipped)
{
    *skipped = 0;
    if (exp_mkdirs(dir) != 0)
        return CLI_EXIT_DATA;
    /* the library decides, under the run's lock, from the settings recorded in its run.json */
    t->experiment = 1;
    t->resume = 0;
    int status = trainopt_run(t, d, train, n_train, val, n_val, test, n_test, dir);
    *skipped = status == CLI_EXIT_OK && t->started == FOCAL_RUN_UP_TO_DATE;
    return status;
}

/* The files an experiment writes from its runs' results. */
static const char *const exp_outputs[] = { "results.json", "results.csv", "report.html", "report.md" };

int exp_begin(const char *dir, struct focal_dir_lock *lock)
{
    if (exp_mkdirs(dir) != 0)
        return CLI_EXIT_DATA;
    if (focal_dir_lock(lock, dir) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    /* results of earlier runs must not outlive them: they are written again at the end */
    for (size_t k = 0; k < sizeof exp_outputs / sizeof exp_outputs[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, exp_outputs[k]);
        if (unlink(path) != 0 && errno != ENOENT) {
            cli_error("%s: cannot remove the earlier result: %s", path, strerror(errno));
            focal_dir_unlock(lock);
            return CLI_EXIT_DATA;
        }
    }
    return CLI_EXIT_OK;
}

/* The values of one split of a run's metrics.json. */
static void read_split(const struct focal_split_summary *m, const int *rare, int n_rare, double *v)
{
    v[EXP_MAP] = m->map;
    v[EXP_AUC] = m->auc;
    v[EXP_MACRO_F1] = m->macro_f1;
    v[EXP_BACC] = m->balanced_accuracy;
    v[EXP_ACC] = m->accuracy;
    double sum = 0;
    int cnt = 0;
    for (int k = 0; k < n_rare; k++) {
        double ap = rare[k] < m->num_classes ? m->average_precision[rare[k]] : NAN;
        if (isfinite(ap)) {
            sum += ap;
            cnt++;
        }
    }
    v[EXP_RARE_AP] = cnt ? sum / cnt : NAN;
}

/* The training seconds of a run: the sum over its history's epochs, and
 * for a second stage those of its stage 1 (run.json's stage2.from) too: a
 * two-stage method's whole budget. NaN when a history cannot be read. */
static double run_seconds(const char *dir)
{
    struct focal_epoch_record *rows;
    int n;
    double total = 0;
    char path[4096];
    cJSON *o = NULL;
    if (focal_run_read_history(dir, &rows, &n) != FOCAL_OK)
        return NAN;
    for (int e = 0; e < n; e++)
        if (isfinite(rows[e].seconds))
            total += rows[e].seconds;
    free(rows);
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (focal_read_json(path, &o) != FOCAL_OK)
        return NAN;
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "stage2"), "from");
    if (cJSON_IsString(from))
        total += run_seconds(from->valuestring);
    cJSON_Delete(o);
    return total;
}

int exp_read_result(const char *dir, const int *rare, int n_rare, struct exp_result *r)
{
    struct focal_run_metrics m;
    if (focal_run_read_metrics(dir, &m) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    read_split(&m.val, rare, n_rare, r->values[EXP_VAL]);
    r->have_test = m.have_test;
    if (r->have_test)
        read_split(&m.test, rare, n_rare, r->values[EXP_TEST]);
    else
        for (int k = 0; k < EXP_N; k++)
            r->values[EXP_TEST][k] = NAN;
    r->values[EXP_VAL][EXP_SECONDS] = r->values[EXP_TEST][EXP_SECONDS] = run_seconds(dir);
    focal_run_metrics_release(&m);
    return 0;
}

int exp_rarest(const struct focal_dataset *d, const int *train, int n_train, int rare[3])
{
    int c = d->num_classes, n = 0;
    double *cnt = calloc((size_t)c, sizeof *cnt);
    if (!cnt)
        return 0;
    focal_dataset_class_counts(d, train, n_train, cnt);
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int j = 0; j < c; j++) {
            int taken = 0;
            for (int q = 0; q < n; q++)
                taken |= rare[q] == j;
            if (!taken && cnt[j] > 0 && (best < 0 || cnt[j] < cnt[best]))
                best = j;
        }
        if (best < 0)
            break;
        rare[n++] = best;
    }
    free(cnt);
    return n;
}

cJSON *exp_results_head(const char *kind, const char *data, const struct focal_dataset *d, const int *train,
                        int n_train, enum focal_select sel, int seeds, const int *rare, int n_rare)
{
    cJSON *o = cJSON_CreateObject();
    double *cnt = calloc((size_t)d->num_classes, sizeof *cnt);
    if (!o || !cnt) {
        cJSON_Delete(o);
        free(cnt);
        return NULL;
    }
    focal_dataset_class_counts(d, train, n_train, cnt);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "data", data);
    cJSON_AddStringToObject(o, "task", focal_task_name(d->task));
    cJSON_AddItemToObject(o, "class_names",
                          cJSON_CreateStringArray((const char *const *)d->class_names, d->num_classes));
    cJSON_AddItemToObject(o, "train_counts", cJSON_CreateDoubleArray(cnt, d->num_classes));
    cJSON_AddStringToObject(o, "select", exp_metric_key((enum exp_metric)exp_metric_of_select(sel)));
    cJSON_AddNumberToObject(o, "seeds", seeds);
    cJSON *keys = cJSON_AddArrayToObject(o, "metrics"), *labels = cJSON_AddObjectToObject(o, "metric_labels");
    for (int k = 0; k < EXP_N; k++) {
        cJSON_AddItemToArray(keys, cJSON_CreateString(metric_keys[k]));
        cJSON_AddStringToObject(labels, metric_keys[k], metric_labels[k]);
    }
    cJSON *r = cJSON_AddArrayToObject(o, "rarest");
    for (int k = 0; k < n_rare; k++)
        cJSON_AddItemToArray(r, cJSON_CreateString(d->class_names[rare[k]]));
    free(cnt);
    return o;
}

int exp_write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    struct focal_wfile wf;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (focal_wfile_open(&wf, path) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    fputs(text, wf.fp);
    fputc('\n', wf.fp);
    if (focal_wfile_commit(&wf) != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return -1;
    }
    return 0;
}

int exp_finish(const char *dir, cJSON *results, int quiet)
{
    char *text = results ? cJSON_Print(results) : NULL;
    if (!text) {
        cli_error("out of memory");
        return -1;
    }
    int rc = exp_write_text(dir, "results.json", text);
    free(text);
    if (rc != 0)
        return -1;
    char err[512];
    if (report_write(dir, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    if (!quiet)
        printf("wrote %s/results.csv, results.json, report.md and report: %s/report.html\n", dir, dir);
    return 0;
}

struct trainopt exp_run_options(const struct trainopt *base, uint64_t seed)
{
    struct trainopt t = *base;
    t.model_text = NULL;
    t.class_weights = NULL;
    t.brief = 1;
    t.cfg.seed = seed;
    return t;
}

cJSON *exp_stat_json(double mean, double std)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", isfinite(mean) ? cJSON_CreateNumber(mean) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "std", isfinite(std) ? cJSON_CreateNumber(std) : cJSON_CreateNull());
    return o;
}
