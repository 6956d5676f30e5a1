/* test_train_reference.c — runs a few training steps of small networks and
 * compares every intermediate quantity with PyTorch, step by step: the
 * training-mode logits, the loss, the gradient of every parameter, the
 * batch-norm running statistics after each step, and the parameters after the
 * last step, once with SGD (momentum, weight decay on weights only) and once
 * with Adam, both from the same initial tensors.
 *
 * The references tests/fixtures/train_reference_<net>.safetensors are written by
 * tools/gen_train_reference.py (which documents their layout); the network
 * description, input shape, loss and optimiser settings are taken from each
 * file's metadata, so the test holds no copy of them. Tensors are matched by
 * name (PyTorch state_dict names, as focal_model_tensor reports them); a name
 * or shape present on one side only fails the file with a message naming it.
 *
 * The explicit sequence forward → loss → zero_grad → backward → optimiser
 * step is used instead of focal_train_step so that a difference is pinned to
 * one layer's gradient or to the update rule. The worst difference of each
 * quantity is printed for every step.
 *
 * Needs FOCAL_SOURCE_DIR (set by CTest) to find the files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "nn/safetensors.h"

#define TEST_NAME "test_train_reference"

/* |engine − reference| <= atol + rtol·|reference| per element. For
 * gradients atol is the smaller of GRAD_ATOL and GRAD_ATOL_SCALE × the
 * tensor's largest reference magnitude: gradients of a mean-reduced loss are
 * ~1e-3, where a fixed absolute bound would hide a lot. PyTorch's own float32
 * values are within ~3e-6 (relative to each quantity's largest value) of
 * float64 (the files' "noise.*" metadata), and a correct engine is as close:
 * worst seen logits 6.6e-7, loss 9e-8, gradients 5.5e-6 of the tensor's
 * maximum, running statistics 3.6e-7, parameters after the last step 3.7e-7.
 * The bounds below leave a margin of about 10 over that for other summation
 * orders (BLAS kernels, instruction sets, thread counts), except for the
 * final parameters, whose bound is kept tight enough to see SGD's weight
 * decay: leaving it out, or applying it to biases and batch-norm parameters
 * too, moves them by 1.6e-5 and 9e-5, 3.6 and 5.8 times the bound. */
#define LOGIT_RTOL 1e-5
#define LOGIT_ATOL 5e-6
#define LOSS_RTOL 1e-5
#define LOSS_ATOL 1e-7
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-6
#define GRAD_ATOL_SCALE 1e-4   /* × max |reference| of the tensor */
#define STAT_RTOL 1e-5
#define STAT_ATOL 1e-6
#define PARAM_RTOL 1e-5
#define PARAM_ATOL 2e-6

static const char *const nets[] = { "cnn_sigmoid", "resnet_softmax" };

/* The worst difference seen over some set of elements. */
struct worst {
    double abs;          /* max |a − r| */
    double norm;         /* max |a − r| / max |r| over one tensor */
    double ratio;        /* max |a − r| / tolerance: > 1 is a failure */
    char where[128];     /* tensor (and element) of the worst ratio */
};

static void worst_merge(struct worst *into, const struct worst *w)
{
    if (w->abs > into->abs) into->abs = w->abs;
    if (w->norm > into->norm) into->norm = w->norm;
    if (w->ratio > into->ratio || into->where[0] == '\0') {
        into->ratio = w->ratio;
        memcpy(into->where, w->where, sizeof into->where);
    }
}

/* Compares n engine values a with reference values r, records the worst
 * differences in *w (merged), and reports every element out of tolerance
 * (the first few of each tensor in full). Returns the number of failures. */
static size_t compare(const char *ctx, const char *what, const float *a, const float *r, size_t n,
                      double rtol, double atol, double atol_scale, struct worst *w)
{
    double rmax = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(r[i]) > rmax) rmax = fabs(r[i]);
    if (atol_scale > 0 && atol_scale * rmax < atol) atol = atol_scale * rmax;
    if (atol < 1e-9) atol = 1e-9;

    struct worst t = { 0 };
    size_t bad = 0, worst_i = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)r[i]);
        double tol = atol + rtol * fabs(r[i]);
        if (!(d <= tol)) {                  /* NaN counts as a failure */
            if (bad < 3)
                fprintf(stderr, "%s: %s[%zu]: engine %.9g, reference %.9g (|diff| %.3g > tol %.3g)\n",
                        ctx, what, i, (double)a[i], (double)r[i], d, tol);
            bad++;
            if (isnan(d)) d = INFINITY;
        }
        if (d > t.abs) t.abs = d;
        if (d / tol > t.ratio) {
            t.ratio = d / tol;
            worst_i = i;
        }
    }
    if (bad > 3) fprintf(stderr, "%s: %s: %zu of %zu elements out of tolerance\n", ctx, what, bad, n);
    t.norm = rmax > 0 ? t.abs / rmax : t.abs;
    snprintf(t.where, sizeof t.where, "%s[%zu]", what, worst_i);
    worst_merge(w, &t);
    check_count++;
    if (bad) check_failed++;
    return bad;
}

static size_t dtype_size(enum focal_st_dtype dt)
{
    return dt == FOCAL_ST_F64 || dt == FOCAL_ST_I64 ? 8 : dt == FOCAL_ST_U8 ? 1 : 4;
}

/* Copies the reference tensor `name` (dtype dt, numel elements) into out.
 * Fails the check, naming the tensor, if it is missing or differs. */
static int ref_get(const struct focal_st *st, const char *file, const char *name, enum focal_st_dtype dt,
                   size_t numel, void *out)
{
    const struct focal_st_tensor *t = focal_st_find(st, name);
    CHECKF(t != NULL, "%s: reference tensor '%s' is missing", file, name);
    if (!t) return -1;
    CHECKF(t->dtype == dt && t->numel == numel, "%s: reference tensor '%s' has dtype %d and %zu elements; "
           "expected dtype %d and %zu", file, name, (int)t->dtype, t->numel, (int)dt, numel);
    if (t->dtype != dt || t->numel != numel) return -1;
    memcpy(out, t->data, numel * dtype_size(dt));
    return 0;
}

static const char *meta_req(const struct focal_st *st, const char *file, const char *key)
{
    const char *v = focal_st_meta(st, key);
    CHECKF(v != NULL, "%s: metadata '%s' is missing", file, key);
    return v;
}

/* An informational metadata value, "?" if absent. */
static const char *meta_or(const struct focal_st *st, const char *key)
{
    const char *v = focal_st_meta(st, key);
    return v ? v : "?";
}

/* Parses a metadata number; NAN (and a failed check) if absent or malformed. */
static double meta_num(const struct focal_st *st, const char *file, const char *key)
{
    const char *v = meta_req(st, file, key);
    if (!v) return NAN;
    char *end;
    double x = strtod(v, &end);
    CHECKF(end != v && *end == '\0', "%s: metadata '%s' = '%s' is not a number", file, key, v);
    return end != v && *end == '\0' ? x : NAN;
}

/* A metadata integer in [lo, hi]; lo − 1 (and a failed check) otherwise. */
static int meta_int(const struct focal_st *st, const char *file, const char *key, int lo, int hi)
{
    double x = meta_num(st, file, key);
    int ok = x >= lo && x <= hi && x == floor(x);
    CHECKF(ok || isnan(x), "%s: metadata '%s' = %g; expected an integer in [%d, %d]", file, key, x, lo, hi);
    return ok ? (int)x : lo - 1;
}

/* 1 if name is an element of the comma-separated list. */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && strncmp(p, name, len) == 0) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* Matches the model's tensors with the file's "init/" tensors one to one
 * (name, shape, role) and loads their values. Returns 0 on success. */
static int load_init(struct focal_model *m, const struct focal_st *st, const char *file, const char *no_decay,
                     int verify)
{
    size_t nt = focal_model_num_tensors(m), n_init = 0;
    int ok = 1;
    char name[256];
    for (size_t i = 0; i < st->n; i++)
        if (strncmp(st->t[i].name, "init/", 5) == 0) n_init++;
    if (verify)
        CHECKF(n_init == nt, "%s: the model has %zu tensors, the reference %zu", file, nt, n_init);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        snprintf(name, sizeof name, "init/%s", ti.name);
        const struct focal_st_tensor *t = focal_st_find(st, name);
        if (verify) {
            CHECKF(t != NULL, "%s: the model's tensor '%s' has no reference (no '%s')", file, ti.name, name);
            if (!t) {
                ok = 0;
                continue;
            }
            int same = t->ndim == ti.ndim && t->numel == ti.numel && t->dtype == FOCAL_ST_F32;
            for (int d = 0; same && d < ti.ndim; d++) same = t->shape[d] == ti.shape[d];
            CHECKF(same, "%s: tensor '%s': model shape %dd [%d,%d,%d,%d] (%zu), reference %dd [%lld,%lld,%lld,%lld] (%zu)",
                   file, ti.name, ti.ndim, ti.shape[0], ti.shape[1], ti.shape[2], ti.shape[3], ti.numel, t->ndim,
                   (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0),
                   (long long)(t->ndim > 2 ? t->shape[2] : 0), (long long)(t->ndim > 3 ? t->shape[3] : 0), t->numel);
            if (!same) {
                ok = 0;
                continue;
            }
            /* a parameter has a gradient in the reference, a buffer does not */
            snprintf(name, sizeof name, "sgd/step0/grad/%s", ti.name);
            int is_param = focal_st_find(st, name) != NULL;
            enum focal_tensor_role want = !is_param ? FOCAL_TENSOR_BUFFER
                                        : in_list(no_decay, ti.name) ? FOCAL_TENSOR_NO_DECAY : FOCAL_TENSOR_WEIGHT;
            CHECKF(ti.role == want, "%s: tensor '%s' has role %d; PyTorch's equivalent is %s", file, ti.name,
                   (int)ti.role, want == FOCAL_TENSOR_BUFFER ? "a buffer"
                   : want == FOCAL_TENSOR_NO_DECAY ? "a parameter without weight decay" : "a decayed weight");
            CHECKF((ti.grad == NULL) == (want == FOCAL_TENSOR_BUFFER), "%s: tensor '%s': grad pointer %s",
                   file, ti.name, ti.grad ? "set for a buffer" : "NULL for a parameter");
            if (ti.role != want) ok = 0;
        }
        if (t) memcpy(ti.data, t->data, ti.numel * sizeof(float));
    }
    return ok && n_init == nt ? 0 : -1;
}

/* Per-step quantities of one run. */
enum { Q_LOSS, Q_LOGITS, Q_GRAD, Q_STATS, Q_PARAMS, Q_COUNT };
static const char *const q_names[Q_COUNT] = { "loss", "logits", "gradients", "BN running stats",
                                              "final parameters" };

/* Runs `steps` steps with optimiser `opt` ("sgd" or "adam") from the initial
 * tensors and compares everything; merges the worst differences into w. */
static void run_optimiser(struct focal_model *m, const struct focal_st *st, const char *file, const char *net,
                          const char *opt, const struct focal_loss *loss, enum focal_head head, int n, int classes,
                          int steps, const float *x, const void *targets, const char *no_decay,
                          struct worst w[Q_COUNT])
{
    char key[256], ctx[128];
    struct focal_optim_config cfg;
    int is_sgd = strcmp(opt, "sgd") == 0;
    focal_optim_defaults(&cfg, is_sgd ? FOCAL_OPTIM_SGD : FOCAL_OPTIM_ADAM);
    snprintf(key, sizeof key, "%s.lr", opt);
    cfg.lr = meta_num(st, file, key);
    snprintf(key, sizeof key, "%s.weight_decay", opt);
    cfg.weight_decay = meta_num(st, file, key);
    if (is_sgd) {
        cfg.momentum = meta_num(st, file, "sgd.momentum");
        cfg.nesterov = meta_int(st, file, "sgd.nesterov", 0, 1);
        cfg.decay_all = meta_int(st, file, "sgd.decay_all", 0, 1);
    } else {
        cfg.beta1 = meta_num(st, file, "adam.beta1");
        cfg.beta2 = meta_num(st, file, "adam.beta2");
        cfg.eps = meta_num(st, file, "adam.eps");
    }
    if (load_init(m, st, file, no_decay, 0) != 0) return;

    struct focal_optim *o = NULL;
    focal_status fs = focal_optim_create(&o, &cfg, m);
    CHECKF(fs == FOCAL_OK, "%s: focal_optim_create(%s): %s", file, opt, focal_last_error());
    if (fs != FOCAL_OK) return;

    size_t nc = (size_t)n * (size_t)classes, nt = focal_model_num_tensors(m), maxel = nc;
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.numel > maxel) maxel = ti.numel;
    }
    float *dlogits = malloc(nc * sizeof *dlogits), *ref = malloc(maxel * sizeof *ref);
    CHECK(dlogits && ref);
    if (!dlogits || !ref) goto out;

    for (int k = 0; k < steps; k++) {
        struct worst sw[Q_COUNT] = { { 0 } };
        snprintf(ctx, sizeof ctx, "%s %s step %d", net, opt, k);

        const float *logits = NULL;
        fs = focal_model_forward(m, x, n, 1, &logits);
        CHECKF(fs == FOCAL_OK, "%s: focal_model_forward: %s", ctx, focal_last_error());
        if (fs != FOCAL_OK) break;
        snprintf(key, sizeof key, "%s/step%d/logits", opt, k);
        if (ref_get(st, file, key, FOCAL_ST_F32, nc, ref) == 0)
            compare(ctx, "logits", logits, ref, nc, LOGIT_RTOL, LOGIT_ATOL, 0, &sw[Q_LOGITS]);

        double lv = NAN, lref = NAN;
        fs = head == FOCAL_HEAD_SIGMOID
           ? focal_sigmoid_loss(loss, (size_t)n, (size_t)classes, logits, targets, dlogits, NULL, &lv)
           : focal_softmax_loss(loss, (size_t)n, (size_t)classes, logits, targets, dlogits, NULL, &lv);
        CHECKF(fs == FOCAL_OK, "%s: loss: %s", ctx, focal_last_error());
        if (fs != FOCAL_OK) break;
        snprintf(key, sizeof key, "%s/step%d/loss", opt, k);
        if (ref_get(st, file, key, FOCAL_ST_F64, 1, &lref) == 0) {
            double d = fabs(lv - lref), tol = LOSS_ATOL + LOSS_RTOL * fabs(lref);
            CHECKF(d <= tol, "%s: loss %.9g, reference %.9g (|diff| %.3g > tol %.3g)", ctx, lv, lref, d, tol);
            sw[Q_LOSS].abs = d;
            sw[Q_LOSS].norm = lref != 0 ? d / fabs(lref) : d;
            sw[Q_LOSS].ratio = d / tol;
            snprintf(sw[Q_LOSS].where, sizeof sw[Q_LOSS].where, "loss");
        }

        focal_model_zero_grad(m);
        fs = focal_model_backward(m, dlogits, n);
        CHECKF(fs == FOCAL_OK, "%s: focal_model_backward: %s", ctx, focal_last_error());
        if (fs != FOCAL_OK) break;
        for (size_t i = 0; i < nt; i++) {
            struct focal_tensor_info ti;
            focal_model_tensor(m, i, &ti);
            if (ti.role == FOCAL_TENSOR_BUFFER) continue;
            snprintf(key, sizeof key, "%s/step%d/grad/%s", opt, k, ti.name);
            if (ref_get(st, file, key, FOCAL_ST_F32, ti.numel, ref) == 0)
                compare(ctx, key, ti.grad, ref, ti.numel, GRAD_RTOL, GRAD_ATOL, GRAD_ATOL_SCALE, &sw[Q_GRAD]);
        }

        fs = focal_optim_step(o, NULL);
        CHECKF(fs == FOCAL_OK, "%s: focal_optim_step: %s", ctx, focal_last_error());
        if (fs != FOCAL_OK) break;
        for (size_t i = 0; i < nt; i++) {
            struct focal_tensor_info ti;
            focal_model_tensor(m, i, &ti);
            if (ti.role != FOCAL_TENSOR_BUFFER) continue;
            snprintf(key, sizeof key, "%s/step%d/%s", opt, k, ti.name);
            if (ref_get(st, file, key, FOCAL_ST_F32, ti.numel, ref) == 0)
                compare(ctx, key, ti.data, ref, ti.numel, STAT_RTOL, STAT_ATOL, 0, &sw[Q_STATS]);
        }

        printf("%-28s loss %.2e | logits %.2e | grads %.2e (rel. to max %.2e, %.2f of tol, %s) | "
               "BN stats %.2e\n", ctx, sw[Q_LOSS].abs, sw[Q_LOGITS].abs, sw[Q_GRAD].abs, sw[Q_GRAD].norm,
               sw[Q_GRAD].ratio, sw[Q_GRAD].where, sw[Q_STATS].abs);
        for (int q = 0; q < Q_COUNT; q++) worst_merge(&w[q], &sw[q]);
    }

    struct worst pw = { 0 };
    snprintf(ctx, sizeof ctx, "%s %s", net, opt);
    for (size_t i = 0; i < nt; i++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, i, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER) continue;
        snprintf(key, sizeof key, "%s/final/%s", opt, ti.name);
        if (ref_get(st, file, key, FOCAL_ST_F32, ti.numel, ref) == 0)
            compare(ctx, key, ti.data, ref, ti.numel, PARAM_RTOL, PARAM_ATOL, 0, &pw);
    }
    printf("%-28s parameters after %d steps %.2e (%s)\n", ctx, steps, pw.abs, pw.where);
    worst_merge(&w[Q_PARAMS], &pw);
out:
    free(dlogits);
    free(ref);
    if (o) focal_optim_free(o);
}

static void run_file(const char *dir, const char *net)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/train_reference_%s.safetensors", dir, net);
    struct focal_st st;
    focal_status fs = focal_st_read(path, &st);
    CHECKF(fs == FOCAL_OK, "cannot read %s: %s", path, focal_last_error());
    if (fs != FOCAL_OK) return;
    const char *file = strrchr(path, '/') + 1;

    struct focal_model *m = NULL;
    float *x = NULL;
    void *targets = NULL;
    const char *desc = meta_req(&st, file, "description");
    const char *shape = meta_req(&st, file, "input_shape");
    const char *head_s = meta_req(&st, file, "head");
    const char *loss_s = meta_req(&st, file, "loss");
    const char *optims = meta_req(&st, file, "optimisers");
    const char *no_decay = meta_req(&st, file, "no_decay");
    const char *fmt = meta_req(&st, file, "format");
    int n = meta_int(&st, file, "batch", 1, 4096), classes = meta_int(&st, file, "classes", 1, 4096);
    int steps = meta_int(&st, file, "steps", 1, 100);
    int c = 0, h = 0, w = 0;
    if (!desc || !shape || !head_s || !loss_s || !optims || !no_decay || !fmt) goto out;
    CHECKF(strcmp(fmt, "focal-train-reference 1") == 0, "%s: unknown format '%s'", file, fmt);
    int shape_ok = sscanf(shape, "%d,%d,%d", &c, &h, &w) == 3 && c > 0 && c <= 64 && h > 0 && h <= 4096 &&
                   w > 0 && w <= 4096;
    CHECKF(shape_ok, "%s: input_shape '%s'; expected C,H,W", file, shape);
    if (!shape_ok || n < 1 || classes < 1 || steps < 1)
        goto out;

    enum focal_head head = strcmp(head_s, "sigmoid") == 0 ? FOCAL_HEAD_SIGMOID : FOCAL_HEAD_SOFTMAX;
    CHECKF(strcmp(head_s, "sigmoid") == 0 || strcmp(head_s, "softmax") == 0, "%s: head '%s'", file, head_s);
    struct focal_loss loss;
    enum focal_loss_kind kind;
    fs = focal_loss_kind_parse(loss_s, &kind);
    CHECKF(fs == FOCAL_OK, "%s: loss '%s': %s", file, loss_s, focal_last_error());
    if (fs != FOCAL_OK) goto out;
    focal_loss_init(&loss, kind);
    loss.alpha = meta_num(&st, file, "loss.alpha");
    loss.gamma = meta_num(&st, file, "loss.gamma");
    const char *red = meta_req(&st, file, "loss.reduction");
    CHECKF(red && strcmp(red, "mean") == 0, "%s: loss.reduction '%s'; only mean is handled", file, red ? red : "");

    size_t xn = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    x = malloc(xn * sizeof *x);
    targets = malloc((size_t)n * (size_t)classes * sizeof(float));
    CHECK(x && targets);
    if (!x || !targets) goto out;
    if (ref_get(&st, file, "input", FOCAL_ST_F32, xn, x) != 0) goto out;
    if (head == FOCAL_HEAD_SIGMOID ? ref_get(&st, file, "target", FOCAL_ST_F32, (size_t)n * classes, targets)
                                   : ref_get(&st, file, "target", FOCAL_ST_I32, (size_t)n, targets))
        goto out;

    fs = focal_model_create(&m, desc, file, c, h, w, classes, head, n);
    CHECKF(fs == FOCAL_OK, "%s: focal_model_create: %s", file, focal_last_error());
    if (fs != FOCAL_OK) goto out;
    if (load_init(m, &st, file, no_decay, 1) != 0) {
        fprintf(stderr, "%s: the model's tensors do not match the reference; not training\n", file);
        goto out;
    }

    printf("%s (%s head, %s, %zu parameters; PyTorch float32 vs float64: logits %s, loss %s, grads %s)\n", file,
           head_s, loss_s, focal_model_num_params(m), meta_or(&st, "noise.logits"), meta_or(&st, "noise.loss"),
           meta_or(&st, "noise.grad"));
    int ran = 0;
    const char *opt_names[] = { "sgd", "adam" };
    for (int oi = 0; oi < 2; oi++) {
        if (!in_list(optims, opt_names[oi])) continue;
        struct worst wq[Q_COUNT] = { { 0 } };
        run_optimiser(m, &st, file, net, opt_names[oi], &loss, head, n, classes, steps, x, targets, no_decay, wq);
        printf("worst %s %s:", net, opt_names[oi]);
        for (int q = 0; q < Q_COUNT; q++)
            printf("%s %s %.2e (rel. %.2e, %.2f of tol)", q ? ";" : "", q_names[q], wq[q].abs, wq[q].norm,
                   wq[q].ratio);
        printf("\n  worst gradient element vs tolerance: %s\n", wq[Q_GRAD].where);
        ran++;
    }
    CHECKF(ran == 2, "%s: optimisers '%s'; expected sgd and adam", file, optims);
out:
    if (m) focal_model_free(m);
    free(x);
    free(targets);
    focal_st_release(&st);
}

int main(void)
{
    const char *dir = check_source_dir(TEST_NAME);
    if (!dir)
        return 1;
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) run_file(dir, nets[i]);
    return check_done(TEST_NAME);
}
