/*
 * db.c: the only libpq connection code of sipasd.
 *
 * Each struct db owns one PGconn, its socket events and a FIFO of jobs. Must not contain
 * SQL text (store.c) or know what a job is for.
 *
 * States: DOWN --(retry timer)--> CONNECTING --(PQconnectPoll OK)--> UP.
 * Any failure of the connection itself goes back to DOWN: the running job and
 * every queued job fail with 08006, and a retry is armed after the current
 * backoff, which doubles from reconnect_min_ms up to reconnect_max_ms (with
 * some jitter) and is reset by a successful connection.
 *
 * A job that fails inside an explicit transaction leaves it aborted (a
 * pipeline sync does not end a BEGIN block): the next job is preceded by a
 * ROLLBACK so the connection is clean again; so is a job that finds a
 * transaction left open, unless it was made to continue it
 * (db_job_continue: a transaction across jobs, on a connection whose jobs
 * all come from one owner).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "sipas/pgconn.h"
#include "sipas/util.h"

#define DB_SQLSTATE_LOST "08006"
/* read_only_sql_transaction: a write reached a standby. */
#define DB_SQLSTATE_READ_ONLY "25006"

struct db_stmt {
	const char *sql;
	const char *name; /* a prepared statement's name, or NULL */
	int nparams;
	char **params;
	int *lengths;	/* NULL, or with formats: each binary parameter's size */
	int *formats;	/* NULL (all text), or 1 for a binary parameter */
};

/* What the server answers, in order, for one sent job (pipeline mode). */
struct db_sent {
	int stmt;    /* the job's statement */
	int prepare; /* the PQsendPrepare of its name, not the statement */
};

/* Most distinct prepared statements per connection. */
#define DB_PREPARED_MAX 16

struct db_job {
	TAILQ_ENTRY(db_job) entry;
	int pipeline;
	int single_row;
	int binary;	/* results in binary format */
	int cont;	/* continues the open transaction of the previous job */
	struct db_stmt *stmts;
	int nstmts;
	struct db_sent *sent; /* pipeline: each query sent, prepares included */
	int nsent;
	int cur;	/* statement (pipeline: sent query) whose results are arriving */
	int failed;
	char sqlstate[6];
	char *message;
	int internal;	/* our own ROLLBACK */
	db_result_cb on_result;
	db_done_cb on_done;
	void *arg;
};

TAILQ_HEAD(db_jobs, db_job);

struct db {
	struct event_base *base;
	char *label;
	char *conninfo;
	PGconn *conn;
	enum db_state state;
	int fd;
	struct event *ev_io;	/* connecting: one-shot; up: persistent read */
	struct event *ev_write; /* up: one-shot, while output is pending */
	struct event *ev_retry;
	struct event *ev_kick;	/* run or fail queued jobs on the next turn */
	struct db_jobs queue;
	struct db_job *current;
	const char *prepared[DB_PREPARED_MAX]; /* names prepared on this connection */
	int nprepared;
	long backoff_min;
	long backoff_max;
	long backoff;
	int closing;
	db_state_cb on_state;
	void *arg;
};

static void db_io(evutil_socket_t, short, void *);
static void db_lost(struct db *, const char *);
static void db_next(struct db *);

/* Free a job. */
static void
db_job_free(struct db_job *job)
{
	int i, j;

	for (i = 0; i < job->nstmts; i++) {
		for (j = 0; j < job->stmts[i].nparams; j++)
			free(job->stmts[i].params[j]);
		free(job->stmts[i].params);
		free(job->stmts[i].lengths);
		free(job->stmts[i].formats);
	}
	free(job->stmts);
	free(job->sent);
	free(job->message);
	free(job);
}

/* A new job. */
struct db_job *
db_job_create(int pipeline, db_result_cb on_result, db_done_cb on_done,
    void *arg)
{
	struct db_job *job = xcalloc(1, sizeof *job);

	job->pipeline = pipeline;
	job->on_result = on_result;
	job->on_done = on_done;
	job->arg = arg;
	return job;
}

/* Free a job that was never submitted. */
void
db_job_discard(struct db_job *job)
{
	if (job != NULL)
		db_job_free(job);
}

/* Add a statement with copied parameters. */
void
db_job_add(struct db_job *job, const char *sql, int nparams,
    const char *const *params)
{
	struct db_stmt *st;
	int i;

	ASSERT(job->pipeline || job->nstmts == 0);
	job->stmts = xreallocarray(job->stmts, (size_t)job->nstmts + 1,
	    sizeof *job->stmts);
	st = &job->stmts[job->nstmts++];
	st->sql = sql;
	st->name = NULL;
	st->nparams = nparams;
	st->params = xcalloc((size_t)nparams + 1, sizeof *st->params);
	for (i = 0; i < nparams; i++)
		st->params[i] = params[i] != NULL ? xstrdup(params[i]) : NULL;
	st->lengths = NULL;
	st->formats = NULL;
}

/*
 * db_job_add with binary parameters: parameter i is lengths[i] raw bytes
 * when formats[i] is 1 (a bytea as it is, half the size of its hex text and
 * with nothing to decode), text otherwise. A name prepares the statement as
 * db_job_add_prepared does.
 */
void
db_job_add_binary(struct db_job *job, const char *name, const char *sql,
    int nparams, const char *const *params, const int *lengths,
    const int *formats)
{
	struct db_stmt *st;
	int i;

	ASSERT(name == NULL || job->pipeline);
	db_job_add(job, sql, 0, NULL);
	st = &job->stmts[job->nstmts - 1];
	st->name = name;
	free(st->params);
	st->nparams = nparams;
	st->params = xcalloc((size_t)nparams + 1, sizeof *st->params);
	st->lengths = xcalloc((size_t)nparams + 1, sizeof *st->lengths);
	st->formats = xcalloc((size_t)nparams + 1, sizeof *st->formats);
	for (i = 0; i < nparams; i++) {
		if (params[i] == NULL)
			continue;
		st->formats[i] = formats[i] != 0;
		if (st->formats[i]) {
			st->lengths[i] = lengths[i];
			st->params[i] = xmalloc((size_t)lengths[i] + 1);
			memcpy(st->params[i], params[i], (size_t)lengths[i]);
		} else
			st->params[i] = xstrdup(params[i]);
	}
}

/* The job runs inside the transaction the previous job left open. */
void
db_job_continue(struct db_job *job)
{
	job->cont = 1;
}

/* Results in binary format (bytea as raw bytes; text columns unchanged). */
void
db_job_binary(struct db_job *job)
{
	job->binary = 1;
}

/*
 * Add a statement that is prepared once per connection under name (a
 * literal, like sql) and then only executed: no parse and plan per row for
 * the statement a batch repeats. Pipeline jobs only.
 */
void
db_job_add_prepared(struct db_job *job, const char *name, const char *sql,
    int nparams, const char *const *params)
{
	ASSERT(job->pipeline);
	db_job_add(job, sql, nparams, params);
	job->stmts[job->nstmts - 1].name = name;
}

/* 1 if name is prepared on the connection. */
static int
db_prepared(const struct db *db, const char *name)
{
	int i;

	for (i = 0; i < db->nprepared; i++) {
		if (strcmp(db->prepared[i], name) == 0)
			return 1;
	}
	return 0;
}

/* Rows of the only statement one by one. */
void
db_job_single_row(struct db_job *job)
{
	ASSERT(!job->pipeline);
	job->single_row = 1;
}

/* Record the first failure of a job. */
static void
db_job_fail(struct db_job *job, const char *sqlstate, const char *message)
{
	if (job->failed)
		return;
	job->failed = 1;
	snprintf(job->sqlstate, sizeof job->sqlstate, "%s",
	    sqlstate != NULL ? sqlstate : "XX000");
	job->message = xstrdup(message != NULL ? message : "unknown error");
}

/* Report a job's end and free it. */
static void
db_job_finish(struct db_job *job)
{
	if (job->on_done != NULL)
		job->on_done(!job->failed, job->failed ? job->sqlstate : NULL,
		    job->failed ? job->message : NULL, job->arg);
	db_job_free(job);
}

/* 1 if the SQLSTATE is about the connection rather than the statement. */
int
db_sqlstate_is_connection(const char *sqlstate)
{
	if (sqlstate == NULL)
		return 0;
	/* 08: connection exception; 57P0x: the server is shutting down. */
	return strncmp(sqlstate, "08", 2) == 0 ||
	    strncmp(sqlstate, "57P", 3) == 0;
}

/* A new, unconnected database handle. */
struct db *
db_create(struct event_base *base, const char *label, const char *conninfo,
    db_state_cb on_state, void *arg)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->base = base;
	db->label = xstrdup(label);
	db->conninfo = xstrdup(conninfo);
	db->state = DB_DOWN;
	db->fd = -1;
	db->on_state = on_state;
	db->arg = arg;
	db->backoff_min = 200;
	db->backoff_max = 5000;
	db->backoff = db->backoff_min;
	TAILQ_INIT(&db->queue);
	return db;
}

/* Change the connection string; reconnect if it changed. */
void
db_conninfo_set(struct db *db, const char *conninfo)
{
	if (strcmp(db->conninfo, conninfo) == 0)
		return;
	free(db->conninfo);
	db->conninfo = xstrdup(conninfo);
	if (db->state != DB_DOWN)
		db_lost(db, "the connection string changed");
	else
		db_connect(db);
}

/* Set the reconnection delays. */
void
db_backoff_set(struct db *db, long min_ms, long max_ms)
{
	db->backoff_min = min_ms;
	db->backoff_max = max_ms;
	if (db->backoff < min_ms || db->backoff > max_ms)
		db->backoff = min_ms;
}

/* The state. */
enum db_state
db_state(const struct db *db)
{
	return db->state;
}

int
db_busy(const struct db *db)
{
	return db->current != NULL || !TAILQ_EMPTY(&db->queue);
}

/* Remove the socket events. */
static void
db_events_clear(struct db *db)
{
	if (db->ev_io != NULL) {
		event_free(db->ev_io);
		db->ev_io = NULL;
	}
	if (db->ev_write != NULL) {
		event_free(db->ev_write);
		db->ev_write = NULL;
	}
	db->fd = -1;
}

/* Change state and tell the owner. */
static void
db_state_set(struct db *db, enum db_state state)
{
	if (db->state == state)
		return;
	db->state = state;
	if (db->on_state != NULL)
		db->on_state(db, state, db->arg);
}

/* Fail every queued (not running) job. */
static void
db_queue_fail(struct db *db, const char *message)
{
	struct db_job *job;

	while ((job = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, job, entry);
		db_job_fail(job, DB_SQLSTATE_LOST, message);
		if (job->internal)
			db_job_free(job);
		else
			db_job_finish(job);
	}
}

/* Next loop turn: start a job, or fail them all while down. */
static void
db_kick(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;

	if (db->state != DB_UP)
		db_queue_fail(db, "the database is not connected");
	else
		db_next(db);
}

/* The retry timer fired. */
static void
db_retry(evutil_socket_t fd, short what, void *arg)
{
	db_connect(arg);
}

/* Arm the retry timer after the current backoff. */
static void
db_retry_arm(struct db *db)
{
	struct timeval tv;
	long ms = db->backoff;

	/* Up to a quarter of jitter so that daemons do not retry in step. */
	ms += random() % (ms / 4 + 1);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (db->ev_retry == NULL)
		db->ev_retry = evtimer_new(db->base, db_retry, db);
	evtimer_add(db->ev_retry, &tv);
	log_info("database (%s): retrying in %ld ms", db->label, ms);
	db->backoff *= 2;
	if (db->backoff > db->backoff_max)
		db->backoff = db->backoff_max;
}

/* Schedule db_kick for the next loop turn. */
static void
db_kick_arm(struct db *db)
{
	if (db->ev_kick == NULL)
		db->ev_kick = event_new(db->base, -1, 0, db_kick, db);
	event_active(db->ev_kick, 0, 0);
}

/* Wait for the socket as PQconnectPoll asks. */
static void
db_connect_wait(struct db *db, short what)
{
	db_events_clear(db);
	db->fd = PQsocket(db->conn);
	db->ev_io = event_new(db->base, db->fd, what, db_io, db);
	event_add(db->ev_io, NULL);
}

/* The connection is up: make it non-blocking and read it persistently. */
static void
db_up(struct db *db)
{
	db_events_clear(db);
	if (PQsetnonblocking(db->conn, 1) != 0) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	PQsetClientEncoding(db->conn, "UTF8");
	db->fd = PQsocket(db->conn);
	db->ev_io = event_new(db->base, db->fd, EV_READ | EV_PERSIST, db_io,
	    db);
	event_add(db->ev_io, NULL);
	db->backoff = db->backoff_min;
	log_info("database (%s): connected (server %d)", db->label,
	    PQserverVersion(db->conn));
	metrics_db_connected(db->label);
	db_state_set(db, DB_UP);
	db_kick_arm(db);
}

/* One step of the connection state machine. */
static void
db_connect_poll(struct db *db)
{
	switch (PQconnectPoll(db->conn)) {
	case PGRES_POLLING_READING:
		db_connect_wait(db, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		db_connect_wait(db, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		db_up(db);
		break;
	case PGRES_POLLING_FAILED:
	default:
		db_lost(db, PQerrorMessage(db->conn));
		break;
	}
}

/* The connection's libpq start, as "sipasd LABEL" (pgconn.h). */
static PGconn *
db_connect_start(struct db *db)
{
	struct pgconn_params p;
	char name[64];

	snprintf(name, sizeof name, "sipasd %s", db->label);
	pgconn_params(&p, db->conninfo, name);
	return PQconnectStartParams(p.keys, p.values, 1);
}

/* Start connecting. */
void
db_connect(struct db *db)
{
	if (db->ev_retry != NULL)
		evtimer_del(db->ev_retry);
	if (db->conn != NULL) {
		db_events_clear(db);
		PQfinish(db->conn);
	}
	db_state_set(db, DB_CONNECTING);
	db->conn = db_connect_start(db);
	if (db->conn == NULL) {
		db_lost(db, "out of memory");
		return;
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	db_connect_poll(db);
}

/* The connection failed or was lost: fail the jobs, go DOWN, retry later. */
static void
db_lost(struct db *db, const char *why)
{
	struct db_job *job;
	char *msg = xstrdup(why != NULL && *why != '\0' ? why :
	    "connection lost");

	log_warn("database (%s): %s", db->label, msg);
	metrics_db_lost(db->label);
	db_events_clear(db);
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->nprepared = 0; /* a new connection has none */
	if ((job = db->current) != NULL) {
		db->current = NULL;
		db_job_fail(job, DB_SQLSTATE_LOST, msg);
		if (job->internal)
			db_job_free(job);
		else
			db_job_finish(job);
	}
	db_state_set(db, DB_DOWN);
	db_queue_fail(db, msg);
	free(msg);
	if (!db->closing && db->state == DB_DOWN && (db->ev_retry == NULL ||
	    !evtimer_pending(db->ev_retry, NULL)))
		db_retry_arm(db);
}

/* Drop the connection on purpose and reconnect after the backoff. */
void
db_reset(struct db *db, const char *why)
{
	db_lost(db, why);
}

/* Queue a job. */
void
db_submit(struct db *db, struct db_job *job)
{
	TAILQ_INSERT_TAIL(&db->queue, job, entry);
	if (db->current == NULL)
		db_kick_arm(db);
}

/* Queue a job of one statement. */
void
db_submit_one(struct db *db, const char *sql, int nparams,
    const char *const *params, db_result_cb result, db_done_cb done,
    void *arg)
{
	struct db_job *job = db_job_create(0, result, done, arg);

	db_job_add(job, sql, nparams, params);
	db_submit(db, job);
}

/* Flush pending output; wait for writability while some remains. */
static int
db_flush(struct db *db)
{
	int r = PQflush(db->conn);

	if (r < 0) {
		db_lost(db, PQerrorMessage(db->conn));
		return -1;
	}
	if (r > 0) {
		if (db->ev_write == NULL)
			db->ev_write = event_new(db->base, db->fd, EV_WRITE,
			    db_io, db);
		event_add(db->ev_write, NULL);
	}
	return 0;
}

/* Send the statements of job; 0, or -1 when the connection was lost. */
static int
db_job_send(struct db *db, struct db_job *job)
{
	struct db_stmt *st;
	int i;

	if (job->pipeline && PQenterPipelineMode(db->conn) != 1)
		goto lost;
	if (job->pipeline) {
		free(job->sent);
		job->sent = xcalloc(2 * (size_t)job->nstmts, sizeof *job->sent);
		job->nsent = 0;
	}
	for (i = 0; i < job->nstmts; i++) {
		st = &job->stmts[i];
		if (st->name != NULL) {
			/*
			 * Prepared on first use on this connection (once per
			 * job: it is marked prepared when the server says so).
			 */
			int j, earlier = 0;

			/* Only the few prepares sent so far, not every
			 * earlier statement (a batch has hundreds). */
			for (j = 0; j < job->nsent && !earlier; j++) {
				if (job->sent[j].prepare && strcmp(job->stmts[
				    job->sent[j].stmt].name, st->name) == 0)
					earlier = 1;
			}
			if (!earlier && !db_prepared(db, st->name)) {
				if (PQsendPrepare(db->conn, st->name, st->sql,
				    st->nparams, NULL) != 1)
					goto lost;
				job->sent[job->nsent].stmt = i;
				job->sent[job->nsent++].prepare = 1;
			}
			if (PQsendQueryPrepared(db->conn, st->name, st->nparams,
			    (const char *const *)st->params, st->lengths,
			    st->formats, job->binary) != 1)
				goto lost;
		} else if (PQsendQueryParams(db->conn, st->sql, st->nparams,
		    NULL, (const char *const *)st->params, st->lengths,
		    st->formats, job->binary) != 1)
			goto lost;
		if (job->pipeline) {
			job->sent[job->nsent].stmt = i;
			job->sent[job->nsent++].prepare = 0;
		}
	}
	if (job->single_row && PQsetSingleRowMode(db->conn) != 1)
		log_warn("database: single-row mode refused");
	if (job->pipeline && PQpipelineSync(db->conn) != 1)
		goto lost;
	return db_flush(db);
lost:
	db_lost(db, PQerrorMessage(db->conn));
	return -1;
}

/* Start the next job if none is running. */
static void
db_next(struct db *db)
{
	struct db_job *job;

	while (db->current == NULL && db->state == DB_UP &&
	    (job = TAILQ_FIRST(&db->queue)) != NULL) {
		/* A job that continues a transaction that is gone: fail it. */
		if (job->cont &&
		    PQtransactionStatus(db->conn) != PQTRANS_INTRANS) {
			TAILQ_REMOVE(&db->queue, job, entry);
			db_job_fail(job, "25P01", "the transaction this job "
			    "continues is no longer open");
			db_job_finish(job);
			continue;
		}
		/*
		 * Leave an aborted or open transaction before the next job,
		 * unless the job continues an open one.
		 */
		if (!job->internal &&
		    PQtransactionStatus(db->conn) != PQTRANS_IDLE &&
		    !(job->cont &&
		    PQtransactionStatus(db->conn) == PQTRANS_INTRANS)) {
			job = db_job_create(0, NULL, NULL, NULL);
			job->internal = 1;
			db_job_add(job, "ROLLBACK", 0, NULL);
			TAILQ_INSERT_HEAD(&db->queue, job, entry);
		}
		TAILQ_REMOVE(&db->queue, job, entry);
		db->current = job;
		if (db_job_send(db, job) != 0)
			return;
	}
}

/* The running job got all its results. */
static void
db_job_end(struct db *db)
{
	struct db_job *job = db->current;

	db->current = NULL;
	if (job->pipeline && PQexitPipelineMode(db->conn) != 1)
		log_warn("database: cannot leave pipeline mode: %s",
		    PQerrorMessage(db->conn));
	if (job->failed && strcmp(job->sqlstate, DB_SQLSTATE_READ_ONLY) == 0) {
		/*
		 * The server took writes when we connected and refuses them
		 * now: it was demoted to a standby. Fail the job as a lost
		 * connection (its owner retries or spools it) and reconnect:
		 * a multi-host conninfo with target_session_attrs=read-write
		 * finds the new primary.
		 */
		snprintf(job->sqlstate, sizeof job->sqlstate, "%s",
		    DB_SQLSTATE_LOST);
		if (job->internal)
			db_job_free(job);
		else
			db_job_finish(job);
		db_lost(db, "the server is read-only now (a standby)");
		return;
	}
	if (job->internal) {
		if (job->failed)
			log_warn("database: %s", job->message);
		db_job_free(job);
	} else
		db_job_finish(job);
	/*
	 * The next job goes now, not on a later loop turn: that turn comes
	 * after every other ready socket is served (a few milliseconds of
	 * requests under load) while the server would wait idle. Its owner's
	 * callback has returned, so a failure here is no reentry.
	 */
	db_next(db);
}

/* Hand one result to the running job. */
static void
db_result(struct db *db, PGresult *res)
{
	struct db_job *job = db->current;

	const struct db_sent *sent = job->pipeline && job->cur < job->nsent ?
	    &job->sent[job->cur] : NULL;
	int stmt = sent != NULL ? sent->stmt : job->cur;

	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_SINGLE_TUPLE:
		if (sent != NULL && sent->prepare) {
			/* The statement is prepared on this connection now. */
			if (!db_prepared(db, job->stmts[stmt].name)) {
				/* Unrecorded, it would be prepared again
				 * (42P05): more names is a bug here. */
				ASSERT(db->nprepared < DB_PREPARED_MAX);
				db->prepared[db->nprepared++] =
				    job->stmts[stmt].name;
			}
			break;
		}
		if (job->on_result != NULL && !job->failed)
			job->on_result(res, stmt, job->arg);
		break;
	case PGRES_PIPELINE_SYNC:
		break;
	case PGRES_PIPELINE_ABORTED:
		db_job_fail(job, "XX000", "pipeline aborted");
		break;
	default:
		db_job_fail(job, PQresultErrorField(res, PG_DIAG_SQLSTATE),
		    PQresultErrorMessage(res));
		break;
	}
}

/*
 * Read what is available and dispatch it. Without pipeline mode a job ends at
 * the NULL after its last result; in pipeline mode each statement's results
 * end with a NULL and the job ends at the PIPELINE_SYNC result.
 */
static void
db_read(struct db *db)
{
	struct db_job *job;
	PGresult *res;
	PGnotify *n;

	if (PQconsumeInput(db->conn) != 1) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	while ((n = PQnotifies(db->conn)) != NULL)
		PQfreemem(n);
	while ((job = db->current) != NULL && PQisBusy(db->conn) == 0) {
		res = PQgetResult(db->conn);
		if (res == NULL) {
			if (!job->pipeline || ++job->cur > job->nsent) {
				db_job_end(db);
				break;
			}
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			db_job_end(db);
			break;
		}
		db_result(db, res);
		PQclear(res);
	}
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_BAD)
		db_lost(db, PQerrorMessage(db->conn));
}

/* Socket readiness. */
static void
db_io(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;

	if (db->state == DB_CONNECTING) {
		db_connect_poll(db);
		return;
	}
	if (db->state != DB_UP || db->conn == NULL)
		return;
	if ((what & EV_WRITE) && db_flush(db) != 0)
		return;
	if (what & EV_READ)
		db_read(db);
}

/* Close and free; pending jobs fail. */
void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db->on_state = NULL;
	db->closing = 1;
	db_lost(db, "closing the connection");
	if (db->ev_retry != NULL)
		event_free(db->ev_retry);
	if (db->ev_kick != NULL)
		event_free(db->ev_kick);
	free(db->label);
	free(db->conninfo);
	free(db);
}
