/* internal.h — helpers shared by the library's source files; not installed. */
#ifndef FOCAL_INTERNAL_H
#define FOCAL_INTERNAL_H

#include "focal/base.h"

#if defined(__GNUC__)
#define FOCAL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FOCAL_PRINTF(a, b)
/* fsyncs the folder dir (the rename of a file into it becomes durable), or
 * the folder holding path. FOCAL_ERR_IO naming the folder. */
focal_status focal_sync_dir(const char *dir);
focal_status focal_sync_dir_of(const char *path);

/* Marks one durable file-system step (an fsync, a rename, an unlink) of the
 * atomic writers. A test hook: with FOCAL_CRASH_AFTER=k in the environment,
 * the process kills itself with SIGKILL at the k-th step, so tests can crash
 * a writer between any two steps. (FOCAL_FAIL_WRITE_AFTER=n makes focal_wfile
 * writes fail with ENOSPC once n bytes have been written, a disk filling up.) */
void focal_fs_step(void);

#endif

/* Records a message for focal_last_error() on this thread and returns st. */
focal_status focal_fail(focal_status st, const char *fmt, ...) FOCAL_PRINTF(2, 3);

/* Clears this thread's error message. */
void focal_clear_error(void);

/* fsyncs the folder dir (the rename of a file into it becomes durable), or
 * the folder holding path. FOCAL_ERR_IO naming the folder. */
focal_status focal_sync_dir(const char *dir);
focal_status focal_sync_dir_of(const char *path);

/* Marks one durable file-system step (an fsync, a rename, an unlink) of the
 * atomic writers. A test hook: with FOCAL_CRASH_AFTER=k in the environment,
 * the process kills itself with SIGKILL at the k-th step, so tests can crash
 * a writer between any two steps. (FOCAL_FAIL_WRITE_AFTER=n makes focal_wfile
 * writes fail with ENOSPC once n bytes have been written, a disk filling up.) */
void focal_fs_step(void);

#endif
