/* act.c — element-wise layers: (leaky) ReLU, inverted dropout and the
 * residual add. Each element is independent, so the loops are parallel and
 * vectorised and their results do not depend on the thread count. */
#include <assert.h>
#include <string.h>

#include "focal/nn.h"
#include "nn/layers.h"

/* Below this many elements a loop stays on one thread. */
#define ACT_PAR_MIN 32768

/* out = inp > 0 ? inp : slope·inp (slope 0: ReLU; NaN stays NaN). out may
 * equal inp (in place). */
void focal_relu_forward(float *out, const float *inp, size_t len, float slope)
{
    const ptrdiff_t m = (ptrdiff_t)len;
#pragma omp parallel for simd schedule(static) if (len >= ACT_PAR_MIN)
    for (ptrdiff_t i = 0; i < m; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}

/* dinp = dout · (inp > 0 ? 1 : slope), overwritten; dinp may equal dout. For
 * slope >= 0 the forward's output has the same sign pattern as its input, so
 * a caller that ran the forward in place may pass the output as inp. */
void focal_relu_backward(float *dinp, const float *dout, const float *inp, size_t len, float slope)
{
    const ptrdiff_t m = (ptrdiff_t)len;
#pragma omp parallel for simd schedule(static) if (len >= ACT_PAR_MIN)
    for (ptrdiff_t i = 0; i < m; i++)
        dinp[i] = inp[i] > 0.0f ? dout[i] : slope * dout[i];
}

/* Inverted dropout, p in [0, 1): element i is kept (mask[i] = 1, out[i] =
 * inp[i]/(1 − p)) when the i-th uniform drawn from rng is >= p, otherwise
 * dropped (mask[i] = 0, out[i] = 0). Exactly len uniforms are drawn, one per
 * element in order, so the mask depends only on the rng state on entry and
 * len — not on the thread count or the data. p = 0 copies inp, sets every
 * mask byte to 1 and draws nothing. out may equal inp. */
void focal_dropout_forward(float *out, uint8_t *mask, const float *inp, size_t len, float p,
                           struct focal_rng *rng)
{
    assert(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        if (out != inp)
            memmove(out, inp, len * sizeof *out);
        memset(mask, 1, len);
        return;
    }
    for (size_t i = 0; i < len; i++)
        mask[i] = focal_rng_uniform(rng) >= p;
    const float scale = 1.0f / (1.0f - p);
    const ptrdiff_t m = (ptrdiff_t)len;
#pragma omp parallel for simd schedule(static) if (len >= ACT_PAR_MIN)
    for (ptrdiff_t i = 0; i < m; i++) {
        const float v = inp[i] * scale; /* computed unconditionally: the select vectorises */
        out[i] = mask[i] ? v : 0.0f;
    }
}

/* dinp = dout·mask/(1 − p), overwritten, with the mask and p of the forward;
 * p = 0 copies dout. dinp may equal dout. */
void focal_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, size_t len, float p)
{
    assert(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        if (dinp != dout)
            memmove(dinp, dout, len * sizeof *dinp);
        return;
    }
    const float scale = 1.0f / (1.0f - p);
    const ptrdiff_t m = (ptrdiff_t)len;
#pragma omp parallel for simd schedule(static) if (len >= ACT_PAR_MIN)
    for (ptrdiff_t i = 0; i < m; i++) {
        const float v = dout[i] * scale;
        dinp[i] = mask[i] ? v : 0.0f;
    }
}

/* out = a + b element-wise; out may equal a or b. The backward is dout for
 * each input, so it has no function of its own. */
void focal_add_forward(float *out, const float *a, const float *b, size_t len)
{
    const ptrdiff_t m = (ptrdiff_t)len;
#pragma omp parallel for simd schedule(static) if (len >= ACT_PAR_MIN)
    for (ptrdiff_t i = 0; i < m; i++)
        out[i] = a[i] + b[i];
}
