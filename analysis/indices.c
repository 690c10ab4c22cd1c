/*
 * indices.c: item, group and expectation indices with their intervals
 * (methodology sections 3 and 4), from the sufficient statistics of accum.c.
 *
 * Agreement with R's survey package (tools/oracle.R) is the contract:
 * - simple design: item intervals are Wilson (prop.test, correct = FALSE);
 * - complex design: item intervals are svyciprop(method = "logit") on the
 *   design restricted to the rows that answered the item (so PSUs and strata
 *   without an answer drop out of both the variance and the df), with the Kish
 *   effective-n Wilson interval when p is exactly 0 or 1;
 * - groups: estimate +- t * SE on the design over all the unit's rows, SE by
 *   linearization of the aggregate (mean_items, mean_children, pooled),
 *   clipped to [0, 100].
 * Variances use with-replacement PSUs within strata; a stratum with a single
 * PSU contributes 0 (R's survey.lonely.psu = "certainty") and is flagged.
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
};

/* A stratum as a result sees it: single rows and named PSUs folded together. */
struct stratum_view {
	long npsu;
	long *npsu_item; /* [item]: PSUs with an answer to it */
	const double *s;
	const double *m;
	double *s_own; /* copies when named PSUs had to be folded in */
	double *m_own;
};

/* Start an analysis. */
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
	struct unit_acc *u = strmap_get(a->units, unit);

	if (u == NULL) {
		u = accum_unit_create(a->s, unit);
		strmap_put(a->units, unit, u);
	}
	accum_unit_add(a->s, u, r);
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
	size_t K = 2 * (size_t)s->nitems, KK = K * (K + 1) / 2, pos = 0, a, b;
	struct stratum_view *v = xcalloc(u->nstrata, sizeof *v);
	const char *key;
	void *val;
	int h, i;

	for (h = 0; h < u->nstrata; h++) {
		const struct stratum_acc *st = u->strata[h];

		v[h].npsu = st->nsingle + st->npsu_named;
		v[h].npsu_item = xcalloc(s->nitems, sizeof *v[h].npsu_item);
		memcpy(v[h].npsu_item, st->nsingle_item, s->nitems * sizeof *v[h].npsu_item);
		if (st->npsu_named == 0) {
			v[h].s = st->s;
			v[h].m = st->m;
			continue;
		}
		v[h].s = v[h].s_own = xcalloc(K, sizeof *v[h].s_own);
		v[h].m = v[h].m_own = xcalloc(KK, sizeof *v[h].m_own);
		memcpy(v[h].s_own, st->s, K * sizeof *st->s);
		memcpy(v[h].m_own, st->m, KK * sizeof *st->m);
	}
	while (strmap_next(u->psu_map, &pos, &key, &val)) {
		const struct psu_acc *p = val;
		struct stratum_view *sv = &v[p->stratum];

		for (i = 0; i < s->nitems; i++) {
			if (p->u[2 * i + 1] > 0)
				sv->npsu_item[i]++;
		}
		for (a = 0; a < K; a++) {
			if (p->u[a] == 0)
				continue;
			sv->s_own[a] += p->u[a];
			for (b = a; b < K; b++)
				sv->m_own[accum_packed(K, a, b)] += p->u[a] * p->u[b];
		}
	}
	return v;
}

/* Free stratum views. */
static void
indices_strata_free(struct stratum_view *v, int n)
{
	int h;

	for (h = 0; h < n; h++) {
		free(v[h].npsu_item);
		free(v[h].s_own);
		free(v[h].m_own);
	}
	free(v);
}

/*
 * Within-stratum part of a linearized variance for coefficients d (dense, K;
 * only the listed indices idx[0..nidx-1], ascending, are non-zero): the sum of
 * squares of PSU totals z_c = d'u_c about their mean, over npsu PSUs.
 */
static double
indices_stratum_ss(const struct stratum_view *v, size_t K, const double *d,
    const size_t *idx, size_t nidx, long npsu)
{
	double q = 0, lin = 0, row;
	size_t a, b;

	for (a = 0; a < nidx; a++) {
		size_t base = accum_packed(K, idx[a], idx[a]) - idx[a];

		lin += d[idx[a]] * v->s[idx[a]];
		row = d[idx[a]] * v->m[base + idx[a]];
		for (b = a + 1; b < nidx; b++)
			row += 2 * d[idx[b]] * v->m[base + idx[b]];
		q += d[idx[a]] * row;
	}
	q -= lin * lin / npsu;
	return q > 0 ? q : 0;
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
 * mustart = (w y + 0.5) / (w + 1) per row (from the weight histogram); after
 * the first step every row shares one mean, so the deviance follows from the
 * weighted totals. Stops like R: |dev - devold| / (|dev| + 0.1) < 1e-8, at
 * most 25 steps. Returns the coefficient and the fitted mean it ends on.
 */
static void
indices_irls(const struct unit_acc *u, int i, double *beta, double *mu_out)
{
	const struct whist *h = &u->hist[i];
	double c = u->n[i] / u->X[i]; /* w~ = w * c: weights with mean 1 */
	double yt = u->Y[i] * c, nt = u->X[i] * c, s0 = 0, s1 = 0, devold = 0, dev, mu, b, m;
	size_t j;
	int iter, y;

	for (j = 0; j < h->cap; j++) {
		double wt = h->w[j] * c;

		if (h->w[j] == 0)
			continue;
		for (y = 0; y <= 1; y++) {
			long n = y ? h->n1[j] : h->n0[j];
			double mus = (wt * y + 0.5) / (wt + 1), eta = log(mus / (1 - mus));

			if (n == 0)
				continue;
			m = indices_expit(eta);
			s0 += n * wt * m * (1 - m);
			s1 += n * wt * m * (1 - m) * (eta + (y - m) / (m * (1 - m)));
			devold += n * -2 * wt * (y ? log(m) : log(1 - m));
		}
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
}

/* One item's index and interval. */
static void
indices_item(const struct survey *s, const struct unit_acc *u, const struct stratum_view *v,
    int complex, double level, int i, struct estimate *e)
{
	size_t K = 2 * (size_t)s->nitems, idx[2];
	double d[K], p, var = 0, lo, hi, t, se_logit, lp;
	long npsu = 0, nstrata = 0;
	int h;

	e->n = u->n[i];
	if (u->n[i] == 0) {
		e->value = e->ci_low = e->ci_high = e->se = e->df = NAN;
		return;
	}
	p = u->Y[i] / u->X[i];
	e->value = 100 * p;

	/* Linearized variance of the ratio on the answering rows' design. */
	memset(d, 0, sizeof d);
	d[2 * i] = 1 / u->X[i];
	d[2 * i + 1] = -p / u->X[i];
	idx[0] = 2 * i;
	idx[1] = 2 * i + 1;
	for (h = 0; h < u->nstrata; h++) {
		long nh = v[h].npsu_item[i];

		if (nh == 0)
			continue;
		npsu += nh;
		nstrata++;
		if (nh > 1)
			var += (double)nh / (nh - 1) * indices_stratum_ss(&v[h], K, d, idx, 2, nh);
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
		double mu;

		indices_irls(u, i, &lp, &mu);
		d[2 * i + 1] = -mu / u->X[i];
		var = 0;
		for (h = 0; h < u->nstrata; h++) {
			long nh = v[h].npsu_item[i];

			if (nh > 1)
				var += (double)nh / (nh - 1) * indices_stratum_ss(&v[h], K, d, idx, 2, nh);
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
 * (methodology section 4: the linearization of the aggregate).
 */
static void
indices_groups(const struct survey *s, const struct unit_acc *u, const struct stratum_view *v,
    double level, struct unit_result *ur)
{
	size_t K = 2 * (size_t)s->nitems, *idx = xcalloc(K, sizeof *idx), nidx;
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

			if (nh > 1)
				var += (double)nh / (nh - 1) * indices_stratum_ss(&v[h], K, dg, idx, nidx, nh);
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

/* Improvement priorities: corrected item-total correlation vs item index. */
static void
indices_priorities(const struct survey *s, const struct unit_acc *u, struct unit_result *ur)
{
	double *imp = xcalloc(s->nsat, sizeof *imp), *perf = xcalloc(s->nsat, sizeof *perf);
	double mi, mp;
	int i, k = 0;

	for (i = 0; i < s->nsat; i++) {
		struct priority *p = &ur->priorities[i];
		double N = u->cn[i], sxx, smm;

		p->importance = NAN;
		p->performance = ur->items[i].value;
		if (N >= 3) {
			sxx = N * u->cxx[i] - u->cx[i] * u->cx[i];
			smm = N * u->cmm[i] - u->cm[i] * u->cm[i];
			if (sxx > 0 && smm > 0)
				p->importance = (N * u->cxm[i] - u->cx[i] * u->cm[i]) / sqrt(sxx * smm);
		}
		if (!isnan(p->importance) && !isnan(p->performance)) {
			imp[k] = p->importance;
			perf[k++] = p->performance;
		}
	}
	if (k > 0) {
		mi = indices_median(imp, k);
		mp = indices_median(perf, k);
		for (i = 0; i < s->nsat; i++) {
			struct priority *p = &ur->priorities[i];

			p->priority = !isnan(p->importance) && !isnan(p->performance) &&
			    p->importance > mi && p->performance < mp;
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
	ur->respondents = u->rows;
	ur->items = xcalloc(s->nitems, sizeof *ur->items);
	ur->groups = xcalloc(s->ngroups, sizeof *ur->groups);
	ur->dist = xcalloc(s->nitems, sizeof *ur->dist);
	ur->alpha = xcalloc(s->ngroups, sizeof *ur->alpha);
	ur->alpha_n = xcalloc(s->ngroups, sizeof *ur->alpha_n);
	ur->priorities = xcalloc(s->nsat, sizeof *ur->priorities);
	for (h = 0; h < u->nstrata; h++) {
		if (v[h].npsu == 1)
			ur->lonely_psu = 1;
	}
	for (i = 0; i < s->nitems; i++) {
		indices_item(s, u, v, ur->complex, a->level, i, &ur->items[i]);
		ur->dist[i] = xcalloc(s->items[i].scale->nvalues, sizeof **ur->dist);
		for (j = 0; j < s->items[i].scale->nvalues; j++)
			ur->dist[i][j] = u->X[i] > 0 ? 100 * u->dist[i][j] / u->X[i] : NAN;
	}
	indices_groups(s, u, v, a->level, ur);
	indices_alpha(s, u, ur);
	indices_priorities(s, u, ur);
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
