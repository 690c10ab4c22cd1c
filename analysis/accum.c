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
	u->cw = xcalloc(s->nsat, sizeof *u->cw);
	u->cw2 = xcalloc(s->nsat, sizeof *u->cw2);
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
	}
	free(u->weights.keys);
	free(u->weights.slot);
	free(u->weights.w);
	free(u->weights.cnt);
	for (i = 0; i < s->ngroups; i++) {
		free(u->asx[i]);
		free(u->asx2[i]);
	}
	for (i = 0; i < u->nstrata; i++) {
		free(u->strata[i]->name);
		free(u->strata[i]->nsingle_item);
		free(u->strata[i]->s);
		free(u->strata[i]->diag);
		free(u->strata[i]->m);
		free(u->strata[i]->mc);
		free(u->strata[i]->bits);
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
	free(u->cw);
	free(u->cw2);
	free(u->cx);
	free(u->cm);
	free(u->cxx);
	free(u->cmm);
	free(u->cxm);
	free(u->code);
	free(u);
}

/* The index of stratum name in u, created on first sight. */
int
accum_stratum_get(const struct survey *s, struct unit_acc *u, const char *name)
{
	struct stratum_acc *st;
	size_t K = 2 * (size_t)s->nitems, Ks = 2 * (size_t)s->nsat;
	void *v = strmap_get(u->stratum_map, name);

	if (v != NULL)
		return (int)(intptr_t)v - 1;
	st = xcalloc(1, sizeof *st);
	st->name = xstrdup(name);
	st->nsingle_item = xcalloc(s->nitems, sizeof *st->nsingle_item);
	st->s = xcalloc(K, sizeof *st->s);
	st->diag = xcalloc(3 * (size_t)s->nitems, sizeof *st->diag);
	st->m = xcalloc(Ks * (Ks + 1) / 2, sizeof *st->m);
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

/* The hash position of weight w in wa (wa->cap > 0). */
static size_t
accum_weight_pos(const struct weights_acc *wa, double w)
{
	uint64_t bits;
	size_t i;

	memcpy(&bits, &w, sizeof bits);
	bits *= 0x9E3779B97F4A7C15ULL;
	i = (size_t)(bits >> 32) & (wa->cap - 1);
	while (wa->keys[i] != 0 && wa->keys[i] != w)
		i = (i + 1) & (wa->cap - 1);
	return i;
}

/* The slot of weight w, added on first sight; -1 once the table is full. */
static int
accum_weight_slot(const struct survey *s, struct weights_acc *wa, double w)
{
	size_t i, j;

	if (wa->overflow)
		return -1;
	if ((size_t)(wa->n + 1) * 2 > wa->cap) {
		double *okeys = wa->keys;
		int *oslot = wa->slot;
		size_t ocap = wa->cap;

		wa->cap = wa->cap ? wa->cap * 2 : 16;
		wa->keys = xcalloc(wa->cap, sizeof *wa->keys);
		wa->slot = xcalloc(wa->cap, sizeof *wa->slot);
		for (j = 0; j < ocap; j++) {
			if (okeys[j] != 0) {
				i = accum_weight_pos(wa, okeys[j]);
				wa->keys[i] = okeys[j];
				wa->slot[i] = oslot[j];
			}
		}
		free(okeys);
		free(oslot);
	}
	i = accum_weight_pos(wa, w);
	if (wa->keys[i] != 0)
		return wa->slot[i];
	if (wa->n == ACCUM_WEIGHTS_MAX) {
		wa->overflow = 1;
		return -1;
	}
	if ((wa->n & (wa->n - 1)) == 0) {
		/* Grow the per-slot arrays at powers of two. */
		size_t want = wa->n == 0 ? 1 : (size_t)wa->n * 2;

		wa->w = xreallocarray(wa->w, want, sizeof *wa->w);
		wa->cnt = xreallocarray(wa->cnt, want * s->nitems * 2, sizeof *wa->cnt);
	}
	wa->keys[i] = w;
	wa->slot[i] = wa->n;
	wa->w[wa->n] = w;
	memset(wa->cnt + (size_t)wa->n * s->nitems * 2, 0, s->nitems * 2 * sizeof *wa->cnt);
	return wa->n++;
}

/* Item-level totals, distributions and the design vector of one row. */
static void
accum_row_items(const struct survey *s, struct unit_acc *u, const struct analysis_row *r,
    int *nz, int *nnz, double *val)
{
	double w = r->weight;
	int i, vi, ws = accum_weight_slot(s, &u->weights, w);
	int *cnt = ws >= 0 ? u->weights.cnt + (size_t)ws * s->nitems * 2 : NULL;

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
		if (cnt != NULL)
			cnt[2 * i + (a >= it->scale->satisfied_min)]++;
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
	double sum = 0, t, m, w = r->weight;
	int i, j, k = 0, answered[s->nsat + 1];

	/* answered[j]: answers among items 0..j-1; a group's items are contiguous. */
	answered[0] = 0;
	for (j = 0; j < s->nsat; j++)
		answered[j + 1] = answered[j] + (r->answers[j] != ANSWER_NONE);
	for (i = 0; i < s->ngroups; i++) {
		const struct group *g = s->groups[i];
		int got = answered[g->desc[0] + g->ndesc] - answered[g->desc[0]];

		u->gn[i] += got > 0;
		if (!g->leaf || got < g->ndesc || g->nitems != g->ndesc)
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
		u->cw[i] += w;
		u->cw2[i] += w * w;
		u->cx[i] += w * x;
		u->cm[i] += w * m;
		u->cxx[i] += w * x * x;
		u->cmm[i] += w * m * m;
		u->cxm[i] += w * x * m;
	}
}

/* Set bits of x (portable: the baseline x86-64 has no popcount instruction). */
static inline long
accum_popcount(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (long)((x * 0x0101010101010101ULL) >> 56);
}

/*
 * Add the pair counts of st's pending rows (st->bits) to mc, packed like m:
 * for positions p <= q, the rows with a non-zero at both.
 */
static void
accum_bits_count(size_t Ks, const struct stratum_acc *st, long *mc)
{
	size_t p, q, w, nw = ((size_t)st->nbits + 63) / 64;
	long *row = mc, c;

	for (p = 0; p < Ks; row += Ks - p, p++) {
		const uint64_t *cp = st->bits + p * ACCUM_BITS_WORDS;

		for (w = 0; w < nw && cp[w] == 0; w++)
			;
		if (w == nw)
			continue; /* no pending row has p: nothing in its row */
		for (q = p; q < Ks; q++) {
			const uint64_t *cq = st->bits + q * ACCUM_BITS_WORDS;

			for (c = 0, w = 0; w < nw; w++)
				c += accum_popcount(cp[w] & cq[w]);
			row[q - p] += c;
		}
	}
}

/* Count st's pending rows of weight 1 into st->mc. */
static void
accum_stratum_settle(const struct survey *s, struct stratum_acc *st)
{
	size_t Ks = 2 * (size_t)s->nsat;

	accum_bits_count(Ks, st, st->mc);
	memset(st->bits, 0, Ks * ACCUM_BITS_WORDS * sizeof *st->bits);
	st->nbits = 0;
}

/*
 * Fold one PSU's vector (non-zeros nz[0..nnz-1], ascending, values val) into
 * a stratum: s, the items' diagonal blocks, and a rank-one update of M over
 * the satisfaction items. ones: every value is 1 (a row of weight 1), and
 * the products, all exactly 1, are counted in st->mc instead of M (through
 * st->bits).
 */
void
accum_stratum_fold(const struct survey *s, struct stratum_acc *st, const int *nz, int nnz, const double *val,
    int ones)
{
	size_t Ks = 2 * (size_t)s->nsat;
	int a, b;

	if (ones && st->mc == NULL)
		st->mc = xcalloc(Ks * (Ks + 1) / 2, sizeof *st->mc);
	if (ones && st->bits == NULL) /* a merged stratum may have mc only */
		st->bits = xcalloc(Ks * ACCUM_BITS_WORDS, sizeof *st->bits);
	if (ones) {
		size_t j = (size_t)st->nbits / 64;
		uint64_t bit = (uint64_t)1 << (st->nbits % 64);

		for (a = 0; a < nnz && (size_t)nz[a] < Ks; a++)
			st->bits[(size_t)nz[a] * ACCUM_BITS_WORDS + j] |= bit;
	}
	for (a = 0; a < nnz; a++) {
		int i = nz[a] / 2;
		acc_t v = val[a];
		size_t row0;

		st->s[nz[a]] += v;
		if (nz[a] & 1) {
			/* A: its Y (if any) is the previous non-zero. */
			acc_t y = a > 0 && nz[a - 1] == nz[a] - 1 ? val[a - 1] : 0;

			st->diag[3 * i + 1] += y * v;
			st->diag[3 * i + 2] += v * v;
		} else
			st->diag[3 * i] += v * v;
		if (ones || (size_t)nz[a] >= Ks)
			continue;
		row0 = accum_packed(Ks, nz[a], nz[a]) - nz[a];
		for (b = a; b < nnz && (size_t)nz[b] < Ks; b++)
			st->m[row0 + nz[b]] += v * val[b];
	}
	if (ones && ++st->nbits == ACCUM_BITS_ROWS)
		accum_stratum_settle(s, st);
}

/*
 * The stratum's second-moment matrix (m plus the counts of mc and of the
 * rows still pending in bits): st->m itself while mc is empty, else a sum
 * in a new array left in *tmp (the caller frees it; NULL otherwise).
 */
const acc_t *
accum_stratum_m(const struct survey *s, const struct stratum_acc *st, acc_t **tmp)
{
	size_t Ks = 2 * (size_t)s->nsat, n = Ks * (Ks + 1) / 2, i;
	acc_t *m;
	long *c = NULL;

	*tmp = NULL;
	if (st->mc == NULL)
		return st->m;
	if (st->nbits > 0) {
		c = xreallocarray(NULL, n, sizeof *c);
		memcpy(c, st->mc, n * sizeof *c);
		accum_bits_count(Ks, st, c);
	}
	m = xreallocarray(NULL, n, sizeof *m);
	for (i = 0; i < n; i++)
		m[i] = st->m[i] + (acc_t)(c != NULL ? c[i] : st->mc[i]);
	free(c);
	*tmp = m;
	return m;
}

/* Fold one row into u. Answers not on their item's scale count as no answer. */
void
accum_unit_add(const struct survey *s, struct unit_acc *u, const struct analysis_row *r)
{
	size_t K = 2 * (size_t)s->nitems;
	const char *stratum = r->stratum != NULL ? r->stratum : "";
	int nz[2 * s->nitems], nnz, h, a;
	double val[2 * s->nitems];
	struct stratum_acc *st;

	ASSERT(r->weight > 0 && isfinite(r->weight));
	u->rows++;
	if (r->weight != 1) {
		u->any_weight = 1;
		u->nweighted++;
	}
	if (*stratum != '\0')
		u->any_stratum = 1;
	h = accum_stratum_get(s, u, stratum);
	st = u->strata[h];
	accum_row_items(s, u, r, nz, &nnz, val);
	accum_row_groups(s, u, r);

	if (r->psu != NULL && *r->psu != '\0') {
		/* A named PSU: sum its vector; folded into M when a result is computed. */
		struct psu_acc *p;
		char buf[256], *key = buf;

		u->any_psu = 1;
		if (snprintf(buf, sizeof buf, "%s\x1f%s", stratum, r->psu) >= (int)sizeof buf)
			xasprintf(&key, "%s\x1f%s", stratum, r->psu);
		if ((p = strmap_get(u->psu_map, key)) == NULL) {
			p = xcalloc(1, sizeof *p);
			p->stratum = h;
			p->u = xcalloc(K, sizeof *p->u);
			strmap_put(u->psu_map, key, p);
			st->npsu_named++;
		}
		if (key != buf)
			free(key);
		for (a = 0; a < nnz; a++)
			p->u[nz[a]] += val[a];
		return;
	}

	/* The row is its own PSU. */
	st->nsingle++;
	for (a = 0; a < nnz; a++) {
		if (nz[a] & 1)
			st->nsingle_item[nz[a] / 2]++;
	}
	accum_stratum_fold(s, st, nz, nnz, val, r->weight == 1);
}

/* Add n longs. */
static void
accum_add_longs(long *to, const long *from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		to[i] += from[i];
}

/* Add n doubles. */
static void
accum_add_doubles(double *to, const double *from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		to[i] += from[i];
}

/* Add n long doubles. */
static void
accum_add_accs(acc_t *to, const acc_t *from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		to[i] += from[i];
}

/* Merge from's weight table into to's; past the cap, to overflows. */
void
accum_weights_merge(const struct survey *s, struct weights_acc *to, const struct weights_acc *from)
{
	size_t ni = 2 * (size_t)s->nitems;
	int j, k;

	if (from->overflow) {
		to->overflow = 1;
		return;
	}
	for (j = 0; j < from->n && !to->overflow; j++) {
		if ((k = accum_weight_slot(s, to, from->w[j])) < 0)
			return;
		for (size_t c = 0; c < ni; c++)
			to->cnt[(size_t)k * ni + c] += from->cnt[(size_t)j * ni + c];
	}
}

/*
 * Fold every statistic of from into to, exactly as if from's rows had been
 * added to to: strata are matched by name and PSUs by (stratum, psu), so a
 * parent unit can be computed from its children without re-reading rows.
 */
void
accum_unit_merge(const struct survey *s, struct unit_acc *to, const struct unit_acc *from)
{
	size_t K = 2 * (size_t)s->nitems, Ks = 2 * (size_t)s->nsat, pos = 0;
	const char *key;
	void *v;
	int i, h;

	to->rows += from->rows;
	to->any_weight |= from->any_weight;
	to->any_stratum |= from->any_stratum;
	to->any_psu |= from->any_psu;
	to->nweighted += from->nweighted;
	accum_add_longs(to->n, from->n, s->nitems);
	accum_add_longs(to->x, from->x, s->nitems);
	accum_add_doubles(to->Y, from->Y, s->nitems);
	accum_add_doubles(to->X, from->X, s->nitems);
	accum_add_doubles(to->W2, from->W2, s->nitems);
	for (i = 0; i < s->nitems; i++)
		accum_add_doubles(to->dist[i], from->dist[i], s->items[i].scale->nvalues);
	accum_weights_merge(s, &to->weights, &from->weights);
	accum_add_longs(to->gn, from->gn, s->ngroups);
	accum_add_longs(to->an, from->an, s->ngroups);
	for (i = 0; i < s->ngroups; i++) {
		if (to->asx[i] != NULL) {
			accum_add_doubles(to->asx[i], from->asx[i], s->groups[i]->nitems);
			accum_add_doubles(to->asx2[i], from->asx2[i], s->groups[i]->nitems);
		}
	}
	accum_add_doubles(to->ast, from->ast, s->ngroups);
	accum_add_doubles(to->ast2, from->ast2, s->ngroups);
	accum_add_longs(to->cn, from->cn, s->nsat);
	accum_add_doubles(to->cw, from->cw, s->nsat);
	accum_add_doubles(to->cw2, from->cw2, s->nsat);
	accum_add_doubles(to->cx, from->cx, s->nsat);
	accum_add_doubles(to->cm, from->cm, s->nsat);
	accum_add_doubles(to->cxx, from->cxx, s->nsat);
	accum_add_doubles(to->cmm, from->cmm, s->nsat);
	accum_add_doubles(to->cxm, from->cxm, s->nsat);

	for (h = 0; h < from->nstrata; h++) {
		const struct stratum_acc *fs = from->strata[h];
		int th = accum_stratum_get(s, to, fs->name); /* may grow to->strata */
		struct stratum_acc *ts = to->strata[th];

		ts->nsingle += fs->nsingle;
		accum_add_longs(ts->nsingle_item, fs->nsingle_item, s->nitems);
		accum_add_accs(ts->s, fs->s, K);
		accum_add_accs(ts->diag, fs->diag, 3 * (size_t)s->nitems);
		accum_add_accs(ts->m, fs->m, Ks * (Ks + 1) / 2);
		if (fs->mc != NULL) {
			if (ts->mc == NULL)
				ts->mc = xcalloc(Ks * (Ks + 1) / 2, sizeof *ts->mc);
			accum_add_longs(ts->mc, fs->mc, Ks * (Ks + 1) / 2);
			if (fs->nbits > 0)
				accum_bits_count(Ks, fs, ts->mc);
		}
	}
	while (strmap_next(from->psu_map, &pos, &key, &v)) {
		const struct psu_acc *fp = v;
		struct psu_acc *tp = strmap_get(to->psu_map, key);

		if (tp == NULL) {
			tp = xcalloc(1, sizeof *tp);
			tp->stratum = accum_stratum_get(s, to, from->strata[fp->stratum]->name);
			tp->u = xcalloc(K, sizeof *tp->u);
			strmap_put(to->psu_map, key, tp);
			to->strata[tp->stratum]->npsu_named++;
		}
		accum_add_doubles(tp->u, fp->u, K);
	}
}
