/* test_optim.c — checks the optimisers against PyTorch, and their schedules,
 * clipping, configuration checks and failure paths.
 *
 * The reference file tests/fixtures/optim_reference.txt is written by
 * tools/gen_optim_reference.py: torch.optim.SGD / Adam / AdamW on the network
 * below (as nn.Sequential(Conv2d(2,3,1), BatchNorm2d(3), Flatten(),
 * Linear(12,2))), with the parameters after every step of every case. This
 * test builds the same network, finds each parameter tensor by its name, and
 * replays each case with the same gradients, comparing the learning rate,
 * the gradient norm and every parameter after every step.
 *
 * Needs FOCAL_SOURCE_DIR (set by CTest) to find the file. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "nn/optim_internal.h"

#define TEST_NAME "test_optim"
#define REF_REL_PATH "tests/fixtures/optim_reference.txt"
#define REF_FIRST_LINE "# focal-optim-reference 1 "

/* The network of tools/gen_optim_reference.py, for 2×2×2 inputs and 2 classes. */
#define NET_DESC "conv 3 1 bias=1\nbatchnorm\nflatten\ndense classes\n"
#define NET_C 2
#define NET_H 2
#define NET_W 2
#define NET_CLASSES 2

/* Parameters after a step: |a − r| <= 1e-5·|r| + 1e-7. */
#define P_RTOL 1e-5
#define P_ATOL 1e-7

#define MAX_TENSORS 16
#define MAX_STEPS 64
#define MAX_CASES 64
#define MAX_VALUES 4096

/* ------------------------------------------------------------------------ */
/* The reference file                                                       */
/* ------------------------------------------------------------------------ */

struct ref_step {
    double lr, norm;
    float *params;                    /* nvalues */
};

struct ref_case {
    char name[64];
    struct focal_optim_config cfg;
    int nsteps;
    struct ref_step steps[MAX_STEPS];
};

struct ref_tensor {
    char name[64];
    size_t numel;
    int decay;
};

struct reference {
    double sgd_momentum, sgd_weight_decay, sgd_dampening;
    int sgd_nesterov;
    double adam_lr[2], adam_beta1[2], adam_beta2[2], adam_eps[2], adam_wd[2]; /* [0] Adam, [1] AdamW */
    int have_defaults;                /* bit mask: 1 sgd, 2 adam, 4 adamw */
    int ntensors;
    struct ref_tensor tensors[MAX_TENSORS];
    size_t nvalues;
    float *init;
    int ngrads;
    float *grads[MAX_STEPS];
    int ncases, announced;            /* cases read, cases the 'cases' line announces */
    struct ref_case *cases;           /* announced */
};

/* Releases everything reference_read allocated and zeroes *r. */
static void reference_free(struct reference *r)
{
    free(r->init);
    for (int i = 0; i < r->ngrads; i++)
        free(r->grads[i]);
    if (r->cases)
        for (int c = 0; c < r->ncases; c++)
            for (int s = 0; s < r->cases[c].nsteps; s++)
                free(r->cases[c].steps[s].params);
    free(r->cases);
    memset(r, 0, sizeof *r);
}

/* Reports a malformed reference file (line number and why) and returns 0. */
static int bad_line(int line, const char *why)
{
    fprintf(stderr, "%s: %s:%d: %s\n", TEST_NAME, REF_REL_PATH, line, why);
    return 0;
}

/* The next space-separated token of *s (NUL-terminated in place), or NULL. */
static char *next_token(char **s)
{
    char *p = *s;
    while (*p == ' ')
        p++;
    if (!*p)
        return NULL;
    char *start = p;
    while (*p && *p != ' ')
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return start;
}

/* Parses a whole token as a double; 0 if it is not one. */
static int parse_double(const char *tok, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(tok, &end);
    return end != tok && *end == '\0' && errno != ERANGE;
}

/* Parses a whole token as a long; 0 if it is not one. */
static int parse_long(const char *tok, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(tok, &end, 10);
    return end != tok && *end == '\0' && errno != ERANGE;
}

/* Reads exactly n floats (each written as a double equal to a float32) from
 * the rest of the line s into a new array; NULL if malformed. */
static float *parse_values(char *s, size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    char *tok;
    while ((tok = next_token(&s))) {
        double d;
        if (k == n || !parse_double(tok, &d) || (double)(float)d != d) {
            free(v);
            return NULL;
        }
        v[k++] = (float)d;
    }
    if (k != n) {
        free(v);
        return NULL;
    }
    return v;
}

/* For a token "key=value": points *value past the '=' and returns 1 if the
 * key is `key`. */
static int key_is(const char *tok, const char *key, const char **value)
{
    size_t kl = strlen(key);
    if (strncmp(tok, key, kl) != 0 || tok[kl] != '=')
        return 0;
    *value = tok + kl + 1;
    return 1;
}

/* Fills the case's name and configuration from the tokens of a 'case' line. */
static int parse_case_line(char *s, struct ref_case *rc, int line)
{
    char *tok;
    int seen = 0;
    while ((tok = next_token(&s))) {
        const char *v;
        double d;
        long l;
        struct focal_optim_config *c = &rc->cfg;
        if (key_is(tok, "name", &v)) {
            snprintf(rc->name, sizeof rc->name, "%s", v);
        } else if (key_is(tok, "kind", &v)) {
            enum focal_optim_kind k;
            if (focal_optim_kind_parse(v, &k) != FOCAL_OK)
                return bad_line(line, "unknown kind");
            /* kind comes first: start from the library's defaults for it. */
            focal_optim_defaults(c, k);
        } else if (key_is(tok, "schedule", &v)) {
            if (focal_schedule_parse(v, &c->schedule) != FOCAL_OK)
                return bad_line(line, "unknown schedule");
        } else {
            static const char *dkeys[] = { "lr", "momentum", "weight_decay", "beta1", "beta2", "eps",
                                           "step_gamma", "min_lr", "clip_norm" };
            double *dptr[] = { &c->lr, &c->momentum, &c->weight_decay, &c->beta1, &c->beta2, &c->eps,
                               &c->step_gamma, &c->min_lr, &c->clip_norm };
            static const char *lkeys[] = { "step_size", "total_steps", "warmup_steps" };
            long *lptr[] = { &c->step_size, &c->total_steps, &c->warmup_steps };
            int found = 0;
            for (size_t i = 0; i < sizeof dkeys / sizeof *dkeys && !found; i++)
                if (key_is(tok, dkeys[i], &v)) {
                    if (!parse_double(v, &d))
                        return bad_line(line, "bad number");
                    *dptr[i] = d;
                    found = 1;
                }
            for (size_t i = 0; i < sizeof lkeys / sizeof *lkeys && !found; i++)
                if (key_is(tok, lkeys[i], &v)) {
                    if (!parse_long(v, &l))
                        return bad_line(line, "bad integer");
                    *lptr[i] = l;
                    found = 1;
                }
            if (!found && key_is(tok, "nesterov", &v)) {
                if (!parse_long(v, &l))
                    return bad_line(line, "bad integer");
                c->nesterov = (int)l;
                found = 1;
            }
            if (!found && key_is(tok, "decay_all", &v)) {
                if (!parse_long(v, &l))
                    return bad_line(line, "bad integer");
                c->decay_all = (int)l;
                found = 1;
            }
            if (!found)
                return bad_line(line, "unknown key in case line");
        }
        seen++;
    }
    /* name, kind and the 15 configuration fields. */
    return seen == 17 ? 1 : bad_line(line, "case line does not have 17 fields");
}

/* Reads the reference file; 0 (with a message) if it is missing or malformed. */
static int reference_read(struct reference *r, const char *path)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", TEST_NAME, path);
        return 0;
    }
    static char buf[1 << 17];
    int line = 0, ok = 1, eof_seen = 0;
    struct ref_case *cur = NULL;
    while (ok && fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
            ok = bad_line(line, "line too long");
            break;
        }
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (line == 1 && strncmp(buf, REF_FIRST_LINE, strlen(REF_FIRST_LINE)) != 0) {
            ok = bad_line(line, "not an optimiser reference file");
            break;
        }
        if (buf[0] == '#' || buf[0] == '\0')
            continue;
        char *s = buf;
        char *kw = next_token(&s);
        const char *v;
        double d;
        long l;
        if (!strcmp(kw, "defaults")) {
            char *which = next_token(&s);
            int idx = which && !strcmp(which, "adam") ? 0 : which && !strcmp(which, "adamw") ? 1 : -1;
            int sgd = which && !strcmp(which, "sgd");
            if (idx < 0 && !sgd) {
                ok = bad_line(line, "unknown defaults kind");
                break;
            }
            char *tok;
            while ((tok = next_token(&s))) {
                const char *val = strchr(tok, '=');
                if (!val || !parse_double(val + 1, &d)) {
                    ok = bad_line(line, "bad defaults value");
                    break;
                }
                if (sgd) {
                    if (key_is(tok, "momentum", &v)) r->sgd_momentum = d;
                    else if (key_is(tok, "nesterov", &v)) r->sgd_nesterov = (int)d;
                    else if (key_is(tok, "weight_decay", &v)) r->sgd_weight_decay = d;
                    else if (key_is(tok, "dampening", &v)) r->sgd_dampening = d;
                } else {
                    if (key_is(tok, "lr", &v)) r->adam_lr[idx] = d;
                    else if (key_is(tok, "beta1", &v)) r->adam_beta1[idx] = d;
                    else if (key_is(tok, "beta2", &v)) r->adam_beta2[idx] = d;
                    else if (key_is(tok, "eps", &v)) r->adam_eps[idx] = d;
                    else if (key_is(tok, "weight_decay", &v)) r->adam_wd[idx] = d;
                }
            }
            r->have_defaults |= sgd ? 1 : idx == 0 ? 2 : 4;
        } else if (!strcmp(kw, "tensor")) {
            char *name = next_token(&s), *numel = next_token(&s), *dec = next_token(&s);
            if (r->ntensors == MAX_TENSORS || !name || !numel || !dec || !parse_long(numel, &l) || l <= 0 ||
                l > MAX_VALUES || !key_is(dec, "decay", &v) || (strcmp(v, "0") && strcmp(v, "1"))) {
                ok = bad_line(line, "bad tensor line");
                break;
            }
            struct ref_tensor *t = &r->tensors[r->ntensors++];
            snprintf(t->name, sizeof t->name, "%s", name);
            t->numel = (size_t)l;
            t->decay = v[0] == '1';
            r->nvalues += t->numel;
            if (r->nvalues > MAX_VALUES)
                ok = bad_line(line, "too many values");
        } else if (!strcmp(kw, "init")) {
            if (r->init || !(r->init = parse_values(s, r->nvalues)))
                ok = bad_line(line, "bad init line");
        } else if (!strcmp(kw, "grad")) {
            char *t = next_token(&s);
            if (!t || !parse_long(t, &l) || l != r->ngrads || r->ngrads == MAX_STEPS ||
                !(r->grads[r->ngrads] = parse_values(s, r->nvalues)))
                ok = bad_line(line, "bad grad line");
            else
                r->ngrads++;
        } else if (!strcmp(kw, "cases")) {
            char *t = next_token(&s);
            if (r->cases || !t || !parse_long(t, &l) || l <= 0 || l > MAX_CASES ||
                !(r->cases = calloc((size_t)l, sizeof *r->cases)))
                ok = bad_line(line, "bad cases line");
            else
                r->announced = (int)l;
        } else if (!strcmp(kw, "case")) {
            if (!r->cases || cur) {
                ok = bad_line(line, "case outside the case list");
                break;
            }
            if (r->ncases == r->announced) {
                ok = bad_line(line, "more cases than announced");
                break;
            }
            cur = &r->cases[r->ncases++];
            ok = parse_case_line(s, cur, line);
        } else if (!strcmp(kw, "step")) {
            char *t = next_token(&s), *lr = next_token(&s), *nm = next_token(&s);
            const char *lv, *nv;
            if (!cur || !t || !lr || !nm || !parse_long(t, &l) || l != cur->nsteps || cur->nsteps == MAX_STEPS ||
                !key_is(lr, "lr", &lv) || !key_is(nm, "norm", &nv) || !parse_double(lv, &cur->steps[l].lr) ||
                !parse_double(nv, &cur->steps[l].norm))
                ok = bad_line(line, "bad step line");
        } else if (!strcmp(kw, "params")) {
            if (!cur || cur->steps[cur->nsteps].params ||
                !(cur->steps[cur->nsteps].params = parse_values(s, r->nvalues)))
                ok = bad_line(line, "bad params line");
            else
                cur->nsteps++;
        } else if (!strcmp(kw, "end")) {
            if (!cur)
                ok = bad_line(line, "end outside a case");
            cur = NULL;
        } else if (!strcmp(kw, "eof")) {
            char *t = next_token(&s);
            if (!t || !parse_long(t, &l) || l != r->ncases || l != r->announced || cur)
                ok = bad_line(line, "eof count does not match the cases read");
            eof_seen = 1;
        } else {
            ok = bad_line(line, "unknown line");
        }
    }
    fclose(f);
    if (ok && !eof_seen)
        ok = bad_line(line, "truncated: no eof line");
    if (ok && (!r->init || r->ngrads == 0 || r->ntensors == 0 || r->have_defaults != 7))
        ok = bad_line(line, "missing tensors, init, grads or defaults");
    for (int c = 0; ok && c < r->ncases; c++)
        if (r->cases[c].nsteps == 0 || r->cases[c].nsteps > r->ngrads)
            ok = bad_line(line, "a case without steps or with more steps than gradients");
    if (!ok)
        reference_free(r);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* The network                                                              */
/* ------------------------------------------------------------------------ */

/* Where each reference tensor lives in the model. */
struct binding {
    float *data[MAX_TENSORS];
    float *grad[MAX_TENSORS];
};

/* Finds every reference tensor in m by name and checks numel, role and that
 * m has no other parameter tensors; 0 (with failed checks) otherwise. */
static int bind_tensors(struct focal_model *m, const struct reference *r, struct binding *b)
{
    int ok = 1;
    size_t nt = focal_model_num_tensors(m), nparam_tensors = 0, total = 0;
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role != FOCAL_TENSOR_BUFFER) {
            nparam_tensors++;
            total += ti.numel;
        }
    }
    CHECKF(nparam_tensors == (size_t)r->ntensors, "model has %zu parameter tensors, reference %d",
           nparam_tensors, r->ntensors);
    CHECKF(total == r->nvalues && focal_model_num_params(m) == r->nvalues,
           "model has %zu parameters, reference %zu", focal_model_num_params(m), r->nvalues);
    for (int k = 0; k < r->ntensors; k++) {
        const struct ref_tensor *rt = &r->tensors[k];
        int found = 0;
        for (size_t i = 0; i < nt && !found; i++) {
            struct focal_tensor_info ti;
            focal_model_tensor(m, i, &ti);
            if (strcmp(ti.name, rt->name) != 0)
                continue;
            found = 1;
            CHECKF(ti.numel == rt->numel, "%s: numel %zu, reference %zu", rt->name, ti.numel, rt->numel);
            CHECKF(ti.role == (rt->decay ? FOCAL_TENSOR_WEIGHT : FOCAL_TENSOR_NO_DECAY),
                   "%s: role %d does not match the reference's decay=%d", rt->name, (int)ti.role, rt->decay);
            CHECKF(ti.grad != NULL, "%s: no gradient", rt->name);
            if (ti.numel != rt->numel || !ti.grad)
                ok = 0;
            b->data[k] = ti.data;
            b->grad[k] = ti.grad;
        }
        CHECKF(found, "model has no tensor named %s", rt->name);
        ok &= found;
    }
    return ok && nparam_tensors == (size_t)r->ntensors && total == r->nvalues;
}

/* Copies the concatenated values v into the tensors (dst: data or grad). */
static void scatter(float *const *dst, const struct reference *r, const float *v)
{
    size_t off = 0;
    for (int k = 0; k < r->ntensors; k++) {
        memcpy(dst[k], v + off, r->tensors[k].numel * sizeof *v);
        off += r->tensors[k].numel;
    }
}

/* Sets every buffer tensor (running statistics) of m to recognisable values. */
static void fill_buffers(struct focal_model *m)
{
    size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            for (size_t j = 0; j < ti.numel; j++)
                ti.data[j] = 0.25f + 0.125f * (float)j;
    }
}

/* 1 if every buffer tensor still holds fill_buffers' values. */
static int buffers_intact(struct focal_model *m)
{
    size_t nt = focal_model_num_tensors(m);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            for (size_t j = 0; j < ti.numel; j++)
                if (ti.data[j] != 0.25f + 0.125f * (float)j)
                    return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Reference comparison                                                     */
/* ------------------------------------------------------------------------ */

/* The worst parameter error seen, relative to the tolerance. */
struct worst {
    double excess;                    /* |a − r| / (atol + rtol·|r|); <= 1 passes */
    double abs_err, rel_err, a, r;
    char where[160];
};

/* Records a (computed) against r (reference) in *w if it is the worst so far. */
static void note_error(struct worst *w, double a, double r, const char *fmt_case, int step, const char *tensor,
                       size_t idx)
{
    double err = fabs(a - r);
    double excess = err / (P_ATOL + P_RTOL * fabs(r));
    if (isnan(a))
        excess = INFINITY;
    if (excess > w->excess || w->where[0] == '\0') {
        w->excess = excess;
        w->abs_err = err;
        w->rel_err = r != 0 ? err / fabs(r) : err;
        w->a = a;
        w->r = r;
        snprintf(w->where, sizeof w->where, "case %s step %d %s[%zu]", fmt_case, step, tensor, idx);
    }
}

/* Replays every reference case on the network and compares lr, gradient
 * norm and parameters after every step; also checks that the gradient and
 * the buffer tensors are left alone. Prints the worst parameter error. */
static void test_reference(const struct reference *r)
{
    struct focal_model *m = NULL;
    focal_status st = focal_model_create(&m, NET_DESC, "test", NET_C, NET_H, NET_W, NET_CLASSES,
                                         FOCAL_HEAD_SIGMOID, 1);
    CHECKF(st == FOCAL_OK, "focal_model_create: %s", focal_last_error());
    if (st != FOCAL_OK)
        return;
    struct binding b;
    memset(&b, 0, sizeof b);
    if (!bind_tensors(m, r, &b)) {
        focal_model_free(m);
        return;
    }
    float *gcopy = malloc(r->nvalues * sizeof *gcopy);
    CHECK(gcopy != NULL);
    struct worst all;
    memset(&all, 0, sizeof all);
    double worst_norm = 0, worst_lr = 0;
    for (int c = 0; c < r->ncases && gcopy; c++) {
        const struct ref_case *rc = &r->cases[c];
        scatter(b.data, r, r->init);
        fill_buffers(m);
        struct focal_optim *o = NULL;
        st = focal_optim_create(&o, &rc->cfg, m);
        CHECKF(st == FOCAL_OK, "case %s: focal_optim_create: %s", rc->name, focal_last_error());
        if (st != FOCAL_OK)
            continue;
        struct worst w;
        memset(&w, 0, sizeof w);
        for (int s = 0; s < rc->nsteps; s++) {
            const struct ref_step *rs = &rc->steps[s];
            scatter(b.grad, r, r->grads[s]);
            memcpy(gcopy, focal_model_grads(m), r->nvalues * sizeof *gcopy);
            double lr = focal_optim_lr(o);
            CHECKF(check_close(lr, rs->lr, 1e-14, 0), "case %s step %d: lr %.17g, reference %.17g",
                   rc->name, s, lr, rs->lr);
            if (fabs(lr - rs->lr) / rs->lr > worst_lr)
                worst_lr = fabs(lr - rs->lr) / rs->lr;
            double norm = -1;
            st = focal_optim_step(o, &norm);
            CHECKF(st == FOCAL_OK, "case %s step %d: %s", rc->name, s, focal_last_error());
            CHECKF(check_close(norm, rs->norm, 1e-12, 0), "case %s step %d: grad norm %.17g, reference %.17g",
                   rc->name, s, norm, rs->norm);
            if (fabs(norm - rs->norm) / rs->norm > worst_norm)
                worst_norm = fabs(norm - rs->norm) / rs->norm;
            CHECKF(memcmp(gcopy, focal_model_grads(m), r->nvalues * sizeof *gcopy) == 0,
                   "case %s step %d: the gradient buffer was modified", rc->name, s);
            CHECK(focal_optim_steps(o) == s + 1);
            size_t off = 0;
            for (int k = 0; k < r->ntensors; k++) {
                for (size_t j = 0; j < r->tensors[k].numel; j++)
                    note_error(&w, b.data[k][j], rs->params[off + j], rc->name, s, r->tensors[k].name, j);
                off += r->tensors[k].numel;
            }
        }
        CHECKF(w.excess <= 1.0, "case %s: worst parameter %s = %.9g, reference %.9g (abs %.3g, rel %.3g)",
               rc->name, w.where, w.a, w.r, w.abs_err, w.rel_err);
        CHECKF(buffers_intact(m), "case %s: the optimiser changed a buffer tensor", rc->name);
        if (w.excess > all.excess || all.where[0] == '\0')
            all = w;
        focal_optim_free(o);
    }
    printf("%s: %d cases vs PyTorch: worst parameter %s: %.9g vs %.9g, abs %.3g, rel %.3g "
           "(%.3g of the tolerance); worst lr rel %.3g, worst norm rel %.3g\n",
           TEST_NAME, r->ncases, all.where, all.a, all.r, all.abs_err, all.rel_err, all.excess, worst_lr,
           worst_norm);
    free(gcopy);
    focal_model_free(m);
}

/* ------------------------------------------------------------------------ */
/* Defaults and configuration checks                                        */
/* ------------------------------------------------------------------------ */

/* focal_optim_defaults gives torch's defaults, as the reference file records them. */
static void test_defaults(const struct reference *r)
{
    struct focal_optim_config c;
    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    CHECK(c.kind == FOCAL_OPTIM_SGD);
    CHECK(c.lr == 0.01);
    CHECK(c.momentum == r->sgd_momentum);
    CHECK(c.nesterov == r->sgd_nesterov);
    CHECK(c.weight_decay == r->sgd_weight_decay);
    CHECK(r->sgd_dampening == 0.0);   /* the library has no dampening: torch's default */
    const enum focal_optim_kind kinds[2] = { FOCAL_OPTIM_ADAM, FOCAL_OPTIM_ADAMW };
    for (int i = 0; i < 2; i++) {
        focal_optim_defaults(&c, kinds[i]);
        CHECK(c.kind == kinds[i]);
        CHECKF(c.lr == r->adam_lr[i], "%s: lr %g, torch %g", i ? "adamw" : "adam", c.lr, r->adam_lr[i]);
        CHECK(c.beta1 == r->adam_beta1[i]);
        CHECK(c.beta2 == r->adam_beta2[i]);
        CHECK(c.eps == r->adam_eps[i]);
        CHECKF(c.weight_decay == r->adam_wd[i], "%s: weight_decay %g, torch %g", i ? "adamw" : "adam",
               c.weight_decay, r->adam_wd[i]);
    }
    const enum focal_optim_kind all3[3] = { FOCAL_OPTIM_SGD, FOCAL_OPTIM_ADAM, FOCAL_OPTIM_ADAMW };
    for (int i = 0; i < 3; i++) {
        focal_optim_defaults(&c, all3[i]);
        CHECK(c.schedule == FOCAL_SCHED_CONSTANT);
        CHECK(c.warmup_steps == 0);
        CHECK(c.clip_norm <= 0);
        CHECK(c.decay_all == 0);
        CHECK(c.nesterov == 0);
    }
}

/* A configuration change and the text its error message must contain. */
struct bad_config {
    enum focal_optim_kind kind;
    const char *field;          /* must appear in the message */
    const char *range;          /* must appear in the message too */
    void (*apply)(struct focal_optim_config *c);
};

/* Mutations of a default configuration, one invalid field each. */
static void bad_lr_zero(struct focal_optim_config *c) { c->lr = 0; }
static void bad_lr_neg(struct focal_optim_config *c) { c->lr = -0.1; }
static void bad_lr_nan(struct focal_optim_config *c) { c->lr = NAN; }
static void bad_lr_inf(struct focal_optim_config *c) { c->lr = INFINITY; }
static void bad_momentum_one(struct focal_optim_config *c) { c->momentum = 1.0; }
static void bad_momentum_neg(struct focal_optim_config *c) { c->momentum = -0.5; }
static void bad_nesterov_no_momentum(struct focal_optim_config *c) { c->nesterov = 1; }
static void bad_nesterov_two(struct focal_optim_config *c) { c->momentum = 0.9; c->nesterov = 2; }
static void bad_wd_neg(struct focal_optim_config *c) { c->weight_decay = -1e-4; }
static void bad_wd_nan(struct focal_optim_config *c) { c->weight_decay = NAN; }
static void bad_beta1(struct focal_optim_config *c) { c->beta1 = 1.0; }
static void bad_beta2(struct focal_optim_config *c) { c->beta2 = -0.1; }
static void bad_eps(struct focal_optim_config *c) { c->eps = 0; }
static void bad_step_size(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_STEP; c->step_size = 0; }
static void bad_step_gamma(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_STEP; c->step_gamma = 0; }
static void bad_step_gamma_big(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_STEP; c->step_gamma = 1.5; }
static void bad_total(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_COSINE; c->total_steps = 0; }
static void bad_min_lr(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_COSINE; c->total_steps = 10; c->min_lr = 1.0; }
static void bad_min_lr_neg(struct focal_optim_config *c) { c->schedule = FOCAL_SCHED_COSINE; c->total_steps = 10; c->min_lr = -1e-3; }
static void bad_warmup(struct focal_optim_config *c) { c->warmup_steps = -1; }
static void bad_clip(struct focal_optim_config *c) { c->clip_norm = NAN; }
static void bad_decay_all(struct focal_optim_config *c) { c->decay_all = 2; }
static void bad_kind(struct focal_optim_config *c) { c->kind = (enum focal_optim_kind)7; }
static void bad_schedule(struct focal_optim_config *c) { c->schedule = (enum focal_schedule)9; }

/* Every invalid field fails creation with FOCAL_ERR_ARG, *o = NULL and a
 * message naming the field and the valid range; unused fields are ignored. */
static void test_validation(struct focal_model *m)
{
    static const struct bad_config bad[] = {
        { FOCAL_OPTIM_SGD, "lr", "> 0", bad_lr_zero },
        { FOCAL_OPTIM_ADAM, "lr", "> 0", bad_lr_neg },
        { FOCAL_OPTIM_ADAMW, "lr", "finite", bad_lr_nan },
        { FOCAL_OPTIM_SGD, "lr", "finite", bad_lr_inf },
        { FOCAL_OPTIM_SGD, "momentum", "[0, 1)", bad_momentum_one },
        { FOCAL_OPTIM_SGD, "momentum", "[0, 1)", bad_momentum_neg },
        { FOCAL_OPTIM_SGD, "nesterov", "momentum > 0", bad_nesterov_no_momentum },
        { FOCAL_OPTIM_SGD, "nesterov", "0 or 1", bad_nesterov_two },
        { FOCAL_OPTIM_SGD, "weight_decay", ">= 0", bad_wd_neg },
        { FOCAL_OPTIM_ADAMW, "weight_decay", ">= 0", bad_wd_nan },
        { FOCAL_OPTIM_ADAM, "beta1", "[0, 1)", bad_beta1 },
        { FOCAL_OPTIM_ADAMW, "beta2", "[0, 1)", bad_beta2 },
        { FOCAL_OPTIM_ADAM, "eps", "> 0", bad_eps },
        { FOCAL_OPTIM_SGD, "step_size", ">= 1", bad_step_size },
        { FOCAL_OPTIM_SGD, "step_gamma", "(0, 1]", bad_step_gamma },
        { FOCAL_OPTIM_ADAM, "step_gamma", "(0, 1]", bad_step_gamma_big },
        { FOCAL_OPTIM_ADAM, "total_steps", ">= 1", bad_total },
        { FOCAL_OPTIM_SGD, "min_lr", "[0, lr", bad_min_lr },
        { FOCAL_OPTIM_ADAMW, "min_lr", "[0, lr", bad_min_lr_neg },
        { FOCAL_OPTIM_SGD, "warmup_steps", ">= 0", bad_warmup },
        { FOCAL_OPTIM_ADAM, "clip_norm", "finite", bad_clip },
        { FOCAL_OPTIM_SGD, "decay_all", "0 or 1", bad_decay_all },
        { FOCAL_OPTIM_SGD, "kind", "AdamW", bad_kind },
        { FOCAL_OPTIM_SGD, "schedule", "cosine", bad_schedule },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct focal_optim_config c;
        focal_optim_defaults(&c, bad[i].kind);
        bad[i].apply(&c);
        struct focal_optim *o = (struct focal_optim *)&c;   /* must be reset to NULL */
        focal_status st = focal_optim_create(&o, &c, m);
        const char *msg = focal_last_error();
        CHECKF(st == FOCAL_ERR_ARG, "bad %s (case %zu): status %d", bad[i].field, i, (int)st);
        CHECKF(o == NULL, "bad %s (case %zu): *o not NULL", bad[i].field, i);
        CHECKF(strstr(msg, bad[i].field) != NULL && strstr(msg, bad[i].range) != NULL,
               "bad %s (case %zu): message '%s' lacks '%s' or '%s'", bad[i].field, i, msg, bad[i].field,
               bad[i].range);
        if (st == FOCAL_OK)
            focal_optim_free(o);
    }
    /* Fields a kind does not use are not checked, and valid edge values pass. */
    struct focal_optim_config c;
    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    c.beta1 = 7;
    c.eps = -1;
    c.momentum = 0.999;
    c.nesterov = 1;
    c.clip_norm = -1;
    struct focal_optim *o = NULL;
    CHECKF(focal_optim_create(&o, &c, m) == FOCAL_OK, "%s", focal_last_error());
    focal_optim_free(o);
    focal_optim_defaults(&c, FOCAL_OPTIM_ADAM);
    c.momentum = 5;
    c.beta1 = 0;
    c.schedule = FOCAL_SCHED_COSINE;
    c.total_steps = 1;
    c.min_lr = c.lr;
    o = NULL;
    CHECKF(focal_optim_create(&o, &c, m) == FOCAL_OK, "%s", focal_last_error());
    focal_optim_free(o);
    focal_optim_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Schedules, clipping, decay mask, non-finite gradients, threads           */
/* ------------------------------------------------------------------------ */

/* Steps o n times with zero gradients and checks the rate before each step
 * against expect(t). */
static void check_rates(struct focal_model *m, const struct focal_optim_config *c, int n,
                        double (*expect)(long t), const char *what)
{
    struct focal_optim *o = NULL;
    focal_status st = focal_optim_create(&o, c, m);
    CHECKF(st == FOCAL_OK, "%s: %s", what, focal_last_error());
    if (st != FOCAL_OK)
        return;
    focal_model_zero_grad(m);
    for (long t = 0; t < n; t++) {
        double lr = focal_optim_lr(o), e = expect(t);
        CHECKF(check_close(lr, e, 1e-14, 1e-17), "%s: step %ld: lr %.17g, expected %.17g", what, t, lr, e);
        CHECK(focal_optim_steps(o) == t);
        CHECK(focal_optim_step(o, NULL) == FOCAL_OK);
    }
    CHECK(focal_optim_steps(o) == n);
    focal_optim_free(o);
}

/* Expected rates of the schedules test_schedules configures. */
static double rate_step(long t) { return 0.1 * pow(0.5, (double)(t / 3)); }
static double rate_cosine(long t)
{
    /* The end points and the midpoint written out, the rest from the formula. */
    if (t == 0)
        return 0.1;
    if (t == 5)
        return 0.055;
    if (t == 10)
        return 0.01;
    return 0.01 + 0.09 * (1 + cos(3.14159265358979323846 * (double)t / 10.0)) / 2;
}
static double rate_warmup(long t) { return t < 4 ? 0.2 * (double)(t + 1) / 4.0 : 0.2; }
static double rate_cosine_warmup(long t)
{
    double lr = 0.001 * (1 + cos(3.14159265358979323846 * (double)t / 8.0)) / 2;
    return t < 3 ? lr * (double)(t + 1) / 3.0 : lr;
}

/* Step, cosine and warm-up rates, alone and combined. */
static void test_schedules(struct focal_model *m)
{
    struct focal_optim_config c;
    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    c.lr = 0.1;
    c.schedule = FOCAL_SCHED_STEP;
    c.step_size = 3;
    c.step_gamma = 0.5;
    check_rates(m, &c, 10, rate_step, "step schedule");

    focal_optim_defaults(&c, FOCAL_OPTIM_ADAM);
    c.lr = 0.1;
    c.schedule = FOCAL_SCHED_COSINE;
    c.total_steps = 10;
    c.min_lr = 0.01;
    check_rates(m, &c, 11, rate_cosine, "cosine schedule");

    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    c.lr = 0.2;
    c.warmup_steps = 4;
    check_rates(m, &c, 7, rate_warmup, "warm-up");

    focal_optim_defaults(&c, FOCAL_OPTIM_ADAMW);
    c.schedule = FOCAL_SCHED_COSINE;
    c.total_steps = 8;
    c.warmup_steps = 3;
    check_rates(m, &c, 9, rate_cosine_warmup, "cosine with warm-up");
}

/* A gradient of norm 5: clipping to 1 scales the SGD step by 1/(5 + 1e-6);
 * a clip of 5 leaves it alone; the gradient buffer is not modified. */
static void test_clipping(struct focal_model *m)
{
    const size_t n = focal_model_num_params(m);
    float *p = focal_model_params(m), *g = focal_model_grads(m);
    float *p0 = malloc(n * sizeof *p0);
    CHECK(p0 != NULL);
    if (!p0)
        return;
    for (size_t i = 0; i < n; i++)
        p[i] = 0.5f - 0.01f * (float)i;
    memcpy(p0, p, n * sizeof *p0);
    focal_model_zero_grad(m);
    g[1] = 3.0f;
    g[n - 1] = -4.0f;   /* norm exactly 5 */

    for (int clip_on = 0; clip_on < 2; clip_on++) {
        memcpy(p, p0, n * sizeof *p);
        struct focal_optim_config c;
        focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
        c.lr = 1.0;
        c.clip_norm = clip_on ? 1.0 : 5.0;   /* 5: the norm is not above it, no clipping */
        struct focal_optim *o = NULL;
        CHECK(focal_optim_create(&o, &c, m) == FOCAL_OK);
        if (!o)
            continue;
        double norm = 0;
        CHECK(focal_optim_step(o, &norm) == FOCAL_OK);
        CHECKF(norm == 5.0, "grad norm %.17g, expected 5", norm);
        const float scale = clip_on ? (float)(1.0 / (5.0 + 1e-6)) : 1.0f;
        CHECKF(check_close(p0[1] - p[1], 3.0 * scale, 1e-6, 0), "clip %d: step %.9g, expected %.9g", clip_on,
               (double)(p0[1] - p[1]), 3.0 * scale);
        CHECKF(check_close(p0[n - 1] - p[n - 1], -4.0 * scale, 1e-6, 0), "clip %d: step %.9g, expected %.9g",
               clip_on, (double)(p0[n - 1] - p[n - 1]), -4.0 * scale);
        CHECK(p[0] == p0[0] && p[2] == p0[2]);
        CHECK(g[1] == 3.0f && g[n - 1] == -4.0f);   /* the gradient buffer is not scaled */
        focal_optim_free(o);
    }
    memcpy(p, p0, n * sizeof *p);
    free(p0);
}

/* The decay mask follows the tensor roles, and decay_all extends it. */
static void test_decay_mask(struct focal_model *m)
{
    for (int all = 0; all < 2; all++) {
        struct focal_optim_config c;
        focal_optim_defaults(&c, FOCAL_OPTIM_ADAMW);
        c.decay_all = all;
        struct focal_optim *o = NULL;
        CHECK(focal_optim_create(&o, &c, m) == FOCAL_OK);
        if (!o)
            continue;
        const float *params = focal_model_params(m);
        size_t nt = focal_model_num_tensors(m), covered = 0;
        for (size_t i = 0; i < nt; i++) {
            struct focal_tensor_info ti;
            focal_model_tensor(m, i, &ti);
            if (ti.role == FOCAL_TENSOR_BUFFER) {
                CHECKF(ti.data < params || ti.data >= params + o->n, "%s: buffer inside the parameters", ti.name);
                continue;
            }
            int want = ti.role == FOCAL_TENSOR_WEIGHT || all;
            size_t off = (size_t)(ti.data - params);
            for (size_t j = 0; j < ti.numel; j++)
                CHECKF(o->decay[off + j] == want, "%s[%zu]: decay %d, expected %d", ti.name, j, o->decay[off + j],
                       want);
            covered += ti.numel;
        }
        CHECK(covered == o->n);
        CHECK(o->buf1 != NULL && o->buf2 != NULL);
        focal_optim_free(o);
    }
    /* SGD without momentum keeps no state. */
    struct focal_optim_config c;
    focal_optim_defaults(&c, FOCAL_OPTIM_SGD);
    struct focal_optim *o = NULL;
    CHECK(focal_optim_create(&o, &c, m) == FOCAL_OK);
    if (o)
        CHECK(o->buf1 == NULL && o->buf2 == NULL);
    focal_optim_free(o);
}

/* A NaN or Inf gradient fails the step with FOCAL_ERR_NUMERIC and leaves
 * parameters, state and step count unchanged; the next finite step works. */
static void test_nonfinite(struct focal_model *m)
{
    const size_t n = focal_model_num_params(m);
    float *p = focal_model_params(m), *g = focal_model_grads(m);
    float *save = malloc(3 * n * sizeof *save);
    CHECK(save != NULL);
    if (!save)
        return;
    const enum focal_optim_kind kinds[2] = { FOCAL_OPTIM_SGD, FOCAL_OPTIM_ADAM };
    for (int k = 0; k < 2; k++) {
        struct focal_optim_config c;
        focal_optim_defaults(&c, kinds[k]);
        c.momentum = kinds[k] == FOCAL_OPTIM_SGD ? 0.9 : 0.0;
        c.clip_norm = 1.0;
        struct focal_optim *o = NULL;
        CHECK(focal_optim_create(&o, &c, m) == FOCAL_OK);
        if (!o)
            continue;
        for (size_t i = 0; i < n; i++)
            g[i] = 0.1f * (float)((int)(i % 7) - 3);
        CHECK(focal_optim_step(o, NULL) == FOCAL_OK);
        const float bad[2] = { NAN, -INFINITY };
        for (int b = 0; b < 2; b++) {
            memcpy(save, p, n * sizeof *p);
            memcpy(save + n, o->buf1, n * sizeof *p);
            if (o->buf2)
                memcpy(save + 2 * n, o->buf2, n * sizeof *p);
            g[n - 2] = bad[b];
            double norm = 0;
            focal_status st = focal_optim_step(o, &norm);
            CHECKF(st == FOCAL_ERR_NUMERIC, "kind %d: status %d for a %g gradient", (int)kinds[k], (int)st,
                   (double)bad[b]);
            CHECK(!isfinite(norm));
            CHECK(memcmp(save, p, n * sizeof *p) == 0);
            CHECK(memcmp(save + n, o->buf1, n * sizeof *p) == 0);
            if (o->buf2)
                CHECK(memcmp(save + 2 * n, o->buf2, n * sizeof *p) == 0);
            CHECK(focal_optim_steps(o) == 1);
            /* the message names the tensor holding the element: the last one's [0] */
            const char *msg = focal_last_error();
            CHECKF(strstr(msg, "gradient") && strstr(msg, "[0]") && strstr(msg, "unchanged"),
                   "message '%s'", msg);
        }
        g[n - 2] = 0.5f;
        CHECK(focal_optim_step(o, NULL) == FOCAL_OK);
        CHECK(focal_optim_steps(o) == 2);
        focal_optim_free(o);
    }
    free(save);
}

/* A few Adam and SGD steps on a model with enough parameters for the parallel
 * loops give bit-identical parameters and norms with 1 and 4 threads. */
static void test_threads(void)
{
    struct focal_model *m = NULL;
    focal_status st = focal_model_create(&m, "flatten\ndense 64\ndense classes\n", "test", 1, 32, 32, 3,
                                         FOCAL_HEAD_SOFTMAX, 1);
    CHECKF(st == FOCAL_OK, "%s", focal_last_error());
    if (st != FOCAL_OK)
        return;
    const size_t n = focal_model_num_params(m);
    CHECKF(n > ((size_t)1 << 16), "only %zu parameters", n);
    float *out[2] = { malloc(n * sizeof(float)), malloc(n * sizeof(float)) };
    double norms[2][6];
    CHECK(out[0] && out[1]);
    const int saved = focal_get_threads();
    for (int run = 0; run < 2 && out[0] && out[1]; run++) {
        focal_set_threads(run ? 4 : 1);
        float *p = focal_model_params(m), *g = focal_model_grads(m);
        uint64_t s = 12345;
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            p[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5);
        }
        const enum focal_optim_kind kinds[2] = { FOCAL_OPTIM_ADAMW, FOCAL_OPTIM_SGD };
        for (int k = 0; k < 2; k++) {
            struct focal_optim_config c;
            focal_optim_defaults(&c, kinds[k]);
            c.momentum = kinds[k] == FOCAL_OPTIM_SGD ? 0.9 : 0.0;
            c.nesterov = kinds[k] == FOCAL_OPTIM_SGD;
            c.weight_decay = 0.01;
            c.clip_norm = 10.0;
            struct focal_optim *o = NULL;
            CHECK(focal_optim_create(&o, &c, m) == FOCAL_OK);
            if (!o)
                continue;
            for (int t = 0; t < 3; t++) {
                for (size_t i = 0; i < n; i++) {
                    s = s * 6364136223846793005ull + 1442695040888963407ull;
                    g[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5) * (t == 1 ? 0.01f : 1.0f);
                }
                CHECK(focal_optim_step(o, &norms[run][k * 3 + t]) == FOCAL_OK);
            }
            focal_optim_free(o);
        }
        memcpy(out[run], p, n * sizeof(float));
    }
    focal_set_threads(saved);
    if (out[0] && out[1]) {
        CHECK(memcmp(out[0], out[1], n * sizeof(float)) == 0);
        CHECK(memcmp(norms[0], norms[1], sizeof norms[0]) == 0);
    }
    free(out[0]);
    free(out[1]);
    focal_model_free(m);
}

/* Every optimiser and schedule name parses back to its value; an unknown
 * name is refused with a message listing the valid ones. */
static void test_names(void)
{
    for (int k = FOCAL_OPTIM_SGD; k <= FOCAL_OPTIM_ADAMW; k++) {
        enum focal_optim_kind back = (enum focal_optim_kind)-1;
        CHECK(focal_optim_kind_parse(focal_optim_kind_name((enum focal_optim_kind)k), &back) == FOCAL_OK);
        CHECK(back == (enum focal_optim_kind)k);
    }
    for (int k = FOCAL_SCHED_CONSTANT; k <= FOCAL_SCHED_COSINE; k++) {
        enum focal_schedule back = (enum focal_schedule)-1;
        CHECK(focal_schedule_parse(focal_schedule_name((enum focal_schedule)k), &back) == FOCAL_OK);
        CHECK(back == (enum focal_schedule)k);
    }
    enum focal_optim_kind k = FOCAL_OPTIM_ADAM;
    CHECK(focal_optim_kind_parse("rmsprop", &k) == FOCAL_ERR_ARG && k == FOCAL_OPTIM_ADAM);
    CHECKF(strstr(focal_last_error(), "expected one of sgd, adam, adamw") != NULL, "%s", focal_last_error());
    enum focal_schedule sc = FOCAL_SCHED_STEP;
    CHECK(focal_schedule_parse("linear", &sc) == FOCAL_ERR_ARG && sc == FOCAL_SCHED_STEP);
    CHECKF(strstr(focal_last_error(), "expected one of constant, step, cosine") != NULL, "%s", focal_last_error());
    CHECK(strcmp(focal_optim_kind_name((enum focal_optim_kind)7), "unknown") == 0);
}

int main(void)
{
    const char *src = check_source_dir(TEST_NAME);
    if (!src)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, REF_REL_PATH);
    struct reference r;
    int have_ref = reference_read(&r, path);
    CHECKF(have_ref, "cannot read %s", path);
    if (have_ref) {
        test_defaults(&r);
        test_reference(&r);
        reference_free(&r);
    }

    struct focal_model *m = NULL;
    focal_status st = focal_model_create(&m, NET_DESC, "test", NET_C, NET_H, NET_W, NET_CLASSES,
                                         FOCAL_HEAD_SIGMOID, 1);
    CHECKF(st == FOCAL_OK, "focal_model_create: %s", focal_last_error());
    if (st == FOCAL_OK) {
        test_validation(m);
        test_schedules(m);
        test_clipping(m);
        test_decay_mask(m);
        test_nonfinite(m);
        focal_model_free(m);
    }
    test_threads();
    test_names();
    return check_done(TEST_NAME);
}
