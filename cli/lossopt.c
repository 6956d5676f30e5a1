/* lossopt.c — the loss parameters shared by the commands that take a loss. */
#include <math.h>
#include <stdint.h>

#include "lossopt.h"

static const struct cli_opt lossopt_opts[] = { LOSSOPT_CLI_OPTS };
#define N_LOSSOPT_OPTS (sizeof lossopt_opts / sizeof lossopt_opts[0])

#define KIND_BIT(k) (1u << (unsigned)(k))
#define SIGMOID_KINDS (KIND_BIT(FOCAL_LOSS_BCE) | KIND_BIT(FOCAL_LOSS_SIGMOID_FOCAL) | \
    KIND_BIT(FOCAL_LOSS_FOCAL_STAR) | KIND_BIT(FOCAL_LOSS_ASL) | KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1))
#define SOFTMAX_KINDS (KIND_BIT(FOCAL_LOSS_CE) | KIND_BIT(FOCAL_LOSS_SOFTMAX_FOCAL) | \
    KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1))

/* The loss kinds (bit set) whose value depends on the option with this id. */
static unsigned lossopt_kinds(int id)
{
    switch (id) {
    case LOSSOPT_GAMMA:
        return KIND_BIT(FOCAL_LOSS_SIGMOID_FOCAL) | KIND_BIT(FOCAL_LOSS_FOCAL_STAR) |
               KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1) | KIND_BIT(FOCAL_LOSS_SOFTMAX_FOCAL) |
               KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1);
    case LOSSOPT_BETA:
        return KIND_BIT(FOCAL_LOSS_FOCAL_STAR);
    case LOSSOPT_GAMMA_POS:
    case LOSSOPT_GAMMA_NEG:
    case LOSSOPT_MARGIN:
        return KIND_BIT(FOCAL_LOSS_ASL);
    case LOSSOPT_EPSILON:
        return KIND_BIT(FOCAL_LOSS_SIGMOID_POLY1) | KIND_BIT(FOCAL_LOSS_SOFTMAX_POLY1);
    case LOSSOPT_LABEL_SMOOTHING:
    case LOSSOPT_IGNORE_INDEX:
        return SOFTMAX_KINDS;
    default:
        return SIGMOID_KINDS | SOFTMAX_KINDS;
    }
}

/* The option name of id, e.g. "--gamma". */
static const char *lossopt_name(int id)
{
    for (size_t i = 0; i < N_LOSSOPT_OPTS; i++)
        if (lossopt_opts[i].id == id)
            return lossopt_opts[i].name;
    return "?";
}

/* Writes the names of the kinds in `mask`, comma-separated, to fp. */
static void lossopt_print_mask(FILE *fp, unsigned mask)
{
    int first = 1;
    for (int k = 0; k < FOCAL_LOSS_KIND_COUNT; k++) {
        if (!(mask & KIND_BIT(k)))
            continue;
        fprintf(fp, "%s%s", first ? "" : ", ", focal_loss_kind_name((enum focal_loss_kind)k));
        first = 0;
    }
}

void lossopt_print_kinds(FILE *fp)
{
    lossopt_print_mask(fp, SIGMOID_KINDS | SOFTMAX_KINDS);
}

int lossopt_take(struct lossopt *o, int id, const char *value)
{
    if (id < LOSSOPT_FIRST || id >= LOSSOPT_END)
        return 0;
    o->val[id - LOSSOPT_FIRST] = value;
    return 1;
}

/* The value of option id, or NULL if it was not given. */
static const char *lossopt_get(const struct lossopt *o, int id)
{
    return o->val[id - LOSSOPT_FIRST];
}

/* Parses --name VALUE as a number >= 0 (> 0 with positive) into *x. */
static int lossopt_nonneg(const struct lossopt *o, int id, int positive, const char *valid, double *x)
{
    const char *v = lossopt_get(o, id);
    return v && cli_parse_double_in(lossopt_name(id), v, 0.0, positive, HUGE_VAL, 0, valid, x);
}

int lossopt_apply(struct focal_loss *l, enum focal_loss_kind kind, const struct lossopt *o, const char *kind_opt)
{
    const char *v;
    focal_loss_init(l, kind);
    int softmax = focal_loss_is_softmax(kind);

    if ((v = lossopt_get(o, LOSSOPT_REDUCTION)) && focal_reduction_parse(v, &l->reduction) != FOCAL_OK) {
        fprintf(stderr, "focal: --reduction: '%s' is not a reduction; expected ", v);
        for (int r = 0; r < FOCAL_REDUCTION_COUNT; r++)
            fprintf(stderr, "%s%s", r == 0 ? "" : (r + 1 == FOCAL_REDUCTION_COUNT ? " or " : ", "),
                    focal_reduction_name((enum focal_reduction)r));
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    if ((v = lossopt_get(o, LOSSOPT_ALPHA))) {
        if (softmax ? cli_parse_double_in("--alpha", v, 0.0, 0, HUGE_VAL, 0, "a number >= 0 (softmax types)",
                                          &l->alpha)
                    : cli_parse_double_in("--alpha", v, 0.0, 0, 1.0, 0, "a number in [0, 1]", &l->alpha))
            return CLI_EXIT_USAGE;
    }
    if (kind == FOCAL_LOSS_FOCAL_STAR ? lossopt_nonneg(o, LOSSOPT_GAMMA, 1, "a number > 0 for focal-star", &l->gamma)
                                      : lossopt_nonneg(o, LOSSOPT_GAMMA, 0, "a number >= 0", &l->gamma))
        return CLI_EXIT_USAGE;
    if ((v = lossopt_get(o, LOSSOPT_BETA)) && cli_parse_double("--beta", v, &l->beta))
        return CLI_EXIT_USAGE;
    if (lossopt_nonneg(o, LOSSOPT_GAMMA_POS, 0, "a number >= 0", &l->gamma_pos) ||
        lossopt_nonneg(o, LOSSOPT_GAMMA_NEG, 0, "a number >= 0", &l->gamma_neg))
        return CLI_EXIT_USAGE;
    if ((v = lossopt_get(o, LOSSOPT_MARGIN)) &&
        cli_parse_double_in("--margin", v, 0.0, 0, 1.0, 1, "a number in [0, 1)", &l->margin))
        return CLI_EXIT_USAGE;
    if ((v = lossopt_get(o, LOSSOPT_EPSILON)) && cli_parse_double("--epsilon", v, &l->epsilon))
        return CLI_EXIT_USAGE;
    if ((v = lossopt_get(o, LOSSOPT_LABEL_SMOOTHING)) &&
        cli_parse_double_in("--label-smoothing", v, 0.0, 0, 1.0, 1, "a number in [0, 1)", &l->label_smoothing))
        return CLI_EXIT_USAGE;
    if ((v = lossopt_get(o, LOSSOPT_IGNORE_INDEX))) {
        long k;
        if (cli_parse_long("--ignore-index", v, INT32_MIN, INT32_MAX, &k))
            return CLI_EXIT_USAGE;
        l->ignore_index = (int32_t)k;
    }

    /* Options the chosen loss does not use: say so, and keep the library's
     * default for them, so that the loss is exactly the one documented. */
    struct focal_loss dflt;
    focal_loss_init(&dflt, kind);
    for (int id = LOSSOPT_FIRST; id < LOSSOPT_END; id++) {
        if (!lossopt_get(o, id))
            continue;
        if (id == LOSSOPT_ALPHA && softmax) {
            cli_warn("--alpha: a scalar alpha only rescales a softmax loss (every row is "
                     "multiplied by %g); per-class weighting is --class-weights W1,...,WC", l->alpha);
            continue;
        }
        if (lossopt_kinds(id) & KIND_BIT(kind))
            continue;
        fprintf(stderr, "focal: warning: %s is ignored by %s %s; it is used by ",
                lossopt_name(id), kind_opt, focal_loss_kind_name(kind));
        lossopt_print_mask(stderr, lossopt_kinds(id));
        fputc('\n', stderr);
        switch (id) {
        case LOSSOPT_GAMMA: l->gamma = dflt.gamma; break;
        case LOSSOPT_BETA: l->beta = dflt.beta; break;
        case LOSSOPT_GAMMA_POS: l->gamma_pos = dflt.gamma_pos; break;
        case LOSSOPT_GAMMA_NEG: l->gamma_neg = dflt.gamma_neg; break;
        case LOSSOPT_MARGIN: l->margin = dflt.margin; break;
        case LOSSOPT_EPSILON: l->epsilon = dflt.epsilon; break;
        case LOSSOPT_LABEL_SMOOTHING: l->label_smoothing = dflt.label_smoothing; break;
        case LOSSOPT_IGNORE_INDEX: l->ignore_index = dflt.ignore_index; break;
        default: break;
        }
    }
    return CLI_EXIT_OK;
}

void lossopt_help(FILE *fp)
{
    struct focal_loss sf, fs, asl, p1, ce;
    focal_loss_init(&sf, FOCAL_LOSS_SIGMOID_FOCAL);
    focal_loss_init(&fs, FOCAL_LOSS_FOCAL_STAR);
    focal_loss_init(&asl, FOCAL_LOSS_ASL);
    focal_loss_init(&p1, FOCAL_LOSS_SIGMOID_POLY1);
    focal_loss_init(&ce, FOCAL_LOSS_CE);
    fprintf(fp,
"  --alpha A            sigmoid family: positives get weight A, negatives 1 - A;\n"
"                       A in [0, 1]; default %s.\n"
"                       A = 0.25 down-weights the positives.\n"
"                       softmax family: A >= 0 only rescales the loss; balance\n"
"                       classes with --class-weights instead.\n"
"  --gamma G            focusing parameter, G >= 0 (focal-star: G > 0); default %g\n"
"                       (sigmoid-focal, focal-star, sigmoid-poly1, softmax-focal,\n"
"                       softmax-poly1). G = 0 gives cross-entropy back.\n"
"  --beta B             focal-star shift, any number; default %g.\n"
"  --gamma-pos G        asl focusing on positives, G >= 0; default %g.\n"
"  --gamma-neg G        asl focusing on negatives, G >= 0; default %g.\n"
"  --margin M           asl probability margin for negatives, M in [0, 1);\n"
"                       default %g.\n"
"  --epsilon E          poly-1 coefficient, any number; default %g.\n"
"  --label-smoothing S  softmax family: smoothing, S in [0, 1); default %g.\n"
"  --ignore-index K     softmax family: the target value of an ignored row, an\n"
"                       integer; default %ld.\n",
            sf.alpha < 0 ? "off (weight 1 for both)" : "on", sf.gamma, fs.beta,
            asl.gamma_pos, asl.gamma_neg, asl.margin, p1.epsilon, ce.label_smoothing,
            (long)ce.ignore_index);
}
