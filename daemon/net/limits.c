/*
 * limits.c: maximum connections, the whole-request deadline and the rate
 * limits.
 *
 * Owns a record per client connection and the token buckets. Must not reply
 * to requests other than with 429, nor touch evhttp's connections beyond
 * their socket (a 408 or 413 written to it before it is shut down).
 *
 * libevent 2.1 has no hook when a server connection opens or closes and no
 * deadline for reading a request (its timeout is an idle timeout, which a
 * client sending one byte at a time never triggers). So sipasd makes each
 * connection's bufferevent itself (evhttp_set_bevcb), counts it, keeps a
 * reference to it and watches its input buffer: the first byte of a request
 * starts the request clock, a request that arrives whole (http.c) stops it.
 * Each accept and a sweep every LIMITS_SWEEP_MS find the bufferevents evhttp
 * has freed (it clears their callbacks; our reference keeps them, and their
 * socket, alive until then: at most one sweep longer), and the sweep finds
 * the requests past request_timeout: those get a 408 written straight to the
 * socket, which is then shut down, so that evhttp reads EOF and frees the
 * connection itself. A request whose bytes pass the largest body of any route
 * plus the headers is cut off the same way with a 413 (evhttp's own body
 * limit would answer with an HTML page, before reading, on Content-Length).
 * Every byte added to a connection's input passes bodystream.c first, which
 * takes the bodies of uploads out of evhttp's hands; those are not counted.
 * A connection beyond max_connections is refused at its first request with
 * 503 (http.c asks limits_conn_status).
 *
 * Rate limits are token buckets (rate per second, burst) in a small hash
 * table keyed by a hash of the client address or of the Authorization header
 * (never the token itself); when the table is full the least recently used
 * bucket of a probe run is reused.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "daemon/channels/bodystream.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/net/limits.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "sipas/util.h"

struct limits_conn {
	LIST_ENTRY(limits_conn) entry;
	LIST_ENTRY(limits_conn) slot;	/* in limits_conn_tab */
	struct bufferevent *bev;	/* ours and evhttp's */
	struct bodystream *bs;		/* its upload bodies */
	double since;			/* when the request clock started */
	int reading;			/* a request has started, not yet arrived */
	size_t bytes;			/* of the request so far */
	int cut;			/* limits_cut shut it down */
	int refused;			/* over max_connections */
};

static LIST_HEAD(, limits_conn) limits_conns = LIST_HEAD_INITIALIZER(limits_conns);
/*
 * The same connections by their bufferevent, so that each request finds its
 * connection without walking all of them.
 */
#define LIMITS_CONN_SLOTS 1024
static LIST_HEAD(limits_conn_slot, limits_conn) limits_conn_tab[LIMITS_CONN_SLOTS];
static long limits_nconns;
static struct event *limits_ev_sweep;
static struct sipasd *limits_sd;

#define LIMITS_SWEEP_MS 200
#define LIMITS_BUCKETS 4096
#define LIMITS_PROBE 8

struct limits_bucket {
	uint64_t key;	/* 0: free */
	double tokens;
	double last;	/* seconds */
};

static struct limits_bucket limits_ip[LIMITS_BUCKETS];
static struct limits_bucket limits_token[LIMITS_BUCKETS];

/* Write a JSON error to the socket and shut it down: evhttp reads EOF. */
static void
limits_cut(struct limits_conn *c, const char *status, const char *code,
    const char *message)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	char body[256], reply[512];
	int blen, n;

	c->reading = 0;
	c->cut = 1;
	if (fd < 0)
		return;
	blen = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\","
	    "\"message\":\"%s\"}}", code, message);
	n = snprintf(reply, sizeof reply, "HTTP/1.1 %s\r\nContent-Type: "
	    "application/json\r\nConnection: close\r\nContent-Length: %d\r\n"
	    "\r\n%s", status, blen, body);
	if (blen > 0 && (size_t)blen < sizeof body && n > 0 &&
	    (size_t)n < sizeof reply)
		(void)send(fd, reply, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_RDWR);
}

/* Bytes arrived: the first of a request starts its clock. */
static void
limits_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct limits_conn *c = arg;
	const struct config *cfg = limits_sd->config;
	size_t cap;

	if (info->n_added == 0 || c->cut)
		return;
	/* A streamed upload body is not a request's bytes: it has no
	 * deadline but the idle timeout, and upload.c checks its length. */
	switch (c->bs != NULL ? bodystream_input(c->bs, buf, info->n_added) :
	    BODYSTREAM_IN_REQUEST) {
	case BODYSTREAM_IN_BODY:
		return;
	case BODYSTREAM_IN_TOO_LARGE:
		log_info("a request line and headers of more than %d bytes: "
		    "431, connection closed", REQUEST_HEAD_MAX);
		metrics_limit(METRICS_LIMIT_HEADERS);
		limits_cut(c, "431 Request Header Fields Too Large",
		    "headers_too_large", "the request line and headers are "
		    "larger than 16384 bytes");
		return;
	}
	if (!c->reading) {
		c->reading = 1;
		c->since = util_now();
		c->bytes = 0;
	}
	c->bytes += info->n_added;
	/* The largest body evhttp reads whole, plus its header limit. */
	cap = (size_t)cfg->max_body + REQUEST_HEAD_MAX;
	if (c->bytes > cap) {
		log_info("a request of more than %zu bytes: 413, connection "
		    "closed", cap);
		metrics_limit(METRICS_LIMIT_BODY);
		limits_cut(c, "413 Payload Too Large", "too_large",
		    c->bs != NULL && bodystream_unstreamed(c->bs) ?
		    "an upload without a Content-Length is held to max_body; "
		    "send it with a Content-Length to have it streamed" :
		    "the request is too large");
	}
}

/* The list of limits_conn_tab a bufferevent's connection is in. */
static struct limits_conn_slot *
limits_conn_slot_of(const struct bufferevent *bev)
{
	uintptr_t p = (uintptr_t)bev;

	return &limits_conn_tab[((p >> 4) ^ (p >> 14)) % LIMITS_CONN_SLOTS];
}

/* Drop the connections evhttp has freed (it clears their callbacks). */
static void
limits_reap(void)
{
	struct limits_conn *c, *next;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;

	for (c = LIST_FIRST(&limits_conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		bufferevent_getcb(c->bev, &rd, &wr, &ev, NULL);
		if (rd == NULL && wr == NULL && ev == NULL) {
			/* A refused upload's body is still coming: read it a
			 * little longer, so that closing does not reset the
			 * reply away. */
			if (c->bs != NULL && bodystream_linger(c->bs))
				continue;
			/* evhttp let go: ours was the last reference. */
			LIST_REMOVE(c, entry);
			LIST_REMOVE(c, slot);
			limits_nconns--;
			if (c->bs != NULL)
				bodystream_conn_gone(c->bs);
			bufferevent_decref(c->bev);
			free(c);
		}
	}
}

/* Drop what evhttp freed; cut off requests past request_timeout. */
static void
limits_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct limits_conn *c;
	double now = util_now(), max;
	struct timeval tv = { 0, LIMITS_SWEEP_MS * 1000 };

	max = (double)limits_sd->config->request_timeout;
	limits_reap();
	LIST_FOREACH(c, &limits_conns, entry) {
		if (c->reading && now - c->since > max) {
			log_info("a client took more than %.0f s to send a "
			    "request: 408, connection closed", max);
			metrics_limit(METRICS_LIMIT_TIMEOUT);
			limits_cut(c, "408 Request Timeout", "timeout",
			    "the request took too long to arrive");
		}
	}
	if (!LIST_EMPTY(&limits_conns))
		evtimer_add(limits_ev_sweep, &tv);
}

/* evhttp accepted a connection: make its bufferevent and count it. */
static struct bufferevent *
limits_bevcb(struct event_base *base, void *arg)
{
	struct sipasd *sd = arg;
	struct limits_conn *c = xcalloc(1, sizeof *c);
	long max = sd->config->max_connections;
	struct timeval tv = { 0, LIMITS_SWEEP_MS * 1000 };

	limits_reap(); /* so that closed connections never count */
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	ASSERT(c->bev != NULL);
	bufferevent_incref(c->bev);
	c->bs = bodystream_create(c->bev);
	evbuffer_add_cb(bufferevent_get_input(c->bev), limits_input, c);
	LIST_INSERT_HEAD(&limits_conns, c, entry);
	LIST_INSERT_HEAD(limits_conn_slot_of(c->bev), c, slot);
	limits_nconns++;
	if (max > 0 && limits_nconns > max)
		c->refused = 1;
	log_debug("connection accepted: %ld open", limits_nconns);
	if (!evtimer_pending(limits_ev_sweep, NULL))
		evtimer_add(limits_ev_sweep, &tv);
	return c->bev;
}

/* Track the connections of sd->http. */
void
limits_start(struct sipasd *sd)
{
	limits_sd = sd;
	if (limits_ev_sweep == NULL)
		limits_ev_sweep = evtimer_new(sd->base, limits_sweep, NULL);
	evhttp_set_bevcb(sd->http, limits_bevcb, sd);
}

/* Open client connections. */
long
limits_connections(void)
{
	return limits_nconns;
}

/* The connection of a request, or NULL. */
static struct limits_conn *
limits_conn_of(struct request *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	struct bufferevent *bev;
	struct limits_conn *c;

	if (evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	LIST_FOREACH(c, limits_conn_slot_of(bev), slot) {
		if (c->bev == bev)
			return c;
	}
	return NULL;
}

/*
 * What a request's connection must be answered: 0 (go on), 413 (cut off as
 * too large: evhttp hands over what arrived before the EOF; counted already)
 * or 503 (over max_connections; counted here).
 */
int
limits_conn_status(struct request *r)
{
	struct limits_conn *c = limits_conn_of(r);

	if (c == NULL)
		return 0;
	if (c->cut)
		return 413;
	if (!c->refused)
		return 0;
	metrics_limit(METRICS_LIMIT_CONNECTIONS);
	return 503;
}

/*
 * A request arrived whole (or its head, if its body is streamed): stop the
 * clock of its connection. Its body stream, or NULL.
 */
struct bodystream *
limits_request_seen(struct request *r)
{
	struct limits_conn *c = limits_conn_of(r);

	if (c == NULL)
		return NULL;
	c->reading = 0;
	c->bytes = 0;
	if (c->bs != NULL && bodystream_dispatched(c->bs, r->req))
		return c->bs;
	return NULL;
}

/* FNV-1a, never 0. */
static uint64_t
limits_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

/*
 * Take one token from key's bucket: 0, or -1 and *wait (seconds until the
 * next token).
 */
static int
limits_take(struct limits_bucket *table, const char *keytext, double rate,
    double burst, double *wait)
{
	uint64_t key = limits_hash(keytext);
	double now = util_now();
	struct limits_bucket *b = NULL, *oldest = NULL;
	size_t i, slot;

	for (i = 0; i < LIMITS_PROBE; i++) {
		slot = (size_t)((key + i) % LIMITS_BUCKETS);
		if (table[slot].key == key) {
			b = &table[slot];
			break;
		}
		if (oldest == NULL || table[slot].key == 0 ||
		    (oldest->key != 0 && table[slot].last < oldest->last))
			oldest = &table[slot];
	}
	if (b == NULL) {
		b = oldest;
		b->key = key;
		b->tokens = burst;
		b->last = now;
	}
	b->tokens = fmin(burst, b->tokens + (now - b->last) * rate);
	b->last = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	*wait = (1 - b->tokens) / rate;
	return -1;
}

/* Reply 429 with Retry-After; what (and what_vi) names the limited client. */
static void
limits_refuse(struct request *r, double wait, const char *what,
    const char *what_vi)
{
	const char *lang = form_lang_api(r);
	char secs[16];

	snprintf(secs, sizeof secs, "%ld", (long)ceil(wait < 1 ? 1 : wait));
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Retry-After", secs);
	http_reply_error(r, 429, "rate_limited", NULL,
	    LANG_TEXT(lang, "quá nhiều yêu cầu từ %s này: chờ %s giây rồi "
	    "thử lại", "too many requests from this %s; retry after %s s"),
	    LANG_TEXT(lang, what_vi, what), secs);
}

/* The rate limits of the client address and of the bearer token. */
int
limits_rate_check(struct request *r)
{
	const struct config *cfg = r->sd->config;
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	const char *auth;
	char *addr = NULL;
	ev_uint16_t port;
	double wait;

	if (cfg->rate_ip > 0 && evcon != NULL) {
		evhttp_connection_get_peer(evcon, &addr, &port);
		if (addr != NULL && limits_take(limits_ip, addr, cfg->rate_ip,
		    (double)cfg->rate_ip_burst, &wait) != 0) {
			metrics_limit(METRICS_LIMIT_RATE_IP);
			limits_refuse(r, wait, "address", "địa chỉ");
			return -1;
		}
	}
	auth = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Authorization");
	if (cfg->rate_token > 0 && auth != NULL && limits_take(limits_token,
	    auth, cfg->rate_token, (double)cfg->rate_token_burst, &wait) != 0) {
		metrics_limit(METRICS_LIMIT_RATE_TOKEN);
		limits_refuse(r, wait, "token", "mã thông báo");
		return -1;
	}
	return 0;
}

/* Forget the buckets and the sweep (connections go with evhttp). */
void
limits_free(void)
{
	struct limits_conn *c;

	if (limits_ev_sweep != NULL)
		event_free(limits_ev_sweep);
	limits_ev_sweep = NULL;
	while ((c = LIST_FIRST(&limits_conns)) != NULL) {
		LIST_REMOVE(c, entry);
		LIST_REMOVE(c, slot);
		if (c->bs != NULL)
			bodystream_conn_gone(c->bs);
		bufferevent_decref(c->bev);
		free(c);
	}
	limits_nconns = 0;
	memset(limits_ip, 0, sizeof limits_ip);
	memset(limits_token, 0, sizeof limits_token);
}
