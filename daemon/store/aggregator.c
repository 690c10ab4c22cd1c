/*
 * aggregator.c: sipasd's folder of the incremental aggregates
 * (sql/0004_aggregates.sql, docs/scale.md).
 *
 * Every aggregate_interval_ms, and at once again while a survey has more
 * pending responses than one fold takes, each survey is folded: in one
 * transaction on a connection of its own ("aggregate", so that no other job
 * runs inside the transaction), the survey's fold lock, up to
 * aggregate_batch pending responses (more while a backlog lasts) with the
 * states they touch (SQL_AGG_TAKE_KNOWN), the merged states written back,
 * COMMIT. A failure at any step rolls everything back (the responses stay
 * pending) and the next tick tries again. Several sipasd instances and `sipasctl aggregate` may fold
 * the same database: the lock serialises them per survey.
 *
 * The statements run on the event loop through the connection, but the
 * CPU of a fold does not: each row SQL_AGG_TAKE_KNOWN streams is copied into
 * a queue for the folder's own thread, which merges states and responses
 * (analysis/aggfold.c) and, once the take is over, encodes the new states
 * for the write. It hands the finished fold back through a pipe whose read
 * end is an event of the loop, which then commits (or rolls back). The
 * thread touches only the queue, the fold and the survey (held by the
 * tick's catalog reference); logging, metrics and the connection stay on
 * the loop. On shutdown the thread leaves the fold it is in (between two
 * rows) and is joined; the connection's close rolls the transaction back.
 *
 * Owns its connection, its timer, its thread and the fold in progress.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipas/aggfold.h"
#include "sipas/pgarray.h"
#include "sipas/response.h"
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

/* A row of SQL_AGG_TAKE_KNOWN copied for the thread: the strings sit in buf. */
struct aggregator_row {
	struct aggregator_row *next;
	char kind;
	double weight;
	const char *unit, *month, *channel, *stratum, *psu, *answers;
	const char *ids;	/* 'K': "id,id,..." */
	const void *state;
	size_t state_len;
	char buf[];
};

/*
 * A response this sipasd stored, kept until a fold takes it: folded from
 * here when its queue row is still fresh (SQL_AGG_TAKE_KNOWN), so neither
 * PostgreSQL nor the thread reads and parses it back.
 */
struct aggregator_known {
	long long id;
	struct response *resp;	  /* owned */
	const struct survey *s;	  /* it was validated against; of cache */
	struct cache *cache;	  /* a reference */
	char month[16];		  /* its Vietnam month, YYYY-MM-01 */
};

/*
 * Most responses held for the next tick: twice aggregate_batch, and never
 * more than this (as many again may be in the tick being folded).
 */
#define AGGREGATOR_KNOWN_BATCHES 2
/*
 * A tick waits this long, at most this many times, while the write
 * connection has a batch out (aggregator_tick).
 */
#define AGGREGATOR_DEFER_US 5000
#define AGGREGATOR_DEFERS 4
#define AGGREGATOR_KNOWN_MAX 100000

struct aggregator {
	struct sipasd *sd;
	struct db *db;
	struct event *ev;
	int running;		/* a tick is folding */
	int defers;		/* ticks put off in a row (AGGREGATOR_DEFERS) */
	int closing;		/* aggregator_free: the thread is gone */
	struct cache *cache;	/* held during a tick */
	size_t next;		/* survey of the tick being folded */
	struct aggfold *fold;	/* the thread's from the first row to the end */
	const struct survey *s;
	long limit;		/* responses to take in the next fold */

	/* Responses stored since the last tick began (the loop's). */
	struct aggregator_known *known;
	size_t nknown, known_cap;
	/* Those of the tick, and the fold's (its survey's, sorted by id: the
	 * thread looks them up while the take streams). */
	struct aggregator_known *tick_known;
	size_t ntick_known;
	struct aggregator_known **fold_known;
	size_t nfold_known;
	long memory_rows;	/* responses the thread folded from memory */
	long known_missing;	/* 'K' ids the thread did not hold (a bug) */
	int take_failed;	/* the take failed: its SQLSTATE and message */
	char *fail_state;
	char *fail_message;

	/* Shared with the thread, under lock. */
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct aggregator_row *head, *tail;
	int end;		/* the take is over: 1 done, -1 failed */
	int quit;

	/* The thread's results, read by the loop after the pipe says so. */
	long rows;		/* responses folded */
	long bad_rows;		/* responses with unreadable answers */
	size_t keys;		/* states written */
	struct store_agg_write *w;
	int pipe[2];
	struct event *ev_done;
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

/* Drop a write the thread prepared but the loop did not send. */
static void
aggregator_write_free(struct aggregator *ag)
{
	if (ag->w != NULL) {
		store_agg_write_discard(ag->w);
		ag->w = NULL;
	}
}

/* Free held responses. */
static void
aggregator_known_free(struct aggregator_known *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		response_free(k[i].resp);
		cache_unref(k[i].cache);
	}
	free(k);
}

/* The tick is over: let go of the snapshot and wait. */
static void
aggregator_tick_end(struct aggregator *ag)
{
	free(ag->fold_known);
	ag->fold_known = NULL;
	ag->nfold_known = 0;
	aggregator_known_free(ag->tick_known, ag->ntick_known);
	ag->tick_known = NULL;
	ag->ntick_known = 0;
	aggfold_free(ag->fold);
	ag->fold = NULL;
	aggregator_write_free(ag);
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
	metrics_aggregate(-1, 0);
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
	long rows = ag->rows;

	if (!ok) {
		aggregator_fail(ag, "commit", sqlstate, message);
		return;
	}
	metrics_aggregate(rows, ag->memory_rows);
	log_debug("aggregate: %s: %ld responses folded into %zu states",
	    ag->s->code, rows, ag->keys);
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

/* A string of a row into the copy's buffer (NULL stays NULL). */
static const char *
aggregator_row_put(char **p, const char *v)
{
	size_t len;
	char *s = *p;

	if (v == NULL)
		return NULL;
	len = strlen(v) + 1;
	memcpy(s, v, len);
	*p += len;
	return s;
}

/* One row of SQL_AGG_TAKE_KNOWN: copied and queued for the thread. */
static void
aggregator_taken_row(const struct store_agg_row *row, void *arg)
{
	struct aggregator *ag = arg;
	struct aggregator_row *r;
	const char *v[7];
	size_t size = 0;
	char *p;
	int i;

	if (row->kind == 'K') {
		if (row->ids == NULL)
			return;
	} else if (row->unit == NULL || row->month == NULL ||
	    row->channel == NULL)
		return;
	else if (row->kind != 'S' && row->answers == NULL)
		return;
	v[0] = row->unit;
	v[1] = row->month;
	v[2] = row->channel;
	v[3] = row->stratum;
	v[4] = row->psu;
	v[5] = row->kind == 'S' ? NULL : row->answers;
	v[6] = row->kind == 'K' ? row->ids : NULL;
	for (i = 0; i < 7; i++)
		size += v[i] != NULL ? strlen(v[i]) + 1 : 0;
	if (row->kind == 'S')
		size += row->state_len;
	r = xmalloc(sizeof *r + size);
	r->next = NULL;
	r->kind = row->kind;
	r->weight = row->weight;
	p = r->buf;
	r->unit = aggregator_row_put(&p, v[0]);
	r->month = aggregator_row_put(&p, v[1]);
	r->channel = aggregator_row_put(&p, v[2]);
	r->stratum = aggregator_row_put(&p, v[3]);
	r->psu = aggregator_row_put(&p, v[4]);
	r->answers = aggregator_row_put(&p, v[5]);
	r->ids = aggregator_row_put(&p, v[6]);
	r->state = NULL;
	r->state_len = 0;
	if (row->kind == 'S') {
		if (row->state_len > 0)
			memcpy(p, row->state, row->state_len);
		r->state = p;
		r->state_len = row->state_len;
	}
	pthread_mutex_lock(&ag->lock);
	if (ag->tail != NULL)
		ag->tail->next = r;
	else {
		ag->head = r;
		pthread_cond_signal(&ag->wake);
	}
	ag->tail = r;
	pthread_mutex_unlock(&ag->lock);
}

/* Free a list of copied rows. */
static void
aggregator_rows_free(struct aggregator_row *r)
{
	struct aggregator_row *next;

	for (; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
}

/* Add one new state (or stale key) to the write. */
static void
aggregator_write_one(const char *unit, const char *month, const char *channel,
    long rows, const void *state, size_t len, void *arg)
{
	store_agg_write_add(arg, unit, month, channel, rows, state, len);
}

/* Order held responses by id. */
static int
aggregator_known_cmp(const void *a, const void *b)
{
	const struct aggregator_known *x = *(const struct aggregator_known *const *)a;
	const struct aggregator_known *y = *(const struct aggregator_known *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The thread: fold held response id. The take returns only ids it was given,
 * so it is found; no id comes twice (a DELETE returns a row once).
 */
static void
aggregator_fold_known(struct aggregator *ag, long long id)
{
	size_t lo = 0, hi = ag->nfold_known, mid;
	const struct aggregator_known *k;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ag->fold_known[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ag->nfold_known || ag->fold_known[lo]->id != id) {
		/* Its queue row is gone: never commit a fold without it. */
		ag->known_missing++;
		return;
	}
	k = ag->fold_known[lo];
	aggfold_row_answers(ag->fold, k->resp->unit, k->month,
	    channel_name(k->resp->channel), k->resp->weight, k->resp->stratum,
	    k->resp->psu, k->resp->answers);
	ag->memory_rows++;
}

/* The thread: fold each held response of a 'K' row's list. */
static void
aggregator_fold_list(struct aggregator *ag, const char *ids)
{
	const char *p = ids;
	char *end;
	long long id;

	while (*p != '\0') {
		errno = 0;
		id = strtoll(p, &end, 10);
		if (end == p || errno != 0 || (*end != ',' && *end != '\0')) {
			/* Not the list the statement writes: fold nothing of it. */
			ag->known_missing++;
			return;
		}
		aggregator_fold_known(ag, id);
		p = *end == ',' ? end + 1 : end;
	}
}

/* The thread: fold queued rows; at the end of a take, prepare the write. */
static void *
aggregator_thread(void *arg)
{
	struct aggregator *ag = arg;
	struct aggregator_row *list, *r;
	int end, quit;

	for (;;) {
		pthread_mutex_lock(&ag->lock);
		while (ag->head == NULL && ag->end == 0 && !ag->quit)
			pthread_cond_wait(&ag->wake, &ag->lock);
		list = ag->head;
		ag->head = ag->tail = NULL;
		end = ag->end;
		quit = ag->quit;
		pthread_mutex_unlock(&ag->lock);
		if (quit) {
			aggregator_rows_free(list);
			break;
		}
		/* Rows queued before the end marker are all in this list. */
		for (r = list; r != NULL; r = r->next) {
			if (end < 0)
				continue;
			if (r->kind == 'S')
				aggfold_state(ag->fold, r->unit, r->month,
				    r->channel, r->state, r->state_len);
			else if (r->kind == 'K')
				aggregator_fold_list(ag, r->ids);
			else if (aggfold_row(ag->fold, r->unit, r->month,
			    r->channel, r->weight, r->stratum, r->psu,
			    r->answers) != 0)
				ag->bad_rows++;
		}
		aggregator_rows_free(list);
		if (end == 0)
			continue;
		ag->rows = aggfold_rows(ag->fold);
		ag->keys = aggfold_count(ag->fold);
		if (end > 0 && ag->rows > 0 && ag->known_missing == 0) {
			ag->w = store_agg_write_create(ag->s->code,
			    aggregator_committed, ag);
			if (ag->rows >= 50000)
				store_agg_write_analyze(ag->w);
			aggfold_each(ag->fold, aggregator_write_one, ag->w);
		}
		aggfold_free(ag->fold);
		ag->fold = NULL;
		pthread_mutex_lock(&ag->lock);
		ag->end = 0;
		pthread_mutex_unlock(&ag->lock);
		while (write(ag->pipe[1], "", 1) != 1) {
			if (errno != EINTR)
				abort();
		}
	}
	return NULL;
}

/* Everything taken: let the thread finish the fold. */
static void
aggregator_taken(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;

	if (ag->closing) {
		aggregator_fail(ag, "take", sqlstate, message);
		return;
	}
	if (!ok) {
		ag->take_failed = 1;
		ag->fail_state = sqlstate != NULL ? xstrdup(sqlstate) : NULL;
		ag->fail_message = message != NULL ? xstrdup(message) : NULL;
	}
	pthread_mutex_lock(&ag->lock);
	ag->end = ok ? 1 : -1;
	pthread_cond_signal(&ag->wake);
	pthread_mutex_unlock(&ag->lock);
}

/* The thread finished a fold: write the states back, or roll back. */
static void
aggregator_folded(evutil_socket_t fd, short what, void *arg)
{
	struct aggregator *ag = arg;
	struct store_agg_write *w;
	char c;

	(void)what;
	while (read(fd, &c, 1) == 1) {
		if (ag->take_failed) {
			ag->take_failed = 0;
			aggregator_fail(ag, "take", ag->fail_state,
			    ag->fail_message);
			free(ag->fail_state);
			free(ag->fail_message);
			ag->fail_state = ag->fail_message = NULL;
			continue;
		}
		if (ag->known_missing > 0) {
			aggregator_fail(ag, "fold", NULL, "a response the take "
			    "returned as held in memory was not held");
			continue;
		}
		if (ag->w == NULL) {
			store_agg_rollback(ag->db, aggregator_rolled_back, ag);
			continue;
		}
		w = ag->w;
		ag->w = NULL;
		store_agg_write_commit(ag->db, w);
	}
}

/* k was validated against the survey definition the tick folds now. */
static int
aggregator_known_now(const struct aggregator *ag,
    const struct aggregator_known *k)
{
	return k->cache == ag->cache && k->s == ag->s;
}

/*
 * Responses of this survey and catalog stored since the tick began join
 * the tick's: under load a batch commits during almost every tick's wait
 * and BEGIN, and its responses would otherwise be read back by the take.
 * Those of other surveys stay for the next tick. Only before a take: the
 * thread holds pointers into tick_known while one streams.
 */
static void
aggregator_known_adopt(struct aggregator *ag)
{
	size_t i, n = 0, add = 0;

	for (i = 0; i < ag->nknown; i++) {
		if (aggregator_known_now(ag, &ag->known[i]))
			add++;
	}
	if (add == 0)
		return;
	ag->tick_known = xreallocarray(ag->tick_known, ag->ntick_known + add,
	    sizeof *ag->tick_known);
	for (i = 0; i < ag->nknown; i++) {
		if (aggregator_known_now(ag, &ag->known[i]))
			ag->tick_known[ag->ntick_known++] = ag->known[i];
		else
			ag->known[n++] = ag->known[i];
	}
	ag->nknown = n;
}

/* The transaction and the lock are ours: take. */
static void
aggregator_begun(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct aggregator *ag = arg;

	struct pgarray cols[4];
	const char *known[4];
	char id[32];
	size_t i;
	int c;

	if (!ok) {
		aggregator_fail(ag, "begin", sqlstate, message);
		return;
	}
	aggregator_known_adopt(ag);
	/*
	 * The held responses of this survey, validated against this very
	 * definition (the tick's catalog); any other is left to be read.
	 */
	free(ag->fold_known);
	ag->fold_known = xreallocarray(NULL, ag->ntick_known + 1,
	    sizeof *ag->fold_known);
	ag->nfold_known = 0;
	for (i = 0; i < ag->ntick_known; i++) {
		if (aggregator_known_now(ag, &ag->tick_known[i]))
			ag->fold_known[ag->nfold_known++] = &ag->tick_known[i];
	}
	qsort(ag->fold_known, ag->nfold_known, sizeof *ag->fold_known,
	    aggregator_known_cmp);
	memset(cols, 0, sizeof cols);
	for (c = 0; c < 4; c++)
		pgarray_reset(&cols[c]);
	for (i = 0; i < ag->nfold_known; i++) {
		const struct aggregator_known *k = ag->fold_known[i];

		snprintf(id, sizeof id, "%lld", k->id);
		pgarray_add(&cols[0], id);
		pgarray_add(&cols[1], k->resp->unit);
		pgarray_add(&cols[2], k->month);
		pgarray_add(&cols[3], channel_name(k->resp->channel));
	}
	for (c = 0; c < 4; c++)
		known[c] = pgarray_text(&cols[c]);
	ag->memory_rows = 0;
	ag->known_missing = 0;
	store_agg_take(ag->db, ag->s->code, ag->limit, known,
	    aggregator_taken_row, aggregator_taken, ag);
	for (c = 0; c < 4; c++)
		pgarray_free(&cols[c]);
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
	ag->rows = 0;
	ag->keys = 0;
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
	/*
	 * A batch of the write connection may have committed with its reply
	 * not read yet: its responses are held (aggregator_keep) only once
	 * it is, and a take now would read them back instead. Give it a few
	 * milliseconds, a few times at most, so that busy ingest never stops
	 * the folding.
	 */
	if (ag->sd->db != NULL && db_busy(ag->sd->db) &&
	    ag->defers < AGGREGATOR_DEFERS) {
		struct timeval tv = { 0, AGGREGATOR_DEFER_US };

		ag->defers++;
		evtimer_add(ag->ev, &tv);
		return;
	}
	ag->defers = 0;
	ag->running = 1;
	ag->cache = cache_ref(ag->sd->cache);
	ag->tick_known = ag->known;
	ag->ntick_known = ag->nknown;
	ag->known = NULL;
	ag->nknown = ag->known_cap = 0;
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

/* Start the thread and the pipe it answers through. */
static void
aggregator_thread_start(struct aggregator *ag)
{
	if (pipe2(ag->pipe, O_CLOEXEC) != 0)
		fatal("aggregate: pipe: %s", strerror(errno));
	if (fcntl(ag->pipe[0], F_SETFL, O_NONBLOCK) != 0)
		fatal("aggregate: fcntl: %s", strerror(errno));
	ag->ev_done = event_new(ag->sd->base, ag->pipe[0], EV_READ | EV_PERSIST,
	    aggregator_folded, ag);
	event_add(ag->ev_done, NULL);
	if (pthread_create(&ag->thread, NULL, aggregator_thread, ag) != 0)
		fatal("aggregate: cannot start a thread");
	/* Its name shows in top -H and /proc/PID/task/TID/comm. */
	pthread_setname_np(ag->thread, "sipasd-fold");
	ag->started = 1;
}

/* Have the thread leave its fold and wait for it. */
static void
aggregator_thread_stop(struct aggregator *ag)
{
	if (!ag->started)
		return;
	pthread_mutex_lock(&ag->lock);
	ag->quit = 1;
	pthread_cond_signal(&ag->wake);
	pthread_mutex_unlock(&ag->lock);
	pthread_join(ag->thread, NULL);
	ag->started = 0;
	aggregator_rows_free(ag->head);
	ag->head = ag->tail = NULL;
	event_free(ag->ev_done);
	close(ag->pipe[0]);
	close(ag->pipe[1]);
}

struct aggregator *
aggregator_create(struct sipasd *sd)
{
	struct aggregator *ag = xcalloc(1, sizeof *ag);

	ag->sd = sd;
	ag->ev = evtimer_new(sd->base, aggregator_tick, ag);
	pthread_mutex_init(&ag->lock, NULL);
	pthread_cond_init(&ag->wake, NULL);
	if (sd->config->aggregate_interval_ms > 0) {
		aggregator_thread_start(ag);
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
	/* The thread first: the connection's failing jobs then end the tick here. */
	aggregator_thread_stop(ag);
	ag->closing = 1;
	if (ag->db != NULL)
		db_free(ag->db);
	event_free(ag->ev);
	aggfold_free(ag->fold);
	aggregator_write_free(ag);
	free(ag->fold_known);
	aggregator_known_free(ag->tick_known, ag->ntick_known);
	aggregator_known_free(ag->known, ag->nknown);
	free(ag->fail_state);
	free(ag->fail_message);
	cache_unref(ag->cache);
	pthread_cond_destroy(&ag->wake);
	pthread_mutex_destroy(&ag->lock);
	free(ag);
}

/* The Vietnam (UTC+7) month of t as YYYY-MM-01 (sipas_vn_month). */
static void
aggregator_vn_month(int64_t t, char out[16])
{
	time_t vn = (time_t)(t + 7 * 3600);
	struct tm tm;

	gmtime_r(&vn, &tm);
	strftime(out, 16, "%Y-%m-01", &tm);
}

int
aggregator_keep(struct aggregator *ag, long long id, struct response *resp,
    const struct survey *s, struct cache *cache, int64_t submitted_at)
{
	struct aggregator_known *k;
	size_t max;

	if (ag == NULL || ag->db == NULL || cache == NULL || s == NULL ||
	    resp->nanswers != s->nitems || submitted_at < 0 ||
	    submitted_at > (int64_t)253402300799LL)
		return 0;
	max = (size_t)ag->sd->config->aggregate_batch *
	    AGGREGATOR_KNOWN_BATCHES;
	if (max > AGGREGATOR_KNOWN_MAX)
		max = AGGREGATOR_KNOWN_MAX;
	if (ag->nknown >= max)
		return 0;
	if (ag->nknown == ag->known_cap) {
		ag->known_cap = ag->known_cap ? ag->known_cap * 2 : 1024;
		ag->known = xreallocarray(ag->known, ag->known_cap,
		    sizeof *ag->known);
	}
	k = &ag->known[ag->nknown++];
	k->id = id;
	k->resp = resp;
	k->s = s;
	k->cache = cache_ref(cache);
	aggregator_vn_month(submitted_at, k->month);
	return 1;
}
