/* ensemble.c — ensembles of finished runs: a run folder whose run.json says
 * "kind": "ensemble" and names its members (run folders of the same task,
 * classes, input and image options). Its probabilities are the mean of the
 * members'; its thresholds are chosen on validation from the averaged
 * validation probabilities, with the same code as a single run's
 * (run_eval.c), and it writes metrics.json and scores.csv as a run does
 * (run_files.c). focal_run_load loads every member (run_load.c calls in
 * here), so evaluating and predicting work on an ensemble as on a run. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* ---- a member's run.json -------------------------------------------------------------- */

/* What must agree among the members, from one member's run.json. */
struct member_desc {
    char *path;              /* dir/run.json */
    cJSON *root;
    const char *task;
    const cJSON *classes, *input, *positive;
    int fundus_crop;
};

static void member_desc_release(struct member_desc *m)
{
    free(m->path);
    cJSON_Delete(m->root);
    memset(m, 0, sizeof *m);
}

/* 1 if the run.json object o describes an ensemble. */
static int is_ensemble(const cJSON *o)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    return cJSON_IsString(k) && strcmp(k->valuestring, "ensemble") == 0;
}

static focal_status member_desc_read(struct member_desc *m, const char *dir)
{
    memset(m, 0, sizeof *m);
    if (!(m->path = focal_run_file(dir, "run.json")))
        return FOCAL_ERR_NOMEM;
    focal_status st = focal_read_json(m->path, &m->root);
    if (st != FOCAL_OK)
        return st;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m->root, "format");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(m->root, "task");
    m->classes = cJSON_GetObjectItemCaseSensitive(m->root, "class_names");
    m->input = cJSON_GetObjectItemCaseSensitive(m->root, "input");
    m->positive = cJSON_GetObjectItemCaseSensitive(m->root, "positive");
    m->fundus_crop = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->root, "fundus_crop"));
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, RUN_FORMAT) != 0)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: not a focal run description (no \"format\": \"%s\")", m->path,
                          RUN_FORMAT);
    if (is_ensemble(m->root))
        return focal_fail(FOCAL_ERR_ARG, "%s: is an ensemble; an ensemble's members must be single runs", dir);
    if (!cJSON_IsString(task) || !cJSON_IsArray(m->classes) || cJSON_GetArraySize(m->classes) < 1 ||
        !cJSON_IsArray(m->input) || cJSON_GetArraySize(m->input) != 3)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: \"task\", \"class_names\" or \"input\" is missing or malformed",
                          m->path);
    m->task = task->valuestring;
    return FOCAL_OK;
}

/* A JSON value as compact text into buf (cut to fit). */
static void json_text(char *buf, size_t size, const cJSON *v)
{
    char *t = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, size, "%s", t ? t : "none");
    free(t);
}

/* Fails naming what member b (dir db) has that differs from member a (dir da). */
static focal_status member_agree(const struct member_desc *a, const char *da, const struct member_desc *b,
                                 const char *db)
{
    static const char *const what[] = { "task", "classes", "input size", "positive class" };
    const cJSON *va[4] = { cJSON_GetObjectItemCaseSensitive(a->root, "task"), a->classes, a->input, a->positive };
    const cJSON *vb[4] = { cJSON_GetObjectItemCaseSensitive(b->root, "task"), b->classes, b->input, b->positive };
    for (int k = 0; k < 4; k++) {
        if ((!va[k] && !vb[k]) || (va[k] && vb[k] && cJSON_Compare(va[k], vb[k], 1)))
            continue;
        char ta[256], tb[256];
        json_text(ta, sizeof ta, va[k]);
        json_text(tb, sizeof tb, vb[k]);
        return focal_fail(FOCAL_ERR_ARG, "ensemble: %s has %s %s; %s has %s; members must agree", db, what[k], tb,
                          da, ta);
    }
    if (a->fundus_crop != b->fundus_crop)
        return focal_fail(FOCAL_ERR_ARG, "ensemble: %s was trained %s the fundus crop, %s %s; members must agree", db,
                          b->fundus_crop ? "with" : "without", da, a->fundus_crop ? "with" : "without");
    return FOCAL_OK;
}

/* ---- paths ------------------------------------------------------------------------------ */

/* The path of `to` relative to the folder `from` (both absolute, without
 * trailing slashes) in a new string. */
static char *relative_path(const char *from, const char *to)
{
    size_t common = 0, i = 0;
    /* the longest common prefix that ends at a component boundary */
    while (from[i] && from[i] == to[i]) {
        i++;
        if ((from[i] == '/' || !from[i]) && (to[i] == '/' || !to[i]))
            common = i;
    }
    if (common == 1 && from[0] == '/')
        common = 0;  /* only the root in common */
    size_t ups = 0;
    for (const char *p = from + common; *p; p++)
        ups += *p == '/';
    const char *rest = to + common;
    if (*rest == '/')
        rest++;
    size_t n = ups * 3 + strlen(rest) + 2;
    char *s = malloc(n), *q = s;
    if (!s)
        return NULL;
    for (size_t k = 0; k < ups; k++)
        q += sprintf(q, "..%s", k + 1 < ups || *rest ? "/" : "");
    strcpy(q, rest);
    if (!*s)
        strcpy(s, ".");
    return s;
}

/* The folder of member `name` of the ensemble in dir: name itself when it
 * is absolute, else dir/name, in a new string. */
static char *member_dir(const char *dir, const char *name)
{
    if (name[0] == '/') {
        char *s = strdup(name);
        if (!s)
            focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        return s;
    }
    return focal_run_file(dir, name);
}

/* ---- scores by sample id ---------------------------------------------------------------- */

static const char *const *sort_ids;

static int by_id(const void *a, const void *b)
{
    return strcmp(sort_ids[*(const int *)a], sort_ids[*(const int *)b]);
}

/* Adds member scores s (of member dir md) to sum (ref->n × outputs), matching
 * rows by id with ref (of member dir rd); fails when the two differ in
 * samples, columns or labels. */
static focal_status add_scores(double *sum, const struct focal_run_scores *ref, const char *rd,
                               const struct focal_run_scores *s, const char *md, const char *split)
{
    const char *sname = strcmp(split, "val") == 0 ? "validation" : "test";
    if (s->outputs != ref->outputs)
        return focal_fail(FOCAL_ERR_ARG, "ensemble: %s/scores.csv has %d probability columns; %s has %d", md,
                          s->outputs, rd, ref->outputs);
    for (int j = 0; j < s->outputs; j++)
        if (strcmp(s->names[j], ref->names[j]) != 0)
            return focal_fail(FOCAL_ERR_ARG, "ensemble: %s/scores.csv's column %d is '%s'; %s's is '%s'", md, j + 3,
                              s->names[j], rd, ref->names[j]);
    if (s->n != ref->n)
        return focal_fail(FOCAL_ERR_ARG,
                          "ensemble: %s has %d %s samples; %s has %d; members must be trained on the same splits", md,
                          s->n, sname, rd, ref->n);
    int *order = malloc((size_t)(s->n ? s->n : 1) * sizeof *order);
    if (!order)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    for (int k = 0; k < s->n; k++)
        order[k] = k;
    sort_ids = (const char *const *)s->ids;
    qsort(order, (size_t)s->n, sizeof *order, by_id);
    size_t K = (size_t)s->outputs;
    focal_status st = FOCAL_OK;
    for (int k = 0; k < ref->n && st == FOCAL_OK; k++) {
        int lo = 0, hi = s->n - 1, at = -1;
        while (lo <= hi) {
            int mid = lo + (hi - lo) / 2, c = strcmp(s->ids[order[mid]], ref->ids[k]);
            if (c == 0) {
                at = order[mid];
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        if (at < 0) {
            st = focal_fail(FOCAL_ERR_ARG, "ensemble: %s has no %s sample '%s' that %s has; members must be trained "
                            "on the same splits", md, sname, ref->ids[k], rd);
            break;
        }
        if (memcmp(s->labels + (size_t)at * K, ref->labels + (size_t)k * K, K) != 0) {
            st = focal_fail(FOCAL_ERR_ARG, "ensemble: %s sample '%s' has other labels in %s than in %s", sname,
                            ref->ids[k], md, rd);
            break;
        }
        for (size_t j = 0; j < K; j++)
            sum[(size_t)k * K + j] += s->probs[(size_t)at * K + j];
    }
    free(order);
    return st;
}

/* ---- making an ensemble --------------------------------------------------------------------- */

/* Creates dir if it does not exist. */
static focal_status make_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? FOCAL_OK : focal_fail(FOCAL_ERR_IO, "%s: exists and is not a folder", dir);
    if (mkdir(dir, 0777) != 0)
        return focal_fail(FOCAL_ERR_IO, "%s: cannot create the ensemble's folder: %s", dir, strerror(errno));
    return FOCAL_OK;
}

/* The labelled samples of the members' scores (val rows, then test rows) as
 * a dataset the run's metric and file writers take: task, classes, labels
 * and ids; no inputs. Pointers into ref and classes; free d->label,
 * d->labels, d->ids and d->class_names (the array only). */
static focal_status scores_dataset(struct focal_dataset *d, enum focal_task task, const cJSON *classes,
                                   const struct focal_run_scores *v, const struct focal_run_scores *t)
{
    memset(d, 0, sizeof *d);
    int n = v->n + t->n, C = cJSON_GetArraySize(classes), K = v->outputs;
    if (K != (task == FOCAL_TASK_BINARY ? 1 : C) || (task == FOCAL_TASK_BINARY && C != 2))
        return focal_fail(FOCAL_ERR_FORMAT, "ensemble: scores.csv has %d probability columns for %d classes", K, C);
    d->task = task;
    d->n = n;
    d->num_classes = C;
    d->class_names = calloc((size_t)C, sizeof *d->class_names);
    d->ids = malloc((size_t)(n ? n : 1) * sizeof *d->ids);
    if (task == FOCAL_TASK_MULTILABEL)
        d->labels = malloc((size_t)(n ? n : 1) * (size_t)C);
    else
        d->label = malloc((size_t)(n ? n : 1) * sizeof *d->label);
    if (!d->class_names || !d->ids || (!d->labels && !d->label))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    int j = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, classes) {
        if (!cJSON_IsString(c))
            return focal_fail(FOCAL_ERR_FORMAT, "ensemble: class_names[%d] is not a string", j);
        d->class_names[j++] = c->valuestring;
    }
    for (int i = 0; i < n; i++) {
        const struct focal_run_scores *s = i < v->n ? v : t;
        int k = i < v->n ? i : i - v->n;
        const uint8_t *y = s->labels + (size_t)k * (size_t)K;
        d->ids[i] = s->ids[k];
        if (task == FOCAL_TASK_MULTILABEL) {
            memcpy(d->labels + (size_t)i * (size_t)C, y, (size_t)C);
        } else if (task == FOCAL_TASK_BINARY) {
            d->label[i] = y[0];
        } else {
            int at = -1, ones = 0;
            for (int q = 0; q < K; q++)
                if (y[q]) {
                    at = q;
                    ones++;
                }
            if (ones != 1)
                return focal_fail(FOCAL_ERR_FORMAT, "ensemble: sample '%s' has %d true classes; a multi-class "
                                  "sample has one", s->ids[k], ones);
            d->label[i] = at;
        }
    }
    return FOCAL_OK;
}

static void scores_dataset_release(struct focal_dataset *d)
{
    free(d->label);
    free(d->labels);
    free(d->ids);
    free(d->class_names);
}

/* run.json of the ensemble: what focal_run_load needs (as a run's), kind and members. */
static focal_status write_run_json(const char *dir, const struct member_desc *m0, char **rel, int n,
                                   const double *thresholds, int outputs)
{
    char *path = focal_run_file(dir, "run.json");
    if (!path)
        return FOCAL_ERR_NOMEM;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", RUN_FORMAT);
    cJSON_AddNumberToObject(o, "version", RUN_VERSION);
    cJSON_AddStringToObject(o, "kind", "ensemble");
    cJSON_AddItemToObject(o, "members", cJSON_CreateStringArray((const char *const *)rel, n));
    cJSON_AddStringToObject(o, "task", m0->task);
    cJSON_AddItemToObject(o, "class_names", cJSON_Duplicate(m0->classes, 1));
    if (m0->positive)
        cJSON_AddItemToObject(o, "positive", cJSON_Duplicate(m0->positive, 1));
    cJSON_AddItemToObject(o, "thresholds", cJSON_CreateDoubleArray(thresholds, outputs));
    cJSON_AddItemToObject(o, "input", cJSON_Duplicate(m0->input, 1));
    cJSON_AddBoolToObject(o, "fundus_crop", m0->fundus_crop);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(m0->root, "data");
    cJSON_AddStringToObject(o, "data", cJSON_IsString(data) ? data->valuestring : "");
    cJSON_AddStringToObject(o, "thresholds_from", "the members' mean validation probabilities");
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    struct focal_wfile wf;
    focal_status st = !text ? focal_fail(FOCAL_ERR_NOMEM, "out of memory") : focal_wfile_open(&wf, path);
    if (st == FOCAL_OK) {
        fputs(text, wf.fp);
        fputc('\n', wf.fp);
        st = focal_wfile_commit(&wf);
    }
    free(text);
    free(path);
    return st;
}

focal_status focal_ensemble_create(const char *dir, const char *const *members, int n)
{
    struct member_desc *desc = NULL;
    struct focal_run_scores *sc = NULL; /* member k: val 2k, test 2k+1 */
    char **rel = NULL, *absdir = NULL, *path = NULL;
    double *vp = NULL, *tp = NULL, *thresholds = NULL;
    int *vidx = NULL, *tidx = NULL;
    struct focal_dataset d = { 0 };
    focal_status st = FOCAL_OK;
    struct stat sb;

    if (n < 2)
        return focal_fail(FOCAL_ERR_ARG, "ensemble: %d member%s; an ensemble needs at least 2 runs", n,
                          n == 1 ? "" : "s");
    desc = calloc((size_t)n, sizeof *desc);
    sc = calloc(2 * (size_t)n, sizeof *sc);
    rel = calloc((size_t)n, sizeof *rel);
    if (!desc || !sc || !rel) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < n; k++) {
        if ((st = member_desc_read(&desc[k], members[k])) != FOCAL_OK ||
            (k > 0 && (st = member_agree(&desc[0], members[0], &desc[k], members[k])) != FOCAL_OK))
            goto out;
        if ((st = focal_run_read_scores(members[k], "val", &sc[2 * k])) != FOCAL_OK ||
            (st = focal_run_read_scores(members[k], "test", &sc[2 * k + 1])) != FOCAL_OK)
            goto out;
    }
    enum focal_task task;
    if (focal_task_parse(desc[0].task, &task) != FOCAL_OK) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: task '%s' is not binary, multiclass or multilabel", desc[0].path,
                        desc[0].task);
        goto out;
    }
    if (sc[0].n == 0) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s/scores.csv: no validation samples; thresholds are chosen on them",
                        members[0]);
        goto out;
    }

    /* the mean probabilities, by sample id */
    int K = sc[0].outputs, nv = sc[0].n, nt = sc[1].n;
    vp = calloc((size_t)nv * (size_t)K, sizeof *vp);
    tp = calloc((size_t)(nt ? nt : 1) * (size_t)K, sizeof *tp);
    thresholds = malloc((size_t)K * sizeof *thresholds);
    vidx = malloc((size_t)nv * sizeof *vidx);
    tidx = malloc((size_t)(nt ? nt : 1) * sizeof *tidx);
    if (!vp || !tp || !thresholds || !vidx || !tidx) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < n; k++)
        if ((st = add_scores(vp, &sc[0], members[0], &sc[2 * k], members[k], "val")) != FOCAL_OK ||
            (st = add_scores(tp, &sc[1], members[0], &sc[2 * k + 1], members[k], "test")) != FOCAL_OK)
            goto out;
    for (size_t i = 0; i < (size_t)nv * (size_t)K; i++)
        vp[i] /= n;
    for (size_t i = 0; i < (size_t)nt * (size_t)K; i++)
        tp[i] /= n;

    /* thresholds on validation, metrics and scores, as a run's */
    if ((st = scores_dataset(&d, task, desc[0].classes, &sc[0], &sc[1])) != FOCAL_OK)
        goto out;
    for (int i = 0; i < nv; i++)
        vidx[i] = i;
    for (int i = 0; i < nt; i++)
        tidx[i] = nv + i;
    for (int j = 0; j < K; j++)
        thresholds[j] = 0.5;
    struct focal_run_summary sum;
    if ((st = focal_run_summarise(&d, vidx, nv, vp, thresholds, 1, &sum)) != FOCAL_OK)
        goto out;

    /* the folder: never over a trained run */
    if ((st = make_dir(dir)) != FOCAL_OK || !(path = focal_run_file(dir, "model.safetensors"))) {
        st = st != FOCAL_OK ? st : FOCAL_ERR_NOMEM;
        goto out;
    }
    if (stat(path, &sb) == 0) {
        st = focal_fail(FOCAL_ERR_ARG, "%s: holds a trained run (model.safetensors); an ensemble needs a folder "
                        "of its own", dir);
        goto out;
    }
    if (!(absdir = realpath(dir, NULL))) {
        st = focal_fail(FOCAL_ERR_IO, "%s: %s", dir, strerror(errno));
        goto out;
    }
    for (int k = 0; k < n; k++) {
        char *abs = realpath(members[k], NULL);
        if (!abs) {
            st = focal_fail(FOCAL_ERR_IO, "%s: %s", members[k], strerror(errno));
            goto out;
        }
        rel[k] = relative_path(absdir, abs);
        free(abs);
        if (!rel[k]) {
            st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    free(path);
    if (!(path = focal_run_file(dir, "scores.csv")) ||
        (st = focal_run_write_scores(path, &d, K, vidx, nv, vp, tidx, nt, tp)) != FOCAL_OK)
        goto out;
    free(path);
    if (!(path = focal_run_file(dir, "metrics.json")) ||
        (st = focal_run_write_metrics(path, &d, vidx, nv, vp, tidx, nt, tp, thresholds)) != FOCAL_OK)
        goto out;
    st = write_run_json(dir, &desc[0], rel, n, thresholds, K);
out:
    if (st == FOCAL_OK && !path)
        st = FOCAL_ERR_NOMEM;
    scores_dataset_release(&d);
    for (int k = 0; desc && k < n; k++)
        member_desc_release(&desc[k]);
    for (int k = 0; sc && k < 2 * n; k++)
        focal_run_scores_release(&sc[k]);
    for (int k = 0; rel && k < n; k++)
        free(rel[k]);
    free(desc);
    free(sc);
    free(rel);
    free(absdir);
    free(path);
    free(vp);
    free(tp);
    free(thresholds);
    free(vidx);
    free(tidx);
    return st;
}

/* ---- loading and predicting (for run_load.c) --------------------------------------------- */

focal_status focal_ensemble_load(struct focal_run *r, const char *dir, int max_batch, int *is_ens)
{
    char *path = focal_run_file(dir, "run.json"), **names = NULL;
    cJSON *o = NULL;
    int n = 0;
    focal_status st;
    *is_ens = 0;
    if (!path)
        return FOCAL_ERR_NOMEM;
    struct stat sb;
    if (stat(path, &sb) != 0 || (st = focal_read_json(path, &o)) != FOCAL_OK || !is_ensemble(o)) {
        /* not an ensemble: the single run's loader says what is wrong */
        st = FOCAL_OK;
        goto out;
    }
    *is_ens = 1;
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(o, "members"), *x;
    if (!cJSON_IsArray(mem) || (n = cJSON_GetArraySize(mem)) < 2) {
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: \"members\": expected an array of at least 2 run folders", path);
        goto out;
    }
    if (!(names = calloc((size_t)n, sizeof *names))) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    int k = 0;
    cJSON_ArrayForEach(x, mem) {
        if (!cJSON_IsString(x)) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: members[%d] is not a string", path, k);
            goto out;
        }
        if (!(names[k++] = member_dir(dir, x->valuestring))) {
            st = FOCAL_ERR_NOMEM;
            goto out;
        }
    }
    /* member 1 is the run itself (model, metadata, input); the others follow it */
    for (k = 0; k < n; k++) {
        struct member_desc md;
        st = member_desc_read(&md, names[k]);
        member_desc_release(&md);
        if (st != FOCAL_OK)
            goto out_release;
    }
    if ((st = focal_run_load(r, names[0], max_batch)) != FOCAL_OK)
        goto out;
    if (!(r->members = calloc((size_t)n - 1, sizeof *r->members))) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out_release;
    }
    for (k = 1; k < n; k++) {
        struct focal_run *m = &r->members[k - 1];
        if ((st = focal_run_load(m, names[k], max_batch)) != FOCAL_OK)
            goto out_release;
        r->n_members = k + 1;
        if (m->channels != r->channels || m->height != r->height || m->width != r->width || m->task != r->task ||
            m->num_classes != r->num_classes) {
            st = focal_fail(FOCAL_ERR_FORMAT, "%s: member %s takes %d×%d×%d inputs for %d classes; %s takes "
                            "%d×%d×%d for %d", path, names[k], m->channels, m->height, m->width, m->num_classes,
                            names[0], r->channels, r->height, r->width, r->num_classes);
            goto out_release;
        }
    }
    r->n_members = n;
    goto out;
out_release:
    focal_run_release(r);
out:
    for (int q = 0; names && q < n; q++)
        free(names[q]);
    free(names);
    cJSON_Delete(o);
    free(path);
    return st;
}

focal_status focal_ensemble_predict_rest(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                                         double *probs)
{
    if (r->n_members < 2)
        return FOCAL_OK;
    int outputs = r->task == FOCAL_TASK_BINARY ? 1 : r->num_classes;
    size_t len = (size_t)n * (size_t)outputs;
    double *p = malloc((len ? len : 1) * sizeof *p);
    if (!p)
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    focal_status st = FOCAL_OK;
    for (int k = 0; k < r->n_members - 1 && st == FOCAL_OK; k++) {
        r->members[k].tta = r->tta;
        st = focal_run_predict(&r->members[k], d, idx, n, p);
        for (size_t i = 0; st == FOCAL_OK && i < len; i++)
            probs[i] += p[i];
    }
    for (size_t i = 0; st == FOCAL_OK && i < len; i++)
        probs[i] /= r->n_members;
    free(p);
    return st;
}
