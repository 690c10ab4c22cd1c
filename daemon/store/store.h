/*
 * store.h: every statement sipasd sends to PostgreSQL, as typed asynchronous
 * calls on the db connection (db.h). The SQL text lives in store.c only.
 *
 * Callbacks get plain C values; nothing here hands out a PGresult. Strings
 * passed to a callback are borrowed for the duration of the call.
 */
#ifndef SIPAS_STORE_H
#define SIPAS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sipas/csvout.h"

struct db;

/* The schema version this sipasd works with (the newest of sql/NNNN_*.sql). */
#define STORE_SCHEMA_VERSION 12

/* Done: ok, or the SQLSTATE and message of the failure. */
typedef void (*store_done_cb)(int ok, const char *sqlstate, const char *message, void *arg);

/* The schema version of the database (0: no schema), or -1 and message. */
typedef void (*store_version_cb)(int version, const char *message, void *arg);
void store_schema_version(struct db *, store_version_cb, void *arg);

/* The unit tree and survey definitions, loaded together. */
struct store_unit {
	char *code;
	char *parent; /* NULL for a root */
	char *level;
	char *name;
};
struct store_survey {
	char *code;
	char *definition; /* JSON text */
};
struct store_catalog {
	struct store_unit *units;
	size_t nunits;
	struct store_survey *surveys;
	size_t nsurveys;
};
/* catalog is NULL on failure; the callback owns it (store_catalog_free). */
typedef void (*store_catalog_cb)(struct store_catalog *, const char *message, void *arg);
void store_catalog_load(struct db *, store_catalog_cb, void *arg);
void store_catalog_free(struct store_catalog *);

/* A token looked up by hash; found = 0 when there is none. */
struct store_token {
	int found;
	int revoked;
	const char *role;
	const char *unit; /* NULL: not scoped */
};
/* token is NULL when the look-up failed (message says why). */
typedef void (*store_token_cb)(const struct store_token *, const char *message, void *arg);
void store_token_find(struct db *, const char *hash, store_token_cb, void *arg);

/* One response to insert, and what happened to it. */
enum store_outcome {
	STORE_PENDING,
	STORE_INSERTED,	 /* new row */
	STORE_DUPLICATE, /* same source id, same content: already stored */
	STORE_CONFLICT,	 /* same source id, other content */
};
struct store_row {
	const char *survey;
	const char *unit;
	const char *source_id; /* or NULL */
	int64_t submitted_at;  /* Unix seconds */
	const char *channel;
	double weight;
	const char *stratum; /* or NULL */
	const char *psu;     /* or NULL */
	const char *answers; /* JSON object text, as received */
	const char *respondent; /* JSON object text or NULL */
	const char *hash;    /* content hash */
	enum store_outcome outcome;
	long long id;	     /* the stored row's id */
};
/*
 * Insert rows in one transaction (pipeline: BEGIN, one statement for the
 * whole batch, COMMIT). rows are borrowed until done runs; outcomes are set
 * only when ok. One bad row fails the batch (its SQLSTATE in done).
 */
void store_batch_insert(struct db *, struct store_row **rows, int n, store_done_cb, void *arg);

/*
 * Append to audit_log: the actor is the name of the token whose hash is
 * token_hash ("token #ID" when it has none), or token_hash itself when it is
 * "user:LOGIN" (a person's session), else "unknown"; action a verb
 * ("upload"), detail a JSON object text.
 */
void store_audit_append(struct db *, const char *token_hash, const char *action,
    const char *detail, store_done_cb, void *arg);

/* SELECT 1: is the database answering? */
void store_ping(struct db *, store_done_cb, void *arg);

/*
 * Where the connection reads: standby 1 when the server is in recovery, and
 * lag_s how far its data may be behind the primary (0 when it has replayed
 * all it received or is the primary; the age of the last replayed commit
 * otherwise). ok 0 when the query failed.
 */
typedef void (*store_lag_cb)(int ok, int standby, double lag_s, void *arg);
void store_read_lag(struct db *, store_lag_cb, void *arg);

/* One upload of the audit log (strings borrowed during the callback). */
struct store_upload {
	const char *at;	    /* dd/mm/yyyy hh:mm, Vietnam time */
	const char *actor;
	const char *survey;
	const char *scope;  /* the uploader's unit, or NULL */
	long rows, stored, duplicates, conflicts, rejected;
	int complete;
};
/* Each row, then once with NULL and ok (message when not ok). */
typedef void (*store_upload_cb)(const struct store_upload *, int ok,
    const char *message, void *arg);
/*
 * The latest limit uploads of the audit log, newest first: those made with
 * a scope inside unit scope's subtree, or every one when scope is NULL.
 */
void store_uploads_recent(struct db *, const char *scope, int limit,
    store_upload_cb, void *arg);

/* --- GET /api/v1/export: the responses CSV, page by page --- */

/* The selection of an export; every string borrowed, NULL = no filter but survey. */
struct store_export_filter {
	const char *survey;
	const char *unit;    /* its subtree */
	const char *from;    /* YYYY-MM-DD, Vietnam days, inclusive */
	const char *to;
	const char *channel;
};
/*
 * The head of an export: keys (sorted, borrowed for the call) are the
 * demographic fields of the selected rows with ids up to last_id, the highest
 * response id when it ran; keys NULL and sqlstate, message on failure.
 */
typedef void (*store_export_head_cb)(char *const *keys, size_t nkeys,
    long long last_id, const char *sqlstate, const char *message, void *arg);
void store_export_head(struct db *, const struct store_export_filter *,
    store_export_head_cb, void *arg);
/* One stored response of an export (strings borrowed for the call). */
struct store_export_row {
	long long id;		   /* the row's id, the key of the pages */
	struct csvout_response r; /* its columns, as the CSV writes them */
};
typedef void (*store_export_row_cb)(const struct store_export_row *, void *arg);
/*
 * Stream, row by row (single-row mode), at most limit selected rows with ids
 * in (after, last_id], in id order; then done. Each page is its own statement,
 * so the connection serves other jobs between pages.
 */
void store_export_page(struct db *, const struct store_export_filter *,
    long long last_id, long long after, long limit, store_export_row_cb,
    store_done_cb, void *arg);

#endif
