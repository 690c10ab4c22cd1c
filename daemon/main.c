/*
 * main.c: sipasd's command line, start-up, signals and the event loop.
 *
 * Owns struct sipasd. Start-up: read and check the config, listen, connect to
 * PostgreSQL. Each new connection is checked for the schema version before
 * anything uses it, then the unit tree and surveys are loaded into the cache;
 * only then does the daemon serve requests that need the database (before,
 * they get 503). An unknown schema at the first connection is fatal; later
 * (someone migrated under a running daemon) the connection is dropped and
 * retried, and requests get 503 until a restart.
 *
 * Signals: SIGHUP reloads the config file all or nothing (and refreshes the
 * cache); SIGTERM or SIGINT stop accepting, let queued responses commit and
 * open requests finish, and exit when all is done or after drain_timeout
 * (what is still waiting for the database then goes to the spool when there
 * is one); a second one exits at once.
 *
 * The spool (spool_dir) is opened at start; its replay starts whenever the
 * units and surveys were (re)loaded, i.e. the database is ready.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <gsl/gsl_errno.h>
#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/net/limits.h"
#include "daemon/present/reports.h"
#include "daemon/sipasd.h"
#include "daemon/net/http.h"
#include "daemon/net/auth.h"
#include "daemon/channels/ingest.h"
#include "daemon/store/spool.h"
#include "daemon/store/aggregator.h"
#include "daemon/store/store.h"
#include "sipas/util.h"

static struct sipasd sipasd;

/* The allocator sipasd runs on, for the start-up line (configure.ac). */
static const char *
sipasd_malloc_name(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return "asan";
#elif defined(HAVE_MIMALLOC)
	static char name[32];
	int v = mi_version();

	snprintf(name, sizeof name, "mimalloc %d.%d.%d", v / 100, v / 10 % 10,
	    v % 10);
	return name;
#else
	return "glibc";
#endif
}

/*
 * mimalloc decommits the free parts of a segment (gives their pages back to
 * the kernel) once a delay has passed since the first of them was freed
 * (25 ms by default; later frees extend it by 1 ms only): what is free at
 * that moment goes, even if it would be taken again a moment later. The fold
 * thread builds its states (some 100 KiB a unit and channel) afresh every
 * round and frees them at the end, so at saturation nearly every round got
 * them back as new pages: about 3,300 page faults a second, half of the
 * fold thread's CPU. With 10 s, memory that is used again and again stays
 * mapped, and what a burst took is still given back soon after.
 * MIMALLOC_DECOMMIT_DELAY in the environment wins.
 */
static void
sipasd_malloc_tune(void)
{
#ifdef HAVE_MIMALLOC
	if (getenv("MIMALLOC_DECOMMIT_DELAY") == NULL &&
	    getenv("MIMALLOC_RESET_DELAY") == NULL)
		mi_option_set(mi_option_decommit_delay, 10000);
#endif
}

/* The conninfo of the reads: db_read, or db when it is empty. */
static const char *
sipasd_read_conninfo(const struct config *c)
{
	return c->db_read[0] != '\0' ? c->db_read : c->db;
}

/* store_read_lag answered. */
static void
sipasd_lag_done(int ok, int standby, double lag_s, void *arg)
{
	struct sipasd *sd = arg;

	if (!ok)
		return;
	if (standby != sd->read_standby)
		log_info("database (read): on a %s", standby ? "standby" :
		    "primary");
	sd->read_standby = standby;
	sd->read_lag_s = lag_s;
}

/* Every 2 s while the read connection is up: where it reads, how far behind. */
static void
sipasd_lag_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sipasd *sd = arg;
	struct timeval tv = { 2, 0 };

	if (sd->rdb_up)
		store_read_lag(sd->rdb, sipasd_lag_done, sd);
	evtimer_add(sd->ev_lag, &tv);
}

/* The read connection changed state: remember whether it is up. */
static void
sipasd_rdb_state(struct db *db, enum db_state state, void *arg)
{
	struct sipasd *sd = arg;

	sd->rdb_up = state == DB_UP;
	if (sd->rdb_up)
		store_read_lag(sd->rdb, sipasd_lag_done, sd);
	else
		sd->read_standby = 0;
}

/* The drain deadline passed: give up on what is left. */
static void
sipasd_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct sipasd *sd = arg;
	struct timeval flush = { 0, 200000 };

	log_warn("drain: deadline reached with %ld request(s) open; exiting",
	    sd->inflight);
	ingest_abandon(sd->ingest, "shutting down");
	/* A moment to write the replies just given, then stop. */
	event_base_loopexit(sd->base, &flush);
}

/* If draining and nothing is left, stop the loop. */
static void
sipasd_work_done(struct sipasd *sd)
{
	if (!sd->draining || sd->inflight > 0 || !ingest_idle(sd->ingest) ||
	    !spool_idle(sd->spool) || sd->unflushed > 0)
		return;
	log_info("drain: all work done");
	event_base_loopexit(sd->base, NULL);
}

/* The catalog arrived: swap the cache. */
static void
sipasd_catalog(struct store_catalog *cat, const char *message, void *arg)
{
	struct sipasd *sd = arg;
	struct cache *c;

	sd->refreshing = 0;
	if (cat == NULL) {
		log_warn("cannot load units and surveys: %s", message);
		return;
	}
	c = cache_create(cat);
	store_catalog_free(cat);
	if (sd->cache == NULL)
		log_info("ready: %zu units, %zu surveys", cache_unit_count(c),
		    cache_survey_count(c));
	else if (cache_unit_count(c) != cache_unit_count(sd->cache) ||
	    cache_survey_count(c) != cache_survey_count(sd->cache))
		log_info("cache refreshed: %zu units, %zu surveys",
		    cache_unit_count(c), cache_survey_count(c));
	else
		log_debug("cache refreshed: %zu units, %zu surveys",
		    cache_unit_count(c), cache_survey_count(c));
	cache_unref(sd->cache);
	sd->cache = c;
	ingest_kick(sd->ingest);
	spool_kick(sd->spool);
}

/* Reload units and surveys now. */
static void
sipasd_refresh(struct sipasd *sd)
{
	if (sd->refreshing || !sd->schema_ok || db_state(sd->db) != DB_UP)
		return;
	sd->refreshing = 1;
	store_catalog_load(sd->db, sipasd_catalog, sd);
}

/* The refresh timer. */
static void
sipasd_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
	sipasd_refresh(arg);
}

/* Arm the periodic refresh. */
static void
sipasd_refresh_arm(struct sipasd *sd)
{
	struct timeval tv = { sd->config->cache_refresh, 0 };

	if (sd->ev_refresh == NULL)
		sd->ev_refresh = event_new(sd->base, -1, EV_PERSIST,
		    sipasd_refresh_timer, sd);
	event_del(sd->ev_refresh);
	event_add(sd->ev_refresh, &tv);
}

/* The schema version of a new connection. */
static void
sipasd_version(int version, const char *message, void *arg)
{
	struct sipasd *sd = arg;

	if (version < 0) {
		log_warn("cannot read the schema version: %s", message);
		db_reset(sd->db, "schema check failed");
		return;
	}
	if (version != STORE_SCHEMA_VERSION) {
		if (!sd->started) {
			if (version == 0)
				fatal("the database has no sipas schema: run "
				    "'sipasctl --db ... init' first");
			fatal("the database has schema version %d; this sipasd "
			    "knows version %d", version, STORE_SCHEMA_VERSION);
		}
		log_error("the database schema changed to version %d (this "
		    "sipasd knows %d): restart sipasd", version,
		    STORE_SCHEMA_VERSION);
		db_reset(sd->db, "unknown schema version");
		return;
	}
	sd->started = 1;
	sd->schema_ok = 1;
	sipasd_refresh(sd);
}

/* The database connection went up or down. */
static void
sipasd_db_state(struct db *db, enum db_state state, void *arg)
{
	struct sipasd *sd = arg;

	sd->db_up = state == DB_UP;
	switch (state) {
	case DB_UP:
		sd->schema_ok = 0;
		store_schema_version(db, sipasd_version, sd);
		break;
	case DB_DOWN:
		sd->schema_ok = 0;
		sd->refreshing = 0;
		ingest_fail_queued(sd->ingest, "the database is not available");
		break;
	case DB_CONNECTING:
		break;
	}
}

/* The gauges of GET /metrics, read from the modules that own them. */
static long
sipasd_gauge_queue(void *arg)
{
	struct sipasd *sd = arg;

	return ingest_queued(sd->ingest);
}

static long
sipasd_gauge_inflight(void *arg)
{
	struct sipasd *sd = arg;

	return sd->inflight;
}

static long
sipasd_gauge_connections(void *arg)
{
	return limits_connections();
}

static long
sipasd_gauge_db_write(void *arg)
{
	struct sipasd *sd = arg;

	return sd->db != NULL && db_state(sd->db) == DB_UP;
}

static long
sipasd_gauge_db_read(void *arg)
{
	struct sipasd *sd = arg;

	return sd->rdb != NULL && db_state(sd->rdb) == DB_UP;
}

static long
sipasd_gauge_read_standby(void *arg)
{
	struct sipasd *sd = arg;

	return sd->rdb_up && sd->read_standby;
}

static long
sipasd_gauge_read_lag(void *arg)
{
	return (long)(sipasd_read_lag(arg) * 1000.0);
}

static long
sipasd_gauge_spool(void *arg)
{
	struct sipasd *sd = arg;

	return spool_depth(sd->spool);
}

/* Register the gauges above. */
static void
sipasd_gauges_register(struct sipasd *sd)
{
	metrics_gauge_register(METRICS_GAUGE_QUEUE, sipasd_gauge_queue, sd);
	metrics_gauge_register(METRICS_GAUGE_INFLIGHT, sipasd_gauge_inflight, sd);
	metrics_gauge_register(METRICS_GAUGE_CONNECTIONS,
	    sipasd_gauge_connections, sd);
	metrics_gauge_register(METRICS_GAUGE_DB_WRITE_UP, sipasd_gauge_db_write,
	    sd);
	metrics_gauge_register(METRICS_GAUGE_DB_READ_UP, sipasd_gauge_db_read, sd);
	metrics_gauge_register(METRICS_GAUGE_SPOOL_DEPTH, sipasd_gauge_spool, sd);
	metrics_gauge_register(METRICS_GAUGE_DB_READ_STANDBY,
	    sipasd_gauge_read_standby, sd);
	metrics_gauge_register(METRICS_GAUGE_DB_READ_LAG_MS,
	    sipasd_gauge_read_lag, sd);
}

/* Read the config file and apply the command-line overrides' checks. */
static struct config *
sipasd_config_read(const char *path, char **cause)
{
	if (path == NULL)
		return config_create();
	return config_load(path, cause);
}

/* SIGHUP: reload the config all or nothing, refresh the cache. */
static void
sipasd_reload(struct sipasd *sd)
{
	struct config *next;
	char *cause = NULL;

	if (sd->config_path == NULL) {
		log_info("SIGHUP: no config file; refreshing the cache only");
		goto refresh;
	}
	next = config_load(sd->config_path, &cause);
	/* The command line keeps overriding the file. */
	if (next != NULL && sd->listen_override != NULL)
		config_set(next, "listen", sd->listen_override, NULL);
	if (next != NULL && sd->db_override != NULL)
		config_set(next, "db", sd->db_override, NULL);
	if (next == NULL || config_reload_check(sd->config, next, &cause) != 0) {
		log_error("SIGHUP: config not reloaded, the old one stays: %s",
		    cause);
		free(cause);
		config_free(next);
		return;
	}
	config_free(sd->config);
	sd->config = next;
	log_level_set((enum log_level)sd->config->log_level);
	db_backoff_set(sd->db, sd->config->reconnect_min_ms,
	    sd->config->reconnect_max_ms);
	db_backoff_set(sd->rdb, sd->config->reconnect_min_ms,
	    sd->config->reconnect_max_ms);
	db_conninfo_set(sd->rdb, sipasd_read_conninfo(sd->config));
	http_configure(sd);
	sipasd_refresh_arm(sd);
	log_info("SIGHUP: config reloaded from %s", sd->config_path);
refresh:
	auth_flush(sd->auth);
	sipasd_refresh(sd);
}

/* SIGTERM/SIGINT: drain, or exit at once the second time. */
static void
sipasd_terminate(struct sipasd *sd, int sig)
{
	struct timeval tv = { sd->config->drain_timeout, 0 };

	if (sd->draining) {
		log_warn("second signal %d: exiting now", sig);
		fflush(stderr);
		_exit(1);
	}
	sd->draining = 1;
	log_info("signal %d: draining (%ld request(s) open, up to %ld s)", sig,
	    sd->inflight, sd->config->drain_timeout);
	http_stop_accepting(sd);
	if (sd->ev_refresh != NULL)
		event_del(sd->ev_refresh);
	if (sd->ev_lag != NULL)
		event_del(sd->ev_lag);
	sd->ev_deadline = evtimer_new(sd->base, sipasd_deadline, sd);
	evtimer_add(sd->ev_deadline, &tv);
	ingest_kick(sd->ingest);
	sipasd_drain_check(sd);
}

/* Signal events. */
static void
sipasd_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sipasd *sd = arg;

	if (sig == SIGHUP)
		sipasd_reload(sd);
	else
		sipasd_terminate(sd, (int)sig);
}

/* Usage: --help prints all of it, bad usage only the first lines. */
static void __attribute__((noreturn))
sipasd_usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: sipasd [-c FILE] [--listen ADDR:PORT] [--db CONNINFO] "
	    "[--check-config]\n"
	    "       sipasd --help | --version | --man-config\n");
	if (status != 0) {
		fprintf(f, "'sipasd --help' lists the options and keys\n");
		exit(status);
	}
	fprintf(f, "\noptions:\n"
	    "  -c, --config FILE     read the configuration keys from FILE "
	    "(default: none, every key has its default)\n"
	    "      --listen ADDR:PORT  the HTTP listener, over the file's "
	    "listen key\n"
	    "      --db CONNINFO     libpq connection string, over the file's "
	    "db key\n"
	    "      --check-config    check the configuration, print every key "
	    "(secrets masked) and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "  -V, --version         print the version and exit\n"
	    "      --man-config      print the keys as roff for sipasd.conf(5) "
	    "and exit\n"
	    "\nsignals: SIGHUP reloads the configuration file (all or nothing) "
	    "and the cached units and surveys;\n"
	    "SIGTERM or SIGINT stops taking requests, finishes the ones in "
	    "flight (drain_timeout) and exits;\na second one exits at once.\n"
	    "\nExit status: 0 stopped cleanly, 1 cannot start (configuration, "
	    "port, spool), 2 bad usage.\n\n");
	config_help(f);
	exit(0);
}

/*
 * The event loop. With epoll, socket event changes are kept until the next
 * wait and applied together, so that a change and its undo in one turn cost
 * nothing: evhttp turns reading off and writing on for each request, and
 * back: strace counted four epoll_ctl calls a request, three with the list.
 * (The list must not see two descriptors of one open file: sipasd never
 * dup()s a socket.)
 */
static struct event_base *
sipasd_base_new(void)
{
	struct event_config *cfg;
	struct event_base *base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Start, run the loop, clean up. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "man-config", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct sipasd *sd = &sipasd;
	struct event *sigs[4];
	static const int signums[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	char *cause = NULL;
	int c, check = 0, i;

	sipasd_malloc_tune();
	util_jansson_init();
	gsl_set_error_handler_off();
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			sd->config_path = optarg;
			break;
		case 'l':
			sd->listen_override = optarg;
			break;
		case 'd':
			sd->db_override = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			printf("sipasd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			sipasd_usage(0);
		case 'M':
			config_man(stdout);
			return 0;
		default:
			sipasd_usage(2);
		}
	}
	if (optind != argc)
		sipasd_usage(2);

	if ((sd->config = sipasd_config_read(sd->config_path, &cause)) == NULL) {
		fprintf(stderr, "sipasd: %s\n", cause);
		free(cause);
		return 1;
	}
	if ((sd->listen_override != NULL && config_set(sd->config, "listen",
	    sd->listen_override, &cause) != 0) || (sd->db_override != NULL &&
	    config_set(sd->config, "db", sd->db_override, &cause) != 0)) {
		fprintf(stderr, "sipasd: %s\n", cause);
		free(cause);
		config_free(sd->config);
		return 1;
	}
	if (check) {
		config_print(sd->config, stdout);
		printf("configuration OK\n");
		config_free(sd->config);
		return 0;
	}
	log_level_set((enum log_level)sd->config->log_level);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGPIPE, SIG_IGN);

	if ((sd->base = sipasd_base_new()) == NULL)
		fatal("cannot create the event loop");
	sd->work_done = sipasd_work_done;
	sipasd_gauges_register(sd);
	sd->auth = auth_create(sd);
	sd->ingest = ingest_create(sd);
	if ((sd->spool = spool_open(sd, &cause)) == NULL && cause != NULL)
		fatal("%s", cause);
	if (http_start(sd, &cause) != 0)
		fatal("%s", cause);
	for (i = 0; signums[i] != 0; i++) {
		sigs[i] = evsignal_new(sd->base, signums[i], sipasd_signal, sd);
		evsignal_add(sigs[i], NULL);
	}
	sd->db = db_create(sd->base, "write", sd->config->db, sipasd_db_state,
	    sd);
	sd->rdb = db_create(sd->base, "read", sipasd_read_conninfo(sd->config),
	    sipasd_rdb_state, sd);
	db_backoff_set(sd->db, sd->config->reconnect_min_ms,
	    sd->config->reconnect_max_ms);
	db_backoff_set(sd->rdb, sd->config->reconnect_min_ms,
	    sd->config->reconnect_max_ms);
	sipasd_refresh_arm(sd);
	reports_start(sd);
	log_info("sipasd %s starting (pid %ld, malloc: %s)", PACKAGE_VERSION,
	    (long)getpid(), sipasd_malloc_name());
	db_connect(sd->db);
	db_connect(sd->rdb);
	sd->ev_lag = evtimer_new(sd->base, sipasd_lag_tick, sd);
	sipasd_lag_tick(-1, 0, sd);
	sd->aggregator = aggregator_create(sd);

	event_base_dispatch(sd->base);

	log_info("stopping");
	/*
	 * The database first: its pending jobs fail and their callbacks answer
	 * their requests (503) while ingest and evhttp still exist.
	 */
	aggregator_free(sd->aggregator);
	sd->aggregator = NULL;
	db_free(sd->rdb);
	sd->rdb = NULL;
	db_free(sd->db);
	sd->db = NULL;
	reports_stop(sd);
	ingest_free(sd->ingest);
	spool_free(sd->spool);
	sd->spool = NULL;
	http_free(sd);
	auth_free(sd->auth);
	cache_unref(sd->cache);
	for (i = 0; signums[i] != 0; i++)
		event_free(sigs[i]);
	if (sd->ev_refresh != NULL)
		event_free(sd->ev_refresh);
	if (sd->ev_deadline != NULL)
		event_free(sd->ev_deadline);
	if (sd->ev_lag != NULL)
		event_free(sd->ev_lag);
	config_free(sd->config);
	event_base_free(sd->base);
	return 0;
}
