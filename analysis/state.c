/*
 * state.c: a unit's sufficient statistics as bytes, and back.
 *
 * sipas keeps one such state per (survey, unit, month, channel) in
 * PostgreSQL (sql/0004_aggregates.sql), so that indices for any range of
 * whole months are merges of states, not re-reads of rows. Merging a decoded
 * state is accum_unit_merge: exactly what adding the rows would have given,
 * up to the order of floating-point additions.
 *
 * The encoding is native (host byte order, host long double), tagged with a
 * magic, the size of long double and a hash of everything in the survey that
 * the statistics depend on (items, scales, satisfied thresholds, groups).
 * Counts are varints, and so is every array of sums that holds only whole
 * numbers, as the sums of unweighted rows do: a month of a district's
 * unweighted answers to a 49-item survey takes about 10 kB instead of 61 kB.
 * States written before (SIPASST2, SIPASST1) are read as they are.
 * A state of another shape, another machine or a damaged one is refused
 * (-1): states are a cache of the rows, which are always kept, so the caller
 * recomputes rather than guesses.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accum.h"
#include "sipas/analysis.h"
#include "sipas/util.h"

#define STATE_MAGIC "SIPASST3"
/*
 * The format before compact numbers: every long as 8 bytes, every double and
 * long double as its bytes. Read as it is.
 */
#define STATE_MAGIC_V2 "SIPASST2"
/*
 * The format before weighted item-total sums and the count of weighted rows.
 * Its states of units where every weight was 1 are read exactly (the
 * weighted sums are the plain ones, the counts of weights 1 and of weighted
 * rows follow); a weighted one is refused and must be rebuilt.
 */
#define STATE_MAGIC_V1 "SIPASST1"

/* --- writing --- */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
};

/* Room for n more bytes. */
static void
wreserve(struct wbuf *b, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
}

static void
wput(struct wbuf *b, const void *v, size_t n)
{
	wreserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void
wi64(struct wbuf *b, int64_t v)
{
	wput(b, &v, sizeof v);
}

/* v zigzagged, 7 bits a byte, low first, into out (10 bytes): its length. */
static size_t
varint_put(unsigned char *out, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (z >= 0x80) {
		out[n++] = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	out[n++] = (unsigned char)z;
	return n;
}

static void
wvar(struct wbuf *b, int64_t v)
{
	wreserve(b, 10);
	b->len += varint_put(b->p + b->len, v);
}

static void
wlongs(struct wbuf *b, const long *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		wvar(b, v[i]);
}

/*
 * Sums of unweighted rows are whole numbers (counts, sums of scale values
 * and of their products): such an array is written as varints, a few bytes
 * a number instead of 8 or 16; any other (a fraction, -0, an infinity, a
 * NaN, a magnitude of 2^53 or more) as its bytes. One byte says which.
 */
#define STATE_WHOLE_MAX 9007199254740992.0L /* 2^53 */

static int
whole_l(long double v)
{
	/*
	 * Through double, whose SSE conversions to and from int64_t are cheap
	 * (a long double's goes through the x87 unit with a change of
	 * rounding mode each time): v is whole and in range exactly when it
	 * is a double d with |d| < 2^53 and d converts to an integer and back
	 * unchanged.
	 */
	double d = (double)v;

	return (long double)d == v && fabs(d) < (double)STATE_WHOLE_MAX &&
	    d == (double)(int64_t)d && (d != 0 || !signbit(d));
}

/* Element i of an array of doubles (acc 0) or of acc_t (acc 1). */
static long double
num_at(const void *v, size_t i, int acc)
{
	return acc ? ((const acc_t *)v)[i] : ((const double *)v)[i];
}

static void
wnums(struct wbuf *b, const void *v, size_t n, int acc)
{
	size_t i;

	for (i = 0; i < n && whole_l(num_at(v, i, acc)); i++)
		;
	wput(b, i == n ? "W" : "R", 1);
	if (i < n) {
		wput(b, v, n * (acc ? sizeof(acc_t) : sizeof(double)));
		return;
	}
	/* Room for every varint at once (10 bytes at most each). */
	wreserve(b, 10 * n);
	for (i = 0; i < n; i++)
		b->len += varint_put(b->p + b->len,
		    (int64_t)(double)num_at(v, i, acc));
}

static void
wdoubles(struct wbuf *b, const double *v, size_t n)
{
	wnums(b, v, n, 0);
}

static void
waccs(struct wbuf *b, const acc_t *v, size_t n)
{
	wnums(b, v, n, 1);
}

static void
wstr(struct wbuf *b, const char *s)
{
	size_t n = strlen(s);

	wi64(b, (int64_t)n);
	wput(b, s, n);
}

/* --- reading --- */

struct rbuf {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

static void
rget(struct rbuf *b, void *v, size_t n)
{
	if (b->bad || n > b->len - b->off) {
		b->bad = 1;
		memset(v, 0, n);
		return;
	}
	memcpy(v, b->p + b->off, n);
	b->off += n;
}

static int64_t
ri64(struct rbuf *b)
{
	int64_t v;

	rget(b, &v, sizeof v);
	return v;
}

/* A varint (wvar); b->bad if cut short or longer than 10 bytes. */
static int64_t
rvar(struct rbuf *b)
{
	uint64_t z = 0;
	unsigned shift = 0;
	unsigned char c;

	do {
		if (b->bad || b->off >= b->len || shift > 63) {
			b->bad = 1;
			return 0;
		}
		c = b->p[b->off++];
		z |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* Longs: 8 bytes each before version 3, varints since. */
static void
rlongs(struct rbuf *b, long *v, size_t n, int version)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = (long)(version >= 3 ? rvar(b) : ri64(b));
}

/* The mark of a number array (wdoubles): 1 whole, 0 bytes, -1 bad. */
static int
rmark(struct rbuf *b)
{
	unsigned char c;

	rget(b, &c, 1);
	if (!b->bad && (c == 'W' || c == 'R'))
		return c == 'W';
	b->bad = 1;
	return -1;
}

/* An array wnums wrote (before version 3: its bytes). */
static void
rnums(struct rbuf *b, void *v, size_t n, int version, int acc)
{
	size_t i;

	if (version < 3 || rmark(b) == 0) {
		rget(b, v, n * (acc ? sizeof(acc_t) : sizeof(double)));
		return;
	}
	for (i = 0; i < n && !b->bad; i++) {
		if (acc)
			((acc_t *)v)[i] = (acc_t)rvar(b);
		else
			((double *)v)[i] = (double)rvar(b);
	}
}

static void
rdoubles(struct rbuf *b, double *v, size_t n, int version)
{
	rnums(b, v, n, version, 0);
}

static void
raccs(struct rbuf *b, acc_t *v, size_t n, int version)
{
	rnums(b, v, n, version, 1);
}

/* A new string of at most max bytes, or NULL (and b->bad). */
static char *
rstr(struct rbuf *b, size_t max)
{
	int64_t n = ri64(b);
	char *s;

	if (b->bad || n < 0 || (uint64_t)n > max || (size_t)n > b->len - b->off) {
		b->bad = 1;
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, b->p + b->off, (size_t)n);
	s[n] = '\0';
	b->off += (size_t)n;
	return s;
}

/* --- the survey's shape --- */

static uint64_t
fnv(uint64_t h, const void *v, size_t n)
{
	const unsigned char *p = v;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
fnv_int(uint64_t h, int64_t v)
{
	return fnv(h, &v, sizeof v);
}

/* A hash of everything in s that a state's layout and meaning depend on. */
static uint64_t
state_shape(const struct survey *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i, j;

	h = fnv_int(h, s->nitems);
	h = fnv_int(h, s->nsat);
	h = fnv_int(h, s->ngroups);
	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		h = fnv(h, it->code, strlen(it->code) + 1);
		h = fnv_int(h, it->scale->satisfied_min);
		h = fnv_int(h, it->scale->nvalues);
		for (j = 0; j < it->scale->nvalues; j++)
			h = fnv_int(h, it->scale->values[j]);
	}
	for (i = 0; i < s->ngroups; i++) {
		const struct group *g = s->groups[i];

		h = fnv(h, g->code, strlen(g->code) + 1);
		h = fnv_int(h, g->leaf);
		h = fnv_int(h, g->nitems);
		h = fnv_int(h, g->ndesc);
		for (j = 0; j < g->ndesc; j++)
			h = fnv_int(h, g->desc[j]);
	}
	return h;
}

/* --- encode / decode --- */

/* The bytes of unit u (see the top of this file). */
static void
state_encode(const struct survey *s, const struct unit_acc *u, struct wbuf *b)
{
	size_t ni = (size_t)s->nitems, K = 2 * ni, Ks = 2 * (size_t)s->nsat;
	size_t pos = 0;
	const char *key;
	void *v;
	int i, h;

	wput(b, STATE_MAGIC, 8);
	wi64(b, (int64_t)sizeof(acc_t));
	wi64(b, (int64_t)state_shape(s));
	wi64(b, u->rows);
	wi64(b, u->any_weight | u->any_stratum << 1 | u->any_psu << 2);
	wi64(b, u->nweighted);
	wlongs(b, u->n, ni);
	wlongs(b, u->x, ni);
	wdoubles(b, u->Y, ni);
	wdoubles(b, u->X, ni);
	wdoubles(b, u->W2, ni);
	for (i = 0; i < s->nitems; i++)
		wdoubles(b, u->dist[i], (size_t)s->items[i].scale->nvalues);
	/* Distinct weights: an overflowed table is kept as just the flag. */
	wi64(b, u->weights.overflow);
	wi64(b, u->weights.overflow ? 0 : u->weights.n);
	if (!u->weights.overflow) {
		wput(b, u->weights.w, (size_t)u->weights.n * sizeof *u->weights.w);
		wput(b, u->weights.cnt, (size_t)u->weights.n * K * sizeof *u->weights.cnt);
	}
	wlongs(b, u->gn, (size_t)s->ngroups);
	wlongs(b, u->an, (size_t)s->ngroups);
	for (i = 0; i < s->ngroups; i++) {
		if (u->asx[i] != NULL) {
			wdoubles(b, u->asx[i], (size_t)s->groups[i]->nitems);
			wdoubles(b, u->asx2[i], (size_t)s->groups[i]->nitems);
		}
	}
	wdoubles(b, u->ast, (size_t)s->ngroups);
	wdoubles(b, u->ast2, (size_t)s->ngroups);
	wlongs(b, u->cn, (size_t)s->nsat);
	wdoubles(b, u->cw, (size_t)s->nsat);
	wdoubles(b, u->cw2, (size_t)s->nsat);
	wdoubles(b, u->cx, (size_t)s->nsat);
	wdoubles(b, u->cm, (size_t)s->nsat);
	wdoubles(b, u->cxx, (size_t)s->nsat);
	wdoubles(b, u->cmm, (size_t)s->nsat);
	wdoubles(b, u->cxm, (size_t)s->nsat);
	wi64(b, u->nstrata);
	for (h = 0; h < u->nstrata; h++) {
		const struct stratum_acc *st = u->strata[h];
		acc_t *tmp;

		wstr(b, st->name);
		wi64(b, st->nsingle);
		wlongs(b, st->nsingle_item, ni);
		waccs(b, st->s, K);
		waccs(b, st->diag, 3 * ni);
		waccs(b, accum_stratum_m(s, st, &tmp), Ks * (Ks + 1) / 2);
		free(tmp);
	}
	wi64(b, (int64_t)strmap_count(u->psu_map));
	while (strmap_next(u->psu_map, &pos, &key, &v)) {
		const struct psu_acc *p = v;

		wstr(b, key);
		wi64(b, p->stratum);
		wdoubles(b, p->u, K);
	}
}

/*
 * Decode a state into a new accumulator, or NULL if the bytes are not a
 * whole, undamaged state of this survey's shape on this machine.
 */
static struct unit_acc *
state_decode(const struct survey *s, uint64_t shape, const void *data,
    size_t len)
{
	size_t ni = (size_t)s->nitems, K = 2 * ni, Ks = 2 * (size_t)s->nsat;
	struct rbuf b = { data, len, 0, 0 };
	struct unit_acc *u;
	char magic[8];
	int64_t flags, n, i, h;
	int v1, version;

	rget(&b, magic, 8);
	if (b.bad)
		return NULL;
	if (memcmp(magic, STATE_MAGIC, 8) == 0)
		version = 3;
	else if (memcmp(magic, STATE_MAGIC_V2, 8) == 0)
		version = 2;
	else if (memcmp(magic, STATE_MAGIC_V1, 8) == 0)
		version = 1;
	else
		return NULL;
	v1 = version == 1;
	if (ri64(&b) != (int64_t)sizeof(acc_t) ||
	    ri64(&b) != (int64_t)shape || b.bad)
		return NULL;
	u = accum_unit_create(s, "");
	u->rows = (long)ri64(&b);
	flags = ri64(&b);
	u->any_weight = (flags & 1) != 0;
	u->any_stratum = (flags & 2) != 0;
	u->any_psu = (flags & 4) != 0;
	if (v1 && u->any_weight)
		goto bad;
	u->nweighted = v1 ? 0 : (long)ri64(&b);
	rlongs(&b, u->n, ni, version);
	rlongs(&b, u->x, ni, version);
	rdoubles(&b, u->Y, ni, version);
	rdoubles(&b, u->X, ni, version);
	rdoubles(&b, u->W2, ni, version);
	for (i = 0; i < s->nitems; i++)
		rdoubles(&b, u->dist[i], (size_t)s->items[i].scale->nvalues, version);
	u->weights.overflow = ri64(&b) != 0;
	n = ri64(&b);
	if (b.bad || n < 0 || n > ACCUM_WEIGHTS_MAX || (u->weights.overflow && n != 0))
		goto bad;
	if (n > 0) {
		/* Build the same table as accumulation would, weight by weight. */
		double *w = xcalloc((size_t)n, sizeof *w);
		int *cnt = xcalloc((size_t)n * K, sizeof *cnt);
		struct unit_acc *tmp = accum_unit_create(s, "");

		rget(&b, w, (size_t)n * sizeof *w);
		rget(&b, cnt, (size_t)n * K * sizeof *cnt);
		for (i = 0; i < n && !b.bad; i++) {
			if (!(w[i] > 0))
				b.bad = 1;
		}
		if (!b.bad) {
			tmp->weights.n = (int)n;
			tmp->weights.w = w;
			tmp->weights.cnt = cnt;
			accum_weights_merge(s, &u->weights, &tmp->weights);
		} else {
			free(w);
			free(cnt);
		}
		accum_unit_free(s, tmp);
	}
	rlongs(&b, u->gn, (size_t)s->ngroups, version);
	rlongs(&b, u->an, (size_t)s->ngroups, version);
	for (i = 0; i < s->ngroups; i++) {
		if (u->asx[i] != NULL) {
			rdoubles(&b, u->asx[i], (size_t)s->groups[i]->nitems, version);
			rdoubles(&b, u->asx2[i], (size_t)s->groups[i]->nitems, version);
		}
	}
	rdoubles(&b, u->ast, (size_t)s->ngroups, version);
	rdoubles(&b, u->ast2, (size_t)s->ngroups, version);
	rlongs(&b, u->cn, (size_t)s->nsat, version);
	if (!v1) {
		rdoubles(&b, u->cw, (size_t)s->nsat, version);
		rdoubles(&b, u->cw2, (size_t)s->nsat, version);
	}
	rdoubles(&b, u->cx, (size_t)s->nsat, version);
	rdoubles(&b, u->cm, (size_t)s->nsat, version);
	rdoubles(&b, u->cxx, (size_t)s->nsat, version);
	rdoubles(&b, u->cmm, (size_t)s->nsat, version);
	rdoubles(&b, u->cxm, (size_t)s->nsat, version);
	for (i = 0; v1 && i < s->nsat; i++)
		u->cw[i] = u->cw2[i] = (double)u->cn[i];
	n = ri64(&b);
	if (b.bad || n < 0 || n > 1000000)
		goto bad;
	for (h = 0; h < n; h++) {
		char *name = rstr(&b, 1 << 20);
		struct stratum_acc *st;
		int k;

		if (name == NULL)
			goto bad;
		k = accum_stratum_get(s, u, name);
		free(name);
		if (k != h)
			goto bad; /* a stratum twice */
		st = u->strata[k];
		st->nsingle = (long)ri64(&b);
		rlongs(&b, st->nsingle_item, ni, version);
		raccs(&b, st->s, K, version);
		raccs(&b, st->diag, 3 * ni, version);
		raccs(&b, st->m, Ks * (Ks + 1) / 2, version);
		if (b.bad)
			goto bad;
	}
	n = ri64(&b);
	if (b.bad || n < 0)
		goto bad;
	for (i = 0; i < n; i++) {
		char *key = rstr(&b, 1 << 20);
		int64_t sh = ri64(&b);
		struct psu_acc *p;

		if (key == NULL || b.bad || sh < 0 || sh >= u->nstrata ||
		    strmap_get(u->psu_map, key) != NULL) {
			free(key);
			goto bad;
		}
		p = xcalloc(1, sizeof *p);
		p->stratum = (int)sh;
		p->u = xcalloc(K, sizeof *p->u);
		rdoubles(&b, p->u, K, version);
		strmap_put(u->psu_map, key, p);
		free(key);
		u->strata[sh]->npsu_named++;
	}
	if (b.bad || b.off != b.len)
		goto bad;
	return u;
bad:
	accum_unit_free(s, u);
	return NULL;
}

/* The state of unit in a (a new buffer and its length), or NULL if unknown. */
void *
analysis_state_save(const struct analysis *a, const char *unit, size_t *len)
{
	const struct unit_acc *u = analysis_unit_acc(a, unit);
	struct wbuf b = { NULL, 0, 0 };

	*len = 0;
	if (u == NULL)
		return NULL;
	state_encode(analysis_survey(a), u, &b);
	*len = b.len;
	return b.p;
}

/* Merge a state into each of the n units into[] of a (created if new), decoding it once; -1 if refused. */
int
analysis_state_merge_units(struct analysis *a, const char *const *into, int n,
    const void *data, size_t len)
{
	const struct survey *s = analysis_survey(a);
	struct state_shape_cache *shape = analysis_shape_cache(a);
	struct unit_acc *u;
	int i;

	/* The survey's shape, hashed once per analysis, not once per state. */
	if (!shape->known) {
		shape->shape = state_shape(s);
		shape->known = 1;
	}
	u = state_decode(s, shape->shape, data, len);

	if (u == NULL)
		return -1;
	for (i = 0; i < n; i++)
		accum_unit_merge(s, analysis_unit_acc_get(a, into[i]), u);
	accum_unit_free(s, u);
	return 0;
}

/* Merge a state into unit into of a (created if new); -1 if refused. */
int
analysis_state_merge(struct analysis *a, const char *into, const void *data, size_t len)
{
	return analysis_state_merge_units(a, &into, 1, data, len);
}
