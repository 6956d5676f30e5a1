/* test_dense_norm_reference.c — the normalised (cosine) dense layer against
 * PyTorch: tests/fixtures/dense_norm_reference.txt, written by
 * tools/gen_dense_norm_reference.py (F.normalize on inputs and weights, a
 * matrix product, autograd for the gradients). Every case runs through the
 * layer functions (output, dinp, dw) and through a network
 * `flatten / dense-norm classes` (output, the weight's gradient). Tolerance:
 * |a − r| <= 1e-5·|r| + 1e-6·max|r| per tensor (float32 sums in another
 * order). Needs FOCAL_SOURCE_DIR (set by CTest) to find the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "focal.h"
#include "nn/layers.h"

#define TEST_NAME "test_dense_norm_reference"
#define REF_FIRST_LINE "# focal-dense-norm-reference 1 "

enum { T_X, T_W, T_DOUT, T_OUT, T_DX, T_DW, T_COUNT };
static const char *const tnames[T_COUNT] = {"x", "w", "dout", "out", "dx", "dw"};

struct ref_case {
    char name[64];
    int n, in, out;
    float *t[T_COUNT];
    size_t len[T_COUNT];
};

static double worst_rel;

/* Compares got with ref (len values) and records the worst relative error. */
static void compare(const char *cname, const char *what, const float *got, const float *ref, size_t len)
{
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < len; i++)
        scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < len; i++) {
        const double err = fabs((double)got[i] - ref[i]);
        const double e = err / (1e-5 * fabs(ref[i]) + 1e-6 * scale + 1e-30);
        if (!(e <= worst))
            worst = e, at = i;
        const double rel = err / fmax(fabs(ref[i]), 1e-6 * scale + 1e-30);
        if (rel > worst_rel)
            worst_rel = rel;
    }
    CHECKF(worst <= 1, "%s: %s[%zu] = %.9g, PyTorch %.9g", cname, what, at, got[at], ref[at]);
}

static void run_case(const struct ref_case *c)
{
    const size_t n = (size_t)c->n, in = (size_t)c->in, o = (size_t)c->out;
    float *out = malloc(n * o * sizeof *out), *xn = malloc(n * in * sizeof *xn), *wn = malloc(o * in * sizeof *wn);
    float *nrm = malloc((n + o) * sizeof *nrm), *dx = malloc(n * in * sizeof *dx);
    float *dw = calloc(o * in, sizeof *dw), *scratch = malloc(o * in * sizeof *scratch);
    if (!out || !xn || !wn || !nrm || !dx || !dw || !scratch) {
        CHECK(!"out of memory");
        goto out;
    }
    focal_dense_norm_forward(out, xn, wn, nrm, c->t[T_X], c->t[T_W], c->n, c->in, c->out);
    compare(c->name, "out", out, c->t[T_OUT], n * o);
    focal_dense_norm_backward(dx, dw, scratch, c->t[T_DOUT], xn, wn, nrm, c->n, c->in, c->out);
    compare(c->name, "dx", dx, c->t[T_DX], n * in);
    compare(c->name, "dw", dw, c->t[T_DW], o * in);

    /* the same through a network */
    struct focal_model *m = NULL;
    CHECKF(focal_model_create(&m, "flatten\ndense-norm classes\n", TEST_NAME, c->in, 1, 1, c->out,
                              FOCAL_HEAD_SOFTMAX, c->n) == FOCAL_OK, "%s: %s", c->name, focal_last_error());
    if (!m)
        goto out;
    CHECK(focal_model_num_tensors(m) == 1 && focal_model_num_params(m) == o * in);
    memcpy(focal_model_params(m), c->t[T_W], o * in * sizeof(float));
    const float *logits;
    CHECK(focal_model_forward(m, c->t[T_X], c->n, 1, &logits) == FOCAL_OK);
    compare(c->name, "model out", logits, c->t[T_OUT], n * o);
    focal_model_zero_grad(m);
    CHECK(focal_model_backward(m, c->t[T_DOUT], c->n) == FOCAL_OK);
    compare(c->name, "model dw", focal_model_grads(m), c->t[T_DW], o * in);
    focal_model_free(m);
out:
    free(out);
    free(xn);
    free(wn);
    free(nrm);
    free(dx);
    free(dw);
    free(scratch);
}

/* Parses "key v1 v2 ..." into a new array; returns its length, or 0. */
static size_t parse_values(char *s, float **dst)
{
    size_t cap = 16, len = 0;
    float *v = malloc(cap * sizeof *v);
    for (char *tok = strtok(s, " "); v && tok; tok = strtok(NULL, " ")) {
        char *end;
        const double d = strtod(tok, &end);
        if (*end) {
            free(v);
            return 0;
        }
        if (len == cap) {
            float *bigger = realloc(v, 2 * cap * sizeof *v);
            if (!bigger) {
                free(v);
                return 0;
            }
            v = bigger;
            cap *= 2;
        }
        v[len++] = (float)d;
    }
    *dst = v;
    return v ? len : 0;
}

int main(void)
{
    const char *path = "dense_norm_reference.txt";
    FILE *f = check_open_fixture(TEST_NAME, path);
    if (!f)
        return 1;
    static char buf[1 << 16];
    int line = 0, cases = 0, eof = -1;
    struct ref_case c;
    memset(&c, 0, sizeof c);
    while (fgets(buf, sizeof buf, f)) {
        line++;
        buf[strcspn(buf, "\r\n")] = 0;
        if (line == 1)
            CHECKF(strncmp(buf, REF_FIRST_LINE, strlen(REF_FIRST_LINE)) == 0, "%s: not a reference file", path);
        if (buf[0] == '#' || !buf[0])
            continue;
        if (strncmp(buf, "case ", 5) == 0) {
            CHECKF(sscanf(buf, "case %63s n=%d in=%d out=%d", c.name, &c.n, &c.in, &c.out) == 4, "%s:%d", path,
                   line);
        } else if (strcmp(buf, "end") == 0) {
            const size_t want[T_COUNT] = {(size_t)c.n * c.in, (size_t)c.out * c.in, (size_t)c.n * c.out,
                                          (size_t)c.n * c.out, (size_t)c.n * c.in, (size_t)c.out * c.in};
            int ok = 1;
            for (int k = 0; k < T_COUNT; k++)
                ok &= c.t[k] && c.len[k] == want[k];
            CHECKF(ok, "%s:%d: case %s is incomplete", path, line, c.name);
            if (ok)
                run_case(&c);
            cases++;
            for (int k = 0; k < T_COUNT; k++)
                free(c.t[k]);
            memset(&c, 0, sizeof c);
        } else if (sscanf(buf, "eof %d", &eof) == 1) {
            break;
        } else {
            char *sp = strchr(buf, ' ');
            int k = 0;
            if (sp) {
                *sp = 0;
                while (k < T_COUNT && strcmp(buf, tnames[k]) != 0)
                    k++;
            }
            CHECKF(sp && k < T_COUNT && !c.t[k], "%s:%d: unexpected line '%s'", path, line, buf);
            if (sp && k < T_COUNT && !c.t[k])
                c.len[k] = parse_values(sp + 1, &c.t[k]);
        }
    }
    fclose(f);
    CHECKF(eof == cases && cases >= 8, "%s: %d cases read, eof says %d", path, cases, eof);
    printf("%s: %d cases, worst relative error %.3g\n", TEST_NAME, cases, worst_rel);
    return check_done(TEST_NAME);
}
