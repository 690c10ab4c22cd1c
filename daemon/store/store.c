/*
 * store.c: the only SQL text in sipasd, always sent with parameters.
 *
 * Owns the statements and the conversion of their results into plain C
 * values for the callers' callbacks. Must not decide HTTP statuses or hold a
 * PGresult past a db callback.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon/store/db.h"
#include "sipas/pgarray.h"
#include "sipas/sql_export.h"
#include "sipas/sql_insert.h"
#include "daemon/store/store.h"
#include "sipas/util.h"

/* A column as a new string, or NULL for SQL NULL. */
static char *
store_value_dup(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrdup(PQgetvalue(res, row, col));
}

/* A column borrowed, or NULL for SQL NULL. */
static const char *
store_value(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

/* --- schema version --- */

struct store_version_ctx {
	store_version_cb cb;
	void *arg;
	int version;
};

/* The version row. */
static void
store_version_result(const PGresult *res, int stmt, void *arg)
{
	struct store_version_ctx *ctx = arg;

	if (PQntuples(res) == 1)
		ctx->version = atoi(PQgetvalue(res, 0, 0));
}

/* Report the version; a missing table (42P01) means an empty database. */
static void
store_version_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_version_ctx *ctx = arg;

	if (ok)
		ctx->cb(ctx->version, NULL, ctx->arg);
	else if (sqlstate != NULL && strcmp(sqlstate, "42P01") == 0)
		ctx->cb(0, NULL, ctx->arg);
	else
		ctx->cb(-1, message, ctx->arg);
	free(ctx);
}

/* Ask for the schema version. */
void
store_schema_version(struct db *db, store_version_cb cb, void *arg)
{
	struct store_version_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;

	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_version_result, store_version_done, ctx);
	db_job_add(job, "SELECT coalesce(max(version), 0) FROM schema_version",
	    0, NULL);
	db_submit(db, job);
}

/* --- catalog: units and surveys --- */

struct store_catalog_ctx {
	store_catalog_cb cb;
	void *arg;
	struct store_catalog *cat;
};

/*
 * Copy the units (statement 0) or surveys (statement 1). Rows are appended:
 * a statement's rows may come in several results (single-row mode).
 */
static void
store_catalog_result(const PGresult *res, int stmt, void *arg)
{
	struct store_catalog_ctx *ctx = arg;
	struct store_catalog *cat = ctx->cat;
	struct store_unit *u;
	struct store_survey *sv;
	int i, n = PQntuples(res);

	if (stmt == 0) {
		cat->units = xreallocarray(cat->units, cat->nunits + (size_t)n +
		    1, sizeof *cat->units);
		for (i = 0; i < n; i++) {
			u = &cat->units[cat->nunits++];
			u->code = store_value_dup(res, i, 0);
			u->parent = store_value_dup(res, i, 1);
			u->level = store_value_dup(res, i, 2);
			u->name = store_value_dup(res, i, 3);
		}
	} else if (stmt == 1) {
		cat->surveys = xreallocarray(cat->surveys, cat->nsurveys +
		    (size_t)n + 1, sizeof *cat->surveys);
		for (i = 0; i < n; i++) {
			sv = &cat->surveys[cat->nsurveys++];
			sv->code = store_value_dup(res, i, 0);
			sv->definition = store_value_dup(res, i, 1);
		}
	}
}

/* Hand the catalog over, or the failure. */
static void
store_catalog_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_catalog_ctx *ctx = arg;

	if (!ok) {
		store_catalog_free(ctx->cat);
		ctx->cb(NULL, message, ctx->arg);
	} else
		ctx->cb(ctx->cat, NULL, ctx->arg);
	free(ctx);
}

/* Load every unit and survey (one pipeline, one round trip). */
void
store_catalog_load(struct db *db, store_catalog_cb cb, void *arg)
{
	struct store_catalog_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;

	ctx->cb = cb;
	ctx->arg = arg;
	ctx->cat = xcalloc(1, sizeof *ctx->cat);
	job = db_job_create(1, store_catalog_result, store_catalog_done, ctx);
	db_job_add(job, "SELECT code, parent, level, name FROM units", 0, NULL);
	db_job_add(job, "SELECT code, definition::text FROM surveys", 0, NULL);
	db_submit(db, job);
}

/* Free a catalog; NULL-safe. */
void
store_catalog_free(struct store_catalog *cat)
{
	size_t i;

	if (cat == NULL)
		return;
	for (i = 0; i < cat->nunits; i++) {
		free(cat->units[i].code);
		free(cat->units[i].parent);
		free(cat->units[i].level);
		free(cat->units[i].name);
	}
	for (i = 0; i < cat->nsurveys; i++) {
		free(cat->surveys[i].code);
		free(cat->surveys[i].definition);
	}
	free(cat->units);
	free(cat->surveys);
	free(cat);
}

/* --- tokens --- */

struct store_token_ctx {
	store_token_cb cb;
	void *arg;
	int found;
	int revoked;
	char *role;
	char *unit;
};

/* The token's row, if any. */
static void
store_token_result(const PGresult *res, int stmt, void *arg)
{
	struct store_token_ctx *ctx = arg;

	if (PQntuples(res) != 1)
		return;
	ctx->found = 1;
	ctx->role = store_value_dup(res, 0, 0);
	ctx->unit = store_value_dup(res, 0, 1);
	ctx->revoked = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
}

/* Report the token. */
static void
store_token_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct store_token_ctx *ctx = arg;
	struct store_token t;

	if (!ok)
		ctx->cb(NULL, message, ctx->arg);
	else {
		t.found = ctx->found;
		t.revoked = ctx->revoked;
		t.role = ctx->role;
		t.unit = ctx->unit;
		ctx->cb(&t, NULL, ctx->arg);
	}
	free(ctx->role);
	free(ctx->unit);
	free(ctx);
}

/* Look a token up by its hash. */
void
store_token_find(struct db *db, const char *hash, store_token_cb cb, void *arg)
{
	struct store_token_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;
	const char *params[1] = { hash };

	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_token_result, store_token_done, ctx);
	db_job_add(job, "SELECT role, unit, revoked_at IS NOT NULL "
	    "FROM tokens WHERE hash = $1", 1, params);
	db_submit(db, job);
}

/* --- the batch insert --- */

/*
 * A batch in one statement (include/sipas/sql_insert.h): insert each row
 * unless its (survey, source id) exists, and say what happened to each, in
 * order; two copies of one id in the batch are told apart too.
 */
static const char store_insert_sql[] = SQL_RESPONSE_BATCH;

struct store_batch_ctx {
	struct store_row **rows;
	int n;
	store_done_cb cb;
	void *arg;
	enum store_outcome *outcomes;
	long long *ids;
};

/* The outcomes of the batch's statement (1; 0 is BEGIN, 2 COMMIT). */
static void
store_batch_result(const PGresult *res, int stmt, void *arg)
{
	struct store_batch_ctx *ctx = arg;
	const char *what;
	int i;

	if (stmt != 1 || PQntuples(res) != ctx->n)
		return;
	for (i = 0; i < ctx->n; i++) {
		if (PQgetisnull(res, i, 0))
			continue; /* claimed by a concurrent commit: stays pending */
		what = PQgetvalue(res, i, 0);
		if (strcmp(what, "inserted") == 0)
			ctx->outcomes[i] = STORE_INSERTED;
		else if (strcmp(what, "duplicate") == 0)
			ctx->outcomes[i] = STORE_DUPLICATE;
		else
			ctx->outcomes[i] = STORE_CONFLICT;
		ctx->ids[i] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
}

/* The batch committed (or not): publish the outcomes. */
static void
store_batch_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct store_batch_ctx *ctx = arg;
	int i;

	if (ok) {
		for (i = 0; i < ctx->n; i++) {
			if (ctx->outcomes[i] == STORE_PENDING) {
				/* Lost a race with another writer's commit. */
				ok = 0;
				sqlstate = "40001";
				message = "concurrent insert of the same id";
				break;
			}
		}
	}
	if (ok) {
		for (i = 0; i < ctx->n; i++) {
			ctx->rows[i]->outcome = ctx->outcomes[i];
			ctx->rows[i]->id = ctx->ids[i];
		}
	}
	ctx->cb(ok, sqlstate, message, ctx->arg);
	free(ctx->outcomes);
	free(ctx->ids);
	free(ctx);
}

/*
 * Insert rows in one transaction: BEGIN, one statement, COMMIT, one pipeline.
 * The columns go as arrays in binary form: the server copies each element
 * instead of parsing a literal of the whole batch.
 */
void
store_batch_insert(struct db *db, struct store_row **rows, int n,
    store_done_cb cb, void *arg)
{
	struct store_batch_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct pgarray cols[SQL_RESPONSE_BATCH_NPARAMS];
	const char *params[SQL_RESPONSE_BATCH_NPARAMS];
	int lengths[SQL_RESPONSE_BATCH_NPARAMS];
	int formats[SQL_RESPONSE_BATCH_NPARAMS];
	struct db_job *job;
	struct store_row *r;
	int i;

	ctx->rows = rows;
	ctx->n = n;
	ctx->cb = cb;
	ctx->arg = arg;
	ctx->outcomes = xcalloc((size_t)n, sizeof *ctx->outcomes);
	ctx->ids = xcalloc((size_t)n, sizeof *ctx->ids);
	memset(cols, 0, sizeof cols);
	for (i = 0; i < SQL_RESPONSE_BATCH_NPARAMS; i++)
		pgarray_reset_binary(&cols[i], SQL_RESPONSE_BATCH_FLOAT(i) ?
		    PGARRAY_FLOAT8 : PGARRAY_TEXT);
	for (i = 0; i < n; i++) {
		r = rows[i];
		pgarray_add_text(&cols[0], r->survey);
		pgarray_add_text(&cols[1], r->unit);
		pgarray_add_text(&cols[2], r->source_id);
		pgarray_add_float8(&cols[3], (double)r->submitted_at);
		pgarray_add_text(&cols[4], r->channel);
		pgarray_add_float8(&cols[5], r->weight);
		pgarray_add_text(&cols[6], r->stratum);
		pgarray_add_text(&cols[7], r->psu);
		pgarray_add_text(&cols[8], r->answers);
		pgarray_add_text(&cols[9], r->respondent);
		pgarray_add_text(&cols[10], r->hash);
	}
	for (i = 0; i < SQL_RESPONSE_BATCH_NPARAMS; i++) {
		params[i] = pgarray_binary(&cols[i], &lengths[i]);
		formats[i] = 1;
	}
	job = db_job_create(1, store_batch_result, store_batch_done, ctx);
	db_job_add(job, "BEGIN", 0, NULL);
	db_job_add_binary(job, "sipas_response_batch", store_insert_sql,
	    SQL_RESPONSE_BATCH_NPARAMS, params, lengths, formats);
	db_job_add(job, "COMMIT", 0, NULL);
	for (i = 0; i < SQL_RESPONSE_BATCH_NPARAMS; i++)
		pgarray_free(&cols[i]);
	db_submit(db, job);
}

/* --- the audit log --- */

/* Append one row to the audit log, its actor the token's name. */
void
store_audit_append(struct db *db, const char *token_hash, const char *action,
    const char *detail, store_done_cb cb, void *arg)
{
	const char *params[3] = { token_hash, action, detail };
	struct db_job *job;

	job = db_job_create(0, NULL, cb, arg);
	db_job_add(job,
	    "INSERT INTO audit_log (actor, action, detail) VALUES (coalesce("
	    "(SELECT coalesce(nullif(name, ''), 'token #' || id) FROM tokens"
	    " WHERE hash = $1), CASE WHEN $1 LIKE 'user:%' THEN $1 END, "
	    "'unknown'), $2, $3::jsonb)", 3, params);
	db_submit(db, job);
}

/* --- the uploads of the audit log (the upload page) --- */

struct store_uploads_ctx {
	store_upload_cb cb;
	void *arg;
};

/* A text cell as a number (0 when NULL). */
static long
store_cell_long(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 :
	    strtol(PQgetvalue(res, row, col), NULL, 10);
}

/* Hand each upload on. */
static void
store_uploads_result(const PGresult *res, int stmt, void *arg)
{
	struct store_uploads_ctx *ctx = arg;
	struct store_upload up;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		up.at = PQgetvalue(res, i, 0);
		up.actor = PQgetvalue(res, i, 1);
		up.survey = PQgetvalue(res, i, 2);
		up.scope = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
		up.rows = store_cell_long(res, i, 4);
		up.stored = store_cell_long(res, i, 5);
		up.duplicates = store_cell_long(res, i, 6);
		up.conflicts = store_cell_long(res, i, 7);
		up.rejected = store_cell_long(res, i, 8);
		up.complete = strcmp(PQgetvalue(res, i, 9), "t") == 0;
		ctx->cb(&up, 1, NULL, ctx->arg);
	}
}

/* The end of the list. */
static void
store_uploads_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_uploads_ctx *ctx = arg;

	ctx->cb(NULL, ok, message, ctx->arg);
	free(ctx);
}

/* The latest uploads within scope. */
void
store_uploads_recent(struct db *db, const char *scope, int limit,
    store_upload_cb cb, void *arg)
{
	struct store_uploads_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct db_job *job;
	char lim[16];
	const char *params[2] = { scope, lim };

	snprintf(lim, sizeof lim, "%d", limit);
	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_uploads_result, store_uploads_done, ctx);
	db_job_add(job,
	    "WITH RECURSIVE sub (code) AS (SELECT code FROM units WHERE code = $1"
	    " UNION ALL SELECT u.code FROM units u JOIN sub ON u.parent = sub.code)"
	    " SELECT to_char(at AT TIME ZONE 'UTC' + interval '7 hours',"
	    " 'DD/MM/YYYY HH24:MI'), actor, coalesce(detail->>'survey', ''),"
	    " detail->>'scope', detail->>'rows', detail->>'stored',"
	    " detail->>'duplicates', detail->>'conflicts', detail->>'rejected',"
	    " coalesce((detail->>'complete')::boolean, false)"
	    " FROM audit_log WHERE action = 'upload' AND ($1::text IS NULL OR"
	    " detail->>'scope' IN (SELECT code FROM sub))"
	    " ORDER BY id DESC LIMIT $2::int", 2, params);
	db_submit(db, job);
}

/* --- ping --- */

/* SELECT 1. */
void
store_ping(struct db *db, store_done_cb cb, void *arg)
{
	struct db_job *job;

	job = db_job_create(0, NULL, cb, arg);
	db_job_add(job, "SELECT 1", 0, NULL);
	db_submit(db, job);
}

/* store_read_lag's query and answer. */
struct store_lag_ctx {
	store_lag_cb cb;
	void *arg;
	int seen;
	int standby;
	double lag_s;
};

static void
store_read_lag_row(const PGresult *res, int stmt, void *arg)
{
	struct store_lag_ctx *c = arg;

	if (PQntuples(res) != 1)
		return;
	c->seen = 1;
	c->standby = strcmp(PQgetvalue(res, 0, 0), "true") == 0;
	c->lag_s = PQgetisnull(res, 0, 1) ? 0 : strtod(PQgetvalue(res, 0, 1),
	    NULL);
	if (c->lag_s < 0)
		c->lag_s = 0;
}

static void
store_read_lag_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_lag_ctx *c = arg;

	c->cb(ok && c->seen, c->standby, c->lag_s, c->arg);
	free(c);
}

void
store_read_lag(struct db *db, store_lag_cb cb, void *arg)
{
	struct store_lag_ctx *c = xcalloc(1, sizeof *c);
	struct db_job *job;

	c->cb = cb;
	c->arg = arg;
	job = db_job_create(0, store_read_lag_row, store_read_lag_done, c);
	/*
	 * A standby that has replayed everything it received is as current
	 * as its primary lets it be; otherwise its data are as old as the
	 * last commit it replayed.
	 */
	db_job_add(job, "SELECT pg_is_in_recovery()::text, "
	    "CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() "
	    "IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 ELSE "
	    "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) "
	    "END::text", 0, NULL);
	db_submit(db, job);
}

/* --- the responses CSV export (GET /api/v1/export) --- */

/*
 * The selection of an export, as sipasctl export has it (ctl/ctl_db.c): survey
 * $1, unit $2's subtree, Vietnam days $3..$4 inclusive, channel $5 (NULL:
 * any). Each statement bounds the ids as well.
 */

struct store_export_head_ctx {
	store_export_head_cb cb;
	void *arg;
	char **keys;
	size_t nkeys;
	long long last_id;
};

/* Rows (highest id, key): one per key, or one with a NULL key when none. */
static void
store_export_head_result(const PGresult *res, int stmt, void *arg)
{
	struct store_export_head_ctx *ctx = arg;
	int i, n = PQntuples(res);

	ctx->keys = xreallocarray(ctx->keys, ctx->nkeys + (size_t)n + 1,
	    sizeof *ctx->keys);
	for (i = 0; i < n; i++) {
		ctx->last_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (!PQgetisnull(res, i, 1))
			ctx->keys[ctx->nkeys++] = xstrdup(PQgetvalue(res, i, 1));
	}
}

/* Hand the head over, or the failure. */
static void
store_export_head_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_export_head_ctx *ctx = arg;
	size_t i;

	if (ok) {
		if (ctx->keys == NULL)
			ctx->keys = xcalloc(1, sizeof *ctx->keys);
		ctx->cb(ctx->keys, ctx->nkeys, ctx->last_id, NULL, NULL,
		    ctx->arg);
	}
	else
		ctx->cb(NULL, 0, 0, sqlstate, message, ctx->arg);
	for (i = 0; i < ctx->nkeys; i++)
		free(ctx->keys[i]);
	free(ctx->keys);
	free(ctx);
}

/*
 * The highest response id now, and the demographic keys of the selection up
 * to it, sorted: one statement, so one snapshot.
 */
void
store_export_head(struct db *db, const struct store_export_filter *f,
    store_export_head_cb cb, void *arg)
{
	struct store_export_head_ctx *ctx = xcalloc(1, sizeof *ctx);
	const char *params[5] = { f->survey, f->unit, f->from, f->to,
		f->channel };
	struct db_job *job;

	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_export_head_result, store_export_head_done,
	    ctx);
	db_job_add(job,
	    "WITH last AS (SELECT coalesce(max(id), 0) AS id FROM responses)"
	    " SELECT last.id, x.k FROM last LEFT JOIN (SELECT DISTINCT"
	    "  jsonb_object_keys(r.respondent) AS k" SQL_EXPORT_WHERE
	    "  AND jsonb_typeof(r.respondent) = 'object'"
	    "  AND r.id <= (SELECT id FROM last)) x ON true ORDER BY x.k",
	    5, params);
	db_submit(db, job);
}

struct store_export_page_ctx {
	store_export_row_cb row_cb;
	store_done_cb cb;
	void *arg;
};

/* One row (single-row mode) or the empty final result. */
static void
store_export_page_result(const PGresult *res, int stmt, void *arg)
{
	struct store_export_page_ctx *ctx = arg;
	struct store_export_row row;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		row.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		row.r.id = store_value(res, i, 1);
		row.r.unit = PQgetvalue(res, i, 2);
		row.r.submitted_at = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		row.r.channel = PQgetvalue(res, i, 4);
		row.r.weight = strtod(PQgetvalue(res, i, 5), NULL);
		row.r.stratum = store_value(res, i, 6);
		row.r.psu = store_value(res, i, 7);
		row.r.answers = PQgetvalue(res, i, 8);
		row.r.respondent = store_value(res, i, 9);
		ctx->row_cb(&row, ctx->arg);
	}
}

/* The page was delivered (or the fetch failed). */
static void
store_export_page_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_export_page_ctx *ctx = arg;

	ctx->cb(ok, sqlstate, message, ctx->arg);
	free(ctx);
}

/* Stream the next at most limit rows of the selection after id after, by id. */
void
store_export_page(struct db *db, const struct store_export_filter *f,
    long long last_id, long long after, long limit, store_export_row_cb row_cb,
    store_done_cb cb, void *arg)
{
	struct store_export_page_ctx *ctx = xcalloc(1, sizeof *ctx);
	char last[24], from[24], lim[24];
	const char *params[8] = { f->survey, f->unit, f->from, f->to,
		f->channel, last, from, lim };
	struct db_job *job;

	snprintf(last, sizeof last, "%lld", last_id);
	snprintf(from, sizeof from, "%lld", after);
	snprintf(lim, sizeof lim, "%ld", limit);
	ctx->row_cb = row_cb;
	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_export_page_result, store_export_page_done,
	    ctx);
	/*
	 * The page's ids first, then their columns: whatever the plan, only
	 * the rows of the page are converted to text. By the primary key, a
	 * page starts where the last one ended, so the pages read the
	 * selection once.
	 */
	db_job_add(job, "SELECT r.id, r.source_id, r.unit,"
	    " extract(epoch FROM r.submitted_at)::bigint, r.channel, r.weight,"
	    " r.stratum, r.psu, r.answers::text, r.respondent::text"
	    " FROM responses r JOIN (SELECT r.id" SQL_EXPORT_WHERE
	    "  AND r.id <= $6::bigint AND r.id > $7::bigint"
	    "  ORDER BY r.id LIMIT $8) page ON page.id = r.id ORDER BY r.id",
	    8, params);
	db_job_single_row(job);
	db_submit(db, job);
}
