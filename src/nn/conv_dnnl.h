/* conv_dnnl.h — the oneDNN implementation of the convolution in layers.h,
 * used by conv.c only (compiled when the build has oneDNN: FOCAL_HAVE_DNNL).
 * The shapes, layouts and accumulation rules are focal_conv_forward's and
 * focal_conv_backward's; these functions add only what oneDNN needs. */
#ifndef FOCAL_CONV_DNNL_H
#define FOCAL_CONV_DNNL_H

#include <stddef.h>

#include "nn/layers.h"

/* Builds the primitives of convolution p for batches of max_batch images on
 * `threads` threads (others are built when first used), with a bias when bias
 * is 1 and a backward-data primitive when need_dinp is 1. NULL when oneDNN
 * cannot (no memory, no implementation for the shape). */
struct focal_conv_dnnl *focal_conv_dnnl_create(const struct focal_conv *p, int max_batch, int bias, int need_dinp,
                                               int threads);

/* Frees d (NULL is allowed). */
void focal_conv_dnnl_free(struct focal_conv_dnnl *d);

/* Floats of workspace the oneDNN path needs at max_batch (the reorder
 * buffers; oneDNN's own scratchpad is held in d). */
size_t focal_conv_dnnl_ws_size(const struct focal_conv_dnnl *d);

/* focal_conv_forward through oneDNN; ws: focal_conv_dnnl_ws_size(d) floats.
 * Returns 0, or −1 having written nothing the caller sees, when the
 * primitives for (n, threads) cannot be built or run: the caller then uses
 * the im2col path. */
int focal_conv_dnnl_forward(struct focal_conv_dnnl *d, float *out, float *ws, int threads, const float *inp,
                            const float *w, const float *b, int n);

/* focal_conv_backward through oneDNN: dinp (may be NULL; must be NULL if d was
 * built with need_dinp = 0) overwritten, dw and db (NULL exactly when d has no
 * bias) accumulated. Returns 0, or −1 as for the forward, having accumulated
 * nothing (dinp may have been written: the caller's fallback rewrites it). */
int focal_conv_dnnl_backward(struct focal_conv_dnnl *d, float *dinp, float *dw, float *db, float *ws, int threads,
                             const float *dout, const float *inp, const float *w, int n);

#endif
