/* focal_abi — prints, as JSON, what the Python package needs to know about
 * libfocal's binary interface: the version of the headers it was compiled
 * with, the layout (size, and each member's offset, size and type) of the
 * structs the package fills or reads, and every enum's values with the
 * library's own names for them. Built by CMake against include/focal.h and
 * run at build time to write the package's _abi.json, so the package never
 * holds a hand-copied layout. Usage: focal_abi OUT.json */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "focal.h"

/* The type of a member as the package's tag, from the member's own type. */
#define TYPE_TAG(x) _Generic((x),                                           \
    int: "i32", unsigned: "u32", long: "i64", unsigned long: "u64",         \
    long long: "i64", unsigned long long: "u64", float: "f32",              \
    double: "f64",                                                          \
    const char *: "ptr", char **: "ptr",                                    \
    const double *: "ptr", double *: "ptr", int64_t *: "ptr",               \
    unsigned char *: "ptr", default: "?")

static FILE *out;
static int first_member;

static void struct_begin(const char *name, size_t size, int *first_struct)
{
    fprintf(out, "%s\n    \"%s\": {\"size\": %zu, \"members\": [", *first_struct ? "" : ",", name, size);
    *first_struct = 0;
    first_member = 1;
}

static void member(const char *name, size_t offset, size_t size, const char *type)
{
    fprintf(out, "%s\n      [\"%s\", %zu, %zu, \"%s\"]", first_member ? "" : ",", name, offset, size, type);
    first_member = 0;
}

#define MEMBER(S, m) member(#m, offsetof(S, m), sizeof(((S *)0)->m), TYPE_TAG(((S *)0)->m))

static void enum_values(const char *name, int count, const char *(*name_of)(int), int *first_enum)
{
    fprintf(out, "%s\n    \"%s\": [", *first_enum ? "" : ",", name);
    *first_enum = 0;
    for (int i = 0; i < count; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", name_of(i));
    fputs("]", out);
}

static const char *status_name(int i) { return focal_status_string((focal_status)i); }
static const char *kind_name(int i) { return focal_loss_kind_name((enum focal_loss_kind)i); }
static const char *reduction_name(int i) { return focal_reduction_name((enum focal_reduction)i); }
static const char *task_name(int i) { return focal_task_name((enum focal_task)i); }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: focal_abi OUT.json\n");
        return 2;
    }
    out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "{\n  \"generated_by\": \"focal_abi from include/focal.h\",\n");
    fprintf(out, "  \"version\": \"%s\",\n", FOCAL_VERSION_STRING);
    fprintf(out, "  \"max_norm_channels\": %d,\n", FOCAL_MAX_NORM_CHANNELS);
    fprintf(out, "  \"structs\": {");
    int first = 1;
    struct_begin("focal_loss", sizeof(struct focal_loss), &first);
    MEMBER(struct focal_loss, kind);
    MEMBER(struct focal_loss, reduction);
    MEMBER(struct focal_loss, gamma);
    MEMBER(struct focal_loss, alpha);
    MEMBER(struct focal_loss, beta);
    MEMBER(struct focal_loss, gamma_pos);
    MEMBER(struct focal_loss, gamma_neg);
    MEMBER(struct focal_loss, margin);
    MEMBER(struct focal_loss, epsilon);
    MEMBER(struct focal_loss, label_smoothing);
    MEMBER(struct focal_loss, ignore_index);
    MEMBER(struct focal_loss, class_weights);
    MEMBER(struct focal_loss, class_prior);
    MEMBER(struct focal_loss, tau);
    MEMBER(struct focal_loss, scale);
    MEMBER(struct focal_loss, db_alpha);
    MEMBER(struct focal_loss, db_beta);
    MEMBER(struct focal_loss, db_mu);
    MEMBER(struct focal_loss, db_lambda);
    MEMBER(struct focal_loss, db_kappa);
    fputs("]}", out);
    struct_begin("focal_loss_info", sizeof(struct focal_loss_info), &first);
    MEMBER(struct focal_loss_info, kind);
    MEMBER(struct focal_loss_info, name);
    MEMBER(struct focal_loss_info, softmax);
    MEMBER(struct focal_loss_info, params);
    MEMBER(struct focal_loss_info, generic);
    fputs("]}", out);
    struct_begin("focal_metrics", sizeof(struct focal_metrics), &first);
    MEMBER(struct focal_metrics, task);
    MEMBER(struct focal_metrics, n);
    MEMBER(struct focal_metrics, num_classes);
    MEMBER(struct focal_metrics, accuracy);
    MEMBER(struct focal_metrics, balanced_accuracy);
    MEMBER(struct focal_metrics, macro_f1);
    MEMBER(struct focal_metrics, micro_f1);
    MEMBER(struct focal_metrics, weighted_f1);
    MEMBER(struct focal_metrics, mcc);
    MEMBER(struct focal_metrics, roc_auc_macro);
    MEMBER(struct focal_metrics, average_precision_macro);
    MEMBER(struct focal_metrics, support);
    MEMBER(struct focal_metrics, precision);
    MEMBER(struct focal_metrics, recall);
    MEMBER(struct focal_metrics, f1);
    MEMBER(struct focal_metrics, roc_auc);
    MEMBER(struct focal_metrics, average_precision);
    MEMBER(struct focal_metrics, confusion);
    MEMBER(struct focal_metrics, n_thresholds);
    MEMBER(struct focal_metrics, thresholds);
    fputs("]}", out);
    struct_begin("focal_image", sizeof(struct focal_image), &first);
    MEMBER(struct focal_image, width);
    MEMBER(struct focal_image, height);
    MEMBER(struct focal_image, channels);
    MEMBER(struct focal_image, data);
    fputs("]}", out);
    fputs("\n  },\n  \"enums\": {", out);
    first = 1;
    enum_values("focal_status", FOCAL_ERR_BUSY + 1, status_name, &first);
    enum_values("focal_loss_kind", FOCAL_LOSS_KIND_COUNT, kind_name, &first);
    enum_values("focal_reduction", FOCAL_REDUCTION_COUNT, reduction_name, &first);
    enum_values("focal_task", FOCAL_TASK_MULTILABEL + 1, task_name, &first);
    fputs("\n  },\n  \"flags\": {\"focal_loss_param\": {", out);
    static const struct { const char *name; unsigned bit; } params[] = {
        { "gamma", FOCAL_PARAM_GAMMA }, { "alpha", FOCAL_PARAM_ALPHA }, { "beta", FOCAL_PARAM_BETA },
        { "gamma_pos", FOCAL_PARAM_GAMMA_POS }, { "gamma_neg", FOCAL_PARAM_GAMMA_NEG },
        { "margin", FOCAL_PARAM_MARGIN }, { "epsilon", FOCAL_PARAM_EPSILON },
        { "label_smoothing", FOCAL_PARAM_LABEL_SMOOTHING }, { "ignore_index", FOCAL_PARAM_IGNORE_INDEX },
        { "class_weights", FOCAL_PARAM_CLASS_WEIGHTS }, { "reduction", FOCAL_PARAM_REDUCTION },
        { "class_prior", FOCAL_PARAM_CLASS_PRIOR }, { "tau", FOCAL_PARAM_TAU }, { "scale", FOCAL_PARAM_SCALE },
        { "db_alpha", FOCAL_PARAM_DB_ALPHA }, { "db_beta", FOCAL_PARAM_DB_BETA }, { "db_mu", FOCAL_PARAM_DB_MU },
        { "db_lambda", FOCAL_PARAM_DB_LAMBDA }, { "db_kappa", FOCAL_PARAM_DB_KAPPA },
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        fprintf(out, "%s\"%s\": %u", i ? ", " : "", params[i].name, params[i].bit);
    fputs("}}\n}\n", out);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
