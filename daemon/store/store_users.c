/*
 * store_users.c: the SQL of people's accounts, of audit rows by a named
 * actor and of the landing page's latest day with data (store_users.h).
 *
 * Every call is one asynchronous job on the connection it is given; results
 * are copied out of the PGresult before the callback runs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon/store/db.h"
#include "daemon/store/store_users.h"
#include "sipas/sql_subtree.h"
#include "sipas/util.h"

/* A query of accounts (cb) or a count of the rows it returns (count_cb). */
struct store_users_ctx {
	store_users_cb cb;
	store_count_cb count_cb;
	void *arg;
	struct store_user *users;
	size_t n;
};

/* A column copied, or NULL for SQL NULL. */
static char *
store_users_dup(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrdup(PQgetvalue(res, row, col));
}

/* Copy the rows: login, name, role, unit, hash, disabled, changed. */
static void
store_users_result(const PGresult *res, int stmt, void *arg)
{
	struct store_users_ctx *ctx = arg;
	struct store_user *u;
	int i;

	(void)stmt;
	if (PQntuples(res) == 0)
		return;
	ctx->users = xreallocarray(ctx->users, ctx->n + (size_t)PQntuples(res),
	    sizeof *ctx->users);
	for (i = 0; i < PQntuples(res); i++) {
		u = &ctx->users[ctx->n++];
		u->login = store_users_dup(res, i, 0);
		u->name = store_users_dup(res, i, 1);
		u->role = store_users_dup(res, i, 2);
		u->unit = store_users_dup(res, i, 3);
		u->hash = store_users_dup(res, i, 4);
		u->disabled = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		u->changed = (time_t)strtoll(PQgetvalue(res, i, 6), NULL, 10);
	}
}

/* Hand the accounts over, then wipe and free them. */
static void
store_users_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	static const struct store_user none;
	struct store_users_ctx *ctx = arg;
	size_t i;

	(void)sqlstate;
	if (!ok)
		ctx->cb(NULL, 0, message, ctx->arg);
	else
		ctx->cb(ctx->users != NULL ? ctx->users : &none, ctx->n,
		    NULL, ctx->arg);
	for (i = 0; i < ctx->n; i++) {
		free(ctx->users[i].login);
		free(ctx->users[i].name);
		free(ctx->users[i].role);
		free(ctx->users[i].unit);
		if (ctx->users[i].hash != NULL) {
			explicit_bzero(ctx->users[i].hash,
			    strlen(ctx->users[i].hash));
			free(ctx->users[i].hash);
		}
	}
	free(ctx->users);
	free(ctx);
}

/* Count the rows an UPDATE ... RETURNING gave. */
static void
store_count_result(const PGresult *res, int stmt, void *arg)
{
	struct store_users_ctx *ctx = arg;

	(void)stmt;
	ctx->n += (size_t)PQntuples(res);
}

/* Report the count. */
static void
store_count_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct store_users_ctx *ctx = arg;

	(void)sqlstate;
	ctx->count_cb(ok ? (long)ctx->n : -1, ok ? NULL : message, ctx->arg);
	free(ctx);
}

/* Run a query of accounts (cb) or count the rows of an UPDATE (count_cb). */
static void
store_users_query(struct db *db, const char *sql, int n,
    const char *const *params, store_users_cb cb, store_count_cb count_cb,
    void *arg)
{
	struct store_users_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->cb = cb;
	ctx->count_cb = count_cb;
	ctx->arg = arg;
	if (cb != NULL)
		db_submit_one(db, sql, n, params, store_users_result,
		    store_users_done, ctx);
	else
		db_submit_one(db, sql, n, params, store_count_result,
		    store_count_done, ctx);
}

/* The account of login, with its hash. */
void
store_user_find(struct db *db, const char *login, store_users_cb cb, void *arg)
{
	const char *params[1] = { login };

	store_users_query(db, "SELECT login, display_name, role, unit, "
	    "password_hash, disabled_at IS NOT NULL, "
	    "floor(extract(epoch FROM password_changed_at))::bigint FROM users "
	    "WHERE login = $1", 1, params, cb, NULL, arg);
}

/* Every account, without hashes. */
void
store_users_list(struct db *db, store_users_cb cb, void *arg)
{
	store_users_query(db, "SELECT login, display_name, role, unit, "
	    "NULL::text, disabled_at IS NOT NULL, "
	    "floor(extract(epoch FROM password_changed_at))::bigint FROM users "
	    "ORDER BY login", 0, NULL, cb, NULL, arg);
}

/* Insert an account. */
void
store_user_insert(struct db *db, const char *login, const char *name,
    const char *role, const char *unit, const char *hash, store_done_cb cb,
    void *arg)
{
	const char *params[5] = { login, name != NULL ? name : "", role, unit,
		hash };

	db_submit_one(db, "INSERT INTO users (login, display_name, role, "
	    "unit, password_hash) VALUES ($1, $2, $3, $4, $5)", 5, params, NULL,
	    cb, arg);
}

/* Disable login. */
void
store_user_disable(struct db *db, const char *login, store_count_cb cb,
    void *arg)
{
	const char *params[1] = { login };

	store_users_query(db, "UPDATE users SET disabled_at = "
	    "coalesce(disabled_at, now()) WHERE login = $1 RETURNING 1", 1,
	    params, NULL, cb, arg);
}

/* A new password hash for login. */
void
store_user_set_hash(struct db *db, const char *login, const char *hash,
    store_count_cb cb, void *arg)
{
	const char *params[2] = { login, hash };

	store_users_query(db, "UPDATE users SET password_hash = $2, "
	    "password_changed_at = now() WHERE login = $1 RETURNING 1", 2,
	    params, NULL, cb, arg);
}

/* An audit row by a named actor. */
void
store_audit_actor(struct db *db, const char *actor, const char *action,
    const char *detail, store_done_cb cb, void *arg)
{
	const char *params[3] = { actor, action, detail };

	db_submit_one(db, "INSERT INTO audit_log (actor, action, detail) "
	    "VALUES ($1, $2, $3::jsonb)", 3, params, NULL, cb, arg);
}

struct store_latest_ctx {
	store_latest_cb cb;
	void *arg;
	char *day;
	long quarter_n;
	long year_n;
};

/* The one row: the day, the quarter's and the year's responses. */
static void
store_latest_result(const PGresult *res, int stmt, void *arg)
{
	struct store_latest_ctx *ctx = arg;

	(void)stmt;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return;
	ctx->day = xstrdup(PQgetvalue(res, 0, 0));
	ctx->quarter_n = atol(PQgetvalue(res, 0, 1));
	ctx->year_n = atol(PQgetvalue(res, 0, 2));
}

/* Report the latest day. */
static void
store_latest_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct store_latest_ctx *ctx = arg;

	(void)sqlstate;
	if (!ok)
		ctx->cb(NULL, 0, 0, message, ctx->arg);
	else
		ctx->cb(ctx->day, ctx->quarter_n, ctx->year_n, NULL, ctx->arg);
	free(ctx->day);
	free(ctx);
}

/* The latest day with data in unit's subtree. */
void
store_latest_day(struct db *db, const char *survey, const char *unit,
    store_latest_cb cb, void *arg)
{
	struct store_latest_ctx *ctx = xcalloc(1, sizeof *ctx);
	const char *params[2] = { survey, unit };
	struct db_job *job;

	ctx->cb = cb;
	ctx->arg = arg;
	job = db_job_create(0, store_latest_result, store_latest_done, ctx);
	/* Vietnam days: the day of the latest response at +07, its quarter
	 * and year as [first day 00:00+07, next first day 00:00+07). */
	db_job_add(job, SQL_SUBTREE("$2", "NULL::text")
	    ", l AS (SELECT (max(x.at) AT TIME ZONE '+07')::date AS day FROM sub,"
	    " LATERAL (SELECT max(submitted_at) AS at FROM responses r"
	    " WHERE r.survey = $1 AND r.unit = sub.code) x),"
	    " b AS (SELECT day, date_trunc('quarter', day)::date AS q,"
	    " date_trunc('year', day)::date AS y FROM l WHERE day IS NOT NULL)"
	    " SELECT to_char(b.day, 'YYYY-MM-DD'),"
	    " (SELECT count(*) FROM responses r WHERE r.survey = $1"
	    "  AND r.unit IN (SELECT code FROM sub)"
	    "  AND r.submitted_at >= (b.q::text || ' 00:00:00+07')::timestamptz"
	    "  AND r.submitted_at < ((b.q + interval '3 months')::date::text"
	    "  || ' 00:00:00+07')::timestamptz),"
	    " (SELECT count(*) FROM responses r WHERE r.survey = $1"
	    "  AND r.unit IN (SELECT code FROM sub)"
	    "  AND r.submitted_at >= (b.y::text || ' 00:00:00+07')::timestamptz"
	    "  AND r.submitted_at < ((b.y + interval '1 year')::date::text"
	    "  || ' 00:00:00+07')::timestamptz) FROM b", 2, params);
	db_submit(db, job);
}
