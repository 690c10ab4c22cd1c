/*
 * sipasd.h: the daemon's shared state and the request object that the HTTP
 * routes (http.c), authentication (auth.c), ingest (ingest.c) and the indices
 * endpoint (indices.c) pass along.
 *
 * Everything runs on one libevent loop: no locks. A struct request lives from
 * the arrival of an HTTP request until its one reply (http_reply*), which
 * frees it; every path ends in exactly one reply, also when the client left.
 */
#ifndef SIPAS_SIPASD_H
#define SIPAS_SIPASD_H

#include <stddef.h>
#include <sys/time.h>

struct cache;
struct config;
struct db;
struct event;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct ingest;
struct auth;
struct spool;
struct json_t;

struct sipasd {
	struct event_base *base;
	struct config *config;
	const char *config_path;
	const char *listen_override; /* --listen */
	const char *db_override;     /* --db */
	struct db *db;		/* writes, tokens, the catalog, /healthz */
	struct db *rdb;		/* the indices' long reads, so they never delay ingest */
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct cache *cache;	/* NULL until the first load */
	int schema_ok;		/* the connected database has our schema */
	int started;		/* the first schema check passed */
	int draining;		/* SIGTERM: finishing in-flight work */
	int refreshing;		/* a catalog load is running */
	struct event *ev_refresh;
	struct event *ev_deadline;
	unsigned long next_reqid;
	long inflight;		/* requests not yet answered */
	long unflushed;		/* replies sent but not yet written out */
	struct ingest *ingest;
	struct auth *auth;
	struct spool *spool;	/* spool_dir (spool.h), or NULL: off */
	struct aggregator *aggregator; /* the aggregates' folder (aggregator.h) */
};

/* 1 when requests that need the database can be served. */
int sipasd_ready(const struct sipasd *);
/* 1 when the read connection can serve the indices. */
int sipasd_read_ready(const struct sipasd *);
/* Work finished: if draining and nothing is left, stop the loop. */
void sipasd_drain_check(struct sipasd *);
/* Reload units and surveys now (unless a reload is running). */
void sipasd_refresh(struct sipasd *);

struct request {
	struct sipasd *sd;
	struct evhttp_request *req;
	unsigned long id;
	struct timeval start;
	const char *method;
	char *path;
	char *query;  /* after '?', or NULL */
	int role;     /* enum role, once authenticated */
	char *scope;  /* the token's unit, or NULL */
	struct bodystream *body; /* a streamed upload body, or NULL */
};

/* http.c: replies; each frees the request. */
void http_reply(struct request *, int status, const char *content_type,
    const char *body, size_t len);
/* Reply with a JSON value (reference stolen). */
void http_reply_json(struct request *, int status, struct json_t *);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void http_reply_error(struct request *, int status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 503 with Retry-After. */
void http_reply_unavailable(struct request *, const char *why);
/*
 * A streamed reply: the headers of http_reply, then the caller sends the body
 * with evhttp_send_reply_chunk* on r->req; http_reply_stream_end (also when
 * the client left) ends it, logs it and frees the request. Start returns -1
 * when the client has already left.
 */
int http_reply_stream_start(struct request *, int status, const char *content_type);
void http_reply_stream_end(struct request *, int status);
/* Break a streamed reply off (a failure in the middle): the connection is
 * closed without the last chunk; frees the request. */
void http_reply_stream_abort(struct request *, int status);
/* Start listening on config listen (or --listen); -1 and *cause. */
/* A query parameter of a parsed query, or NULL when absent or empty. */
struct evkeyvalq;
const char *http_query_get(struct evkeyvalq *, const char *name);
struct survey;
/* survey and unit checked (known, within scope): the survey, or NULL after a reply. */
const struct survey *http_check_survey_unit(struct request *, const char *survey,
    const char *unit);
/* channel checked and made canonical: 0, or -1 after a 422 naming the field. */
int http_check_channel(struct request *, const char **channel);
/* from/to of a period checked: 0, or -1 after a 422 naming the field. */
int http_check_dates(struct request *, const char *from, const char *to);
/* The Content-Disposition of a download named name, escaped (RFC 6266). */
void http_attachment(struct request *, const char *name);
int http_start(struct sipasd *, char **cause);
/* Stop accepting new connections (drain). */
void http_stop_accepting(struct sipasd *);
void http_free(struct sipasd *);
/* Apply reloadable HTTP settings (body size, timeout). */
void http_configure(struct sipasd *);

/* auth.c: check the bearer token, then call next with r->role/scope set. */
#define AUTH_ROLE(r) (1u << (r))
typedef void (*auth_next_cb)(struct request *);
struct auth *auth_create(struct sipasd *);
void auth_free(struct auth *);
/* Forget checked tokens (SIGHUP). */
void auth_flush(struct auth *);
/* Replies 401/403/503 itself; otherwise calls next. */
void auth_check(struct request *, unsigned roles, auth_next_cb next);
/* 1 if the request's token may see unit (its scope is an ancestor-or-self). */
int auth_scope_allows(const struct request *, const char *unit);
/* SHA-256 (hex) of the request's bearer token into hash (TOKEN_HASH_LEN + 1): 0, or -1 none, -2 bad. */
int auth_token_hash(const struct request *, char *hash);

/* ingest.c: POST /api/v1/responses, the queue and the batches. */
struct ingest *ingest_create(struct sipasd *);
void ingest_free(struct ingest *);
void ingest_handle(struct request *);
/* 1 when nothing is queued or committing. */
int ingest_idle(const struct ingest *);
/* Responses waiting for a batch (metrics.c). */
long ingest_queued(const struct ingest *);
/* The database went away: queued responses are spooled (202) or get 503. */
void ingest_fail_queued(struct ingest *, const char *why);
/* The drain deadline: the queue and the batch out are spooled or get 503. */
void ingest_abandon(struct ingest *, const char *why);
/* Try to start a batch. */
void ingest_kick(struct ingest *);
/*
 * A response from another channel module (the web form, the kiosk): body is
 * the JSON of POST /api/v1/responses, validated and stored the same way, but
 * done is called exactly once (after COMMIT for 201/200/409, or at once for
 * 4xx/503) instead of a JSON reply, and done must reply to the request. The
 * id may carry a channel's own prefix (sms-, web-, kiosk-): callers make
 * their ids themselves, or (the upload) have refused such ids already.
 */
typedef void (*ingest_done_cb)(struct request *, int status,
    const char *field, const char *message, void *arg);
void ingest_submit(struct request *, const char *body, size_t len,
    ingest_done_cb done, void *arg);

/* indices.c: GET /api/v1/indices. */
void indices_handle(struct request *);
/*
 * indices.c, for other presenters (dashboard.c): the result of a survey for
 * unit's subtree (and each direct child with children) over from..to (NULL:
 * open), only channel's responses unless channel is NULL, only the
 * respondents matching filter (store_agg.h; NULL or empty: all; read from the
 * raw rows, borrowed until done). done gets the result (the callee's to free)
 * or NULL, sqlstate and message when the read failed. The caller checks
 * sipasd_read_ready first.
 */
struct result;
struct survey;
struct store_agg_filter;
typedef void (*indices_result_cb)(struct result *, const char *sqlstate,
    const char *message, void *arg);
void indices_compute(struct sipasd *, unsigned long reqid, struct cache *,
    const struct survey *,
    const char *unit, const char *from, const char *to, const char *channel,
    const struct store_agg_filter *filter, int children, double confidence,
    indices_result_cb done, void *arg);

#endif
