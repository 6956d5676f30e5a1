/* model_parse.c — network descriptions: the presets, and the parser that
 * turns a description's lines into layers while laying out their
 * parameters, buffers and PyTorch tensor names. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focal/nn.h"
#include "base/internal.h"
#include "nn/model_impl.h"

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

focal_status focal_model_normalise_head(const char *desc, const char *origin, char **out, int *changed)
{
    *out = NULL;
    *changed = 0;
    /* the last line with a word before any '#': where its words start and end */
    const char *word = NULL, *end = NULL;
    int line = 0, last_line = 0;
    for (const char *ln = desc; ln && *ln; line++) {
        const char *nl = strchr(ln, '\n');
        const char *stop = nl ? nl : ln + strlen(ln);
        const char *hash = memchr(ln, '#', (size_t)(stop - ln));
        const char *w = ln + strspn(ln, " \t\r");
        if (w < (hash ? hash : stop))
            word = w, end = hash ? hash : stop, last_line = line + 1;
        ln = nl ? nl + 1 : NULL;
    }
    const size_t klen = word ? strcspn(word, " \t\r#\n") : 0;
    const int is_norm = klen == 10 && strncmp(word, "dense-norm", 10) == 0;
    if (!word || !(is_norm || (klen == 5 && strncmp(word, "dense", 5) == 0)))
        return focal_fail(FOCAL_ERR_FORMAT, "%s:%d: the last layer must be `dense classes` or `dense-norm classes` "
                          "for LDAM's normalised classifier", origin ? origin : "network", last_line);
    const char *arg = word + klen + strspn(word + klen, " \t\r");
    const size_t alen = arg < end ? strcspn(arg, " \t\r#\n") : 0;
    const size_t len = strlen(desc);
    char *s = malloc(len + 16);
    if (!s)
        return focal_fail(FOCAL_ERR_NOMEM, "no memory for a network description");
    if (is_norm) {
        memcpy(s, desc, len + 1);
    } else {
        /* the line's words become "dense-norm N"; what follows the line stays */
        const size_t head = (size_t)(word - desc);
        memcpy(s, desc, head);
        int n = snprintf(s + head, 16 + alen, "dense-norm %.*s%s", (int)alen, arg, *end == '#' ? " " : "");
        memcpy(s + head + (size_t)n, end, len - (size_t)(end - desc) + 1);
        *changed = 1;
    }
    *out = s;
    return FOCAL_OK;
}

/* ---- parsing ----------------------------------------------------------------- */

#define MAX_TOK 8

/* The largest channel count, kernel/stride/pad and dense width a line may ask for. */
#define MAX_CHANNELS 65536
#define MAX_WINDOW 1024
#define MAX_WIDTH (1 << 24)

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

static void plan_tensor(struct plan *pl, const char *prefix, const char *suffix)
{
    pl->ntensors++;
    pl->names_len += strlen(prefix) + strlen(suffix) + 2;
}

static void plan_conv(struct plan *pl, struct conv_part *cp, const char *name)
{
    const struct focal_conv *p = &cp->p;
    cp->w = pl->nparams;
    pl->nparams = sat_add(pl->nparams, sat_mul((size_t)p->oc, (size_t)p->c * p->k * p->k));
    plan_tensor(pl, name, "weight");
    if (cp->bias) {
        cp->b = pl->nparams;
        pl->nparams = sat_add(pl->nparams, (size_t)p->oc);
        plan_tensor(pl, name, "bias");
    }
}
static void plan_bn(struct plan *pl, struct bn_part *b, int c, int hw, const char *name)
{
    b->c = c;
    b->hw = hw;
    b->w = pl->nparams;
    b->b = sat_add(pl->nparams, (size_t)c);
    pl->nparams = sat_add(pl->nparams, 2 * (size_t)c);
    b->rm = pl->nbuf;
    b->rv = sat_add(pl->nbuf, (size_t)c);
    pl->nbuf = sat_add(pl->nbuf, 2 * (size_t)c);
    plan_tensor(pl, name, "weight");
    plan_tensor(pl, name, "bias");
    plan_tensor(pl, name, "running_mean");
    plan_tensor(pl, name, "running_var");
}

/* c × h × w values per sample, or an error naming them and the limit. */
static focal_status check_values(const struct parse_ctx *pc, const char *what, int c, int h, int w)
{
    const size_t n = sat_mul(sat_mul((size_t)c, (size_t)h), (size_t)w);
    if (n <= MODEL_MAX_VALUES)
        return FOCAL_OK;
    return perr(pc, "%s %d x %d x %d = %.0f values per sample; the limit is %d (use fewer channels or a "
                    "smaller input)", what, c, h, w, (double)c * h * w, MODEL_MAX_VALUES);
}

/* A convolution's fan-in (c·k·k) and im2col matrix (c·k·k × oh·ow) must be
 * indexable with int; checked before it is laid out. */
static focal_status check_conv(const struct parse_ctx *pc, const struct focal_conv *p)
{
    const size_t fan_in = (size_t)p->c * p->k * p->k; /* < 2^31 · 2^20 */
    const size_t col = sat_mul(fan_in, (size_t)p->oh * p->ow);
    if (fan_in > MODEL_MAX_VALUES)
        return perr(pc, "a %dx%d kernel over %d channels has %zu inputs per output; the limit is %d", p->k, p->k,
                    p->c, fan_in, MODEL_MAX_VALUES);
    if (col > MODEL_MAX_VALUES)
        return perr(pc, "a %dx%d kernel over %d channels of %dx%d needs %.0f values of scratch per image; "
                        "the limit is %d (use a smaller kernel, fewer channels or a larger stride)",
                    p->k, p->k, p->c, p->h, p->w, (double)fan_in * p->oh * p->ow, MODEL_MAX_VALUES);
    return check_values(pc, "makes", p->oc, p->oh, p->ow);
}

/* A window of k with padding pad over an h × w input: refuses a padded side
 * beyond int before the output size is computed. */
static focal_status check_padded(const struct parse_ctx *pc, int h, int w, int pad)
{
    if ((long long)h + 2LL * pad > INT_MAX || (long long)w + 2LL * pad > INT_MAX)
        return perr(pc, "padding %d on a %dx%d input is too large; a padded side may be at most %d", pad, h, w,
                    INT_MAX);
    return FOCAL_OK;
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
        if (parse_int(t->tok[1], 1, MAX_CHANNELS, &oc))
            return perr(pc, "'%s' is not a valid number of output channels; expected an integer from 1 to %d",
                        t->tok[1], MAX_CHANNELS);
        if (parse_int(t->tok[2], 1, MAX_WINDOW, &ks))
            return perr(pc, "'%s' is not a valid kernel size; expected an integer from 1 to %d", t->tok[2],
                        MAX_WINDOW);
        pad = ks / 2;
        if (v[0] && parse_int(v[0], 1, MAX_WINDOW, &stride))
            return perr(pc, "stride '%s' is not valid; expected an integer from 1 to %d", v[0], MAX_WINDOW);
        if (v[1] && parse_int(v[1], 0, MAX_WINDOW, &pad))
            return perr(pc, "pad '%s' is not valid; expected an integer from 0 to %d", v[1], MAX_WINDOW);
        if (v[2] && parse_int(v[2], 0, 1, &bias))
            return perr(pc, "bias '%s' is not valid; expected 0 or 1", v[2]);
        L->kind = L_CONV;
        L->conv.bias = bias;
        if ((st = check_padded(pc, *h, *w, pad)))
            return st;
        if (focal_conv_init(&L->conv.p, *c, *h, *w, oc, ks, stride, pad))
            return perr(pc, "a %dx%d kernel with pad %d does not fit the %dx%d input", ks, ks, pad, *h, *w);
        if ((st = check_conv(pc, &L->conv.p)))
            return st;
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
        if (parse_int(t->tok[1], 1, MAX_WINDOW, &ks))
            return perr(pc, "'%s' is not a valid kernel size; expected an integer from 1 to %d", t->tok[1],
                        MAX_WINDOW);
        stride = ks;
        if (v[0] && parse_int(v[0], 1, MAX_WINDOW, &stride))
            return perr(pc, "stride '%s' is not valid; expected an integer from 1 to %d", v[0], MAX_WINDOW);
        if (v[1] && (parse_int(v[1], 0, MAX_WINDOW, &pad) || 2 * pad > ks))
            return perr(pc, "pad '%s' is not valid; expected an integer from 0 to half the kernel", v[1]);
        L->kind = k[0] == 'm' ? L_MAXPOOL : L_AVGPOOL;
        if ((st = check_padded(pc, *h, *w, pad)))
            return st;
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
        if ((st = check_values(pc, "would make", *c, *h, *w)))
            return st;
        *c = *c * *h * *w;
        *h = *w = 1;
        *flat = 1;
    } else if (strcmp(k, "dense") == 0 || strcmp(k, "dense-norm") == 0) {
        static const char *const keys[] = {"bias", NULL};
        static const char *const nokeys[] = {NULL};
        const char *v[1] = {0};
        const int dnorm = k[5] == '-';
        int n;
        if ((st = need_args(pc, t, 1, dnorm ? "dense-norm N|classes" : "dense N|classes [bias=0|1]")) ||
            (st = parse_keys(pc, t, 2, dnorm ? nokeys : keys, v)))
            return st;
        if (!*flat)
            return perr(pc, "needs a flat input; add `flatten` or `gap` before it");
        if (strcmp(t->tok[1], "classes") == 0)
            n = m->classes;
        else if (parse_int(t->tok[1], 1, MAX_WIDTH, &n))
            return perr(pc, "'%s' is not a valid width; expected an integer from 1 to %d or `classes`", t->tok[1],
                        MAX_WIDTH);
        int bias = !dnorm;
        if (v[0] && parse_int(v[0], 0, 1, &bias))
            return perr(pc, "bias '%s' is not valid; expected 0 or 1", v[0]);
        L->kind = L_DENSE;
        L->dnorm = dnorm;
        L->dw = pl->nparams;
        pl->nparams = sat_add(pl->nparams, (size_t)n * (size_t)*c); /* < 2^24 · 2^31 */
        plan_tensor(pl, name, "weight");
        L->db = (size_t)-1;
        if (bias) {
            L->db = pl->nparams;
            pl->nparams = sat_add(pl->nparams, (size_t)n);
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
        if (parse_int(t->tok[1], 1, MAX_CHANNELS, &oc))
            return perr(pc, "'%s' is not a valid number of output channels; expected an integer from 1 to %d",
                        t->tok[1], MAX_CHANNELS);
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
        if ((st = check_padded(pc, *h, *w, 1)))
            return st;
        if (focal_conv_init(&b->c1.p, *c, *h, *w, oc, 3, stride, 1))
            return perr(pc, "a stride of %d does not fit the %dx%d input", stride, *h, *w);
        if ((st = check_conv(pc, &b->c1.p)))
            return st;
        focal_conv_init(&b->c2.p, oc, b->c1.p.oh, b->c1.p.ow, oc, 3, 1, 1);
        if ((st = check_conv(pc, &b->c2.p)))
            return st;
        snprintf(sub, sizeof sub, "%s.conv1", name);
        plan_conv(pl, &b->c1, sub);
        const int oh = b->c1.p.oh, ow = b->c1.p.ow;
        snprintf(sub, sizeof sub, "%s.bn1", name);
        plan_bn(pl, &b->b1, oc, oh * ow, sub);
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
                        "dropout, flatten, dense, dense-norm or block", k);
    }
    if ((st = check_values(pc, "makes", *c, *h, *w)))
        return st;
    L->oc = *c;
    L->oh = *h;
    L->ow = *w;
    L->osz = (size_t)*c * *h * *w;
    size_t g = L->isz > L->osz ? L->isz : L->osz;
    if (g > pl->gmax)
        pl->gmax = g;
    return FOCAL_OK;
}

focal_status focal_model_parse_layers(struct focal_model *m, char *text, const char *origin, struct plan *pl)
{
    focal_status st = FOCAL_OK;
    struct parse_ctx pc = {origin ? origin : "network", 0, NULL};
    int c = m->in_c, h = m->in_h, w = m->in_w, flat = 0;
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
        st = parse_layer(m, L, &t, &pc, &c, &h, &w, &flat, pl);
        m->nl++;
    }
    if (st == FOCAL_OK) {
        pc.line = lineno;
        pc.kind = NULL;
        const struct layer *last = m->nl ? &m->layers[m->nl - 1] : NULL;
        if (!last)
            st = perr(&pc, "the network has no layers");
        else if (last->kind != L_DENSE || last->oc != m->classes) {
            pc.line = last->line;
            st = perr(&pc, "the last layer must be `dense classes` or `dense-norm classes` (%d outputs)",
                      m->classes);
        }
    }
    return st;
}
