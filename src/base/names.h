/* names.h — the one lookup behind every focal_X_name / focal_X_parse pair:
 * a table of names indexed by enum value. Internal to the library. */
#ifndef FOCAL_BASE_NAMES_H
#define FOCAL_BASE_NAMES_H

#include "focal/base.h"

/* A table of n names, the k-th at (const char *const *)((const char *)first
 * + k * stride): an array of strings (stride sizeof(char *)) or a member of
 * an array of structs (&a[0].name, sizeof a[0]). A NULL name is no name. */
struct focal_names {
    const char *const *first;
    size_t stride;
    int n;
};
#define FOCAL_NAMES(array) ((struct focal_names){ (array), sizeof *(array), (int)(sizeof(array) / sizeof *(array)) })

/* The name of value v, or "unknown" when v is outside [0, n) or has none. */
const char *focal_name_of(struct focal_names t, int v);

/* The value whose name is `name` into *v. FOCAL_ERR_ARG otherwise, with the
 * message "unknown WHAT 'NAME'; expected one of A, B, C". */
focal_status focal_name_parse(const char *what, struct focal_names t, const char *name, int *v);

/* Defines `focal_status PARSE_FN(const char *name, ENUM *out)` by
 * focal_name_parse over TABLE (a struct focal_names), *out untouched on
 * failure; WHAT names the kind of thing in the message. */
#define FOCAL_DEFINE_PARSE(PARSE_FN, ENUM, WHAT, TABLE)                        \
    focal_status PARSE_FN(const char *name, ENUM *out)                         \
    {                                                                          \
        int v;                                                                 \
        focal_status st = focal_name_parse(WHAT, TABLE, name, &v);             \
        if (st == FOCAL_OK)                                                    \
            *out = (ENUM)v;                                                    \
        return st;                                                             \
    }

/* Defines the pair `const char *NAME_FN(ENUM v)` (focal_name_of) and
 * PARSE_FN (FOCAL_DEFINE_PARSE) over TABLE. */
#define FOCAL_DEFINE_NAMES(NAME_FN, PARSE_FN, ENUM, WHAT, TABLE)              \
    const char *NAME_FN(ENUM v)                                                \
    {                                                                          \
        return focal_name_of(TABLE, (int)v);                                   \
    }                                                                          \
    FOCAL_DEFINE_PARSE(PARSE_FN, ENUM, WHAT, TABLE)

#endif
