/* tta.c — test-time augmentation: the probabilities of an image averaged
 * over its flips (focal_run_predict with FOCAL_TTA_FLIPS). */
#include <stdlib.h>
#include <string.h>

#include "focal/train.h"
#include "base/internal.h"
#include "train/run_internal.h"

/* Flips x (b, c, h, w) in place: along the width (horizontal) or the height. */
static void flip(float *x, int b, int c, int h, int w, int horizontal)
{
    for (size_t p = 0; p < (size_t)b * (size_t)c; p++) {
        float *img = x + p * (size_t)h * (size_t)w;
        if (horizontal) {
            for (int y = 0; y < h; y++)
                for (int i = 0, j = w - 1; i < j; i++, j--) {
                    float t = img[y * w + i];
                    img[y * w + i] = img[y * w + j];
                    img[y * w + j] = t;
                }
        } else {
            for (int i = 0, j = h - 1; i < j; i++, j--)
                for (int k = 0; k < w; k++) {
                    float t = img[i * w + k];
                    img[i * w + k] = img[j * w + k];
                    img[j * w + k] = t;
                }
        }
    }
}

focal_status focal_run_scores_flips(struct focal_model *m, const struct focal_dataset *d, const int *idx, int n,
                                   const float *mean, const float *std, int vflip, const double *shift,
                                   double *probs)
{
    int c, h, w;
    focal_model_input_shape(m, &c, &h, &w);
    if (h == 1 && w == 1)
        return focal_fail(FOCAL_ERR_ARG, "test-time flips need image inputs; this model takes %d features", c);
    int bmax = focal_model_max_batch(m), classes = focal_model_classes(m);
    int softmax = focal_model_head(m) == FOCAL_HEAD_SOFTMAX;
    /* identity, horizontal; with vflip then vertical (of the horizontal flip: both), horizontal (vertical) */
    static const int steps[] = { 1, 0, 1 };
    int views = vflip ? 4 : 2;
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    float *x = malloc((size_t)bmax * per * sizeof *x);
    double *p = malloc((size_t)bmax * (size_t)classes * sizeof *p);
    focal_status st = FOCAL_OK;
    if (!x || !p) {
        st = focal_fail(FOCAL_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int at = 0; at < n; at += bmax) {
        int b = n - at < bmax ? n - at : bmax;
        size_t len = (size_t)b * (size_t)classes;
        double *out = probs + (size_t)at * (size_t)classes;
        const float *logits;
        focal_run_inputs(x, d, idx + at, b, NULL, 0, mean, std);
        for (int v = 0; v < views; v++) {
            if (v > 0)
                flip(x, b, c, h, w, steps[v - 1]);
            if ((st = focal_model_forward(m, x, b, 0, &logits)) != FOCAL_OK)
                goto out;
            focal_run_probs(v ? p : out, logits, b, classes, softmax);
            if (shift)
                focal_run_adjust(v ? p : out, b, classes, shift);
            for (size_t i = 0; v && i < len; i++)
                out[i] += p[i];
        }
        for (size_t i = 0; i < len; i++)
            out[i] /= views;
    }
out:
    free(x);
    free(p);
    return st;
}
