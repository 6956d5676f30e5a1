/*
 * focal.h — the public interface of libfocal.
 *
 * libfocal computes classification losses for class-imbalanced data — focal
 * loss and its relatives — together with their exact gradients, in one fused
 * pass over float32 (or float64) logits. Every loss here is checked against
 * PyTorch/torchvision reference values and against finite differences.
 *
 * Conventions
 *   - Matrices are row-major: logits[i*c + j] is sample i, class j.
 *   - Functions return a focal_status; on failure focal_last_error() holds a
 *     message for the calling thread that names the offending value.
 *   - Nothing in the library prints, exits or keeps global state other than the
 *     per-thread error message.
 *
 * Worked example: sigmoid focal loss, α = 0.25, γ = 2, mean over elements.
 *
 *     struct focal_loss l;
 *     focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);   // γ = 2, reduction mean
 *     l.alpha = 0.25;
 *     float x[2*3] = { 0.5f, -1.0f, 3.0f,   2.0f, 0.0f, -4.0f };
 *     float y[2*3] = { 1,     0,     0,      1,    -1,    0    };  // -1: ignored
 *     float g[2*3];
 *     double loss;
 *     if (focal_sigmoid_loss(&l, 2, 3, x, y, g, NULL, &loss) != FOCAL_OK)
 *         fprintf(stderr, "focal: %s\n", focal_last_error());
 *     // loss = mean over the 5 counted elements; g = d loss / d x (0 where ignored)
 *
 * Build against it with `pkg-config --cflags --libs focal` or CMake's
 * `find_package(focal)` and the target `focal::focal`.
 */
#ifndef FOCAL_H
#define FOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOCAL_VERSION_MAJOR 0
#define FOCAL_VERSION_MINOR 1
#define FOCAL_VERSION_PATCH 0
#define FOCAL_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef enum focal_status {
    FOCAL_OK = 0,
    FOCAL_ERR_ARG,      /* an argument or parameter is out of its valid range */
    FOCAL_ERR_NOMEM,    /* an allocation failed */
    FOCAL_ERR_IO,       /* a file could not be opened, read or written */
    FOCAL_ERR_FORMAT,   /* a file's contents are malformed */
    FOCAL_ERR_NUMERIC   /* an input holds NaN or Inf */
} focal_status;

/* The message describing the last failure on the calling thread ("" if none).
 * The string is owned by the library and valid until the thread's next call. */
const char *focal_last_error(void);

/* A short constant name for a status, e.g. "invalid argument". */
const char *focal_status_string(focal_status st);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *focal_version(void);

/* Sets the number of threads the library's parallel loops and the BLAS use
 * (n >= 1), or n = 0 for one per core. Results of every loss are
 * bit-identical for a given input whatever the thread count; training is
 * bit-identical from run to run for the same seed and thread count. */
void focal_set_threads(int n);

/* The number of threads parallel loops will use. */
int focal_get_threads(void);

/* The instruction set the loss kernels run with: "generic", "avx2" or
 * "avx512" — the best the CPU supports, unless the environment variable
 * FOCAL_ISA names another supported one. */
const char *focal_isa(void);

/* ------------------------------------------------------------------------ */
/* Losses                                                                    */
/* ------------------------------------------------------------------------ */

enum focal_loss_kind {
    /* Sigmoid family: n×c logits, float targets in [0,1] (soft allowed);
     * a negative target means "ignore this element". */
    FOCAL_LOSS_BCE,            /* α_t·BCE (α < 0: plain BCE) */
    FOCAL_LOSS_SIGMOID_FOCAL,  /* torchvision sigmoid_focal_loss: α_t (1−p_t)^γ BCE */
    FOCAL_LOSS_FOCAL_STAR,     /* FL*: −α_t log σ(γ x_t + β) / γ, γ > 0 */
    FOCAL_LOSS_ASL,            /* asymmetric loss (γ+, γ−, margin m), α_t applied */
    FOCAL_LOSS_SIGMOID_POLY1,  /* α_t (1−p_t)^γ BCE + ε (1−p_t)^(γ+1) */
    /* Softmax family: n×c logits, one int32 class per row; rows whose target
     * equals ignore_index are ignored. */
    FOCAL_LOSS_CE,             /* w[t]·CE with optional label smoothing */
    FOCAL_LOSS_SOFTMAX_FOCAL,  /* w[t]·Σ_c q_c (−(1−p_c)^γ log p_c) */
    FOCAL_LOSS_SOFTMAX_POLY1,  /* softmax focal + ε (1−P)^(γ+1), P = Σ_c q_c p_c */
    FOCAL_LOSS_KIND_COUNT
};

enum focal_reduction {
    FOCAL_REDUCTION_NONE,      /* *loss receives the sum; per-element values via `per` */
    FOCAL_REDUCTION_SUM,
    FOCAL_REDUCTION_MEAN,      /* sum / number of counted (non-ignored) elements or rows;
                                  0, with zero gradients, when nothing is counted */
    FOCAL_REDUCTION_POSITIVES, /* sum / max(1, number of positive targets) */
    FOCAL_REDUCTION_COUNT
};

/* Parameters of a loss. Fill with focal_loss_init, then change what you need.
 * A field a loss does not use is ignored.
 *
 *   sigmoid family, per element with logit x, target y, class j:
 *     p = σ(x), p_t = p·y + (1−p)(1−y), α_t = α·y + (1−α)(1−y) (1 if α < 0),
 *     w_j = class_weights[j] (1 if NULL)
 *     bce            w_j α_t BCE(x,y),  BCE = softplus(x) − y·x
 *     sigmoid-focal  w_j α_t (1−p_t)^γ BCE(x,y)
 *     focal-star     w_j α_t (−log σ(γ x_t + β) / γ),  x_t = (2y−1)·x
 *     asl            w_j α_t (−y (1−p)^γ+ log p − (1−y) p_m^γ− log(1−p_m)),
 *                    p_m = max(p − m, 0)
 *     sigmoid-poly1  w_j (α_t (1−p_t)^γ BCE(x,y) + ε (1−p_t)^(γ+1))
 *   softmax family, per row with logits z, class t, C classes, smoothing s:
 *     q_c = (1−s)·[c = t] + s/C,  p = softmax(z),  w_t = class_weights[t],
 *     a = α if α >= 0 else 1 (a scalar α only rescales a softmax loss)
 *     ce             a w_t Σ_c q_c (−log p_c)
 *     softmax-focal  a w_t Σ_c q_c (−(1−p_c)^γ log p_c)
 *     softmax-poly1  a w_t Σ_c q_c (−(1−p_c)^γ log p_c) + w_t ε (1−P)^(γ+1),
 *                    P = Σ_c q_c p_c
 *   The weight w_t (the softmax α_t) is chosen from the hard label, before
 *   smoothing. The gradient of ASL is that of the loss as written (the
 *   focusing factors are differentiated, not treated as constants). */
struct focal_loss {
    enum focal_loss_kind kind;
    enum focal_reduction reduction;  /* default MEAN */
    double gamma;            /* γ >= 0 (focal-star: γ > 0); default 2 (0 for bce/ce) */
    double alpha;            /* α in [0,1] for sigmoid, >= 0 for softmax; < 0 = off (default) */
    double beta;             /* FL* shift β; default 1 */
    double gamma_pos;        /* ASL γ+ >= 0; default 0 */
    double gamma_neg;        /* ASL γ− >= 0; default 4 */
    double margin;           /* ASL probability margin m in [0,1); default 0.05 */
    double epsilon;          /* poly-1 ε; default 1 */
    double label_smoothing;  /* softmax smoothing s in [0,1); default 0 */
    int32_t ignore_index;    /* softmax: target value that marks an ignored row; default −100 */
    const double *class_weights; /* c weights >= 0, or NULL; not owned */
};

/* Fills *l with the defaults above for `kind`. */
void focal_loss_init(struct focal_loss *l, enum focal_loss_kind kind);

/* 1 if kind belongs to the softmax family, 0 for the sigmoid family. */
int focal_loss_is_softmax(enum focal_loss_kind kind);

/* Names used by the command line: "bce", "sigmoid-focal", "focal-star", "asl",
 * "sigmoid-poly1", "ce", "softmax-focal", "softmax-poly1". */
const char *focal_loss_kind_name(enum focal_loss_kind kind);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_loss_kind_parse(const char *name, enum focal_loss_kind *kind);

/* "none", "sum", "mean", "positives". */
const char *focal_reduction_name(enum focal_reduction r);
focal_status focal_reduction_parse(const char *name, enum focal_reduction *r);

/* Checks every parameter of *l against its valid range for a problem with c
 * classes; FOCAL_ERR_ARG with a message naming the parameter otherwise. */
focal_status focal_loss_check(const struct focal_loss *l, size_t c);

/* Sigmoid family, fused forward + backward.
 *   logits, targets: n×c. targets in [0,1]; < 0 ignores the element.
 *   grad (n×c, may be NULL): receives d loss / d logits, where loss is the
 *     reduced value (for REDUCTION_NONE: the derivative of each element's own
 *     loss, i.e. of their sum). 0 where ignored. Overwritten, not accumulated.
 *   per (n×c, may be NULL): receives each element's unreduced loss.
 *   loss (may be NULL): receives the reduced loss (NONE: the sum).
 * Positive targets are those >= 0.5. Fails with FOCAL_ERR_ARG for a bad
 * parameter, a softmax kind or a target > 1, and FOCAL_ERR_NUMERIC if a logit is
 * NaN or Inf (the message names row and column); outputs are then unspecified. */
focal_status focal_sigmoid_loss(const struct focal_loss *l, size_t n, size_t c,
                                const float *logits, const float *targets,
                                float *grad, float *per, double *loss);
focal_status focal_sigmoid_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const double *targets,
                                    double *grad, double *per, double *loss);

/* Softmax family, fused forward + backward.
 *   logits: n×c; targets: n class indices in [0,c) or ignore_index.
 *   grad (n×c, may be NULL), per (n, may be NULL), loss (may be NULL): as for
 *   the sigmoid family, per row. Every counted row has one positive target.
 * Fails with FOCAL_ERR_ARG for a bad parameter, a sigmoid kind or a target
 * out of range (the message names the row), FOCAL_ERR_NUMERIC for a NaN/Inf logit. */
focal_status focal_softmax_loss(const struct focal_loss *l, size_t n, size_t c,
                                const float *logits, const int32_t *targets,
                                float *grad, float *per, double *loss);
focal_status focal_softmax_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const int32_t *targets,
                                    double *grad, double *per, double *loss);

/* ------------------------------------------------------------------------ */
/* Class weights and output-bias initialisation                              */
/* ------------------------------------------------------------------------ */

/* Inverse-frequency ("balanced", as scikit-learn): w_j = N / (c · counts[j]),
 * N = Σ counts. FOCAL_ERR_ARG if a count is 0 (its weight would be infinite). */
focal_status focal_weights_balanced(double *w, const double *counts, size_t c);

/* Class-balanced by effective number (Cui et al. 2019):
 * w_j = (1 − β) / (1 − β^counts[j]), rescaled so that Σ w_j = c. β in [0,1).
 * FOCAL_ERR_ARG if β is out of range or a count is 0. */
focal_status focal_weights_effective(double *w, const double *counts, size_t c, double beta);

/* The bias b = −log((1 − π)/π) that makes a sigmoid output start at prior π,
 * π in (0,1) (π = 0.01 gives ≈ −4.595). FOCAL_ERR_ARG otherwise. */
focal_status focal_prior_bias(double pi, double *bias);

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* A numeric CSV matrix read from a file. */
struct focal_csv_matrix {
    size_t rows, cols;
    double *data;        /* rows×cols, row-major; free with focal_csv_free */
};

/* Reads a CSV file of numbers: no header, comma-separated, the same number of
 * fields on every non-empty line; blank lines are skipped; CRLF accepted.
 * FOCAL_ERR_IO if the file cannot be read; FOCAL_ERR_FORMAT with a message
 * "path:line:column: ..." quoting the offending text for a malformed number or
 * a row of the wrong length. On failure *m is left empty. */
focal_status focal_csv_read(const char *path, struct focal_csv_matrix *m);
void focal_csv_free(struct focal_csv_matrix *m);

#define FOCAL_CSV_QUOTE_SIZE 48

/* Where the value at data row `row`, field `col` (0-based, as in struct
 * focal_csv_matrix) of the CSV file at path is written, read with the same
 * rules as focal_csv_read: *line and *column (1-based, the field's first
 * non-blank byte), and the field's text quoted for a message (control bytes
 * as '?', cut with "..." after 40 bytes). For errors about values that parse
 * but are not valid where they are. FOCAL_ERR_IO if the file cannot be read,
 * FOCAL_ERR_ARG if it has no such value. */
focal_status focal_csv_locate(const char *path, size_t row, size_t col, size_t *line, size_t *column,
                              char quote[FOCAL_CSV_QUOTE_SIZE]);

/* A file written atomically: data goes to a temporary file beside `path`;
 * commit flushes, fsyncs and renames it over `path`; abort removes it. A file
 * that is neither committed nor aborted leaves `path` untouched. */
struct focal_wfile {
    FILE *fp;            /* write here between open and commit/abort */
    char *path;
    char *tmp;
};
focal_status focal_wfile_open(struct focal_wfile *wf, const char *path);
/* Closes and renames; FOCAL_ERR_IO if any write, flush, fsync or the rename
 * failed (the temporary file is then removed). Always releases wf. */
focal_status focal_wfile_commit(struct focal_wfile *wf);
/* Closes and removes the temporary file; releases wf. Safe on a zeroed wf. */
void focal_wfile_abort(struct focal_wfile *wf);


/* ------------------------------------------------------------------------ */
/* Networks                                                                  */
/* ------------------------------------------------------------------------ */

/* A network: layers described in a small text format (see the README),
 * parameters in one float buffer with named views, activations and scratch
 * allocated once at creation for up to max_batch samples, so that a training
 * step allocates nothing.
 *
 * Description format, one layer per line; '#' starts a comment:
 *   conv OC K [stride=S] [pad=P] [bias=0|1]   2-D convolution (pad default K/2)
 *   batchnorm [momentum=M] [eps=E]             per-channel batch normalisation
 *   relu | leakyrelu [slope=A]
 *   maxpool K [stride=S] [pad=P]               stride default K
 *   avgpool K [stride=S] [pad=P]
 *   gap                                         global average pool
 *   dropout P
 *   flatten
 *   dense N [bias=0|1]                          N may be the word `classes`
 *   block OC [stride=S]                         ResNet basic block: conv3-BN-ReLU-conv3-BN
 *                                               + shortcut (1×1 conv + BN when the shape
 *                                               changes), add, ReLU
 * The last layer must be `dense classes` (the logits). */
struct focal_model;

enum focal_head {
    FOCAL_HEAD_SIGMOID,   /* independent sigmoid outputs (binary, multi-label) */
    FOCAL_HEAD_SOFTMAX    /* one softmax over the classes (multi-class) */
};

/* Preset descriptions: "keras-cnn", "resnet-mini", "mlp". Returns the text, or
 * NULL for an unknown name. Owned by the library. */
const char *focal_model_preset(const char *name);

/* Builds a network from a description (`origin` names it in error messages,
 * e.g. a file name; NULL for "network") for inputs of in_c × in_h × in_w and
 * `classes` outputs. FOCAL_ERR_FORMAT names the line of an unknown layer or
 * key or a bad value; FOCAL_ERR_ARG for shapes that do not fit. */
focal_status focal_model_create(struct focal_model **m, const char *desc, const char *origin, int in_c,
                                int in_h, int in_w, int classes, enum focal_head head, int max_batch);
void focal_model_free(struct focal_model *m);

const char *focal_model_description(const struct focal_model *m);
enum focal_head focal_model_head(const struct focal_model *m);
int focal_model_classes(const struct focal_model *m);
int focal_model_max_batch(const struct focal_model *m);
void focal_model_input_shape(const struct focal_model *m, int *c, int *h, int *w);

/* The trainable parameters and their gradients: one contiguous buffer each. */
size_t focal_model_num_params(const struct focal_model *m);
float *focal_model_params(struct focal_model *m);
float *focal_model_grads(struct focal_model *m);

/* Named tensors, parameters and buffers (batch-norm running statistics), in a
 * fixed order; names follow PyTorch's state_dict of the equivalent network
 * ("3.weight", "5.running_mean", "8.conv1.weight", ...). */
enum focal_tensor_role {
    FOCAL_TENSOR_WEIGHT,     /* parameter with weight decay */
    FOCAL_TENSOR_NO_DECAY,   /* parameter without weight decay by default (bias, BN) */
    FOCAL_TENSOR_BUFFER      /* not trained: running mean / variance */
};
struct focal_tensor_info {
    const char *name;
    enum focal_tensor_role role;
    int ndim;
    int shape[4];
    size_t numel;
    float *data;             /* into the parameter buffer or the model's buffers */
    float *grad;             /* NULL for buffers */
};
size_t focal_model_num_tensors(const struct focal_model *m);
/* The data and grad pointers are writable views even from a const model,
 * as strchr does for strings. */
void focal_model_tensor(const struct focal_model *m, size_t i, struct focal_tensor_info *info);

/* Initialises every parameter as PyTorch does by default (Kaiming-uniform
 * weights, uniform biases in ±1/sqrt(fan_in), BN γ = 1, β = 0, running
 * statistics 0 and 1) from `seed`, and seeds the dropout generator. With
 * prior_pi in (0,1) and a sigmoid head, the output biases start at
 * −log((1 − π)/π). */
focal_status focal_model_init(struct focal_model *m, uint64_t seed, double prior_pi);

/* Forward pass on n <= max_batch samples x (n, C, H, W); *logits (n × classes)
 * points into the model and stays valid until the next forward. training = 1
 * uses batch statistics and dropout. */
focal_status focal_model_forward(struct focal_model *m, const float *x, int n, int training,
                                 const float **logits);
/* Backward pass after a training forward of the same n: accumulates
 * d loss/d params into the gradient buffer from dlogits (n × classes). */
focal_status focal_model_backward(struct focal_model *m, const float *dlogits, int n);
void focal_model_zero_grad(struct focal_model *m);

/* Multiply-add FLOPs (2 per multiply-add) of the convolutions and dense
 * layers in one forward pass of n samples; a training step costs about three
 * times this (forward, input gradient, weight gradient). */
double focal_model_flops(const struct focal_model *m, int n);

/* Per-layer timing: when on, every forward and backward adds its wall time
 * per layer; focal_model_layer_time reports layer i (0-based among the
 * description's layers) with its kind ("conv", "block", ...), its line, and
 * the seconds accumulated since profiling was switched on. */
void focal_model_profile(struct focal_model *m, int on);
int focal_model_num_layers(const struct focal_model *m);
void focal_model_layer_time(const struct focal_model *m, int i, const char **kind, int *line, double *forward_s,
                            double *backward_s);

/* ------------------------------------------------------------------------ */
/* Optimisers                                                                */
/* ------------------------------------------------------------------------ */

enum focal_optim_kind { FOCAL_OPTIM_SGD, FOCAL_OPTIM_ADAM, FOCAL_OPTIM_ADAMW };
enum focal_schedule {
    FOCAL_SCHED_CONSTANT,
    FOCAL_SCHED_STEP,        /* lr · step_gamma^floor(step / step_size) */
    FOCAL_SCHED_COSINE       /* min_lr + (lr − min_lr)(1 + cos(π·step/total_steps))/2; periodic
                                past total_steps, like PyTorch's closed form */
};

/* Update rules are PyTorch's (torch.optim.SGD, Adam, AdamW). Linear warm-up
 * multiplies the scheduled rate by (step + 1)/warmup_steps for the first
 * warmup_steps steps. */
struct focal_optim_config {
    enum focal_optim_kind kind;
    double lr;
    double momentum;         /* SGD */
    int nesterov;            /* SGD */
    double weight_decay;     /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
    double beta1, beta2, eps;/* Adam, AdamW */
    enum focal_schedule schedule;
    long step_size;          /* STEP */
    double step_gamma;       /* STEP */
    long total_steps;        /* COSINE */
    double min_lr;           /* COSINE */
    long warmup_steps;       /* 0: none */
    double clip_norm;        /* clip the global gradient L2 norm to this; <= 0: off */
    int decay_all;           /* 1: weight decay on biases and BN parameters too (default 0) */
};

/* Fills *c with PyTorch's defaults for `kind` (lr 0.01 for SGD, where PyTorch
 * has none; 0.001 Adam/AdamW;
 * betas 0.9, 0.999; eps 1e-8; AdamW weight decay 0.01), constant schedule. */
void focal_optim_defaults(struct focal_optim_config *c, enum focal_optim_kind kind);

struct focal_optim;
/* An optimiser for m's parameters; checks the configuration (FOCAL_ERR_ARG
 * naming the field). The model must outlive it. */
focal_status focal_optim_create(struct focal_optim **o, const struct focal_optim_config *c,
                                struct focal_model *m);
void focal_optim_free(struct focal_optim *o);
/* One update from the model's gradient buffer (which clipping does not
 * modify). *grad_norm (may be NULL) receives the global L2 norm before
 * clipping. FOCAL_ERR_NUMERIC, with parameters and state unchanged, when the
 * norm is not finite. */
focal_status focal_optim_step(struct focal_optim *o, double *grad_norm);
/* The learning rate the next step will use, and the steps taken. */
double focal_optim_lr(const struct focal_optim *o);
long focal_optim_steps(const struct focal_optim *o);

/* ------------------------------------------------------------------------ */
/* Training step                                                             */
/* ------------------------------------------------------------------------ */

/* One optimiser step on a batch: forward (training mode), the loss and its
 * gradient, zeroed gradients, backward, update. targets are n × classes
 * floats for a sigmoid head, n int32 classes for a softmax head; the loss's
 * family must match the head. *loss receives the batch loss. FOCAL_ERR_NUMERIC
 * when the loss or the gradient norm is not finite (the parameters are then
 * left unchanged). */
focal_status focal_train_step(struct focal_model *m, struct focal_optim *o, const struct focal_loss *l,
                              const float *x, const void *targets, int n, double *loss);

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */
/* ------------------------------------------------------------------------ */

#define FOCAL_MAX_NORM_CHANNELS 1024  /* image channels, or the features of a table */

/* What a checkpoint records beside the weights (safetensors "__metadata__"). */
struct focal_ckpt_meta {
    int epoch;               /* epochs completed */
    uint64_t seed;
    int channels;            /* input normalisation: 0 (none) or the model's input channels */
    float mean[FOCAL_MAX_NORM_CHANNELS], std[FOCAL_MAX_NORM_CHANNELS]; /* x' = (x − mean)/std, std > 0 */
    int num_classes;
    char **class_names;      /* num_classes strings, or NULL */
    char *extra;             /* the caller's own text (e.g. JSON), stored as metadata "extra"; or NULL */
};
/* Frees what focal_checkpoint_load put in *meta (names, extra) and zeroes it. */
void focal_ckpt_meta_free(struct focal_ckpt_meta *meta);

/* Writes the model's parameters and buffers as a safetensors file, with the
 * network description, input shape, head, class names, normalisation, epoch
 * and seed in the header metadata. Atomic: temporary file, fsync, rename. */
focal_status focal_checkpoint_save(const char *path, const struct focal_model *m,
                                   const struct focal_ckpt_meta *meta);
/* Reads a checkpoint written by focal_checkpoint_save into a new model for up
 * to max_batch samples; meta (may be NULL) receives the metadata (free with
 * focal_ckpt_meta_free). Refuses truncated or corrupted files with
 * FOCAL_ERR_FORMAT and never reads past the end. */
focal_status focal_checkpoint_load(const char *path, int max_batch, struct focal_model **m,
                                   struct focal_ckpt_meta *meta);

/* The optimiser's state (moments, step count) and the model's dropout
 * generator, as a safetensors file beside the checkpoint, so that a resumed
 * run continues exactly; a checkpoint alone restores the weights but not the
 * dropout generator. Atomic as above. The file records a fingerprint of the
 * model's weights at the time of saving: save it right after the checkpoint,
 * and focal_optim_load refuses a state whose weights differ from the model's
 * (say, a crash fell between the two saves), a different optimiser kind or a
 * different parameter layout. Other configuration fields (lr, schedule, ...)
 * are taken from the optimiser it is loaded into. */
focal_status focal_optim_save(const char *path, const struct focal_optim *o);
focal_status focal_optim_load(const char *path, struct focal_optim *o);

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* The largest image the library decodes or makes: pixels per side and in all
 * (2^26 ≈ 67 million, e.g. 8192×8192). */
#define FOCAL_IMAGE_MAX_SIDE 32768
#define FOCAL_IMAGE_MAX_PIXELS ((uint64_t)1 << 26)

/* An 8-bit image, rows top to bottom, channels interleaved (HWC). */
struct focal_image {
    int width, height;
    int channels;        /* 1 (gray) or 3 (RGB) */
    uint8_t *data;       /* height × width × channels bytes; free with focal_image_free */
};
/* Frees img's pixels and zeroes it. Safe on a zeroed image and on NULL. */
void focal_image_free(struct focal_image *img);

/* Decodes a PNG (1 to 16 bit; gray, gray+alpha, RGB, RGBA, palette;
 * interlaced or not) or a JPEG (gray or colour; baseline or progressive)
 * file, recognised by its signature, not its name, into a new image *img
 * (free with focal_image_free): 1 channel for gray files, 3 otherwise.
 * 16-bit samples are rounded to the nearest 8-bit value (v/257), lower bit
 * depths scaled up to 0..255; alpha and transparency are dropped; palette
 * becomes RGB; gamma and colour profiles are not applied.
 * FOCAL_ERR_IO if the file cannot be read; FOCAL_ERR_FORMAT, naming the file
 * and what is wrong, for anything that is not a complete valid image:
 * empty, not PNG or JPEG, truncated (a PNG without its IEND chunk included),
 * a CRC or checksum mismatch, corrupt compressed data (a JPEG decoder warning
 * counts), CMYK JPEG, zero size, or more than FOCAL_IMAGE_MAX_SIDE pixels
 * per side or FOCAL_IMAGE_MAX_PIXELS in all (refused before anything is
 * allocated). On failure *img is zeroed. Never reads past the file's end.
 * Thread-safe: may be called on different images from several threads. */
focal_status focal_image_read(const char *path, struct focal_image *img);

/* Encodes img (1 or 3 channels) as an 8-bit gray or RGB PNG in memory:
 * *png (caller frees with free()) of *len bytes. The same pixels always give
 * the same bytes. FOCAL_ERR_ARG for an invalid image, FOCAL_ERR_NOMEM. */
focal_status focal_image_encode_png(const struct focal_image *img, void **png, size_t *len);

/* Writes img as an 8-bit gray or RGB PNG, atomically (temporary file, fsync,
 * rename): path holds the old file or the complete new one, never a part.
 * FOCAL_ERR_ARG for an invalid image; FOCAL_ERR_IO naming path. */
focal_status focal_image_write_png(const char *path, const struct focal_image *img);

/* A new image *dst (free with focal_image_free) of width × height with src's
 * channels. Each axis separately: when it shrinks, a target pixel is the
 * average of the source area it covers, pixels partly covered weighted by
 * the fraction covered; when it grows, bilinear interpolation between source
 * pixel centres (centres at half-integers, the border pixels extended); when
 * it keeps its size, the source values. Rounded to nearest. dst must not be
 * src. FOCAL_ERR_ARG if width or height is below 1 or above
 * FOCAL_IMAGE_MAX_SIDE, or width × height above FOCAL_IMAGE_MAX_PIXELS;
 * FOCAL_ERR_NOMEM. On failure *dst is zeroed. Runs on the calling thread. */
focal_status focal_image_resize(struct focal_image *dst, const struct focal_image *src, int width, int height);

/* The bounding box of the retina disc in a fundus photograph. A pixel is
 * bright when its brightest channel exceeds a threshold taken from the image
 * (1/8 of its 90th-percentile brightness, kept within 10..40). A row belongs
 * to the retina when it holds at least 3% as many bright pixels as the
 * fullest row; the box spans the longest run of such rows (gaps up to 1% of
 * the height bridged), then likewise the columns within those rows. So JPEG
 * noise and isolated specks in the black border, or text printed there, do
 * not widen it. Returns 0 and the box (x, y, width, height); or 1 and the
 * whole image (0, 0, width, height) if nothing stands out from a black
 * border: fewer than a tenth of the pixels reach brightness 20, or the
 * bright area spans under 1/8 of the width or height (also, rarely, when
 * memory for the row counts cannot be had). Runs on the calling thread. */
int focal_image_fundus_box(const struct focal_image *img, int *x, int *y, int *w, int *h);

/* A new image *dst (free with focal_image_free) holding the rectangle
 * (x, y, w, h) of src. FOCAL_ERR_ARG unless w, h >= 1 and the rectangle lies
 * inside src; FOCAL_ERR_NOMEM. On failure *dst is zeroed. */
focal_status focal_image_crop(struct focal_image *dst, const struct focal_image *src, int x, int y, int w, int h);

/* ------------------------------------------------------------------------ */
/* Synthetic data                                                            */
/* ------------------------------------------------------------------------ */

/* A synthetic fundus dataset shaped like RFMiD, for trying the whole
 * pipeline without the real photographs: each RGB image shows an orange-red
 * retina disc on black with an optic disc, a macula and branching vessels,
 * and the signs of the conditions drawn for it; the conditions are
 * independent, with prevalences falling off in a long tail like RFMiD's.
 * Position, size, rotation, eye side, brightness, tint, gamma, illumination
 * and noise vary from image to image. Sample i depends only on (seed, i,
 * size), not on the thread count: the same options give byte-identical
 * files (with the same build of the library and of the C math library,
 * whose sinf/expf/powf results it uses). */

#define FOCAL_SYNTH_CONDITIONS 10
#define FOCAL_SYNTH_MIN_N 10
#define FOCAL_SYNTH_MAX_N 1000000
#define FOCAL_SYNTH_MIN_SIZE 16
#define FOCAL_SYNTH_MAX_SIZE 1024

/* A condition the generator draws. */
struct focal_synth_condition {
    const char *name;        /* the CSV column, an RFMiD abbreviation ("DR", "MH", ...) */
    const char *sign;        /* what is drawn, in words */
    double prevalence;       /* the probability that an image has it */
};

/* The FOCAL_SYNTH_CONDITIONS conditions in CSV column order, most frequent
 * first: DR 20%, MH 12%, ODC 8%, DN 5%, MYA 3%, BRVO 2%, TV 1.2%, LS 0.8%,
 * CWS 0.5%, MHL 0.3%. Static storage. */
const struct focal_synth_condition *focal_synth_conditions(void);

/* The split sizes of an n-image dataset, indexed by enum focal_split:
 * n/5 validation, n/5 test (rounded down), the rest (about 60%) training.
 * Samples 0.. are training, then validation, then test. */
void focal_synth_split_sizes(int n, int counts[3]);

/* Sample `index` (>= 0, counted over the whole dataset) of the dataset drawn
 * from seed: its labels (FOCAL_SYNTH_CONDITIONS values 0/1) and, when img is
 * not NULL, its image: a new size × size RGB image (free with
 * focal_image_free). The labels come first from the sample's own generator,
 * so they do not depend on size and img = NULL draws them cheaply.
 * FOCAL_ERR_ARG if size is outside FOCAL_SYNTH_MIN_SIZE..MAX_SIZE,
 * FOCAL_ERR_NOMEM; *img is then zeroed. Thread-safe. */
focal_status focal_synth_sample(uint64_t seed, int64_t index, int size, uint8_t *labels, struct focal_image *img);

struct focal_synth_options {
    int n;                   /* images in all, FOCAL_SYNTH_MIN_N..FOCAL_SYNTH_MAX_N */
    int size;                /* side of the square images, FOCAL_SYNTH_MIN_SIZE..MAX_SIZE */
    uint64_t seed;
    int force;               /* 1: replace a non-empty dir that focal synth wrote before */
};

/* What focal_synth_write wrote, per split (enum focal_split). */
struct focal_synth_summary {
    int images[3];
    int risk[3];                                   /* images with Disease_Risk = 1 */
    int positives[3][FOCAL_SYNTH_CONDITIONS];      /* images with each condition */
};

/* Writes the dataset of opt->n images to the directory dir, in RFMiD's
 * layout:
 *   dir/RFMiD_Training_Labels.csv, RFMiD_Validation_Labels.csv,
 *       RFMiD_Testing_Labels.csv   columns ID, Disease_Risk (1 if any
 *                                  condition), then one 0/1 column per
 *                                  condition; IDs 1.. in each split
 *   dir/Training/<ID>.png, dir/Validation/<ID>.png, dir/Test/<ID>.png
 *   dir/synth.json                 how it was made (version, n, size, seed,
 *                                  conditions); marks the folder as ours
 * Images are drawn in parallel on focal_get_threads() threads; progress (may
 * be NULL; a focal_progress_fn, see Datasets) is called after each image,
 * from one thread at a time. Atomic: everything is written into a new
 * directory beside dir ("<dir>.tmp.<pid>.<k>"), synced, and renamed to dir
 * only when complete; on failure it is removed and dir is untouched. dir may
 * be absent or empty; a non-empty dir is refused (FOCAL_ERR_IO) unless
 * opt->force is set and it holds a synth.json, in which case it is replaced
 * (moved aside, then removed once the new one is in place). summary (may be
 * NULL) receives the counts. FOCAL_ERR_ARG for options out of range;
 * FOCAL_ERR_IO naming the path for file-system failures. */
focal_status focal_synth_write(const char *dir, const struct focal_synth_options *opt,
                               void (*progress)(void *ctx, int done, int total), void *ctx,
                               struct focal_synth_summary *summary);

/* ------------------------------------------------------------------------ */
/* Datasets                                                                  */
/* ------------------------------------------------------------------------ */

enum focal_task {
    FOCAL_TASK_BINARY,       /* one 0/1 label per sample; the model has 1 sigmoid output */
    FOCAL_TASK_MULTICLASS,   /* one class index per sample; softmax head */
    FOCAL_TASK_MULTILABEL    /* num_classes 0/1 labels per sample; sigmoid head */
};

/* "binary", "multiclass" or "multilabel". */
const char *focal_task_name(enum focal_task t);

enum focal_split { FOCAL_SPLIT_TRAIN = 0, FOCAL_SPLIT_VAL = 1, FOCAL_SPLIT_TEST = 2 };

enum focal_format {
    FOCAL_FORMAT_AUTO = 0,
    FOCAL_FORMAT_RFMID,      /* labels CSV(s) with ID + condition columns, <ID>.png|jpg images */
    FOCAL_FORMAT_FOLDERS,    /* root/<class>/<image> */
    FOCAL_FORMAT_NPZ,        /* MedMNIST .npz */
    FOCAL_FORMAT_IDX,        /* MNIST idx images + labels (gzip or plain) */
    FOCAL_FORMAT_CSV         /* numeric table with a target column */
};

/* A labelled dataset in memory. Its inputs are image files (paths, decoded
 * later by focal_dataset_load_images), decoded pixels (.npz, idx) or numeric
 * features (CSV tables). With splits, samples are ordered training,
 * validation, test. Made by focal_dataset_open; free with focal_dataset_free. */
struct focal_dataset {
    enum focal_task task;    /* RFMiD: MULTILABEL. Class folders, idx: MULTICLASS (two classes too).
                                npz: MULTICLASS for (N,1) or (N,) labels, MULTILABEL for (N,C), C > 1.
                                CSV: BINARY for two target values, else MULTICLASS. */
    enum focal_format format;/* the format read (never AUTO) */
    int n;                   /* samples */
    int num_classes;         /* multi-class: classes; multi-label: labels; binary: 2 */
    char **class_names;      /* num_classes names (binary: negative, positive). RFMiD: the columns
                                (OTHER for the merged ones); folders: the folder names, sorted; npz,
                                idx: "0", "1", ...; CSV: the target values, sorted (by value when
                                every one is a number, printed "%.15g"; else as text, by strcmp) */
    int32_t *label;          /* binary / multi-class: n class indices, else NULL */
    uint8_t *labels;         /* multi-label: n × num_classes 0/1, else NULL. A label may have no
                                positive in the training split: readers keep it; callers decide */
    uint8_t *risk;           /* RFMiD Disease_Risk when present and not a label: n 0/1, else NULL */
    uint8_t *split;          /* n values of enum focal_split, or NULL when the data has no splits */
    char **ids;              /* n sample identifiers: RFMiD ID; folders "[split/]class/file";
                                npz "train/17" (split, index within it); idx the index "0".."n-1";
                                CSV the line number in the file */
    char **paths;            /* n image files, or NULL */
    uint8_t *pixels;         /* n × height × width × channels (HWC), or NULL */
    int height, width, channels;
    float *features;         /* CSV: n × n_features, else NULL. NaN marks a missing value ('?' or an
                                empty field); the trainer replaces it with the training-split mean */
    int n_features;
    char **feature_names;    /* n_features names (the CSV header), or NULL without a header */
};
/* Frees d and everything it holds. Safe on NULL. */
void focal_dataset_free(struct focal_dataset *d);

/* How to read a dataset; zero-initialise, then set what differs. Note that
 * header = 0 means "no header": set −1 to detect one. */
struct focal_data_options {
    enum focal_format format;    /* AUTO: from the path (see focal_dataset_open) */
    const char *images;          /* RFMiD: image folder; NULL: found beside each CSV (see below) */
    const char *label_columns;   /* RFMiD: comma-separated columns to keep, in this order (may name
                                    Disease_Risk); NULL: every condition column, in file order */
    int merge_rare;              /* RFMiD: k > 0 keeps the k conditions with the most training
                                    positives (ties: the earlier column) in file order and appends
                                    OTHER = OR of the rest; needs k below the conditions selected;
                                    0: off */
    int include_risk;            /* RFMiD: Disease_Risk becomes the first label (not in risk) */
    const char *target;          /* CSV: target column, by header name or 1-based index; NULL: the last */
    int header;                  /* CSV: -1 detect (a first row with a field that is neither a
                                    number, nor empty, nor ?), 0 none, 1 present */
};

/* Reads the dataset at path into a new dataset *out (free with
 * focal_dataset_free): labels, splits and image paths, pixels or features;
 * images are not decoded here (focal_dataset_load_images). opt NULL: the
 * defaults (AUTO, header detected).
 *
 * Format detection (opt->format AUTO; any other value forces that reader):
 *   a folder holding .csv files whose header starts with ID → RFMID; any
 *   other folder → FOLDERS; a path that does not exist but holds a comma →
 *   RFMID (a list); *.npz → NPZ; a name containing "idx3-ubyte" → IDX;
 *   *.csv → RFMID when its header starts with ID, else CSV; any other file by
 *   content: a zip → NPZ, gzip or idx magic → IDX, else CSV.
 * RFMiD: path is a labels CSV, "a.csv,b.csv,c.csv", or a folder (its label
 *   CSVs). Columns: ID, optional Disease_Risk, 0/1 condition columns named by
 *   the header (a UTF-8 byte-order mark is skipped). Several files are the
 *   splits their names tell (ignoring case, the first match of "train",
 *   "valid", "eval", "test"), and must have the same columns; one file has
 *   no splits. IDs are unique within a file and cannot contain '/'. Image
 *   folder of each CSV: with opt->images, <images>/<Split> if it exists, else
 *   <images>; without, the first folder that exists of <csvdir>/<Split>,
 *   <csvdir>/images, <csvdir> (<Split> = Training, Validation or Test, the
 *   folders of the RFMiD distribution and of `focal synth`). A sample's file is
 *   the first of <ID>.png, <ID>.jpg, <ID>.jpeg there, else <ID>.png (a missing
 *   file is reported when loading).
 * Class folders: root/<class>/<image> (.png .jpg .jpeg, any case; hidden
 *   entries, other files and deeper folders ignored; a folder without images
 *   is not a class). When root/train/ holds folders, root's subfolders must
 *   be train/, val/, test/, each holding class folders: the splits.
 * npz: train_images and train_labels required, val_* and test_* in pairs;
 *   images '|u1' (N,H,W) or (N,H,W,1|3); labels integers (N,), (N,1) or (N,C)
 *   0/1; zip members stored or deflated, ZIP64 refused.
 * idx: path is the images file (*images-idx3-ubyte[.gz]); the labels file
 *   has "labels-idx1" in its place (with or without .gz). Classes 0..9 (more
 *   if a label is larger).
 * CSV: every column but the target is a numeric feature ('?' or empty:
 *   missing); rows must have the same number of fields; fields may be quoted.
 * Errors: FOCAL_ERR_IO for a file that cannot be read; FOCAL_ERR_FORMAT
 * naming the file and line, column, key or value and what would be valid
 * (e.g. "labels.csv:17:9: column 'DR' has value '2'; expected 0 or 1"): wrong
 * column counts, labels other than 0/1, duplicate IDs, an npz with missing
 * keys or the wrong dtype, truncated files, non-numeric features, an empty
 * file; FOCAL_ERR_ARG for options that do not fit (an unknown label column,
 * listing the valid ones; merge_rare out of range). On failure *out is NULL
 * and nothing is left allocated. */
focal_status focal_dataset_open(const char *path, const struct focal_data_options *opt, struct focal_dataset **out);

/* How to turn image files into pixels. */
struct focal_image_options {
    int width, height;           /* target size */
    int fundus_crop;             /* crop to focal_image_fundus_box first */
    int skip_bad;                /* 1: drop samples whose image is missing or bad; 0: fail */
    const char *cache_dir;       /* NULL: no cache; made (with its parents) if missing */
    int threads;                 /* decoding threads; 0: focal_get_threads() */
    int channels;                /* 0: 3, or 1 when every image is gray; 3: always RGB;
                                    1: always gray (colour images become BT.601 luma) */
};

/* Called after each decoded image (done of total), from one thread at a time;
 * NULL for none. A load served from the cache calls it once (total, total). */
typedef void (*focal_progress_fn)(void *ctx, int done, int total);

/* Decodes, crops and resizes every image of d into d->pixels (HWC, 3
 * channels with gray images replicated, or 1 when every image is gray) and
 * sets d->height, width, channels, in parallel over samples; pixels already
 * there are replaced. With a cache_dir, the result is stored in
 * <cache_dir>/<key>.fcache under a key made of the files' paths, IDs, sizes,
 * modification times (ns) and inodes, the options (size, crop) and the
 * library version, and later calls with the same key read it instead of
 * decoding. A changed, new or deleted file changes the key, so it is decoded
 * (or reported missing) as without a cache; a cache file that is truncated,
 * corrupt (CRC-32) or does not match is ignored and rewritten. The cache is
 * written atomically and best effort (a failed write does not fail the
 * load); a cache_dir that cannot be made or written is FOCAL_ERR_IO.
 * With skip_bad, bad samples are removed from every per-sample array of d and
 * the messages saying why (each naming the file) are returned in *skipped
 * (count *n_skipped; free each and the array; both may be NULL to discard
 * them); it fails only when no image can be read. Without, the first bad
 * image (lowest index) fails the call with its message (FOCAL_ERR_IO for a
 * missing file, FOCAL_ERR_FORMAT for a bad one). FOCAL_ERR_ARG for a dataset
 * without image paths or a size outside 1..FOCAL_IMAGE_MAX_SIDE. On failure d
 * is unchanged and *skipped is NULL. */
focal_status focal_dataset_load_images(struct focal_dataset *d, const struct focal_image_options *opt,
                                       focal_progress_fn progress, void *ctx,
                                       char ***skipped, int *n_skipped);

/* An unlabelled dataset of image files for prediction: each input is an image
 * file, or a folder whose .png/.jpg/.jpeg files (sorted by name) are taken;
 * ids are the file names without extension; num_classes 0, no labels, no
 * splits. FOCAL_ERR_IO for a folder that cannot be read or holds no images. */
focal_status focal_dataset_from_images(const char *const *inputs, int n_inputs, struct focal_dataset **out);

/* Per-sample positive counts for class j: binary/multi-class counts label == j;
 * multi-label counts labels[i][j]. Over the samples idx[0..n) (idx NULL: all
 * d->n samples, n ignored). counts receives num_classes values. */
void focal_dataset_class_counts(const struct focal_dataset *d, const int *idx, int n, double *counts);

/* ------------------------------------------------------------------------ */
/* Splits and sampling                                                       */
/* ------------------------------------------------------------------------ */

/* Splits are stratified by class, seeded, and depend only on the samples'
 * labels, their order in idx, the fractions and the seed. One algorithm
 * serves every task: iterative stratification (Sechidis, Tsoumakas and
 * Vlahavas 2011). Each split (fold) wants its fraction of the samples and of
 * every label's positives; labels are taken in order of fewest positives still
 * unplaced (lowest index first), and each unplaced positive of the label, in a
 * seeded random order, goes to the split that still wants most of that label,
 * ties broken by the split that still wants most samples overall, then at
 * random. Samples with no positive label go last, each to the split that still
 * wants most samples. For binary and multi-class data this deals each class's
 * shuffled members out so that every split's count of every class differs
 * from its exact share by less than one; split sizes are the sums of those
 * counts. A split with fraction 0 receives no sample.
 *
 * Both functions take the samples as idx[0..n) (indices into d; NULL: 0..n-1)
 * and use d's task, n, num_classes and label or labels. They fail with
 * FOCAL_ERR_ARG for an index outside d, a class outside 0..num_classes-1 or a
 * bad fraction or fold count, and FOCAL_ERR_NOMEM; the output is then
 * unspecified. The dataset's own splits (d->split) are not consulted: a caller
 * that has them uses them instead. */

/* split_out[k] receives the enum focal_split of sample idx[k]: train with
 * fraction 1 − val_frac − test_frac, val_frac, test_frac. Needs
 * val_frac, test_frac >= 0 and val_frac + test_frac < 1. */
focal_status focal_split_stratified(const struct focal_dataset *d, const int *idx, int n,
                                    double val_frac, double test_frac, uint64_t seed, uint8_t *split_out);

/* fold_out[k] receives the fold (0..folds-1) of sample idx[k], each fold
 * wanting 1/folds of everything. Needs 2 <= folds <= n. */
focal_status focal_split_kfold(const struct focal_dataset *d, const int *idx, int n, int folds,
                               uint64_t seed, int *fold_out);

enum focal_sampler {
    FOCAL_SAMPLER_SHUFFLE,         /* each sample once per epoch, shuffled; any task */
    FOCAL_SAMPLER_OVERSAMPLE,      /* binary/multi-class: every class grows to the largest class's
                                      size m: each member floor(m/c) times plus m mod c distinct
                                      members drawn once more */
    FOCAL_SAMPLER_UNDERSAMPLE,     /* binary/multi-class: m distinct members drawn from every class,
                                      m the smallest non-empty class's size */
    FOCAL_SAMPLER_CLASS_BALANCED,  /* n draws, each of a class uniformly among the non-empty ones,
                                      then of one of its members uniformly (with replacement).
                                      Multi-label: of a label among those with positives, then of
                                      one of its positives; the samples with no positive label form
                                      one more group, drawn like a label */
    FOCAL_SAMPLER_REPEAT_FACTOR    /* any task, meant for multi-label (LVIS): sample i appears
                                      floor(r_i) times plus once more with probability
                                      r_i − floor(r_i), r_i = max over its labels j of
                                      max(1, sqrt(t / f_j)), f_j the fraction of the samples with
                                      label j; r_i = 1 without a positive label */
};
/* Parses "shuffle", "oversample", "undersample", "class-balanced", "repeat-factor";
 * FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_sampler_parse(const char *name, enum focal_sampler *out);
/* The name above, or "unknown" for a value outside the enum. */
const char *focal_sampler_name(enum focal_sampler s);

/* One epoch's order over the training samples idx[0..n) (NULL: 0..n-1): a new
 * array *order (caller frees) of *len sample indices (values from idx), in a
 * random order. Deterministic: it depends only on (kind, the samples' labels
 * and their order in idx, seed, epoch); each epoch draws independently of
 * the others, so its order can be recomputed, e.g. after a resume. *len is n for shuffle and class-balanced, classes × the largest
 * (oversample) or smallest (undersample) class's size, and about Σ r_i for
 * repeat-factor. repeat_threshold is t for repeat-factor sampling (a fraction
 * of the samples, e.g. 0.1; > 0; ignored by the others). Per-class counts of
 * an order: focal_dataset_class_counts(d, *order, *len, counts).
 * FOCAL_ERR_ARG, with *order NULL and *len 0, for n < 1, over- or
 * undersampling of multi-label data, a bad threshold, an index or class out of
 * range, or an epoch longer than INT_MAX; FOCAL_ERR_NOMEM. */
focal_status focal_sampler_epoch(enum focal_sampler kind, const struct focal_dataset *d, const int *idx, int n,
                                 uint64_t seed, int epoch, double repeat_threshold, int **order, int *len);

/* A long-tailed subset of the single-label samples idx[0..n) (the usual
 * protocol for long-tailed benchmarks such as long-tailed MNIST/CIFAR): class
 * c keeps floor(n_max · ρ^(−c/(C−1))) of its samples (at least 1, at most all),
 * n_max being the largest class's count among them, drawn with seed. out (room
 * for n) receives the kept samples in their order in idx, *n_out their count.
 * FOCAL_ERR_ARG for multi-label data or ρ < 1. */
focal_status focal_long_tail_subset(const struct focal_dataset *d, const int *idx, int n, double rho, uint64_t seed,
                                    int *out, int *n_out);

/* ------------------------------------------------------------------------ */
/* Augmentation                                                              */
/* ------------------------------------------------------------------------ */

/* Training-time augmentation; zero-initialised means none. The forward chain
 * is: brightness/contrast on the input's values, flips, the 90° rotation, then
 * one affine (rotation and zoom about the image centre, then the shift). */
struct focal_augment {
    int hflip, vflip;        /* nonzero: flip with probability 1/2 */
    int rot90;               /* nonzero: rotate by 0, 90, 180 or 270° at random; square images
                                only (a non-square image is not rotated) */
    float rotate;            /* random rotation in [−rotate, rotate] degrees; 0..180 */
    float scale;             /* random zoom in [1−scale, 1+scale]; 0 <= scale < 1 */
    float translate;         /* random shift up to ± translate × width (height), rounded to
                                whole pixels as torchvision's RandomAffine; 0..1 */
    float brightness;        /* add b in [−brightness, brightness] to the 0..1 values; 0..1 */
    float contrast;          /* scale around the image mean by c in [1−contrast, 1+contrast]; 0..1 */
};

/* FOCAL_ERR_ARG, naming the field and its valid range, if a field of *a is out
 * of the range above or not finite; FOCAL_OK for a NULL a. */
focal_status focal_augment_check(const struct focal_augment *a);

/* Converts one HWC uint8 image to CHW floats in out (channels × height ×
 * width), applying the augmentation drawn from seed: the same (a, seed, image
 * size) gives the same transform, and each random value is drawn whether or
 * not its option is on, so switching one option leaves the others' draws as
 * they were. Give every (epoch, sample) its own seed, e.g.
 * run_seed ^ ((uint64_t)epoch << 32 | (uint32_t)sample); distinct seeds give
 * unrelated transforms. a NULL or all-zero: out = value / 255 exactly.
 *   values: v = value/255, then v' = clamp(m + c·(v − m) + b, 0, 1), m the
 *     mean of v over the whole image (all channels);
 *   geometry: a whole-pixel map (flips, 90° turns, shifts with no rotation or
 *     zoom drawn) moves pixels exactly; otherwise each output value is the
 *     bilinear interpolation of v' at its source position, the image being
 *     extended by zeros, so pixels moved in from outside are 0 (not b).
 * Every output value lies in [0, 1]. *a must pass focal_augment_check
 * (asserted). Does not allocate; never fails. */
void focal_augment_image(const struct focal_augment *a, uint64_t seed, const uint8_t *hwc,
                         int height, int width, int channels, float *out);

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

/* Classification metrics from scores and labels, computed as scikit-learn
 * 1.2 does (checked against it to 1e-9 by tests/test_metrics.c).
 *
 * Predictions: binary and multi-label predict positive when score >= the
 * class's threshold; multi-class predicts the highest-scoring class (the
 * first of equal maxima, as numpy's argmax).
 *
 * Per class (binary: two entries, class 0 then class 1, as scikit-learn's
 * classification_report; class 0 is ranked by the negated score):
 *   support    the class's positives (binary/multi-class: samples of the class)
 *   precision  TP / (TP + FP); NaN when the class is never predicted
 *   recall     TP / (TP + FN); NaN when the class has no positives
 *   f1         2TP / (2TP + FP + FN); NaN when the class has no positives
 *   roc_auc    area under the ROC curve (trapezoids over the distinct score
 *              values, so tied scores count one half, as roc_auc_score; one
 *              vs rest for multi-class); NaN without positives or negatives
 *   average_precision
 *              Σ_k (R_k − R_{k−1}) P_k over the distinct score values from the
 *              highest (step-wise, as average_precision_score, no
 *              interpolation); NaN without positives
 * Undefined (NaN) values are left out of every macro mean; a mean with
 * nothing left is NaN.
 *
 * Summary values:
 *   accuracy           fraction of samples predicted right; multi-label:
 *                      subset accuracy (every label of the sample right), as
 *                      accuracy_score on an indicator matrix
 *   balanced_accuracy  binary/multi-class: mean recall over the classes with
 *                      positives (balanced_accuracy_score); multi-label: the
 *                      mean over labels with positives of each label's
 *                      balanced_accuracy_score (mean of its true-positive rate
 *                      and, when it has negatives, its true-negative rate)
 *   macro_f1           mean f1 over the classes with positives
 *   micro_f1           2ΣTP / (2ΣTP + ΣFP + ΣFN) over every class (binary:
 *                      both classes, which equals accuracy; multi-class: equals
 *                      accuracy; multi-label: every label decision); NaN when
 *                      there is no positive and no positive prediction
 *   weighted_f1        f1 averaged with weights support
 *   mcc                Matthews correlation (multi-class: Gorodkin's R_K as
 *                      matthews_corrcoef; multi-label: of all label decisions
 *                      flattened into one binary problem); 0 when a row or
 *                      column sum of the confusion matrix is 0, as scikit-learn
 *   roc_auc_macro      binary: roc_auc of class 1; else mean roc_auc
 *   average_precision_macro
 *                      binary: average_precision of class 1; else mean
 *                      average_precision (mAP) */
struct focal_metrics {
    enum focal_task task;
    int n;                   /* samples */
    int num_classes;         /* per-class entries: multi-class/multi-label c, binary 2 */
    double accuracy, balanced_accuracy;
    double macro_f1, micro_f1, weighted_f1;
    double mcc;
    double roc_auc_macro, average_precision_macro;
    /* num_classes values each */
    int64_t *support;
    double *precision, *recall, *f1, *roc_auc, *average_precision;
    /* binary/multi-class: num_classes × num_classes counts, row = true class,
     * column = predicted class; multi-label: per label a 2×2 matrix
     * [[TN, FP], [FN, TP]] (num_classes × 4, as multilabel_confusion_matrix) */
    int64_t *confusion;
    /* the thresholds used: binary 1, multi-label num_classes, multi-class 0 (NULL) */
    int n_thresholds;
    double *thresholds;
};

/* Computes every metric of *out (which it allocates; release with
 * focal_metrics_free) for n >= 1 samples.
 *   scores: n × c, finite. binary: c = 1, the positive class's score;
 *     multi-class: c >= 2 class scores; multi-label: c >= 1 label scores.
 *   label: binary: n values 0 or 1; multi-class: n classes in [0, c); NULL
 *     for multi-label.
 *   labels: multi-label: n × c values 0 or 1; NULL otherwise.
 *   thresholds: binary 1 value, multi-label c values, finite; NULL: 0.5
 *     each. Ignored for multi-class.
 * FOCAL_ERR_ARG for bad sizes or a label out of range (the message names
 * the row and column), FOCAL_ERR_NUMERIC for a NaN or infinite score (ditto),
 * FOCAL_ERR_NOMEM. On failure *out is left empty (safe to free). */
focal_status focal_metrics_compute(struct focal_metrics *out, enum focal_task task, int n, int c,
                                   const double *scores, const int32_t *label, const uint8_t *labels,
                                   const double *thresholds);

/* Releases what focal_metrics_compute allocated and zeroes *m. Safe on a
 * zeroed struct and on NULL. */
void focal_metrics_free(struct focal_metrics *m);

/* The RIADD challenge score of a multi-label problem that includes the
 * Disease_Risk label. */
struct focal_riadd {
    double risk_auc;         /* ROC-AUC of Disease_Risk */
    double map;              /* mean average precision over the other labels */
    double macro_auc;        /* mean ROC-AUC over the other labels */
    double score;            /* 0.5·risk_auc + 0.5·(0.5·map + 0.5·macro_auc) */
};

/* The RIADD score of n × c scores against n × c labels (0 or 1), where
 * column risk_col (in [0, c), c >= 2) is Disease_Risk and the other columns
 * are the disease labels. Labels whose AUC or AP is undefined (no positives,
 * or for AUC no negatives) are left out of map and macro_auc; a part with
 * nothing left, and then score, is NaN. Errors as focal_metrics_compute. */
focal_status focal_riadd_score(struct focal_riadd *out, int n, int c, const double *scores,
                               const uint8_t *labels, int risk_col);

/* Ranking metrics of one class: the n scores scores[i·stride] against the
 * labels y[i·stride] (0 or 1), stride >= 1 (column j of n × c matrices:
 * scores + j, y + j, stride c). O(n log n) time, O(n) memory.
 * *auc: ROC-AUC as roc_auc_score, NaN without positives or negatives.
 * *ap: average precision as average_precision_score, NaN without positives.
 * FOCAL_ERR_ARG for n < 1 or a label other than 0/1, FOCAL_ERR_NUMERIC for a
 * NaN or infinite score, FOCAL_ERR_NOMEM. */
focal_status focal_roc_auc(double *auc, int n, const double *scores, const uint8_t *y, size_t stride);
focal_status focal_average_precision(double *ap, int n, const double *scores, const uint8_t *y,
                                     size_t stride);

/* The threshold t that maximises F1 when predicting positive for score >= t
 * on these scores and labels (arguments as focal_roc_auc; choose it on
 * validation data, never on test data). The candidates are the distinct score
 * values, so t is always one of the scores; of equal F1 the highest t (the
 * fewest positive predictions) wins. *f1 receives that F1. Without positives
 * F1 is undefined: *threshold and *f1 are NaN (keep a default such as 0.5). */
focal_status focal_best_f1_threshold(double *threshold, double *f1, int n, const double *scores,
                                     const uint8_t *y, size_t stride);

/* Writes *m as one JSON object (no trailing newline) with the members
 *   "task", "samples", "accuracy", "balanced_accuracy", "macro_f1",
 *   "micro_f1", "weighted_f1", "mcc", "roc_auc_macro",
 *   "average_precision_macro", "thresholds" (binary and multi-label),
 *   "per_class": [{"name", "support", "precision", "recall", "f1",
 *                  "roc_auc", "average_precision"}, ...],
 *   "confusion_matrix" (as m->confusion: binary/multi-class rows of counts,
 *                       multi-label one [[TN, FP], [FN, TP]] per label),
 *   "left_out": [{"name", "reason"}, ...] (the classes left out of a macro
 *               mean and why),
 *   "riadd": {"risk_auc", "map", "macro_auc", "score"} (when riadd != NULL).
 * Numbers are printed with 17 significant digits (they read back exactly);
 * NaN is written as null. class_names: m->num_classes UTF-8 names, or NULL
 * for "0", "1", .... indent >= 0: one member per line, nested lines start
 * with indent + 2·depth spaces, so the object can be a member of a larger
 * one written at that indent; indent < 0: all on one line. FOCAL_ERR_IO if
 * writing to fp failed. */
focal_status focal_metrics_write_json(FILE *fp, const struct focal_metrics *m,
                                      const char *const *class_names, const struct focal_riadd *riadd,
                                      int indent);

/* ------------------------------------------------------------------------ */
/* Training runs                                                             */
/* ------------------------------------------------------------------------ */

/* A training run: epochs over a dataset's training samples with a sampler
 * and augmentation, validation after every epoch, the best checkpoint kept by
 * a validation metric, early stopping, per-class thresholds chosen on
 * validation, and the test samples evaluated once at the end with the chosen
 * checkpoint and thresholds. Everything it writes goes to a run folder:
 *   model.safetensors        the best checkpoint (by the selection metric)
 *   last.safetensors, last.optim.safetensors
 *                            the latest epoch and optimiser state, for resuming
 *   history.csv              one row per epoch: train loss, validation loss and
 *                            metrics, learning rate, seconds
 *   run.json                 task, class names, thresholds, image options, the
 *                            configuration and the best epoch
 *   metrics.json             {"val": {...}, "test": {...}} (test only when the
 *                            run has test samples), each as focal metrics --json
 *   scores.csv               split,id, each output's probability, then its 0/1
 *                            label (y_<name>), for every validation and test sample
 * Every file is written atomically; a resumed run continues exactly where the
 * last completed epoch left off (same losses as an uninterrupted run). */

enum focal_select {
    FOCAL_SELECT_AUTO,       /* mAP (multi-label), macro ROC-AUC (multi-class), ROC-AUC (binary) */
    FOCAL_SELECT_MAP,        /* macro average precision */
    FOCAL_SELECT_AUC,        /* macro ROC-AUC */
    FOCAL_SELECT_MACRO_F1,
    FOCAL_SELECT_BALANCED_ACCURACY,
    FOCAL_SELECT_ACCURACY,
    FOCAL_SELECT_LOSS,       /* validation loss (lower is better) */
    FOCAL_SELECT_COUNT
};
/* "auto", "map", "auc", "macro-f1", "balanced-accuracy", "accuracy", "loss". */
const char *focal_select_name(enum focal_select s);
focal_status focal_select_parse(const char *name, enum focal_select *s);
/* The metric s stands for on a task: AUTO becomes MAP for multi-label data
 * and AUC otherwise; any other value is returned as it is. */
enum focal_select focal_select_resolve(enum focal_select s, enum focal_task task);

struct focal_run_config {
    const char *model_desc;      /* network description (focal_model_create) */
    const char *model_name;      /* preset or file name, recorded and used in messages */
    struct focal_loss loss;      /* its family must fit the task (softmax for multi-class) */
    struct focal_optim_config optim; /* a cosine schedule with total_steps 0 spans the whole run */
    enum focal_sampler sampler;
    double repeat_threshold;     /* repeat-factor sampling's t */
    struct focal_augment augment;
    double prior;                /* sigmoid heads: output biases start at this prior π; 0: off */
    int epochs, batch;
    uint64_t seed;
    int patience;                /* stop after this many epochs without improvement; 0: never */
    enum focal_select select;
    int fundus_crop;             /* recorded in run.json for focal eval/predict */
    const char *data;            /* the data's path, recorded in run.json */
};
/* Defaults: Adam lr 1e-3, batch 32, 10 epochs, shuffle, no augmentation, seed 0,
 * patience 0, select AUTO; model_desc and loss are the caller's to set. */
void focal_run_defaults(struct focal_run_config *cfg);

/* One epoch of a run: a row of history.csv. */
struct focal_epoch_record {
    int epoch;               /* 1-based */
    double train_loss, val_loss;
    double val_map, val_auc, val_macro_f1, val_balanced_accuracy, val_accuracy; /* NaN if undefined */
    double select_value;     /* the selection metric */
    int improved;            /* 1 if this epoch became the best */
    double lr, seconds;
};

/* What the run reports as it goes; any member may be NULL. */
struct focal_run_callbacks {
    void *ctx;
    /* after each batch: samples done of total in this epoch, the epoch's mean loss so far */
    void (*batch)(void *ctx, int epoch, int epochs, long done, long total, double loss, double seconds);
    /* after each epoch's validation: one history row */
    void (*epoch)(void *ctx, const struct focal_epoch_record *rec);
};

/* Trains on the samples train[0..n_train) of d (pixels or features; labels),
 * validating on val[0..n_val) (n_val > 0), testing on test[0..n_test) (may be
 * 0), writing the run folder `dir` (created if missing). With resume, `dir`
 * must hold a run with the same configuration; training continues after its
 * last completed epoch (epochs may be raised). FOCAL_ERR_NUMERIC when the
 * loss becomes NaN or Inf: training stops, the files of the last good epoch
 * stay, and the message names the epoch and batch. */
focal_status focal_run_train(const struct focal_run_config *cfg, const struct focal_dataset *d,
                             const int *train, int n_train, const int *val, int n_val,
                             const int *test, int n_test, const char *dir, int resume,
                             const struct focal_run_callbacks *cb);

/* A trained run loaded for evaluation or prediction. */
struct focal_run {
    struct focal_model *model;
    struct focal_ckpt_meta meta;     /* normalisation, class names */
    enum focal_task task;
    int num_classes;
    double *thresholds;              /* num_classes (binary: 1) decision thresholds */
    int fundus_crop;
    int channels, height, width;     /* model input */
};
/* Loads dir/model.safetensors and dir/run.json for up to max_batch samples. */
focal_status focal_run_load(struct focal_run *r, const char *dir, int max_batch);
void focal_run_free(struct focal_run *r);

/* Class probabilities of samples idx[0..n) of d (pixels or features, shaped as
 * the run's input): probs receives n × num_classes values (binary: n values,
 * the positive class's probability). Evaluation mode, no augmentation. */
focal_status focal_run_predict(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                               double *probs);

/* The metrics of the run's model on samples idx[0..n) of d, with the run's
 * thresholds (m: release with focal_metrics_free); when the labels include
 * Disease_Risk, *have_riadd = 1 and *riadd the RIADD score. FOCAL_ERR_ARG if
 * d's task or classes differ from the run's. */
focal_status focal_run_evaluate(struct focal_run *r, const struct focal_dataset *d, const int *idx, int n,
                                struct focal_metrics *m, struct focal_riadd *riadd, int *have_riadd);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_H */
