/*
 * intervals.c: the interval formulas of docs/methodology.md section 6, on GSL.
 */
#include "config.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

#include "sipas/analysis.h"

/*
 * Wilson score interval for x successes of n at level, on the 0-1 scale: the
 * interval of R's prop.test(x, n, correct = FALSE), including its edges (the
 * lower bound is exactly 0 when x = 0, the upper exactly 1 when x = n). n may be
 * fractional (the Kish effective sample size).
 */
void
stats_wilson(double x, double n, double level, double *lo, double *hi)
{
	double p, z, z22n, root;

	if (!(n > 0)) {
		*lo = *hi = NAN;
		return;
	}
	p = x / n;
	z = gsl_cdf_ugaussian_Pinv((1 + level) / 2);
	z22n = z * z / (2 * n);
	root = z * sqrt(p * (1 - p) / n + z22n / (2 * n));
	*hi = p >= 1 ? 1 : (p + z22n + root) / (1 + 2 * z22n);
	*lo = p <= 0 ? 0 : (p + z22n - root) / (1 + 2 * z22n);
}

/* Two-sided quantile for level: Student t on df, normal when df is infinite. */
double
stats_t_quantile(double level, double df)
{
	double q = 1 - (1 - level) / 2;

	if (isinf(df))
		return gsl_cdf_ugaussian_Pinv(q);
	if (!(df > 0))
		return NAN;
	return gsl_cdf_tdist_Pinv(q, df);
}
