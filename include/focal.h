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

/* Sets the number of threads the library's parallel loops use (n >= 1), or
 * n = 0 for one per core. Results of every loss are bit-identical for a given
 * input whatever the thread count. */
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

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_H */
