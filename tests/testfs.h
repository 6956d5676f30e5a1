/* testfs.h — scratch-directory and whole-file helpers shared by the tests
 * that write files: one temporary directory per test program, paths of names
 * in it, whole files written and read back, its entries counted and the tree
 * removed at the end.
 *
 * Needs _POSIX_C_SOURCE 200809L (mkdtemp, lstat) defined before the first
 * #include. The names `dir`, `path_in` and `dir_entries` are the ones the
 * tests' checks already spell, so a failing check still prints the same text.
 * Every helper is `static inline` so that a test that uses only some of them
 * compiles without unused-function warnings. */
#ifndef FOCAL_TESTFS_H
#define FOCAL_TESTFS_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scratch directory made by make_scratch_dir() ("" before). */
static char dir[256];

/* Makes a new, private (mode 0700) directory "<base>/<prefix>-XXXXXX", where
 * base is $TMPDIR if set and non-empty, else /tmp, and remembers its name in
 * dir. Returns 0, or −1 after printing the reason with perror("mkdtemp"). */
static inline int make_scratch_dir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    int len = snprintf(dir, sizeof dir, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    if (len < 0 || (size_t)len >= sizeof dir) {
        dir[0] = '\0';
        errno = ENAMETOOLONG;
        perror("mkdtemp");
        return -1;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* "dir/name" in one of four static buffers used in turn, so up to four
 * results may be held at once; the fifth call reuses the first buffer.
 * Exits if the path does not fit (a cut path would name another file). */
static inline const char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    int len = snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= sizeof buf[k]) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(1);
    }
    return buf[k];
}

/* Makes the folder dir/name (an existing one is fine) and returns its path;
 * exits on failure. */
static inline const char *mkdir_in(const char *name)
{
    const char *p = path_in(name);
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        perror(p);
        exit(1);
    }
    return p;
}

/* Writes n bytes to path as a new file, replacing any file there; returns
 * path. Exits with "cannot write <path>" on any failure. The old file is
 * unlinked rather than truncated: ext4 flushes a file rewritten through
 * truncation when it is closed, which makes the tests' thousands of rewrites
 * of one name slow. */
static inline const char *write_new_file(const char *path, const void *bytes, size_t n)
{
    unlink(path);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(bytes, 1, n, fp) != n || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

/* write_new_file() to dir/name; returns the path (a path_in() buffer). */
static inline const char *put(const char *name, const void *bytes, size_t n)
{
    return write_new_file(path_in(name), bytes, n);
}

/* The whole content of the regular file at path in a new buffer (free() it)
 * with a '\0' after the last byte, so text can be used as a string; *n
 * receives the size. NULL if the file cannot be opened, sized or read (*n is
 * then 0). */
static inline unsigned char *try_read_file(const char *path, size_t *n)
{
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    long len = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        len = ftell(fp);
    unsigned char *b = NULL;
    if (len >= 0 && fseek(fp, 0, SEEK_SET) == 0)
        b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, fp) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    if (!b)
        return NULL;
    b[len] = '\0';
    *n = (size_t)len;
    return b;
}

/* try_read_file() that exits with "cannot read <path>" instead of failing. */
static inline unsigned char *read_file(const char *path, size_t *n)
{
    unsigned char *b = try_read_file(path, n);
    if (!b) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return b;
}

/* Number of entries in dir other than . and .. (−1 if it cannot be opened);
 * *tmp_seen is set to 1 if any name contains ".tmp" — the mark of a temporary
 * file an atomic write left behind — else to 0. */
static inline int dir_entries(int *tmp_seen)
{
    int n = 0;
    *tmp_seen = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strstr(e->d_name, ".tmp"))
            *tmp_seen = 1;
    }
    closedir(d);
    return n;
}

static inline void remove_tree(const char *d);

/* Removes everything inside directory d, subdirectories included, and keeps
 * d. Best effort: what cannot be removed is left. Symbolic links are removed,
 * never followed. */
static inline void clear_dir(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp)
        return;
    struct dirent *e;
    char p[768];
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int len = snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        if (len < 0 || (size_t)len >= sizeof p)
            continue;
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(dp);
}

/* Removes directory d and everything in it (best effort, as clear_dir()). */
static inline void remove_tree(const char *d)
{
    clear_dir(d);
    rmdir(d);
}

#endif
