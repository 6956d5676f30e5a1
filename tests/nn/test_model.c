/* test_model.c — networks as a whole: the description parser and its error
 * messages, the presets at the sizes they are used at, tensor naming, a
 * finite-difference check of the whole network's backward pass (so every
 * layer is wired correctly, residual blocks included), run-to-run determinism
 * of training, and that training actually learns a simple problem. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"

static uint64_t rs = 0x853c49e6748fea9bull;

/* The test data's generator (see check.h). */
static double urand(void)
{
    return check_urand(&rs);
}

static int msg_has(const char *needle)
{
    return strstr(focal_last_error(), needle) != NULL;
}

static void test_parse_errors(void)
{
    struct focal_model *m = NULL;
    struct {
        const char *desc, *want1, *want2;
    } cases[] = {
        {"conv 8 3\nrelux\nflatten\ndense classes", "net.txt:2:", "unknown layer 'relux'"},
        {"conv 8 3 strid=2\nflatten\ndense classes", "net.txt:1:", "unknown key 'strid'"},
        {"conv 8 abc\nflatten\ndense classes", "net.txt:1:", "'abc' is not a valid kernel size"},
        {"conv 8\nflatten\ndense classes", "net.txt:1:", "expected conv OUT_CHANNELS KERNEL"},
        {"# comment\n\nconv 8 3\ndense classes", "net.txt:4:", "needs a flat input"},
        {"conv 8 3\nflatten\ndense 7", "net.txt:3:", "last layer must be `dense classes`"},
        {"flatten\nconv 8 3\nflatten\ndense classes", "net.txt:2:", "needs an image input"},
        {"conv 8 3\nmaxpool 64\nflatten\ndense classes", "net.txt:2:", "does not fit"},
        {"dropout 1.5\nflatten\ndense classes", "net.txt:1:", "not a valid probability"},
        {"", "net.txt", "no layers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        focal_status st = focal_model_create(&m, cases[i].desc, "net.txt", 3, 16, 16, 4, FOCAL_HEAD_SIGMOID, 2);
        CHECKF(st == FOCAL_ERR_FORMAT && m == NULL && msg_has(cases[i].want1) && msg_has(cases[i].want2),
               "case %zu: status %d, message '%s'", i, (int)st, focal_last_error());
    }
    CHECK(focal_model_create(&m, "flatten\ndense classes", NULL, 0, 4, 4, 2, FOCAL_HEAD_SIGMOID, 2) == FOCAL_ERR_ARG);
    CHECK(focal_model_create(&m, "flatten\ndense classes", NULL, 1, 4, 4, 2, FOCAL_HEAD_SIGMOID, 0) == FOCAL_ERR_ARG);
    CHECK(focal_model_preset("no-such-net") == NULL);
}

/* Presets build at the sizes the benchmarks and the README use; parameter
 * counts follow from the architecture (computed here by hand). */
static void test_presets(void)
{
    struct focal_model *m;
    /* keras-cnn at 3×96×144: convs 5×5 pad 2 keep size, pools halve: 96×144 → 6×9 */
    CHECK(focal_model_create(&m, focal_model_preset("keras-cnn"), "keras-cnn", 3, 96, 144, 45, FOCAL_HEAD_SIGMOID, 2) ==
          FOCAL_OK);
    if (m) {
        const size_t conv = (16 * 3 * 25 + 16) + (32 * 16 * 25 + 32) + (64 * 32 * 25 + 64) + (64 * 64 * 25 + 64);
        const size_t bn = 2 * (16 + 32 + 64 + 64);
        const size_t dense = (128 * 64 * 6 * 9 + 128) + (64 * 128 + 64) + (45 * 64 + 45);
        CHECKF(focal_model_num_params(m) == conv + bn + dense, "keras-cnn has %zu parameters, expected %zu",
               focal_model_num_params(m), conv + bn + dense);
        focal_model_free(m);
    }
    CHECK(focal_model_create(&m, focal_model_preset("keras-cnn"), "keras-cnn", 3, 300, 450, 45, FOCAL_HEAD_SIGMOID, 1) ==
          FOCAL_OK);
    focal_model_free(m);
    CHECK(focal_model_create(&m, focal_model_preset("resnet-mini"), "resnet-mini", 3, 28, 28, 5, FOCAL_HEAD_SOFTMAX,
                             4) == FOCAL_OK);
    if (m) {
        /* names follow PyTorch's state_dict of the equivalent network */
        struct focal_tensor_info ti;
        int found_sc = 0, found_bn = 0;
        for (size_t i = 0; i < focal_model_num_tensors(m); i++) {
            focal_model_tensor(m, i, &ti);
            found_sc += strcmp(ti.name, "5.shortcut.0.weight") == 0 && ti.ndim == 4 && ti.shape[0] == 64 &&
                        ti.shape[1] == 32 && ti.shape[2] == 1;
            found_bn += strcmp(ti.name, "1.running_var") == 0 && ti.role == FOCAL_TENSOR_BUFFER && ti.data[0] == 1.0f;
        }
        CHECK(found_sc == 1 && found_bn == 1);
        focal_model_tensor(m, 0, &ti);
        CHECK(strcmp(ti.name, "0.weight") == 0 && ti.role == FOCAL_TENSOR_WEIGHT);
        focal_model_free(m);
    }
    CHECK(focal_model_create(&m, focal_model_preset("resnet-mini"), "resnet-mini", 3, 64, 64, 5, FOCAL_HEAD_SOFTMAX,
                             2) == FOCAL_OK);
    focal_model_free(m);
    CHECK(focal_model_create(&m, focal_model_preset("mlp"), "mlp", 8, 1, 1, 2, FOCAL_HEAD_SIGMOID, 16) == FOCAL_OK);
    if (m)
        CHECK(focal_model_num_params(m) == (128 * 8 + 128) + (64 * 128 + 64) + (2 * 64 + 2));
    focal_model_free(m);
}

/* L = Σ logits·dout over a training-mode forward; checks d L / d params (every
 * parameter of a small network with every layer kind) and, through the
 * first convolution, that gradients reach the input side. */
static void test_whole_network_gradients(void)
{
    static const char desc[] = "conv 6 3\n"
                               "batchnorm\n"
                               "leakyrelu slope=0.1\n"
                               "block 8 stride=2\n"
                               "block 8\n"
                               "avgpool 2 stride=1 pad=1\n"
                               "conv 5 1\n"
                               "relu\n"
                               "maxpool 2\n"
                               "flatten\n"
                               "dense 7\n"
                               "relu\n"
                               "dropout 0\n"
                               "dense classes\n";
    struct focal_model *m;
    const int n = 3, c = 2, h = 9, w = 9, k = 3;
    CHECK(focal_model_create(&m, desc, "gradcheck", c, h, w, k, FOCAL_HEAD_SIGMOID, n) == FOCAL_OK);
    if (!m) {
        fprintf(stderr, "%s\n", focal_last_error());
        return;
    }
    CHECK(focal_model_init(m, 7, -1) == FOCAL_OK);
    float x[3 * 2 * 9 * 9], dout[3 * 3];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)(urand() * 2 - 1);
    for (int i = 0; i < n * k; i++)
        dout[i] = (float)(urand() * 2 - 1);
    const float *logits;
    CHECK(focal_model_forward(m, x, n, 1, &logits) == FOCAL_OK);
    focal_model_zero_grad(m);
    CHECK(focal_model_backward(m, dout, n) == FOCAL_OK);
    const size_t np = focal_model_num_params(m);
    float *p = focal_model_params(m);
    float *g = malloc(np * sizeof *g);
    memcpy(g, focal_model_grads(m), np * sizeof *g);
    /* a sample of parameters from every tensor; a wiring error corrupts a
     * whole tensor, so each tensor is judged by its median error, which a
     * sample that happens to straddle a ReLU or max-pool switch cannot sway */
    double worst_median = 0;
    const char *worst_name = "";
    int checked = 0, within = 0;
    for (size_t t = 0; t < focal_model_num_tensors(m); t++) {
        struct focal_tensor_info ti;
        focal_model_tensor(m, t, &ti);
        if (ti.role == FOCAL_TENSOR_BUFFER)
            continue;
        double errs[7];
        int ne = 0;
        for (size_t s = 0; s < ti.numel && s < 7; s++) {
            const size_t j = (size_t)(ti.data - p) + (s * 7919) % ti.numel;
            const float save = p[j];
            const float hstep = 2e-3f;
            double l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                p[j] = save + (sgn ? -hstep : hstep);
                CHECK(focal_model_forward(m, x, n, 1, &logits) == FOCAL_OK);
                double acc = 0;
                for (int i = 0; i < n * k; i++)
                    acc += (double)logits[i] * dout[i];
                l[sgn] = acc;
            }
            p[j] = save;
            const double num = (l[0] - l[1]) / (2.0 * hstep);
            /* float32 forward passes leave about 3e-4 of noise in the quotient */
            errs[ne] = fabs(num - g[j]) / (fmax(fabs(num), fabs(g[j])) + 2e-2);
            within += errs[ne] < 2e-2;
            ne++;
            checked++;
        }
        for (int i = 1; i < ne; i++) /* insertion sort for the median */
            for (int q = i; q > 0 && errs[q] < errs[q - 1]; q--) {
                const double tmp = errs[q];
                errs[q] = errs[q - 1];
                errs[q - 1] = tmp;
            }
        const double med = errs[ne / 2];
        CHECKF(med < 2e-2, "%s: median relative error %.3g", ti.name, med);
        if (med > worst_median) {
            worst_median = med;
            worst_name = ti.name;
        }
    }
    printf("whole-network gradient check: %d parameters, %d within 2e-2; worst per-tensor median %.3g (%s)\n",
           checked, within, worst_median, worst_name);
    CHECKF(within * 10 >= checked * 9, "only %d of %d parameters within tolerance", within, checked);
    free(g);
    focal_model_free(m);
}

/* Trains a small CNN twice from the same seed: bit-identical losses; and the
 * loss falls on a problem the network can learn. */
static void train_run(double *losses, int steps, uint64_t seed)
{
    static const char desc[] = "conv 8 3\nbatchnorm\nrelu\nmaxpool 2\ndropout 0.2\nflatten\ndense 16\nrelu\n"
                               "dropout 0.3\ndense classes\n";
    const int n = 16, c = 1, h = 8, w = 8, k = 3;
    struct focal_model *m;
    struct focal_optim *o;
    struct focal_optim_config oc;
    struct focal_loss l;
    CHECK(focal_model_create(&m, desc, "train", c, h, w, k, FOCAL_HEAD_SIGMOID, n) == FOCAL_OK);
    if (!m)
        return;
    CHECK(focal_model_init(m, seed, 0.1) == FOCAL_OK);
    focal_optim_defaults(&oc, FOCAL_OPTIM_ADAM);
    oc.lr = 3e-3;
    CHECK(focal_optim_create(&o, &oc, m) == FOCAL_OK);
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.alpha = 0.25;
    /* label j is on when quadrant j of the image is bright */
    uint64_t save = rs;
    rs = 0x9e3779b97f4a7c15ull;
    float x[16 * 64], y[16 * 3];
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++) {
            int bits = (int)(urand() * 8);
            for (int j = 0; j < k; j++)
                y[i * k + j] = (float)((bits >> j) & 1);
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++) {
                    const int quad = (r >= 4) * 2 + (q >= 4);
                    const float on = quad < 3 && ((bits >> quad) & 1) ? 1.0f : 0.0f;
                    x[i * 64 + r * 8 + q] = on + (float)(urand() * 0.5);
                }
        }
        CHECK(focal_train_step(m, o, &l, x, y, n, &losses[s]) == FOCAL_OK);
    }
    rs = save;
    focal_optim_free(o);
    focal_model_free(m);
}

/* A loss that does not fit the head, or has a bad parameter, is refused
 * before anything in the model changes. */
static void test_step_refusals(void)
{
    struct focal_model *m;
    struct focal_optim *o;
    struct focal_optim_config oc;
    struct focal_loss l;
    CHECK(focal_model_create(&m, "conv 2 3\nbatchnorm\nflatten\ndropout 0.5\ndense classes", "t", 1, 4, 4, 3,
                             FOCAL_HEAD_SIGMOID, 4) == FOCAL_OK);
    if (!m)
        return;
    CHECK(focal_model_init(m, 3, -1) == FOCAL_OK);
    focal_optim_defaults(&oc, FOCAL_OPTIM_SGD);
    CHECK(focal_optim_create(&o, &oc, m) == FOCAL_OK);
    float x[4 * 16], y[4 * 3] = {0};
    for (int i = 0; i < 64; i++)
        x[i] = (float)urand();
    const size_t nt = focal_model_num_tensors(m);
    float before[64];
    struct focal_tensor_info ti;
    size_t nb = 0;
    for (size_t t = 0; t < nt; t++) { /* the BN running statistics */
        focal_model_tensor(m, t, &ti);
        for (size_t j = 0; ti.role == FOCAL_TENSOR_BUFFER && j < ti.numel && nb < 64; j++)
            before[nb++] = ti.data[j];
    }
    double loss;
    focal_loss_init(&l, FOCAL_LOSS_CE);
    CHECK(focal_train_step(m, o, &l, x, y, 4, &loss) == FOCAL_ERR_ARG && strstr(focal_last_error(), "head"));
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    l.gamma = -1;
    CHECK(focal_train_step(m, o, &l, x, y, 4, &loss) == FOCAL_ERR_ARG && strstr(focal_last_error(), "gamma"));
    size_t k = 0;
    int same = 1;
    for (size_t t = 0; t < nt; t++) {
        focal_model_tensor(m, t, &ti);
        for (size_t j = 0; ti.role == FOCAL_TENSOR_BUFFER && j < ti.numel && k < nb; j++)
            same &= before[k++] == ti.data[j];
    }
    CHECK(nb > 0 && same && focal_optim_steps(o) == 0);
    focal_optim_free(o);
    focal_model_free(m);
}

static void test_training(void)
{
    enum { steps = 150 };
    double a[steps], b[steps];
    train_run(a, steps, 42);
    train_run(b, steps, 42);
    CHECK(memcmp(a, b, sizeof a) == 0);
    double first = 0, last = 0;
    for (int i = 0; i < 10; i++) {
        first += a[i] / 10;
        last += a[steps - 10 + i] / 10;
    }
    printf("training: mean loss of the first 10 steps %.5f, of the last 10 %.5f\n", first, last);
    CHECKF(last < 0.5 * first, "loss went from %.5f to %.5f", first, last);
}

/* focal_model_normalise_head: the last layer line (comments and blank lines
 * after it aside) becomes dense-norm, keeping its width and comment, dropping
 * a bias option; dense-norm is kept; anything else is refused naming the
 * line; every preset's rewrite builds. */
static void test_normalise_head(void)
{
    static const struct {
        const char *in, *out;
        int changed;
    } cases[] = {
        {"flatten\ndense 8\ndense classes\n", "flatten\ndense 8\ndense-norm classes\n", 1},
        {"flatten\n  dense classes bias=0   # logits\n\n# end\n", "flatten\n  dense-norm classes # logits\n\n# end\n",
         1},
        {"flatten\ndense-norm classes\n", "flatten\ndense-norm classes\n", 0},
        {"gap\ndense 4", "gap\ndense-norm 4", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        int changed = -1;
        CHECK(focal_model_normalise_head(cases[i].in, "net.txt", &out, &changed) == FOCAL_OK);
        CHECKF(out && strcmp(out, cases[i].out) == 0 && changed == cases[i].changed, "case %zu: '%s' (changed %d)",
               i, out ? out : "(null)", changed);
        free(out);
    }
    char *out = (char *)1;
    int changed;
    CHECK(focal_model_normalise_head("flatten\ndense 8\nrelu # r\n\n", "net.txt", &out, &changed) ==
              FOCAL_ERR_FORMAT && out == NULL);
    CHECKF(strstr(focal_last_error(), "net.txt:3: the last layer must be") != NULL, "%s", focal_last_error());
    CHECK(focal_model_normalise_head("# nothing\n", "net.txt", &out, &changed) == FOCAL_ERR_FORMAT);
    const char *presets[] = {"keras-cnn", "resnet-mini", "mlp"};
    for (int p = 0; p < 3; p++) {
        struct focal_model *m = NULL;
        CHECK(focal_model_normalise_head(focal_model_preset(presets[p]), presets[p], &out, &changed) == FOCAL_OK &&
              changed == 1);
        CHECKF(focal_model_create(&m, out, presets[p], p == 2 ? 9 : 3, p == 2 ? 1 : 64, p == 2 ? 1 : 64, 5,
                                  FOCAL_HEAD_SOFTMAX, 4) == FOCAL_OK, "%s: %s", presets[p], focal_last_error());
        const char *kind;
        int line;
        double fs, bs;
        if (m)
            focal_model_layer_time(m, focal_model_num_layers(m) - 1, &kind, &line, &fs, &bs);
        CHECKF(m && strcmp(kind, "dense-norm") == 0, "%s: the last layer is not dense-norm", presets[p]);
        focal_model_free(m);
        free(out);
    }
}

int main(void)
{
    test_normalise_head();
    test_parse_errors();
    test_presets();
    test_whole_network_gradients();
    test_step_refusals();
    test_training();
    return check_done("test_model");
}
