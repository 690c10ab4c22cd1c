/*
 * accesslog.c: the access log, kept off the path of a busy server.
 *
 * A line per request costs formatting and a write for every response, so at
 * level info the requests are counted instead: once a minute (and when
 * sipasd stops) one line gives how many requests each method, route and
 * status had. Per request, a line is written for every 5xx (warn), for the
 * first ACCESSLOG_4XX_LINES 4xx of each minute (info; the summary says how
 * many more there were) and, at level debug only, for every other reply.
 * The counts are kept in a small table searched by the route's and method's
 * pointers (both static strings).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/net/accesslog.h"
#include "daemon/request.h"
#include "daemon/sipasd.h"

#define ACCESSLOG_INTERVAL_S 60
#define ACCESSLOG_4XX_LINES 10
#define ACCESSLOG_KEYS 48

struct accesslog_key {
	const char *route;
	const char *method;
	int status;
	unsigned long n;
};

static struct accesslog_key accesslog_keys[ACCESSLOG_KEYS];
static size_t accesslog_nkeys;
static unsigned long accesslog_overflow;	/* requests of keys that did not fit */
static unsigned long accesslog_4xx_lines;	/* 4xx lines written this interval */
static unsigned long accesslog_4xx_quiet;	/* 4xx not written this interval */
static struct event *accesslog_timer;

/* Write the counts since the last summary and start again. */
static void
accesslog_summary(void)
{
	char line[1800];
	size_t off = 0, i;
	unsigned long total = accesslog_overflow;
	int n;

	for (i = 0; i < accesslog_nkeys; i++)
		total += accesslog_keys[i].n;
	if (total == 0)
		return;
	line[0] = '\0';
	for (i = 0; i < accesslog_nkeys && off < sizeof line; i++) {
		n = snprintf(line + off, sizeof line - off, "%s%s %s %d: %lu",
		    i > 0 ? ", " : "", accesslog_keys[i].method,
		    accesslog_keys[i].route, accesslog_keys[i].status,
		    accesslog_keys[i].n);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_info("requests answered: %lu (%s%s%lu more); 4xx not logged one by "
	    "one: %lu", total, line, accesslog_nkeys > 0 ? "; " : "",
	    accesslog_overflow, accesslog_4xx_quiet);
	accesslog_nkeys = 0;
	accesslog_overflow = 0;
	accesslog_4xx_lines = 0;
	accesslog_4xx_quiet = 0;
}

/* The summary's timer. */
static void
accesslog_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	accesslog_summary();
}

void
accesslog_start(struct sipasd *sd)
{
	struct timeval tv = { ACCESSLOG_INTERVAL_S, 0 };

	accesslog_timer = event_new(sd->base, -1, EV_PERSIST, accesslog_tick,
	    NULL);
	event_add(accesslog_timer, &tv);
}

void
accesslog_stop(void)
{
	accesslog_summary();
	if (accesslog_timer != NULL)
		event_free(accesslog_timer);
	accesslog_timer = NULL;
}

/* Count a reply in the table. */
static void
accesslog_count(const char *route, const char *method, int status)
{
	struct accesslog_key *k;
	size_t i;

	for (i = 0; i < accesslog_nkeys; i++) {
		k = &accesslog_keys[i];
		if (k->status == status && k->route == route &&
		    k->method == method) {
			k->n++;
			return;
		}
	}
	if (accesslog_nkeys == ACCESSLOG_KEYS) {
		accesslog_overflow++;
		return;
	}
	k = &accesslog_keys[accesslog_nkeys++];
	k->route = route;
	k->method = method;
	k->status = status;
	k->n = 1;
}

void
accesslog_request(const struct request *r, const char *route, int status,
    double ms)
{
	enum log_level level = LOG_LEVEL_DEBUG;
	char qpath[512];

	accesslog_count(route, r->method, status);
	if (status >= 500)
		level = LOG_LEVEL_WARN;
	else if (status >= 400) {
		if (accesslog_4xx_lines < ACCESSLOG_4XX_LINES) {
			accesslog_4xx_lines++;
			level = LOG_LEVEL_INFO;
		} else
			accesslog_4xx_quiet++;
	}
	if (!log_enabled(level))
		return;
	log_msg(level, r->id, "%s %s %d %.1f ms", r->method,
	    log_quote(qpath, sizeof qpath, r->path), status, ms);
}
