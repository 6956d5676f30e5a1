/* model.c — networks: creation from a description (parsed in
 * model_parse.c), the fusions and convolution paths planned after parsing,
 * the parameter buffer with PyTorch-named views, forward and backward over
 * the layer list and PyTorch's default initialisation.
 * Everything a step needs is allocated at creation. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "focal/loss.h"
#include "focal/nn.h"
#include "base/internal.h"
#include "nn/model_impl.h"

/* ---- planning ------------------------------------------------------------------ */

/* Moves a convolution to oneDNN when the build has it (it stays on im2col
 * otherwise, or if oneDNN cannot build it) and raises the workspace to its
 * need. need_dinp = 0: its input is the network's input, whose gradient is
 * never computed. After any ReLU has been fused into it. */
static void plan_conv_path(struct plan *pl, struct conv_part *cp, int max_batch, int need_dinp)
{
    focal_conv_use_dnnl(&cp->p, max_batch, cp->bias, need_dinp, pl->threads);
    const size_t cs = focal_conv_ws_size(&cp->p, pl->threads);
    if (cs > pl->col_size)
        pl->col_size = cs;
}

/* ---- creation ------------------------------------------------------------------ */

static void name_tensor(struct focal_model *m, size_t *ti, size_t *np, const char *prefix, const char *suffix,
                        enum focal_tensor_role role, float *data, float *grad, int ndim, const int *shape)
{
    struct focal_tensor_info *t = &m->tensors[(*ti)++];
    char *dst = m->names + *np;
    int len = snprintf(dst, m->names_len - *np, "%s.%s", prefix, suffix);
    *np += (size_t)len + 1;
    t->name = dst;
    t->role = role;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < 4; i++)
        t->shape[i] = i < ndim ? shape[i] : 0;
    for (int i = 0; i < ndim; i++)
        t->numel *= (size_t)shape[i];
    t->data = data;
    t->grad = grad;
}

static void name_conv(struct focal_model *m, size_t *ti, size_t *np, const char *prefix, const struct conv_part *cp)
{
    const int ws[4] = {cp->p.oc, cp->p.c, cp->p.k, cp->p.k};
    name_tensor(m, ti, np, prefix, "weight", FOCAL_TENSOR_WEIGHT, m->params + cp->w, m->grads + cp->w, 4, ws);
    if (cp->bias)
        name_tensor(m, ti, np, prefix, "bias", FOCAL_TENSOR_NO_DECAY, m->params + cp->b, m->grads + cp->b, 1,
                    &cp->p.oc);
}

static void name_bn(struct focal_model *m, size_t *ti, size_t *np, const char *prefix, const struct bn_part *b)
{
    name_tensor(m, ti, np, prefix, "weight", FOCAL_TENSOR_NO_DECAY, m->params + b->w, m->grads + b->w, 1, &b->c);
    name_tensor(m, ti, np, prefix, "bias", FOCAL_TENSOR_NO_DECAY, m->params + b->b, m->grads + b->b, 1, &b->c);
    name_tensor(m, ti, np, prefix, "running_mean", FOCAL_TENSOR_BUFFER, m->bufs + b->rm, NULL, 1, &b->c);
    name_tensor(m, ti, np, prefix, "running_var", FOCAL_TENSOR_BUFFER, m->bufs + b->rv, NULL, 1, &b->c);
}

static float *alloc_f(size_t n, int *fail)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        *fail = 1;
    return p;
}

/* Allocates the activations and scratch of every layer for max_batch samples. */
static focal_status allocate(struct focal_model *m, const struct plan *pl)
{
    const size_t B = (size_t)m->max_batch;
    int fail = 0;
    m->params = alloc_f(pl->nparams, &fail);
    m->grads = alloc_f(pl->nparams, &fail);
    m->bufs = alloc_f(pl->nbuf, &fail);
    m->col = alloc_f(pl->col_size, &fail);
    m->g0 = alloc_f(B * pl->gmax, &fail);
    m->g1 = alloc_f(B * pl->gmax, &fail);
    m->dlogits = alloc_f(B * (size_t)m->classes, &fail);
    m->tensors = calloc(pl->ntensors ? pl->ntensors : 1, sizeof *m->tensors);
    m->names = calloc(pl->names_len + 1, 1);
    fail |= !m->tensors || !m->names;
    for (int i = 0; i < m->nl && !fail; i++) {
        struct layer *L = &m->layers[i];
        switch (L->kind) {
        case L_RELU:
        case L_LEAKY:
            if (L->fused || L->conv_relu) {
                L->out = m->layers[i - 1].out; /* the batch norm's or convolution's output, ReLU applied */
                break;
            }
            L->out = alloc_f(B * L->osz, &fail);
            break;
        case L_CONV:
        case L_BN:
        case L_AVGPOOL:
        case L_GAP:
            L->out = alloc_f(B * L->osz, &fail);
            break;
        case L_DENSE:
            L->out = alloc_f(B * L->osz, &fail);
            if (L->dnorm) {
                L->xn = alloc_f(B * L->isz, &fail);
                L->wn = alloc_f(L->osz * L->isz, &fail);
                L->dws = alloc_f(L->osz * L->isz, &fail);
                L->nrm = alloc_f(B + L->osz, &fail);
            }
            break;
        case L_MAXPOOL:
            L->out = alloc_f(B * L->osz, &fail);
            L->argmax = calloc(B * L->osz, sizeof *L->argmax);
            fail |= !L->argmax;
            break;
        case L_DROPOUT:
            L->out = alloc_f(B * L->osz, &fail);
            L->mask = calloc(B * L->osz, 1);
            fail |= !L->mask;
            break;
        case L_FLATTEN:
            break;
        case L_BLOCK: {
            struct block *b = L->blk;
            float **acts[] = {&b->a1, &b->r1, &b->a2, &b->n2, &b->sum, &b->t1, &b->t2, &b->t3};
            for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
                *acts[a] = alloc_f(B * L->osz, &fail);
            b->t4 = alloc_f(B * L->isz, &fail);
            L->out = alloc_f(B * L->osz, &fail);
            if (b->has_sc) {
                b->as = alloc_f(B * L->osz, &fail);
                b->ns = alloc_f(B * L->osz, &fail);
                b->bs.mean = alloc_f((size_t)b->bs.c, &fail);
                b->bs.rstd = alloc_f((size_t)b->bs.c, &fail);
            }
            b->b1.mean = alloc_f((size_t)b->b1.c, &fail);
            b->b1.rstd = alloc_f((size_t)b->b1.c, &fail);
            b->b2.mean = alloc_f((size_t)b->b2.c, &fail);
            b->b2.rstd = alloc_f((size_t)b->b2.c, &fail);
            break;
        }
        }
        if (L->kind == L_BN) {
            L->bn.mean = alloc_f((size_t)L->bn.c, &fail);
            L->bn.rstd = alloc_f((size_t)L->bn.c, &fail);
        }
    }
    if (fail)
        return focal_fail(FOCAL_ERR_NOMEM, "no memory for a network of %zu parameters at batch size %d",
                          pl->nparams, m->max_batch);
    /* named views, in PyTorch's state_dict order */
    size_t ti = 0, np = 0;
    char name[32], sub[48];
    for (int i = 0; i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        snprintf(name, sizeof name, "%d", L->index);
        if (L->kind == L_CONV) {
            name_conv(m, &ti, &np, name, &L->conv);
        } else if (L->kind == L_BN) {
            name_bn(m, &ti, &np, name, &L->bn);
        } else if (L->kind == L_DENSE) {
            const int ws[2] = {L->oc, L->ic * L->ih * L->iw};
            name_tensor(m, &ti, &np, name, "weight", FOCAL_TENSOR_WEIGHT, m->params + L->dw, m->grads + L->dw, 2, ws);
            if (L->db != (size_t)-1)
                name_tensor(m, &ti, &np, name, "bias", FOCAL_TENSOR_NO_DECAY, m->params + L->db, m->grads + L->db, 1,
                            &L->oc);
        } else if (L->kind == L_BLOCK) {
            struct block *b = L->blk;
            snprintf(sub, sizeof sub, "%s.conv1", name);
            name_conv(m, &ti, &np, sub, &b->c1);
            snprintf(sub, sizeof sub, "%s.bn1", name);
            name_bn(m, &ti, &np, sub, &b->b1);
            snprintf(sub, sizeof sub, "%s.conv2", name);
            name_conv(m, &ti, &np, sub, &b->c2);
            snprintf(sub, sizeof sub, "%s.bn2", name);
            name_bn(m, &ti, &np, sub, &b->b2);
            if (b->has_sc) {
                snprintf(sub, sizeof sub, "%s.shortcut.0", name);
                name_conv(m, &ti, &np, sub, &b->cs);
                snprintf(sub, sizeof sub, "%s.shortcut.1", name);
                name_bn(m, &ti, &np, sub, &b->bs);
            }
        }
    }
    m->ntensors = ti;
    return FOCAL_OK;
}

focal_status focal_model_create(struct focal_model **out, const char *desc, const char *origin, int in_c,
                                int in_h, int in_w, int classes, enum focal_head head, int max_batch)
{
    return focal_model_create_from(out, desc, origin, in_c, in_h, in_w, classes, head, max_batch, SIZE_MAX);
}

focal_status focal_model_create_from(struct focal_model **out, const char *desc, const char *origin, int in_c,
                                     int in_h, int in_w, int classes, enum focal_head head, int max_batch,
                                     size_t have_bytes)
{
    focal_clear_error();
    *out = NULL;
    if (!desc)
        return focal_fail(FOCAL_ERR_ARG, "network description is NULL");
    if (in_c < 1 || in_h < 1 || in_w < 1 || (size_t)in_c * in_h * in_w > INT_MAX)
        return focal_fail(FOCAL_ERR_ARG, "input shape %dx%dx%d is not valid; expected positive sizes of at most "
                          "%d values", in_c, in_h, in_w, INT_MAX);
    if (classes < 1)
        return focal_fail(FOCAL_ERR_ARG, "number of classes is %d; expected at least 1", classes);
    if (max_batch < 1)
        return focal_fail(FOCAL_ERR_ARG, "batch size is %d; expected at least 1", max_batch);
    if (head != FOCAL_HEAD_SIGMOID && head != FOCAL_HEAD_SOFTMAX)
        return focal_fail(FOCAL_ERR_ARG, "head %d is not a focal_head", (int)head);
    struct focal_model *m = calloc(1, sizeof *m);
    char *text = strdup(desc); /* tokenised in place */
    if (!m || !text) {
        free(m);
        free(text);
        return focal_fail(FOCAL_ERR_NOMEM, "no memory for a network");
    }
    m->desc = strdup(desc);
    m->in_c = in_c;
    m->in_h = in_h;
    m->in_w = in_w;
    m->classes = classes;
    m->head = head;
    m->max_batch = max_batch;
    focal_rng_seed(&m->rng, 0);

    /* count lines to size the layer array */
    int cap = 1;
    for (const char *s = text; *s; s++)
        cap += *s == '\n';
    m->layers = calloc((size_t)cap, sizeof *m->layers);
    focal_status st = (m->desc && m->layers) ? FOCAL_OK : focal_fail(FOCAL_ERR_NOMEM, "no memory for a network");
    struct plan pl = {0};
    pl.threads = omp_get_max_threads();
    m->ws_threads = pl.threads;
    if (st == FOCAL_OK)
        st = focal_model_parse_layers(m, text, origin, &pl);
    /* a batchnorm or a convolution followed by a ReLU runs as one pass; a
     * ReLU followed by a batchnorm leaves its backward to the batchnorm's */
    for (int i = 0; st == FOCAL_OK && i + 1 < m->nl; i++) {
        const enum lkind next = m->layers[i + 1].kind;
        if (m->layers[i].kind == L_CONV && (next == L_RELU || next == L_LEAKY)) {
            focal_conv_fuse_relu(&m->layers[i].conv.p, m->layers[i + 1].slope);
            m->layers[i + 1].conv_relu = 1;
        }
        if (m->layers[i].kind == L_BN && m->layers[i + 1].kind == L_RELU) {
            m->layers[i].bn_relu = 1;
            m->layers[i + 1].fused = 1;
        } else if (m->layers[i].kind == L_RELU && !m->layers[i].fused && i > 0 &&
                   m->layers[i + 1].kind == L_BN) {
            m->layers[i].bwd_in_next = 1;
            m->layers[i + 1].bn_relu_in = 1;
        }
    }
    /* refused before the paths below (oneDNN allocates for max_batch) and allocate() */
    if (st == FOCAL_OK)
        st = focal_model_check_memory(m, &pl, origin);
    if (st == FOCAL_OK && have_bytes != SIZE_MAX && sat_mul(sat_add(pl.nparams, pl.nbuf), sizeof(float)) > have_bytes)
        st = focal_fail(FOCAL_ERR_FORMAT, "%s: the description needs %zu parameters and buffers (%zu bytes), more "
                        "than the %zu bytes of tensors the file holds", origin ? origin : "network",
                        sat_add(pl.nparams, pl.nbuf), sat_mul(sat_add(pl.nparams, pl.nbuf), sizeof(float)),
                        have_bytes);
    /* the convolutions' paths and workspace, now that their ReLUs are known */
    for (int i = 0; st == FOCAL_OK && i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        if (L->kind == L_CONV) {
            plan_conv_path(&pl, &L->conv, max_batch, i > 0);
        } else if (L->kind == L_BLOCK) {
            plan_conv_path(&pl, &L->blk->c1, max_batch, i > 0);
            plan_conv_path(&pl, &L->blk->c2, max_batch, 1);
            if (L->blk->has_sc)
                plan_conv_path(&pl, &L->blk->cs, max_batch, i > 0);
        }
    }
    if (st == FOCAL_OK) {
        m->nparams = pl.nparams;
        m->nbuf = pl.nbuf;
        m->names_len = pl.names_len + 1;
        st = allocate(m, &pl);
    }
    free(text);
    if (st != FOCAL_OK) {
        focal_model_free(m);
        return st;
    }
    /* running variance starts at 1 so an untrained network evaluates sensibly */
    for (size_t i = 0; i < m->ntensors; i++)
        if (m->tensors[i].role == FOCAL_TENSOR_BUFFER && strstr(m->tensors[i].name, "running_var"))
            for (size_t j = 0; j < m->tensors[i].numel; j++)
                m->tensors[i].data[j] = 1.0f;
    *out = m;
    return FOCAL_OK;
}

void focal_model_free(struct focal_model *m)
{
    if (!m)
        return;
    free(m->sync_sums);
    for (int i = 0; m->layers && i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        focal_conv_release(&L->conv.p);
        if (!L->fused && !L->conv_relu)
            free(L->out);
        free(L->argmax);
        free(L->mask);
        free(L->bn.mean);
        free(L->bn.rstd);
        free(L->xn);
        free(L->wn);
        free(L->dws);
        free(L->nrm);
        if (L->blk) {
            struct block *b = L->blk;
            focal_conv_release(&b->c1.p);
            focal_conv_release(&b->c2.p);
            focal_conv_release(&b->cs.p);
            float *all[] = {b->a1, b->r1, b->a2, b->n2, b->as, b->ns, b->sum, b->t1, b->t2, b->t3, b->t4,
                            b->b1.mean, b->b1.rstd, b->b2.mean, b->b2.rstd, b->bs.mean, b->bs.rstd};
            for (size_t a = 0; a < sizeof all / sizeof all[0]; a++)
                free(all[a]);
            free(b);
        }
    }
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->bufs);
    free(m->col);
    free(m->g0);
    free(m->g1);
    free(m->dlogits);
    free(m->tensors);
    free(m->names);
    free(m->desc);
    free(m);
}

/* ---- accessors ------------------------------------------------------------------ */

const char *focal_model_description(const struct focal_model *m) { return m->desc; }
enum focal_head focal_model_head(const struct focal_model *m) { return m->head; }
int focal_model_classes(const struct focal_model *m) { return m->classes; }
int focal_model_max_batch(const struct focal_model *m) { return m->max_batch; }
size_t focal_model_num_params(const struct focal_model *m) { return m->nparams; }
float *focal_model_params(struct focal_model *m) { return m->params; }
float *focal_model_grads(struct focal_model *m) { return m->grads; }
size_t focal_model_num_tensors(const struct focal_model *m) { return m->ntensors; }
struct focal_rng *focal_model_rng(struct focal_model *m) { return &m->rng; }

void focal_model_input_shape(const struct focal_model *m, int *c, int *h, int *w)
{
    *c = m->in_c;
    *h = m->in_h;
    *w = m->in_w;
}

float *focal_model_dlogits(struct focal_model *m)
{
    return m->dlogits;
}

const float *focal_model_last_input(const struct focal_model *m, int *dim)
{
    const struct layer *L = &m->layers[m->nl - 1];
    *dim = L->ic * L->ih * L->iw;
    return m->last_in ? L->in : NULL;
}

void focal_model_tensor(const struct focal_model *m, size_t i, struct focal_tensor_info *info)
{
    *info = m->tensors[i];
}

void focal_model_zero_grad(struct focal_model *m)
{
    memset(m->grads, 0, m->nparams * sizeof *m->grads);
}

/* ---- cost and profiling ------------------------------------------------------------ */

static double conv_flops(const struct focal_conv *p)
{
    return 2.0 * p->oc * p->oh * p->ow * (double)p->c * p->k * p->k;
}

double focal_model_flops(const struct focal_model *m, int n)
{
    double f = 0;
    for (int i = 0; i < m->nl; i++) {
        const struct layer *L = &m->layers[i];
        if (L->kind == L_CONV)
            f += conv_flops(&L->conv.p);
        else if (L->kind == L_DENSE)
            f += 2.0 * L->oc * (double)L->ic * L->ih * L->iw;
        else if (L->kind == L_BLOCK)
            f += conv_flops(&L->blk->c1.p) + conv_flops(&L->blk->c2.p) +
                 (L->blk->has_sc ? conv_flops(&L->blk->cs.p) : 0);
    }
    return f * n;
}

void focal_model_profile(struct focal_model *m, int on)
{
    m->profile = on;
    for (int i = 0; i < m->nl; i++)
        m->layers[i].fwd_s = m->layers[i].bwd_s = 0;
}

int focal_model_num_layers(const struct focal_model *m)
{
    return m->nl;
}

void focal_model_layer_time(const struct focal_model *m, int i, const char **kind, int *line, double *forward_s,
                            double *backward_s)
{
    static const char *const names[] = {"conv", "batchnorm", "relu", "leakyrelu", "maxpool", "avgpool",
                                        "gap", "dropout", "flatten", "dense", "block"};
    const struct layer *L = &m->layers[i];
    *kind = L->dnorm ? "dense-norm" : names[L->kind];
    *line = L->line;
    *forward_s = L->fwd_s;
    *backward_s = L->bwd_s;
}

/* ---- initialisation -------------------------------------------------------------- */

static void init_uniform(float *p, size_t n, double bound, struct focal_rng *r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * focal_rng_uniform(r) - 1.0) * bound);
}

/* PyTorch's default: weights and biases uniform in ±1/sqrt(fan_in). */
static void init_conv(struct focal_model *m, const struct conv_part *cp, struct focal_rng *r)
{
    const size_t fan_in = (size_t)cp->p.c * cp->p.k * cp->p.k;
    const double bound = 1.0 / sqrt((double)fan_in);
    init_uniform(m->params + cp->w, (size_t)cp->p.oc * fan_in, bound, r);
    if (cp->bias)
        init_uniform(m->params + cp->b, (size_t)cp->p.oc, bound, r);
}

static void init_bn(struct focal_model *m, const struct bn_part *b)
{
    for (int i = 0; i < b->c; i++) {
        m->params[b->w + i] = 1.0f;
        m->params[b->b + i] = 0.0f;
        m->bufs[b->rm + i] = 0.0f;
        m->bufs[b->rv + i] = 1.0f;
    }
}

focal_status focal_model_init(struct focal_model *m, uint64_t seed, double prior_pi)
{
    focal_clear_error();
    double bias0 = 0;
    const int prior = prior_pi > 0;
    if (prior && focal_prior_bias(prior_pi, &bias0) != FOCAL_OK)
        return FOCAL_ERR_ARG;
    if (prior && m->head != FOCAL_HEAD_SIGMOID)
        return focal_fail(FOCAL_ERR_ARG, "a prior-probability bias needs a sigmoid head");
    struct focal_rng r;
    focal_rng_seed(&r, seed);
    for (int i = 0; i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        if (L->kind == L_CONV) {
            init_conv(m, &L->conv, &r);
        } else if (L->kind == L_BN) {
            init_bn(m, &L->bn);
        } else if (L->kind == L_DENSE) {
            const size_t fan_in = (size_t)L->ic * L->ih * L->iw;
            const double bound = 1.0 / sqrt((double)fan_in);
            init_uniform(m->params + L->dw, (size_t)L->oc * fan_in, bound, &r);
            if (L->db != (size_t)-1)
                init_uniform(m->params + L->db, (size_t)L->oc, bound, &r);
        } else if (L->kind == L_BLOCK) {
            struct block *b = L->blk;
            init_conv(m, &b->c1, &r);
            init_bn(m, &b->b1);
            init_conv(m, &b->c2, &r);
            init_bn(m, &b->b2);
            if (b->has_sc) {
                init_conv(m, &b->cs, &r);
                init_bn(m, &b->bs);
            }
        }
    }
    const struct layer *last = &m->layers[m->nl - 1];
    if (prior && last->db != (size_t)-1)
        for (int j = 0; j < last->oc; j++)
            m->params[last->db + j] = (float)bias0;
    /* dropout draws from its own stream, derived from the same seed */
    focal_rng_seed(&m->rng, seed ^ 0x6a09e667f3bcc909ull);
    return FOCAL_OK;
}

/* ---- forward ------------------------------------------------------------------------ */

/* The status of a pass with synchronised batch norm. */
static focal_status sync_status(const struct focal_model *m)
{
    if (m->sync_failed)
        return focal_fail(FOCAL_ERR_IO, "synchronised batch norm: the sum over %d ranks failed", m->sync->size);
    return FOCAL_OK;
}

focal_status focal_model_sync_bn(struct focal_model *m, const struct focal_comm *comm)
{
    int widest = 0;
    for (int i = 0; i < m->nl; i++) {
        const struct layer *L = &m->layers[i];
        const int c = L->kind == L_BN ? L->bn.c : L->kind == L_BLOCK ? L->blk->b2.c : 0;
        widest = c > widest ? c : widest;
    }
    double *sums = NULL;
    if (comm && !(sums = malloc((2 * (size_t)widest + 1) * sizeof *sums)))
        return focal_fail(FOCAL_ERR_NOMEM, "out of memory");
    free(m->sync_sums);
    m->sync_sums = sums;
    m->sync = comm;
    return FOCAL_OK;
}

/* Batch norm, followed by a ReLU in the same pass when relu is set. */
static void bn_fwd(struct focal_model *m, struct bn_part *b, float *out, const float *in, int n, int training,
                   int relu)
{
    if (training && m->sync) {
        if (focal_bn_forward_train_sync(out, b->mean, b->rstd, m->bufs + b->rm, m->bufs + b->rv, in,
                                        m->params + b->w, m->params + b->b, n, b->c, b->hw, b->momentum, b->eps,
                                        relu, m->sync, m->sync_sums) != 0)
            m->sync_failed = 1;
    } else if (training) {
        focal_bn_forward_train(out, b->mean, b->rstd, m->bufs + b->rm, m->bufs + b->rv, in, m->params + b->w,
                               m->params + b->b, n, b->c, b->hw, b->momentum, b->eps, relu);
    } else {
        focal_bn_forward_eval(out, in, m->params + b->w, m->params + b->b, m->bufs + b->rm, m->bufs + b->rv, n,
                              b->c, b->hw, b->eps, relu);
    }
}

/* Threads for the convolutions: the current setting, within what the
 * workspace was sized for at creation. */
static int conv_threads(const struct focal_model *m)
{
    const int t = omp_get_max_threads();
    return t < m->ws_threads ? t : m->ws_threads;
}

static void conv_fwd(struct focal_model *m, const struct conv_part *cp, float *out, const float *in, int n)
{
    focal_conv_forward(out, m->col, conv_threads(m), in, m->params + cp->w, cp->bias ? m->params + cp->b : NULL,
                       &cp->p, n);
}

static const float *block_fwd(struct focal_model *m, struct layer *L, const float *x, int n, int training)
{
    struct block *b = L->blk;
    const size_t len = (size_t)n * L->osz;
    conv_fwd(m, &b->c1, b->a1, x, n);
    bn_fwd(m, &b->b1, b->r1, b->a1, n, training, 1);
    conv_fwd(m, &b->c2, b->a2, b->r1, n);
    bn_fwd(m, &b->b2, b->n2, b->a2, n, training, 0);
    const float *sc = x;
    if (b->has_sc) {
        conv_fwd(m, &b->cs, b->as, x, n);
        bn_fwd(m, &b->bs, b->ns, b->as, n, training, 0);
        sc = b->ns;
    }
    focal_add_forward(b->sum, b->n2, sc, len);
    focal_relu_forward(L->out, b->sum, len, 0.0f);
    return L->out;
}

focal_status focal_model_forward(struct focal_model *m, const float *x, int n, int training, const float **logits)
{
    focal_clear_error();
    if (n < 1 || n > m->max_batch)
        return focal_fail(FOCAL_ERR_ARG, "batch of %d samples; this network takes 1 to %d", n, m->max_batch);
    for (int i = 0; training && i < m->nl; i++) {
        const struct layer *L = &m->layers[i];
        const int hw = L->kind == L_BN ? L->bn.hw : (L->kind == L_BLOCK ? L->blk->b1.hw : 2);
        if ((long)n * hw < 2)
            return focal_fail(FOCAL_ERR_ARG,
                              "batch normalisation (line %d) needs more than one value per channel to train; "
                              "use a batch of at least 2", L->line);
    }
    m->sync_failed = 0;
    const float *cur = x;
    for (int i = 0; i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        const size_t len = (size_t)n * L->osz;
        const double t0 = m->profile ? omp_get_wtime() : 0;
        L->in = cur;
        switch (L->kind) {
        case L_CONV:
            conv_fwd(m, &L->conv, L->out, cur, n);
            break;
        case L_BN:
            bn_fwd(m, &L->bn, L->out, cur, n, training, L->bn_relu);
            break;
        case L_RELU:
        case L_LEAKY:
            if (!L->fused && !L->conv_relu)
                focal_relu_forward(L->out, cur, len, L->slope);
            break;
        case L_MAXPOOL:
            focal_maxpool_forward(L->out, L->argmax, cur, &L->pool, n);
            break;
        case L_AVGPOOL:
            focal_avgpool_forward(L->out, cur, &L->pool, n);
            break;
        case L_GAP:
            focal_gap_forward(L->out, cur, n, L->ic, L->ih * L->iw);
            break;
        case L_DROPOUT:
            if (training)
                focal_dropout_forward(L->out, L->mask, cur, len, L->p, &m->rng);
            else
                memcpy(L->out, cur, len * sizeof *cur);
            break;
        case L_FLATTEN:
            break;
        case L_DENSE:
            if (L->dnorm) {
                focal_dense_norm_forward(L->out, L->xn, L->wn, L->nrm, cur, m->params + L->dw, n, (int)L->isz,
                                         L->oc);
                break;
            }
            focal_dense_forward(L->out, cur, m->params + L->dw, L->db != (size_t)-1 ? m->params + L->db : NULL, n,
                                L->ic * L->ih * L->iw, L->oc);
            break;
        case L_BLOCK:
            block_fwd(m, L, cur, n, training);
            break;
        }
        if (L->kind != L_FLATTEN)
            cur = L->out;
        if (m->profile)
            L->fwd_s += omp_get_wtime() - t0;
    }
    m->last_in = x;
    m->last_n = n;
    m->last_training = training;
    *logits = cur;
    return sync_status(m);
}

/* ---- backward ---------------------------------------------------------------------- */

/* relu_out: the output of a forward with the ReLU fused (dout is then the
 * gradient after the ReLU), or NULL. */
static void bn_bwd(struct focal_model *m, struct bn_part *b, float *dinp, const float *dout, const float *in,
                   const float *relu_out, int relu_in, int n)
{
    if (m->sync) {
        if (focal_bn_backward_sync(dinp, m->grads + b->w, m->grads + b->b, dout, in, b->mean, b->rstd,
                                   m->params + b->w, relu_out, relu_in, n, b->c, b->hw, m->sync,
                                   m->sync_sums) != 0)
            m->sync_failed = 1;
        return;
    }
    focal_bn_backward(dinp, m->grads + b->w, m->grads + b->b, dout, in, b->mean, b->rstd, m->params + b->w,
                      relu_out, relu_in, n, b->c, b->hw);
}

static void conv_bwd(struct focal_model *m, const struct conv_part *cp, float *dinp, const float *dout,
                     const float *in, int n)
{
    focal_conv_backward(dinp, m->grads + cp->w, cp->bias ? m->grads + cp->b : NULL, m->col, conv_threads(m), dout, in,
                        m->params + cp->w, &cp->p, n);
}

/* dx (may be NULL) = d loss / d block input, from dy = d loss / d block output. */
static void block_bwd(struct focal_model *m, struct layer *L, float *dx, const float *dy, const float *x, int n)
{
    struct block *b = L->blk;
    const size_t len = (size_t)n * L->osz;
    focal_relu_backward(b->t1, dy, b->sum, len, 0.0f);        /* t1 = d sum */
    bn_bwd(m, &b->b2, b->t2, b->t1, b->a2, NULL, 0, n);        /* t2 = d a2 */
    conv_bwd(m, &b->c2, b->t3, b->t2, b->r1, n);               /* t3 = d r1 */
    bn_bwd(m, &b->b1, b->t2, b->t3, b->a1, b->r1, 0, n);       /* t2 = d a1 (ReLU fused) */
    conv_bwd(m, &b->c1, dx, b->t2, x, n);                      /* dx = main path */
    if (b->has_sc) {
        bn_bwd(m, &b->bs, b->t2, b->t1, b->as, NULL, 0, n);    /* t2 = d as */
        conv_bwd(m, &b->cs, dx ? b->t4 : NULL, b->t2, x, n);   /* t4 = shortcut path */
        if (dx)
            focal_add_forward(dx, dx, b->t4, (size_t)n * L->isz);
    } else if (dx) {
        focal_add_forward(dx, dx, b->t1, len);                 /* identity shortcut */
    }
}

focal_status focal_model_backward(struct focal_model *m, const float *dlogits, int n)
{
    focal_clear_error();
    if (!m->last_training || n != m->last_n)
        return focal_fail(FOCAL_ERR_ARG, "backward needs a training-mode forward of the same %d samples", n);
    m->sync_failed = 0;
    const float *dy = dlogits;
    float *bufs[2] = {m->g0, m->g1};
    int which = 0;
    for (int i = m->nl - 1; i >= 0; i--) {
        struct layer *L = &m->layers[i];
        if (L->fused || L->bwd_in_next)
            continue; /* its gradient is applied by the batch norm before or after it */
        const float *in = L->in;
        /* the gradient with respect to the network's input is not needed */
        float *dx = in == m->last_in ? NULL : bufs[which];
        const double t0 = m->profile ? omp_get_wtime() : 0;
        const size_t ilen = (size_t)n * L->isz, olen = (size_t)n * L->osz;
        switch (L->kind) {
        case L_CONV:
            conv_bwd(m, &L->conv, dx, dy, in, n);
            break;
        case L_BN:
            bn_bwd(m, &L->bn, dx ? dx : bufs[which], dy, in, L->bn_relu ? L->out : NULL, L->bn_relu_in, n);
            break;
        case L_RELU:
        case L_LEAKY:
            if (dx)
                focal_relu_backward(dx, dy, in, olen, L->slope);
            break;
        case L_MAXPOOL:
            if (dx)
                focal_maxpool_backward(dx, dy, L->argmax, &L->pool, n);
            break;
        case L_AVGPOOL:
            if (dx)
                focal_avgpool_backward(dx, dy, &L->pool, n);
            break;
        case L_GAP:
            if (dx)
                focal_gap_backward(dx, dy, n, L->ic, L->ih * L->iw);
            break;
        case L_DROPOUT:
            if (dx)
                focal_dropout_backward(dx, dy, L->mask, olen, L->p);
            break;
        case L_FLATTEN:
            if (dx)
                memcpy(dx, dy, ilen * sizeof *dx);
            break;
        case L_DENSE:
            if (L->dnorm) {
                focal_dense_norm_backward(dx, m->grads + L->dw, L->dws, dy, L->xn, L->wn, L->nrm, n, (int)L->isz,
                                          L->oc);
                break;
            }
            focal_dense_backward(dx, m->grads + L->dw, L->db != (size_t)-1 ? m->grads + L->db : NULL, dy, in,
                                 m->params + L->dw, n, L->ic * L->ih * L->iw, L->oc);
            break;
        case L_BLOCK:
            block_bwd(m, L, dx, dy, in, n);
            break;
        }
        if (m->profile)
            L->bwd_s += omp_get_wtime() - t0;
        if (!dx)
            break;
        dy = dx;
        which ^= 1;
    }
    return sync_status(m);
}
