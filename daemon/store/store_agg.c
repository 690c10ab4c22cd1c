/*
 * store_agg.c: the SQL of the incremental aggregates in sipasd
 * (store_agg.h, sql/0004_aggregates.sql, include/sipas/sql_agg.h).
 *
 * Results that carry states are asked for in binary format (a state is tens
 * of kilobytes; hex text would double it); every column is text or bytea.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon/store/db.h"
#include "sipas/response.h"
#include "sipas/sql_agg.h"
#include "sipas/sql_subtree.h"
#include "daemon/store/store_agg.h"
#include "sipas/util.h"

struct store_agg_ctx {
	store_agg_row_cb row_cb;
	store_done_cb cb;
	void *arg;
};

/* A column borrowed, or NULL for SQL NULL. */
static const char *
store_agg_value(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

/* The job finished. */
static void
store_agg_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct store_agg_ctx *ctx = arg;

	if (ctx->cb != NULL)
		ctx->cb(ok, sqlstate, message, ctx->arg);
	free(ctx);
}

static struct store_agg_ctx *
store_agg_ctx_create(store_agg_row_cb row_cb, store_done_cb cb, void *arg)
{
	struct store_agg_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->row_cb = row_cb;
	ctx->cb = cb;
	ctx->arg = arg;
	return ctx;
}

/* --- the indices' fetch --- */

/*
 * Where each field of a store_agg_row is in a result: kind, unit, child,
 * at_level, month, channel, weight, stratum, psu, answers, state, id (-1: not
 * selected).
 */
enum { AGG_KIND, AGG_UNIT, AGG_CHILD, AGG_LEVEL, AGG_MONTH, AGG_CHANNEL,
	AGG_WEIGHT, AGG_STRATUM, AGG_PSU, AGG_ANSWERS, AGG_STATE, AGG_ID,
	AGG_NCOLS };

/* Every row of res through the callback, its fields found by cols. */
static void
store_agg_rows(const PGresult *res, const int cols[AGG_NCOLS],
    struct store_agg_ctx *ctx)
{
	struct store_agg_row row;
	const char *v[AGG_NCOLS];
	int i, k;

	for (i = 0; i < PQntuples(res); i++) {
		for (k = 0; k < AGG_NCOLS; k++)
			v[k] = cols[k] >= 0 ? store_agg_value(res, i, cols[k]) : NULL;
		memset(&row, 0, sizeof row);
		row.kind = v[AGG_KIND] != NULL ? v[AGG_KIND][0] : '?';
		row.unit = v[AGG_UNIT];
		row.child = v[AGG_CHILD];
		row.at_level = v[AGG_LEVEL];
		row.month = v[AGG_MONTH];
		row.channel = v[AGG_CHANNEL];
		row.weight = v[AGG_WEIGHT] != NULL ? strtod(v[AGG_WEIGHT], NULL) : 1;
		row.stratum = v[AGG_STRATUM];
		row.psu = v[AGG_PSU];
		row.answers = v[AGG_ANSWERS];
		row.state = v[AGG_STATE];
		row.state_len = row.state != NULL ?
		    (size_t)PQgetlength(res, i, cols[AGG_STATE]) : 0;
		if (row.kind == 'K') {
			row.ids = v[AGG_ID];
			row.id = -1;
		} else
			row.id = v[AGG_ID] != NULL ?
			    strtoll(v[AGG_ID], NULL, 10) : -1;
		ctx->row_cb(&row, ctx->arg);
	}
}

/* Rows of the indices' fetch: every field, in order. */
static void
store_agg_fetch_result(const PGresult *res, int stmt, void *arg)
{
	static const int cols[AGG_NCOLS] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    -1 };

	store_agg_rows(res, cols, arg);
}

/* The columns of a raw row of the fetch, the tables being r and sub. */
#define STORE_AGG_RAW \
    " SELECT 'R', r.unit, sub.child, sub.at_level, NULL, r.channel," \
    "  r.weight::text, r.stratum, r.psu, r.answers::text, NULL"

/* The first day of the month of date d (YYYY-MM-DD), shifted by add months. */
static void
store_agg_month(const char *d, int add, char out[11])
{
	int y = atoi(d), m = atoi(d + 5) - 1 + add;

	y += m >= 0 ? m / 12 : -((11 - m) / 12);
	m = ((m % 12) + 12) % 12;
	snprintf(out, 11, "%04d-%02d-01", y, m + 1);
}

/* Midnight in Vietnam at the start of date d plus add days, as a timestamptz literal. */
static void
store_agg_midnight(const char *d, int add, char out[32])
{
	time_midnight_vn(time_day_number(atoi(d), atoi(d + 5), atoi(d + 8)) +
	    add, out);
}

int
store_agg_filter_add(struct store_agg_filter *f, const char *key,
    const char *value, const char **why)
{
	size_t len = strlen(key);
	int i;

	if (len == 0 || len > STORE_AGG_FILTER_KEY_MAX ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		*why = "the field must match ^[a-z0-9_]{1,40}$";
		return -1;
	}
	if (*value == '\0' || strlen(value) > STORE_AGG_FILTER_VALUE_MAX ||
	    !utf8_valid(value, strlen(value))) {
		*why = "the value must be 1 to 100 bytes of UTF-8";
		return -1;
	}
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key) == 0) {
			*why = "the field is given twice";
			return -1;
		}
	}
	if (f->n >= STORE_AGG_FILTER_MAX) {
		*why = "at most 3 respondent filters";
		return -1;
	}
	f->key[f->n] = key;
	f->value[f->n] = value;
	f->n++;
	return 0;
}

/*
 * The raw responses of a subtree and period whose respondent matches every
 * pair of f: no state holds a subgroup, so every row of [from, to] is read
 * (the channel filter too). Fixed text; the pairs are parameters only.
 */
static void
store_agg_fetch_filtered(struct db *db, const char *survey, const char *unit,
    const char *from, const char *to, const char *level, const char *channel,
    const struct store_agg_filter *f, struct store_agg_ctx *ctx)
{
	char t0[32], t1[32];
	const char *params[6 + 2 * STORE_AGG_FILTER_MAX];
	struct db_job *job;
	int i;

	if (from != NULL)
		store_agg_midnight(from, 0, t0);
	if (to != NULL)
		store_agg_midnight(to, 1, t1);
	params[0] = survey;
	params[1] = unit;
	params[2] = level;
	params[3] = channel;
	params[4] = from != NULL ? t0 : NULL;
	params[5] = to != NULL ? t1 : NULL;
	for (i = 0; i < STORE_AGG_FILTER_MAX; i++) {
		params[6 + 2 * i] = i < f->n ? f->key[i] : NULL;
		params[7 + 2 * i] = i < f->n ? f->value[i] : NULL;
	}
	job = db_job_create(0, store_agg_fetch_result, store_agg_done, ctx);
	db_job_add(job,
	    SQL_SUBTREE("$2", "$3")
	    STORE_AGG_RAW
	    " FROM responses r JOIN sub ON r.unit = sub.code"
	    " WHERE r.survey = $1"
	    " AND ($5::timestamptz IS NULL OR r.submitted_at >= $5::timestamptz)"
	    " AND ($6::timestamptz IS NULL OR r.submitted_at < $6::timestamptz)"
	    " AND ($4::text IS NULL OR r.channel = $4)"
	    " AND ($7::text IS NULL OR r.respondent ->> $7::text = $8::text)"
	    " AND ($9::text IS NULL OR r.respondent ->> $9::text = $10::text)"
	    " AND ($11::text IS NULL OR r.respondent ->> $11::text = $12::text)",
	    6 + 2 * STORE_AGG_FILTER_MAX, params);
	db_job_single_row(job);
	db_job_binary(job);
	db_submit(db, job);
}

/*
 * Stream the states and raw rows of a subtree and period. The ranges are
 * computed here and passed as plain bounds on submitted_at, so that every
 * branch can use the (survey, unit, submitted_at) index: states for the
 * whole months first..last, raw rows for [t0, f0) and [f1, t1) (the days
 * outside whole months), and the pending rows within [f0, f1).
 */
void
store_agg_fetch(struct db *db, const char *survey, const char *unit,
    const char *from, const char *to, const char *level, const char *channel,
    const struct store_agg_filter *f, store_agg_row_cb row_cb,
    store_done_cb cb, void *arg)
{
	struct store_agg_ctx *ctx = store_agg_ctx_create(row_cb, cb, arg);
	char first[11], last[11], next[11];
	char t0[32], t1[32], f0[32], f1[32];
	const char *params[12];
	struct db_job *job;
	int states = 1;

	if (f != NULL && f->n > 0) {
		store_agg_fetch_filtered(db, survey, unit, from, to, level,
		    channel, f, ctx);
		return;
	}

	/* The whole months of from..to: first..last (month starts; NULL = open). */
	params[4] = NULL;
	params[5] = NULL;
	if (from != NULL) {
		store_agg_month(from, strcmp(from + 8, "01") == 0 ? 0 : 1, first);
		params[4] = first;
	}
	if (to != NULL) {
		store_agg_midnight(to, 1, t1);
		/* to is a month's last day when the next day is a 1st. */
		store_agg_month(to, strncmp(t1 + 8, "01", 2) == 0 ? 0 : -1, last);
		params[5] = last;
	}
	if (from != NULL && to != NULL && strcmp(first, last) > 0)
		states = 0;
	params[0] = survey;
	params[1] = unit;
	params[2] = level;
	params[3] = channel;
	params[6] = states ? "t" : "f";
	/* The raw ranges: [t0, f0) and [f1, t1); NULL bounds are open. */
	if (from != NULL)
		store_agg_midnight(from, 0, t0);
	if (!states) {
		params[7] = from != NULL ? t0 : NULL;
		params[8] = to != NULL ? t1 : NULL;
		params[9] = "t";
		params[10] = NULL;
		params[11] = NULL;
	} else {
		/* Range A: before the first whole month (none if from is open). */
		if (from != NULL)
			store_agg_midnight(first, 0, f0);
		params[7] = from != NULL ? t0 : NULL;
		params[8] = from != NULL ? f0 : NULL;
		params[9] = from != NULL ? "t" : "f";
		/* Range B: after the last whole month (none if to is open). */
		if (to != NULL) {
			store_agg_month(last, 1, next);
			store_agg_midnight(next, 0, f1);
		}
		params[10] = to != NULL ? f1 : NULL;
		params[11] = to != NULL ? t1 : NULL;
	}
	job = db_job_create(0, store_agg_fetch_result, store_agg_done, ctx);
	db_job_add(job,
	    SQL_SUBTREE("$2", "$3")
	    /* the states of the whole months */
	    " SELECT 'S', s.unit, sub.child, sub.at_level, s.month::text,"
	    "  s.channel, NULL, NULL, NULL, NULL, s.state"
	    " FROM agg_states s JOIN sub ON s.unit = sub.code"
	    " WHERE $7::boolean AND s.survey = $1"
	    " AND ($5::date IS NULL OR s.month >= $5::date)"
	    " AND ($6::date IS NULL OR s.month <= $6::date)"
	    " AND s.channel = coalesce($4::text, '*')"
	    " UNION ALL"
	    /* raw range A (or the whole range without whole months) */
	    STORE_AGG_RAW
	    " FROM responses r JOIN sub ON r.unit = sub.code"
	    " WHERE $10::boolean AND r.survey = $1"
	    " AND ($8::timestamptz IS NULL OR r.submitted_at >= $8::timestamptz)"
	    " AND ($9::timestamptz IS NULL OR r.submitted_at < $9::timestamptz)"
	    " AND ($4::text IS NULL OR r.channel = $4)"
	    " UNION ALL"
	    /* raw range B */
	    STORE_AGG_RAW
	    " FROM responses r JOIN sub ON r.unit = sub.code"
	    " WHERE $11::timestamptz IS NOT NULL AND r.survey = $1"
	    " AND r.submitted_at >= $11::timestamptz"
	    " AND r.submitted_at < $12::timestamptz"
	    " AND ($4::text IS NULL OR r.channel = $4)"
	    " UNION ALL"
	    /* responses of the whole months not folded yet */
	    STORE_AGG_RAW
	    " FROM agg_queue p JOIN responses r ON r.id = p.id"
	    "  AND r.submitted_at = p.submitted_at"
	    "  JOIN sub ON r.unit = sub.code"
	    " WHERE $7::boolean AND p.survey = $1 AND r.survey = $1"
	    " AND ($9::timestamptz IS NULL OR r.submitted_at >= $9::timestamptz)"
	    " AND ($11::timestamptz IS NULL OR r.submitted_at < $11::timestamptz)"
	    " AND ($4::text IS NULL OR r.channel = $4)",
	    12, params);
	db_job_single_row(job);
	db_job_binary(job);
	db_submit(db, job);
}

/* --- a report's fetch --- */

/* Rows of SQL_AGG_REPORT: kind, child, month or day, rows, weight, stratum, psu, answers, state. */
static void
store_agg_report_result(const PGresult *res, int stmt, void *arg)
{
	static const int cols[AGG_NCOLS] = { 0, -1, 1, -1, 2, -1, 4, 5, 6, 7, 8,
	    -1 };

	store_agg_rows(res, cols, arg);
}

/* Stream what a report's periods need (SQL_AGG_REPORT, SQL_AGG_REPORT_RAW). */
void
store_agg_report_fetch(struct db *db, const char *survey, const char *unit,
    const char *months, const char *t0, const char *t1, const char *lo,
    const char *hi, store_agg_row_cb row_cb, store_done_cb cb, void *arg)
{
	struct store_agg_ctx *ctx = store_agg_ctx_create(row_cb, cb, arg);
	const char *params[7] = { survey, unit, months, t0, t1, lo, hi };
	struct db_job *job;

	job = db_job_create(0, store_agg_report_result, store_agg_done, ctx);
	if (lo != NULL)
		db_job_add(job, SQL_AGG_REPORT_RAW, 7, params);
	else
		db_job_add(job, SQL_AGG_REPORT, 5, params);
	db_job_single_row(job);
	db_job_binary(job);
	db_submit(db, job);
}

/* --- one fold --- */

/* BEGIN and the survey's fold lock. */
void
store_agg_begin(struct db *db, const char *survey, store_done_cb cb, void *arg)
{
	const char *params[1] = { survey };
	struct db_job *job;

	job = db_job_create(1, NULL, cb, arg);
	db_job_add(job, "BEGIN", 0, NULL);
	db_job_add(job, SQL_AGG_LOCK, 1, params);
	db_submit(db, job);
}

/* Rows of SQL_AGG_TAKE_KNOWN: kind, unit, month, channel, weight, stratum, psu, answers, state, id. */
static void
store_agg_take_result(const PGresult *res, int stmt, void *arg)
{
	static const int cols[AGG_NCOLS] = { 0, 1, -1, -1, 2, 3, 4, 5, 6, 7, 8,
	    9 };

	store_agg_rows(res, cols, arg);
}

/* Take up to limit pending responses and the states they touch. */
void
store_agg_take(struct db *db, const char *survey, long limit,
    const char *const known[4], store_agg_row_cb row_cb, store_done_cb cb,
    void *arg)
{
	struct store_agg_ctx *ctx = store_agg_ctx_create(row_cb, cb, arg);
	char lim[32];
	const char *params[6] = { survey, lim, known[0], known[1], known[2],
	    known[3] };
	struct db_job *job;

	snprintf(lim, sizeof lim, "%ld", limit);
	job = db_job_create(0, store_agg_take_result, store_agg_done, ctx);
	db_job_add(job, SQL_AGG_TAKE_KNOWN, 6, params);
	db_job_continue(job);
	db_job_single_row(job);
	db_job_binary(job);
	db_submit(db, job);
}

/*
 * The statements of a write are added to their job as the states come:
 * the job copies its parameters, so the states (binary parameters, raw
 * bytes) are copied where store_agg_write_add runs (sipasd's folding
 * thread), and the loop only sends the job.
 */
struct store_agg_write {
	struct db_job *job;
	char *survey;
	int analyze;
};

struct store_agg_write *
store_agg_write_create(const char *survey, store_done_cb cb, void *arg)
{
	struct store_agg_write *w = xcalloc(1, sizeof *w);

	w->job = db_job_create(1, NULL, cb, arg);
	w->survey = xstrdup(survey);
	return w;
}

void
store_agg_write_analyze(struct store_agg_write *w)
{
	w->analyze = 1;
}

/* Upsert a state, or queue a stale key's month again. */
void
store_agg_write_add(struct store_agg_write *w, const char *unit,
    const char *month, const char *channel, long rows, const void *state,
    size_t len)
{
	char nrows[32];
	const char *params[6];
	int lengths[6] = { 0, 0, 0, 0, 0, 0 };
	int formats[6] = { 0, 0, 0, 0, 0, 1 };

	snprintf(nrows, sizeof nrows, "%ld", rows);
	params[0] = w->survey;
	params[1] = unit;
	params[2] = month;
	params[3] = channel;
	params[4] = nrows;
	if (state != NULL) {
		/* The state as raw bytes: half its hex text, nothing to decode. */
		ASSERT(len <= INT_MAX);
		params[5] = state;
		lengths[5] = (int)len;
		db_job_add_binary(w->job, "sipas_agg_upsert", SQL_AGG_UPSERT,
		    6, params, lengths, formats);
	} else
		db_job_add(w->job, SQL_AGG_REQUEUE, 4, params);
}

void
store_agg_write_discard(struct store_agg_write *w)
{
	if (w == NULL)
		return;
	db_job_discard(w->job);
	free(w->survey);
	free(w);
}

/* Everything added, then COMMIT. */
void
store_agg_write_commit(struct db *db, struct store_agg_write *w)
{
	struct db_job *job = w->job;

	/*
	 * After a large fold the planner would still count the responses it
	 * took as pending, and plan the indices' reads for them.
	 */
	if (w->analyze)
		db_job_add(job, "ANALYZE agg_pending, agg_fresh", 0, NULL);
	db_job_add(job, "COMMIT", 0, NULL);
	db_job_continue(job);
	w->job = NULL;
	store_agg_write_discard(w);
	db_submit(db, job);
}

void
store_agg_rollback(struct db *db, store_done_cb cb, void *arg)
{
	struct db_job *job = db_job_create(0, NULL, cb, arg);

	db_job_add(job, "ROLLBACK", 0, NULL);
	db_job_continue(job);
	db_submit(db, job);
}
