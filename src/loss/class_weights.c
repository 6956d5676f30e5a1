/* weights.c — per-class weights for imbalance and the prior-probability bias. */
#include <math.h>

#include "focal/loss.h"
#include "base/internal.h"

focal_status focal_weights_balanced(double *w, const double *counts, size_t c)
{
    if (c == 0)
        return focal_fail(FOCAL_ERR_ARG, "balanced weights: the number of classes is 0");
    double total = 0;
    for (size_t j = 0; j < c; j++) {
        if (!isfinite(counts[j]) || counts[j] <= 0)
            return focal_fail(FOCAL_ERR_ARG,
                              "balanced weights: class %zu has count %g; every class needs a count > 0", j,
                              counts[j]);
        total += counts[j];
    }
    for (size_t j = 0; j < c; j++)
        w[j] = total / ((double)c * counts[j]);
    return FOCAL_OK;
}

focal_status focal_weights_effective(double *w, const double *counts, size_t c, double beta)
{
    if (c == 0)
        return focal_fail(FOCAL_ERR_ARG, "effective-number weights: the number of classes is 0");
    if (!(beta >= 0 && beta < 1))
        return focal_fail(FOCAL_ERR_ARG, "effective-number weights: beta is %g; expected a value in [0,1)", beta);
    double total = 0;
    for (size_t j = 0; j < c; j++) {
        if (!isfinite(counts[j]) || counts[j] <= 0)
            return focal_fail(FOCAL_ERR_ARG,
                              "effective-number weights: class %zu has count %g; every class needs a count > 0",
                              j, counts[j]);
        /* (1 − β)/(1 − β^n), with 1 − β^n = −expm1(n·log β) to keep precision as β → 1 */
        const double denom = beta == 0 ? 1.0 : -expm1(counts[j] * log(beta));
        w[j] = (1 - beta) / denom;
        total += w[j];
    }
    for (size_t j = 0; j < c; j++)
        w[j] *= (double)c / total;
    return FOCAL_OK;
}

focal_status focal_prior_bias(double pi, double *bias)
{
    if (!(pi > 0 && pi < 1))
        return focal_fail(FOCAL_ERR_ARG, "prior probability is %g; expected a value in (0,1)", pi);
    *bias = log(pi) - log1p(-pi);
    return FOCAL_OK;
}
