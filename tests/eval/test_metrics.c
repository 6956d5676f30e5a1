/* test_metrics.c — checks src/metrics.c: every metric of focal_metrics_compute,
 * the standalone ROC-AUC / average precision / best-F1 threshold and the RIADD
 * score against scikit-learn's values in tests/fixtures/metrics_reference.txt
 * (written by tools/gen_metrics_reference.py; format in its header) to 1e-9
 * absolute + relative, NaN matching NaN; the JSON writer by parsing its
 * output back with cJSON; hand-computed values, ranking properties (pair-count
 * AUC, invariance to monotone transforms, a million samples), the tie-break
 * of the threshold chooser and every argument error.
 *
 * Needs FOCAL_SOURCE_DIR (set by CTest) to find the reference file. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "focal.h"
#include "testfs.h"

#define TEST_NAME "test_metrics"
#define REF_REL_PATH "tests/fixtures/metrics_reference.txt"
#define REF_FIRST_LINE "# focal-metrics-reference 1 "
#define RTOL 1e-9
#define ATOL 1e-9
#define MAX_KEYS 24
#define MAX_N 100000

/* |a − r| within tolerance, or both NaN. */
static int same(double a, double r)
{
    if (isnan(a) || isnan(r))
        return isnan(a) && isnan(r);
    return check_close(a, r, RTOL, ATOL);
}

/* The worst disagreement seen, for the summary line. */
static double worst_err;
static char worst_what[128];

/* Checks a against reference r; names the case and value on failure. */
static void check_value(double a, double r, int id, const char *what, int j)
{
    if (!isnan(a) && !isnan(r)) {
        double e = fabs(a - r) / (ATOL + RTOL * fabs(r));
        if (e > worst_err) {
            worst_err = e;
            snprintf(worst_what, sizeof worst_what, "record %d %s[%d]: %.17g vs %.17g", id, what, j, a, r);
        }
    }
    CHECKF(same(a, r), "record %d: %s[%d] = %.17g, reference %.17g", id, what, j, a, r);
}

/* ------------------------------------------------------------------------ */
/* The reference file                                                        */
/* ------------------------------------------------------------------------ */

/* One record: its header words and its "key values..." lines. */
struct record {
    int line;                    /* of the header, for messages */
    char *kind;                  /* "case", "threshold", "riadd" */
    int id;
    char *head;                  /* the header's key=value words */
    int n_keys;
    char *key[MAX_KEYS], *val[MAX_KEYS];
};

/* Splits the next line off *p (NUL-terminating it); NULL at the end. */
static char *next_line(char **p, int *line)
{
    if (!**p)
        return NULL;
    char *s = *p, *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = s + strlen(s);
    }
    (*line)++;
    return s;
}

/* The value of word "key=" in a header, or NULL. */
static const char *head_get(const struct record *r, const char *key, char *buf, size_t size)
{
    size_t kl = strlen(key);
    for (const char *s = r->head; (s = strstr(s, key)) != NULL; s += kl) {
        if ((s == r->head || s[-1] == ' ') && s[kl] == '=') {
            size_t vl = strcspn(s + kl + 1, " ");
            if (vl >= size)
                return NULL;
            memcpy(buf, s + kl + 1, vl);
            buf[vl] = '\0';
            return buf;
        }
    }
    return NULL;
}

/* An integer header value in [lo, hi], or INT_MIN (a failed check) if absent or bad. */
static int head_int(const struct record *r, const char *key, int lo, int hi)
{
    char buf[32], *e;
    const char *v = head_get(r, key, buf, sizeof buf);
    long x = v ? strtol(v, &e, 10) : 0;
    if (!v || *e || x < lo || x > hi) {
        CHECKF(0, "line %d: header value %s missing or not in [%d, %d]", r->line, key, lo, hi);
        return INT_MIN;
    }
    return (int)x;
}

/* The values of line `key` as exactly `count` numbers ("nan" allowed) in a new
 * array; NULL (a failed check) if missing or malformed. */
static double *rec_doubles(const struct record *r, const char *key, size_t count)
{
    for (int k = 0; k < r->n_keys; k++) {
        if (strcmp(r->key[k], key) != 0)
            continue;
        double *v = malloc((count ? count : 1) * sizeof *v);
        const char *s = r->val[k];
        size_t i = 0;
        for (; v && i < count; i++) {
            char *e;
            v[i] = strtod(s, &e);
            if (e == s || (*e != ' ' && *e != '\0'))
                break;
            s = e;
        }
        while (*s == ' ')
            s++;
        if (v && i == count && *s == '\0')
            return v;
        free(v);
        CHECKF(0, "record %d: '%s' does not hold %zu numbers", r->id, key, count);
        return NULL;
    }
    CHECKF(0, "record %d: no '%s' line", r->id, key);
    return NULL;
}

/* Reads the record whose header line is `line` up to its "end". 0 or −1. */
static int read_record(char **p, int *lineno, char *line, struct record *r)
{
    memset(r, 0, sizeof *r);
    r->line = *lineno;
    r->kind = line;
    char *sp = strchr(line, ' ');
    if (!sp) {
        CHECKF(0, "line %d: expected a record header", *lineno);
        return -1;
    }
    *sp = '\0';
    r->id = atoi(sp + 1);
    r->head = strchr(sp + 1, ' ');
    r->head = r->head ? r->head + 1 : sp + 1;
    char *l;
    while ((l = next_line(p, lineno)) != NULL && strcmp(l, "end") != 0) {
        char *ks = strchr(l, ' ');
        if (!ks || r->n_keys == MAX_KEYS) {
            CHECKF(0, "line %d: expected 'key values'", *lineno);
            return -1;
        }
        *ks = '\0';
        r->key[r->n_keys] = l;
        r->val[r->n_keys++] = ks + 1;
    }
    if (!l) {
        CHECKF(0, "record %d: no 'end'", r->id);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checking records                                                          */
/* ------------------------------------------------------------------------ */

/* The JSON number or null of member `key` of obj as a double (NaN for null). */
static double json_num(const cJSON *obj, const char *key, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNull(v))
        return NAN;
    if (!cJSON_IsNumber(v))
        *ok = 0;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Exactly equal (the JSON numbers have 17 digits), or both NaN. */
static int exact(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* Writes m as JSON (indent given) to a temporary file and parses it back. */
static cJSON *json_of(const struct focal_metrics *m, const char *const *names,
                      const struct focal_riadd *riadd, int indent, char **text)
{
    FILE *fp = tmpfile();
    if (!fp)
        return NULL;
    focal_status st = focal_metrics_write_json(fp, m, names, riadd, indent);
    CHECKF(st == FOCAL_OK, "focal_metrics_write_json: %s", focal_last_error());
    long len = ftell(fp);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    rewind(fp);
    if (buf && fread(buf, 1, (size_t)len, fp) == (size_t)len)
        buf[len] = '\0';
    else {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    cJSON *j = buf ? cJSON_Parse(buf) : NULL;
    if (text)
        *text = buf;
    else
        free(buf);
    return j;
}

/* The JSON of m carries every value of m exactly. */
static void check_json(const struct focal_metrics *m, int id, int indent)
{
    char *text = NULL;
    cJSON *j = json_of(m, NULL, NULL, indent, &text);
    CHECKF(j != NULL, "record %d: the JSON (indent %d) does not parse: %.200s", id, indent,
           text ? text : "(nothing)");
    if (!j) {
        free(text);
        return;
    }
    CHECKF(indent >= 0 || !strchr(text, '\n'), "record %d: one-line JSON holds a newline", id);
    int ok = 1;
    const char *keys[] = { "accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "mcc",
                           "roc_auc_macro", "average_precision_macro" };
    const double vals[] = { m->accuracy, m->balanced_accuracy, m->macro_f1, m->micro_f1, m->weighted_f1,
                            m->mcc, m->roc_auc_macro, m->average_precision_macro };
    for (int k = 0; k < 8; k++) {
        double v = json_num(j, keys[k], &ok);
        CHECKF(exact(v, vals[k]), "record %d: JSON %s = %.17g, metrics %.17g", id, keys[k], v, vals[k]);
    }
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(j, "per_class");
    CHECKF(cJSON_GetArraySize(pc) == m->num_classes, "record %d: JSON per_class has %d entries", id,
           cJSON_GetArraySize(pc));
    for (int c = 0; c < m->num_classes && c < cJSON_GetArraySize(pc); c++) {
        const cJSON *o = cJSON_GetArrayItem(pc, c);
        char name[16];
        snprintf(name, sizeof name, "%d", c);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
        CHECKF(cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0, "record %d: class %d name", id, c);
        CHECKF(json_num(o, "support", &ok) == (double)m->support[c], "record %d: class %d support", id, c);
        CHECK(exact(json_num(o, "precision", &ok), m->precision[c]));
        CHECK(exact(json_num(o, "recall", &ok), m->recall[c]));
        CHECK(exact(json_num(o, "f1", &ok), m->f1[c]));
        CHECK(exact(json_num(o, "roc_auc", &ok), m->roc_auc[c]));
        CHECK(exact(json_num(o, "average_precision", &ok), m->average_precision[c]));
    }
    int left = 0;
    for (int c = 0; c < m->num_classes; c++)
        left += m->support[c] == 0 || m->support[c] == m->n;
    CHECKF(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "left_out")) == left,
           "record %d: JSON left_out has %d entries, expected %d", id,
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "left_out")), left);
    CHECKF(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "confusion_matrix")) == m->num_classes,
           "record %d: JSON confusion_matrix rows", id);
    CHECKF(ok, "record %d: a JSON member is neither a number nor null", id);
    cJSON_Delete(j);
    free(text);
}

static const char *const task_names[] = { "binary", "multiclass", "multilabel" };

/* A "case" record: focal_metrics_compute and the standalone functions. */
static void check_case(const struct record *r, int *task_count)
{
    char buf[32];
    const char *task_s = head_get(r, "task", buf, sizeof buf);
    int task = -1;
    for (int t = 0; t < 3; t++)
        if (task_s && strcmp(task_s, task_names[t]) == 0)
            task = t;
    int n = head_int(r, "n", 1, MAX_N), c = head_int(r, "c", 1, 64);
    int has_thr = head_int(r, "thresholds", 0, 1);
    CHECKF(task >= 0, "record %d: unknown task", r->id);
    if (task < 0 || n == INT_MIN || c == INT_MIN || has_thr == INT_MIN)
        return;
    task_count[task]++;
    int k = task == FOCAL_TASK_BINARY ? 2 : c;
    size_t nl = task == FOCAL_TASK_MULTILABEL ? (size_t)n * c : (size_t)n;
    double *s = rec_doubles(r, "scores", (size_t)n * c);
    double *yl = rec_doubles(r, "labels", nl);
    double *thr = has_thr ? rec_doubles(r, "thresholds", (size_t)c) : NULL;
    int32_t *label = malloc((size_t)n * sizeof *label);
    uint8_t *labels = malloc(nl);
    struct focal_metrics m;
    memset(&m, 0, sizeof m);
    if (!s || !yl || (has_thr && !thr) || !label || !labels)
        goto out;
    for (size_t i = 0; i < nl; i++) {
        labels[i] = (uint8_t)yl[i];
        if (i < (size_t)n)
            label[i] = (int32_t)yl[i];
    }
    focal_status st = focal_metrics_compute(&m, (enum focal_task)task, n, c, s,
                                            task == FOCAL_TASK_MULTILABEL ? NULL : label,
                                            task == FOCAL_TASK_MULTILABEL ? labels : NULL, thr);
    CHECKF(st == FOCAL_OK, "record %d: focal_metrics_compute: %s", r->id, focal_last_error());
    if (st != FOCAL_OK)
        goto out;
    CHECK(m.task == (enum focal_task)task && m.n == n && m.num_classes == k);
    CHECK(m.n_thresholds == (task == FOCAL_TASK_MULTICLASS ? 0 : c));
    for (int j = 0; j < m.n_thresholds; j++)
        CHECKF(m.thresholds[j] == (thr ? thr[j] : 0.5), "record %d: threshold %d", r->id, j);

    const char *scal[] = { "accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "mcc",
                           "roc_auc_macro", "average_precision_macro" };
    const double got[] = { m.accuracy, m.balanced_accuracy, m.macro_f1, m.micro_f1, m.weighted_f1, m.mcc,
                           m.roc_auc_macro, m.average_precision_macro };
    for (int q = 0; q < 8; q++) {
        double *ref = rec_doubles(r, scal[q], 1);
        if (ref)
            check_value(got[q], ref[0], r->id, scal[q], 0);
        free(ref);
    }
    const char *pcn[] = { "precision", "recall", "f1", "roc_auc", "average_precision" };
    const double *pcv[] = { m.precision, m.recall, m.f1, m.roc_auc, m.average_precision };
    for (int q = 0; q < 5; q++) {
        double *ref = rec_doubles(r, pcn[q], (size_t)k);
        for (int j = 0; ref && j < k; j++)
            check_value(pcv[q][j], ref[j], r->id, pcn[q], j);
        free(ref);
    }
    double *sup = rec_doubles(r, "support", (size_t)k);
    for (int j = 0; sup && j < k; j++)
        CHECKF(m.support[j] == (int64_t)sup[j], "record %d: support[%d] = %lld, reference %g", r->id, j,
               (long long)m.support[j], sup[j]);
    free(sup);
    size_t ncm = task == FOCAL_TASK_MULTILABEL ? 4 * (size_t)c : (size_t)k * k;
    double *cm = rec_doubles(r, "confusion", ncm);
    for (size_t e = 0; cm && e < ncm; e++)
        CHECKF(m.confusion[e] == (int64_t)cm[e], "record %d: confusion[%zu] = %lld, reference %g", r->id, e,
               (long long)m.confusion[e], cm[e]);
    free(cm);

    /* the standalone functions give the per-class values of class 1 / each column */
    uint8_t *col = malloc((size_t)n);
    for (int j = task == FOCAL_TASK_BINARY ? 1 : 0; col && j < k; j++) {
        int jc = task == FOCAL_TASK_BINARY ? 0 : j;
        for (int i = 0; i < n; i++)
            col[i] = task == FOCAL_TASK_MULTILABEL ? labels[(size_t)i * c + j] : label[i] == j;
        double auc, ap;
        double *sc = malloc((size_t)n * sizeof *sc);
        for (int i = 0; sc && i < n; i++)
            sc[i] = s[(size_t)i * c + jc];
        CHECK(sc && focal_roc_auc(&auc, n, sc, col, 1) == FOCAL_OK && exact(auc, m.roc_auc[j]));
        CHECK(sc && focal_average_precision(&ap, n, sc, col, 1) == FOCAL_OK &&
              exact(ap, m.average_precision[j]));
        free(sc);
    }
    free(col);
    check_json(&m, r->id, 2);
    check_json(&m, r->id, -1);
out:
    focal_metrics_release(&m);
    free(s);
    free(yl);
    free(thr);
    free(label);
    free(labels);
}

/* A "threshold" record: focal_best_f1_threshold, and the F1 it promises. */
static void check_threshold(const struct record *r)
{
    int n = head_int(r, "n", 1, MAX_N);
    if (n == INT_MIN)
        return;
    double *s = rec_doubles(r, "scores", (size_t)n), *yl = rec_doubles(r, "labels", (size_t)n);
    double *bt = rec_doubles(r, "best_threshold", 1), *bf = rec_doubles(r, "best_f1", 1);
    uint8_t *y = malloc((size_t)n);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    if (s && yl && bt && bf && y && lab) {
        for (int i = 0; i < n; i++) {
            y[i] = (uint8_t)yl[i];
            lab[i] = (int32_t)yl[i];
        }
        double t, f;
        CHECK(focal_best_f1_threshold(&t, &f, n, s, y, 1) == FOCAL_OK);
        CHECKF(exact(t, bt[0]), "record %d: best threshold %.17g, reference %.17g", r->id, t, bt[0]);
        check_value(f, bf[0], r->id, "best_f1", 0);
        if (!isnan(t)) {
            struct focal_metrics m;
            CHECK(focal_metrics_compute(&m, FOCAL_TASK_BINARY, n, 1, s, lab, NULL, &t) == FOCAL_OK);
            CHECKF(exact(m.f1[1], f), "record %d: F1 at the chosen threshold %.17g != %.17g", r->id, m.f1[1], f);
            focal_metrics_release(&m);
        }
    }
    free(s);
    free(yl);
    free(bt);
    free(bf);
    free(y);
    free(lab);
}

/* A "riadd" record. */
static void check_riadd(const struct record *r)
{
    int n = head_int(r, "n", 1, MAX_N), c = head_int(r, "c", 2, 64);
    int col = head_int(r, "risk_col", 0, 63);
    if (n == INT_MIN || c == INT_MIN || col == INT_MIN)
        return;
    size_t nc = (size_t)n * c;
    double *s = rec_doubles(r, "scores", nc), *yl = rec_doubles(r, "labels", nc);
    uint8_t *y = malloc(nc);
    const char *names[] = { "risk_auc", "map", "macro_auc", "score" };
    if (s && yl && y) {
        for (size_t i = 0; i < nc; i++)
            y[i] = (uint8_t)yl[i];
        struct focal_riadd ra;
        CHECKF(focal_riadd_score(&ra, n, c, s, y, col) == FOCAL_OK, "record %d: %s", r->id, focal_last_error());
        const double got[] = { ra.risk_auc, ra.map, ra.macro_auc, ra.score };
        for (int q = 0; q < 4; q++) {
            double *ref = rec_doubles(r, names[q], 1);
            if (ref)
                check_value(got[q], ref[0], r->id, names[q], 0);
            free(ref);
        }
    }
    free(s);
    free(yl);
    free(y);
}

/* Reads and checks the whole reference file. */
static void test_reference(void)
{
    const char *src = check_source_dir(TEST_NAME);
    if (!src) {
        CHECK(src != NULL);
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, REF_REL_PATH);
    size_t len;
    char *buf = (char *)try_read_file(path, &len);
    CHECKF(buf != NULL, "cannot read %s", path);
    if (!buf)
        return;
    char *p = buf, *line;
    int lineno = 0, want[3] = { -1, -1, -1 }, seen[3] = { 0, 0, 0 }, task_count[3] = { 0, 0, 0 };
    int eof = -1, total = 0;
    line = next_line(&p, &lineno);
    CHECKF(line && strncmp(line, REF_FIRST_LINE, strlen(REF_FIRST_LINE)) == 0,
           "%s: first line is not '%s...'", path, REF_FIRST_LINE);
    while ((line = next_line(&p, &lineno)) != NULL) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (sscanf(line, "records case=%d threshold=%d riadd=%d", &want[0], &want[1], &want[2]) == 3)
            continue;
        if (sscanf(line, "eof %d", &eof) == 1)
            break;
        struct record r;
        if (read_record(&p, &lineno, line, &r) != 0)
            break;
        total++;
        CHECKF(r.id == total, "line %d: record %d out of order (expected %d)", r.line, r.id, total);
        if (strcmp(r.kind, "case") == 0) {
            seen[0]++;
            check_case(&r, task_count);
        } else if (strcmp(r.kind, "threshold") == 0) {
            seen[1]++;
            check_threshold(&r);
        } else if (strcmp(r.kind, "riadd") == 0) {
            seen[2]++;
            check_riadd(&r);
        } else {
            CHECKF(0, "line %d: unknown record kind '%s'", r.line, r.kind);
        }
    }
    for (int q = 0; q < 3; q++)
        CHECKF(seen[q] == want[q] && seen[q] >= 10, "kind %d: %d records read, %d announced", q, seen[q], want[q]);
    CHECKF(eof == total, "eof line says %d, %d records read (truncated file?)", eof, total);
    for (int t = 0; t < 3; t++)
        CHECKF(task_count[t] >= 20, "only %d %s cases", task_count[t], task_names[t]);
    printf("%s: %d reference records; worst error / tolerance %.3g (%s)\n", TEST_NAME, total, worst_err,
           worst_what[0] ? worst_what : "-");
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* Hand-computed values and properties                                       */
/* ------------------------------------------------------------------------ */

static void test_hand_values(void)
{
    /* y = 0 0 1 1, s = .1 .4 .35 .8: pairs (.35>.1), (.8>.1), (.8>.4) of 4 → AUC .75;
     * AP = ½·1 + ½·⅔ at the thresholds .8 and .35. */
    const double s[] = { 0.1, 0.4, 0.35, 0.8 };
    const uint8_t y[] = { 0, 0, 1, 1 };
    double auc, ap, t, f1;
    CHECK(focal_roc_auc(&auc, 4, s, y, 1) == FOCAL_OK && check_close(auc, 0.75, 1e-15, 0));
    CHECK(focal_average_precision(&ap, 4, s, y, 1) == FOCAL_OK && check_close(ap, 5.0 / 6.0, 1e-15, 0));
    /* thresholds .8: F1 2/3; .4: 1/2; .35: 4/5; .1: 2/3 */
    CHECK(focal_best_f1_threshold(&t, &f1, 4, s, y, 1) == FOCAL_OK && t == 0.35 && f1 == 0.8);

    /* a tie across classes counts one half: y 0 1, s .5 .5 → AUC ½, AP ½ */
    const double st[] = { 0.5, 0.5 };
    const uint8_t yt[] = { 0, 1 };
    CHECK(focal_roc_auc(&auc, 2, st, yt, 1) == FOCAL_OK && auc == 0.5);
    CHECK(focal_average_precision(&ap, 2, st, yt, 1) == FOCAL_OK && ap == 0.5);

    /* stride: column 1 of a 4 × 2 matrix is s above */
    const double m2[] = { 9, 0.1, 9, 0.4, 9, 0.35, 9, 0.8 };
    const uint8_t y2[] = { 1, 0, 1, 0, 1, 1, 1, 1 };
    CHECK(focal_roc_auc(&auc, 4, m2 + 1, y2 + 1, 2) == FOCAL_OK && check_close(auc, 0.75, 1e-15, 0));
    CHECK(focal_roc_auc(&auc, 4, m2, y2, 2) == FOCAL_OK && isnan(auc));   /* no negatives */
    CHECK(focal_average_precision(&ap, 4, m2, y2, 2) == FOCAL_OK && ap == 1.0);

    /* equal best F1 goes to the highest threshold: {.9:+, .8:−, .7:−, .6:+} gives
     * F1 ⅔, ½, ⅖, ⅔ */
    const double s3[] = { 0.7, 0.9, 0.6, 0.8 };
    const uint8_t y3[] = { 0, 1, 1, 0 };
    CHECK(focal_best_f1_threshold(&t, &f1, 4, s3, y3, 1) == FOCAL_OK && t == 0.9 && f1 == 2.0 / 3.0);
    const uint8_t y0[] = { 0, 0, 0, 0 };
    CHECK(focal_best_f1_threshold(&t, &f1, 4, s3, y0, 1) == FOCAL_OK && isnan(t) && isnan(f1));

    /* multi-class: 3 classes, class 2 absent from the labels but predicted once */
    const double sc[] = { 0.8, 0.1, 0.1,   0.2, 0.7, 0.1,   0.3, 0.3, 0.4,   0.5, 0.5, 0.0 };
    const int32_t lc[] = { 0, 1, 1, 0 };
    struct focal_metrics m;
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTICLASS, 4, 3, sc, lc, NULL, NULL) == FOCAL_OK);
    /* predictions 0 1 2 0 (the tie .5/.5 goes to the first) */
    CHECK(m.confusion[0] == 2 && m.confusion[4] == 1 && m.confusion[5] == 1 && m.confusion[8] == 0);
    CHECK(m.accuracy == 0.75 && m.support[2] == 0 && isnan(m.recall[2]) && isnan(m.f1[2]));
    CHECK(m.precision[2] == 0.0);              /* predicted once, wrongly */
    CHECK(m.recall[1] == 0.5 && check_close(m.f1[1], 2.0 / 3.0, 1e-15, 0));
    CHECK(check_close(m.macro_f1, (1.0 + 2.0 / 3.0) / 2, 1e-15, 0));   /* class 2 left out */
    CHECK(m.balanced_accuracy == 0.75 && isnan(m.roc_auc[2]) && isnan(m.average_precision[2]));
    focal_metrics_release(&m);
    focal_metrics_release(&m);                    /* a freed struct is zeroed: freeing again is safe */
    focal_metrics_release(NULL);
    CHECK(m.support == NULL && m.num_classes == 0);
}

/* AUC against the pair count on random data with many ties; invariance to a
 * monotone transform; AUC(−s) = 1 − AUC(s); a million samples. */
static void test_properties(void)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    enum { N = 600 };
    static double s[N], e[N], neg[N];
    static uint8_t y[N];
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < N; i++) {
            y[i] = check_urand(&rng) < 0.2 + 0.03 * trial;
            s[i] = floor(check_urand(&rng) * (trial + 2)) / (trial + 2) + 0.1 * y[i];
            e[i] = exp(3.0 * s[i]);
            neg[i] = -s[i];
        }
        double gt = 0, eq = 0, np = 0, nn = 0;
        for (int i = 0; i < N; i++) {
            np += y[i];
            nn += !y[i];
            for (int k = 0; y[i] && k < N; k++) {
                if (y[k])
                    continue;
                gt += s[i] > s[k];
                eq += s[i] == s[k];
            }
        }
        double auc, auc_e, auc_n, ap, ap_e;
        CHECK(focal_roc_auc(&auc, N, s, y, 1) == FOCAL_OK);
        CHECK(focal_roc_auc(&auc_e, N, e, y, 1) == FOCAL_OK);
        CHECK(focal_roc_auc(&auc_n, N, neg, y, 1) == FOCAL_OK);
        CHECK(focal_average_precision(&ap, N, s, y, 1) == FOCAL_OK);
        CHECK(focal_average_precision(&ap_e, N, e, y, 1) == FOCAL_OK);
        CHECKF(check_close(auc, (gt + 0.5 * eq) / (np * nn), 1e-14, 1e-15), "trial %d: AUC %.17g vs pairs %.17g",
               trial, auc, (gt + 0.5 * eq) / (np * nn));
        CHECK(auc_e == auc && ap_e == ap);
        CHECK(check_close(auc_n, 1.0 - auc, 1e-14, 1e-15));
    }

    int big = 1000000;
    double *bs = malloc((size_t)big * sizeof *bs);
    uint8_t *by = malloc((size_t)big);
    CHECK(bs && by);
    if (bs && by) {
        for (int i = 0; i < big; i++) {
            by[i] = check_urand(&rng) < 0.01;
            bs[i] = check_urand(&rng) + 0.5 * by[i];
        }
        clock_t t0 = clock();
        double auc;
        CHECK(focal_roc_auc(&auc, big, bs, by, 1) == FOCAL_OK);
        double sec = (double)(clock() - t0) / CLOCKS_PER_SEC;
        /* s+ − s− is triangular on [−½, 1½]: P(> 0) = 1 − ½·½² = 7/8 */
        CHECKF(fabs(auc - 0.875) < 0.01, "AUC of a million samples %.6f, expected about 0.875", auc);
        CHECKF(sec < 5.0, "a million samples took %.2f s; expected O(n log n)", sec);
    }
    free(bs);
    free(by);
}

/* Every argument error: status, message, and an empty result. */
static void test_errors(void)
{
    const double s[] = { 0.1, NAN, 0.3 };
    const double ok3[] = { 0.1, 0.2, 0.3 };
    const int32_t lab[] = { 0, 1, 2 };
    const uint8_t y[] = { 0, 1, 1 }, y2[] = { 0, 2, 1 };
    struct focal_metrics m;
    double v, t;

    CHECK(focal_metrics_compute(&m, FOCAL_TASK_BINARY, 3, 1, s, (const int32_t[]){ 0, 1, 1 }, NULL, NULL) ==
          FOCAL_ERR_NUMERIC);
    CHECKF(strstr(focal_last_error(), "sample 1") && strstr(focal_last_error(), "nan"), "%s", focal_last_error());
    CHECK(m.support == NULL && m.precision == NULL);
    focal_metrics_release(&m);
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_BINARY, 3, 1, ok3, lab, NULL, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "sample 2 is 2; expected a class in [0, 1]"), "%s", focal_last_error());
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTICLASS, 1, 3, ok3, (const int32_t[]){ 3 }, NULL, NULL) ==
          FOCAL_ERR_ARG);
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTICLASS, 1, 3, ok3, (const int32_t[]){ -1 }, NULL, NULL) ==
          FOCAL_ERR_ARG);
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTILABEL, 1, 3, ok3, NULL, y2, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "column 1 is 2"), "%s", focal_last_error());
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTILABEL, 1, 3, ok3, NULL, NULL, NULL) == FOCAL_ERR_ARG);
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_BINARY, 1, 3, ok3, lab, NULL, NULL) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "expected 1"), "%s", focal_last_error());
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTICLASS, 3, 1, ok3, lab, NULL, NULL) == FOCAL_ERR_ARG);
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_BINARY, 0, 1, ok3, lab, NULL, NULL) == FOCAL_ERR_ARG);
    CHECK(focal_metrics_compute(&m, (enum focal_task)7, 3, 1, ok3, lab, NULL, NULL) == FOCAL_ERR_ARG);
    const double bad_thr[] = { NAN, 0.5, 0.5 };
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTILABEL, 1, 3, ok3, NULL, y, bad_thr) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "threshold 0"), "%s", focal_last_error());
    CHECK(m.support == NULL && m.num_classes == 0);

    CHECK(focal_roc_auc(&v, 3, s, y, 1) == FOCAL_ERR_NUMERIC && isnan(v));
    CHECK(focal_average_precision(&v, 3, ok3, y2, 1) == FOCAL_ERR_ARG && isnan(v));
    CHECK(focal_best_f1_threshold(&t, &v, 0, ok3, y, 1) == FOCAL_ERR_ARG && isnan(t) && isnan(v));
    CHECK(focal_roc_auc(&v, 3, ok3, y, 0) == FOCAL_ERR_ARG);

    struct focal_riadd ra;
    CHECK(focal_riadd_score(&ra, 1, 3, ok3, y, 3) == FOCAL_ERR_ARG && isnan(ra.score));
    CHECK(focal_riadd_score(&ra, 3, 1, ok3, y, 0) == FOCAL_ERR_ARG);
    CHECK(focal_riadd_score(&ra, 1, 3, s, y, 0) == FOCAL_ERR_NUMERIC);
}

/* The JSON writer's layout: names, escaping, nesting, null, riadd, I/O errors. */
static void test_json(void)
{
    const double s[] = { 0.9, 0.2,   0.6, 0.7,   0.1, 0.4 };
    const uint8_t y[] = { 1, 0,   1, 0,   0, 0 };
    struct focal_metrics m;
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTILABEL, 3, 2, s, NULL, y, NULL) == FOCAL_OK);
    const char *names[] = { "DR \"x\"\\", "ARMD\n\x01" };
    struct focal_riadd ra = { 0.5, NAN, 0.25, NAN };
    char *text = NULL;
    cJSON *j = json_of(&m, names, &ra, 4, &text);
    CHECKF(j != NULL, "JSON with names does not parse: %s", text ? text : "");
    if (j) {
        const cJSON *pc = cJSON_GetObjectItemCaseSensitive(j, "per_class");
        CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pc, 0), "name")->valuestring,
                     names[0]) == 0);
        CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pc, 1), "name")->valuestring,
                     names[1]) == 0);
        /* label 1 has no positives: null values, and listed in left_out */
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(pc, 1), "recall")));
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(j, "left_out");
        CHECK(cJSON_GetArraySize(lo) == 1 &&
              strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lo, 0), "name")->valuestring,
                     names[1]) == 0);
        const cJSON *rj = cJSON_GetObjectItemCaseSensitive(j, "riadd");
        int ok = 1;
        CHECK(json_num(rj, "risk_auc", &ok) == 0.5 && isnan(json_num(rj, "map", &ok)) && ok);
        CHECK(json_num(rj, "macro_auc", &ok) == 0.25 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rj, "score")));
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(j, "thresholds");
        CHECK(cJSON_GetArraySize(th) == 2 && cJSON_GetArrayItem(th, 1)->valuedouble == 0.5);
        const cJSON *cm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "confusion_matrix"), 0);
        /* label 0: y 1 1 0, predictions 1 1 0 → [[1, 0], [0, 2]] */
        CHECK(cJSON_GetArrayItem(cJSON_GetArrayItem(cm, 0), 0)->valueint == 1 &&
              cJSON_GetArrayItem(cJSON_GetArrayItem(cm, 1), 1)->valueint == 2);
        CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(j, "task")->valuestring, "multilabel") == 0);
    }
    /* nesting at indent 4: members at 6 spaces, the closing brace at 4 */
    CHECKF(text && strstr(text, "{\n      \"task\": \"multilabel\",\n") && strstr(text, "\n    }") &&
           text[strlen(text) - 1] == '}', "layout at indent 4:\n%s", text ? text : "");
    CHECK(text && strstr(text, "\\\"x\\\"\\\\") && strstr(text, "\\n\\u0001"));
    cJSON_Delete(j);
    free(text);
    j = json_of(&m, NULL, NULL, -1, &text);
    CHECK(j && text && !strchr(text, '\n') && !cJSON_GetObjectItemCaseSensitive(j, "riadd"));
    CHECK(text && strstr(text, "{\"name\": \"0\", \"support\": 2, "));
    cJSON_Delete(j);
    free(text);

    FILE *ro = fopen("/dev/null", "r");
    if (ro) {
        CHECK(focal_metrics_write_json(ro, &m, NULL, NULL, 2) == FOCAL_ERR_IO);
        fclose(ro);
    }
    focal_metrics_release(&m);

    /* multi-class has no thresholds member */
    const double sc[] = { 0.2, 0.8, 0.6, 0.4 };
    CHECK(focal_metrics_compute(&m, FOCAL_TASK_MULTICLASS, 2, 2, sc, (const int32_t[]){ 1, 1 }, NULL, NULL) ==
          FOCAL_OK);
    j = json_of(&m, NULL, NULL, 0, NULL);
    CHECK(j && !cJSON_GetObjectItemCaseSensitive(j, "thresholds") &&
          cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "left_out")) == 2);
    cJSON_Delete(j);
    focal_metrics_release(&m);
}

int main(void)
{
    test_hand_values();
    test_properties();
    test_errors();
    test_json();
    test_reference();
    return check_done(TEST_NAME);
}
