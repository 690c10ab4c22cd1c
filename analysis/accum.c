/*
 * accum.c: folds rows into per-unit sufficient statistics (see accum.h).
 * Pure arithmetic; no output, no I/O.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "accum.h"
#include "sipas/util.h"

/* A new empty accumulator for one unit. */
struct unit_acc *
accum_unit_create(const struct survey *s, const char *code)
{
	struct unit_acc *u = xcalloc(1, sizeof *u);
	int i, ni = s->nitems, ng = s->ngroups;

	u->code = xstrdup(code);
	u->n = xcalloc(ni, sizeof *u->n);
	u->x = xcalloc(ni, sizeof *u->x);
	u->Y = xcalloc(ni, sizeof *u->Y);
	u->X = xcalloc(ni, sizeof *u->X);
	u->W2 = xcalloc(ni, sizeof *u->W2);
	u->dist = xcalloc(ni, sizeof *u->dist);
	for (i = 0; i < ni; i++)
		u->dist[i] = xcalloc(s->items[i].scale->nvalues, sizeof **u->dist);
	u->hist = xcalloc(ni, sizeof *u->hist);
	u->gn = xcalloc(ng, sizeof *u->gn);
	u->an = xcalloc(ng, sizeof *u->an);
	u->asx = xcalloc(ng, sizeof *u->asx);
	u->asx2 = xcalloc(ng, sizeof *u->asx2);
	u->ast = xcalloc(ng, sizeof *u->ast);
	u->ast2 = xcalloc(ng, sizeof *u->ast2);
	for (i = 0; i < ng; i++) {
		if (s->groups[i]->leaf) {
			u->asx[i] = xcalloc(s->groups[i]->nitems, sizeof **u->asx);
			u->asx2[i] = xcalloc(s->groups[i]->nitems, sizeof **u->asx2);
		}
	}
	u->cn = xcalloc(s->nsat, sizeof *u->cn);
	u->cx = xcalloc(s->nsat, sizeof *u->cx);
	u->cm = xcalloc(s->nsat, sizeof *u->cm);
	u->cxx = xcalloc(s->nsat, sizeof *u->cxx);
	u->cmm = xcalloc(s->nsat, sizeof *u->cmm);
	u->cxm = xcalloc(s->nsat, sizeof *u->cxm);
	u->stratum_map = strmap_create();
	u->psu_map = strmap_create();
	return u;
}

/* Free an accumulator (NULL-safe). */
void
accum_unit_free(const struct survey *s, struct unit_acc *u)
{
	size_t pos = 0;
	const char *key;
	void *v;
	int i;

	if (u == NULL)
		return;
	for (i = 0; i < s->nitems; i++) {
		free(u->dist[i]);
		free(u->hist[i].w);
		free(u->hist[i].n0);
		free(u->hist[i].n1);
	}
	free(u->hist);
	for (i = 0; i < s->ngroups; i++) {
		free(u->asx[i]);
		free(u->asx2[i]);
	}
	for (i = 0; i < u->nstrata; i++) {
		free(u->strata[i]->name);
		free(u->strata[i]->nsingle_item);
		free(u->strata[i]->s);
		free(u->strata[i]->m);
		free(u->strata[i]);
	}
	while (strmap_next(u->psu_map, &pos, &key, &v)) {
		struct psu_acc *p = v;

		free(p->u);
		free(p);
	}
	strmap_free(u->psu_map);
	strmap_free(u->stratum_map);
	free(u->strata);
	free(u->n);
	free(u->x);
	free(u->Y);
	free(u->X);
	free(u->W2);
	free(u->dist);
	free(u->gn);
	free(u->an);
	free(u->asx);
	free(u->asx2);
	free(u->ast);
	free(u->ast2);
	free(u->cn);
	free(u->cx);
	free(u->cm);
	free(u->cxx);
	free(u->cmm);
	free(u->cxm);
	free(u->code);
	free(u);
}

/* The index of stratum name in u, created on first sight. */
static int
accum_stratum_get(const struct survey *s, struct unit_acc *u, const char *name)
{
	struct stratum_acc *st;
	size_t K = 2 * (size_t)s->nitems;
	void *v = strmap_get(u->stratum_map, name);

	if (v != NULL)
		return (int)(intptr_t)v - 1;
	st = xcalloc(1, sizeof *st);
	st->name = xstrdup(name);
	st->nsingle_item = xcalloc(s->nitems, sizeof *st->nsingle_item);
	st->s = xcalloc(K, sizeof *st->s);
	st->m = xcalloc(K * (K + 1) / 2, sizeof *st->m);
	u->strata = xreallocarray(u->strata, u->nstrata + 1, sizeof *u->strata);
	u->strata[u->nstrata++] = st;
	strmap_put(u->stratum_map, name, (void *)(intptr_t)u->nstrata);
	return u->nstrata - 1;
}

/* The position of value v on item i's scale. */
static int
accum_value_index(const struct item *it, int v)
{
	int i;

	for (i = 0; i < it->scale->nvalues; i++) {
		if (it->scale->values[i] == v)
			return i;
	}
	return -1;
}

/* The slot of weight w in h (h->cap > 0). */
static size_t
accum_whist_slot(const struct whist *h, double w)
{
	uint64_t bits;
	size_t i;

	memcpy(&bits, &w, sizeof bits);
	bits *= 0x9E3779B97F4A7C15ULL;
	i = (size_t)(bits >> 32) & (h->cap - 1);
	while (h->w[i] != 0 && h->w[i] != w)
		i = (i + 1) & (h->cap - 1);
	return i;
}

/* Count one answering row of weight w (w > 0) in h. */
static void
accum_whist_add(struct whist *h, double w, int satisfied)
{
	size_t i, j;

	if ((h->count + 1) * 2 > h->cap) {
		struct whist old = *h;

		h->cap = h->cap ? h->cap * 2 : 8;
		h->w = xcalloc(h->cap, sizeof *h->w);
		h->n0 = xcalloc(h->cap, sizeof *h->n0);
		h->n1 = xcalloc(h->cap, sizeof *h->n1);
		for (j = 0; j < old.cap; j++) {
			if (old.w[j] == 0)
				continue;
			i = accum_whist_slot(h, old.w[j]);
			h->w[i] = old.w[j];
			h->n0[i] = old.n0[j];
			h->n1[i] = old.n1[j];
		}
		free(old.w);
		free(old.n0);
		free(old.n1);
	}
	i = accum_whist_slot(h, w);
	if (h->w[i] == 0) {
		h->w[i] = w;
		h->count++;
	}
	if (satisfied)
		h->n1[i]++;
	else
		h->n0[i]++;
}

/* Item-level totals, distributions and the design vector of one row. */
static void
accum_row_items(const struct survey *s, struct unit_acc *u, const struct analysis_row *r,
    int *nz, int *nnz, double *val)
{
	double w = r->weight;
	int i, vi;

	*nnz = 0;
	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];
		int a = r->answers[i];

		if (a == ANSWER_NONE || (vi = accum_value_index(it, a)) < 0)
			continue;
		u->n[i]++;
		u->X[i] += w;
		u->W2[i] += w * w;
		u->dist[i][vi] += w;
		accum_whist_add(&u->hist[i], w, a >= it->scale->satisfied_min);
		if (a >= it->scale->satisfied_min) {
			u->x[i]++;
			u->Y[i] += w;
			nz[*nnz] = 2 * i;
			val[(*nnz)++] = w;
		}
		nz[*nnz] = 2 * i + 1;
		val[(*nnz)++] = w;
	}
}

/* Group counts, Cronbach sums and item-total correlation sums of one row. */
static void
accum_row_groups(const struct survey *s, struct unit_acc *u, const struct analysis_row *r)
{
	double sum = 0, t, m;
	int i, j, k = 0;

	for (i = 0; i < s->ngroups; i++) {
		const struct group *g = s->groups[i];
		int any = 0, all = 1;

		for (j = 0; j < g->ndesc; j++) {
			if (r->answers[g->desc[j]] != ANSWER_NONE)
				any = 1;
			else
				all = 0;
		}
		u->gn[i] += any;
		if (!g->leaf || !all || g->nitems != g->ndesc)
			continue;
		/* An element answered in full: alpha on the raw scale values. */
		u->an[i]++;
		t = 0;
		for (j = 0; j < g->nitems; j++) {
			double x = r->answers[g->items[j]];

			u->asx[i][j] += x;
			u->asx2[i][j] += x * x;
			t += x;
		}
		u->ast[i] += t;
		u->ast2[i] += t * t;
	}
	for (i = 0; i < s->nsat; i++) {
		if (r->answers[i] != ANSWER_NONE) {
			sum += r->answers[i];
			k++;
		}
	}
	if (k < 2)
		return;
	for (i = 0; i < s->nsat; i++) {
		double x = r->answers[i];

		if (r->answers[i] == ANSWER_NONE)
			continue;
		m = (sum - x) / (k - 1); /* mean of the respondent's other items */
		u->cn[i]++;
		u->cx[i] += x;
		u->cm[i] += m;
		u->cxx[i] += x * x;
		u->cmm[i] += m * m;
		u->cxm[i] += x * m;
	}
}

/* Fold one row into u. Answers not on their item's scale count as no answer. */
void
accum_unit_add(const struct survey *s, struct unit_acc *u, const struct analysis_row *r)
{
	size_t K = 2 * (size_t)s->nitems;
	const char *stratum = r->stratum != NULL ? r->stratum : "";
	int nz[2 * s->nitems], nnz, h, a, b;
	double val[2 * s->nitems];
	struct stratum_acc *st;

	ASSERT(r->weight > 0 && isfinite(r->weight));
	u->rows++;
	if (r->weight != 1)
		u->any_weight = 1;
	if (*stratum != '\0')
		u->any_stratum = 1;
	h = accum_stratum_get(s, u, stratum);
	st = u->strata[h];
	accum_row_items(s, u, r, nz, &nnz, val);
	accum_row_groups(s, u, r);

	if (r->psu != NULL && *r->psu != '\0') {
		/* A named PSU: sum its vector; folded into M when a result is computed. */
		struct psu_acc *p;
		char *key;

		u->any_psu = 1;
		xasprintf(&key, "%s\x1f%s", stratum, r->psu);
		if ((p = strmap_get(u->psu_map, key)) == NULL) {
			p = xcalloc(1, sizeof *p);
			p->stratum = h;
			p->u = xcalloc(K, sizeof *p->u);
			strmap_put(u->psu_map, key, p);
			st->npsu_named++;
		}
		free(key);
		for (a = 0; a < nnz; a++)
			p->u[nz[a]] += val[a];
		return;
	}

	/* The row is its own PSU: a rank-one update of M_h over its non-zeros. */
	st->nsingle++;
	for (a = 0; a < nnz; a++) {
		size_t base = accum_packed(K, nz[a], nz[a]) - nz[a];

		st->s[nz[a]] += val[a];
		if (nz[a] & 1)
			st->nsingle_item[nz[a] / 2]++;
		for (b = a; b < nnz; b++)
			st->m[base + nz[b]] += val[a] * val[b];
	}
}
