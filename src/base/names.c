/* names.c — the name tables' lookup, and the names of tasks. */
#include <stdio.h>
#include <string.h>

#include "focal/base.h"
#include "base/internal.h"
#include "base/names.h"

/* The k-th name of t (may be NULL). */
static const char *name_at(struct focal_names t, int k)
{
    return *(const char *const *)(const void *)((const char *)t.first + (size_t)k * t.stride);
}

const char *focal_name_of(struct focal_names t, int v)
{
    const char *s = v >= 0 && v < t.n ? name_at(t, v) : NULL;
    return s ? s : "unknown";
}

focal_status focal_name_parse(const char *what, struct focal_names t, const char *name, int *v)
{
    for (int k = 0; k < t.n; k++) {
        const char *s = name_at(t, k);
        if (name && s && strcmp(name, s) == 0) {
            *v = k;
            return FOCAL_OK;
        }
    }
    char list[512] = "";
    size_t at = 0;
    for (int k = 0; k < t.n && at < sizeof list; k++)
        if (name_at(t, k))
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", name_at(t, k));
    return focal_fail(FOCAL_ERR_ARG, "unknown %s '%s'; expected one of %s", what, name ? name : "(null)", list);
}

/* The tasks' names. */
static const char *const task_names[] = {
    [FOCAL_TASK_BINARY] = "binary", [FOCAL_TASK_MULTICLASS] = "multiclass", [FOCAL_TASK_MULTILABEL] = "multilabel",
};

FOCAL_DEFINE_NAMES(focal_task_name, focal_task_parse, enum focal_task, "task", FOCAL_NAMES(task_names))
