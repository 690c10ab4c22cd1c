/*
 * metrics.h: sipasd's counters, gauges and histograms in the Prometheus
 * text format (version 0.0.4), which net/http.c serves as GET /metrics.
 *
 * One set of metrics per process (the daemon runs one event loop: no locks).
 * The modules call the metrics_* verbs where a thing happens (or register a
 * function that reads a gauge); only metrics.c formats them. A leaf: it
 * includes no other module of the daemon. Labels are bounded: routes come from the route table, never
 * from a raw path, and nothing personal (token, phone, address) is a label.
 */
#ifndef SIPAS_METRICS_H
#define SIPAS_METRICS_H

struct evbuffer;

/* The limits that refuse a request or a connection (docs/operations.md). */
enum metrics_limit {
	METRICS_LIMIT_BODY,	   /* 413: body over max_body/upload_max */
	METRICS_LIMIT_TIMEOUT,	   /* 408: a request not whole within request_timeout */
	METRICS_LIMIT_CONNECTIONS, /* 503: more than max_connections open */
	METRICS_LIMIT_RATE_IP,	   /* 429: rate_ip exceeded */
	METRICS_LIMIT_RATE_TOKEN,  /* 429: rate_token exceeded */
	METRICS_LIMIT_QUEUE,	   /* 503: queue_max responses waiting */
	METRICS_LIMIT_HEADERS,	   /* 431: request line and headers over 16 KiB */
	METRICS_LIMIT_COUNT
};

/* A reply: route is a route pattern of http.c (static) or "unmatched". */
void metrics_request(const char *route, const char *method, int status);
/* Seconds from the arrival of a response to its reply after COMMIT. */
void metrics_ingest_latency(double seconds);
/* A batch of n responses went to the database. */
void metrics_batch(int n);
/* A database connection (label "write" or "read") came up / was lost. */
void metrics_db_connected(const char *label);
void metrics_db_lost(const char *label);
/* A limit refused something. */
void metrics_limit(enum metrics_limit);
/* An SMS was answered with this outcome ("stored", "limit", ...). */
void metrics_sms(const char *outcome);
/* The spool (spool.c): n responses appended; n replayed with an outcome
 * ("stored", "already_stored", "conflict", "rejected"); an append refused
 * because the spool is full. */
void metrics_spool_appended(int n);
void metrics_spool_replayed(const char *outcome, int n);
void metrics_spool_full(void);
/* A fold of the aggregates committed rows responses; -1: it failed. */
void metrics_aggregate(long rows, long memory);
/* A password sign-in answered: "ok", "refused" (wrong password or unknown
 * login) or "locked" (refused during a lockout). */
void metrics_login(const char *outcome);
/* A login was locked out after too many wrong passwords. */
void metrics_lockout(void);
/* The gauges, read from their owners when the metrics are printed. */
enum metrics_gauge {
	METRICS_GAUGE_QUEUE,	     /* responses waiting for a batch */
	METRICS_GAUGE_INFLIGHT,	     /* requests not yet answered */
	METRICS_GAUGE_CONNECTIONS,   /* open client connections */
	METRICS_GAUGE_DB_WRITE_UP,   /* 1 when the write connection is up */
	METRICS_GAUGE_DB_READ_UP,    /* 1 when the read connection is up */
	METRICS_GAUGE_SPOOL_DEPTH,   /* spooled responses not yet replayed */
	METRICS_GAUGE_DB_READ_STANDBY, /* 1 when the reads go to a standby */
	METRICS_GAUGE_DB_READ_LAG_MS,  /* how far behind the reads may be */
	METRICS_GAUGE_COUNT
};
typedef long (*metrics_gauge_cb)(void *);
/* Register the function that reads a gauge (a gauge without one reads 0). */
void metrics_gauge_register(enum metrics_gauge, metrics_gauge_cb, void *arg);
/* Append every metric in the text format to b. */
void metrics_print(struct evbuffer *b);

#endif
