/* test_tta.c — test-time flips through focal_run_predict: the probabilities
 * with FOCAL_TTA_FLIPS are the mean of the model's probabilities on the
 * image and on its flipped copies (horizontal; with trained_vflip also
 * vertical and both), on a non-square image so that width and height
 * cannot be confused; with a post-hoc logit shift, of the adjusted views;
 * table inputs are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "focal.h"
#include "check.h"

#define N 5
#define C 3
#define H 6
#define W 9
#define K 3

/* Pixels (N, H, W, C) of d, flipped horizontally (hf) and/or vertically (vf) from src. */
static void flipped(uint8_t *dst, const uint8_t *src, int hf, int vf)
{
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++) {
                    int sy = vf ? H - 1 - y : y, sx = hf ? W - 1 - x : x;
                    dst[(((size_t)i * H + y) * W + x) * C + c] = src[(((size_t)i * H + sy) * W + sx) * C + c];
                }
}

/* The run's probabilities of every sample of d (pixels px) with test-time augmentation tta. */
static focal_status predict(struct focal_run *r, struct focal_dataset *d, uint8_t *px, int tta, double *p)
{
    static const int idx[N] = { 0, 1, 2, 3, 4 };
    d->pixels = px;
    r->tta = tta;
    return focal_run_predict(r, d, idx, N, p);
}

static double worst_gap(const double *a, const double *b)
{
    double w = 0;
    for (int i = 0; i < N * K; i++)
        w = fmax(w, fabs(a[i] - b[i]));
    return w;
}

int main(void)
{
    static uint8_t px[N * H * W * C], ph[sizeof px], pv[sizeof px], phv[sizeof px];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(check_urand(&s) * 256);
    flipped(ph, px, 1, 0);
    flipped(pv, px, 0, 1);
    flipped(phv, px, 1, 1);

    struct focal_dataset d = { .task = FOCAL_TASK_MULTILABEL, .n = N, .num_classes = K, .height = H, .width = W,
                               .channels = C };
    struct focal_run r = { .task = FOCAL_TASK_MULTILABEL, .num_classes = K, .channels = C, .height = H,
                           .width = W };
    CHECK(focal_model_create(&r.model, "conv 4 3\nrelu\nflatten\ndense classes\n", "tta", C, H, W, K,
                             FOCAL_HEAD_SIGMOID, 4) == FOCAL_OK);
    CHECK(focal_model_init(r.model, 3, -1) == FOCAL_OK);
    r.meta.channels = C;
    for (int c = 0; c < C; c++) {
        r.meta.mean[c] = 0.5f;
        r.meta.std[c] = 0.25f;
    }

    double p[N * K], q[N * K], v[N * K], hv[N * K], t[N * K], want[N * K];
    CHECK(predict(&r, &d, px, FOCAL_TTA_NONE, p) == FOCAL_OK);
    CHECK(predict(&r, &d, ph, FOCAL_TTA_NONE, q) == FOCAL_OK);
    CHECK(predict(&r, &d, pv, FOCAL_TTA_NONE, v) == FOCAL_OK);
    CHECK(predict(&r, &d, phv, FOCAL_TTA_NONE, hv) == FOCAL_OK);
    CHECKF(worst_gap(p, q) > 1e-4, "the flip changes the probabilities (gap %g)", worst_gap(p, q));

    /* identity and horizontal flip */
    CHECK(predict(&r, &d, px, FOCAL_TTA_FLIPS, t) == FOCAL_OK);
    for (int i = 0; i < N * K; i++)
        want[i] = (p[i] + q[i]) / 2;
    CHECKF(worst_gap(t, want) < 1e-6, "flips: worst gap %g from the mean of image and horizontal flip",
           worst_gap(t, want));

    /* a run trained with vertical flips: the four flips */
    r.trained_vflip = 1;
    CHECK(predict(&r, &d, px, FOCAL_TTA_FLIPS, t) == FOCAL_OK);
    for (int i = 0; i < N * K; i++)
        want[i] = (p[i] + q[i] + v[i] + hv[i]) / 4;
    CHECKF(worst_gap(t, want) < 1e-6, "flips with vflip: worst gap %g from the mean of the four", worst_gap(t, want));
    d.pixels = NULL;
    focal_run_release(&r);

    /* a softmax run with post-hoc logit adjustment: every view is adjusted,
     * then the views are averaged */
    struct focal_dataset dm = d;
    dm.task = FOCAL_TASK_MULTICLASS;
    struct focal_run rm = { .task = FOCAL_TASK_MULTICLASS, .num_classes = K, .channels = C, .height = H, .width = W };
    CHECK(focal_model_create(&rm.model, "conv 4 3\nrelu\nflatten\ndense classes\n", "tta", C, H, W, K,
                             FOCAL_HEAD_SOFTMAX, 4) == FOCAL_OK);
    CHECK(focal_model_init(rm.model, 3, 0) == FOCAL_OK);
    rm.meta.channels = C;
    for (int c = 0; c < C; c++) {
        rm.meta.mean[c] = 0.5f;
        rm.meta.std[c] = 0.25f;
    }
    double plain[N * K];
    CHECK(predict(&rm, &dm, px, FOCAL_TTA_NONE, plain) == FOCAL_OK);
    rm.logit_shift = malloc(K * sizeof *rm.logit_shift);
    rm.logit_shift[0] = 0.3;
    rm.logit_shift[1] = -1.2;
    rm.logit_shift[2] = 2.0;
    CHECK(predict(&rm, &dm, px, FOCAL_TTA_NONE, p) == FOCAL_OK);
    CHECK(predict(&rm, &dm, ph, FOCAL_TTA_NONE, q) == FOCAL_OK);
    CHECKF(worst_gap(p, plain) > 1e-3, "the shift changes the probabilities (gap %g)", worst_gap(p, plain));
    double wsum = 0;
    for (int i = 0; i < N; i++) {
        double z = 0;
        for (int j = 0; j < K; j++)
            z += plain[i * K + j] * exp(rm.logit_shift[j]);
        for (int j = 0; j < K; j++)
            wsum = fmax(wsum, fabs(p[i * K + j] - plain[i * K + j] * exp(rm.logit_shift[j]) / z));
    }
    CHECKF(wsum < 1e-12, "adjusted = softmax(z + shift): worst gap %g", wsum);
    CHECK(predict(&rm, &dm, px, FOCAL_TTA_FLIPS, t) == FOCAL_OK);
    for (int i = 0; i < N * K; i++)
        want[i] = (p[i] + q[i]) / 2;
    CHECKF(worst_gap(t, want) < 1e-6, "flips with a shift: worst gap %g from the mean of the adjusted views",
           worst_gap(t, want));
    dm.pixels = NULL;
    focal_run_release(&rm);

    /* a table has nothing to flip */
    static float feat[N * 4];
    struct focal_dataset dt = { .task = FOCAL_TASK_MULTILABEL, .n = N, .num_classes = K, .features = feat,
                                .n_features = 4 };
    struct focal_run rt = { .task = FOCAL_TASK_MULTILABEL, .num_classes = K, .channels = 4, .height = 1, .width = 1,
                            .tta = FOCAL_TTA_FLIPS };
    CHECK(focal_model_create(&rt.model, "flatten\ndense 4\nrelu\ndense classes\n", "mlp", 4, 1, 1, K, FOCAL_HEAD_SIGMOID, 4) ==
          FOCAL_OK);
    static const int idx[N] = { 0, 1, 2, 3, 4 };
    rt.meta.channels = 4;
    for (int c = 0; c < 4; c++)
        rt.meta.std[c] = 1;
    CHECK(focal_run_predict(&rt, &dt, idx, N, t) == FOCAL_ERR_ARG);
    CHECKF(strstr(focal_last_error(), "image inputs") != NULL, "message: %s", focal_last_error());
    focal_run_release(&rt);
    return check_done("test_tta");
}
