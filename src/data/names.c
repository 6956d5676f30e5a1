/* names.c — the names of the dataset formats. */
#include "focal/data.h"
#include "base/names.h"

static const char *const format_names[] = {
    [FOCAL_FORMAT_AUTO] = "auto",   [FOCAL_FORMAT_RFMID] = "rfmid", [FOCAL_FORMAT_FOLDERS] = "folders",
    [FOCAL_FORMAT_NPZ] = "npz",     [FOCAL_FORMAT_IDX] = "idx",     [FOCAL_FORMAT_CSV] = "csv",
};

const char *focal_format_name(enum focal_format f)
{
    return focal_name_of(FOCAL_NAMES(format_names), (int)f);
}

focal_status focal_format_parse(const char *name, enum focal_format *f)
{
    int v;
    focal_status st = focal_name_parse("data format", FOCAL_NAMES(format_names), name, &v);
    if (st == FOCAL_OK)
        *f = (enum focal_format)v;
    return st;
}
