/* internal.h — helpers shared by the library's source files; not installed. */
#ifndef FOCAL_INTERNAL_H
#define FOCAL_INTERNAL_H

#include "focal/base.h"

#if defined(__GNUC__)
#define FOCAL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FOCAL_PRINTF(a, b)
#endif

/* Records a message for focal_last_error() on this thread and returns st. */
focal_status focal_fail(focal_status st, const char *fmt, ...) FOCAL_PRINTF(2, 3);

/* Clears this thread's error message. */
void focal_clear_error(void);

#endif
