/* trainopt.c — training options and one training run with progress output. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "focal.h"
#include "args.h"
#include "progress.h"
#include "commands.h"
#include "trainopt.h"

void trainopt_init(struct trainopt *t)
{
    memset(t, 0, sizeof *t);
    dataopt_init(&t->data);
    focal_run_defaults(&t->cfg);
    t->loss_name = "focal";
    t->threads = 0;
}

void trainopt_free(struct trainopt *t)
{
    free(t->model_text);
    free(t->class_weights);
    t->model_text = NULL;
    t->class_weights = NULL;
}

/* --augment LIST: hflip, vflip, rot90, rotate=DEG, scale=S, translate=T,
 * brightness=B, contrast=C, or none. */
static int parse_augment(struct focal_augment *a, const char *text)
{
    memset(a, 0, sizeof *a);
    if (strcmp(text, "none") == 0)
        return 0;
    char *copy = strdup(text), *save = NULL;
    int rc = 0;
    if (!copy)
        return -1;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        double v = 0;
        if (eq) {
            *eq = 0;
            if (cli_parse_double_in("--augment", eq + 1, 0.0, 0, 180.0, 0, "a number in [0, 180]", &v))
                return free(copy), -1;
        }
        int flag = !eq;
        if (flag && strcmp(item, "hflip") == 0)
            a->hflip = 1;
        else if (flag && strcmp(item, "vflip") == 0)
            a->vflip = 1;
        else if (flag && strcmp(item, "rot90") == 0)
            a->rot90 = 1;
        else if (!flag && strcmp(item, "rotate") == 0)
            a->rotate = (float)v;
        else if (!flag && strcmp(item, "scale") == 0 && v < 1)
            a->scale = (float)v;
        else if (!flag && strcmp(item, "translate") == 0 && v < 1)
            a->translate = (float)v;
        else if (!flag && strcmp(item, "brightness") == 0 && v <= 1)
            a->brightness = (float)v;
        else if (!flag && strcmp(item, "contrast") == 0 && v < 1)
            a->contrast = (float)v;
        else {
            cli_error("--augment: '%s%s%s' is not an augmentation; expected none or a list of hflip, vflip, "
                      "rot90, rotate=DEGREES, scale=S (< 1), translate=T (< 1), brightness=B (<= 1), "
                      "contrast=C (< 1)", item, eq ? "=" : "", eq ? eq + 1 : "");
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static int parse_optimizer(struct trainopt *t, const char *v)
{
    enum focal_optim_kind k;
    if (focal_optim_kind_parse(v, &k) != FOCAL_OK) {
        cli_error("--optimizer: %s", focal_last_error());
        return -1;
    }
    /* only what depends on the kind and was not given changes: the result
     * does not depend on where --optimizer stands among the options */
    struct focal_optim_config def;
    focal_optim_defaults(&def, k);
    t->cfg.optim.kind = k;
    if (!t->lr_given)
        t->cfg.optim.lr = def.lr;
    if (!t->weight_decay_given)
        t->cfg.optim.weight_decay = def.weight_decay;
    t->optimizer_given = 1;
    return 1;
}

/* --schedule NAME, or step:STEPS,GAMMA (the step schedule with its two
 * numbers). */
static int parse_schedule(struct focal_optim_config *o, char *v)
{
    enum focal_schedule sched;
    if (strncmp(v, "step", 4) != 0 && focal_schedule_parse(v, &sched) == FOCAL_OK)
        o->schedule = sched;
    else if (strncmp(v, "step:", 5) == 0) {
        long size;
        double g;
        char *comma = strchr(v + 5, ',');
        if (!comma) {
            cli_error("--schedule: '%s'; expected step:STEPS,GAMMA (e.g. step:1000,0.1)", v);
            return -1;
        }
        *comma = 0;
        int bad = cli_parse_long("--schedule step size", v + 5, 1, 1000000000, &size) ||
                  cli_parse_double_in("--schedule step gamma", comma + 1, 0.0, 1, 1.0, 0, "a number in (0, 1]", &g);
        *comma = ',';
        if (bad)
            return -1;
        o->schedule = FOCAL_SCHED_STEP;
        o->step_size = size;
        o->step_gamma = g;
    } else {
        cli_error("--schedule: '%s'; expected constant, cosine or step:STEPS,GAMMA", v);
        return -1;
    }
    return 1;
}

int trainopt_take(struct trainopt *t, int id, const char *v)
{
    struct focal_run_config *c = &t->cfg;
    long k;
    double x;
    int r = dataopt_take(&t->data, id, v);
    if (r != 0)
        return r;
    if (lossopt_take(&t->lo, id, v))
        return 1;
    switch (id) {
    case TRAINOPT_MODEL:
        t->model = v;
        /* the size keras-cnn is made for (RFMiD photographs, 450 wide, 300 high); others: 64x64 */
        t->data.default_width = strcmp(v, "keras-cnn") == 0 ? 450 : 64;
        t->data.default_height = strcmp(v, "keras-cnn") == 0 ? 300 : 64;
        return 1;
    case TRAINOPT_LOSS: t->loss_name = v; return 1;
    case TRAINOPT_CLASS_WEIGHTS: t->weights = v; return 1;
    case TRAINOPT_SAMPLER:
        if (focal_sampler_parse(v, &c->sampler) != FOCAL_OK) {
            cli_error("--sampler: %s", focal_last_error());
            return -1;
        }
        t->sampler_name = v;
        return 1;
    case TRAINOPT_REPEAT_THRESHOLD:
        return cli_parse_double_in("--repeat-threshold", v, 0.0, 1, 1.0, 0, "a fraction in (0, 1]",
                                   &c->repeat_threshold) ? -1 : 1;
    case TRAINOPT_PRIOR:
        return cli_parse_double_in("--prior", v, 0.0, 1, 1.0, 1, "a probability in (0, 1)", &c->prior) ? -1 : 1;
    case TRAINOPT_EPOCHS:
        if (cli_parse_long("--epochs", v, 1, 100000, &k))
            return -1;
        c->epochs = (int)k;
        t->epochs_given = 1;
        return 1;
    case TRAINOPT_BATCH:
        if (cli_parse_long("--batch", v, 2, 65536, &k))
            return -1;
        c->batch = (int)k;
        return 1;
    case TRAINOPT_LR:
        if (cli_parse_double_in("--lr", v, 0.0, 1, 10.0, 0, "a learning rate in (0, 10]", &x))
            return -1;
        c->optim.lr = x;
        t->lr_given = 1;
        return 1;
    case TRAINOPT_OPTIMIZER: return parse_optimizer(t, v);
    case TRAINOPT_STEPS_CSV:
        if (!*v) {
            cli_error("--steps-csv: the file name is empty; expected a path for the CSV file");
            return -1;
        }
        t->steps_csv = v;
        return 1;
    case TRAINOPT_MOMENTUM:
        return cli_parse_double_in("--momentum", v, 0.0, 0, 1.0, 1, "a number in [0, 1)", &c->optim.momentum) ? -1
                                                                                                               : 1;
    case TRAINOPT_NESTEROV: c->optim.nesterov = 1; return 1;
    case TRAINOPT_WEIGHT_DECAY:
        t->weight_decay_given = 1;
        return cli_parse_double_in("--weight-decay", v, 0.0, 0, 1.0, 0, "a number in [0, 1]",
                                   &c->optim.weight_decay) ? -1 : 1;
    case TRAINOPT_SCHEDULE: return parse_schedule(&c->optim, (char *)v);
    case TRAINOPT_WARMUP:
        if (cli_parse_long("--warmup", v, 0, 1000000000, &k))
            return -1;
        c->optim.warmup_steps = k;
        return 1;
    case TRAINOPT_CLIP_NORM:
        return cli_parse_double_in("--clip-norm", v, 0.0, 1, HUGE_VAL, 0, "a number > 0", &c->optim.clip_norm) ? -1
                                                                                                               : 1;
    case TRAINOPT_SEED: {
        char *end;
        if (*v == '-' || (c->seed = strtoull(v, &end, 10), *end) || !*v) {
            cli_error("--seed: '%s' is not a seed; expected an integer from 0 to 18446744073709551615", v);
            return -1;
        }
        return 1;
    }
    case TRAINOPT_THREADS: return cli_parse_long("--threads", v, 0, 1024, &t->threads) ? -1 : 1;
    case TRAINOPT_MAX_MEMORY: {
        size_t bytes;
        if (focal_parse_memory_size(v, &bytes) != FOCAL_OK) {
            cli_error("--max-memory: %s", focal_last_error());
            return -1;
        }
        focal_set_memory_limit(bytes); /* for every network this process builds */
        return 1;
    }
    case TRAINOPT_REWEIGHT_FROM: {
        /* E, or P% of the epochs: resolved by trainopt_run once --epochs is known */
        const size_t len = strlen(v);
        t->reweight_percent = 0;
        if (len > 1 && v[len - 1] == '%') {
            char *end;
            const double p = strtod(v, &end);
            if (end != v + len - 1 || !(p > 0 && p < 100)) {
                cli_error("--reweight-from: '%s' is not valid; expected an epoch E (an integer from 1) or a share P%% "
                          "of the epochs with P in (0, 100), e.g. 80%%", v);
                return -1;
            }
            t->reweight_percent = p;
            return 1;
        }
        if (cli_parse_long("--reweight-from", v, 1, 100000, &k))
            return -1;
        c->reweight_from = (int)k;
        return 1;
    }
    case TRAINOPT_MIXUP:
        return cli_parse_double_in("--mixup", v, 0.0, 0, 1e6, 0, "an alpha from 0 (off) to 1e6", &c->mixup) ? -1 : 1;
    case TRAINOPT_REWEIGHT_BETA:
        return cli_parse_double_in("--reweight-beta", v, 0.0, 0, 1.0, 1, "a number in [0, 1)", &c->reweight_beta)
                   ? -1 : 1;
    case TRAINOPT_POSTHOC_LA:
        if (strcmp(v, "auto") == 0) {
            c->posthoc = FOCAL_POSTHOC_AUTO;
            return 1;
        }
        char *end;
        c->posthoc_tau = strtod(v, &end);
        if (!*v || *end || !(c->posthoc_tau >= 0 && c->posthoc_tau <= 100)) {
            cli_error("--posthoc-la: '%s'; expected auto or a tau in [0, 100]", v);
            return -1;
        }
        c->posthoc = FOCAL_POSTHOC_TAU;
        return 1;
    case TRAINOPT_STAGE2:
        if (focal_stage2_parse(v, &c->stage2) != FOCAL_OK || c->stage2 == FOCAL_STAGE2_NONE) {
            cli_error("--stage2: '%s'; expected crt, tau-norm or wb", v);
            return -1;
        }
        return 1;
    case TRAINOPT_FROM:
        if (!*v) {
            cli_error("--from: the folder name is empty; expected the finished stage-1 run folder");
            return -1;
        }
        c->stage2_from = v;
        return 1;
    case TRAINOPT_MAX_NORM:
        return cli_parse_double_in("--max-norm", v, 0.0, 1, HUGE_VAL, 0, "a radius > 0", &c->max_norm) ? -1 : 1;
    case TRAINOPT_EMA:
        return cli_parse_double_in("--ema", v, 0.0, 0, 1.0, 1, "a decay in [0, 1) (0: off)", &c->ema_decay) ? -1 : 1;
    case TRAINOPT_PATIENCE:
        if (cli_parse_long("--patience", v, 0, 100000, &k))
            return -1;
        c->patience = (int)k;
        return 1;
    case TRAINOPT_SELECT:
        if (focal_select_parse(v, &c->select) != FOCAL_OK) {
            cli_error("--select: %s", focal_last_error());
            return -1;
        }
        return 1;
    case TRAINOPT_AUGMENT:
        if (parse_augment(&c->augment, v))
            return -1;
        if (focal_augment_check(&c->augment) != FOCAL_OK) {
            cli_error("--augment: %s", focal_last_error());
            return -1;
        }
        return 1;
    case TRAINOPT_OUT: t->out = v; return 1;
    case TRAINOPT_RESUME: t->resume = 1; return 1;
    case TRAINOPT_OVERWRITE: t->overwrite = 1; return 1;
    case TRAINOPT_QUIET: t->quiet = 1; return 1;
    default: return 0;
    }
}

static const struct cli_opt train_opts[] = { TRAINOPT_CLI_OPTS, LOSSOPT_CLI_OPTS, DATAOPT_CLI_OPTS };
#define N_TRAIN_OPTS (sizeof train_opts / sizeof train_opts[0])

int trainopt_parse(struct trainopt *t, int argc, char **argv, const char *cmd)
{
    struct cli_parser p = { argc, argv, 1, cmd, train_opts, N_TRAIN_OPTS };
    const char *v;
    int id;
    trainopt_init(t);
    while ((id = cli_next(&p, &v)) != CLI_END) {
        if (id == CLI_BAD)
            return CLI_EXIT_USAGE;
        if (id == TRAINOPT_HELP) {
            cmd_train_help(stdout);
            return -1;
        }
        if (trainopt_take(t, id, v) < 0)
            return CLI_EXIT_USAGE;
    }
    if (!t->out) {
        cli_error("%s: --out is required: the run folder to write", cmd);
        return CLI_EXIT_USAGE;
    }
    if (!t->data.path) {
        cli_error("%s: --data is required (see 'focal %s --help')", cmd, cmd);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* What a second stage's scheme means unless the options say otherwise: cRT
 * samples class-balanced (Kang et al.); WB's second stage weighs the loss
 * class-balanced (effective number, beta 0.9999, as Alshammari et al.'s
 * code). Returns 0, or -1 after printing an error. */
static int stage2_defaults(struct trainopt *t, const char *ctx)
{
    struct focal_run_config *c = &t->cfg;
    if (c->stage2 == FOCAL_STAGE2_NONE) {
        if (c->stage2_from) {
            cli_error("%s%s--from names the stage-1 run of a second stage; give --stage2 crt, tau-norm or wb",
                      ctx ? ctx : "", ctx ? ": " : "");
            return -1;
        }
        return 0;
    }
    if (c->stage2 == FOCAL_STAGE2_CRT && !t->sampler_name)
        c->sampler = FOCAL_SAMPLER_CLASS_BALANCED;
    if (c->stage2 == FOCAL_STAGE2_WB && !t->weights)
        t->weights = "effective:0.9999";
    if (c->stage2 == FOCAL_STAGE2_TAU_NORM && !t->epochs_given)
        c->epochs = 1;
    return 0;
}

int trainopt_stage2_data(struct trainopt *t)
{
    if (t->cfg.stage2 == FOCAL_STAGE2_NONE || !t->cfg.stage2_from)
        return CLI_EXIT_OK;
    char path[4096];
    struct cJSON *o;
    snprintf(path, sizeof path, "%s/run.json", t->cfg.stage2_from);
    if (focal_read_json(path, &o) != FOCAL_OK) {
        cli_error("--from: %s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "input");
    if (cJSON_GetArraySize(in) == 3 && cJSON_IsNumber(cJSON_GetArrayItem(in, 1)) &&
        cJSON_IsNumber(cJSON_GetArrayItem(in, 2))) {
        t->data.default_height = cJSON_GetArrayItem(in, 1)->valueint;
        t->data.default_width = cJSON_GetArrayItem(in, 2)->valueint;
    }
    cJSON_Delete(o);
    return CLI_EXIT_OK;
}

int trainopt_resolve_loss(struct trainopt *t, enum focal_task task, const char *ctx, int warn)
{
    if (stage2_defaults(t, ctx) != 0)
        return CLI_EXIT_USAGE;
    enum focal_loss_kind kind;
    if (focal_loss_kind_for_task(t->loss_name, task, &kind) != FOCAL_OK) {
        cli_error("%s%s--loss: %s", ctx ? ctx : "", ctx ? ": " : "", focal_last_error());
        return CLI_EXIT_USAGE;
    }
    return lossopt_apply(&t->cfg.loss, kind, &t->lo, "--loss", ctx, warn);
}

static int resolve_weights(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train);

int trainopt_check(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                   const char *ctx)
{
    int status = trainopt_resolve_loss(t, d->task, ctx, 0);
    if (status != CLI_EXIT_OK)
        return status;
    if (t->cfg.posthoc != FOCAL_POSTHOC_OFF && d->task != FOCAL_TASK_MULTICLASS) {
        cli_error("%s%s--posthoc-la: post-hoc logit adjustment needs multi-class data (a softmax head); this is "
                  "%s data, whose thresholds chosen on validation absorb any logit shift", ctx ? ctx : "",
                  ctx ? ": " : "", focal_task_name(d->task));
        return CLI_EXIT_USAGE;
    }
    int quiet = t->quiet;
    t->quiet = 1;
    int bad = t->weights && resolve_weights(t, d, train, n_train) != 0;
    t->quiet = quiet;
    if (bad) {
        if (ctx)
            cli_error("%s: its class weights are not valid", ctx);
        return CLI_EXIT_USAGE;
    }
    int *order = NULL, len = 0;
    focal_status st = focal_sampler_epoch(t->cfg.sampler, d, train, n_train, t->cfg.seed, 1,
                                          t->cfg.repeat_threshold, &order, &len);
    free(order);
    if (st == FOCAL_ERR_ARG) {
        cli_error("%s%s--sampler: %s", ctx ? ctx : "", ctx ? ": " : "", focal_last_error());
        return CLI_EXIT_USAGE;
    }
    if (st != FOCAL_OK) {
        cli_error("%s", focal_last_error());
        return CLI_EXIT_DATA;
    }
    return CLI_EXIT_OK;
}

/* --class-weights: balanced, effective:BETA, or one weight per class, from
 * the training split's class counts. A binary task turns the two weights into
 * alpha = w_positive / (w_negative + w_positive). */
static int resolve_weights(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train)
{
    int c = d->num_classes;
    double *counts = calloc((size_t)c, sizeof *counts), *w = calloc((size_t)c, sizeof *w);
    int rc = -1;
    if (!counts || !w) {
        cli_error("out of memory");
        goto out;
    }
    focal_dataset_class_counts(d, train, n_train, counts);
    const char *s = t->weights;
    if (strcmp(s, "balanced") == 0 || strncmp(s, "effective:", 10) == 0) {
        double beta = 0;
        if (s[0] == 'e' && cli_parse_double_in("--class-weights effective:BETA", s + 10, 0.0, 0, 1.0, 1,
                                               "a number in [0, 1)", &beta))
            goto out;
        /* a class without training examples keeps weight 1 */
        for (int j = 0; j < c; j++)
            if (counts[j] == 0) {
                cli_warn("--class-weights: class '%s' has no training examples; its weight stays 1",
                         d->class_names[j]);
                counts[j] = (double)n_train / c;
            }
        focal_status st = s[0] == 'b' ? focal_weights_balanced(w, counts, (size_t)c)
                                      : focal_weights_effective(w, counts, (size_t)c, beta);
        if (st != FOCAL_OK) {
            cli_error("--class-weights: %s", focal_last_error());
            goto out;
        }
    } else {
        double *list;
        size_t n;
        if (cli_parse_list("--class-weights", s, &list, &n))
            goto out;
        if ((int)n != c) {
            cli_error("--class-weights: %zu weights for %d classes; give one per class (%s, ...), or balanced, or "
                      "effective:BETA", n, c, d->class_names[0]);
            free(list);
            goto out;
        }
        memcpy(w, list, (size_t)c * sizeof *w);
        free(list);
    }
    /* the weights' values are the library's to check, with the loss */
    struct focal_loss probe = t->cfg.loss;
    probe.class_weights = w;
    if (focal_loss_check(&probe, (size_t)c) != FOCAL_OK) {
        cli_error("--class-weights: %s", focal_last_error());
        goto out;
    }
    if (d->task == FOCAL_TASK_BINARY) {
        if (w[0] + w[1] <= 0) {
            cli_error("--class-weights: both weights are 0");
            goto out;
        }
        t->cfg.loss.alpha = w[1] / (w[0] + w[1]);
        if (!t->quiet)
            fprintf(stderr, "focal: binary class weights %.4g, %.4g act as --alpha %.4g\n", w[0], w[1],
                    t->cfg.loss.alpha);
    } else {
        free(t->class_weights);
        t->class_weights = w;
        w = NULL;
        t->cfg.loss.class_weights = t->class_weights;
    }
    rc = 0;
out:
    free(counts);
    free(w);
    return rc;
}

/* The network: --model as a preset name or a description file, or by default
 * mlp for tables, resnet-mini up to 128 pixels and keras-cnn above. */
static int resolve_model(struct trainopt *t, const struct focal_dataset *d)
{
    const char *name = t->model;
    if (!name)
        name = d->features ? "mlp" : (d->height <= 128 && d->width <= 128 ? "resnet-mini" : "keras-cnn");
    const char *preset = focal_model_preset(name);
    free(t->model_text);
    t->model_text = NULL;
    if (preset) {
        t->model_text = strdup(preset);
    } else {
        FILE *fp = fopen(name, "rb");
        if (!fp) {
            cli_error("--model: '%s' is neither a preset (keras-cnn, resnet-mini, mlp) nor a readable file", name);
            return -1;
        }
        size_t cap = 4096, len = 0;
        t->model_text = malloc(cap + 1);
        size_t got;
        while (t->model_text && (got = fread(t->model_text + len, 1, cap - len, fp)) > 0) {
            len += got;
            if (len == cap) {
                char *bigger = cap < (1u << 20) ? realloc(t->model_text, 2 * cap + 1) : NULL;
                if (!bigger) {
                    cli_error("--model: %s is larger than 1 MiB; a network description is a few lines", name);
                    fclose(fp);
                    return -1;
                }
                t->model_text = bigger;
                cap *= 2;
            }
        }
        fclose(fp);
        if (t->model_text)
            t->model_text[len] = 0;
    }
    if (!t->model_text) {
        cli_error("out of memory");
        return -1;
    }
    t->cfg.model_desc = t->model_text;
    t->cfg.model_name = name;
    return 0;
}

/* LDAM needs a normalised last layer (Cao et al. 2019): a preset's `dense
 * classes` becomes `dense-norm classes` (said in one line, recorded in
 * run.json); a description file without it is refused. */
static int ldam_head(struct trainopt *t)
{
    const char *name = t->cfg.model_name;
    char *text;
    int changed;
    if (focal_model_normalise_head(t->model_text, name, &text, &changed) != FOCAL_OK) {
        cli_error("--loss ldam: %s", focal_last_error());
        return -1;
    }
    /* a comparison runs every method on one network: its ldam methods get the
     * normalised head, recorded in their run.json, as presets do */
    if (changed && !focal_model_preset(name) && !t->experiment) {
        cli_error("--model %s: --loss ldam needs LDAM's normalised classifier as the last layer: write "
                  "`dense-norm classes` in place of `dense classes` (on a plain dense layer LDAM's scaled margins "
                  "diverge)", name);
        free(text);
        return -1;
    }
    free(t->model_text);
    t->model_text = text;
    t->cfg.model_desc = text;
    t->cfg.head_normalised = changed;
    if (changed && !t->quiet && !t->brief)
        printf("model %s: its last layer becomes dense-norm (normalised, cosine) for ldam\n", name);
    return 0;
}

/* Progress output of one run. */
struct run_view {
    struct progress p;          /* the bar of the current epoch */
    double start;               /* the run's start, seconds */
    const struct trainopt *t;
    const char *metric;
    struct focal_wfile steps;   /* --steps-csv, when steps.fp */
    const char *dir;
    enum focal_run_start how;
    double batch_s, train_s;    /* the epoch's steps so far; all finished epochs' */
    long batch_done, train_done;
};

/* --steps-csv: one line per optimiser step, with the rate the step used. */
static void on_step(void *ctx, int epoch, long step, double lr, double loss)
{
    struct run_view *v = ctx;
    if (v->steps.fp)
        fprintf(v->steps.fp, "%ld,%d,%.17g,%.17g\n", step, epoch, lr, loss);
}

/* ---- the run folder: how a run starts (locks, resume, overwrite, experiments) ---- */

/* The library's mode for t's run folder. */
static int run_mode(const struct trainopt *t)
{
    if (t->experiment)
        return t->overwrite ? FOCAL_RUN_OVERWRITE : FOCAL_RUN_CONTINUE;
    return t->resume ? FOCAL_RUN_RESUME : t->overwrite ? FOCAL_RUN_OVERWRITE : FOCAL_RUN_NEW;
}

static void on_start(void *ctx, enum focal_run_start how, const char *why)
{
    struct run_view *v = ctx;
    v->how = how;
    if (v->t->quiet || !why || !*why)
        return;
    progress_clear(&v->p);
    printf("%s: %s\n", v->dir, why);
    fflush(stdout);
}
/* ---- */

static void on_batch(void *ctx, int epoch, int epochs, long done, long total, double loss, double seconds)
{
    struct run_view *v = ctx;
    char label[64], extra[64];
    v->batch_s = seconds;
    v->batch_done = done;
    snprintf(label, sizeof label, "epoch %d/%d", epoch, epochs);
    snprintf(extra, sizeof extra, "loss %.4f", loss);
    v->p.t0 = progress_now() - seconds;   /* rates and ETA within the epoch */
    progress_update(&v->p, label, done, total, "img", extra);
}

static void on_epoch(void *ctx, const struct focal_epoch_record *r)
{
    struct run_view *v = ctx;
    progress_clear(&v->p);
    v->train_s += v->batch_s;
    v->train_done += v->batch_done;
    v->batch_s = 0;
    v->batch_done = 0;
    if (v->t->quiet || v->t->brief)
        return;
    /* a tau-norm second stage trains nothing: its epoch is the search for tau */
    if (isnan(r->train_loss) && v->t->cfg.stage2 == FOCAL_STAGE2_TAU_NORM)
        printf("epoch %3d  tau search        ", r->epoch);
    else
        printf("epoch %3d  train loss %.5f", r->epoch, r->train_loss);
    printf("  val loss %.5f  val %s %.4f%s  %.1f s\n", r->val_loss, v->metric, r->select_value,
           r->improved ? " *" : "", r->seconds);
    fflush(stdout);
}

/* Prints the samples per class of the splits and of one sampled epoch. */
static void print_counts(const struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train,
                         int n_val, int n_test)
{
    int c = d->num_classes;
    double *cnt = calloc((size_t)c, sizeof *cnt), *eff = calloc((size_t)c, sizeof *eff);
    int *order = NULL, len = 0;
    if (!cnt || !eff)
        goto out;
    focal_dataset_class_counts(d, train, n_train, cnt);
    int have_eff = focal_sampler_epoch(t->cfg.sampler, d, train, n_train, t->cfg.seed, 1, t->cfg.repeat_threshold,
                                       &order, &len) == FOCAL_OK;
    if (have_eff)
        focal_dataset_class_counts(d, order, len, eff);
    printf("data: %d training, %d validation, %d test samples; %d %s\n", n_train, n_val, n_test, c,
           d->task == FOCAL_TASK_MULTILABEL ? "labels" : "classes");
    if (d->task == FOCAL_TASK_BINARY)
        printf("binary: positive class '%s'%s; one sigmoid output, its probability\n", d->class_names[1],
               t->data.data.positive ? "" : " (the rarer; --positive NAME chooses)");
    printf("%-16s %9s %9s", "class", "train", "share");
    if (have_eff)
        printf("  %s epoch share", focal_sampler_name(t->cfg.sampler));
    putchar('\n');
    for (int j = 0; j < c; j++) {
        printf("%-16.16s %9.0f %8.2f%%", d->class_names[j], cnt[j], 100.0 * cnt[j] / n_train);
        if (have_eff)
            printf("  %8.2f%%", len ? 100.0 * eff[j] / len : 0.0);
        putchar('\n');
    }
out:
    free(order);
    free(cnt);
    free(eff);
}

/* Refuses a class without training examples (multi-class, binary); warns for
 * a multi-label label without positives. */
static int check_classes(const struct focal_dataset *d, const int *train, int n_train)
{
    int c = d->num_classes, rc = 0;
    double *cnt = calloc((size_t)c, sizeof *cnt);
    if (!cnt) {
        cli_error("out of memory");
        return -1;
    }
    focal_dataset_class_counts(d, train, n_train, cnt);
    for (int j = 0; j < c; j++) {
        if (cnt[j] > 0)
            continue;
        if (d->task == FOCAL_TASK_MULTILABEL) {
            cli_warn("label '%s' has no positives in the training split; it cannot be learned and its metrics are "
                     "undefined (--labels or --merge-rare leave it out)", d->class_names[j]);
        } else {
            cli_error("class '%s' has no examples in the training split; a classifier cannot learn it (remove "
                      "the class from the data)", d->class_names[j]);
            rc = -1;
        }
    }
    free(cnt);
    return rc;
}

/* One line per split of the finished run's metrics.json: what the kept
 * checkpoint scores with the thresholds chosen on validation. */
static void print_result(const char *dir, enum focal_task task)
{
    struct focal_run_metrics m;
    if (focal_run_read_metrics(dir, &m) != FOCAL_OK)
        return; /* the run is written; its summary is only a courtesy */
    for (int sp = 0; sp < 1 + m.have_test; sp++) {
        const struct focal_split_summary *x = sp ? &m.test : &m.val;
        const int one = task == FOCAL_TASK_BINARY; /* the positive class's AP and AUC */
        printf("%-10s %s %.4f  %s %.4f  macro F1 %.4f  balanced acc. %.4f  accuracy %.4f\n",
               sp ? "test" : "validation", one ? "AP" : "mAP", x->map, one ? "ROC-AUC" : "macro ROC-AUC", x->auc,
               x->macro_f1, x->balanced_accuracy, x->accuracy);
    }
    focal_run_metrics_release(&m);
}

int trainopt_run(struct trainopt *t, const struct focal_dataset *d, const int *train, int n_train, const int *val,
                 int n_val, const int *test, int n_test, const char *dir)
{
    int status = trainopt_resolve_loss(t, d->task, NULL, 1);
    if (status != CLI_EXIT_OK)
        return status;
    if (t->cfg.stage2 != FOCAL_STAGE2_NONE && !t->cfg.stage2_from) {
        cli_error("--stage2 %s needs --from RUNDIR: the finished run whose features it keeps",
                  focal_stage2_name(t->cfg.stage2));
        return CLI_EXIT_USAGE;
    }
    if (t->weights && resolve_weights(t, d, train, n_train) != 0)
        return CLI_EXIT_USAGE;
    if (check_classes(d, train, n_train) != 0)
        return CLI_EXIT_DATA;
    if (t->cfg.stage2 == FOCAL_STAGE2_NONE && resolve_model(t, d) != 0)
        return CLI_EXIT_USAGE; /* a second stage's network is its stage 1's */
    if (t->cfg.stage2 == FOCAL_STAGE2_NONE && t->cfg.loss.kind == FOCAL_LOSS_LDAM && ldam_head(t) != 0)
        return CLI_EXIT_USAGE;
    t->cfg.fundus_crop = t->data.img.fundus_crop;
    t->cfg.data = t->data.path;
    /* --reweight-from P%: plain training for the first floor(P% of the epochs) */
    if (t->reweight_percent > 0)
        t->cfg.reweight_from = (int)floor(t->reweight_percent * t->cfg.epochs / 100.0 + 1e-9) + 1;
    focal_set_threads((int)t->threads);

    if (t->resume && t->overwrite) {
        cli_error("--resume continues the run in %s and --overwrite replaces it; give one of them", dir);
        return CLI_EXIT_USAGE;
    }
    /* the run folder first, so that a bad --out fails before any output */
    const int writer = !t->cfg.comm || t->cfg.comm->rank == 0; /* data-parallel: rank 0 alone writes */
    const int created = writer && mkdir(dir, 0777) == 0;
    if (writer && !created && errno != EEXIST) {
        cli_error("%s: cannot create the run folder: %s", dir, strerror(errno));
        return CLI_EXIT_DATA;
    }
    struct run_view view = { .t = t, .dir = dir };
    view.metric = focal_select_name(focal_select_resolve(t->cfg.select, d->task));
    if (!t->quiet && !t->brief) {
        print_counts(t, d, train, n_train, n_val, n_test);
        if (t->cfg.stage2 != FOCAL_STAGE2_NONE)
            printf("stage 2 %s of %s: ", focal_stage2_name(t->cfg.stage2), t->cfg.stage2_from);
        printf("model %s, loss %s, %d epochs of batch %d, %s lr %g, seed %llu, %d threads\n",
               t->cfg.model_name ? t->cfg.model_name : "of stage 1",
               focal_loss_kind_name(t->cfg.loss.kind), t->cfg.epochs, t->cfg.batch,
               focal_optim_kind_name(t->cfg.optim.kind),
               t->cfg.optim.lr, (unsigned long long)t->cfg.seed, focal_get_threads());
        fflush(stdout);
    }
    progress_start(&view.p, t->quiet);
    view.start = progress_now();
    if (t->steps_csv) {
        if (focal_wfile_open(&view.steps, t->steps_csv) != FOCAL_OK) {
            cli_error("%s", focal_last_error());
            return CLI_EXIT_DATA;
        }
        fputs("step,epoch,lr,loss\n", view.steps.fp);
    }
    struct focal_run_callbacks cb = { &view, on_batch, on_epoch, on_step, on_start };
    focal_status st = focal_run_train(&t->cfg, d, train, n_train, val, n_val, test, n_test, dir, run_mode(t), &cb);
    progress_clear(&view.p);
    t->started = view.how;
    t->train_seconds = view.train_s;
    t->train_samples = view.train_done;
    if (st == FOCAL_OK && view.steps.fp)
        st = focal_wfile_commit(&view.steps);
    focal_wfile_abort(&view.steps);
    if (st != FOCAL_OK) {
        cli_error("%s%s", focal_last_error(),
                  st == FOCAL_ERR_ARG && strstr(focal_last_error(), "holds a run already")
                      ? " (--resume continues it, --overwrite replaces it)" : "");
        if (created)
            rmdir(dir); /* a folder this run made and left empty goes again; one with files stays */
        return st == FOCAL_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
    }
    struct focal_run done;
    if (!t->quiet && !t->brief && t->cfg.posthoc != FOCAL_POSTHOC_OFF && focal_run_load(&done, dir, 1) == FOCAL_OK) {
        printf("post-hoc logit adjustment: tau %g (%s), applied to metrics.json and scores.csv\n", done.posthoc_tau,
               t->cfg.posthoc == FOCAL_POSTHOC_AUTO ? "chosen by validation balanced accuracy; grid in run.json"
                                                    : "given");
        focal_run_release(&done);
    }
    if (!t->quiet && !t->brief) {
        printf("wrote %s/model.safetensors, history.csv, run.json, metrics.json (%.1f s)\n", dir,
               progress_now() - view.start);
        print_result(dir, d->task);
    }
    return CLI_EXIT_OK;
}

void trainopt_help(FILE *fp)
{
    fputs(
"Training\n"
"  --out RUNDIR         the run folder to write (created if missing).\n"
"  --model M            a preset (keras-cnn, resnet-mini, mlp) or a network\n"
"                       description file (see the README); default mlp for\n"
"                       tables, resnet-mini up to 128 px, keras-cnn above.\n"
"                       With --loss ldam a preset's last layer becomes\n"
"                       dense-norm (LDAM's normalised classifier); a file\n"
"                       must end in `dense-norm classes` then.\n"
"  --loss NAME          ce, focal or poly1 (the family the task needs: sigmoid\n"
"                       for binary and multi-label, softmax for multi-class), or\n"
"                       bce, sigmoid-focal, focal-star, asl, sigmoid-poly1,\n"
"                       softmax-focal, softmax-poly1; default focal.\n"
"  --class-weights W    balanced (inverse frequency), effective:BETA (Cui et al.),\n"
"                       or one weight per class W1,...,WC; from the training\n"
"                       split's counts. Binary: the two weights become alpha.\n"
"  --sampler S          shuffle (default), oversample, undersample (multi-class),\n"
"                       class-balanced, repeat-factor (multi-label).\n"
"  --repeat-threshold T repeat-factor sampling's t (default 0.1).\n"
"  --prior P            sigmoid outputs start at probability P (e.g. 0.01).\n"
"  --epochs E           default 10.       --batch B      default 32.\n"
"  --optimizer O        sgd, adam (default) or adamw.\n"
"  --lr LR              learning rate (default: adam/adamw 0.001, sgd 0.01).\n"
"  --momentum M, --nesterov, --weight-decay W\n"
"                       SGD momentum; weight decay (not on biases and batch-norm\n"
"                       parameters).\n"
"  --schedule S         cosine (default: one cosine from --lr to 0 over the whole\n"
"                       run), constant or step:STEPS,GAMMA.\n"
"  --warmup N           linear warm-up steps (default 0).\n"
"  --clip-norm C        clip the gradient's L2 norm to C.\n"
"  --reweight-from E    deferred re-weighting (DRW, Cao et al. 2019): plain\n"
"                       training until epoch E, then class-balanced weights\n"
"                       (effective number, --reweight-beta, default 0.9999)\n"
"                       from E on; multi-class and multi-label data. P% (e.g.\n"
"                       80%): plain for the first P% of the epochs (rounded\n"
"                       down), as the paper's 160 of 200.\n"
"  --mixup ALPHA        mixup (Zhang et al. 2018): each training batch is mixed\n"
"                       with a shuffled copy of itself, x = l*x_i + (1-l)*x_j\n"
"                       with l ~ Beta(ALPHA, ALPHA) per batch, and the loss is\n"
"                       l*L(y_i) + (1-l)*L(y_j); any loss and task; validation\n"
"                       and test are not mixed. 0 (default): off; 0.2 to 0.4\n"
"                       are usual.\n"
"  --posthoc-la auto|TAU\n"
"                       post-hoc logit adjustment (Menon et al., ICLR 2021),\n"
"                       multi-class data: after training, the best\n"
"                       checkpoint's logits become z - TAU*log(prior), prior\n"
"                       the training split's class frequencies, for the\n"
"                       run's metrics and scores and for eval, predict,\n"
"                       ensembles, export and the Python loader. auto chooses\n"
"                       TAU in 0, 0.25, ..., 2 by validation balanced accuracy\n"
"                       (the paper targets the balanced error; the smallest\n"
"                       TAU on a tie); run.json records TAU and the grid.\n"
"                       Default off. Binary and multi-label runs refuse it:\n"
"                       their thresholds, chosen on validation, absorb a shift.\n"
"  --stage2 S           a second stage of the finished run --from RUNDIR (same\n"
"                       data and splits): its features frozen, only the last\n"
"                       layer changes. crt: classifier re-training (Kang et al.\n"
"                       2020): re-initialised, trained with --sampler\n"
"                       class-balanced unless given; tau-norm: tau-normalised\n"
"                       classifier (Kang et al. 2020), rows w/|w|^tau, tau from\n"
"                       0, 0.1, ..., 2 chosen on validation by --select; no\n"
"                       training, one epoch; wb: weight balancing's second stage\n"
"                       (Alshammari et al. 2022): stage 1's classifier trained\n"
"                       with class weights effective:0.9999 unless given, and\n"
"                       per-class MaxNorm (--max-norm) after every step.\n"
"  --from RUNDIR        the stage-1 run of --stage2 (a finished run).\n"
"  --max-norm R         wb: the radius of each class's weight row (default 0.1).\n"
"  --ema D              validate, select and keep an exponential moving average\n"
"                       of the weights, updated after every step with rate\n"
"                       min(D, (1+t)/(10+t)) at step t (0: off).\n"
"  --steps-csv FILE     also write every optimiser step (step, epoch, the\n"
"                       learning rate it used, its batch loss) to FILE.\n"
"  --augment LIST       none (default) or hflip, vflip, rot90, rotate=DEG,\n"
"                       scale=S, translate=T, brightness=B, contrast=C.\n"
"  --select METRIC      the validation metric that picks the best epoch: auto\n"
"                       (mAP multi-label, macro ROC-AUC otherwise), map, auc,\n"
"                       macro-f1, balanced-accuracy, accuracy, loss.\n"
"  --patience K         stop after K epochs without improvement (0: never).\n"
"  --seed S             seeds the split, initialisation, sampling, augmentation\n"
"                       and dropout (default 0): the same seed and thread count\n"
"                       give the same run.\n"
"  --threads N          threads (0: one per core, the default).\n"
"  --max-memory SIZE    refuse, before allocating, a network whose parameters,\n"
"                       gradients and activations for one batch need more than\n"
"                       SIZE (e.g. 4G, 512M; default: the machine's memory).\n"
"  --resume             continue the run in RUNDIR after its last committed\n"
"                       epoch (same settings and data; --epochs may be raised:\n"
"                       a cosine schedule is then stretched over the new\n"
"                       length from the step reached, so its rate rises again).\n"
"  --overwrite          replace the run RUNDIR holds; without it (or --resume)\n"
"                       a folder that holds a run is refused.\n"
"  --quiet              print nothing but errors.\n"
"\n"
"Loss parameters\n", fp);
    lossopt_help(fp);
    fputs("  --reduction R        mean (default), sum or positives.\n", fp);
}

void trainopt_help_all(FILE *fp, const char *examples)
{
    dataopt_help(fp);
    fputc('\n', fp);
    trainopt_help(fp);
    fprintf(fp, "\nExample%s\n%s", strchr(examples, '\n') != strrchr(examples, '\n') ? "s" : "", examples);
}
