/* loss.c — the loss driver: parameter defaults and checks, names, target
 * validation, reductions, and the deterministic parallel split of the work
 * over the kernels of loss_kernels.c. */
#include <math.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "focal/loss.h"
#include "base/internal.h"
#include "base/names.h"
#include "loss/loss_internal.h"

/* The work is cut into at most this many chunks, at row boundaries that depend
 * only on the problem's shape; partial sums are added in chunk order, so the
 * result does not depend on the number of threads. */
#define FOCAL_MAX_CHUNKS 256
#define FOCAL_CHUNK_ELEMS 8192

#define P_FOCUS (FOCAL_PARAM_ALPHA | FOCAL_PARAM_CLASS_WEIGHTS | FOCAL_PARAM_REDUCTION)
#define P_SOFTMAX (P_FOCUS | FOCAL_PARAM_LABEL_SMOOTHING | FOCAL_PARAM_IGNORE_INDEX)
/* the softmax long-tail losses: no focusing, no label smoothing */
#define P_LONGTAIL (P_FOCUS | FOCAL_PARAM_IGNORE_INDEX | FOCAL_PARAM_CLASS_PRIOR)

static const struct focal_loss_info loss_info[FOCAL_LOSS_KIND_COUNT] = {
    { FOCAL_LOSS_BCE, "bce", 0, P_FOCUS, "ce" },
    { FOCAL_LOSS_SIGMOID_FOCAL, "sigmoid-focal", 0, P_FOCUS | FOCAL_PARAM_GAMMA, "focal" },
    { FOCAL_LOSS_FOCAL_STAR, "focal-star", 0, P_FOCUS | FOCAL_PARAM_GAMMA | FOCAL_PARAM_BETA, NULL },
    { FOCAL_LOSS_ASL, "asl", 0, P_FOCUS | FOCAL_PARAM_GAMMA_POS | FOCAL_PARAM_GAMMA_NEG | FOCAL_PARAM_MARGIN, NULL },
    { FOCAL_LOSS_SIGMOID_POLY1, "sigmoid-poly1", 0, P_FOCUS | FOCAL_PARAM_GAMMA | FOCAL_PARAM_EPSILON, "poly1" },
    { FOCAL_LOSS_CE, "ce", 1, P_SOFTMAX, "ce" },
    { FOCAL_LOSS_SOFTMAX_FOCAL, "softmax-focal", 1, P_SOFTMAX | FOCAL_PARAM_GAMMA, "focal" },
    { FOCAL_LOSS_SOFTMAX_POLY1, "softmax-poly1", 1, P_SOFTMAX | FOCAL_PARAM_GAMMA | FOCAL_PARAM_EPSILON, "poly1" },
    { FOCAL_LOSS_LA, "la", 1, P_LONGTAIL | FOCAL_PARAM_TAU, NULL },
    { FOCAL_LOSS_BALANCED_SOFTMAX, "balanced-softmax", 1, P_LONGTAIL, NULL },
    { FOCAL_LOSS_LDAM, "ldam", 1, P_LONGTAIL | FOCAL_PARAM_MARGIN | FOCAL_PARAM_SCALE, NULL },
    { FOCAL_LOSS_DB, "db", 0, FOCAL_PARAM_CLASS_WEIGHTS | FOCAL_PARAM_REDUCTION | FOCAL_PARAM_CLASS_PRIOR |
      FOCAL_PARAM_GAMMA | FOCAL_PARAM_DB_ALPHA | FOCAL_PARAM_DB_BETA | FOCAL_PARAM_DB_MU |
      FOCAL_PARAM_DB_LAMBDA | FOCAL_PARAM_DB_KAPPA, NULL },
};

/* The kinds' names, in the order of the enum. */
#define KIND_NAMES ((struct focal_names){ &loss_info[0].name, sizeof loss_info[0], FOCAL_LOSS_KIND_COUNT })

static const char *const reduction_names[FOCAL_REDUCTION_COUNT] = {
    [FOCAL_REDUCTION_NONE] = "none",
    [FOCAL_REDUCTION_SUM] = "sum",
    [FOCAL_REDUCTION_MEAN] = "mean",
    [FOCAL_REDUCTION_POSITIVES] = "positives",
};

const struct focal_loss_info *focal_loss_info(enum focal_loss_kind kind)
{
    return (unsigned)kind < FOCAL_LOSS_KIND_COUNT ? &loss_info[kind] : NULL;
}

void focal_loss_init(struct focal_loss *l, enum focal_loss_kind kind)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->reduction = FOCAL_REDUCTION_MEAN;
    /* 0 for the kinds without a focusing term (bce, ce, la, balanced-softmax, ldam) */
    l->gamma = (unsigned)kind < FOCAL_LOSS_KIND_COUNT && !(loss_info[kind].params & FOCAL_PARAM_GAMMA) ? 0.0 : 2.0;
    l->alpha = -1.0;
    l->beta = 1.0;
    l->gamma_pos = 0.0;
    l->gamma_neg = 4.0;
    l->margin = kind == FOCAL_LOSS_LDAM ? 0.5 : 0.05;
    l->epsilon = 1.0;
    l->label_smoothing = 0.0;
    l->ignore_index = -100;
    l->class_weights = NULL;
    l->class_prior = NULL;
    l->tau = 1.0;
    l->scale = 30.0;
    l->db_alpha = 0.1;
    l->db_beta = 10.0;
    l->db_mu = 0.2;
    l->db_lambda = 2.0;
    l->db_kappa = 0.05;
}

int focal_loss_is_softmax(enum focal_loss_kind kind)
{
    return (unsigned)kind < FOCAL_LOSS_KIND_COUNT && loss_info[kind].softmax;
}

int focal_loss_fits_task(enum focal_loss_kind kind, enum focal_task task)
{
    return (unsigned)kind < FOCAL_LOSS_KIND_COUNT && loss_info[kind].softmax == (task == FOCAL_TASK_MULTICLASS);
}

/* focal_loss_kind_name, focal_loss_kind_parse, focal_reduction_name, focal_reduction_parse */
FOCAL_DEFINE_NAMES(focal_loss_kind_name, focal_loss_kind_parse, enum focal_loss_kind, "loss", KIND_NAMES)
FOCAL_DEFINE_NAMES(focal_reduction_name, focal_reduction_parse, enum focal_reduction, "reduction",
                   FOCAL_NAMES(reduction_names))

/* Appends the names of the kinds of one family to buf, "a, b or c", each a
 * generic name followed by the kind's own in parentheses where they differ. */
static void family_names(char *buf, size_t size, int softmax)
{
    size_t at = 0;
    int n = 0, left = 0;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++)
        left += loss_info[k].softmax == softmax;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT && at < size; k++) {
        const struct focal_loss_info *in = &loss_info[k];
        if (in->softmax != softmax)
            continue;
        const char *sep = n == 0 ? "" : n + 1 == left ? " or " : ", ";
        if (in->generic && strcmp(in->generic, in->name) != 0)
            at += (size_t)snprintf(buf + at, size - at, "%s%s (%s)", sep, in->generic, in->name);
        else
            at += (size_t)snprintf(buf + at, size - at, "%s%s", sep, in->name);
        n++;
    }
}

focal_status focal_loss_kind_for_task(const char *name, enum focal_task task, enum focal_loss_kind *kind)
{
    const int softmax = task == FOCAL_TASK_MULTICLASS;
    int found = -1;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT && found < 0 && name; k++)
        if (loss_info[k].softmax == softmax && loss_info[k].generic && strcmp(name, loss_info[k].generic) == 0)
            found = k;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT && found < 0 && name; k++)
        if (strcmp(name, loss_info[k].name) == 0)
            found = k;
    char list[256] = "";
    if (found < 0) {
        size_t at = 0;
        for (int k = 0; k < FOCAL_LOSS_KIND_COUNT && at < sizeof list; k++)
            if (!loss_info[k].generic || strcmp(loss_info[k].generic, loss_info[k].name) != 0)
                at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", loss_info[k].name);
        return focal_fail(FOCAL_ERR_ARG, "'%s' is not a loss; expected ce, focal, poly1 (the family the task needs), "
                          "or one of: %s", name ? name : "(null)", list);
    }
    if (loss_info[found].softmax != softmax) {
        family_names(list, sizeof list, softmax);
        return focal_fail(FOCAL_ERR_ARG, "%s is a %s loss; this %s data needs %s", name,
                          softmax ? "sigmoid" : "softmax",
                          softmax ? "multi-class" : task == FOCAL_TASK_BINARY ? "binary" : "multi-label", list);
    }
    *kind = (enum focal_loss_kind)found;
    return FOCAL_OK;
}

focal_status focal_loss_check(const struct focal_loss *l, size_t c)
{
    if (!l)
        return focal_fail(FOCAL_ERR_ARG, "loss parameters are NULL");
    if ((unsigned)l->kind >= FOCAL_LOSS_KIND_COUNT)
        return focal_fail(FOCAL_ERR_ARG, "loss kind %d is not a valid focal_loss_kind", (int)l->kind);
    if ((unsigned)l->reduction >= FOCAL_REDUCTION_COUNT)
        return focal_fail(FOCAL_ERR_ARG, "reduction %d is not a valid focal_reduction", (int)l->reduction);
    if (c == 0)
        return focal_fail(FOCAL_ERR_ARG, "the number of classes is 0; expected at least 1");
    const char *kn = loss_info[l->kind].name;
    const int softmax = focal_loss_is_softmax(l->kind);
    const unsigned uses = loss_info[l->kind].params;
    if ((uses & FOCAL_PARAM_GAMMA) && (!isfinite(l->gamma) || l->gamma < 0))
        return focal_fail(FOCAL_ERR_ARG, "%s: gamma is %g; expected a finite value >= 0", kn, l->gamma);
    if (l->kind == FOCAL_LOSS_FOCAL_STAR && !(l->gamma > 0))
        return focal_fail(FOCAL_ERR_ARG, "focal-star: gamma is %g; FL* needs gamma > 0", l->gamma);
    if (isnan(l->alpha) || isinf(l->alpha))
        return focal_fail(FOCAL_ERR_ARG, "%s: alpha is %g; expected a finite value (< 0 turns it off)", kn, l->alpha);
    if (!softmax && l->alpha > 1)
        return focal_fail(FOCAL_ERR_ARG, "%s: alpha is %g; expected a value in [0,1] (< 0 turns it off)", kn, l->alpha);
    if ((uses & FOCAL_PARAM_BETA) && !isfinite(l->beta))
        return focal_fail(FOCAL_ERR_ARG, "%s: beta is %g; expected a finite value", kn, l->beta);
    if ((uses & FOCAL_PARAM_GAMMA_POS) && (!isfinite(l->gamma_pos) || l->gamma_pos < 0))
        return focal_fail(FOCAL_ERR_ARG, "%s: gamma-pos is %g; expected a finite value >= 0", kn, l->gamma_pos);
    if ((uses & FOCAL_PARAM_GAMMA_NEG) && (!isfinite(l->gamma_neg) || l->gamma_neg < 0))
        return focal_fail(FOCAL_ERR_ARG, "%s: gamma-neg is %g; expected a finite value >= 0", kn, l->gamma_neg);
    if (l->kind == FOCAL_LOSS_LDAM && !(l->margin >= 0 && isfinite(l->margin)))
        return focal_fail(FOCAL_ERR_ARG, "ldam: margin is %g; expected a finite value >= 0 (the largest "
                          "margin m_max)", l->margin);
    if ((uses & FOCAL_PARAM_MARGIN) && l->kind != FOCAL_LOSS_LDAM && !(l->margin >= 0 && l->margin < 1))
        return focal_fail(FOCAL_ERR_ARG, "%s: margin is %g; expected a value in [0,1)", kn, l->margin);
    if ((uses & FOCAL_PARAM_TAU) && !(l->tau >= 0 && isfinite(l->tau)))
        return focal_fail(FOCAL_ERR_ARG, "%s: tau is %g; expected a finite value >= 0", kn, l->tau);
    if ((uses & FOCAL_PARAM_SCALE) && !(l->scale > 0 && isfinite(l->scale)))
        return focal_fail(FOCAL_ERR_ARG, "%s: scale is %g; expected a finite value > 0", kn, l->scale);
    if ((uses & FOCAL_PARAM_DB_ALPHA) && !(l->db_alpha >= 0 && isfinite(l->db_alpha)))
        return focal_fail(FOCAL_ERR_ARG, "%s: db-alpha is %g; expected a finite value >= 0", kn, l->db_alpha);
    if ((uses & FOCAL_PARAM_DB_BETA) && !(l->db_beta >= 0 && isfinite(l->db_beta)))
        return focal_fail(FOCAL_ERR_ARG, "%s: db-beta is %g; expected a finite value >= 0", kn, l->db_beta);
    if ((uses & FOCAL_PARAM_DB_MU) && !isfinite(l->db_mu))
        return focal_fail(FOCAL_ERR_ARG, "%s: db-mu is %g; expected a finite value", kn, l->db_mu);
    if ((uses & FOCAL_PARAM_DB_LAMBDA) && !(l->db_lambda > 0 && isfinite(l->db_lambda)))
        return focal_fail(FOCAL_ERR_ARG, "%s: db-lambda is %g; expected a finite value > 0", kn, l->db_lambda);
    if ((uses & FOCAL_PARAM_DB_KAPPA) && !(l->db_kappa >= 0 && isfinite(l->db_kappa)))
        return focal_fail(FOCAL_ERR_ARG, "%s: db-kappa is %g; expected a finite value >= 0", kn, l->db_kappa);
    if ((uses & FOCAL_PARAM_CLASS_PRIOR) && l->class_prior) {
        for (size_t j = 0; j < c; j++) {
            const double v = l->class_prior[j];
            if (l->kind == FOCAL_LOSS_DB && !(v > 0 && v < 1))
                return focal_fail(FOCAL_ERR_ARG, "db: class prior %zu is %g; expected a frequency in (0,1): "
                                  "the number of training samples with that label over the number "
                                  "of training samples", j, v);
            if (!(v > 0 && isfinite(v)))
                return focal_fail(FOCAL_ERR_ARG, "%s: class prior %zu is %g; expected a finite value > 0 "
                                  "(a class frequency or count of the training split)", kn, j, v);
        }
    }
    if ((uses & FOCAL_PARAM_EPSILON) && !isfinite(l->epsilon))
        return focal_fail(FOCAL_ERR_ARG, "%s: epsilon is %g; expected a finite value", kn, l->epsilon);
    if ((uses & FOCAL_PARAM_LABEL_SMOOTHING) && !(l->label_smoothing >= 0 && l->label_smoothing <= 1))
        return focal_fail(FOCAL_ERR_ARG, "%s: label smoothing is %g; expected a value in [0,1]", kn,
                          l->label_smoothing);
    if (l->class_weights) {
        for (size_t j = 0; j < c; j++) {
            if (!isfinite(l->class_weights[j]) || l->class_weights[j] < 0)
                return focal_fail(FOCAL_ERR_ARG, "%s: class weight %zu is %g; expected a finite value >= 0",
                                  kn, j, l->class_weights[j]);
        }
    }
    return FOCAL_OK;
}

/* ---- kernel selection ---------------------------------------------------- */

static int isa_supported(const struct focal_kernels *k)
{
#ifdef FOCAL_HAVE_X86_ISAS
    __builtin_cpu_init();
    if (k == &focal_kernels_avx512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    if (k == &focal_kernels_avx2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("bmi2");
#endif
    return k == &focal_kernels_generic;
}

const struct focal_kernels *focal_kernels_active(void)
{
    static const struct focal_kernels *_Atomic chosen;
    const struct focal_kernels *k = atomic_load(&chosen);
    if (k)
        return k;
    const struct focal_kernels *const all[] = {
#ifdef FOCAL_HAVE_X86_ISAS
        &focal_kernels_avx512, &focal_kernels_avx2,
#endif
        &focal_kernels_generic,
    };
    const size_t nall = sizeof all / sizeof all[0];
    const char *want = getenv("FOCAL_ISA");
    k = NULL;
    for (size_t i = 0; want && i < nall; i++)
        if (strcmp(want, all[i]->isa) == 0 && isa_supported(all[i]))
            k = all[i];
    for (size_t i = 0; !k && i < nall; i++)
        if (isa_supported(all[i]))
            k = all[i];
    atomic_store(&chosen, k);
    return k;
}

const char *focal_isa(void)
{
    return focal_kernels_active()->isa;
}

/* ---- shared driver pieces -------------------------------------------------- */

static size_t plan_chunks(size_t n, size_t c)
{
    size_t nch = (n * c) / FOCAL_CHUNK_ELEMS;
    if (nch > FOCAL_MAX_CHUNKS)
        nch = FOCAL_MAX_CHUNKS;
    if (nch > n)
        nch = n;
    return nch ? nch : 1;
}

static void kparams_from(struct focal_kparams *kp, const struct focal_loss *l)
{
    kp->l = *l;
    /* the kinds without a focusing term ignore their γ field (and the softmax
     * long-tail kinds their label smoothing) */
    if (!(loss_info[l->kind].params & FOCAL_PARAM_GAMMA))
        kp->l.gamma = 0.0;
    if (!(loss_info[l->kind].params & FOCAL_PARAM_LABEL_SMOOTHING))
        kp->l.label_smoothing = 0.0;
    kp->gscale = 1.0;
    kp->cshift = kp->caux = NULL;
}

/* For the long-tail kinds: checks that class_prior is given and forms the
 * kernels' per-class constants (see struct focal_kparams) in *owned, which
 * the caller frees. Nothing to do (and *owned NULL) for the other kinds. */
static focal_status longtail_consts(const struct focal_loss *l, size_t c, struct focal_kparams *kp,
                                    double **owned)
{
    *owned = NULL;
    if (!(loss_info[l->kind].params & FOCAL_PARAM_CLASS_PRIOR))
        return FOCAL_OK;
    const char *kn = loss_info[l->kind].name;
    if (!l->class_prior)
        return focal_fail(FOCAL_ERR_ARG, "%s: class_prior is NULL; the loss needs the training split's "
                          "class frequencies (or counts), one per class", kn);
    double *a = malloc(2 * c * sizeof *a);
    if (!a)
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory for %zu per-class constants", kn, 2 * c);
    double *shift = a, *aux = a + c;
    const double *v = l->class_prior;
    switch (l->kind) {
    case FOCAL_LOSS_LA:
    case FOCAL_LOSS_BALANCED_SOFTMAX: {
        const double tau = l->kind == FOCAL_LOSS_BALANCED_SOFTMAX ? 1.0 : l->tau;
        for (size_t j = 0; j < c; j++)
            shift[j] = tau * log(v[j]);
        kp->cshift = shift;
        break;
    }
    case FOCAL_LOSS_LDAM: {
        double vmin = v[0];
        for (size_t j = 1; j < c; j++)
            vmin = v[j] < vmin ? v[j] : vmin;
        /* Δ_j = m·n_j^(−1/4) / max_k n_k^(−1/4), the largest for the rarest class */
        for (size_t j = 0; j < c; j++)
            aux[j] = l->margin * sqrt(sqrt(vmin / v[j]));
        kp->caux = aux;
        break;
    }
    default: /* db */
        for (size_t j = 0; j < c; j++) {
            shift[j] = l->db_kappa / l->db_lambda * (log(v[j]) - log1p(-v[j]));
            aux[j] = 1.0 / v[j];
        }
        kp->cshift = shift;
        kp->caux = aux;
        break;
    }
    *owned = a;
    return FOCAL_OK;
}

static focal_status check_shape(const struct focal_loss *l, size_t n, size_t c, const void *x,
                                const void *t, int want_softmax)
{
    if (!l)
        return focal_fail(FOCAL_ERR_ARG, "loss parameters are NULL");
    if ((unsigned)l->kind < FOCAL_LOSS_KIND_COUNT && focal_loss_is_softmax(l->kind) != want_softmax)
        return focal_fail(FOCAL_ERR_ARG, "loss '%s' belongs to the %s family; call focal_%s_loss",
                          loss_info[l->kind].name, want_softmax ? "sigmoid" : "softmax",
                          want_softmax ? "sigmoid" : "softmax");
    if (c != 0 && n > SIZE_MAX / sizeof(double) / c)
        return focal_fail(FOCAL_ERR_ARG, "%zu x %zu logits overflow the address space", n, c);
    if (n != 0 && (!x || !t))
        return focal_fail(FOCAL_ERR_ARG, "logits or targets are NULL");
    return focal_loss_check(l, c);
}

/* The element type of a call: the f32 and f64 entry points share the driver. */
struct run {
    int f64;
    size_t n, c;
    const void *x, *t;
    void *grad, *per;
};

static inline double xval(const struct run *r, size_t i)
{
    return r->f64 ? ((const double *)r->x)[i] : (double)((const float *)r->x)[i];
}

static inline double yval(const struct run *r, size_t i)
{
    return r->f64 ? ((const double *)r->t)[i] : (double)((const float *)r->t)[i];
}

/* Reports the first non-finite logit among the elements that count. */
static focal_status nonfinite_error(const struct run *r, const struct focal_loss *l, int softmax)
{
    for (size_t i = 0; i < r->n; i++) {
        if (softmax && ((const int32_t *)r->t)[i] == l->ignore_index)
            continue;
        for (size_t j = 0; j < r->c; j++) {
            if (!softmax && !(yval(r, i * r->c + j) >= 0))
                continue;
            const double v = xval(r, i * r->c + j);
            if (!isfinite(v))
                return focal_fail(FOCAL_ERR_NUMERIC, "logit at row %zu, column %zu is %g; logits must be finite",
                                  i, j, v);
        }
    }
    return focal_fail(FOCAL_ERR_NUMERIC, "%s: the loss is not finite", loss_info[l->kind].name);
}

static void scale_grad(const struct run *r, double f)
{
    const size_t total = r->n * r->c;
    if (r->f64) {
        double *g = r->grad;
        for (size_t i = 0; i < total; i++)
            g[i] *= f;
    } else {
        float *g = r->grad;
        const float ff = (float)f;
        for (size_t i = 0; i < total; i++)
            g[i] *= ff;
    }
}

/* Runs the kernels of one family over the problem in shape-determined chunks
 * (in parallel) and adds the chunks' results in chunk order into *total.
 * Without a gradient (r->grad NULL) the kernels compute the loss alone and
 * nothing is allocated. */
static focal_status run_chunks(struct run *r, const struct focal_kparams *kp, int softmax,
                               struct focal_kpart *total)
{
    const size_t n = r->n, c = r->c;
    const struct focal_kernels *k = focal_kernels_active();
    const size_t nch = plan_chunks(n, c);
    struct focal_kpart part[FOCAL_MAX_CHUNKS];
#pragma omp parallel for schedule(static) if (nch > 1)
    for (size_t ch = 0; ch < nch; ch++) {
        const size_t r0 = n * ch / nch, r1 = n * (ch + 1) / nch;
        if (softmax && r->f64)
            k->smx_f64(kp, c, r0, r1, r->x, r->t, r->grad, r->per, &part[ch]);
        else if (softmax)
            k->smx_f32(kp, c, r0, r1, r->x, r->t, r->grad, r->per, &part[ch]);
        else if (r->f64)
            k->sig_f64(kp, c, r0, r1, r->x, r->t, r->grad, r->per, &part[ch]);
        else
            k->sig_f32(kp, c, r0, r1, r->x, r->t, r->grad, r->per, &part[ch]);
    }
    memset(total, 0, sizeof *total);
    for (size_t ch = 0; ch < nch; ch++) {
        total->sum += part[ch].sum;
        total->counted += part[ch].counted;
        total->bad += part[ch].bad;
    }
    return FOCAL_OK;
}

/* ---- sigmoid family -------------------------------------------------------- */

static focal_status sigmoid_kernels(const struct focal_loss *l, struct run *r, struct focal_kparams *kpp,
                                    double *loss);

static focal_status sigmoid_run(const struct focal_loss *l, struct run *r, double *loss)
{
    focal_clear_error();
    focal_status st = check_shape(l, r->n, r->c, r->x, r->t, 0);
    if (st != FOCAL_OK)
        return st;
    struct focal_kparams kp;
    kparams_from(&kp, l);
    double *consts;
    if ((st = longtail_consts(l, r->c, &kp, &consts)) != FOCAL_OK)
        return st;
    st = sigmoid_kernels(l, r, &kp, loss);
    free(consts);
    return st;
}

/* sigmoid_run once the parameters are checked and the constants formed. */
static focal_status sigmoid_kernels(const struct focal_loss *l, struct run *r, struct focal_kparams *kpp,
                                    double *loss)
{
    const size_t n = r->n, c = r->c, total = n * c;
    struct focal_kparams kp = *kpp;
    focal_status st;

    double npos = 0;
    if (l->reduction == FOCAL_REDUCTION_POSITIVES) {
        int64_t pos = 0;
        if (r->f64) {
            const double *y = r->t;
            for (size_t i = 0; i < total; i++)
                pos += y[i] >= 0.5;
        } else {
            const float *y = r->t;
            for (size_t i = 0; i < total; i++)
                pos += y[i] >= 0.5f;
        }
        npos = (double)pos;
        kp.gscale = 1.0 / (npos > 1 ? npos : 1.0);
    } else if (l->reduction == FOCAL_REDUCTION_MEAN && total > 0) {
        /* assume nothing is ignored; corrected below if something was */
        kp.gscale = 1.0 / (double)total;
    }

    struct focal_kpart tot;
    if ((st = run_chunks(r, &kp, 0, &tot)) != FOCAL_OK)
        return st;
    const double sum = tot.sum;
    const int64_t counted = tot.counted, bad = tot.bad;
    if (bad) {
        for (size_t i = 0; i < total; i++) {
            const double y = yval(r, i);
            if (!(y <= 1))
                return focal_fail(FOCAL_ERR_ARG,
                                  "target at row %zu, column %zu is %g; expected a value in [0,1] "
                                  "(or < 0 to ignore the element)", i / c, i % c, y);
        }
    }
    if (!isfinite(sum))
        return nonfinite_error(r, l, 0);

    double value = sum;
    switch (l->reduction) {
    case FOCAL_REDUCTION_MEAN:
        value = counted ? sum / (double)counted : 0.0;
        if (r->grad && counted && (size_t)counted != total)
            scale_grad(r, (double)total / (double)counted);
        break;
    case FOCAL_REDUCTION_POSITIVES:
        value = sum / (npos > 1 ? npos : 1.0);
        break;
    default:
        break;
    }
    if (loss)
        *loss = value;
    return FOCAL_OK;
}

focal_status focal_sigmoid_loss(const struct focal_loss *l, size_t n, size_t c, const float *logits,
                                const float *targets, float *grad, float *per, double *loss)
{
    struct run r = {0, n, c, logits, targets, grad, per};
    return sigmoid_run(l, &r, loss);
}

focal_status focal_sigmoid_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const double *targets, double *grad,
                                    double *per, double *loss)
{
    struct run r = {1, n, c, logits, targets, grad, per};
    return sigmoid_run(l, &r, loss);
}

/* ---- softmax family -------------------------------------------------------- */

static focal_status softmax_run(const struct focal_loss *l, struct run *r, double *loss)
{
    focal_clear_error();
    focal_status st = check_shape(l, r->n, r->c, r->x, r->t, 1);
    if (st != FOCAL_OK)
        return st;
    const size_t n = r->n, c = r->c;
    const int32_t *t = r->t;
    int64_t counted = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == l->ignore_index)
            continue;
        if (t[i] < 0 || (size_t)t[i] >= c)
            return focal_fail(FOCAL_ERR_ARG,
                              "target at row %zu is %ld; expected a class in [0,%zu) or the ignore index %ld",
                              i, (long)t[i], c, (long)l->ignore_index);
        counted++;
    }
    struct focal_kparams kp;
    kparams_from(&kp, l);
    if (l->reduction == FOCAL_REDUCTION_MEAN || l->reduction == FOCAL_REDUCTION_POSITIVES)
        kp.gscale = 1.0 / (counted > 1 ? (double)counted : 1.0);
    double *consts;
    if ((st = longtail_consts(l, c, &kp, &consts)) != FOCAL_OK)
        return st;
    struct focal_kpart tot;
    st = run_chunks(r, &kp, 1, &tot);
    free(consts);
    if (st != FOCAL_OK)
        return st;
    const double sum = tot.sum;
    if (!isfinite(sum))
        return nonfinite_error(r, l, 1);
    double value = sum;
    if (l->reduction == FOCAL_REDUCTION_MEAN || l->reduction == FOCAL_REDUCTION_POSITIVES)
        value = counted ? sum / (double)counted : 0.0;
    if (loss)
        *loss = value;
    return FOCAL_OK;
}

focal_status focal_softmax_loss(const struct focal_loss *l, size_t n, size_t c, const float *logits,
                                const int32_t *targets, float *grad, float *per, double *loss)
{
    struct run r = {0, n, c, logits, targets, grad, per};
    return softmax_run(l, &r, loss);
}

focal_status focal_softmax_loss_f64(const struct focal_loss *l, size_t n, size_t c,
                                    const double *logits, const int32_t *targets, double *grad,
                                    double *per, double *loss)
{
    struct run r = {1, n, c, logits, targets, grad, per};
    return softmax_run(l, &r, loss);
}

int64_t focal_loss_count(const struct focal_loss *l, size_t n, size_t c, const void *targets)
{
    int64_t count = 0;
    if (l->reduction != FOCAL_REDUCTION_MEAN && l->reduction != FOCAL_REDUCTION_POSITIVES)
        return 0;
    if (focal_loss_is_softmax(l->kind)) {
        const int32_t *t = targets;
        for (size_t i = 0; i < n; i++)
            count += t[i] != l->ignore_index;
        return count;
    }
    const float *y = targets;
    const float least = l->reduction == FOCAL_REDUCTION_MEAN ? 0.0f : 0.5f;
    for (size_t i = 0; i < n * c; i++)
        count += y[i] >= least;
    return count;
}
