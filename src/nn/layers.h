/* layers.h — the network layers: one explicit forward and one backward
 * function per layer, on NCHW float32 tensors. Internal to the library (the
 * public entry point is struct focal_model in focal.h); the tests use it
 * directly. None of these functions prints; none allocates and only the
 * two *_init functions can fail (they return −1), except the convolution's
 * oneDNN set-up (see there): shapes are the caller's responsibility and are
 * asserted.
 *
 * Backward conventions: parameter gradients (dw, db, dgamma, dbeta) are
 * ACCUMULATED (+=) — the caller zeroes them once per step; input gradients
 * (dinp) are OVERWRITTEN. */
#ifndef FOCAL_LAYERS_H
#define FOCAL_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

/* ---- sliding windows (convolution and pooling) ---------------------------- */

/* The output size of a k×k window moved by stride over an h×w input padded
 * by pad on every side: floor((h + 2·pad − k)/stride) + 1 per axis, as
 * PyTorch. Returns 0, or −1 (oh, ow untouched) when the window does not fit
 * the padded input. Needs k, stride >= 1 and pad >= 0. */
static inline int focal_window_out(int h, int w, int k, int stride, int pad, int *oh, int *ow)
{
    if (h + 2 * pad < k || w + 2 * pad < k)
        return -1;
    *oh = (h + 2 * pad - k) / stride + 1;
    *ow = (w + 2 * pad - k) / stride + 1;
    return 0;
}

/* ---- conv2d (conv.c, conv_dnnl.c) ------------------------------------------- */

/* Two implementations with one interface: im2col + GEMM through focal_sgemm
 * (always built), and oneDNN's convolution primitives (conv_dnnl.c, built
 * when CMake finds oneDNN and FOCAL_DNNL is ON). A struct focal_conv runs on
 * the im2col path until focal_conv_use_dnnl moves it to oneDNN. */

struct focal_conv_dnnl; /* oneDNN primitives of one convolution (conv_dnnl.c) */

struct focal_conv {
    int c, h, w;          /* input channels and size */
    int oc, k, stride, pad;
    int oh, ow;           /* output size: (h + 2·pad − k)/stride + 1 */
    int relu;             /* 1: the forward applies a (leaky) ReLU, see focal_conv_fuse_relu */
    float slope;          /* its slope for negative inputs (0: ReLU) */
    struct focal_conv_dnnl *dnnl; /* oneDNN path, or NULL: im2col + GEMM */
};

/* Fills oh, ow, starts without a fused ReLU and on the im2col path (dnnl =
 * NULL); returns 0, or −1 for a parameter below its minimum (sizes, kernel
 * and stride >= 1, pad >= 0) or an empty output. */
int focal_conv_init(struct focal_conv *p, int c, int h, int w, int oc, int k, int stride, int pad);

/* Makes the forward write out = v > 0 ? v : slope·v for v = conv + b (a ReLU
 * or leaky ReLU after the convolution, in the same pass; slope >= 0). The
 * backward is unchanged: its dout is the gradient with respect to v, and the
 * ReLU's own backward stays with the caller (for slope >= 0, out > 0 exactly
 * where v > 0, so out serves as the ReLU's input there). Call before
 * focal_conv_use_dnnl. */
void focal_conv_fuse_relu(struct focal_conv *p, float slope);

/* Moves p to the oneDNN path for batches of 1 to max_batch images. bias: the
 * forward's b and the backward's db will be non-NULL (1) or NULL (0);
 * need_dinp = 0 promises that every backward passes dinp = NULL, and skips
 * the backward-data primitive. threads: the thread count the primitives for
 * max_batch are built for now (others are built on first use). Allocates the
 * primitives (p->dnnl; release with focal_conv_release) and changes what
 * focal_conv_ws_size returns; call it before sizing the workspace. Returns 0
 * on the oneDNN path, 1 when p stays on the im2col path because the library
 * was built without oneDNN, −1 when it stays there because oneDNN could not
 * build the primitives (no memory, unsupported shape). Never prints. */
int focal_conv_use_dnnl(struct focal_conv *p, int max_batch, int bias, int need_dinp, int threads);

/* Frees p's oneDNN primitives, if any, and returns p to the im2col path. */
void focal_conv_release(struct focal_conv *p);

/* Floats of im2col scratch for one image (C·K·K × OH·OW; 0 for the 1×1,
 * stride 1, pad 0 fast path). */
size_t focal_conv_col_size(const struct focal_conv *p);

/* Floats of workspace for the forward and backward with up to `threads`
 * threads. im2col path: one im2col buffer per thread and, with more than one
 * thread, a weight-gradient partial per thread (focal_conv_col_size(p) for 1
 * thread). oneDNN path: the larger of that and the buffers for reordering
 * activations and weights between our layouts and oneDNN's at max_batch. */
size_t focal_conv_ws_size(const struct focal_conv *p, int threads);

/* out (N,OC,OH,OW) = conv(inp (N,C,H,W), w (OC,C,K,K)) + b (OC), through the
 * fused ReLU if any; b may be NULL (on the oneDNN path: exactly when it was
 * set up with bias = 0). n <= the
 * max_batch given to focal_conv_use_dnnl. im2col path: threads <= 1 (or
 * n = 1): images one after another, each GEMM using the BLAS's threads;
 * threads > 1: images split across threads. oneDNN path: oneDNN runs on
 * `threads` OpenMP threads. ws holds focal_conv_ws_size(p, threads) floats.
 * Does not allocate, except that the oneDNN path builds (once) the
 * primitives for a batch size or thread count it has not seen. One call at a
 * time per struct focal_conv. */
void focal_conv_forward(float *out, float *ws, int threads, const float *inp, const float *w, const float *b,
                        const struct focal_conv *p, int n);

/* dinp (N,C,H,W; may be NULL) overwritten; dw (OC,C,K,K) and db (OC; may be
 * NULL, as b in the forward) accumulated. threads, ws and allocation as for
 * the forward. */
void focal_conv_backward(float *dinp, float *dw, float *db, float *ws, int threads, const float *dout,
                         const float *inp, const float *w, const struct focal_conv *p, int n);

/* ---- batch normalisation over N·H·W per channel (bn.c) -------------------- */

/* Training mode: normalises with the batch statistics, saves mean and
 * rstd = 1/sqrt(var + eps) (C each) for backward, and updates the running
 * statistics as PyTorch does: run = (1 − momentum)·run + momentum·batch, with
 * the unbiased batch variance for run_var. relu = 1 applies a ReLU to the
 * output in the same pass (batch norm followed by ReLU). Needs n·hw >= 2. */
void focal_bn_forward_train(float *out, float *mean, float *rstd, float *run_mean, float *run_var,
                            const float *inp, const float *gamma, const float *beta, int n, int c,
                            int hw, float momentum, float eps, int relu);
/* Evaluation mode: normalises with the running statistics; relu as for the
 * training mode. */
void focal_bn_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                           const float *run_mean, const float *run_var, int n, int c, int hw, float eps,
                           int relu);
/* dinp overwritten; dgamma, dbeta accumulated. inp, mean, rstd from the
 * training-mode forward. relu_out (may be NULL): the output of a forward run
 * with relu = 1; dout is then the gradient after the ReLU, which is applied
 * here (where relu_out > 0). relu_in = 1: inp is the output of a ReLU, and
 * dinp is passed back through it (0 where inp <= 0), so that dinp is the
 * gradient with respect to the ReLU's input. Both may be given (a ReLU on
 * each side: relu → batchnorm → relu). */
void focal_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                       const float *mean, const float *rstd, const float *gamma, const float *relu_out,
                       int relu_in, int n, int c, int hw);

struct focal_comm;

/* Synchronised batch norm over the ranks of comm (focal_model_sync_bn): the
 * training forward and the backward above with each channel's sums taken
 * over every rank's samples (n may differ between ranks; their total N·HW
 * must be >= 2). The forward's sums are taken around run_mean, which every
 * rank holds alike. The backward adds this rank's Sdy and Sdyx into dbeta and
 * dgamma (summing the ranks' gradients completes them) and forms dinp with
 * the sums over all ranks. sums: scratch of 2C + 1 doubles. Return 0, or -1
 * when comm's sum failed (outputs undefined). */
int focal_bn_forward_train_sync(float *out, float *mean, float *rstd, float *run_mean, float *run_var,
                                const float *inp, const float *gamma, const float *beta, int n, int c, int hw,
                                float momentum, float eps, int relu, const struct focal_comm *comm,
                                double *sums);
int focal_bn_backward_sync(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                           const float *mean, const float *rstd, const float *gamma, const float *relu_out,
                           int relu_in, int n, int c, int hw, const struct focal_comm *comm, double *sums);

/* ---- element-wise (act.c) ------------------------------------------------------ */

/* out = inp > 0 ? inp : slope·inp (slope 0: ReLU). out may equal inp. */
void focal_relu_forward(float *out, const float *inp, size_t len, float slope);
/* dinp = dout · (inp > 0 ? 1 : slope). */
void focal_relu_backward(float *dinp, const float *dout, const float *inp, size_t len, float slope);

/* Inverted dropout: keeps each element with probability 1 − p and scales it by
 * 1/(1 − p); mask records the kept elements. p in [0, 1). The mask is drawn
 * sequentially from rng, so it does not depend on the thread count. */
void focal_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t len, float p,
                           struct focal_rng *rng);
void focal_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t len, float p);

/* out = a + b (residual add; out may be a or b); its backward passes dout to
 * both inputs. */
void focal_add_forward(float *out, const float *a, const float *b, size_t len);

/* ---- pooling (pool.c) ----------------------------------------------------------- */

struct focal_pool {
    int c, h, w;
    int k, stride, pad;
    int oh, ow;           /* floor((h + 2·pad − k)/stride) + 1, as PyTorch */
};

/* Fills oh, ow; returns 0, or −1 for a parameter below its minimum, a pad
 * larger than half the window (as PyTorch refuses) or an empty output. */
int focal_pool_init(struct focal_pool *p, int c, int h, int w, int k, int stride, int pad);

/* Max pool; argmax (N,C,OH,OW) records the input index (within the image's
 * channel plane) of each maximum; padding never wins. */
void focal_maxpool_forward(float *out, int32_t *argmax, const float *inp, const struct focal_pool *p, int n);
void focal_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, const struct focal_pool *p,
                            int n);
/* Average pool counting padded zeros in the divisor (PyTorch's default,
 * count_include_pad=True). */
void focal_avgpool_forward(float *out, const float *inp, const struct focal_pool *p, int n);
void focal_avgpool_backward(float *dinp, const float *dout, const struct focal_pool *p, int n);

/* Global average pool: out (N,C) = mean over H·W of inp (N,C,H,W). */
void focal_gap_forward(float *out, const float *inp, int n, int c, int hw);
void focal_gap_backward(float *dinp, const float *dout, int n, int c, int hw);

/* ---- dense (dense.c) -------------------------------------------------------------- */

/* out (N,O) = inp (N,I) · wᵀ + b, w (O,I) as PyTorch's nn.Linear; b may be NULL. */
void focal_dense_forward(float *out, const float *inp, const float *w, const float *b, int n, int in, int out_n);
/* dinp (N,I; may be NULL) overwritten; dw (O,I), db (O; may be NULL) accumulated. */
void focal_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                          const float *w, int n, int in, int out_n);

/* ---- normalised dense (dense_norm.c) ------------------------------------------------ */

/* The clamp on a norm before it divides (PyTorch's F.normalize default). */
#define FOCAL_NORM_EPS 1e-12

/* Cosine similarity of rows, LDAM's classifier (Cao et al. 2019):
 * out (N,O) = x̂ · ŵᵀ, x̂ = inp/max(‖inp_i‖, eps) row by row, ŵ likewise for
 * w (O,I); no bias. Saves xn (N,I) = x̂, wn (O,I) = ŵ and nrm (N + O) = the
 * clamped norms of the rows of inp, then of w, for the backward. */
void focal_dense_norm_forward(float *out, float *xn, float *wn, float *nrm, const float *inp, const float *w, int n,
                              int in, int out_n);
/* dinp (N,I; may be NULL) overwritten; dw (O,I) accumulated; scratch holds
 * O·I floats. xn, wn, nrm from the forward. Where a norm was clamped the
 * gradient is the incoming one divided by eps, as PyTorch's. */
void focal_dense_norm_backward(float *dinp, float *dw, float *scratch, const float *dout, const float *xn,
                               const float *wn, const float *nrm, int n, int in, int out_n);

#endif
