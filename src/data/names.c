/* names.c — the names of the dataset formats. */
#include "focal/data.h"
#include "base/names.h"

static const char *const format_names[] = {
    [FOCAL_FORMAT_AUTO] = "auto",   [FOCAL_FORMAT_RFMID] = "rfmid", [FOCAL_FORMAT_FOLDERS] = "folders",
    [FOCAL_FORMAT_NPZ] = "npz",     [FOCAL_FORMAT_IDX] = "idx",     [FOCAL_FORMAT_CSV] = "csv",
};

/* focal_format_name, focal_format_parse */
FOCAL_DEFINE_NAMES(focal_format_name, focal_format_parse, enum focal_format, "data format", FOCAL_NAMES(format_names))
