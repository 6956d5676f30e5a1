/* model_impl.h — the layout of a network (its layers, their parts and
 * offsets into the parameter buffer), shared by the description parser
 * (model_parse.c) and the rest of the network code (model.c). */
#ifndef FOCAL_MODEL_IMPL_H
#define FOCAL_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "focal/nn.h"
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
    int dnorm;                  /* dense: the normalised (cosine) variant, `dense-norm` */
    float *xn, *wn, *nrm, *dws; /* dense-norm: normalised input and weights, their norms, dw scratch */
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
    const struct focal_comm *sync;  /* focal_model_sync_bn's, or NULL */
    double *sync_sums;          /* its scratch: 2C + 1 for the widest batch norm */
    int sync_failed;            /* a sum over the ranks failed in this pass */
};

/* The most values one sample's tensor (a layer's input or output, a
 * convolution's fan-in or im2col matrix) may hold: the layer functions index
 * them with int. */
#define MODEL_MAX_VALUES 2147483647

/* a + b and a × b, saturating at SIZE_MAX: a sum that saturates is refused
 * by the memory check as too large, whatever the limit. */
static inline size_t sat_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t sat_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* Running totals while the layers are laid out (saturating, see sat_add). */
struct plan {
    size_t nparams, nbuf, ntensors, names_len, col_size, gmax;
    int threads;                /* convolution workspace sized for this many threads */
};

/* Parses the description text (tokenised in place) into m->layers (room for
 * one layer per line) from the input shape m->in_c × m->in_h × m->in_w,
 * laying out the parameters, buffers and tensor names in pl. Checks that the
 * last layer is `dense classes`. Errors name origin and the line. */
focal_status focal_model_parse_layers(struct focal_model *m, char *text, const char *origin, struct plan *pl);

/* Refuses (FOCAL_ERR_ARG), before anything large is allocated, a network
 * whose parameters, gradients, activations and scratch for max_batch samples
 * exceed focal_memory_limit(), naming the figure, its largest layer and the
 * limit (model_memory.c). */
focal_status focal_model_check_memory(const struct focal_model *m, const struct plan *pl, const char *origin);

#endif
