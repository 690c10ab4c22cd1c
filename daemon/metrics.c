/*
 * metrics.c: the counters, gauges and histograms of sipasd in the text
 * format of GET /metrics (served by net/http.c).
 *
 * Owns the process's metrics (static state: one daemon, one loop). Must not
 * decide anything: the modules report what happened; this file only counts
 * and formats. Label values are static strings or short bounded sets (SMS
 * outcomes), so the output stays small.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/metrics.h"
#include "sipas/util.h"

/* One counter of requests by route, method and status. */
struct metrics_req {
	const char *route;
	const char *method;
	int status;
	unsigned long long n;
};

/* A histogram with fixed upper bounds (the last bucket is +Inf). */
struct metrics_hist {
	const double *le;
	size_t nle;
	unsigned long long *count; /* per bucket, not cumulative */
	unsigned long long total;
	double sum;
};

/* One labelled counter with an owned label (SMS outcomes). */
struct metrics_named {
	char *name;
	unsigned long long n;
};

static const double metrics_latency_le[] = { 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const double metrics_batch_le[] = { 1, 2, 5, 10, 20, 50, 100, 200,
	500, 1000, 2000, 5000, 10000 };
#define METRICS_NLE(a) (sizeof a / sizeof a[0])

static const char *const metrics_limit_names[METRICS_LIMIT_COUNT] = {
	"body_size", "request_timeout", "connections", "rate_ip", "rate_token",
	"queue", "headers",
};

static struct metrics_req *metrics_reqs;
static size_t metrics_nreqs;
static unsigned long long metrics_latency_count[METRICS_NLE(metrics_latency_le) + 1];
static unsigned long long metrics_batch_count[METRICS_NLE(metrics_batch_le) + 1];
static struct metrics_hist metrics_latency = { metrics_latency_le,
	METRICS_NLE(metrics_latency_le), metrics_latency_count, 0, 0 };
static struct metrics_hist metrics_batches = { metrics_batch_le,
	METRICS_NLE(metrics_batch_le), metrics_batch_count, 0, 0 };
static unsigned long long metrics_limits[METRICS_LIMIT_COUNT];
/* [0] write, [1] read. */
static unsigned long long metrics_db_up[3], metrics_db_down[3];
static struct metrics_named *metrics_sms_outcomes;
static size_t metrics_nsms;
/* The spool: appended, full, and replayed by outcome. */
static const char *const metrics_spool_outcomes[] = { "stored",
	"already_stored", "conflict", "rejected" };
#define METRICS_NSPOOL METRICS_NLE(metrics_spool_outcomes)
static unsigned long long metrics_spooled, metrics_spool_fulls;
static unsigned long long metrics_agg_folds, metrics_agg_rows, metrics_agg_failures;
static unsigned long long metrics_agg_memory;
/* Password sign-ins by outcome (metrics_login), and lockouts begun. */
static const char *const metrics_login_outcomes[] = { "ok", "refused",
	"locked" };
#define METRICS_NLOGIN 3
static unsigned long long metrics_logins[METRICS_NLOGIN], metrics_lockouts;
static unsigned long long metrics_spool_replays[METRICS_NSPOOL];

/* Count a reply. */
void
metrics_request(const char *route, const char *method, int status)
{
	size_t i;

	for (i = 0; i < metrics_nreqs; i++) {
		if (metrics_reqs[i].status == status &&
		    strcmp(metrics_reqs[i].route, route) == 0 &&
		    strcmp(metrics_reqs[i].method, method) == 0) {
			metrics_reqs[i].n++;
			return;
		}
	}
	metrics_reqs = xreallocarray(metrics_reqs, metrics_nreqs + 1,
	    sizeof *metrics_reqs);
	metrics_reqs[metrics_nreqs].route = route;
	metrics_reqs[metrics_nreqs].method = method;
	metrics_reqs[metrics_nreqs].status = status;
	metrics_reqs[metrics_nreqs].n = 1;
	metrics_nreqs++;
}

/* Add an observation to a histogram. */
static void
metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t i;

	for (i = 0; i < h->nle && v > h->le[i]; i++)
		;
	h->count[i]++;
	h->total++;
	h->sum += v;
}

/* Seconds from arrival to the reply after COMMIT. */
void
metrics_ingest_latency(double seconds)
{
	metrics_hist_observe(&metrics_latency, seconds);
}

/* A batch of n responses. */
void
metrics_batch(int n)
{
	metrics_hist_observe(&metrics_batches, (double)n);
}

/* The index of a connection label. */
static int
metrics_db_index(const char *label)
{
	return strcmp(label, "read") == 0 ? 1 : strcmp(label, "aggregate") == 0 ? 2 : 0;
}

/* A database connection came up. */
void
metrics_db_connected(const char *label)
{
	metrics_db_up[metrics_db_index(label)]++;
}

/* A database connection was lost (or could not be made). */
void
metrics_db_lost(const char *label)
{
	metrics_db_down[metrics_db_index(label)]++;
}

/* A limit refused something. */
void
metrics_limit(enum metrics_limit l)
{
	ASSERT(l >= 0 && l < METRICS_LIMIT_COUNT);
	metrics_limits[l]++;
}

/* An SMS outcome. */
void
metrics_sms(const char *outcome)
{
	size_t i;

	for (i = 0; i < metrics_nsms; i++) {
		if (strcmp(metrics_sms_outcomes[i].name, outcome) == 0) {
			metrics_sms_outcomes[i].n++;
			return;
		}
	}
	/* Outcomes are a short fixed set (sms_http.c); keep it bounded anyway. */
	if (metrics_nsms >= 64)
		return;
	metrics_sms_outcomes = xreallocarray(metrics_sms_outcomes,
	    metrics_nsms + 1, sizeof *metrics_sms_outcomes);
	metrics_sms_outcomes[metrics_nsms].name = xstrdup(outcome);
	metrics_sms_outcomes[metrics_nsms].n = 1;
	metrics_nsms++;
}

/* Responses appended to the spool. */
void
metrics_spool_appended(int n)
{
	metrics_spooled += (unsigned long long)n;
}

/*
 * A fold of the aggregates committed rows responses, memory of them from
 * sipasd's own memory (or failed: rows < 0).
 */
void
metrics_aggregate(long rows, long memory)
{
	if (rows < 0) {
		metrics_agg_failures++;
		return;
	}
	metrics_agg_folds++;
	metrics_agg_rows += (unsigned long long)rows;
	metrics_agg_memory += (unsigned long long)memory;
}

/* A password sign-in: "ok", "refused" (wrong or unknown), "locked". */
void
metrics_login(const char *outcome)
{
	size_t i;

	for (i = 0; i < METRICS_NLOGIN; i++) {
		if (strcmp(outcome, metrics_login_outcomes[i]) == 0)
			metrics_logins[i]++;
	}
}

/* A login began its lockout. */
void
metrics_lockout(void)
{
	metrics_lockouts++;
}

/* Spooled responses replayed, by outcome (a fixed set). */
void
metrics_spool_replayed(const char *outcome, int n)
{
	size_t i;

	for (i = 0; i < METRICS_NSPOOL; i++) {
		if (strcmp(metrics_spool_outcomes[i], outcome) == 0) {
			metrics_spool_replays[i] += (unsigned long long)n;
			return;
		}
	}
	ASSERT(0);
}

/* An append refused: the spool is full. */
void
metrics_spool_full(void)
{
	metrics_spool_fulls++;
}


/* The gauges: a function the owner of the value registered, or none (0). */
static struct {
	metrics_gauge_cb cb;
	void *arg;
} metrics_gauges[METRICS_GAUGE_COUNT];

/* Read a gauge from its owner whenever the metrics are printed. */
void
metrics_gauge_register(enum metrics_gauge g, metrics_gauge_cb cb, void *arg)
{
	metrics_gauges[g].cb = cb;
	metrics_gauges[g].arg = arg;
}

/* A gauge's value now. */
static long
metrics_gauge(enum metrics_gauge g)
{
	return metrics_gauges[g].cb != NULL ?
	    metrics_gauges[g].cb(metrics_gauges[g].arg) : 0;
}
/* Write a histogram's lines. */
static void
metrics_hist_print(struct evbuffer *b, const char *name, const char *help,
    const struct metrics_hist *h)
{
	unsigned long long cum = 0;
	size_t i;

	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name,
	    help, name);
	for (i = 0; i < h->nle; i++) {
		cum += h->count[i];
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    h->le[i], cum);
	}
	cum += h->count[h->nle];
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", name, cum, name, h->sum, name, h->total);
}

/* Write everything in the Prometheus text format. */
void
metrics_print(struct evbuffer *b)
{
	static const char *const dbs[3] = { "write", "read", "aggregate" };
	size_t i;

	evbuffer_add_printf(b, "# HELP sipas_http_requests_total HTTP replies "
	    "by route, method and status.\n"
	    "# TYPE sipas_http_requests_total counter\n");
	for (i = 0; i < metrics_nreqs; i++)
		evbuffer_add_printf(b, "sipas_http_requests_total{route=\"%s\","
		    "method=\"%s\",status=\"%d\"} %llu\n", metrics_reqs[i].route,
		    metrics_reqs[i].method, metrics_reqs[i].status,
		    metrics_reqs[i].n);
	metrics_hist_print(b, "sipas_ingest_latency_seconds", "Seconds from "
	    "the arrival of a response to its reply after COMMIT.",
	    &metrics_latency);
	metrics_hist_print(b, "sipas_ingest_batch_size", "Responses per "
	    "database transaction.", &metrics_batches);
	evbuffer_add_printf(b, "# HELP sipas_ingest_queue_depth Validated "
	    "responses waiting for a batch.\n# TYPE sipas_ingest_queue_depth "
	    "gauge\nsipas_ingest_queue_depth %ld\n", metrics_gauge(METRICS_GAUGE_QUEUE));
	evbuffer_add_printf(b, "# HELP sipas_http_inflight Requests not yet "
	    "answered.\n# TYPE sipas_http_inflight gauge\n"
	    "sipas_http_inflight %ld\n", metrics_gauge(METRICS_GAUGE_INFLIGHT));
	evbuffer_add_printf(b, "# HELP sipas_http_connections Open client "
	    "connections.\n# TYPE sipas_http_connections gauge\n"
	    "sipas_http_connections %ld\n",
	    metrics_gauge(METRICS_GAUGE_CONNECTIONS));
	evbuffer_add_printf(b, "# HELP sipas_limit_rejections_total Requests "
	    "or connections refused by a limit.\n"
	    "# TYPE sipas_limit_rejections_total counter\n");
	for (i = 0; i < METRICS_LIMIT_COUNT; i++)
		evbuffer_add_printf(b, "sipas_limit_rejections_total{limit=\"%s\"}"
		    " %llu\n", metrics_limit_names[i], metrics_limits[i]);
	evbuffer_add_printf(b, "# HELP sipas_db_connections_total Database "
	    "connections established.\n"
	    "# TYPE sipas_db_connections_total counter\n");
	for (i = 0; i < METRICS_NLE(dbs); i++)
		evbuffer_add_printf(b, "sipas_db_connections_total{db=\"%s\"} "
		    "%llu\n", dbs[i], metrics_db_up[i]);
	evbuffer_add_printf(b, "# HELP sipas_db_reconnects_total Database "
	    "connections established after the first.\n"
	    "# TYPE sipas_db_reconnects_total counter\n");
	for (i = 0; i < METRICS_NLE(dbs); i++)
		evbuffer_add_printf(b, "sipas_db_reconnects_total{db=\"%s\"} "
		    "%llu\n", dbs[i], metrics_db_up[i] > 0 ? metrics_db_up[i] - 1 :
		    0);
	evbuffer_add_printf(b, "# HELP sipas_db_failures_total Database "
	    "connections lost or failed.\n"
	    "# TYPE sipas_db_failures_total counter\n");
	for (i = 0; i < METRICS_NLE(dbs); i++)
		evbuffer_add_printf(b, "sipas_db_failures_total{db=\"%s\"} "
		    "%llu\n", dbs[i], metrics_db_down[i]);
	evbuffer_add_printf(b, "# HELP sipas_db_up 1 when the connection is "
	    "up.\n# TYPE sipas_db_up gauge\nsipas_db_up{db=\"write\"} %d\n"
	    "sipas_db_up{db=\"read\"} %d\n",
	    metrics_gauge(METRICS_GAUGE_DB_WRITE_UP) != 0,
	    metrics_gauge(METRICS_GAUGE_DB_READ_UP) != 0);
	evbuffer_add_printf(b, "# HELP sipas_db_read_standby 1 when the reads "
	    "go to a standby (db_read).\n# TYPE sipas_db_read_standby gauge\n"
	    "sipas_db_read_standby %d\n"
	    "# HELP sipas_db_read_lag_seconds How far the reads' data may be "
	    "behind the primary.\n# TYPE sipas_db_read_lag_seconds gauge\n"
	    "sipas_db_read_lag_seconds %.3f\n",
	    metrics_gauge(METRICS_GAUGE_DB_READ_STANDBY) != 0,
	    (double)metrics_gauge(METRICS_GAUGE_DB_READ_LAG_MS) / 1000.0);
	evbuffer_add_printf(b, "# HELP sipas_spool_depth Spooled responses "
	    "not yet replayed.\n# TYPE sipas_spool_depth gauge\n"
	    "sipas_spool_depth %ld\n",
	    metrics_gauge(METRICS_GAUGE_SPOOL_DEPTH));
	evbuffer_add_printf(b, "# HELP sipas_spool_spooled_total Responses "
	    "appended to the spool (answered 202).\n"
	    "# TYPE sipas_spool_spooled_total counter\n"
	    "sipas_spool_spooled_total %llu\n", metrics_spooled);
	evbuffer_add_printf(b, "# HELP sipas_spool_replayed_total Spooled "
	    "responses replayed, by outcome.\n"
	    "# TYPE sipas_spool_replayed_total counter\n");
	for (i = 0; i < METRICS_NSPOOL; i++)
		evbuffer_add_printf(b, "sipas_spool_replayed_total{outcome=\"%s\"}"
		    " %llu\n", metrics_spool_outcomes[i],
		    metrics_spool_replays[i]);
	evbuffer_add_printf(b, "# HELP sipas_aggregate_folds_total Folds of "
	    "the incremental aggregates committed (docs/scale.md).\n"
	    "# TYPE sipas_aggregate_folds_total counter\n"
	    "sipas_aggregate_folds_total %llu\n"
	    "# HELP sipas_aggregate_folded_total Responses folded into the "
	    "aggregates.\n"
	    "# TYPE sipas_aggregate_folded_total counter\n"
	    "sipas_aggregate_folded_total %llu\n"
	    "# HELP sipas_aggregate_failures_total Folds rolled back.\n"
	    "# TYPE sipas_aggregate_failures_total counter\n"
	    "sipas_aggregate_failures_total %llu\n"
	    "# HELP sipas_aggregate_from_memory_total Responses folded from "
	    "what sipasd held of them since storing them, not read back.\n"
	    "# TYPE sipas_aggregate_from_memory_total counter\n"
	    "sipas_aggregate_from_memory_total %llu\n", metrics_agg_folds,
	    metrics_agg_rows, metrics_agg_failures, metrics_agg_memory);
	evbuffer_add_printf(b, "# HELP sipas_spool_full_total Responses "
	    "answered 503 because the spool was full.\n"
	    "# TYPE sipas_spool_full_total counter\n"
	    "sipas_spool_full_total %llu\n", metrics_spool_fulls);
	evbuffer_add_printf(b, "# HELP sipas_sms_total SMS answered, by "
	    "outcome.\n# TYPE sipas_sms_total counter\n");
	for (i = 0; i < metrics_nsms; i++)
		evbuffer_add_printf(b, "sipas_sms_total{outcome=\"%s\"} %llu\n",
		    metrics_sms_outcomes[i].name, metrics_sms_outcomes[i].n);
	evbuffer_add_printf(b, "# HELP sipas_logins_total Password sign-ins, "
	    "by outcome.\n# TYPE sipas_logins_total counter\n");
	for (i = 0; i < METRICS_NLOGIN; i++)
		evbuffer_add_printf(b, "sipas_logins_total{outcome=\"%s\"} %llu\n",
		    metrics_login_outcomes[i], metrics_logins[i]);
	evbuffer_add_printf(b, "# HELP sipas_login_lockouts_total Logins "
	    "locked out after too many wrong passwords.\n"
	    "# TYPE sipas_login_lockouts_total counter\n"
	    "sipas_login_lockouts_total %llu\n", metrics_lockouts);
}
