/* dataset_check.c — what a dataset must hold before a run starts on it:
 * samples of at least two classes. */
#include <stdlib.h>

#include "focal/data.h"
#include "base/internal.h"

focal_status focal_dataset_check_classes(const struct focal_dataset *d, const char *origin)
{
    if (d->task == FOCAL_TASK_MULTILABEL || !d->label || d->n < 1)
        return FOCAL_OK;
    const char *name = origin ? origin : "dataset";
    const int32_t first = d->label[0];
    for (int i = 1; i < d->n; i++)
        if (d->label[i] != first)
            return FOCAL_OK;
    const char *cls = d->class_names && first >= 0 && first < d->num_classes ? d->class_names[first] : "?";
    if (d->num_classes < 2)
        return focal_fail(FOCAL_ERR_FORMAT, "%s: every one of its %d samples is of the one class '%s'; a classifier "
                          "needs samples of at least two classes (for class folders: one folder per class)",
                          name, d->n, cls);
    return focal_fail(FOCAL_ERR_FORMAT, "%s: every one of its %d samples is of class '%s' (of %d classes); a "
                      "classifier needs samples of at least two", name, d->n, cls, d->num_classes);
}
