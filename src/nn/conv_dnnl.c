/* conv_dnnl.c — the convolution's forward, backward-data and backward-weights
 * passes through oneDNN's direct f32 convolution primitives (the library
 * PyTorch's CPU convolutions use).
 *
 * Layouts: oneDNN chooses its own (format_tag_any: channel-blocked
 * activations such as nChw16c and blocked weights); our tensors stay NCHW and
 * OIHW. Each call reorders its inputs into the primitive's layouts and its
 * outputs back, through buffers in the caller's workspace; a tensor whose
 * layout already matches is used in place. The weights are reordered once
 * per call (once per layer and pass in a training step). Parameter gradients
 * come out of oneDNN overwritten, are reordered to OIHW in the workspace and
 * then added to dw and db, so that nothing the caller sees is accumulated
 * until every oneDNN step of the call has succeeded.
 *
 * Primitives are built per (batch size, thread count) and cached: those for
 * the largest batch when the convolution is set up, others (the smaller last
 * batch of an epoch, evaluation batches, another thread count) on first use,
 * least recently used first out. oneDNN's scratchpad is user-managed: one
 * buffer per convolution, sized for the largest need among its primitives.
 *
 * Threads: oneDNN is built on OpenMP and takes its thread count from
 * omp_get_max_threads() when a primitive is built and when it runs; both
 * happen here with the calling thread's OpenMP thread count set to `threads`
 * for the duration of the call.
 *
 * A ReLU fused into the convolution (focal_conv_fuse_relu) is a post-op of
 * the forward primitive, applied before the output is reordered.
 *
 * Results: the direct algorithm (never Winograd), whose sums run in an order
 * fixed by the shape, the instruction set and the thread count; the same
 * inputs on the same machine and thread count give bitwise equal results. */
#include <assert.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "focal/nn.h"
#include "nn/conv_dnnl.h"

/* (batch size, thread count) variants kept per convolution. */
#define DNNL_VARIANTS 4
/* Every workspace buffer starts on a cache line (bytes). */
#define WS_ALIGN 64

/* The buffers the workspace is cut into, in order. */
enum ws_buf {
    BUF_SRC,   /* forward src; backward diff_src, then the src of backward-weights */
    BUF_DST,   /* forward dst; backward diff_dst */
    BUF_WEI,   /* weights in oneDNN's layout; at the end of a backward, diff weights in OIHW */
    BUF_DWEI,  /* diff weights in oneDNN's layout */
    BUF_DBIAS, /* diff bias */
    BUF_COUNT
};

/* A primitive and the memory object through which it gets the scratchpad
 * (NULL when it needs none). */
struct prim {
    dnnl_primitive_t p;
    dnnl_memory_t scratch;
};

/* One tensor argument of a convolution primitive: `user` in our layout (on
 * the caller's tensor), `prim` in the primitive's layout (on workspace buffer
 * `buf`) and the reorder between them; prim is NULL when the two layouts are
 * equal and the primitive works on the caller's tensor directly. */
struct port {
    dnnl_memory_t user, prim;
    struct prim reorder;
    enum ws_buf buf;
};

/* The primitives for one batch size and thread count. */
struct variant {
    int n, threads;      /* n = 0: empty slot */
    int ok;              /* 0: building or running failed; (n, threads) takes the im2col path */
    unsigned long stamp; /* last use */
    struct prim fwd, bwd_d, bwd_w;
    struct port f_src, f_wei, f_dst;  /* forward */
    struct port d_ddst, d_wei, d_dsrc; /* backward data */
    struct port w_src, w_ddst, w_dwei; /* backward weights; w_dwei's user side is OIHW in BUF_WEI */
    dnnl_memory_t f_bias, w_dbias;
    int ddst_shared; /* backward-weights reads diff_dst in backward-data's layout: one reorder serves both */
};

struct focal_conv_dnnl {
    struct focal_conv p; /* the geometry (p.dnnl unused) */
    int max_batch, bias, need_dinp;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attr;      /* user-managed scratchpad, for every primitive */
    dnnl_primitive_attr_t attr_fwd;  /* the same and, for a fused ReLU, its post-op */
    size_t buf_off[BUF_COUNT];       /* bytes from the aligned start of the workspace */
    size_t buf_size[BUF_COUNT];
    size_t ws_bytes;                 /* including the slack for alignment */
    void *scratch;
    size_t scratch_size;
    unsigned long clock;
    struct variant v[DNNL_VARIANTS];
};

/* ---- helpers ------------------------------------------------------------------ */

/* Sets the calling thread's OpenMP thread count to threads; returns the
 * previous count for threads_leave. */
static int threads_enter(int threads)
{
    const int saved = omp_get_max_threads();
    if (saved != threads)
        omp_set_num_threads(threads);
    return saved;
}

static void threads_leave(int saved, int threads)
{
    if (saved != threads)
        omp_set_num_threads(saved);
}

static size_t round_up(size_t x)
{
    return (x + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
}

/* The workspace's first cache-line-aligned byte. */
static char *ws_base(float *ws)
{
    const uintptr_t a = (uintptr_t)ws;
    return (char *)ws + (round_up(a) - a);
}

static void prim_free(struct prim *pr)
{
    if (pr->p)
        dnnl_primitive_destroy(pr->p);
    if (pr->scratch)
        dnnl_memory_destroy(pr->scratch);
    pr->p = NULL;
    pr->scratch = NULL;
}

/* Builds pr from pd; raises *scratch to its scratchpad's size. */
static dnnl_status_t prim_make(const struct focal_conv_dnnl *d, struct prim *pr, const_dnnl_primitive_desc_t pd,
                               size_t *scratch)
{
    dnnl_status_t st = dnnl_primitive_create(&pr->p, pd);
    if (st != dnnl_success)
        return st;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    const size_t size = md ? dnnl_memory_desc_get_size(md) : 0;
    if (size == 0)
        return dnnl_success;
    if (size > *scratch)
        *scratch = size;
    return dnnl_memory_create(&pr->scratch, md, d->engine, DNNL_MEMORY_NONE);
}

static void port_free(struct port *pt)
{
    if (pt->user)
        dnnl_memory_destroy(pt->user);
    if (pt->prim)
        dnnl_memory_destroy(pt->prim);
    prim_free(&pt->reorder);
    pt->user = pt->prim = NULL;
}

/* Sets up pt between our layout `user` and the primitive's `want`; to_prim:
 * the reorder runs user → primitive (an input), else back (an output). Raises
 * need[buf] to the primitive-layout buffer's size when a reorder is needed. */
static dnnl_status_t port_make(const struct focal_conv_dnnl *d, struct port *pt, const dnnl_memory_desc_t *user,
                               const dnnl_memory_desc_t *want, int to_prim, enum ws_buf buf, size_t *need,
                               size_t *scratch)
{
    pt->buf = buf;
    dnnl_status_t st = dnnl_memory_create(&pt->user, user, d->engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success || dnnl_memory_desc_equal(user, want))
        return st;
    if ((st = dnnl_memory_create(&pt->prim, want, d->engine, DNNL_MEMORY_NONE)) != dnnl_success)
        return st;
    dnnl_primitive_desc_t pd;
    st = dnnl_reorder_primitive_desc_create(&pd, to_prim ? user : want, d->engine, to_prim ? want : user, d->engine,
                                            d->attr);
    if (st != dnnl_success)
        return st;
    st = prim_make(d, &pt->reorder, pd, scratch);
    dnnl_primitive_desc_destroy(pd);
    const size_t size = dnnl_memory_desc_get_size(want);
    if (size > need[buf])
        need[buf] = size;
    return st;
}

/* port_make between `user` and what pd's primitive wants for `what`. */
static dnnl_status_t port_for(const struct focal_conv_dnnl *d, struct port *pt, const dnnl_memory_desc_t *user,
                              const_dnnl_primitive_desc_t pd, dnnl_query_t what, int to_prim, enum ws_buf buf,
                              size_t *need, size_t *scratch)
{
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, what, 0);
    if (!want)
        return dnnl_runtime_error;
    return port_make(d, pt, user, want, to_prim, buf, need, scratch);
}

/* Runs pr with args[0..nargs) and, when it has one, the scratchpad (args has
 * room for it). */
static int run(const struct focal_conv_dnnl *d, const struct prim *pr, dnnl_exec_arg_t *args, int nargs)
{
    if (pr->scratch) {
        if (dnnl_memory_set_data_handle(pr->scratch, d->scratch) != dnnl_success)
            return -1;
        args[nargs].arg = DNNL_ARG_SCRATCHPAD;
        args[nargs].memory = pr->scratch;
        nargs++;
    }
    return dnnl_primitive_execute(pr->p, d->stream, nargs, args) == dnnl_success ? 0 : -1;
}

/* An input: points pt at our tensor (oneDNN only reads it), reorders it into
 * the primitive's layout when they differ; *mem: what the primitive reads. */
static int port_in(const struct focal_conv_dnnl *d, const struct port *pt, const float *data, char *ws,
                   dnnl_memory_t *mem)
{
    if (dnnl_memory_set_data_handle(pt->user, (void *)data) != dnnl_success)
        return -1;
    if (!pt->prim) {
        *mem = pt->user;
        return 0;
    }
    if (dnnl_memory_set_data_handle(pt->prim, ws + d->buf_off[pt->buf]) != dnnl_success)
        return -1;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, pt->user}, {DNNL_ARG_TO, pt->prim}};
    *mem = pt->prim;
    return run(d, &pt->reorder, a, 2);
}

/* An output, before the primitive runs: *mem is what it writes (our tensor
 * when the layouts are equal). */
static int port_out(const struct focal_conv_dnnl *d, const struct port *pt, float *data, char *ws,
                    dnnl_memory_t *mem)
{
    if (dnnl_memory_set_data_handle(pt->user, data) != dnnl_success)
        return -1;
    *mem = pt->user;
    if (!pt->prim)
        return 0;
    *mem = pt->prim;
    return dnnl_memory_set_data_handle(pt->prim, ws + d->buf_off[pt->buf]) == dnnl_success ? 0 : -1;
}

/* An output, after the primitive ran: reorders it into our layout. */
static int port_flush(const struct focal_conv_dnnl *d, const struct port *pt)
{
    if (!pt->prim)
        return 0;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, pt->prim}, {DNNL_ARG_TO, pt->user}};
    return run(d, &pt->reorder, a, 2);
}

/* ---- variants ----------------------------------------------------------------- */

static void variant_clear(struct variant *v)
{
    prim_free(&v->fwd);
    prim_free(&v->bwd_d);
    prim_free(&v->bwd_w);
    struct port *ports[] = {&v->f_src, &v->f_wei, &v->f_dst, &v->d_ddst, &v->d_wei,
                            &v->d_dsrc, &v->w_src, &v->w_ddst, &v->w_dwei};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        port_free(ports[i]);
    if (v->f_bias)
        dnnl_memory_destroy(v->f_bias);
    if (v->w_dbias)
        dnnl_memory_destroy(v->w_dbias);
    memset(v, 0, sizeof *v);
}

/* A copy of pd's memory descriptor `what` (index i). */
static dnnl_status_t query_md(dnnl_memory_desc_t *md, const_dnnl_primitive_desc_t pd, dnnl_query_t what, int i)
{
    const dnnl_memory_desc_t *q = dnnl_primitive_desc_query_md(pd, what, i);
    if (!q)
        return dnnl_runtime_error;
    *md = *q;
    return dnnl_success;
}

#define TRY(call)                                                                                                  \
    do {                                                                                                           \
        if ((st = (call)) != dnnl_success)                                                                         \
            goto out;                                                                                              \
    } while (0)

/* Builds v's primitives for n images on the current OpenMP thread count;
 * need[] and *scratch receive the workspace buffers' and the scratchpad's
 * sizes in bytes. On failure v is left for variant_clear. */
static dnnl_status_t variant_build(const struct focal_conv_dnnl *d, struct variant *v, int n, size_t *need,
                                   size_t *scratch)
{
    const struct focal_conv *p = &d->p;
    const dnnl_dims_t src_dims = {n, p->c, p->h, p->w}, wei_dims = {p->oc, p->c, p->k, p->k};
    const dnnl_dims_t dst_dims = {n, p->oc, p->oh, p->ow}, bias_dims = {p->oc};
    /* right padding as oneDNN defines it: what the last window reaches past
     * the input (pad or less; negative when the stride skips input rows) */
    const dnnl_dims_t strides = {p->stride, p->stride}, pad_l = {p->pad, p->pad};
    const dnnl_dims_t pad_r = {(dnnl_dim_t)(p->oh - 1) * p->stride + p->k - p->h - p->pad,
                               (dnnl_dim_t)(p->ow - 1) * p->stride + p->k - p->w - p->pad};
    dnnl_memory_desc_t src_u, wei_u, dst_u, bias_u, src_a, wei_a, dst_a, md, md2;
    dnnl_primitive_desc_t pd_f = NULL, pd_d = NULL, pd_w = NULL;
    dnnl_convolution_desc_t cd;
    dnnl_status_t st;
    TRY(dnnl_memory_desc_init_by_tag(&src_u, 4, src_dims, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&wei_u, 4, wei_dims, dnnl_f32, dnnl_oihw));
    TRY(dnnl_memory_desc_init_by_tag(&dst_u, 4, dst_dims, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&bias_u, 1, bias_dims, dnnl_f32, dnnl_a));
    TRY(dnnl_memory_desc_init_by_tag(&src_a, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&wei_a, 4, wei_dims, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&dst_a, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));
    const dnnl_memory_desc_t *bias = d->bias ? &bias_u : NULL;

    /* forward */
    TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct, &src_a, &wei_a, bias,
                                           &dst_a, strides, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&pd_f, &cd, d->attr_fwd, d->engine, NULL));
    TRY(prim_make(d, &v->fwd, pd_f, scratch));
    TRY(port_for(d, &v->f_src, &src_u, pd_f, dnnl_query_src_md, 1, BUF_SRC, need, scratch));
    TRY(port_for(d, &v->f_wei, &wei_u, pd_f, dnnl_query_weights_md, 1, BUF_WEI, need, scratch));
    TRY(port_for(d, &v->f_dst, &dst_u, pd_f, dnnl_query_dst_md, 0, BUF_DST, need, scratch));
    if (d->bias)
        TRY(dnnl_memory_create(&v->f_bias, &bias_u, d->engine, DNNL_MEMORY_NONE));

    /* backward data */
    if (d->need_dinp) {
        TRY(dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &src_a, &wei_a, &dst_a, strides,
                                                     pad_l, pad_r));
        TRY(dnnl_primitive_desc_create(&pd_d, &cd, d->attr, d->engine, pd_f));
        TRY(prim_make(d, &v->bwd_d, pd_d, scratch));
        TRY(port_for(d, &v->d_ddst, &dst_u, pd_d, dnnl_query_diff_dst_md, 1, BUF_DST, need, scratch));
        TRY(port_for(d, &v->d_wei, &wei_u, pd_d, dnnl_query_weights_md, 1, BUF_WEI, need, scratch));
        TRY(port_for(d, &v->d_dsrc, &src_u, pd_d, dnnl_query_diff_src_md, 0, BUF_SRC, need, scratch));
    }

    /* backward weights (and bias) */
    TRY(dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &src_a, &wei_a, bias, &dst_a,
                                                    strides, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&pd_w, &cd, d->attr, d->engine, pd_f));
    TRY(prim_make(d, &v->bwd_w, pd_w, scratch));
    TRY(port_for(d, &v->w_src, &src_u, pd_w, dnnl_query_src_md, 1, BUF_SRC, need, scratch));
    TRY(query_md(&md, pd_w, dnnl_query_diff_dst_md, 0));
    if (pd_d) {
        TRY(query_md(&md2, pd_d, dnnl_query_diff_dst_md, 0));
        v->ddst_shared = dnnl_memory_desc_equal(&md, &md2);
    }
    TRY(port_make(d, &v->w_ddst, &dst_u, &md, 1, BUF_DST, need, scratch));
    TRY(port_for(d, &v->w_dwei, &wei_u, pd_w, dnnl_query_diff_weights_md, 0, BUF_DWEI, need, scratch));
    const size_t wbytes = dnnl_memory_desc_get_size(&wei_u);
    if (wbytes > need[BUF_WEI])
        need[BUF_WEI] = wbytes; /* the OIHW diff weights before they are added to dw */
    if (d->bias) {
        TRY(dnnl_memory_create(&v->w_dbias, &bias_u, d->engine, DNNL_MEMORY_NONE));
        need[BUF_DBIAS] = dnnl_memory_desc_get_size(&bias_u);
    }
out:
    if (pd_f)
        dnnl_primitive_desc_destroy(pd_f);
    if (pd_d)
        dnnl_primitive_desc_destroy(pd_d);
    if (pd_w)
        dnnl_primitive_desc_destroy(pd_w);
    return st;
}

#undef TRY

/* Grows d's scratchpad to size bytes (contents are not kept). */
static int scratch_reserve(struct focal_conv_dnnl *d, size_t size)
{
    if (size <= d->scratch_size)
        return 0;
    void *s = aligned_alloc(WS_ALIGN, round_up(size));
    if (!s)
        return -1;
    free(d->scratch);
    d->scratch = s;
    d->scratch_size = size;
    return 0;
}

/* The variant for (n, threads), built if new (evicting the least recently
 * used); NULL when it cannot be built, or needs more workspace than was
 * planned at max_batch. Runs with the OpenMP thread count already at threads. */
static struct variant *variant_get(struct focal_conv_dnnl *d, int n, int threads)
{
    struct variant *v = &d->v[0];
    for (int i = 0; i < DNNL_VARIANTS; i++) {
        struct variant *c = &d->v[i];
        if (c->n == n && c->threads == threads) {
            c->stamp = ++d->clock;
            return c->ok ? c : NULL;
        }
        if (c->n == 0 || (v->n != 0 && c->stamp < v->stamp))
            v = c;
    }
    variant_clear(v);
    size_t need[BUF_COUNT] = {0}, scratch = 0;
    int ok = variant_build(d, v, n, need, &scratch) == dnnl_success;
    for (int b = 0; b < BUF_COUNT; b++)
        ok = ok && need[b] <= d->buf_size[b];
    ok = ok && scratch_reserve(d, scratch) == 0;
    if (!ok)
        variant_clear(v);
    v->n = n;
    v->threads = threads;
    v->ok = ok;
    v->stamp = ++d->clock;
    return ok ? v : NULL;
}

/* ---- the interface (conv_dnnl.h) --------------------------------------------- */

/* Appends to attr the post-op out = v > 0 ? v : slope·v (oneDNN's eltwise
 * ReLU with alpha = slope: the formula of focal_relu_forward). */
static dnnl_status_t attr_add_relu(dnnl_primitive_attr_t attr, float slope)
{
    dnnl_post_ops_t po;
    dnnl_status_t st = dnnl_post_ops_create(&po);
    if (st != dnnl_success)
        return st;
    st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, slope, 0.0f);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_post_ops_destroy(po);
    return st;
}

struct focal_conv_dnnl *focal_conv_dnnl_create(const struct focal_conv *p, int max_batch, int bias, int need_dinp,
                                               int threads)
{
    assert(p->oh >= 1 && p->ow >= 1 && max_batch >= 1);
    struct focal_conv_dnnl *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->p = *p;
    d->p.dnnl = NULL;
    d->max_batch = max_batch;
    d->bias = bias != 0;
    d->need_dinp = need_dinp != 0;
    if (threads < 1)
        threads = 1;
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_primitive_attr_create(&d->attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(d->attr, dnnl_scratchpad_mode_user) != dnnl_success ||
        dnnl_primitive_attr_clone(&d->attr_fwd, d->attr) != dnnl_success ||
        (p->relu && attr_add_relu(d->attr_fwd, p->slope) != dnnl_success)) {
        focal_conv_dnnl_free(d);
        return NULL;
    }
    const int saved = threads_enter(threads);
    struct variant *v = &d->v[0];
    size_t need[BUF_COUNT] = {0}, scratch = 0;
    const int ok = variant_build(d, v, max_batch, need, &scratch) == dnnl_success && scratch_reserve(d, scratch) == 0;
    threads_leave(saved, threads);
    if (!ok) {
        focal_conv_dnnl_free(d);
        return NULL;
    }
    v->n = max_batch;
    v->threads = threads;
    v->ok = 1;
    v->stamp = ++d->clock;
    size_t off = 0;
    for (int b = 0; b < BUF_COUNT; b++) {
        d->buf_off[b] = off;
        d->buf_size[b] = need[b];
        off += round_up(need[b]);
    }
    d->ws_bytes = off + WS_ALIGN; /* room to align the caller's workspace */
    return d;
}

void focal_conv_dnnl_free(struct focal_conv_dnnl *d)
{
    if (!d)
        return;
    for (int i = 0; i < DNNL_VARIANTS; i++)
        variant_clear(&d->v[i]);
    if (d->attr)
        dnnl_primitive_attr_destroy(d->attr);
    if (d->attr_fwd)
        dnnl_primitive_attr_destroy(d->attr_fwd);
    if (d->stream)
        dnnl_stream_destroy(d->stream);
    if (d->engine)
        dnnl_engine_destroy(d->engine);
    free(d->scratch);
    free(d);
}

size_t focal_conv_dnnl_ws_size(const struct focal_conv_dnnl *d)
{
    return (d->ws_bytes + sizeof(float) - 1) / sizeof(float);
}

/* The start of a call: the OpenMP thread count set to *threads (at least
 * 1; the previous count in *saved) and the variant for (n, *threads), or
 * NULL when it cannot be had. */
static struct variant *call_begin(struct focal_conv_dnnl *d, int n, int *threads, int *saved)
{
    if (*threads < 1)
        *threads = 1;
    *saved = threads_enter(*threads);
    return variant_get(d, n, *threads);
}

/* The end of a call that ran v (may be NULL) with result rc (0: success): a
 * failed variant serves no more calls; the thread count is restored.
 * Returns 0 or −1. */
static int call_end(struct variant *v, int rc, int saved, int threads)
{
    if (v && rc)
        v->ok = 0;
    threads_leave(saved, threads);
    return v && !rc ? 0 : -1;
}

int focal_conv_dnnl_forward(struct focal_conv_dnnl *d, float *out, float *ws, int threads, const float *inp,
                            const float *w, const float *b, int n)
{
    assert(n >= 1 && n <= d->max_batch && (b != NULL) == d->bias);
    int saved, rc = -1;
    struct variant *v = call_begin(d, n, &threads, &saved);
    if (v) {
        char *base = ws_base(ws);
        dnnl_memory_t src = NULL, wei = NULL, dst = NULL;
        dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, NULL}, {DNNL_ARG_WEIGHTS, NULL}, {DNNL_ARG_DST, NULL}};
        int na = 3;
        rc = port_in(d, &v->f_src, inp, base, &src) || port_in(d, &v->f_wei, w, base, &wei) ||
             port_out(d, &v->f_dst, out, base, &dst);
        if (!rc && b) {
            rc = dnnl_memory_set_data_handle(v->f_bias, (void *)b) != dnnl_success; /* only read */
            a[na].arg = DNNL_ARG_BIAS;
            a[na++].memory = v->f_bias;
        }
        a[0].memory = src;
        a[1].memory = wei;
        a[2].memory = dst;
        rc = rc || run(d, &v->fwd, a, na) || port_flush(d, &v->f_dst) || dnnl_stream_wait(d->stream) != dnnl_success;
    }
    return call_end(v, rc, saved, threads);
}

int focal_conv_dnnl_backward(struct focal_conv_dnnl *d, float *dinp, float *dw, float *db, float *ws, int threads,
                             const float *dout, const float *inp, const float *w, int n)
{
    assert(n >= 1 && n <= d->max_batch && (db != NULL) == d->bias && (dinp == NULL || d->need_dinp));
    int saved, rc = -1;
    struct variant *v = call_begin(d, n, &threads, &saved);
    if (v) {
        char *base = ws_base(ws);
        dnnl_memory_t g = NULL, wei = NULL, ds = NULL, src = NULL, dwm = NULL;
        rc = 0;
        if (dinp) {
            dnnl_exec_arg_t a[4] = {{DNNL_ARG_DIFF_DST, NULL}, {DNNL_ARG_WEIGHTS, NULL}, {DNNL_ARG_DIFF_SRC, NULL}};
            rc = port_in(d, &v->d_ddst, dout, base, &g) || port_in(d, &v->d_wei, w, base, &wei) ||
                 port_out(d, &v->d_dsrc, dinp, base, &ds);
            a[0].memory = g;
            a[1].memory = wei;
            a[2].memory = ds;
            rc = rc || run(d, &v->bwd_d, a, 3) || port_flush(d, &v->d_dsrc);
        }
        if (!rc && !(dinp && v->ddst_shared))
            rc = port_in(d, &v->w_ddst, dout, base, &g);
        float *gw = (float *)(base + d->buf_off[BUF_WEI]), *gb = (float *)(base + d->buf_off[BUF_DBIAS]);
        rc = rc || port_in(d, &v->w_src, inp, base, &src) || port_out(d, &v->w_dwei, gw, base, &dwm);
        dnnl_exec_arg_t a[6] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, g}, {DNNL_ARG_DIFF_WEIGHTS, dwm}};
        int na = 3;
        if (!rc && db) {
            rc = dnnl_memory_set_data_handle(v->w_dbias, gb) != dnnl_success;
            a[na].arg = DNNL_ARG_DIFF_BIAS;
            a[na++].memory = v->w_dbias;
        }
        rc = rc || run(d, &v->bwd_w, a, na) || port_flush(d, &v->w_dwei) ||
             dnnl_stream_wait(d->stream) != dnnl_success;
        if (!rc) {
            const size_t wl = (size_t)d->p.oc * d->p.c * d->p.k * d->p.k;
            for (size_t i = 0; i < wl; i++)
                dw[i] += gw[i];
            for (int o = 0; db && o < d->p.oc; o++)
                db[o] += gb[o];
        }
    }
    return call_end(v, rc, saved, threads);
}
