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

#define FOCAL_MAX_NORM_CHANNELS 16

/* What a checkpoint records beside the weights (safetensors "__metadata__"). */
struct focal_ckpt_meta {
    int epoch;               /* epochs completed */
    uint64_t seed;
    int channels;            /* input normalisation: 0 (none) or the model's input channels */
    float mean[FOCAL_MAX_NORM_CHANNELS], std[FOCAL_MAX_NORM_CHANNELS]; /* x' = (x − mean)/std, std > 0 */
    int num_classes;
    char **class_names;      /* num_classes strings, or NULL */
};
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

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_H */
