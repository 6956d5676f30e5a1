/* onnx.c — a trained run as an ONNX model (see export/onnx.h): the graph is
 * built as onnx.proto messages whose memory comes from one list of blocks
 * freed together, the weights referenced in place (raw_data points into the
 * model's buffers), then packed by libprotobuf-c and written atomically. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx.h"
#include "export/onnx.pb-c.h"

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 7     /* the IR of ONNX 1.8, the release that brought opset 13 */
#define MAX_ATTRS 6
#define MAX_INPUTS 5

/* ---- memory: every message of the model lives in these blocks ----------------------------- */

struct block {
    struct block *next;
    max_align_t mem[];
};

/* The model under construction and where the walk through the layers is. */
struct ex {
    struct block *blocks;
    int oom;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    const struct focal_run *r;
    char *err;
    size_t errlen;
    const char *cur;          /* the value the next layer reads */
    int rank;                 /* of cur: 4 (N, C, H, W) or 2 (N, F) */
    int c, h, w;              /* cur's per-sample shape (h = w = 1 when rank is 2) */
};

/* Zeroed memory that lives as long as the model; NULL (and ex->oom set) when
 * out of memory. */
static void *ex_alloc(struct ex *x, size_t n)
{
    struct block *b = x->oom ? NULL : calloc(1, sizeof *b + n);
    if (!b) {
        x->oom = 1;
        return NULL;
    }
    b->next = x->blocks;
    x->blocks = b;
    return b->mem;
}

static char *ex_printf(struct ex *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ex_printf(struct ex *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? ex_alloc(x, (size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

static char *ex_strdup(struct ex *x, const char *s) { return ex_printf(x, "%s", s); }

/* Appends item to a growing array of pointers; 0, or -1 (oom set). */
static int push(struct ex *x, void ***arr, size_t *n, size_t *cap, void *item)
{
    if (!item)
        return -1;
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        void **a = realloc(*arr, nc * sizeof *a);
        if (!a) {
            x->oom = 1;
            return -1;
        }
        *arr = a;
        *cap = nc;
    }
    (*arr)[(*n)++] = item;
    return 0;
}

static int fail(struct ex *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ex *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- nodes, attributes, initializers --------------------------------------------------------- */

/* Adds node `op` reading inputs[0..nin) and writing the value `out` (also the
 * node's name); returns it, or NULL when out of memory. */
static Onnx__NodeProto *node(struct ex *x, const char *op, const char *out, int nin, const char *const *inputs)
{
    Onnx__NodeProto *nd = ex_alloc(x, sizeof *nd);
    char **in = ex_alloc(x, (size_t)MAX_INPUTS * sizeof *in);
    char **o = ex_alloc(x, sizeof *o);
    Onnx__AttributeProto **at = ex_alloc(x, MAX_ATTRS * sizeof *at);
    if (!nd || !in || !o || !at || !out)
        return NULL;
    onnx__node_proto__init(nd);
    nd->op_type = ex_strdup(x, op);
    nd->name = ex_strdup(x, out);
    o[0] = nd->name;
    nd->output = o;
    nd->n_output = 1;
    for (int i = 0; i < nin && i < MAX_INPUTS; i++)
        in[i] = ex_strdup(x, inputs[i]);
    nd->input = in;
    nd->n_input = (size_t)nin;
    nd->attribute = at;
    if (push(x, (void ***)&x->nodes, &x->n_nodes, &x->cap_nodes, nd) != 0)
        return NULL;
    return nd;
}

/* A new attribute `name` of nd (NULL when nd is NULL or out of memory). */
static Onnx__AttributeProto *attr(struct ex *x, Onnx__NodeProto *nd, const char *name,
                                  Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = nd && nd->n_attribute < MAX_ATTRS ? ex_alloc(x, sizeof *a) : NULL;
    if (!a)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = ex_strdup(x, name);
    a->has_type = 1;
    a->type = type;
    nd->attribute[nd->n_attribute++] = a;
    return a;
}

static void attr_int(struct ex *x, Onnx__NodeProto *nd, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(x, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = 1;
        a->i = v;
    }
}

static void attr_float(struct ex *x, Onnx__NodeProto *nd, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(x, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) {
        a->has_f = 1;
        a->f = v;
    }
}

/* An INTS attribute of n copies of v. */
static void attr_ints(struct ex *x, Onnx__NodeProto *nd, const char *name, int n, int64_t v)
{
    Onnx__AttributeProto *a = attr(x, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *ints = a ? ex_alloc(x, (size_t)n * sizeof *ints) : NULL;
    if (ints) {
        for (int i = 0; i < n; i++)
            ints[i] = v;
        a->ints = ints;
        a->n_ints = (size_t)n;
    }
}

/* An initializer (a graph constant) named `name` of element type dtype and
 * shape dims[0..ndim), its bytes at data (not copied: they must outlive the
 * packing). Returns the name, or NULL when out of memory. */
static const char *init_raw(struct ex *x, const char *name, int32_t dtype, const void *data, size_t bytes,
                            int ndim, const int64_t *dims)
{
    Onnx__TensorProto *t = name ? ex_alloc(x, sizeof *t) : NULL;
    int64_t *d = t ? ex_alloc(x, (size_t)(ndim > 0 ? ndim : 1) * sizeof *d) : NULL;
    if (!t || !d)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = ex_strdup(x, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->dims = d;
    t->n_dims = (size_t)ndim;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = (uint8_t *)(uintptr_t)data;
    if (push(x, (void ***)&x->inits, &x->n_inits, &x->cap_inits, t) != 0)
        return NULL;
    return t->name;
}

/* A float initializer holding a copy of v[0..n) with shape dims[0..ndim). */
static const char *init_floats(struct ex *x, const char *name, const float *v, size_t n, int ndim,
                               const int64_t *dims)
{
    float *copy = ex_alloc(x, (n ? n : 1) * sizeof *copy);
    if (!copy)
        return NULL;
    memcpy(copy, v, n * sizeof *copy);
    return init_raw(x, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, copy, n * sizeof *copy, ndim, dims);
}

/* The model tensor called name into *t; 0, or -1 when the model has none. */
static int find_tensor(const struct ex *x, const char *name, struct focal_tensor_info *t)
{
    size_t n = focal_model_num_tensors(x->r->model);
    for (size_t i = 0; i < n; i++) {
        focal_model_tensor(x->r->model, i, t);
        if (strcmp(t->name, name) == 0)
            return 0;
    }
    return -1;
}

/* The model tensor "<prefix>.<suffix>" as an initializer of the same name, if
 * it has ndim dimensions and (where want[i] > 0) size want[i] along axis i.
 * *t receives it. Returns the name; NULL with the message set when it is
 * missing (and `optional` is 0) or misshapen, or when out of memory; for a
 * missing optional tensor NULL with err empty. */
static const char *weight(struct ex *x, const char *prefix, const char *suffix, int ndim, const int *want,
                          int optional, struct focal_tensor_info *t)
{
    char name[96];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    x->err[0] = '\0';
    if (find_tensor(x, name, t) != 0) {
        if (!optional)
            fail(x, "the checkpoint has no tensor '%s'", name);
        return NULL;
    }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = want[i] <= 0 || t->shape[i] == want[i];
    if (!ok) {
        char have[64] = "", need[64] = "";
        for (int i = 0; i < t->ndim && i < 4; i++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%d", i ? "x" : "", t->shape[i]);
        for (int i = 0; i < ndim; i++)
            snprintf(need + strlen(need), sizeof need - strlen(need), "%s%s%d", i ? "x" : "",
                     want[i] > 0 ? "" : "*", want[i] > 0 ? want[i] : 0);
        fail(x, "tensor '%s' is %s; the network needs %s", name, have, need);
        return NULL;
    }
    int64_t dims[4];
    for (int i = 0; i < ndim; i++)
        dims[i] = t->shape[i];
    const char *n = init_raw(x, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, t->data, t->numel * sizeof(float), ndim,
                             dims);
    if (!n)
        fail(x, "out of memory");
    return n;
}

/* ---- layers ------------------------------------------------------------------------------------ */

/* The words of line `line` of the description (comment removed) into tok
 * (at most 8, in buf); returns their count, or -1. */
static int line_words(const char *desc, int line, char *buf, size_t buflen, char *tok[8])
{
    const char *p = desc;
    for (int l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    if (!p)
        return -1;
    size_t len = strcspn(p, "\n");
    if (len >= buflen)
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    buf[strcspn(buf, "#")] = '\0';
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
        if (n == 8)
            return -1;
        tok[n++] = w;
    }
    return n;
}

/* The value of key=VALUE among the words, or NULL. */
static const char *word_opt(char *const *tok, int n, const char *key)
{
    size_t k = strlen(key);
    for (int i = 1; i < n; i++)
        if (strncmp(tok[i], key, k) == 0 && tok[i][k] == '=')
            return tok[i] + k + 1;
    return NULL;
}

static int word_int(char *const *tok, int n, const char *key, int dflt)
{
    const char *v = word_opt(tok, n, key);
    return v ? (int)strtol(v, NULL, 10) : dflt;
}

static float word_float(char *const *tok, int n, const char *key, float dflt)
{
    const char *v = word_opt(tok, n, key);
    return v ? (float)strtod(v, NULL) : dflt;
}

/* Makes cur a 4-D tensor (N, F, 1, 1) if it is (N, F). */
static int need_4d(struct ex *x, const char *prefix)
{
    if (x->rank == 4)
        return 0;
    static const int64_t axes[2] = {2, 3};
    const int64_t dims[1] = {2};
    const char *a = init_raw(x, ex_printf(x, "%s.unsqueeze_axes", prefix), ONNX__TENSOR_PROTO__DATA_TYPE__INT64, axes,
                             sizeof axes, 1, dims);
    const char *out = ex_printf(x, "%s.unsqueeze", prefix);
    const char *in[2] = {x->cur, a};
    if (!a || !out || !node(x, "Unsqueeze", out, 2, in))
        return fail(x, "out of memory");
    x->cur = out;
    x->rank = 4;
    return 0;
}

/* out (N,OC,OH,OW) = Conv(cur) with weights <prefix>.weight (OC, C, K, K) and
 * the bias <prefix>.bias if the checkpoint has one. */
static int emit_conv(struct ex *x, const char *prefix, const char *out, int stride, int pad, int pad_default)
{
    struct focal_tensor_info w, b;
    const int wshape[4] = {0, x->c, 0, 0};
    const char *wn = weight(x, prefix, "weight", 4, wshape, 0, &w);
    if (!wn)
        return -1;
    const int k = w.shape[2], oc = w.shape[0];
    if (w.shape[3] != k)
        return fail(x, "tensor '%s' holds a %dx%d kernel; focal's are square", wn, k, w.shape[3]);
    if (pad_default)
        pad = k / 2;
    const int bshape[1] = {oc};
    const char *bn = weight(x, prefix, "bias", 1, bshape, 1, &b);
    if (!bn && x->err[0])
        return -1;
    const char *in[3] = {x->cur, wn, bn};
    Onnx__NodeProto *nd = node(x, "Conv", out, bn ? 3 : 2, in);
    attr_ints(x, nd, "kernel_shape", 2, k);
    attr_ints(x, nd, "strides", 2, stride);
    attr_ints(x, nd, "pads", 4, pad);
    if (!nd)
        return fail(x, "out of memory");
    x->cur = nd->output[0];
    x->c = oc;
    x->h = (x->h + 2 * pad - k) / stride + 1;
    x->w = (x->w + 2 * pad - k) / stride + 1;
    return 0;
}

/* out = BatchNormalization(cur) in inference mode with <prefix>'s weight,
 * bias, running_mean and running_var (C each). */
static int emit_bn(struct ex *x, const char *prefix, const char *out, float eps)
{
    struct focal_tensor_info t;
    const int shape[1] = {x->c};
    const char *in[5] = {x->cur};
    static const char *const parts[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        if (!(in[i + 1] = weight(x, prefix, parts[i], 1, shape, 0, &t)))
            return -1;
    Onnx__NodeProto *nd = node(x, "BatchNormalization", out, 5, in);
    attr_float(x, nd, "epsilon", eps);
    if (!nd)
        return fail(x, "out of memory");
    x->cur = nd->output[0];
    return 0;
}

/* out = op(inputs) for an element-wise or shape operator without attributes. */
static int emit_simple(struct ex *x, const char *op, const char *out, int nin, const char *const *in)
{
    Onnx__NodeProto *nd = node(x, op, out, nin, in);
    if (!nd)
        return fail(x, "out of memory");
    x->cur = nd->output[0];
    return 0;
}

/* A ResNet basic block: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input or
 * its 1x1 conv + BN shortcut, then ReLU (tensors "<i>.conv1.weight", ...). */
static int emit_block(struct ex *x, const char *p, int stride)
{
    const char *in = x->cur;
    const int ic = x->c, ih = x->h, iw = x->w;
    char pre[48];
    snprintf(pre, sizeof pre, "%s.conv1", p);
    if (emit_conv(x, pre, pre, stride, 1, 0))
        return -1;
    snprintf(pre, sizeof pre, "%s.bn1", p);
    if (emit_bn(x, pre, pre, 1e-5f))
        return -1;
    const char *r1[1] = {x->cur};
    if (emit_simple(x, "Relu", ex_printf(x, "%s.relu1", p), 1, r1))
        return -1;
    snprintf(pre, sizeof pre, "%s.conv2", p);
    if (emit_conv(x, pre, pre, 1, 1, 0))
        return -1;
    snprintf(pre, sizeof pre, "%s.bn2", p);
    if (emit_bn(x, pre, pre, 1e-5f))
        return -1;
    const char *main_path = x->cur;
    const int oc = x->c, oh = x->h, ow = x->w;
    const char *shortcut = in;
    struct focal_tensor_info t;
    char name[64];
    snprintf(name, sizeof name, "%s.shortcut.0.weight", p);
    if (find_tensor(x, name, &t) == 0) {
        x->cur = in;
        x->c = ic, x->h = ih, x->w = iw;
        snprintf(pre, sizeof pre, "%s.shortcut.0", p);
        if (emit_conv(x, pre, pre, stride, 0, 0))
            return -1;
        snprintf(pre, sizeof pre, "%s.shortcut.1", p);
        if (emit_bn(x, pre, pre, 1e-5f))
            return -1;
        shortcut = x->cur;
        if (x->c != oc || x->h != oh || x->w != ow)
            return fail(x, "block %s: its shortcut gives %dx%dx%d, its convolutions %dx%dx%d", p, x->c, x->h,
                        x->w, oc, oh, ow);
    } else if (ic != oc || stride != 1) {
        return fail(x, "block %s changes the shape but the checkpoint has no tensor '%s'", p, name);
    }
    const char *add[2] = {main_path, shortcut};
    if (emit_simple(x, "Add", ex_printf(x, "%s.add", p), 2, add))
        return -1;
    const char *r2[1] = {x->cur};
    return emit_simple(x, "Relu", ex_printf(x, "%s.relu2", p), 1, r2);
}

/* The rows of the 2-D tensor `in` divided by their L2 norms clamped below at
 * 1e-12 (PyTorch's F.normalize, as focal's dense-norm computes it); names
 * start with p. Returns the result's name, or NULL with the message set. */
static const char *emit_l2_normalise(struct ex *x, const char *p, const char *in)
{
    static const float eps = 1e-12f;
    const char *nin[1] = {in};
    Onnx__NodeProto *nd = node(x, "ReduceL2", ex_printf(x, "%s.norm", p), 1, nin);
    attr_ints(x, nd, "axes", 1, 1);
    attr_int(x, nd, "keepdims", 1);
    const int64_t none[1] = {0};
    const char *e = init_floats(x, ex_printf(x, "%s.eps", p), &eps, 1, 0, none);
    if (!nd || !e ||
        emit_simple(x, "Max", ex_printf(x, "%s.clamped", p), 2, (const char *const[]){nd->output[0], e}) ||
        emit_simple(x, "Div", ex_printf(x, "%s.normalised", p), 2, (const char *const[]){in, x->cur})) {
        fail(x, "out of memory");
        return NULL;
    }
    return x->cur;
}

/* dense (Gemm with its bias, if any) or, with norm, dense-norm: the cosine
 * similarities of the normalised input rows with the normalised weight rows
 * ("<i>.weight", stored as trained), no bias. */
static int emit_dense(struct ex *x, const char *p, const char *out, int line, int norm)
{
    struct focal_tensor_info w, b;
    const int wshape[2] = {0, x->c};
    const char *wn = weight(x, p, "weight", 2, wshape, 0, &w);
    if (!wn)
        return -1;
    if (x->rank != 2)
        return fail(x, "network line %d: %s after a %dx%dx%d image", line, norm ? "dense-norm" : "dense", x->c,
                    x->h, x->w);
    const int bshape[1] = {w.shape[0]};
    const char *bn = norm ? NULL : weight(x, p, "bias", 1, bshape, 1, &b);
    if (!bn && !norm && x->err[0])
        return -1;
    const char *gin[3] = {x->cur, wn, bn};
    if (norm && (!(gin[0] = emit_l2_normalise(x, ex_printf(x, "%s.input", p), x->cur)) ||
                 !(gin[1] = emit_l2_normalise(x, ex_printf(x, "%s.weight", p), wn))))
        return -1;
    Onnx__NodeProto *nd = node(x, "Gemm", out, bn ? 3 : 2, gin);
    attr_int(x, nd, "transB", 1);
    if (!nd)
        return fail(x, "out of memory");
    x->cur = out;
    x->c = w.shape[0];
    return 0;
}

/* Layer i of the network, of the given kind, from its description line. */
static int emit_layer(struct ex *x, int i, const char *kind, int line)
{
    char buf[1024], *tok[8];
    const int n = line_words(focal_model_description(x->r->model), line, buf, sizeof buf, tok);
    if (n < 1 || strcmp(tok[0], kind) != 0)
        return fail(x, "network line %d: cannot read layer %d ('%s') from the description", line, i, kind);
    char p[16];
    snprintf(p, sizeof p, "%d", i);
    const char *out = ex_printf(x, "%d.%s", i, kind);
    const char *in[1] = {x->cur};
    if (!out)
        return fail(x, "out of memory");
    if (strcmp(kind, "conv") == 0) {
        if (need_4d(x, p))
            return -1;
        return emit_conv(x, p, out, word_int(tok, n, "stride", 1), word_int(tok, n, "pad", 0),
                         word_opt(tok, n, "pad") == NULL);
    }
    if (strcmp(kind, "batchnorm") == 0)
        return emit_bn(x, p, out, word_float(tok, n, "eps", 1e-5f));
    if (strcmp(kind, "relu") == 0)
        return emit_simple(x, "Relu", out, 1, in);
    if (strcmp(kind, "leakyrelu") == 0) {
        Onnx__NodeProto *nd = node(x, "LeakyRelu", out, 1, in);
        attr_float(x, nd, "alpha", word_float(tok, n, "slope", 0.01f));
        if (!nd)
            return fail(x, "out of memory");
        x->cur = out;
        return 0;
    }
    if (strcmp(kind, "maxpool") == 0 || strcmp(kind, "avgpool") == 0) {
        if (n < 2 || need_4d(x, p))
            return n < 2 ? fail(x, "network line %d: %s without a kernel size", line, kind) : -1;
        const int k = (int)strtol(tok[1], NULL, 10);
        const int stride = word_int(tok, n, "stride", k), pad = word_int(tok, n, "pad", 0);
        const int avg = kind[0] == 'a';
        Onnx__NodeProto *nd = node(x, avg ? "AveragePool" : "MaxPool", out, 1, in);
        attr_ints(x, nd, "kernel_shape", 2, k);
        attr_ints(x, nd, "strides", 2, stride);
        attr_ints(x, nd, "pads", 4, pad);
        if (avg)
            attr_int(x, nd, "count_include_pad", 1);
        if (!nd)
            return fail(x, "out of memory");
        x->cur = out;
        x->h = (x->h + 2 * pad - k) / stride + 1;
        x->w = (x->w + 2 * pad - k) / stride + 1;
        return 0;
    }
    if (strcmp(kind, "gap") == 0) {
        if (need_4d(x, p) || emit_simple(x, "GlobalAveragePool", ex_printf(x, "%d.gap.pool", i), 1, &x->cur))
            return -1;
        Onnx__NodeProto *nd = node(x, "Flatten", out, 1, &x->cur);
        attr_int(x, nd, "axis", 1);
        if (!nd)
            return fail(x, "out of memory");
        x->cur = out;
        x->h = x->w = 1;
        x->rank = 2;
        return 0;
    }
    if (strcmp(kind, "dropout") == 0)
        return 0;             /* the identity in inference */
    if (strcmp(kind, "flatten") == 0) {
        Onnx__NodeProto *nd = node(x, "Flatten", out, 1, in);
        attr_int(x, nd, "axis", 1);
        if (!nd)
            return fail(x, "out of memory");
        x->cur = out;
        x->c *= x->h * x->w;
        x->h = x->w = 1;
        x->rank = 2;
        return 0;
    }
    if (strcmp(kind, "dense") == 0 || strcmp(kind, "dense-norm") == 0)
        return emit_dense(x, p, out, line, kind[5] == '-');
    if (strcmp(kind, "block") == 0)
        return need_4d(x, p) ? -1 : emit_block(x, p, word_int(tok, n, "stride", 1));
    return fail(x, "network line %d: the exporter does not know layer '%s'", line, kind);
}

/* ---- input, normalisation, output ---------------------------------------------------------------- */

/* "input" normalised as focal normalises it: images (x − mean)·(1/std) per
 * channel (the reciprocal rounded to float, as focal computes it); features
 * (x − mean)/std, a NaN feature becoming 0. */
static int emit_normalise(struct ex *x)
{
    const struct focal_ckpt_meta *mt = &x->r->meta;
    x->cur = "input";
    if (mt->channels == 0)
        return 0;
    if (mt->channels != x->c)
        return fail(x, "the checkpoint normalises %d input channels; the model takes %d", mt->channels, x->c);
    float inv[FOCAL_MAX_NORM_CHANNELS];
    for (int c = 0; c < x->c; c++)
        inv[c] = 1.0f / mt->std[c];
    const int64_t dims4[4] = {1, x->c, 1, 1}, dims1[1] = {x->c}, none[1] = {0};
    const int table = x->rank == 2;
    const char *mean = init_floats(x, "normalise.mean", mt->mean, (size_t)x->c, table ? 1 : 4, table ? dims1 : dims4);
    const char *scale = table ? init_floats(x, "normalise.std", mt->std, (size_t)x->c, 1, dims1)
                              : init_floats(x, "normalise.inv_std", inv, (size_t)x->c, 4, dims4);
    if (!mean || !scale)
        return fail(x, "out of memory");
    const char *sub[2] = {"input", mean};
    if (emit_simple(x, "Sub", "normalise.centred", 2, sub))
        return -1;
    const char *sc[2] = {x->cur, scale};
    if (!table)
        return emit_simple(x, "Mul", "normalised", 2, sc);
    static const float zero = 0.0f;
    const char *z = init_floats(x, "normalise.zero", &zero, 1, 0, none);
    const char *isnan_in[1] = {"input"};
    if (!z || emit_simple(x, "Div", "normalise.scaled", 2, sc) ||
        emit_simple(x, "IsNaN", "normalise.missing", 1, isnan_in))
        return -1;
    const char *where[3] = {"normalise.missing", z, "normalise.scaled"};
    return emit_simple(x, "Where", "normalised", 3, where);
}

/* A float tensor value description: name, shape (batch dimension "N", then
 * dims[0..ndim)). */
static Onnx__ValueInfoProto *value_info(struct ex *x, const char *name, int ndim, const int *dims)
{
    Onnx__ValueInfoProto *v = ex_alloc(x, sizeof *v);
    Onnx__TypeProto *ty = ex_alloc(x, sizeof *ty);
    Onnx__TypeProto__Tensor *tt = ex_alloc(x, sizeof *tt);
    Onnx__TensorShapeProto *sh = ex_alloc(x, sizeof *sh);
    Onnx__TensorShapeProto__Dimension *d = ex_alloc(x, (size_t)(ndim + 1) * sizeof *d);
    Onnx__TensorShapeProto__Dimension **dp = ex_alloc(x, (size_t)(ndim + 1) * sizeof *dp);
    if (!v || !ty || !tt || !sh || !d || !dp)
        return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(ty);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i <= ndim; i++) {
        onnx__tensor_shape_proto__dimension__init(&d[i]);
        if (i == 0) {
            d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i].dim_param = ex_strdup(x, "N");
        } else {
            d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i].dim_value = dims[i - 1];
        }
        dp[i] = &d[i];
    }
    sh->dim = dp;
    sh->n_dim = (size_t)ndim + 1;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    ty->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    ty->tensor_type = tt;
    v->name = ex_strdup(x, name);
    v->type = ty;
    return v;
}

/* ---- metadata ------------------------------------------------------------------------------------ */

/* A growing string; NULL data after an allocation failure. */
struct text {
    char *s;
    size_t len, cap;
    int oom;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->len + (size_t)n + 1 > t->cap) {
        size_t nc = (t->len + (size_t)(n > 0 ? n : 0) + 1) * 2;
        char *s = n < 0 ? NULL : realloc(t->s, nc);
        if (!s) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* prefix, then v with the fewest digits that read back as v. */
static void text_add_number(struct text *t, const char *prefix, double v)
{
    char buf[40];
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    text_add(t, "%s%s", prefix, buf);
}

/* s as a JSON string (quoted, escaped). */
static void text_json_string(struct text *t, const char *s)
{
    text_add(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            text_add(t, "\\%c", *p);
        else if (*p == '\n')
            text_add(t, "\\n");
        else if (*p == '\t')
            text_add(t, "\\t");
        else if (*p < 0x20)
            text_add(t, "\\u%04x", *p);
        else
            text_add(t, "%c", *p);
    }
    text_add(t, "\"");
}

/* Adds the metadata entry key = the text (copied), resetting the text. */
static int meta_entry(struct ex *x, Onnx__StringStringEntryProto **e, const char *key, struct text *t)
{
    if (t->oom || !t->s || !(*e = ex_alloc(x, sizeof **e)))
        return fail(x, "out of memory");
    onnx__string_string_entry_proto__init(*e);
    (*e)->key = ex_strdup(x, key);
    (*e)->value = ex_strdup(x, t->s);
    t->len = 0;
    t->s[0] = '\0';
    return (*e)->key && (*e)->value ? 0 : fail(x, "out of memory");
}

#define N_META 11

/* The run's class names, thresholds and input conventions as metadata. */
static int emit_metadata(struct ex *x, Onnx__StringStringEntryProto **e, int table)
{
    const struct focal_run *r = x->r;
    const struct focal_ckpt_meta *mt = &r->meta;
    const int outputs = focal_model_classes(r->model);
    struct text t = {0};
    int k = 0, st = 0;
    text_add(&t, "[");
    for (int j = 0; j < outputs; j++) {
        text_add(&t, "%s", j ? ", " : "");
        if (mt->class_names && j < mt->num_classes)
            text_json_string(&t, mt->class_names[j]);
        else
            text_add(&t, "\"%d\"", j);
    }
    text_add(&t, "]");
    st = st || meta_entry(x, &e[k++], "class_names", &t);
    text_add(&t, "[");
    for (int j = 0; j < outputs; j++)
        text_add_number(&t, j ? ", " : "", r->thresholds[j]);
    text_add(&t, "]");
    st = st || meta_entry(x, &e[k++], "thresholds", &t);
    text_json_string(&t, focal_task_name(r->task));
    st = st || meta_entry(x, &e[k++], "task", &t);
    text_json_string(&t, focal_model_head(r->model) == FOCAL_HEAD_SOFTMAX ? "softmax" : "sigmoid");
    st = st || meta_entry(x, &e[k++], "head", &t);
    if (table)
        text_add(&t, "\"features [N, %d], float32, raw values (NaN: missing); the graph subtracts mean and "
                     "divides by std\"", r->channels);
    else
        text_add(&t, "\"image [N, %d, %d, %d], float32, %s, values pixel/255 in [0, 1], resized to %dx%d%s "
                     "as focal predict does; the graph subtracts mean and divides by std\"",
                 r->channels, r->height, r->width, r->channels == 1 ? "one gray channel" : "channels R, G, B",
                 r->width, r->height, r->fundus_crop ? " after cropping to the fundus" : "");
    st = st || meta_entry(x, &e[k++], "input", &t);
    text_add(&t, "[%d, %d, %d]", r->channels, r->height, r->width);
    st = st || meta_entry(x, &e[k++], "input_size", &t);
    for (int pass = 0; pass < 2; pass++) {
        text_add(&t, "[");
        for (int c = 0; c < mt->channels; c++)
            text_add(&t, "%s%.9g", c ? ", " : "", (double)(pass ? mt->std[c] : mt->mean[c]));
        text_add(&t, "]");
        st = st || meta_entry(x, &e[k++], pass ? "std" : "mean", &t);
    }
    text_add(&t, "%s", r->fundus_crop ? "true" : "false");
    st = st || meta_entry(x, &e[k++], "fundus_crop", &t);
    text_json_string(&t, focal_model_description(r->model));
    st = st || meta_entry(x, &e[k++], "network", &t);
    if (r->logit_shift) {
        text_add_number(&t, "", r->posthoc_tau);
        st = st || meta_entry(x, &e[k++], "posthoc_la_tau", &t);
    }
    free(t.s);
    return st ? -1 : k;
}

/* ---- the model ------------------------------------------------------------------------------------ */

/* Packs the model and writes it to path atomically. */
static int write_model(struct ex *x, const Onnx__ModelProto *model, const char *path, size_t *bytes)
{
    size_t n = onnx__model_proto__get_packed_size(model);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return fail(x, "out of memory (%zu bytes for the model)", n);
    size_t packed = onnx__model_proto__pack(model, buf);
    struct focal_wfile wf;
    int st = 0;
    if (packed != n)
        st = fail(x, "protobuf-c packed %zu bytes of %zu", packed, n);
    else if (focal_wfile_open(&wf, path) != FOCAL_OK)
        st = fail(x, "%s", focal_last_error());
    else if (fwrite(buf, 1, n, wf.fp) != n) {
        focal_wfile_abort(&wf);
        st = fail(x, "%s: write error", path);
    } else if (focal_wfile_commit(&wf) != FOCAL_OK)
        st = fail(x, "%s", focal_last_error());
    free(buf);
    *bytes = n;
    return st;
}

int export_onnx(const struct focal_run *r, const char *path, struct export_onnx_summary *sum, char *err,
                size_t errlen)
{
    static const uint16_t one = 1;
    struct ex x = {.r = r, .err = err, .errlen = errlen};
    struct export_onnx_summary s = {.opset = ONNX_OPSET};
    int st = -1;
    err[0] = '\0';
    if (*(const uint8_t *)&one != 1) {
        fail(&x, "ONNX stores weights little-endian; this machine is big-endian");
        goto out;
    }
    focal_model_input_shape(r->model, &x.c, &x.h, &x.w);
    s.table = x.h == 1 && x.w == 1;
    x.rank = s.table ? 2 : 4;
    const int in_c = x.c, in_h = x.h, in_w = x.w;
    if (emit_normalise(&x))
        goto out;
    const int nl = focal_model_num_layers(r->model);
    for (int i = 0; i < nl; i++) {
        const char *kind;
        int line;
        double fs, bs;
        focal_model_layer_time(r->model, i, &kind, &line, &fs, &bs);
        if (emit_layer(&x, i, kind, line))
            goto out;
    }
    const int classes = focal_model_classes(r->model);
    if (x.rank != 2 || x.c != classes) {
        fail(&x, "the network ends in %dx%dx%d values; expected %d logits", x.c, x.h, x.w, classes);
        goto out;
    }
    /* the logits' name, then the activation */
    Onnx__NodeProto *last = x.n_nodes ? x.nodes[x.n_nodes - 1] : NULL;
    if (last) {
        last->output[0] = "logits";
        last->name = "logits";
    }
    const char *lin[1] = {"logits"};
    const int softmax = focal_model_head(r->model) == FOCAL_HEAD_SOFTMAX;
    /* post-hoc logit adjustment: the run's constant shift added to the logits before the softmax */
    if (softmax && r->logit_shift) {
        float *shift = ex_alloc(&x, (size_t)classes * sizeof *shift);
        const int64_t dims[1] = {classes};
        for (int j = 0; shift && j < classes; j++)
            shift[j] = (float)r->logit_shift[j];
        const char *in[2] = {"logits", shift ? init_floats(&x, "logit_shift", shift, (size_t)classes, 1, dims) : NULL};
        if (!in[1] || !node(&x, "Add", "adjusted_logits", 2, in)) {
            fail(&x, "out of memory");
            goto out;
        }
        lin[0] = "adjusted_logits";
    }
    Onnx__NodeProto *act = node(&x, softmax ? "Softmax" : "Sigmoid", "probabilities", 1, lin);
    if (softmax)
        attr_int(&x, act, "axis", 1);

    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    opset.domain = "";
    opset.has_version = 1;
    opset.version = ONNX_OPSET;
    const int in_dims[3] = {in_c, in_h, in_w}, out_dims[1] = {classes};
    Onnx__ValueInfoProto *gin[1] = {value_info(&x, "input", s.table ? 1 : 3, in_dims)};
    Onnx__ValueInfoProto *gout[1] = {value_info(&x, "probabilities", 1, out_dims)};
    Onnx__StringStringEntryProto *meta[N_META] = {0};
    int n_meta = emit_metadata(&x, meta, s.table);
    if (n_meta < 0)
        goto out;
    if (x.oom || !act || !gin[0] || !gout[0]) {
        fail(&x, "out of memory");
        goto out;
    }
    graph.name = "focal";
    graph.doc_string = s.table ? "focal network: features [N, F] -> probabilities [N, K]"
                               : "focal network: image [N, C, H, W] in [0, 1] -> probabilities [N, K]";
    graph.node = x.nodes;
    graph.n_node = x.n_nodes;
    graph.initializer = x.inits;
    graph.n_initializer = x.n_inits;
    graph.input = gin;
    graph.n_input = 1;
    graph.output = gout;
    graph.n_output = 1;
    model.has_ir_version = 1;
    model.ir_version = ONNX_IR_VERSION;
    model.opset_import = opsets;
    model.n_opset_import = 1;
    model.producer_name = "focal";
    model.producer_version = (char *)focal_version();
    model.graph = &graph;
    model.metadata_props = meta;
    model.n_metadata_props = (size_t)n_meta;
    if (write_model(&x, &model, path, &s.bytes))
        goto out;
    s.nodes = (int)x.n_nodes;
    s.initializers = (int)x.n_inits;
    if (sum)
        *sum = s;
    st = 0;
out:
    if (st && !err[0])
        fail(&x, "out of memory");
    while (x.blocks) {
        struct block *b = x.blocks;
        x.blocks = b->next;
        free(b);
    }
    free(x.nodes);
    free(x.inits);
    return st;
}
