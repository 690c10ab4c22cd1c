/*
 * sipasd.h: the daemon's shared state, owned by main.c and passed down to
 * every module (each request carries it as r->sd).
 *
 * Modules read its fields and the accessors below; they never call into
 * main.c. What main.c must hear of (work finished while draining) goes
 * through the function it registered here. Everything runs on one libevent
 * loop: no locks.
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
struct aggregator;
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
	int db_up;		/* the write connection is up (main.c follows it) */
	int rdb_up;		/* the read connection is up */
	int read_standby;	/* the read connection is on a standby */
	double read_lag_s;	/* how far behind its data may be (store_read_lag) */
	struct event *ev_lag;	/* asks for read_standby and read_lag_s */
	/* main.c: if draining and nothing is left, stop the loop. */
	void (*work_done)(struct sipasd *);
};

/* 1 when requests that need the database can be served. */
static inline int
sipasd_ready(const struct sipasd *sd)
{
	return sd->db_up && sd->schema_ok && sd->cache != NULL;
}

/* 1 when a connection can serve the reads (sipasd_reader). */
static inline int
sipasd_read_ready(const struct sipasd *sd)
{
	return (sd->rdb_up || sd->db_up) && sd->started && sd->cache != NULL;
}

/*
 * The connection for reads (indices, dashboard, reports, export): the read
 * connection (db_read, or db) while it is up, else the write connection.
 * Call after sipasd_read_ready.
 */
static inline struct db *
sipasd_reader(const struct sipasd *sd)
{
	return sd->rdb_up ? sd->rdb : sd->db;
}

/*
 * The connection for a lookup that only reads (tokens, sessions): the write
 * connection when it is ready, else the reads' (a standby has the same
 * tokens), or NULL when neither can serve.
 */
static inline struct db *
sipasd_lookup_db(const struct sipasd *sd)
{
	if (sipasd_ready(sd))
		return sd->db;
	return sipasd_read_ready(sd) ? sipasd_reader(sd) : NULL;
}

/* Seconds the reads' data may be behind the primary (0: current). */
static inline double
sipasd_read_lag(const struct sipasd *sd)
{
	return sd->rdb_up && sd->read_standby ? sd->read_lag_s : 0;
}

/* Work finished: if draining and nothing is left, the loop stops. */
static inline void
sipasd_drain_check(struct sipasd *sd)
{
	if (sd->work_done != NULL)
		sd->work_done(sd);
}

#endif
