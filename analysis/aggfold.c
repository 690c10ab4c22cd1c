/*
 * aggfold.c: merges stored states and pending responses per (unit, month,
 * channel) into the states to write back (aggfold.h). Pure computation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipas/aggfold.h"
#include "sipas/analysis.h"
#include "sipas/response.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/util.h"

struct aggfold {
	const struct survey *s;
	struct analysis *a;	/* key "unit\x1fmonth\x1fchannel" */
	/*
	 * The new responses, by the same keys but their channel's only:
	 * merged at the end into their channel's state and into the roll-up.
	 * Adding each row to both would do the row's work (a rank-one update
	 * of the cross products) twice; a merge costs a state's size once per
	 * key and fold.
	 */
	struct analysis *delta;
	struct strmap *stale;	/* keys whose stored state was unreadable */
	struct strmap *index;	/* item code -> index + 1 */
	int *answers;
	long rows;
};

struct aggfold *
aggfold_create(const struct survey *s)
{
	struct aggfold *f = xcalloc(1, sizeof *f);

	f->s = s;
	f->a = analysis_create(s, 0.95);
	f->delta = analysis_create(s, 0.95);
	f->stale = strmap_create();
	f->index = response_item_index(s);
	f->answers = xcalloc((size_t)s->nitems + 1, sizeof *f->answers);
	return f;
}

void
aggfold_free(struct aggfold *f)
{
	if (f == NULL)
		return;
	analysis_free(f->a);
	analysis_free(f->delta);
	strmap_free(f->stale);
	strmap_free(f->index);
	free(f->answers);
	free(f);
}

/* The analysis key of (unit, month, channel); caller frees. */
static char *
aggfold_key(const char *unit, const char *month, const char *channel)
{
	char *key;

	xasprintf(&key, "%s\x1f%s\x1f%s", unit, month, channel);
	return key;
}

void
aggfold_state(struct aggfold *f, const char *unit, const char *month,
    const char *channel, const void *state, size_t len)
{
	char *key = aggfold_key(unit, month, channel);

	if (analysis_state_merge(f->a, key, state, len) != 0)
		strmap_put(f->stale, key, (void *)1);
	free(key);
}

int
aggfold_row(struct aggfold *f, const char *unit, const char *month,
    const char *channel, double weight, const char *stratum, const char *psu,
    const char *answers)
{
	if (response_answers_decode(f->s, f->index, answers, strlen(answers),
	    f->answers) != 0) {
		f->rows++;
		return -1;
	}
	aggfold_row_answers(f, unit, month, channel, weight, stratum, psu,
	    f->answers);
	return 0;
}

void
aggfold_row_answers(struct aggfold *f, const char *unit, const char *month,
    const char *channel, double weight, const char *stratum, const char *psu,
    const int *answers)
{
	struct analysis_row ar;
	char *key;

	f->rows++;
	ar.weight = weight > 0 ? weight : 1;
	ar.stratum = stratum;
	ar.psu = psu;
	ar.answers = answers;
	key = aggfold_key(unit, month, channel);
	analysis_add(f->delta, key, &ar);
	free(key);
}

struct aggfold_settle_ctx {
	struct aggfold *f;
};

/* One key of the new responses into its channel's state and the roll-up. */
static void
aggfold_settle_key(const char *key, void *arg)
{
	struct aggfold *f = ((struct aggfold_settle_ctx *)arg)->f;
	const char *channel = strrchr(key, '\x1f');
	char *rollup;

	ASSERT(channel != NULL);
	analysis_merge(f->a, key, f->delta, key);
	xasprintf(&rollup, "%.*s\x1f%s", (int)(channel - key), key,
	    AGGFOLD_ALL_CHANNELS);
	analysis_merge(f->a, rollup, f->delta, key);
	free(rollup);
}

/* Merge the new responses in (once: they are dropped after). */
static void
aggfold_settle(struct aggfold *f)
{
	struct aggfold_settle_ctx c = { f };

	if (analysis_unit_count(f->delta) == 0)
		return;
	analysis_each_unit(f->delta, aggfold_settle_key, &c);
	analysis_free(f->delta);
	f->delta = analysis_create(f->s, 0.95);
}

size_t
aggfold_count(struct aggfold *f)
{
	aggfold_settle(f);
	return analysis_unit_count(f->a) + strmap_count(f->stale);
}

long
aggfold_rows(const struct aggfold *f)
{
	return f->rows;
}

struct aggfold_each_ctx {
	struct aggfold *f;
	aggfold_cb cb;
	void *arg;
	int stale_pass;
};

/* Split key into its three parts and report it. */
static void
aggfold_each_key(const char *key, void *arg)
{
	struct aggfold_each_ctx *c = arg;
	char *k = xstrdup(key), *month, *channel;
	void *state = NULL;
	size_t len = 0;

	month = strchr(k, '\x1f');
	ASSERT(month != NULL);
	channel = strchr(month + 1, '\x1f');
	ASSERT(channel != NULL);
	*month++ = '\0';
	*channel++ = '\0';
	if (c->stale_pass)
		c->cb(k, month, channel, 0, NULL, 0, c->arg);
	else if (strmap_get(c->f->stale, key) == NULL) {
		state = analysis_state_save(c->f->a, key, &len);
		c->cb(k, month, channel, analysis_unit_rows(c->f->a, key), state,
		    len, c->arg);
		free(state);
	}
	free(k);
}

/* Report the keys of the stale map. */
static void
aggfold_each_stale(struct aggfold_each_ctx *c)
{
	size_t pos = 0;
	const char *key;
	void *v;

	while (strmap_next(c->f->stale, &pos, &key, &v))
		aggfold_each_key(key, c);
}

void
aggfold_each(struct aggfold *f, aggfold_cb cb, void *arg)
{
	struct aggfold_each_ctx c = { f, cb, arg, 0 };

	aggfold_settle(f);
	analysis_each_unit(f->a, aggfold_each_key, &c);
	c.stale_pass = 1;
	aggfold_each_stale(&c);
}
