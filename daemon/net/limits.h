/*
 * limits.h: the limits on clients that evhttp does not enforce itself:
 * maximum open connections, the time to send one whole request (slowloris),
 * and per-address and per-token rate limits (token buckets).
 *
 * Bodies: a request larger than the largest body any route takes (plus the
 * headers) is cut off here with a JSON 413, as it arrives; every route holds
 * its body to max_body (also 413) but a streamed upload body (bodystream.h),
 * which upload.c holds to upload_max. Header size and the idle
 * timeout are evhttp's (http_configure);
 * the queue bound is ingest.c's. Every refusal is counted (metrics.h).
 */
#ifndef SIPAS_LIMITS_H
#define SIPAS_LIMITS_H

struct bodystream;
struct request;
struct sipasd;

/* Track the connections of sd->http (before it binds). */
void limits_start(struct sipasd *);
/* Open client connections. */
long limits_connections(void);
/* A request arrived whole (or its head, if its body is streamed): stop its
 * connection's request clock. Its body stream (bodystream.h), or NULL. */
struct bodystream *limits_request_seen(struct request *);
/* 0, or the status the request's connection gets: 503 over max_connections,
 * 413 if it was cut off as too large (the body is partial). */
int limits_conn_status(struct request *);
/* The rate limits: 0 to go on, or -1 after replying 429 (with Retry-After). */
int limits_rate_check(struct request *);
/* Free the rate tables (connections free themselves with evhttp). */
void limits_free(void);

#endif
