/* wfile.c — files written atomically: write a temporary file beside the target,
 * then flush, fsync and rename it over the target, so readers see either the
 * old file or the complete new one, never a partial write. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "focal/base.h"
#include "base/internal.h"

/* How many temporary names "<path>.tmp.<pid>.<k>" are tried before giving up. */
#define WFILE_TRIES 1000

/* Frees wf's strings and zeroes it. Does not touch the file system. */
static void wfile_release(struct focal_wfile *wf)
{
    free(wf->path);
    free(wf->tmp);
    wf->fp = NULL;
    wf->path = NULL;
    wf->tmp = NULL;
}

/* Makes the rename of a file inside the directory of `path` durable by
 * fsyncing that directory. Best effort: failures are ignored, because the data
 * itself is already safely in place. */
static void wfile_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = malloc(2);
        if (dir)
            memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

focal_status focal_wfile_open(struct focal_wfile *wf, const char *path)
{
    struct stat sb;
    int have_old = 0;

    wf->fp = NULL;
    wf->path = NULL;
    wf->tmp = NULL;
    if (!path || !*path)
        return focal_fail(FOCAL_ERR_ARG, "output path is empty; expected a file name");
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return focal_fail(FOCAL_ERR_IO, "%s: is a directory; expected a file name", path);
        have_old = S_ISREG(sb.st_mode);
    }

    size_t n = strlen(path);
    size_t cap = n + 64;
    wf->path = malloc(n + 1);
    wf->tmp = malloc(cap);
    if (!wf->path || !wf->tmp) {
        wfile_release(wf);
        return focal_fail(FOCAL_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(wf->path, path, n + 1);

    int fd = -1, err = 0;
    for (int k = 0; k < WFILE_TRIES && fd < 0; k++) {
        snprintf(wf->tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        fd = open(wf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        err = errno;
        if (fd < 0 && err != EEXIST)
            break;
    }
    if (fd < 0) {
        focal_status st = focal_fail(FOCAL_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                     path, strerror(err));
        wfile_release(wf);
        return st;
    }
    /* Replacing a file keeps its permission bits; a new file gets 0666 & ~umask. */
    if (have_old)
        (void)fchmod(fd, sb.st_mode & 07777);
    wf->fp = fdopen(fd, "w");
    if (!wf->fp) {
        err = errno;
        close(fd);
        unlink(wf->tmp);
        focal_status st = focal_fail(FOCAL_ERR_IO, "%s: cannot open a stream: %s", path, strerror(err));
        wfile_release(wf);
        return st;
    }
    return FOCAL_OK;
}

focal_status focal_wfile_commit(struct focal_wfile *wf)
{
    focal_status st = FOCAL_OK;
    int err = 0;
    const char *what = NULL;

    if (!wf->fp || !wf->tmp || !wf->path) {
        focal_wfile_abort(wf);
        return focal_fail(FOCAL_ERR_ARG, "output file was not opened");
    }
    if (ferror(wf->fp)) {
        what = "write";
        err = EIO;
    } else if (fflush(wf->fp) != 0) {
        what = "write";
        err = errno;
    } else if (fsync(fileno(wf->fp)) != 0) {
        what = "fsync";
        err = errno;
    }
    if (fclose(wf->fp) != 0 && !what) {
        what = "close";
        err = errno;
    }
    wf->fp = NULL;
    if (!what && rename(wf->tmp, wf->path) != 0) {
        what = "rename";
        err = errno;
    }
    if (what) {
        unlink(wf->tmp);
        st = focal_fail(FOCAL_ERR_IO, "%s: %s failed: %s; the file was not written",
                        wf->path, what, strerror(err));
    } else {
        wfile_sync_dir(wf->path);
    }
    wfile_release(wf);
    return st;
}

void focal_wfile_abort(struct focal_wfile *wf)
{
    if (!wf)
        return;
    if (wf->fp)
        fclose(wf->fp);
    if (wf->tmp)
        unlink(wf->tmp);
    wfile_release(wf);
}
