/* model_memory.c — the memory a network needs for its largest batch
 * (parameters, gradients, running statistics, activations, scratch), added
 * up in saturating arithmetic before anything is allocated, and refused above
 * the library's memory limit. */
#include <stdio.h>

#include "focal/nn.h"
#include "base/internal.h"
#include "nn/model_impl.h"

/* Parameters (weights and biases) and running statistics of one layer. */
static void layer_params(const struct layer *L, size_t *np, size_t *nb)
{
    const struct conv_part *convs[3] = {0};
    const struct bn_part *bns[3] = {0};
    *np = *nb = 0;
    if (L->kind == L_CONV)
        convs[0] = &L->conv;
    else if (L->kind == L_BN)
        bns[0] = &L->bn;
    else if (L->kind == L_DENSE)
        *np = sat_add(sat_mul((size_t)L->oc, L->isz), L->db != (size_t)-1 ? (size_t)L->oc : 0);
    else if (L->kind == L_BLOCK) {
        convs[0] = &L->blk->c1, convs[1] = &L->blk->c2, bns[0] = &L->blk->b1, bns[1] = &L->blk->b2;
        if (L->blk->has_sc)
            convs[2] = &L->blk->cs, bns[2] = &L->blk->bs;
    }
    for (int i = 0; i < 3; i++) {
        if (convs[i]) {
            const struct focal_conv *p = &convs[i]->p;
            *np = sat_add(*np, sat_mul((size_t)p->oc, (size_t)p->c * p->k * p->k));
            *np = sat_add(*np, convs[i]->bias ? (size_t)p->oc : 0);
        }
        if (bns[i]) {
            *np = sat_add(*np, 2 * (size_t)bns[i]->c);
            *nb = sat_add(*nb, 2 * (size_t)bns[i]->c);
        }
    }
}

/* Bytes of the activations and scratch allocate() gives layer L for B samples. */
static size_t layer_act_bytes(const struct layer *L, size_t B)
{
    const size_t o = sat_mul(B, L->osz), i = sat_mul(B, L->isz), f = sizeof(float);
    switch (L->kind) {
    case L_RELU:
    case L_LEAKY:
        return L->fused || L->conv_relu ? 0 : sat_mul(o, f);
    case L_CONV:
    case L_AVGPOOL:
    case L_GAP:
        return sat_mul(o, f);
    case L_DENSE: /* dense-norm: x̂ (B,I), ŵ and dw scratch (O,I) each, B + O norms */
        return L->dnorm ? sat_mul(sat_add(sat_add(sat_add(o, i), sat_mul(2 * L->osz, L->isz)), B + L->osz), f)
                        : sat_mul(o, f);
    case L_BN:
        return sat_add(sat_mul(o, f), 2 * (size_t)L->bn.c * f);
    case L_MAXPOOL:
        return sat_mul(o, f + sizeof(int32_t));
    case L_DROPOUT:
        return sat_mul(o, f + 1);
    case L_FLATTEN:
        return 0;
    case L_BLOCK:
        return sat_add(sat_add(sat_mul(o, (L->blk->has_sc ? 11 : 9) * f), sat_mul(i, f)),
                       6 * (size_t)L->blk->b1.c * f);
    }
    return 0;
}

static void format_bytes(char *buf, size_t len, size_t bytes)
{
    const double gib = (double)bytes / (1024.0 * 1024 * 1024);
    if (gib >= 0.1)
        snprintf(buf, len, "%.1f GiB", gib);
    else if (bytes >= 100 << 10)
        snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024));
    else
        snprintf(buf, len, "%.1f KiB", (double)bytes / 1024.0);
}

/* Refuses, before anything large is allocated, a network whose parameters,
 * gradients, activations and scratch for max_batch samples exceed the memory
 * limit (focal_memory_limit). The convolution workspace is its im2col size
 * for pl->threads threads (oneDNN's, chosen later, is of the same order). */
focal_status focal_model_check_memory(const struct focal_model *m, const struct plan *pl, const char *origin)
{
    const size_t B = (size_t)m->max_batch, f = sizeof(float);
    size_t params = sat_mul(sat_add(sat_mul(pl->nparams, 2), pl->nbuf), f);
    size_t acts = sat_mul(sat_add(sat_mul(2 * B, pl->gmax), B * (size_t)m->classes), f);
    size_t col = pl->col_size, worst = 0;
    int worst_i = -1;
    for (int i = 0; i < m->nl; i++) {
        const struct layer *L = &m->layers[i];
        if (L->kind == L_CONV) {
            const size_t cs = focal_conv_ws_size(&L->conv.p, pl->threads);
            col = cs > col ? cs : col;
        } else if (L->kind == L_BLOCK) {
            const struct conv_part *cp[3] = {&L->blk->c1, &L->blk->c2, L->blk->has_sc ? &L->blk->cs : NULL};
            for (int j = 0; j < 3; j++) {
                const size_t cs = cp[j] ? focal_conv_ws_size(&cp[j]->p, pl->threads) : 0;
                col = cs > col ? cs : col;
            }
        }
        size_t np, nb;
        layer_params(L, &np, &nb);
        const size_t a = layer_act_bytes(L, B);
        acts = sat_add(acts, a);
        const size_t mine = sat_add(sat_mul(sat_add(sat_mul(np, 2), nb), f), a);
        if (worst_i < 0 || mine > worst)
            worst = mine, worst_i = i;
    }
    acts = sat_add(acts, sat_mul(col, f));
    const size_t total = sat_add(params, acts);
    int dflt;
    const size_t limit = focal_memory_limit(&dflt);
    if (total <= limit)
        return FOCAL_OK;
    char t[32], p[32], a[32], w[32], l[32];
    format_bytes(t, sizeof t, total);
    format_bytes(p, sizeof p, params);
    format_bytes(a, sizeof a, acts);
    format_bytes(w, sizeof w, worst);
    format_bytes(l, sizeof l, limit);
    const char *kind;
    int line;
    double fs, bs;
    focal_model_layer_time(m, worst_i, &kind, &line, &fs, &bs);
    return focal_fail(FOCAL_ERR_ARG,
                      "%s: the network needs %s for batch %d (%s of parameters and gradients, %s of activations and "
                      "scratch; the largest, line %d (%s), needs %s); the limit is %s (%s)",
                      origin ? origin : "network", t, m->max_batch, p, a, line, kind, w, l,
                      dflt ? "this machine's physical memory; set another with --max-memory"
                           : "the memory limit set");
}

