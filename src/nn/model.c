/* model.c — networks: the description parser and presets, shape planning,
 * the parameter buffer with PyTorch-named views, forward and backward over
 * the layer list and PyTorch's default initialisation.
 * Everything a step needs is allocated at creation. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "focal/loss.h"
#include "focal/nn.h"
#include "base/internal.h"
#include "nn/layers.h"
#include "nn/model_internal.h"

enum lkind { L_CONV, L_BN, L_RELU, L_LEAKY, L_MAXPOOL, L_AVGPOOL, L_GAP, L_DROPOUT, L_FLATTEN, L_DENSE, L_BLOCK };

/* A convolution or batch norm inside a layer or block, with its offsets into
 * the parameter buffer (w, b) and the buffer of running statistics (rm, rv). */
struct conv_part {
    struct focal_conv p;
    int bias;
    size_t w, b;
};
struct bn_part {
    int c, hw;
    float momentum, eps;
    size_t w, b, rm, rv;
    float *mean, *rstd;      /* saved by the training forward */
};

/* ResNet basic block: conv1-bn1-relu-conv2-bn2 (+ shortcut conv-bn), add, relu. */
struct block {
    struct conv_part c1, c2, cs;
    struct bn_part b1, b2, bs;
    int has_sc;
    float *a1, *r1, *a2, *n2, *as, *ns, *sum;      /* activations (r1: bn1 with its ReLU) */
    float *t1, *t2, *t3, *t4;                      /* backward scratch */
};

struct layer {
    enum lkind kind;
    int line, index;
    int ic, ih, iw, oc, oh, ow; /* input and output shape; flat tensors are (n,1,1) */
    size_t isz, osz;            /* per-sample sizes */
    struct conv_part conv;
    struct bn_part bn;
    struct focal_pool pool;
    float slope, p;
    int bn_relu;                /* batchnorm: the next layer is a ReLU fused into it */
    int bn_relu_in;             /* batchnorm: its input comes from a ReLU whose backward it does */
    int bwd_in_next;            /* relu: its backward is done by the batchnorm after it */
    int fused;                  /* relu: computed by the batchnorm before it; out is that layer's */
    int conv_relu;              /* relu: computed by the convolution before it; out is that layer's */
    size_t dw, db;              /* dense weight / bias offsets */
    float *out;                 /* output activations (NULL: the layer passes its input through) */
    const float *in;            /* the input of the last forward (for the backward) */
    double fwd_s, bwd_s;        /* profiling totals */
    int32_t *argmax;
    uint8_t *mask;
    struct block *blk;
};

struct focal_model {
    char *desc;
    int in_c, in_h, in_w, classes, max_batch;
    enum focal_head head;
    int nl;
    struct layer *layers;
    size_t nparams, nbuf;
    float *params, *grads, *bufs;
    size_t ntensors;
    struct focal_tensor_info *tensors;
    char *names;                /* storage for tensor names */
    size_t names_len;
    float *col;                 /* convolution workspace shared by every convolution */
    int ws_threads;             /* threads the workspace was sized for */
    float *g0, *g1;             /* backward ping-pong buffers */
    float *dlogits;             /* training-step scratch */
    const float *last_in;       /* the input of the last forward */
    int last_n, last_training;
    struct focal_rng rng;
    int profile;
};

/* ---- presets ---------------------------------------------------------------- */

static const char preset_keras_cnn[] =
    "# keras-cnn: 4 x [conv 5x5, ReLU, BN, max-pool 2, dropout 0.2], dense 128 and 64\n"
    "conv 16 5\nrelu\nbatchnorm\nmaxpool 2\ndropout 0.2\n"
    "conv 32 5\nrelu\nbatchnorm\nmaxpool 2\ndropout 0.2\n"
    "conv 64 5\nrelu\nbatchnorm\nmaxpool 2\ndropout 0.2\n"
    "conv 64 5\nrelu\nbatchnorm\nmaxpool 2\ndropout 0.2\n"
    "flatten\n"
    "dense 128\nrelu\ndropout 0.5\n"
    "dense 64\nrelu\ndropout 0.5\n"
    "dense classes\n";

static const char preset_resnet_mini[] =
    "# resnet-mini: ResNet basic blocks (32-64-128 channels) for 28-128 px inputs\n"
    "conv 32 3 bias=0\nbatchnorm\nrelu\n"
    "block 32\nblock 32\n"
    "block 64 stride=2\nblock 64\n"
    "block 128 stride=2\nblock 128\n"
    "gap\n"
    "dense classes\n";

static const char preset_mlp[] =
    "# mlp: for tabular features\n"
    "flatten\n"
    "dense 128\nrelu\ndropout 0.2\n"
    "dense 64\nrelu\n"
    "dense classes\n";

const char *focal_model_preset(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "keras-cnn") == 0)
        return preset_keras_cnn;
    if (strcmp(name, "resnet-mini") == 0)
        return preset_resnet_mini;
    if (strcmp(name, "mlp") == 0)
        return preset_mlp;
    return NULL;
}

/* ---- parsing ----------------------------------------------------------------- */

#define MAX_TOK 8

struct line_toks {
    int n;
    char *tok[MAX_TOK];
};

struct parse_ctx {
    const char *origin;
    int line;
    const char *kind;
};

static focal_status perr(const struct parse_ctx *pc, const char *fmt, ...) FOCAL_PRINTF(2, 3);
static focal_status perr(const struct parse_ctx *pc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return focal_fail(FOCAL_ERR_FORMAT, "%s:%d: %s%s%s", pc->origin, pc->line, pc->kind ? pc->kind : "",
                      pc->kind ? ": " : "", msg);
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_float(const char *s, double lo, double hi, int lo_open, float *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v > hi || v < lo || (lo_open && v == lo))
        return -1;
    *out = (float)v;
    return 0;
}

/* The value of key=value tokens among t[first..]; checks that every key is
 * one of `keys` (a NULL-terminated list). */
static focal_status parse_keys(const struct parse_ctx *pc, const struct line_toks *t, int first,
                               const char *const *keys, const char **vals)
{
    for (int i = first; i < t->n; i++) {
        char *eq = strchr(t->tok[i], '=');
        if (!eq)
            return perr(pc, "unexpected '%s'; options are written key=value", t->tok[i]);
        *eq = '\0';
        int k = 0;
        while (keys[k] && strcmp(keys[k], t->tok[i]) != 0)
            k++;
        if (!keys[k]) {
            char list[128] = "";
            for (int j = 0; keys[j]; j++) {
                strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, keys[j], sizeof list - strlen(list) - 1);
            }
            return perr(pc, "unknown key '%s'; expected %s", t->tok[i], keys[0] ? list : "no keys");
        }
        vals[k] = eq + 1;
    }
    return FOCAL_OK;
}

static focal_status need_args(const struct parse_ctx *pc, const struct line_toks *t, int npos, const char *usage)
{
    int pos = 0;
    for (int i = 1; i < t->n && !strchr(t->tok[i], '='); i++)
        pos++;
    if (pos != npos)
        return perr(pc, "expected %s", usage);
    return FOCAL_OK;
}

/* ---- planning ------------------------------------------------------------------ */

/* Running totals while the layers are laid out. */
struct plan {
    size_t nparams, nbuf, ntensors, names_len, col_size, gmax;
    int threads;                /* convolution workspace sized for this many threads */
};

static void plan_tensor(struct plan *pl, const char *prefix, const char *suffix)
{
    pl->ntensors++;
    pl->names_len += strlen(prefix) + strlen(suffix) + 2;
}

static void plan_conv(struct plan *pl, struct conv_part *cp, const char *name)
{
    const struct focal_conv *p = &cp->p;
    cp->w = pl->nparams;
    pl->nparams += (size_t)p->oc * p->c * p->k * p->k;
    plan_tensor(pl, name, "weight");
    if (cp->bias) {
        cp->b = pl->nparams;
        pl->nparams += (size_t)p->oc;
        plan_tensor(pl, name, "bias");
    }
}

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

static void plan_bn(struct plan *pl, struct bn_part *b, int c, int hw, const char *name)
{
    b->c = c;
    b->hw = hw;
    b->w = pl->nparams;
    b->b = pl->nparams + (size_t)c;
    pl->nparams += 2 * (size_t)c;
    b->rm = pl->nbuf;
    b->rv = pl->nbuf + (size_t)c;
    pl->nbuf += 2 * (size_t)c;
    plan_tensor(pl, name, "weight");
    plan_tensor(pl, name, "bias");
    plan_tensor(pl, name, "running_mean");
    plan_tensor(pl, name, "running_var");
}

static focal_status parse_layer(struct focal_model *m, struct layer *L, struct line_toks *t,
                                const struct parse_ctx *pc0, int *c, int *h, int *w, int *flat, struct plan *pl)
{
    struct parse_ctx pcv = *pc0;
    struct parse_ctx *pc = &pcv;
    const char *k = t->tok[0];
    pc->kind = k;
    char name[32];
    snprintf(name, sizeof name, "%d", L->index);
    L->ic = *c;
    L->ih = *h;
    L->iw = *w;
    L->isz = (size_t)*c * *h * *w;
    const int spatial = !*flat;
    focal_status st;
    if (strcmp(k, "conv") == 0) {
        static const char *const keys[] = {"stride", "pad", "bias", NULL};
        const char *v[3] = {0};
        int oc, ks, stride = 1, pad, bias = 1;
        if ((st = need_args(pc, t, 2, "conv OUT_CHANNELS KERNEL [stride=S] [pad=P] [bias=0|1]")) ||
            (st = parse_keys(pc, t, 3, keys, v)))
            return st;
        if (!spatial)
            return perr(pc, "needs an image input, but the previous layers made it flat");
        if (parse_int(t->tok[1], 1, 65536, &oc))
            return perr(pc, "'%s' is not a valid number of output channels; expected an integer >= 1", t->tok[1]);
        if (parse_int(t->tok[2], 1, 1024, &ks))
            return perr(pc, "'%s' is not a valid kernel size; expected an integer >= 1", t->tok[2]);
        pad = ks / 2;
        if (v[0] && parse_int(v[0], 1, 1024, &stride))
            return perr(pc, "stride '%s' is not valid; expected an integer >= 1", v[0]);
        if (v[1] && parse_int(v[1], 0, 1024, &pad))
            return perr(pc, "pad '%s' is not valid; expected an integer >= 0", v[1]);
        if (v[2] && parse_int(v[2], 0, 1, &bias))
            return perr(pc, "bias '%s' is not valid; expected 0 or 1", v[2]);
        L->kind = L_CONV;
        L->conv.bias = bias;
        if (focal_conv_init(&L->conv.p, *c, *h, *w, oc, ks, stride, pad))
            return perr(pc, "a %dx%d kernel with pad %d does not fit the %dx%d input", ks, ks, pad, *h, *w);
        plan_conv(pl, &L->conv, name);
        *c = oc;
        *h = L->conv.p.oh;
        *w = L->conv.p.ow;
    } else if (strcmp(k, "batchnorm") == 0) {
        static const char *const keys[] = {"momentum", "eps", NULL};
        const char *v[2] = {0};
        if ((st = need_args(pc, t, 0, "batchnorm [momentum=M] [eps=E]")) || (st = parse_keys(pc, t, 1, keys, v)))
            return st;
        L->kind = L_BN;
        L->bn.momentum = 0.1f;
        L->bn.eps = 1e-5f;
        if (v[0] && parse_float(v[0], 0, 1, 0, &L->bn.momentum))
            return perr(pc, "momentum '%s' is not valid; expected a number in [0,1]", v[0]);
        if (v[1] && parse_float(v[1], 0, 1, 1, &L->bn.eps))
            return perr(pc, "eps '%s' is not valid; expected a number in (0,1]", v[1]);
        plan_bn(pl, &L->bn, *c, spatial ? *h * *w : 1, name);
    } else if (strcmp(k, "relu") == 0 || strcmp(k, "leakyrelu") == 0) {
        static const char *const keys[] = {"slope", NULL};
        static const char *const nokeys[] = {NULL};
        const char *v[1] = {0};
        const int leaky = k[0] == 'l';
        if ((st = need_args(pc, t, 0, leaky ? "leakyrelu [slope=A]" : "relu")) ||
            (st = parse_keys(pc, t, 1, leaky ? keys : nokeys, v)))
            return st;
        L->kind = leaky ? L_LEAKY : L_RELU;
        L->slope = leaky ? 0.01f : 0.0f;
        if (v[0] && parse_float(v[0], 0, 1, 1, &L->slope))
            return perr(pc, "slope '%s' is not valid; expected a number in (0,1]", v[0]);
    } else if (strcmp(k, "maxpool") == 0 || strcmp(k, "avgpool") == 0) {
        static const char *const keys[] = {"stride", "pad", NULL};
        const char *v[2] = {0};
        int ks, stride, pad = 0;
        if ((st = need_args(pc, t, 1, "maxpool|avgpool KERNEL [stride=S] [pad=P]")) ||
            (st = parse_keys(pc, t, 2, keys, v)))
            return st;
        if (!spatial)
            return perr(pc, "needs an image input, but the previous layers made it flat");
        if (parse_int(t->tok[1], 1, 1024, &ks))
            return perr(pc, "'%s' is not a valid kernel size; expected an integer >= 1", t->tok[1]);
        stride = ks;
        if (v[0] && parse_int(v[0], 1, 1024, &stride))
            return perr(pc, "stride '%s' is not valid; expected an integer >= 1", v[0]);
        if (v[1] && (parse_int(v[1], 0, 1024, &pad) || 2 * pad > ks))
            return perr(pc, "pad '%s' is not valid; expected an integer from 0 to half the kernel", v[1]);
        L->kind = k[0] == 'm' ? L_MAXPOOL : L_AVGPOOL;
        if (focal_pool_init(&L->pool, *c, *h, *w, ks, stride, pad))
            return perr(pc, "a %dx%d window does not fit the %dx%d input", ks, ks, *h, *w);
        *h = L->pool.oh;
        *w = L->pool.ow;
    } else if (strcmp(k, "gap") == 0) {
        static const char *const nokeys[] = {NULL};
        if ((st = need_args(pc, t, 0, "gap")) || (st = parse_keys(pc, t, 1, nokeys, NULL)))
            return st;
        if (!spatial)
            return perr(pc, "needs an image input, but the previous layers made it flat");
        L->kind = L_GAP;
        *h = *w = 1;
        *flat = 1;
    } else if (strcmp(k, "dropout") == 0) {
        static const char *const nokeys[] = {NULL};
        if ((st = need_args(pc, t, 1, "dropout P")) || (st = parse_keys(pc, t, 2, nokeys, NULL)))
            return st;
        L->kind = L_DROPOUT;
        if (parse_float(t->tok[1], 0, 0.999, 0, &L->p))
            return perr(pc, "'%s' is not a valid probability; expected a number in [0,1)", t->tok[1]);
    } else if (strcmp(k, "flatten") == 0) {
        static const char *const nokeys[] = {NULL};
        if ((st = need_args(pc, t, 0, "flatten")) || (st = parse_keys(pc, t, 1, nokeys, NULL)))
            return st;
        L->kind = L_FLATTEN;
        *c = *c * *h * *w;
        *h = *w = 1;
        *flat = 1;
    } else if (strcmp(k, "dense") == 0) {
        static const char *const keys[] = {"bias", NULL};
        const char *v[1] = {0};
        int n;
        if ((st = need_args(pc, t, 1, "dense N|classes [bias=0|1]")) || (st = parse_keys(pc, t, 2, keys, v)))
            return st;
        if (!*flat)
            return perr(pc, "needs a flat input; add `flatten` or `gap` before it");
        if (strcmp(t->tok[1], "classes") == 0)
            n = m->classes;
        else if (parse_int(t->tok[1], 1, 1 << 24, &n))
            return perr(pc, "'%s' is not a valid width; expected an integer >= 1 or `classes`", t->tok[1]);
        int bias = 1;
        if (v[0] && parse_int(v[0], 0, 1, &bias))
            return perr(pc, "bias '%s' is not valid; expected 0 or 1", v[0]);
        L->kind = L_DENSE;
        L->dw = pl->nparams;
        pl->nparams += (size_t)n * *c;
        plan_tensor(pl, name, "weight");
        L->db = (size_t)-1;
        if (bias) {
            L->db = pl->nparams;
            pl->nparams += (size_t)n;
            plan_tensor(pl, name, "bias");
        }
        *c = n;
    } else if (strcmp(k, "block") == 0) {
        static const char *const keys[] = {"stride", NULL};
        const char *v[1] = {0};
        int oc, stride = 1;
        if ((st = need_args(pc, t, 1, "block OUT_CHANNELS [stride=S]")) || (st = parse_keys(pc, t, 2, keys, v)))
            return st;
        if (!spatial)
            return perr(pc, "needs an image input, but the previous layers made it flat");
        if (parse_int(t->tok[1], 1, 65536, &oc))
            return perr(pc, "'%s' is not a valid number of output channels; expected an integer >= 1", t->tok[1]);
        if (v[0] && parse_int(v[0], 1, 16, &stride))
            return perr(pc, "stride '%s' is not valid; expected an integer from 1 to 16", v[0]);
        struct block *b = calloc(1, sizeof *b);
        if (!b)
            return focal_fail(FOCAL_ERR_NOMEM, "no memory for a block");
        L->blk = b;
        L->kind = L_BLOCK;
        /* the block's batch norms use PyTorch's defaults */
        b->b1.momentum = b->b2.momentum = b->bs.momentum = 0.1f;
        b->b1.eps = b->b2.eps = b->bs.eps = 1e-5f;
        char sub[48];
        if (focal_conv_init(&b->c1.p, *c, *h, *w, oc, 3, stride, 1))
            return perr(pc, "a stride of %d does not fit the %dx%d input", stride, *h, *w);
        snprintf(sub, sizeof sub, "%s.conv1", name);
        plan_conv(pl, &b->c1, sub);
        const int oh = b->c1.p.oh, ow = b->c1.p.ow;
        snprintf(sub, sizeof sub, "%s.bn1", name);
        plan_bn(pl, &b->b1, oc, oh * ow, sub);
        focal_conv_init(&b->c2.p, oc, oh, ow, oc, 3, 1, 1);
        snprintf(sub, sizeof sub, "%s.conv2", name);
        plan_conv(pl, &b->c2, sub);
        snprintf(sub, sizeof sub, "%s.bn2", name);
        plan_bn(pl, &b->b2, oc, oh * ow, sub);
        b->has_sc = stride != 1 || oc != *c;
        if (b->has_sc) {
            focal_conv_init(&b->cs.p, *c, *h, *w, oc, 1, stride, 0);
            snprintf(sub, sizeof sub, "%s.shortcut.0", name);
            plan_conv(pl, &b->cs, sub);
            snprintf(sub, sizeof sub, "%s.shortcut.1", name);
            plan_bn(pl, &b->bs, oc, oh * ow, sub);
        }
        *c = oc;
        *h = oh;
        *w = ow;
    } else {
        pc->kind = NULL;
        return perr(pc, "unknown layer '%s'; expected conv, batchnorm, relu, leakyrelu, maxpool, avgpool, gap, "
                        "dropout, flatten, dense or block", k);
    }
    L->oc = *c;
    L->oh = *h;
    L->ow = *w;
    L->osz = (size_t)*c * *h * *w;
    size_t g = L->isz > L->osz ? L->isz : L->osz;
    if (g > pl->gmax)
        pl->gmax = g;
    return FOCAL_OK;
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
        case L_DENSE:
            L->out = alloc_f(B * L->osz, &fail);
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
    focal_clear_error();
    *out = NULL;
    if (!desc)
        return focal_fail(FOCAL_ERR_ARG, "network description is NULL");
    if (in_c < 1 || in_h < 1 || in_w < 1 || (size_t)in_c * in_h * in_w > ((size_t)1 << 31))
        return focal_fail(FOCAL_ERR_ARG, "input shape %dx%dx%d is not valid; expected positive sizes", in_c, in_h,
                          in_w);
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
    struct parse_ctx pc = {origin ? origin : "network", 0, NULL};
    int c = in_c, h = in_h, w = in_w, flat = 0;
    char *save = NULL;
    int lineno = 0;
    for (char *ln = text; st == FOCAL_OK && ln; ln = save) {
        char *nl = strchr(ln, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        char *hash = strchr(ln, '#');
        if (hash)
            *hash = '\0';
        struct line_toks t = {0};
        for (char *tok = strtok(ln, " \t\r"); tok; tok = strtok(NULL, " \t\r")) {
            if (t.n == MAX_TOK) {
                pc.line = lineno;
                st = perr(&pc, "too many words on one line");
                break;
            }
            t.tok[t.n++] = tok;
        }
        if (st != FOCAL_OK || t.n == 0)
            continue;
        pc.line = lineno;
        struct layer *L = &m->layers[m->nl];
        L->line = lineno;
        L->index = m->nl;
        st = parse_layer(m, L, &t, &pc, &c, &h, &w, &flat, &pl);
        m->nl++;
    }
    if (st == FOCAL_OK) {
        pc.line = lineno;
        pc.kind = NULL;
        const struct layer *last = m->nl ? &m->layers[m->nl - 1] : NULL;
        if (!last)
            st = perr(&pc, "the network has no layers");
        else if (last->kind != L_DENSE || last->oc != classes) {
            pc.line = last->line;
            st = perr(&pc, "the last layer must be `dense classes` (%d outputs)", classes);
        }
    }
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
    for (int i = 0; m->layers && i < m->nl; i++) {
        struct layer *L = &m->layers[i];
        focal_conv_release(&L->conv.p);
        if (!L->fused && !L->conv_relu)
            free(L->out);
        free(L->argmax);
        free(L->mask);
        free(L->bn.mean);
        free(L->bn.rstd);
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
    *kind = names[L->kind];
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

/* Batch norm, followed by a ReLU in the same pass when relu is set. */
static void bn_fwd(struct focal_model *m, struct bn_part *b, float *out, const float *in, int n, int training,
                   int relu)
{
    if (training) {
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
    return FOCAL_OK;
}

/* ---- backward ---------------------------------------------------------------------- */

/* relu_out: the output of a forward with the ReLU fused (dout is then the
 * gradient after the ReLU), or NULL. */
static void bn_bwd(struct focal_model *m, struct bn_part *b, float *dinp, const float *dout, const float *in,
                   const float *relu_out, int relu_in, int n)
{
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
    return FOCAL_OK;
}
