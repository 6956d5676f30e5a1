/*
 * focal/base.h — status and errors, version, threads, the task vocabulary, CSV matrices and the atomic file writer.
 * Part of libfocal's public interface; include "focal.h" for all of it.
 */
#ifndef FOCAL_BASE_H
#define FOCAL_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


#ifdef __cplusplus
extern "C" {
#endif

#define FOCAL_VERSION_MAJOR 0
#define FOCAL_VERSION_MINOR 1
#define FOCAL_VERSION_PATCH 0
#define FOCAL_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef enum focal_status {
    FOCAL_OK = 0,
    FOCAL_ERR_ARG,      /* an argument or parameter is out of its valid range */
    FOCAL_ERR_NOMEM,    /* an allocation failed */
    FOCAL_ERR_IO,       /* a file could not be opened, read or written */
    FOCAL_ERR_FORMAT,   /* a file's contents are malformed */
    FOCAL_ERR_NUMERIC,  /* an input holds NaN or Inf */
    FOCAL_ERR_BUSY      /* a folder is locked by another process */
} focal_status;

/* The message describing the last failure on the calling thread ("" if none).
 * The string is owned by the library and valid until the thread's next call. */
const char *focal_last_error(void);

/* A short constant name for a status, e.g. "invalid argument". */
const char *focal_status_string(focal_status st);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *focal_version(void);

/* Sets the number of threads the library's parallel loops and the BLAS use
 * (n >= 1), or n = 0 for one per core. Results of every loss are
 * bit-identical for a given input whatever the thread count; training is
 * bit-identical from run to run for the same seed and thread count. */
void focal_set_threads(int n);

/* The number of threads parallel loops will use. */
int focal_get_threads(void);

/* Sets the most memory, in bytes, a network may need (parameters, gradients,
 * activations and scratch for its largest batch; see focal_model_create),
 * process-wide; bytes = 0 restores the default, the machine's physical
 * memory. Set it before creating networks, not while other threads do. */
void focal_set_memory_limit(size_t bytes);

/* The limit in force: the last focal_set_memory_limit, or the machine's
 * physical memory (sysconf), or SIZE_MAX when that is unknown. *is_default
 * (may be NULL) is set to 1 when no limit was set. */
size_t focal_memory_limit(int *is_default);

/* Parses a memory size for an option: a whole number of bytes with an
 * optional suffix K, M, G or T (powers of 1024, case-insensitive, an
 * optional trailing "B" or "iB"), e.g. "4G", "512M", "1073741824".
 * FOCAL_ERR_ARG, quoting the text and giving an example, when it is not one
 * or does not fit in a size_t; 0 is refused. */
focal_status focal_parse_memory_size(const char *text, size_t *bytes);

/* The instruction set the loss kernels run with: "generic", "avx2" or
 * "avx512" — the best the CPU supports, unless the environment variable
 * FOCAL_ISA names another supported one. */
const char *focal_isa(void);

/* ------------------------------------------------------------------------ */
/* Tasks                                                                     */
/* ------------------------------------------------------------------------ */

enum focal_task {
    FOCAL_TASK_BINARY,       /* one 0/1 label per sample; the model has 1 sigmoid output */
    FOCAL_TASK_MULTICLASS,   /* one class index per sample; softmax head */
    FOCAL_TASK_MULTILABEL    /* num_classes 0/1 labels per sample; sigmoid head */
};

/* "binary", "multiclass" or "multilabel". */
const char *focal_task_name(enum focal_task t);
/* Parses a name as above; FOCAL_ERR_ARG (message lists the valid names) if unknown. */
focal_status focal_task_parse(const char *name, enum focal_task *t);

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* A numeric CSV matrix read from a file. */
struct focal_csv_matrix {
    size_t rows, cols;
    double *data;        /* rows×cols, row-major; release with focal_csv_release */
};

/* Reads a CSV file of numbers: no header, comma-separated, the same number of
 * fields on every non-empty line; blank lines are skipped; CRLF accepted.
 * FOCAL_ERR_IO if the file cannot be read; FOCAL_ERR_FORMAT with a message
 * "path:line:column: ..." quoting the offending text for a malformed number or
 * a row of the wrong length. On failure *m is left empty. */
focal_status focal_csv_read(const char *path, struct focal_csv_matrix *m);
/* Frees m->data and zeroes *m. Safe on a zeroed matrix and on NULL. */
void focal_csv_release(struct focal_csv_matrix *m);

#define FOCAL_CSV_QUOTE_SIZE 48

/* Where the value at data row `row`, field `col` (0-based, as in struct
 * focal_csv_matrix) of the CSV file at path is written, read with the same
 * rules as focal_csv_read: *line and *column (1-based, the field's first
 * non-blank byte), and the field's text quoted for a message (control bytes
 * as '?', cut with "..." after 40 bytes). For errors about values that parse
 * but are not valid where they are. FOCAL_ERR_IO if the file cannot be read,
 * FOCAL_ERR_ARG if it has no such value. */
focal_status focal_csv_locate(const char *path, size_t row, size_t col, size_t *line, size_t *column,
                              char quote[FOCAL_CSV_QUOTE_SIZE]);

/* Reads the whole file at path into a new NUL-terminated buffer (*out,
 * caller frees; the text may hold NUL bytes of its own) and its length.
 * regular_only refuses anything but a regular file. FOCAL_ERR_IO ("cannot
 * open", "not a regular file", "read error") or FOCAL_ERR_NOMEM, naming path. */
focal_status focal_read_file(const char *path, int regular_only, char **out, size_t *len);

/* A file written atomically: data goes to a temporary file beside `path`;
 * commit flushes, fsyncs and renames it over `path`; abort removes it. A file
 * that is neither committed nor aborted leaves `path` untouched. */
struct focal_wfile {
    FILE *fp;            /* write here between open and commit/abort */
    char *path;
    char *tmp;           /* (its allocation also holds the descriptor and the first write error) */
};
focal_status focal_wfile_open(struct focal_wfile *wf, const char *path);
/* Closes and renames; FOCAL_ERR_IO if any write, flush, fsync or the rename
 * failed (the temporary file is then removed), the message giving the errno
 * text of the first failure (e.g. "No space left on device"). Always
 * releases wf. */
focal_status focal_wfile_commit(struct focal_wfile *wf);
/* Closes and removes the temporary file; releases wf. Safe on a zeroed wf. */
void focal_wfile_abort(struct focal_wfile *wf);

/* A folder's files replaced together: every file of a commit is written into
 * the staging folder DIR/.commit (c->stage), then focal_commit_end writes
 * DIR/.commit/MANIFEST (the commit point) and renames the files into DIR.
 * After a crash at any point focal_commit_recover brings DIR to the state
 * before the commit (no manifest: the staging folder is removed) or after it
 * (a manifest: the remaining renames are done). Writers should hold the
 * folder's lock (focal_dir_lock). */
struct focal_commit {
    char *dir;
    char *stage;         /* write the commit's files here (e.g. with focal_wfile) */
};
/* Recovers an earlier commit, then creates an empty c->stage. FOCAL_ERR_IO or
 * FOCAL_ERR_NOMEM; c is then zeroed. */
focal_status focal_commit_begin(struct focal_commit *c, const char *dir);
/* Makes every regular file in c->stage part of DIR at once (temporary files
 * of focal_wfile, "*.tmp.*", are left out). Always releases c; on failure
 * before the manifest is durable DIR is as it was. */
focal_status focal_commit_end(struct focal_commit *c);
/* Removes c->stage and what it holds; releases c. Safe on a zeroed c. */
void focal_commit_abort(struct focal_commit *c);
/* Finishes or undoes a commit a crash interrupted in dir; *forward (may be
 * NULL) = 1 when one was finished. Nothing to do is FOCAL_OK. */
focal_status focal_commit_recover(const char *dir, int *forward);

/* An advisory lock on a folder, held until focal_dir_unlock or the process's
 * end (flock(2) on DIR/.lock, which holds the holder's pid). A lock left by a
 * dead process is free and is taken over. FOCAL_ERR_BUSY when another open
 * lock holds it ("DIR: in use by another focal process (pid N)"); FOCAL_ERR_IO
 * if DIR/.lock cannot be created. */
struct focal_dir_lock {
    int fd;              /* -1 when not held */
    char *path;
};
focal_status focal_dir_lock(struct focal_dir_lock *l, const char *dir);
/* Releases the lock and removes DIR/.lock. Safe on a zeroed or released l. */
void focal_dir_unlock(struct focal_dir_lock *l);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_BASE_H */
