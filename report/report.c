/* report.c — report_write (report.h): reads the experiment folder
 * (results.c), plans the charts (charts.c) and writes every file — the
 * charts, report.md and report.html (document.c) — to a temporary file
 * first, renaming them into place only when all were written. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "focal.h"
#include "report/report.h"
#include "report/report_internal.h"

int rp_fail(struct rp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

char *rp_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Writes every file to its temporary file, then commits them all. */
static int rp_write_files(struct rp *r)
{
    struct rp_chart ch[RP_N_KINDS + RP_MAX_RARE];
    size_t n = rp_plan_charts(r, ch);
    size_t nf = n + 2;
    struct focal_wfile *wf = calloc(nf, sizeof *wf);
    char **paths = calloc(nf, sizeof *paths);
    int st = -1;
    if (!wf || !paths) {
        rp_fail(r, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "report-%s.svg", ch[k].name);
        paths[k] = rp_join(r->dir, name);
    }
    paths[n] = rp_join(r->dir, "report.md");
    paths[n + 1] = rp_join(r->dir, "report.html");
    for (size_t k = 0; k < nf; k++) {
        if (!paths[k]) {
            rp_fail(r, "out of memory");
            goto out;
        }
        if (focal_wfile_open(&wf[k], paths[k]) != FOCAL_OK) {
            rp_fail(r, "%s", focal_last_error());
            goto out;
        }
        int bad = k < n ? rp_chart_write(wf[k].fp, r, &ch[k], 1)
                        : rp_document(wf[k].fp, k == n + 1, r, ch, n);
        if (bad != 0 || ferror(wf[k].fp)) {
            rp_fail(r, "%s: cannot write: %s", paths[k], bad != 0 ? "out of memory" : "write error");
            goto out;
        }
    }
    for (size_t k = 0; k < nf; k++)
        if (focal_wfile_commit(&wf[k]) != FOCAL_OK) {
            rp_fail(r, "%s", focal_last_error());
            goto out;
        }
    /* charts of an earlier report that this one does not draw */
    for (size_t a = 0; a < RP_N_CHART_NAMES; a++) {
        int drawn = 0;
        for (size_t k = 0; k < n; k++)
            drawn |= strcmp(ch[k].name, rp_chart_names[a]) == 0;
        if (drawn)
            continue;
        char name[64];
        snprintf(name, sizeof name, "report-%s.svg", rp_chart_names[a]);
        char *p = rp_join(r->dir, name);
        if (p)
            unlink(p);
        free(p);
    }
    st = 0;
out:
    for (size_t k = 0; wf && k < nf; k++)
        focal_wfile_abort(&wf[k]);
    for (size_t k = 0; paths && k < nf; k++)
        free(paths[k]);
    free(wf);
    free(paths);
    return st;
}

int report_write(const char *dir, char *err, size_t errlen)
{
    struct rp r;
    memset(&r, 0, sizeof r);
    r.dir = dir;
    r.err = err;
    r.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    int st = rp_read_results(&r) == 0 && rp_read_runs(&r) == 0 && rp_write_files(&r) == 0 ? 0 : -1;
    rp_free(&r);
    return st;
}
