/*
 * bodystream.h: the body of POST /api/v1/uploads handed to its handler as it
 * arrives (daemon/channels/bodystream.c), so that an upload of any size needs a
 * bounded amount of memory. libevent 2.1's evhttp reads a request's whole
 * body before it calls a handler; limits.c passes every byte a connection
 * receives through here first (an evbuffer callback on the connection's
 * input, which runs before evhttp reads it).
 *
 * A stream belongs to its connection (limits.c: bodystream_create,
 * bodystream_conn_gone) and, once evhttp dispatched its request, also to the
 * request (http.c: bodystream_release when the reply is sent). Only a
 * request with exactly one Content-Length, no Transfer-Encoding and a head
 * that arrived on its own is streamed; any other upload is read whole by
 * evhttp as before (and held to max_body). A streamed request always closes
 * its connection after the reply.
 */
#ifndef SIPAS_BODYSTREAM_H
#define SIPAS_BODYSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bufferevent;
struct evbuffer;
struct evhttp_request;
struct bodystream;

/* Most body bytes held for the handler; above it the socket is not read. */
#define BODYSTREAM_HIGH (256 * 1024)
/* The paths whose bodies are streamed: the API's uploads and the upload page's. */
#define BODYSTREAM_PATH "/api/v1/uploads"
#define BODYSTREAM_PAGE_PATH "/uploads"
/* bodystream_read: nothing yet (ready will be called), or the client left. */
#define BODYSTREAM_WAIT (-1)
#define BODYSTREAM_GONE (-2)

/* limits.c: a new connection's stream, on the bufferevent evhttp reads. */
struct bodystream *bodystream_create(struct bufferevent *);
/* What bodystream_input says of the bytes. */
#define BODYSTREAM_IN_REQUEST 0	/* request bytes: count them */
#define BODYSTREAM_IN_BODY 1	/* a streamed body, or this module's writes */
#define BODYSTREAM_IN_TOO_LARGE 2 /* a head over REQUEST_HEAD_MAX: cut off */
/* limits.c: n bytes were added to the connection's input. */
int bodystream_input(struct bodystream *, struct evbuffer *, size_t n);
/* limits.c: evhttp dispatched req. 1 if its body is streamed here. */
int bodystream_dispatched(struct bodystream *, struct evhttp_request *);
/* limits.c: 1 if the request arriving is an upload evhttp reads whole (sent
 * chunked, say): its 413 says how to send it streamed. */
int bodystream_unstreamed(const struct bodystream *);
/* limits.c: 1 while a refused stream's body is still being read and thrown
 * away, so that the reply is not cut by a reset (at most a few seconds). */
int bodystream_linger(struct bodystream *);
/* limits.c: evhttp let the connection go; frees unless a request holds it. */
void bodystream_conn_gone(struct bodystream *);

/* The Content-Length of the streamed body. */
uint64_t bodystream_length(const struct bodystream *);
/* Body bytes received so far. */
uint64_t bodystream_received(const struct bodystream *);
/*
 * The handler starts reading: "100 Continue" if the client asked for it, and
 * the socket is read again. ready(arg) is called from the event loop when a
 * bodystream_read that returned BODYSTREAM_WAIT can go on.
 */
void bodystream_start(struct bodystream *, void (*ready)(void *), void *arg);
/* Up to n bytes: > 0, 0 at the end of the body, BODYSTREAM_WAIT or
 * BODYSTREAM_GONE (the client left or stopped sending). */
ssize_t bodystream_read(struct bodystream *, void *buf, size_t n);
/* The request is done with it: the rest of the body is thrown away. */
void bodystream_release(struct bodystream *);

#endif
