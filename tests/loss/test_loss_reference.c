/* test_loss_reference.c — checks every loss kind and reduction, through both
 * the float32 and the float64 API, against reference losses and gradients
 * computed in float64 by PyTorch / torchvision.
 *
 * The reference file tests/fixtures/loss_reference.txt is written by
 * tools/gen_loss_reference.py (its format is described in the file's header),
 * tests/fixtures/longtail_reference.txt (la, balanced-softmax, ldam, db; the
 * same format with the long-tail parameters and a 'prior' line) by
 * tools/gen_longtail_reference.py.
 * The inputs in it are exact float32 values, so both APIs see the same numbers.
 * For each case the test checks the reduced loss, the per-element values (for
 * reduction none), every gradient element, the loss of a forward-only call
 * (grad and per NULL), and that the per-element values of the other reductions
 * sum to the reduced loss times the divisor this test counts on its own.
 * It also checks that the file holds the announced number of cases and covers
 * every kind × reduction, so a truncated or shortened file fails.
 *
 * Needs FOCAL_SOURCE_DIR (set by CTest) to find the file. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

#define TEST_NAME "test_loss_reference"
/* The reference files and the start of each one's first line. */
static const struct { const char *rel, *first; } ref_files[] = {
    { "tests/fixtures/loss_reference.txt", "# focal-loss-reference 1 " },
    { "tests/fixtures/longtail_reference.txt", "# focal-longtail-reference 1 " },
};
#define MAX_DIM 4096                /* bound on n and on c read from the file */
#define MAX_ELEMS ((size_t)1 << 20) /* bound on n*c */

/* float32 path: |a − r| <= 1e-5·|r| or |a − r| <= 1e-7. */
#define F32_RTOL 1e-5
#define F32_ATOL 1e-7
/* float64 path. */
#define F64_RTOL 1e-9
#define F64_ATOL 1e-12

/* ------------------------------------------------------------------------ */
/* One case of the reference file                                           */
/* ------------------------------------------------------------------------ */

struct ref_case {
    int id;
    enum focal_loss_kind kind;
    enum focal_reduction red;
    size_t n, c;
    double gamma, alpha, beta, gpos, gneg, margin, eps, ls;
    double tau, scale, dba, dbb, dbmu, dblam, dbkappa; /* long-tail; focal_loss_init's if absent */
    int32_t ignore;
    int has_weights;
    char inputs[32], src[32];   /* informational: input flavour, reference source */
    double *logits;             /* n*c */
    double *targets;            /* sigmoid: n*c */
    int32_t *labels;            /* softmax: n */
    double *weights;            /* c, when has_weights */
    double *prior;              /* c, for the kinds that take a class prior */
    double loss;
    double *per;                /* reduction none: n*c (sigmoid) or n (softmax) */
    double *grad;               /* n*c */
};

static void ref_case_free(struct ref_case *rc)
{
    free(rc->logits);
    free(rc->targets);
    free(rc->labels);
    free(rc->weights);
    free(rc->prior);
    free(rc->per);
    free(rc->grad);
    memset(rc, 0, sizeof *rc);
}

static const struct { const char *name; enum focal_loss_kind kind; } kind_names[] = {
    { "bce", FOCAL_LOSS_BCE },
    { "sigmoid-focal", FOCAL_LOSS_SIGMOID_FOCAL },
    { "focal-star", FOCAL_LOSS_FOCAL_STAR },
    { "asl", FOCAL_LOSS_ASL },
    { "sigmoid-poly1", FOCAL_LOSS_SIGMOID_POLY1 },
    { "ce", FOCAL_LOSS_CE },
    { "softmax-focal", FOCAL_LOSS_SOFTMAX_FOCAL },
    { "softmax-poly1", FOCAL_LOSS_SOFTMAX_POLY1 },
    { "la", FOCAL_LOSS_LA },
    { "balanced-softmax", FOCAL_LOSS_BALANCED_SOFTMAX },
    { "ldam", FOCAL_LOSS_LDAM },
    { "db", FOCAL_LOSS_DB },
};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

static const char *const red_names[FOCAL_REDUCTION_COUNT] = {
    [FOCAL_REDUCTION_NONE] = "none",
    [FOCAL_REDUCTION_SUM] = "sum",
    [FOCAL_REDUCTION_MEAN] = "mean",
    [FOCAL_REDUCTION_POSITIVES] = "positives",
};

static const char *kind_str(enum focal_loss_kind k)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kind_names[i].kind == k) return kind_names[i].name;
    return "?";
}

static int is_softmax(enum focal_loss_kind k)
{
    return focal_loss_is_softmax(k);
}

static int takes_prior(enum focal_loss_kind k)
{
    return (focal_loss_info(k)->params & FOCAL_PARAM_CLASS_PRIOR) != 0;
}

/* ------------------------------------------------------------------------ */
/* Reading the file line by line                                             */
/* ------------------------------------------------------------------------ */

struct reader {
    const char *path;
    char *buf;          /* the whole file, NUL-terminated */
    size_t len, pos;
    int line;           /* number of the line last returned */
};

/* Reads the whole file; NULL (with a message) on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", TEST_NAME, path, strerror(errno));
        return NULL;
    }
    size_t cap = (size_t)1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        fprintf(stderr, "%s: error reading %s\n", TEST_NAME, path);
        free(buf);
        buf = NULL;
    } else if (!buf) {
        fprintf(stderr, "%s: out of memory reading %s\n", TEST_NAME, path);
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* The next line with its newline (and a CR before it) removed; NULL at the end. */
static char *next_line(struct reader *r)
{
    if (r->pos >= r->len) return NULL;
    char *s = r->buf + r->pos;
    char *nl = memchr(s, '\n', r->len - r->pos);
    if (nl) {
        *nl = '\0';
        r->pos = (size_t)(nl - r->buf) + 1;
    } else {
        r->pos = r->len;
    }
    size_t l = strlen(s);
    if (l > 0 && s[l - 1] == '\r') s[l - 1] = '\0';
    r->line++;
    return s;
}

/* Records a format error at the current line as a failed check; returns -1. */
static int parse_fail(const struct reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CHECKF(0, "%s:%d: %s", r->path, r->line, msg);
    return -1;
}

/* If line starts with the word key, returns what follows it; NULL otherwise. */
static char *after_key(char *line, const char *key)
{
    size_t kl = strlen(key);
    if (!line || strncmp(line, key, kl) != 0) return NULL;
    if (line[kl] != ' ' && line[kl] != '\0') return NULL;
    return line + kl;
}

static int at_end(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

/* Parses exactly count finite numbers from the line "key v1 v2 ...". */
static int read_doubles(struct reader *r, const char *key, double *out, size_t count)
{
    char *line = next_line(r);
    char *s = after_key(line, key);
    if (!s) return parse_fail(r, "expected a '%s' line", key);
    for (size_t i = 0; i < count; i++) {
        char *e;
        double v = strtod(s, &e);
        if (e == s || (*e != ' ' && *e != '\t' && *e != '\0'))
            return parse_fail(r, "'%s': value %zu of %zu is missing or malformed", key, i + 1, count);
        if (!isfinite(v))
            return parse_fail(r, "'%s': value %zu is not finite", key, i + 1);
        out[i] = v;
        s = e;
    }
    if (!at_end(s)) return parse_fail(r, "'%s': more than %zu values", key, count);
    return 0;
}

/* Parses one integer in [lo, hi] from the start of s; *end gets the rest. */
static int parse_long(const char *s, long lo, long hi, long *out, char **end)
{
    errno = 0;
    long v = strtol(s, end, 10);
    if (*end == s || errno == ERANGE || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Parses exactly count class labels from the line "targets t1 t2 ...". */
static int read_labels(struct reader *r, int32_t *out, size_t count)
{
    char *line = next_line(r);
    char *s = after_key(line, "targets");
    if (!s) return parse_fail(r, "expected a 'targets' line");
    for (size_t i = 0; i < count; i++) {
        char *e;
        long v;
        if (parse_long(s, INT32_MIN, INT32_MAX, &v, &e) != 0 ||
            (*e != ' ' && *e != '\t' && *e != '\0'))
            return parse_fail(r, "'targets': label %zu of %zu is missing or malformed", i + 1, count);
        out[i] = (int32_t)v;
        s = e;
    }
    if (!at_end(s)) return parse_fail(r, "'targets': more than %zu labels", count);
    return 0;
}

/* Splits s at the next run of blanks: returns the token (NUL-terminated) or NULL. */
static char *next_token(char **s)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') return NULL;
    char *t = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = '\0';
    *s = p;
    return t;
}

static int parse_double_token(const char *v, double *out)
{
    char *e;
    double d = strtod(v, &e);
    if (e == v || *e != '\0' || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

/* Parses "case <id> key=value ..." into rc's parameters. Every key but the
 * long-tail ones (which default to focal_loss_init's values) is required. */
static int parse_case_line(struct reader *r, char *line, struct ref_case *rc)
{
    enum { K_KIND, K_RED, K_N, K_C, K_GAMMA, K_ALPHA, K_BETA, K_GPOS, K_GNEG, K_MARGIN,
           K_EPS, K_LS, K_IGNORE, K_WEIGHTS, K_INPUTS, K_SRC, K_REQUIRED,
           /* optional: the long-tail parameters */
           K_TAU = K_REQUIRED, K_SCALE, K_DBA, K_DBB, K_DBMU, K_DBLAM, K_DBKAPPA, K_COUNT };
    static const char *const keys[K_COUNT] = {
        "kind", "red", "n", "c", "gamma", "alpha", "beta", "gpos", "gneg", "margin",
        "eps", "ls", "ignore", "weights", "inputs", "src",
        "tau", "scale", "dba", "dbb", "dbmu", "dblam", "dbkappa" };
    double *dst[K_COUNT] = { 0 };
    dst[K_GAMMA] = &rc->gamma; dst[K_ALPHA] = &rc->alpha; dst[K_BETA] = &rc->beta;
    dst[K_GPOS] = &rc->gpos; dst[K_GNEG] = &rc->gneg; dst[K_MARGIN] = &rc->margin;
    dst[K_EPS] = &rc->eps; dst[K_LS] = &rc->ls;
    dst[K_TAU] = &rc->tau; dst[K_SCALE] = &rc->scale; dst[K_DBA] = &rc->dba; dst[K_DBB] = &rc->dbb;
    dst[K_DBMU] = &rc->dbmu; dst[K_DBLAM] = &rc->dblam; dst[K_DBKAPPA] = &rc->dbkappa;
    int seen[K_COUNT] = { 0 };
    struct focal_loss dl;
    focal_loss_init(&dl, FOCAL_LOSS_CE);
    rc->tau = dl.tau; rc->scale = dl.scale; rc->dba = dl.db_alpha; rc->dbb = dl.db_beta;
    rc->dbmu = dl.db_mu; rc->dblam = dl.db_lambda; rc->dbkappa = dl.db_kappa;

    char *s = after_key(line, "case");
    if (!s) return parse_fail(r, "expected a 'case' line");
    char *tok = next_token(&s);
    long v;
    char *e;
    if (!tok || parse_long(tok, 1, INT_MAX, &v, &e) != 0 || *e != '\0')
        return parse_fail(r, "bad case id");
    rc->id = (int)v;

    while ((tok = next_token(&s)) != NULL) {
        char *eq = strchr(tok, '=');
        if (!eq) return parse_fail(r, "case %d: '%s' is not key=value", rc->id, tok);
        *eq = '\0';
        const char *val = eq + 1;
        int k = 0;
        while (k < K_COUNT && strcmp(keys[k], tok) != 0) k++;
        if (k == K_COUNT) return parse_fail(r, "case %d: unknown key '%s'", rc->id, tok);
        if (seen[k]++) return parse_fail(r, "case %d: key '%s' repeated", rc->id, tok);
        switch (k) {
        case K_KIND: {
            size_t i = 0;
            while (i < N_KINDS && strcmp(kind_names[i].name, val) != 0) i++;
            if (i == N_KINDS) return parse_fail(r, "case %d: unknown kind '%s'", rc->id, val);
            rc->kind = kind_names[i].kind;
            break;
        }
        case K_RED: {
            int i = 0;
            while (i < FOCAL_REDUCTION_COUNT && strcmp(red_names[i], val) != 0) i++;
            if (i == FOCAL_REDUCTION_COUNT)
                return parse_fail(r, "case %d: unknown reduction '%s'", rc->id, val);
            rc->red = (enum focal_reduction)i;
            break;
        }
        case K_N: case K_C:
            if (parse_long(val, 1, MAX_DIM, &v, &e) != 0 || *e != '\0')
                return parse_fail(r, "case %d: %s=%s is not in [1, %d]", rc->id, tok, val, MAX_DIM);
            if (k == K_N) rc->n = (size_t)v; else rc->c = (size_t)v;
            break;
        case K_IGNORE:
            if (parse_long(val, INT32_MIN, INT32_MAX, &v, &e) != 0 || *e != '\0')
                return parse_fail(r, "case %d: bad ignore=%s", rc->id, val);
            rc->ignore = (int32_t)v;
            break;
        case K_WEIGHTS:
            if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
                return parse_fail(r, "case %d: weights=%s is not 0 or 1", rc->id, val);
            rc->has_weights = val[0] == '1';
            break;
        case K_INPUTS: case K_SRC: {
            char *d = k == K_INPUTS ? rc->inputs : rc->src;
            if (strlen(val) >= sizeof rc->inputs)
                return parse_fail(r, "case %d: %s=%s too long", rc->id, tok, val);
            strcpy(d, val);
            break;
        }
        default:
            if (parse_double_token(val, dst[k]) != 0)
                return parse_fail(r, "case %d: %s=%s is not a finite number", rc->id, tok, val);
        }
    }
    for (int k = 0; k < K_REQUIRED; k++)
        if (!seen[k]) return parse_fail(r, "case %d: key '%s' missing", rc->id, keys[k]);
    if (rc->n * rc->c > MAX_ELEMS)
        return parse_fail(r, "case %d: n*c = %zu exceeds %zu", rc->id, rc->n * rc->c, MAX_ELEMS);
    return 0;
}

/* Reads one case, starting at its already-read 'case' line. */
static int read_case(struct reader *r, char *line, struct ref_case *rc)
{
    if (parse_case_line(r, line, rc) != 0) return -1;
    size_t m = rc->n * rc->c;
    int smax = is_softmax(rc->kind);
    size_t nper = smax ? rc->n : m;
    rc->logits = malloc(m * sizeof *rc->logits);
    rc->grad = malloc(m * sizeof *rc->grad);
    rc->per = malloc(nper * sizeof *rc->per);
    rc->weights = malloc(rc->c * sizeof *rc->weights);
    if (smax) rc->labels = malloc(rc->n * sizeof *rc->labels);
    else rc->targets = malloc(m * sizeof *rc->targets);
    if (!rc->logits || !rc->grad || !rc->per || !rc->weights || (smax ? !rc->labels : !rc->targets))
        return parse_fail(r, "case %d: out of memory", rc->id);

    if (read_doubles(r, "logits", rc->logits, m) != 0) return -1;
    for (size_t i = 0; i < m; i++)
        if ((double)(float)rc->logits[i] != rc->logits[i])
            return parse_fail(r, "case %d: logit %zu (%.17g) is not exact in float32", rc->id, i, rc->logits[i]);
    if (smax) {
        if (read_labels(r, rc->labels, rc->n) != 0) return -1;
        for (size_t i = 0; i < rc->n; i++)
            if (rc->labels[i] != rc->ignore && (rc->labels[i] < 0 || (size_t)rc->labels[i] >= rc->c))
                return parse_fail(r, "case %d: label %zu = %d is neither in [0,%zu) nor ignore_index",
                                  rc->id, i, (int)rc->labels[i], rc->c);
    } else {
        if (read_doubles(r, "targets", rc->targets, m) != 0) return -1;
        for (size_t i = 0; i < m; i++)
            if ((double)(float)rc->targets[i] != rc->targets[i] || rc->targets[i] > 1)
                return parse_fail(r, "case %d: target %zu (%.17g) is not an exact float32 <= 1",
                                  rc->id, i, rc->targets[i]);
    }
    if (rc->has_weights && read_doubles(r, "weights", rc->weights, rc->c) != 0) return -1;
    if (takes_prior(rc->kind)) {
        rc->prior = malloc(rc->c * sizeof *rc->prior);
        if (!rc->prior) return parse_fail(r, "case %d: out of memory", rc->id);
        if (read_doubles(r, "prior", rc->prior, rc->c) != 0) return -1;
    }
    if (read_doubles(r, "loss", &rc->loss, 1) != 0) return -1;
    if (rc->red == FOCAL_REDUCTION_NONE && read_doubles(r, "per", rc->per, nper) != 0) return -1;
    if (read_doubles(r, "grad", rc->grad, m) != 0) return -1;
    line = next_line(r);
    if (!line || strcmp(line, "end") != 0) return parse_fail(r, "case %d: expected 'end'", rc->id);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Comparing                                                                 */
/* ------------------------------------------------------------------------ */

/* Worst errors seen for one kind through one API. ratio = error / tolerance
 * (a value <= 1 passes); rel is the worst relative error where the relative
 * bound is the binding one (|r|·rtol >= atol), abs the worst absolute error
 * where the absolute bound is. */
struct worst {
    double ratio, rel, abs;
    int ratio_case;
    const char *ratio_what;
    size_t ratio_index;
    double ratio_got, ratio_ref;
};

struct tol {
    const char *api;    /* "f32" or "f64" */
    double rtol, atol;
};

static const struct tol tol32 = { "f32", F32_RTOL, F32_ATOL };
static const struct tol tol64 = { "f64", F64_RTOL, F64_ATOL };

static struct worst worst32[FOCAL_LOSS_KIND_COUNT], worst64[FOCAL_LOSS_KIND_COUNT];

static void print_params(FILE *f, const struct ref_case *rc)
{
    fprintf(f, "case %d kind=%s red=%s n=%zu c=%zu gamma=%g alpha=%g beta=%g gpos=%g gneg=%g "
            "margin=%g eps=%g ls=%g ignore=%d weights=%d inputs=%s src=%s",
            rc->id, kind_str(rc->kind), red_names[rc->red], rc->n, rc->c, rc->gamma, rc->alpha,
            rc->beta, rc->gpos, rc->gneg, rc->margin, rc->eps, rc->ls, (int)rc->ignore,
            rc->has_weights, rc->inputs, rc->src);
}

/* Describes the input behind element idx of quantity what, for messages. */
static void describe_input(char *buf, size_t size, const struct ref_case *rc, const char *what, size_t idx)
{
    if (strcmp(what, "per") != 0 && strcmp(what, "grad") != 0) {
        buf[0] = '\0';
    } else if (!is_softmax(rc->kind)) {
        snprintf(buf, size, " (row %zu col %zu, logit %.9g, target %.9g)",
                 idx / rc->c, idx % rc->c, rc->logits[idx], rc->targets[idx]);
    } else if (strcmp(what, "per") == 0) {
        snprintf(buf, size, " (row %zu, label %d)", idx, (int)rc->labels[idx]);
    } else {
        snprintf(buf, size, " (row %zu col %zu, label %d, logit %.9g)", idx / rc->c, idx % rc->c,
                 (int)rc->labels[idx / rc->c], rc->logits[idx]);
    }
}

/* Compares count values with the reference under t; one check per call, the
 * message names the case, the quantity, the worst index and both values. */
static void compare(const struct ref_case *rc, const struct tol *t, const char *what,
                    const double *got, const double *ref, size_t count)
{
    struct worst *w = &(t == &tol32 ? worst32 : worst64)[rc->kind];
    size_t nbad = 0, worst_i = 0;
    double worst_ratio = -1;
    for (size_t i = 0; i < count; i++) {
        double err = fabs(got[i] - ref[i]);
        double bound = fmax(t->rtol * fabs(ref[i]), t->atol);
        double ratio = isnan(err) ? INFINITY : err / bound;
        if (!(err <= t->rtol * fabs(ref[i]) || err <= t->atol)) nbad++;
        if (ratio > worst_ratio) { worst_ratio = ratio; worst_i = i; }
        if (t->rtol * fabs(ref[i]) >= t->atol) {
            double rel = isnan(err) ? INFINITY : err / fabs(ref[i]);
            if (rel > w->rel) w->rel = rel;
        } else if (!(err <= w->abs)) {
            w->abs = isnan(err) ? INFINITY : err;
        }
        if (ratio > w->ratio) {
            w->ratio = ratio;
            w->ratio_case = rc->id;
            w->ratio_what = what;
            w->ratio_index = i;
            w->ratio_got = got[i];
            w->ratio_ref = ref[i];
        }
    }
    check_count++;
    if (nbad) {
        char in[160];
        check_failed++;
        describe_input(in, sizeof in, rc, what, worst_i);
        fprintf(stderr, "FAIL ");
        print_params(stderr, rc);
        fprintf(stderr, "\n     %s %s: %zu of %zu values out of tolerance; worst [%zu]%s: "
                "got %.17g expected %.17g (error %.3g)\n", t->api, what, nbad, count, worst_i,
                in, got[worst_i], ref[worst_i], fabs(got[worst_i] - ref[worst_i]));
    }
}

/* For reductions other than none: the divisor the library should apply,
 * counted here independently from the targets. */
static double divisor(const struct ref_case *rc)
{
    size_t counted = 0, pos = 0;
    if (is_softmax(rc->kind)) {
        for (size_t i = 0; i < rc->n; i++)
            counted += rc->labels[i] != rc->ignore;
        pos = counted;
    } else {
        for (size_t i = 0; i < rc->n * rc->c; i++) {
            counted += rc->targets[i] >= 0;
            pos += rc->targets[i] >= 0.5;
        }
    }
    switch (rc->red) {
    case FOCAL_REDUCTION_MEAN: return (double)counted;
    case FOCAL_REDUCTION_POSITIVES: return pos > 0 ? (double)pos : 1.0;
    default: return 1.0;
    }
}

/* Checks that the per-element values of a reduced call add up to the reduced
 * reference loss under this test's own divisor. The sum is compared with a
 * tolerance relative to Σ|per| because per-element values may cancel. */
static void check_per_sum(const struct ref_case *rc, const struct tol *t, const double *per, size_t nper)
{
    double s = 0, sa = 0, d = divisor(rc);
    for (size_t i = 0; i < nper; i++) {
        s += per[i];
        sa += fabs(per[i]);
    }
    double got = s / d, err = fabs(got - rc->loss);
    CHECKF(err <= t->rtol * sa / d + t->atol,
           "case %d (%s, %s): %s sum(per)/%g = %.17g, reference loss %.17g", rc->id,
           kind_str(rc->kind), red_names[rc->red], t->api, d, got, rc->loss);
}

static void report_status(const struct ref_case *rc, const char *api, const char *call, focal_status st)
{
    CHECKF(st == FOCAL_OK, "case %d (%s, %s): %s %s returned %s: %s", rc->id, kind_str(rc->kind),
           red_names[rc->red], api, call, focal_status_string(st), focal_last_error());
}

static void setup_loss(struct focal_loss *l, const struct ref_case *rc)
{
    focal_loss_init(l, rc->kind);
    l->reduction = rc->red;
    l->gamma = rc->gamma;
    l->alpha = rc->alpha;
    l->beta = rc->beta;
    l->gamma_pos = rc->gpos;
    l->gamma_neg = rc->gneg;
    l->margin = rc->margin;
    l->epsilon = rc->eps;
    l->label_smoothing = rc->ls;
    l->ignore_index = rc->ignore;
    l->class_weights = rc->has_weights ? rc->weights : NULL;
    l->class_prior = rc->prior;
    l->tau = rc->tau;
    l->scale = rc->scale;
    l->db_alpha = rc->dba;
    l->db_beta = rc->dbb;
    l->db_mu = rc->dbmu;
    l->db_lambda = rc->dblam;
    l->db_kappa = rc->dbkappa;
}

/* Runs one case through the float64 API. */
static void run_f64(const struct ref_case *rc, double *grad, double *per)
{
    struct focal_loss l;
    setup_loss(&l, rc);
    size_t m = rc->n * rc->c, nper = is_softmax(rc->kind) ? rc->n : m;
    double loss = NAN, loss_fwd = NAN;
    focal_status st;

    for (size_t i = 0; i < m; i++) grad[i] = NAN;   /* must be overwritten */
    for (size_t i = 0; i < nper; i++) per[i] = NAN;
    if (is_softmax(rc->kind))
        st = focal_softmax_loss_f64(&l, rc->n, rc->c, rc->logits, rc->labels, grad, per, &loss);
    else
        st = focal_sigmoid_loss_f64(&l, rc->n, rc->c, rc->logits, rc->targets, grad, per, &loss);
    report_status(rc, "f64", "with grad", st);
    if (st == FOCAL_OK) {
        compare(rc, &tol64, "loss", &loss, &rc->loss, 1);
        compare(rc, &tol64, "grad", grad, rc->grad, m);
        if (rc->red == FOCAL_REDUCTION_NONE) compare(rc, &tol64, "per", per, rc->per, nper);
        else check_per_sum(rc, &tol64, per, nper);
    }

    if (is_softmax(rc->kind))
        st = focal_softmax_loss_f64(&l, rc->n, rc->c, rc->logits, rc->labels, NULL, NULL, &loss_fwd);
    else
        st = focal_sigmoid_loss_f64(&l, rc->n, rc->c, rc->logits, rc->targets, NULL, NULL, &loss_fwd);
    report_status(rc, "f64", "forward only", st);
    if (st == FOCAL_OK) compare(rc, &tol64, "loss (forward only)", &loss_fwd, &rc->loss, 1);
}

/* Runs one case through the float32 API; the outputs are widened into grad/per. */
static void run_f32(const struct ref_case *rc, double *grad, double *per)
{
    struct focal_loss l;
    setup_loss(&l, rc);
    size_t m = rc->n * rc->c, nper = is_softmax(rc->kind) ? rc->n : m;
    float *x = malloc(m * sizeof *x), *y = NULL, *g = malloc(m * sizeof *g), *p = malloc(nper * sizeof *p);
    if (!is_softmax(rc->kind)) y = malloc(m * sizeof *y);
    if (!x || !g || !p || (!is_softmax(rc->kind) && !y)) {
        CHECKF(0, "case %d: out of memory", rc->id);
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        x[i] = (float)rc->logits[i];
        if (y) y[i] = (float)rc->targets[i];
        g[i] = NAN;
    }
    for (size_t i = 0; i < nper; i++) p[i] = NAN;

    double loss = NAN, loss_fwd = NAN;
    focal_status st;
    if (is_softmax(rc->kind))
        st = focal_softmax_loss(&l, rc->n, rc->c, x, rc->labels, g, p, &loss);
    else
        st = focal_sigmoid_loss(&l, rc->n, rc->c, x, y, g, p, &loss);
    report_status(rc, "f32", "with grad", st);
    if (st == FOCAL_OK) {
        for (size_t i = 0; i < m; i++) grad[i] = g[i];
        for (size_t i = 0; i < nper; i++) per[i] = p[i];
        compare(rc, &tol32, "loss", &loss, &rc->loss, 1);
        compare(rc, &tol32, "grad", grad, rc->grad, m);
        if (rc->red == FOCAL_REDUCTION_NONE) compare(rc, &tol32, "per", per, rc->per, nper);
        else check_per_sum(rc, &tol32, per, nper);
    }

    if (is_softmax(rc->kind))
        st = focal_softmax_loss(&l, rc->n, rc->c, x, rc->labels, NULL, NULL, &loss_fwd);
    else
        st = focal_sigmoid_loss(&l, rc->n, rc->c, x, y, NULL, NULL, &loss_fwd);
    report_status(rc, "f32", "forward only", st);
    if (st == FOCAL_OK) compare(rc, &tol32, "loss (forward only)", &loss_fwd, &rc->loss, 1);
out:
    free(x);
    free(y);
    free(g);
    free(p);
}

static void print_worst(const char *api, const struct worst *w, const struct tol *t)
{
    printf("worst errors, %s API (tolerance: rel %g or abs %g; ratio = error / tolerance):\n",
           api, t->rtol, t->atol);
    printf("  %-16s %10s %10s %10s  %s\n", "kind", "ratio", "rel", "abs", "at");
    for (size_t k = 0; k < N_KINDS; k++) {
        const struct worst *x = &w[kind_names[k].kind];
        printf("  %-16s %10.3g %10.3g %10.3g  ", kind_names[k].name, x->ratio, x->rel, x->abs);
        if (x->ratio_what)
            printf("case %d %s[%zu]: got %.17g ref %.17g\n", x->ratio_case, x->ratio_what,
                   x->ratio_index, x->ratio_got, x->ratio_ref);
        else
            printf("-\n");
    }
}

/* Reads and runs every case of one reference file; counts its cases into
 * *total and each kind × reduction into covered. Returns 1 if the file was
 * read to its 'eof' line. */
static int run_file(const char *dir, const char *rel, const char *first,
                    int covered[FOCAL_LOSS_KIND_COUNT][FOCAL_REDUCTION_COUNT], int *total)
{
    size_t plen = strlen(dir) + strlen(rel) + 2;
    char *path = malloc(plen);
    if (!path) return 0;
    snprintf(path, plen, "%s/%s", dir, rel);

    struct reader r = { path, NULL, 0, 0, 0 };
    r.buf = slurp(path, &r.len);
    if (!r.buf) {
        CHECKF(0, "%s: cannot be read", path);
        free(path);
        return 0;
    }

    long expected = -1;
    int ncases = 0, eof_seen = 0;
    double *grad = NULL, *per = NULL;

    char *line = next_line(&r);
    if (!line || strncmp(line, first, strlen(first)) != 0) {
        parse_fail(&r, "not a reference file: the first line must start with '%s'", first);
        goto done;
    }
    while ((line = next_line(&r)) != NULL && line[0] == '#')
        ;
    {
        char *s = after_key(line, "cases"), *e;
        if (!s || parse_long(s, 1, 1000000, &expected, &e) != 0 || !at_end(e)) {
            parse_fail(&r, "expected 'cases <count>' after the header");
            goto done;
        }
    }

    while ((line = next_line(&r)) != NULL) {
        if (line[0] == '\0') continue;
        char *s = after_key(line, "eof");
        if (s) {
            long cnt;
            char *e;
            CHECKF(parse_long(s, 0, 1000000, &cnt, &e) == 0 && at_end(e) && cnt == expected,
                   "%s:%d: 'eof' line does not repeat the case count %ld", path, r.line, expected);
            eof_seen = 1;
            CHECKF(next_line(&r) == NULL, "%s:%d: text after 'eof'", path, r.line);
            break;
        }
        struct ref_case rc;
        memset(&rc, 0, sizeof rc);
        if (read_case(&r, line, &rc) != 0) {
            ref_case_free(&rc);
            goto done;
        }
        ncases++;
        CHECKF(rc.id == ncases, "%s:%d: case id %d, expected %d", path, r.line, rc.id, ncases);
        covered[rc.kind][rc.red]++;

        size_t m = rc.n * rc.c;
        double *ng = realloc(grad, m * sizeof *grad), *np;
        if (ng) grad = ng;
        np = ng ? realloc(per, m * sizeof *per) : NULL;
        if (np) per = np;
        if (!ng || !np) {
            CHECKF(0, "out of memory");
            ref_case_free(&rc);
            goto done;
        }
        run_f64(&rc, grad, per);
        run_f32(&rc, grad, per);
        ref_case_free(&rc);
    }

done:
    CHECKF(ncases == expected, "%s: read %d cases, the header announces %ld", path, ncases, expected);
    CHECKF(eof_seen, "%s: no 'eof' line: the file is truncated", path);
    printf("%s: %d reference cases from %s\n", TEST_NAME, ncases, rel);
    *total += ncases;
    free(grad);
    free(per);
    free(r.buf);
    free(path);
    return eof_seen;
}

int main(void)
{
    const char *dir = check_source_dir(TEST_NAME);
    if (!dir)
        return 1;
    int covered[FOCAL_LOSS_KIND_COUNT][FOCAL_REDUCTION_COUNT] = { { 0 } };
    int total = 0, all_read = 1;
    for (size_t f = 0; f < sizeof ref_files / sizeof ref_files[0]; f++)
        all_read &= run_file(dir, ref_files[f].rel, ref_files[f].first, covered, &total);
    /* Coverage is only worth reporting for files that were read to their end. */
    if (all_read) {
        CHECKF(N_KINDS == FOCAL_LOSS_KIND_COUNT, "the test knows %zu loss kinds, the library %d",
               N_KINDS, (int)FOCAL_LOSS_KIND_COUNT);
        for (size_t k = 0; k < N_KINDS; k++)
            for (int red = 0; red < FOCAL_REDUCTION_COUNT; red++)
                CHECKF(covered[kind_names[k].kind][red] > 0, "no case covers kind %s with reduction %s",
                       kind_names[k].name, red_names[red]);
    }
    printf("%s: %d reference cases in all\n", TEST_NAME, total);
    print_worst("float32", worst32, &tol32);
    print_worst("float64", worst64, &tol64);
    return check_done(TEST_NAME);
}
