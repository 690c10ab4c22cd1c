/*
 * aggregator.c: sipasd's folder of the incremental aggregates
 * (sql/0004_aggregates.sql, docs/scale.md).
 *
 * Every aggregate_interval_ms, and at once again while a survey has more
 * pending responses than one fold takes, each survey is folded: in one
 * transaction on a connection of its own ("aggregate", so that no other job
 * runs inside the transaction), the survey's fold lock, up to
 * aggregate_batch pending responses (more while a backlog lasts) with the
 * states they touch
 * (SQL_AGG_TAKE), the merged states written back, COMMIT. A failure at any
 * step rolls everything back (the responses stay pending) and the next tick
 * tries again. Several sipasd instances and `sipasctl aggregate` may fold
 * the same database: the lock serialises them per survey.
 *
 * Owns its connection, its timer and the fold in progress.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sipas/aggfold.h"
#include "daemon/store/aggregator.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/sipasd.h"
#include "daemon/store/store_agg.h"
#include "sipas/survey.h"
#include "sipas/util.h"

struct aggregator {
	struct sipasd *sd;
	struct db *db;
	struct event *ev;
	int running;		/* a tick is folding */
	struct cache *cache;	/* held during a tick */
	size_t next;		/* survey of the tick being folded */
	struct aggfold *fold;
	const struct survey *s;
	long bad_rows;
	long limit;		/* responses to take in the next fold */
};

static void aggregator_step(struct aggregator *);

/* Arm the next tick. */
static void
aggregator_arm(struct aggregator *ag)
{
	long ms = ag->sd->config->aggregate_interval_ms;
	struct timeval tv;

	if (ms <= 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ag->ev, &tv);
}

/* The tick is over: let go of the snapshot and wait. */
static void
aggregator_tick_end(struct aggregator *ag)
{
	aggfold_free(ag->fold);
	ag->fold = NULL;
	ag->s = NULL;
	cache_unref(ag->cache);
	ag->cache = NULL;
	ag->running = 0;
	aggregator_arm(ag);
}

/* A step failed: the transaction is rolled back with the connection. */
static void
aggregator_fail(struct aggregator *ag, const char *what, const char *sqlstate,
    const char *message)
{
	metrics_aggregate(-1);
	log_warn("aggregate: %s of %s failed (%s): %s; the responses stay "
	    "pending", what, ag->s != NULL ? ag->s->code : "?",
	    sqlstate != NULL ? sqlstate : "?", message != NULL ? message : "");
	if (db_state(ag->db) == DB_UP)
		db_reset(ag->db, "a fold failed");
	aggregator_tick_end(ag);
}

/* The rollback of an empty fold finished: next survey. */
static void
aggregator_rolled_back(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;

	if (!ok) {
		aggregator_fail(ag, "rollback", sqlstate, message);
		return;
	}
	ag->next++;
	aggregator_step(ag);
}

/* The new states are committed: same survey again if it had more. */
static void
aggregator_committed(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;
	long rows = aggfold_rows(ag->fold);

	if (!ok) {
		aggregator_fail(ag, "commit", sqlstate, message);
		return;
	}
	metrics_aggregate(rows);
	log_debug("aggregate: %s: %ld responses folded into %zu states",
	    ag->s->code, rows, aggfold_count(ag->fold));
	if (ag->bad_rows > 0)
		log_warn("aggregate: %s: %ld stored responses with unreadable "
		    "answers left out", ag->s->code, ag->bad_rows);
	/*
	 * A full fold means a backlog (an import): take four times more next
	 * time, up to 1,000,000. Every fold reads and writes the states it
	 * touches, so fewer, larger folds cost less; memory grows with the
	 * states, not with the rows (they stream).
	 */
	if (rows < ag->limit) {
		ag->next++;
		ag->limit = ag->sd->config->aggregate_batch;
	} else if (ag->limit < 1000000)
		ag->limit = ag->limit * 4 < 1000000 ? ag->limit * 4 : 1000000;
	aggregator_step(ag);
}

/* Add one new state (or stale key) to the write. */
static void
aggregator_write_one(const char *unit, const char *month, const char *channel,
    long rows, const void *state, size_t len, void *arg)
{
	store_agg_write_add(arg, unit, month, channel, rows, state, len);
}

/* One row of SQL_AGG_TAKE. */
static void
aggregator_taken_row(const struct store_agg_row *row, void *arg)
{
	struct aggregator *ag = arg;

	if (row->unit == NULL || row->month == NULL || row->channel == NULL)
		return;
	if (row->kind == 'S')
		aggfold_state(ag->fold, row->unit, row->month, row->channel,
		    row->state, row->state_len);
	else if (row->answers != NULL &&
	    aggfold_row(ag->fold, row->unit, row->month, row->channel,
	    row->weight, row->stratum, row->psu, row->answers) != 0)
		ag->bad_rows++;
}

/* Everything taken: write the states back, or roll back if nothing was pending. */
static void
aggregator_taken(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;
	struct store_agg_write *w;

	if (!ok) {
		aggregator_fail(ag, "take", sqlstate, message);
		return;
	}
	if (aggfold_rows(ag->fold) == 0) {
		store_agg_rollback(ag->db, aggregator_rolled_back, ag);
		return;
	}
	w = store_agg_write_create(ag->s->code);
	if (aggfold_rows(ag->fold) >= 50000)
		store_agg_write_analyze(w);
	aggfold_each(ag->fold, aggregator_write_one, w);
	store_agg_write_commit(ag->db, w, aggregator_committed, ag);
}

/* The transaction and the lock are ours: take. */
static void
aggregator_begun(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;

	if (!ok) {
		aggregator_fail(ag, "begin", sqlstate, message);
		return;
	}
	store_agg_take(ag->db, ag->s->code, ag->limit,
	    aggregator_taken_row, aggregator_taken, ag);
}

/* Fold survey ag->next, or end the tick after the last. */
static void
aggregator_step(struct aggregator *ag)
{
	const struct survey *const *surveys;
	size_t n;

	aggfold_free(ag->fold);
	ag->fold = NULL;
	surveys = cache_surveys(ag->cache, &n);
	if (ag->next >= n || ag->sd->draining || db_state(ag->db) != DB_UP) {
		aggregator_tick_end(ag);
		return;
	}
	ag->s = surveys[ag->next];
	ag->fold = aggfold_create(ag->s);
	ag->bad_rows = 0;
	store_agg_begin(ag->db, ag->s->code, aggregator_begun, ag);
}

/* The timer: start a tick when the connection and the catalog are there. */
static void
aggregator_tick(evutil_socket_t fd, short what, void *arg)
{
	struct aggregator *ag = arg;

	if (ag->running)
		return;
	if (db_state(ag->db) != DB_UP || ag->sd->cache == NULL ||
	    ag->sd->draining) {
		aggregator_arm(ag);
		return;
	}
	ag->running = 1;
	ag->cache = cache_ref(ag->sd->cache);
	ag->next = 0;
	ag->limit = ag->sd->config->aggregate_batch;
	aggregator_step(ag);
}

/* Connection state changes: a new connection starts a tick soon. */
static void
aggregator_db_state(struct db *db, enum db_state state, void *arg)
{
	struct aggregator *ag = arg;

	if (state == DB_UP && !ag->running) {
		evtimer_del(ag->ev);
		aggregator_arm(ag);
	}
}

struct aggregator *
aggregator_create(struct sipasd *sd)
{
	struct aggregator *ag = xcalloc(1, sizeof *ag);

	ag->sd = sd;
	ag->ev = evtimer_new(sd->base, aggregator_tick, ag);
	if (sd->config->aggregate_interval_ms > 0) {
		ag->db = db_create(sd->base, "aggregate", sd->config->db,
		    aggregator_db_state, ag);
		db_backoff_set(ag->db, sd->config->reconnect_min_ms,
		    sd->config->reconnect_max_ms);
		db_connect(ag->db);
	}
	return ag;
}

void
aggregator_free(struct aggregator *ag)
{
	if (ag == NULL)
		return;
	if (ag->db != NULL)
		db_free(ag->db);
	event_free(ag->ev);
	aggfold_free(ag->fold);
	cache_unref(ag->cache);
	free(ag);
}
