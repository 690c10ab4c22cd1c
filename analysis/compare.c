/*
 * compare.c: the comparisons leadership asks for (docs/methodology.md section 7):
 * change between periods, ranking flags against the parent, WLS trend.
 */
#include "config.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

#include "sipas/analysis.h"

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
	if (k < 2)
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
