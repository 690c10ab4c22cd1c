/*
 * db.h: a PostgreSQL connection driven by the event loop. sipasd has two:
 * "write" (ingest, tokens, the catalog, /healthz) and "read" (the indices'
 * long fetches, so that they never delay a commit).
 *
 * Non-blocking libpq: PQconnectStart/PQconnectPoll to connect, then jobs run
 * one after another. A job is one statement (optionally in single-row mode, so
 * a large result arrives row by row) or several statements sent together in
 * pipeline mode with one sync. Results are read when the socket is readable;
 * the loop never waits on the database. When the connection is lost every
 * pending job fails with SQLSTATE 08006 and the connection is retried with
 * exponential backoff.
 *
 * Only store.c builds jobs (the SQL lives there); a PGresult never outlives
 * the result callback that gets it.
 */
#ifndef SIPAS_DB_H
#define SIPAS_DB_H

#include <libpq-fe.h>

struct event_base;
struct db;
struct db_job;

enum db_state {
	DB_DOWN,       /* waiting to retry */
	DB_CONNECTING,
	DB_UP,
};

/* Connection state changes (DB_UP after connecting, DB_DOWN when lost). */
typedef void (*db_state_cb)(struct db *, enum db_state, void *arg);
/* One result of statement stmt (each row in single-row mode). */
typedef void (*db_result_cb)(const PGresult *, int stmt, void *arg);
/* The job finished: ok, or the SQLSTATE and message of the first failure. */
typedef void (*db_done_cb)(int ok, const char *sqlstate, const char *message, void *arg);

/* label names the connection in logs ("write", "read"). */
struct db *db_create(struct event_base *, const char *label, const char *conninfo,
    db_state_cb, void *arg);
void db_free(struct db *);
/* Start connecting now (also cancels a pending retry). */
void db_connect(struct db *);
/* Drop the connection (jobs fail) and retry after the backoff. */
void db_reset(struct db *, const char *why);
/* Connect to conninfo from now on; a change drops the connection. */
void db_conninfo_set(struct db *, const char *conninfo);
/* Backoff bounds in milliseconds. */
void db_backoff_set(struct db *, long min_ms, long max_ms);
enum db_state db_state(const struct db *);
/* A job is running or queued (so a result may be on its way back). */
int db_busy(const struct db *);

/* A new job; pipeline = send every statement at once in one pipeline. */
struct db_job *db_job_create(int pipeline, db_result_cb, db_done_cb, void *arg);
/* Add a statement; sql is borrowed (a literal), params are copied (NULL = SQL NULL). */
void db_job_add(struct db_job *, const char *sql, int nparams, const char *const *params);
/*
 * The same with binary parameters: formats[i] 1 = lengths[i] raw bytes.
 * With a name (a literal), prepared as db_job_add_prepared does; NULL: not.
 */
void db_job_add_binary(struct db_job *, const char *name, const char *sql,
    int nparams, const char *const *params, const int *lengths,
    const int *formats);
/* Free a job that was never submitted (NULL-safe); its callbacks do not run. */
void db_job_discard(struct db_job *);
/*
 * Run inside the transaction the previous job left open (BEGIN without
 * COMMIT). Only for a connection whose jobs all come from one owner, which
 * chains them from its callbacks; without it an open transaction is rolled
 * back before the next job.
 */
void db_job_continue(struct db_job *);
/*
 * Ask for results in binary format: bytea arrives as raw bytes, text as its
 * bytes (so select only text and bytea columns, casting the rest to text).
 */
void db_job_binary(struct db_job *);
/*
 * Add a statement prepared once per connection under name (a literal) and
 * then only executed; pipeline jobs only. For statements a batch repeats.
 */
void db_job_add_prepared(struct db_job *, const char *name, const char *sql,
    int nparams, const char *const *params);
/* Deliver the rows of the (only) statement one by one. */
void db_job_single_row(struct db_job *);
/*
 * Queue a job; db owns it from now on. Callbacks never run inside db_submit:
 * while the connection is not up the job fails on the next loop turn with
 * SQLSTATE 08006.
 */
void db_submit(struct db *, struct db_job *);
/* db_submit of a job (not a pipeline) of the one statement sql. */
void db_submit_one(struct db *, const char *sql, int nparams,
    const char *const *params, db_result_cb, db_done_cb, void *arg);

/* 1 if sqlstate says the connection, not the statement, failed. */
int db_sqlstate_is_connection(const char *sqlstate);

#endif
