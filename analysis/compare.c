/*
 * compare.c: the comparisons leadership asks for (docs/methodology.md section 7):
 * change between periods, ranking flags against the parent, WLS trend.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "sipas/analysis.h"
#include "sipas/util.h"

/* Change from a to b: difference, SE sqrt(se_a^2 + se_b^2), normal p-value. */
int
stats_change(const struct estimate *a, const struct estimate *b, struct change *c)
{
	if (!isfinite(a->value) || !isfinite(b->value) || !isfinite(a->se) || !isfinite(b->se))
		return -1;
	c->diff = b->value - a->value;
	c->se = sqrt(a->se * a->se + b->se * b->se);
	if (c->se > 0) {
		c->z = c->diff / c->se;
		c->p = 2 * gsl_cdf_ugaussian_Q(fabs(c->z));
	} else {
		c->z = c->diff == 0 ? 0 : copysign(INFINITY, c->diff);
		c->p = c->diff == 0 ? 1 : 0;
	}
	c->significant = c->p < 0.05;
	return 0;
}

/* Above, within or below: the child's interval against the parent's value. */
enum rank_flag
stats_rank_flag(const struct estimate *child, double parent_value)
{
	if (!isfinite(child->value) || !isfinite(parent_value) || !isfinite(child->ci_low) ||
	    !isfinite(child->ci_high))
		return RANK_NONE;
	if (child->ci_low > parent_value)
		return RANK_ABOVE;
	if (child->ci_high < parent_value)
		return RANK_BELOW;
	return RANK_WITHIN;
}

/* The flag's name as the API spells it. */
const char *
stats_rank_flag_name(enum rank_flag f)
{
	switch (f) {
	case RANK_ABOVE:
		return "above";
	case RANK_WITHIN:
		return "within";
	case RANK_BELOW:
		return "below";
	case RANK_NONE:
		break;
	}
	return "none";
}

/*
 * Two-sided p-value of the child's value against the parent's value, on the
 * child's SE and df: the test its interval inverts (the interval excludes the
 * parent's value exactly when p < 1 - level). NAN when there is none.
 */
double
stats_rank_p(const struct estimate *child, double parent_value)
{
	double t;

	if (!isfinite(child->value) || !isfinite(parent_value) || !isfinite(child->se))
		return NAN;
	if (child->se <= 0)
		return child->value == parent_value ? 1 : 0;
	t = fabs(child->value - parent_value) / child->se;
	if (isfinite(child->df) && child->df > 0)
		return 2 * gsl_cdf_tdist_Q(t, child->df);
	return 2 * gsl_cdf_ugaussian_Q(t);
}

/* The flag of a child from its (adjusted) p-value: above or below when p < alpha. */
enum rank_flag
stats_rank_flag_p(const struct estimate *child, double parent_value, double p, double alpha)
{
	if (!isfinite(p) || !isfinite(child->value) || !isfinite(parent_value))
		return RANK_NONE;
	if (p >= alpha)
		return RANK_WITHIN;
	return child->value > parent_value ? RANK_ABOVE : RANK_BELOW;
}

/* Compare indices into a p-value array by p, for the Holm order. */
static const double *compare_holm_p;
static int
compare_holm_cmp(const void *a, const void *b)
{
	double x = compare_holm_p[*(const size_t *)a], y = compare_holm_p[*(const size_t *)b];

	if (x != y)
		return x < y ? -1 : 1;
	return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/*
 * Holm's step-down adjustment (R: p.adjust(p, "holm")) over the finite
 * p-values of p[0..n); the others stay NAN in adj. With m of them sorted
 * ascending, adj_(k) = min(1, max_{j <= k} (m - j + 1) p_(j)).
 */
void
stats_holm(const double *p, size_t n, double *adj)
{
	size_t *ord = xcalloc(n + 1, sizeof *ord), m = 0, k;
	double run = 0, v;

	for (k = 0; k < n; k++) {
		adj[k] = NAN;
		if (isfinite(p[k]))
			ord[m++] = k;
	}
	compare_holm_p = p;
	qsort(ord, m, sizeof *ord, compare_holm_cmp);
	compare_holm_p = NULL;
	for (k = 0; k < m; k++) {
		v = (double)(m - k) * p[ord[k]];
		if (v > run)
			run = v;
		adj[ord[k]] = run < 1 ? run : 1;
	}
	free(ord);
}

/*
 * Weighted least-squares slope of y on x with weights 1/se^2, and its SE
 * (1 / sqrt(S_xx) of the weighted design: the SEs are taken as known).
 */
int
stats_trend(const double *x, const double *y, const double *se, size_t n, double *slope, double *slope_se)
{
	double sw = 0, sx = 0, sy = 0, xm, ym, sxx = 0, sxy = 0, w;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]) || !isfinite(se[i]) || se[i] <= 0)
			continue;
		w = 1 / (se[i] * se[i]);
		sw += w;
		sx += w * x[i];
		sy += w * y[i];
		k++;
	}
	if (k < STATS_TREND_MIN)
		return -1;
	xm = sx / sw;
	ym = sy / sw;
	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]) || !isfinite(se[i]) || se[i] <= 0)
			continue;
		w = 1 / (se[i] * se[i]);
		sxx += w * (x[i] - xm) * (x[i] - xm);
		sxy += w * (x[i] - xm) * (y[i] - ym);
	}
	if (!(sxx > 0))
		return -1;
	*slope = sxy / sxx;
	*slope_se = 1 / sqrt(sxx);
	return 0;
}
