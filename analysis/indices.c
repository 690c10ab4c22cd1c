/*
 * indices.c: item, group and expectation indices with their intervals
 * (docs/methodology.md sections 2, 5 and 6), from the sufficient statistics of accum.c.
 *
 * Agreement with R's survey package (tests/tools/oracle.R) is the contract:
 * - simple design: item intervals are Wilson (prop.test, correct = FALSE);
 * - complex design: item intervals are svyciprop(method = "logit") on the
 *   design restricted to the rows that answered the item (so PSUs and strata
 *   without an answer drop out of both the variance and the df), with the Kish
 *   effective-n Wilson interval when p is exactly 0 or 1;
 * - groups: estimate +- t * SE on the design over all the unit's rows, SE by
 *   linearization of the aggregate (mean_items, mean_children, pooled),
 *   clipped to [0, 100].
 * Variances use with-replacement PSUs within strata, PSUs keyed by (stratum,
 * psu). A stratum with a single PSU (in the design the estimate is computed
 * on) contributes that PSU's total about zero, the mean of all PSU totals of
 * these estimators (R's survey.lonely.psu = "adjust"), or nothing when the
 * survey says "certainty"; either way the unit is flagged. Because this is
 * decided here, from the merged per-stratum sums, merged states and roll-ups
 * get it right whatever their parts had.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accum.h"
#include "sipas/analysis.h"
#include "sipas/util.h"

struct analysis {
	const struct survey *s;
	double level;
	struct strmap *units; /* code -> struct unit_acc */
	struct state_shape_cache shape;
};

/* A stratum as a result sees it: single rows and named PSUs folded together. */
struct stratum_view {
	long npsu;
	long *npsu_item; /* [item]: PSUs with an answer to it */
	const struct stratum_acc *st;
	struct stratum_acc *own; /* a copy, when named PSUs had to be folded in */
};

/*
 * A computed sum of squares below this fraction of the magnitude of its terms
 * is rounding noise about an exact zero (every PSU total equal).
 */
#define INDICES_ZERO_REL 1e-14L

struct analysis *
analysis_create(const struct survey *s, double level)
{
	struct analysis *a = xcalloc(1, sizeof *a);

	ASSERT(level > 0 && level < 1);
	a->s = s;
	a->level = level;
	a->units = strmap_create();
	return a;
}

/* Free an analysis (NULL-safe). */
void
analysis_free(struct analysis *a)
{
	size_t pos = 0;
	const char *key;
	void *v;

	if (a == NULL)
		return;
	while (strmap_next(a->units, &pos, &key, &v))
		accum_unit_free(a->s, v);
	strmap_free(a->units);
	free(a);
}

/* Fold a row into unit's accumulator. */
void
analysis_add(struct analysis *a, const char *unit, const struct analysis_row *r)
{
	accum_unit_add(a->s, analysis_unit_acc_get(a, unit), r);
}

const struct survey *
analysis_survey(const struct analysis *a)
{
	return a->s;
}

/* Unit's accumulator, or NULL. */
const struct unit_acc *
analysis_unit_acc(const struct analysis *a, const char *unit)
{
	return strmap_get(a->units, unit);
}

struct state_shape_cache *
analysis_shape_cache(struct analysis *a)
{
	return &a->shape;
}

/* Unit's accumulator, created if new. */
struct unit_acc *
analysis_unit_acc_get(struct analysis *a, const char *unit)
{
	struct unit_acc *u = strmap_get(a->units, unit);

	if (u == NULL) {
		u = accum_unit_create(a->s, unit);
		strmap_put(a->units, unit, u);
	}
	return u;
}

/* Rows added to unit (directly or through merges). */
long
analysis_unit_rows(const struct analysis *a, const char *unit)
{
	const struct unit_acc *u = strmap_get(a->units, unit);

	return u != NULL ? u->rows : 0;
}

/* Call fn with every unit's code. */
void
analysis_each_unit(const struct analysis *a, void (*fn)(const char *, void *), void *arg)
{
	size_t pos = 0;
	const char *key;
	void *v;

	while (strmap_next(a->units, &pos, &key, &v))
		fn(key, arg);
}

/* Fold unit from's statistics into unit into (created if new), as if its rows had been added. */
void
analysis_merge(struct analysis *a, const char *into, const struct analysis *src, const char *from)
{
	const struct unit_acc *f = strmap_get(src->units, from);
	struct unit_acc *u;

	ASSERT(src->s == a->s);
	if (f == NULL)
		return;
	u = analysis_unit_acc_get(a, into);
	ASSERT(u != f);
	accum_unit_merge(a->s, u, f);
}

/* Number of units seen. */
size_t
analysis_unit_count(const struct analysis *a)
{
	return strmap_count(a->units);
}

/* Build the per-stratum views of u, folding its named PSUs in. */
static struct stratum_view *
indices_strata_fold(const struct survey *s, const struct unit_acc *u)
{
	size_t K = 2 * (size_t)s->nitems, Ks = 2 * (size_t)s->nsat, KK = Ks * (Ks + 1) / 2, pos = 0, a;
	struct stratum_view *v = xcalloc(u->nstrata, sizeof *v);
	int *nz = xcalloc(K, sizeof *nz), nnz, h, i;
	const acc_t *m;
	double *val = xcalloc(K, sizeof *val);
	const char *key;
	void *p;

	for (h = 0; h < u->nstrata; h++) {
		const struct stratum_acc *st = u->strata[h];
		struct stratum_acc *own;

		v[h].npsu = st->nsingle + st->npsu_named;
		v[h].npsu_item = xcalloc(s->nitems, sizeof *v[h].npsu_item);
		memcpy(v[h].npsu_item, st->nsingle_item, s->nitems * sizeof *v[h].npsu_item);
		v[h].st = st;
		if (st->npsu_named == 0 && st->mc == NULL)
			continue;
		/* A copy with the counts of mc in m, and the named PSUs to come. */
		v[h].st = v[h].own = own = xcalloc(1, sizeof *own);
		own->s = xcalloc(K, sizeof *own->s);
		own->diag = xcalloc(3 * (size_t)s->nitems, sizeof *own->diag);
		memcpy(own->s, st->s, K * sizeof *st->s);
		memcpy(own->diag, st->diag, 3 * (size_t)s->nitems * sizeof *st->diag);
		m = accum_stratum_m(s, st, &own->m);
		if (own->m == NULL) {
			own->m = xcalloc(KK, sizeof *own->m);
			memcpy(own->m, m, KK * sizeof *st->m);
		}
	}
	while (strmap_next(u->psu_map, &pos, &key, &p)) {
		const struct psu_acc *psu = p;
		struct stratum_view *sv = &v[psu->stratum];

		for (i = 0; i < s->nitems; i++) {
			if (psu->u[2 * i + 1] > 0)
				sv->npsu_item[i]++;
		}
		nnz = 0;
		for (a = 0; a < K; a++) {
			if (psu->u[a] != 0) {
				nz[nnz] = a;
				val[nnz++] = psu->u[a];
			}
		}
		accum_stratum_fold(s, sv->own, nz, nnz, val, 0);
	}
	free(nz);
	free(val);
	return v;
}

/* Free stratum views. */
static void
indices_strata_free(struct stratum_view *v, int n)
{
	int h;

	for (h = 0; h < n; h++) {
		free(v[h].npsu_item);
		if (v[h].own != NULL) {
			free(v[h].own->s);
			free(v[h].own->diag);
			free(v[h].own->m);
			free(v[h].own);
		}
	}
	free(v);
}

/*
 * q - lin^2 / n (about the stratum mean; a single PSU: q, about zero), or 0
 * when that is rounding noise about zero or negative.
 */
static double
indices_ss_finish(acc_t q, acc_t qabs, acc_t lin, long npsu)
{
	acc_t c = npsu > 1 ? lin * lin / npsu : 0;

	q -= c;
	qabs += c;
	return q > INDICES_ZERO_REL * qabs ? (double)q : 0;
}

/*
 * Within-stratum sum of squares of the PSU totals z_c = d'u_c about their mean,
 * over npsu PSUs, for a group: d over the satisfaction items (dense, Ks; only
 * idx[0..nidx-1], ascending, non-zero).
 */
static double
indices_stratum_ss(const struct stratum_view *v, size_t Ks, const double *d,
    const size_t *idx, size_t nidx, long npsu)
{
	const struct stratum_acc *st = v->st;
	acc_t q = 0, qabs = 0, lin = 0, row, rabs, t;
	size_t a, b;

	for (a = 0; a < nidx; a++) {
		const acc_t *m = st->m + accum_packed(Ks, idx[a], idx[a]) - idx[a];

		lin += d[idx[a]] * st->s[idx[a]];
		row = d[idx[a]] * m[idx[a]];
		rabs = fabsl(row);
		for (b = a + 1; b < nidx; b++) {
			t = 2 * d[idx[b]] * m[idx[b]];
			row += t;
			rabs += fabsl(t);
		}
		q += d[idx[a]] * row;
		qabs += fabsl(d[idx[a]]) * rabs;
	}
	return indices_ss_finish(q, qabs, lin, npsu);
}

/* The same for one item, with coefficients dy on Y and da on A. */
static double
indices_item_ss(const struct stratum_view *v, int i, double dy, double da, long npsu)
{
	const acc_t *g = v->st->diag + 3 * i;
	acc_t yy = (acc_t)dy * dy * g[0], ya = 2 * (acc_t)dy * da * g[1], aa = (acc_t)da * da * g[2];
	acc_t lin = (acc_t)dy * v->st->s[2 * i] + (acc_t)da * v->st->s[2 * i + 1];

	return indices_ss_finish(yy + ya + aa, fabsl(yy) + fabsl(ya) + fabsl(aa), lin, npsu);
}

/*
 * The factor of a stratum with nh PSUs in a variance: nh / (nh - 1), and for a
 * single PSU 1 (adjust) or 0 (certainty).
 */
static double
indices_stratum_factor(const struct survey *s, long nh)
{
	if (nh > 1)
		return (double)nh / (nh - 1);
	return nh == 1 && s->lonely_psu == LONELY_PSU_ADJUST ? 1 : 0;
}

/* The non-zero indices of d, ascending. */
static size_t
indices_support(const double *d, size_t K, size_t *idx)
{
	size_t a, n = 0;

	for (a = 0; a < K; a++) {
		if (d[a] != 0)
			idx[n++] = a;
	}
	return n;
}

/* R's binomial()$linkinv: the inverse logit, clamped at |eta| > 30. */
static double
indices_expit(double eta)
{
	const double thresh = 30, eps = 2.220446049250313e-16;

	if (eta < -thresh)
		return eps;
	if (eta > thresh)
		return 1 - eps;
	return 1 / (1 + exp(-eta));
}

/*
 * R's glm.fit for svyciprop's intercept-only quasibinomial model, replayed
 * step by step so that the logit interval agrees with R's to rounding rather
 * than to IRLS's convergence tolerance (which reaches 1e-6 percentage points
 * for small units). Prior weights are w / mean(w); the start is
 * mustart = (w y + 0.5) / (w + 1) per row (from the unit's weight table);
 * after the first step every row shares one mean, so the deviance follows from
 * the weighted totals. Stops like R: |dev - devold| / (|dev| + 0.1) < 1e-8, at
 * most 25 steps. Returns the coefficient and the fitted mean it ends on; -1
 * when the weight table overflowed (a large unit: R's IRLS error is then far
 * below the 1e-6 contract, and the caller uses the exact logit of p).
 */
static int
indices_irls(const struct survey *s, const struct unit_acc *u, int i, double *beta, double *mu_out)
{
	const struct weights_acc *wa = &u->weights;
	double c = u->n[i] / u->X[i]; /* w~ = w * c: weights with mean 1 */
	double yt = u->Y[i] * c, nt = u->X[i] * c, s0 = 0, s1 = 0, devold = 0, dev, mu, b;
	int iter, j;

	if (wa->overflow)
		return -1;
	/*
	 * The start, per distinct weight: with wt = w~, mustart is
	 * (wt + 0.5) / (wt + 1) for y = 1 and 0.5 / (wt + 1) for y = 0, so both
	 * share mu (1 - mu) = 0.5 (wt + 0.5) / (wt + 1)^2 and the deviance term
	 * -2 wt log((wt + 0.5) / (wt + 1)), and their working responses are
	 * +-(log(2 wt + 1) + (wt + 1) / (wt + 0.5)).
	 */
	for (j = 0; j < wa->n; j++) {
		double wt = wa->w[j] * c, W, g;
		const int *cnt = wa->cnt + ((size_t)j * s->nitems + i) * 2;
		long n0 = cnt[0], n1 = cnt[1];

		if (n0 + n1 == 0)
			continue;
		W = wt * 0.5 * (wt + 0.5) / ((wt + 1) * (wt + 1));
		g = W * (log(2 * wt + 1) + (wt + 1) / (wt + 0.5));
		s0 += (n0 + n1) * W;
		s1 += (n1 - n0) * g;
		devold += (n0 + n1) * -2 * wt * log((wt + 0.5) / (wt + 1));
	}
	b = s1 / s0;
	mu = indices_expit(b);
	for (iter = 1; iter <= 25; iter++) {
		dev = -2 * (yt * log(mu) + (nt - yt) * log(1 - mu));
		if (fabs(dev - devold) / (fabs(dev) + 0.1) < 1e-8)
			break;
		devold = dev;
		/* One Newton step on the logit: every row has mean mu now. */
		b = b + (yt - nt * mu) / (nt * mu * (1 - mu));
		mu = indices_expit(b);
	}
	*beta = b;
	*mu_out = mu;
	return 0;
}

/* Linearized variance of item i's ratio with coefficients dy, da, on the answering rows' design. */
static double
indices_item_var(const struct survey *s, const struct unit_acc *u, const struct stratum_view *v, int i,
    double dy, double da)
{
	double var = 0, f;
	int h;

	for (h = 0; h < u->nstrata; h++) {
		long nh = v[h].npsu_item[i];

		if ((f = indices_stratum_factor(s, nh)) > 0)
			var += f * indices_item_ss(&v[h], i, dy, da, nh);
	}
	return var;
}

/* One item's index and interval. */
static void
indices_item(const struct survey *s, const struct unit_acc *u, const struct stratum_view *v,
    int complex, double level, int i, struct estimate *e)
{
	double p, var, lo, hi, t, se_logit, lp, mu;
	long npsu = 0, nstrata = 0;
	int h;

	e->n = u->n[i];
	if (u->n[i] == 0) {
		e->value = e->ci_low = e->ci_high = e->se = e->df = NAN;
		return;
	}
	p = u->Y[i] / u->X[i];
	e->value = 100 * p;
	var = indices_item_var(s, u, v, i, 1 / u->X[i], -p / u->X[i]);
	for (h = 0; h < u->nstrata; h++) {
		npsu += v[h].npsu_item[i];
		nstrata += v[h].npsu_item[i] > 0;
	}
	e->se = 100 * sqrt(var);
	e->df = (double)(npsu - nstrata);

	if (!complex) {
		stats_wilson(u->x[i], u->n[i], level, &lo, &hi);
		e->df = INFINITY;
	} else if (p == 0 || p == 1) {
		double neff = u->X[i] * u->X[i] / u->W2[i];

		stats_wilson(p * neff, neff, level, &lo, &hi);
		e->df = INFINITY;
	} else {
		/*
		 * svyciprop: the sandwich variance of the fitted logit, whose
		 * influence is w (y - mu) / (X mu (1 - mu)) at R's final mean mu.
		 */
		if (indices_irls(s, u, i, &lp, &mu) == 0)
			var = indices_item_var(s, u, v, i, 1 / u->X[i], -mu / u->X[i]);
		else {
			lp = log(p / (1 - p));
			mu = p;
		}
		t = stats_t_quantile(level, e->df);
		se_logit = sqrt(var) / (mu * (1 - mu));
		lo = 1 / (1 + exp(-(lp - t * se_logit)));
		hi = 1 / (1 + exp(-(lp + t * se_logit)));
	}
	e->ci_low = 100 * lo;
	e->ci_high = 100 * hi;
}

/* Add coefficient c times item i's percentage-scale influence to d. */
static void
indices_item_coef(const struct unit_acc *u, int i, double c, double *d)
{
	double p = u->Y[i] / u->X[i];

	d[2 * i] += c * 100 / u->X[i];
	d[2 * i + 1] -= c * 100 * p / u->X[i];
}

/*
 * Every group's index, post-order, with d[g] its linear influence coefficients
 * (docs/methodology.md section 5: the linearization of the aggregate).
 */
static void
indices_groups(const struct survey *s, const struct unit_acc *u, const struct stratum_view *v,
    double level, struct unit_result *ur)
{
	size_t K = 2 * (size_t)s->nsat, *idx = xcalloc(K, sizeof *idx), nidx;
	double *d = xcalloc((size_t)s->ngroups * K, sizeof *d);
	long npsu = 0;
	double t;
	int gi, h, j;

	for (h = 0; h < u->nstrata; h++)
		npsu += v[h].npsu;
	t = stats_t_quantile(level, (double)(npsu - u->nstrata));

	for (gi = 0; gi < s->ngroups; gi++) {
		const struct group *g = s->groups[gi];
		struct estimate *e = &ur->groups[gi];
		double *dg = d + (size_t)gi * K, sum = 0, var = 0, ysum = 0, xsum = 0;
		int m = 0;

		e->n = u->gn[gi];
		e->value = e->ci_low = e->ci_high = e->se = NAN;
		e->df = (double)(npsu - u->nstrata);
		switch (g->aggregate) {
		case AGGREGATE_MEAN_ITEMS:
			for (j = 0; j < g->ndesc; j++) {
				if (u->n[g->desc[j]] > 0) {
					sum += ur->items[g->desc[j]].value;
					m++;
				}
			}
			for (j = 0; j < g->ndesc && m > 0; j++) {
				if (u->n[g->desc[j]] > 0)
					indices_item_coef(u, g->desc[j], 1.0 / m, dg);
			}
			break;
		case AGGREGATE_MEAN_CHILDREN:
			for (j = 0; j < g->nitems; j++) {
				if (u->n[g->items[j]] > 0) {
					sum += ur->items[g->items[j]].value;
					m++;
				}
			}
			for (j = 0; j < g->ngroups; j++) {
				if (!isnan(ur->groups[g->groups[j]->index].value)) {
					sum += ur->groups[g->groups[j]->index].value;
					m++;
				}
			}
			for (j = 0; j < g->nitems && m > 0; j++) {
				if (u->n[g->items[j]] > 0)
					indices_item_coef(u, g->items[j], 1.0 / m, dg);
			}
			for (j = 0; j < g->ngroups && m > 0; j++) {
				const double *dc = d + (size_t)g->groups[j]->index * K;
				size_t a;

				if (isnan(ur->groups[g->groups[j]->index].value))
					continue;
				for (a = 0; a < K; a++)
					dg[a] += dc[a] / m;
			}
			break;
		case AGGREGATE_POOLED:
			for (j = 0; j < g->ndesc; j++) {
				ysum += u->Y[g->desc[j]];
				xsum += u->X[g->desc[j]];
				m += u->n[g->desc[j]] > 0;
			}
			if (m == 0)
				break;
			sum = 100 * ysum / xsum * m; /* so that sum / m is the value */
			for (j = 0; j < g->ndesc; j++) {
				if (u->n[g->desc[j]] > 0) {
					dg[2 * g->desc[j]] = 100 / xsum;
					dg[2 * g->desc[j] + 1] = -100 * (ysum / xsum) / xsum;
				}
			}
			break;
		}
		if (m == 0)
			continue;
		e->value = sum / m;
		nidx = indices_support(dg, K, idx);
		for (h = 0; h < u->nstrata; h++) {
			long nh = v[h].npsu;
			double f = indices_stratum_factor(s, nh);

			if (f > 0)
				var += f * indices_stratum_ss(&v[h], K, dg, idx, nidx, nh);
		}
		e->se = sqrt(var);
		e->ci_low = fmax(0, e->value - t * e->se);
		e->ci_high = fmin(100, e->value + t * e->se);
		if (isnan(t))
			e->ci_low = e->ci_high = NAN;
	}
	free(idx);
	free(d);
}

/* Cronbach's alpha of each element (leaf group) over complete respondents. */
static void
indices_alpha(const struct survey *s, const struct unit_acc *u, struct unit_result *ur)
{
	int gi, j;

	for (gi = 0; gi < s->ngroups; gi++) {
		const struct group *g = s->groups[gi];
		double N = u->an[gi], sv = 0, vt;

		ur->alpha[gi] = NAN;
		ur->alpha_n[gi] = u->an[gi];
		if (!g->leaf || g->nitems != g->ndesc || g->nitems < 2 || N < 2)
			continue;
		for (j = 0; j < g->nitems; j++)
			sv += (u->asx2[gi][j] - u->asx[gi][j] * u->asx[gi][j] / N) / (N - 1);
		vt = (u->ast2[gi] - u->ast[gi] * u->ast[gi] / N) / (N - 1);
		if (vt > 0)
			ur->alpha[gi] = (double)g->nitems / (g->nitems - 1) * (1 - sv / vt);
	}
}

/* Compare doubles for qsort. */
static int
indices_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (sorted in place). */
static double
indices_median(double *v, int n)
{
	qsort(v, n, sizeof *v, indices_double_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Improvement priorities. Importance is the corrected item-total correlation
 * (the item's value against the mean of the respondent's other satisfaction
 * items), weighted by the sampling weights; its interval is Fisher's z,
 * atanh(r) +- q / sqrt(n_eff - 3) with q the normal quantile and n_eff the
 * Kish effective size (sum w)^2 / sum w^2 of the respondents it is computed
 * on (n itself when every weight is 1: R's cor.test). An item is a priority
 * only when both are clear: the lower limit of its importance is above the
 * median importance and the upper limit of its index is below the median
 * index (medians over the items that have both).
 */
static void
indices_priorities(const struct survey *s, const struct unit_acc *u, double level,
    struct unit_result *ur)
{
	double *imp = xcalloc(s->nsat, sizeof *imp), *perf = xcalloc(s->nsat, sizeof *perf);
	double mi, mp, q = stats_t_quantile(level, INFINITY);
	int i, k = 0;

	for (i = 0; i < s->nsat; i++) {
		struct priority *p = &ur->priorities[i];
		double W = u->cw[i], sxx, smm, neff, z;

		p->importance = p->importance_low = p->importance_high = NAN;
		p->importance_n = u->cn[i];
		p->importance_neff = W > 0 ? W * W / u->cw2[i] : 0;
		p->performance = ur->items[i].value;
		if (u->cn[i] >= 3) {
			sxx = W * u->cxx[i] - u->cx[i] * u->cx[i];
			smm = W * u->cmm[i] - u->cm[i] * u->cm[i];
			if (sxx > 0 && smm > 0)
				p->importance = (W * u->cxm[i] - u->cx[i] * u->cm[i]) / sqrt(sxx * smm);
		}
		neff = p->importance_neff;
		if (isfinite(p->importance) && neff > 3 && fabs(p->importance) < 1) {
			z = atanh(p->importance);
			p->importance_low = tanh(z - q / sqrt(neff - 3));
			p->importance_high = tanh(z + q / sqrt(neff - 3));
		}
		if (!isnan(p->importance) && !isnan(p->performance)) {
			imp[k] = p->importance;
			perf[k++] = p->performance;
		}
	}
	ur->priority_median_importance = ur->priority_median_performance = NAN;
	if (k > 0) {
		mi = indices_median(imp, k);
		mp = indices_median(perf, k);
		ur->priority_median_importance = mi;
		ur->priority_median_performance = mp;
		for (i = 0; i < s->nsat; i++) {
			struct priority *p = &ur->priorities[i];

			p->priority = isfinite(p->importance_low) &&
			    isfinite(ur->items[i].ci_high) &&
			    p->importance_low > mi && ur->items[i].ci_high < mp;
		}
	}
	free(imp);
	free(perf);
}

/* Compute one unit's result. */
static void
indices_unit(const struct analysis *a, const struct unit_acc *u, struct unit_result *ur)
{
	const struct survey *s = a->s;
	struct stratum_view *v = indices_strata_fold(s, u);
	int i, j, h;

	ur->unit = xstrdup(u->code);
	ur->complex = u->any_weight || u->any_stratum || u->any_psu;
	ur->nweighted = u->nweighted;
	ur->npsu = (long)strmap_count(u->psu_map);
	for (h = 0; h < u->nstrata; h++) {
		if (u->strata[h]->name[0] != '\0')
			ur->nstrata++;
	}
	ur->respondents = u->rows;
	ur->items = xcalloc(s->nitems, sizeof *ur->items);
	ur->groups = xcalloc(s->ngroups, sizeof *ur->groups);
	ur->dist = xcalloc(s->nitems, sizeof *ur->dist);
	ur->alpha = xcalloc(s->ngroups, sizeof *ur->alpha);
	ur->alpha_n = xcalloc(s->ngroups, sizeof *ur->alpha_n);
	ur->priorities = xcalloc(s->nsat, sizeof *ur->priorities);
	/* A lonely stratum in the unit's design or in an item's. */
	for (h = 0; h < u->nstrata; h++) {
		if (v[h].npsu == 1)
			ur->lonely_psu = 1;
		for (i = 0; i < s->nitems; i++) {
			if (v[h].npsu_item[i] == 1)
				ur->lonely_psu = 1;
		}
	}
	for (i = 0; i < s->nitems; i++) {
		indices_item(s, u, v, ur->complex, a->level, i, &ur->items[i]);
		ur->dist[i] = xcalloc(s->items[i].scale->nvalues, sizeof **ur->dist);
		for (j = 0; j < s->items[i].scale->nvalues; j++)
			ur->dist[i][j] = u->X[i] > 0 ? 100 * u->dist[i][j] / u->X[i] : NAN;
	}
	indices_groups(s, u, v, a->level, ur);
	indices_alpha(s, u, ur);
	indices_priorities(s, u, a->level, ur);
	indices_strata_free(v, u->nstrata);
}

/* Compare unit accumulators by code, bytewise. */
static int
indices_unit_cmp(const void *a, const void *b)
{
	const struct unit_acc *x = *(const struct unit_acc *const *)a;
	const struct unit_acc *y = *(const struct unit_acc *const *)b;

	return strcmp(x->code, y->code);
}

/* Compute every unit's result. */
struct result *
analysis_result(struct analysis *a)
{
	struct result *r = xcalloc(1, sizeof *r);
	struct unit_acc **list;
	size_t pos = 0, n = 0, i;
	const char *key;
	void *v;

	r->survey = a->s;
	r->level = a->level;
	list = xcalloc(strmap_count(a->units), sizeof *list);
	while (strmap_next(a->units, &pos, &key, &v))
		list[n++] = v;
	qsort(list, n, sizeof *list, indices_unit_cmp);
	r->units = xcalloc(n, sizeof *r->units);
	r->nunits = n;
	for (i = 0; i < n; i++)
		indices_unit(a, list[i], &r->units[i]);
	free(list);
	return r;
}

/* Free a result (NULL-safe). */
void
result_free(struct result *r)
{
	size_t i;
	int j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nunits; i++) {
		struct unit_result *ur = &r->units[i];

		for (j = 0; j < r->survey->nitems; j++)
			free(ur->dist[j]);
		free(ur->dist);
		free(ur->unit);
		free(ur->items);
		free(ur->groups);
		free(ur->alpha);
		free(ur->alpha_n);
		free(ur->priorities);
	}
	free(r->units);
	free(r);
}

/* The result of unit, or NULL. */
const struct unit_result *
result_unit_find(const struct result *r, const char *unit)
{
	size_t i;

	for (i = 0; i < r->nunits; i++) {
		if (strcmp(r->units[i].unit, unit) == 0)
			return &r->units[i];
	}
	return NULL;
}
