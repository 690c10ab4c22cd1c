/*
 * bodystream.c: the body of POST /api/v1/uploads handed to upload.c as it
 * arrives, so that an upload of any size needs a bounded amount of memory.
 *
 * Owns, per client connection, a small state machine over the bytes added
 * to the connection's input buffer. limits.c calls bodystream_input from its
 * evbuffer callback, which runs inside the socket read, before evhttp's read
 * callback looks at the buffer:
 *
 *  HEAD  the bytes of a request line and headers are taken out of evhttp's
 *        buffer and held here until the blank line (a head longer than
 *        evhttp takes is cut off with a JSON 431). A "POST /api/v1/uploads"
 *        with exactly one Content-Length, no Transfer-Encoding and no folded
 *        header line goes back with that header changed to
 *        "Content-Length: 0", so that evhttp dispatches it at once; any other
 *        head goes back unchanged.
 *  PASS  the rest of that other request is evhttp's, untouched. When evhttp
 *        dispatches it with nothing more in its buffer, the next byte starts
 *        a head again; if more is there (a client pipelining requests),
 *        it stays PASS until a dispatch leaves the buffer empty.
 *  BODY  the upload's body bytes are moved from evhttp's buffer into ours
 *        until Content-Length bytes have come. Above BODYSTREAM_HIGH held
 *        bytes the socket is not read (TCP pushes back on the client) until
 *        the handler has read some.
 *  DONE  the body is whole; anything after it is thrown away: the reply to
 *        a streamed request closes the connection (http.c adds the header).
 *
 * While the body streams, evhttp waits for the handler's reply and does not
 * look at its buffer; the buffer's read low watermark is 1, so that evhttp's
 * read callback never runs on the emptied buffer. The handler's ready
 * callback runs from the event loop (an event made active), never from
 * inside a socket read. evhttp's idle timeout still applies to the socket
 * (the stream re-enables reading, and with it the timeout, at start).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "daemon/channels/bodystream.h"
#include "daemon/request.h"
#include "sipas/util.h"

/* Seconds a refused body is still read and thrown away after the reply. */
#define BODYSTREAM_LINGER 2.0

enum bodystream_state {
	BODYSTREAM_HEAD,
	BODYSTREAM_PASS,
	BODYSTREAM_BODY,
	BODYSTREAM_DONE
};

struct bodystream {
	struct bufferevent *bev;	/* evhttp's; NULL once it let go */
	struct event *ev_ready;
	enum bodystream_state state;
	struct evbuffer *hold;		/* HEAD: the head so far */
	struct evbuffer *body;		/* BODY: arrived, not yet read */
	uint64_t length;		/* the Content-Length */
	uint64_t received;
	int adding;			/* our own changes to the input */
	int expect;			/* Expect: 100-continue */
	int dispatched;			/* evhttp dispatched the request */
	int waiting;			/* a read returned BODYSTREAM_WAIT */
	int paused;			/* reading stopped: ours is full */
	int released;			/* the request is done with it */
	int unstreamed;			/* the last head: an upload not streamed */
	size_t scanned;			/* HEAD: lines of hold seen whole */
	int conn_holds, req_holds;	/* its two owners */
	double linger_until;
	void (*ready)(void *);
	void *arg;
};

/* The handler can read on (an active event: from the loop). */
static void
bodystream_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bodystream *bs = arg;

	(void)fd;
	(void)what;
	if (bs->ready != NULL && !bs->released)
		bs->ready(bs->arg);
}

/* Wake the handler if it is waiting. */
static void
bodystream_wake(struct bodystream *bs)
{
	if (bs->waiting) {
		bs->waiting = 0;
		event_active(bs->ev_ready, 0, 0);
	}
}

/* A new connection's stream, on the bufferevent evhttp reads. */
struct bodystream *
bodystream_create(struct bufferevent *bev)
{
	struct bodystream *bs = xcalloc(1, sizeof *bs);

	bs->bev = bev;
	bs->ev_ready = event_new(bufferevent_get_base(bev), -1, 0,
	    bodystream_ready_cb, bs);
	ASSERT(bs->ev_ready != NULL);
	bs->hold = evbuffer_new();
	bs->body = evbuffer_new();
	ASSERT(bs->hold != NULL && bs->body != NULL);
	bs->conn_holds = 1;
	/* evhttp's read callback only when there is something to read. */
	bufferevent_setwatermark(bev, EV_READ, 1, 0);
	return bs;
}

static void
bodystream_free(struct bodystream *bs)
{
	event_free(bs->ev_ready);
	evbuffer_free(bs->hold);
	evbuffer_free(bs->body);
	free(bs);
}

/*
 * The offset just past the blank line ending a head in p[0..len), or 0.
 * Scanning starts at *line, the start of a line not yet whole, and leaves
 * it at the next such line (a head arriving in small pieces is read once).
 */
static size_t
bodystream_head_end(const char *p, size_t len, size_t *line)
{
	size_t i = *line, start;

	for (;;) {
		start = i;
		while (i < len && p[i] != '\n')
			i++;
		if (i == len) {
			*line = start;
			return 0;
		}
		if (i == start || (i == start + 1 && p[start] == '\r'))
			return i + 1;
		i++;
	}
}

/* Does line p[0..len) (no end of line) name header name? *value after ':'. */
static int
bodystream_header_is(const char *p, size_t len, const char *name,
    const char **value, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return 0;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*value = p;
	*vlen = len;
	return 1;
}

/*
 * Is head p[0..end) a streamable upload? Then 1, its body's length, whether
 * it expects "100 Continue", and where its Content-Length line starts and
 * ends (before the end of line). 2: an upload that cannot be streamed.
 */
static int
bodystream_head_parse(const char *p, size_t end, uint64_t *length,
    int *expect, size_t *cl_start, size_t *cl_end)
{
	size_t plen = strlen(BODYSTREAM_PATH), i, ls, le, vlen, k;
	const char *v;
	int ncl = 0;

	/* "POST /api/v1/uploads[?query] HTTP/1.x", or the page's /uploads */
	if (end < 5 + plen || memcmp(p, "POST ", 5) != 0 ||
	    memcmp(p + 5, BODYSTREAM_PATH, plen) != 0 ||
	    (p[5 + plen] != ' ' && p[5 + plen] != '?')) {
		plen = strlen(BODYSTREAM_PAGE_PATH);
		if (end < 5 + plen || memcmp(p, "POST ", 5) != 0 ||
		    memcmp(p + 5, BODYSTREAM_PAGE_PATH, plen) != 0 ||
		    (p[5 + plen] != ' ' && p[5 + plen] != '?'))
			return 0;
	}
	for (i = 5 + plen; i < end && p[i] != ' ' && p[i] != '\n'; i++)
		;
	if (end - i < 9 || memcmp(p + i, " HTTP/1.", 8) != 0)
		return 2;
	while (i < end && p[i] != '\n')
		i++;
	i++;

	*expect = 0;
	*length = 0;
	for (ls = i; ls < end; ls = le + 1) {
		for (le = ls; le < end && p[le] != '\n'; le++)
			;
		k = le;
		if (k > ls && p[k - 1] == '\r')
			k--;
		if (k == ls)
			break; /* the blank line */
		if (p[ls] == ' ' || p[ls] == '\t')
			return 2; /* a folded line: evhttp's business */
		if (bodystream_header_is(p + ls, k - ls, "Transfer-Encoding", &v,
		    &vlen))
			return 2;
		if (bodystream_header_is(p + ls, k - ls, "Expect", &v, &vlen) &&
		    vlen == 12 && strncasecmp(v, "100-continue", 12) == 0)
			*expect = 1;
		if (bodystream_header_is(p + ls, k - ls, "Content-Length", &v,
		    &vlen)) {
			if (vlen == 0 || vlen > 15)
				return 2;
			*length = 0;
			for (i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return 2;
				*length = *length * 10 + (uint64_t)(v[i] - '0');
			}
			*cl_start = ls;
			*cl_end = k;
			ncl++;
		}
	}
	return ncl == 1 && *length > 0 ? 1 : 2;
}

/* BODY: take body bytes from src (what is past the body is thrown away). */
static void
bodystream_take(struct bodystream *bs, struct evbuffer *src)
{
	size_t avail = evbuffer_get_length(src), n;
	uint64_t left = bs->length - bs->received;

	n = (uint64_t)avail < left ? avail : (size_t)left;
	if (bs->released)
		evbuffer_drain(src, n);
	else
		evbuffer_remove_buffer(src, bs->body, n);
	bs->received += n;
	if (bs->received == bs->length) {
		bs->state = BODYSTREAM_DONE;
		evbuffer_drain(src, evbuffer_get_length(src));
	}
	/* Full: stop reading (again, if evhttp enabled it meanwhile). */
	if (!bs->released && bs->bev != NULL &&
	    evbuffer_get_length(bs->body) >= BODYSTREAM_HIGH) {
		bs->paused = 1;
		if (bufferevent_get_enabled(bs->bev) & EV_READ)
			bufferevent_disable(bs->bev, EV_READ);
	}
	if (n > 0 || bs->state == BODYSTREAM_DONE)
		bodystream_wake(bs);
}

/*
 * HEAD: is the head whole? Then give it back to evhttp (rewritten or not).
 * BODYSTREAM_IN_TOO_LARGE if it is longer than evhttp takes: limits.c
 * answers 431 (evhttp's own answer would be an HTML page).
 */
static int
bodystream_head(struct bodystream *bs, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(bs->hold), end, cs = 0, ce = 0;
	const char *p;
	uint64_t length;
	int expect, kind;

	if (len > REQUEST_HEAD_MAX + 2)
		len = REQUEST_HEAD_MAX + 2; /* room for the blank line */
	p = (const char *)evbuffer_pullup(bs->hold, (ev_ssize_t)len);
	end = p != NULL ? bodystream_head_end(p, len, &bs->scanned) : 0;
	if (end > REQUEST_HEAD_MAX || (end == 0 && len > REQUEST_HEAD_MAX)) {
		evbuffer_drain(bs->hold, evbuffer_get_length(bs->hold));
		bs->scanned = 0;
		bs->state = BODYSTREAM_DONE;
		return BODYSTREAM_IN_TOO_LARGE;
	}
	if (end == 0)
		return BODYSTREAM_IN_REQUEST;
	bs->scanned = 0; /* for the next head */
	kind = bodystream_head_parse(p, end, &length, &expect, &cs, &ce);
	bs->unstreamed = kind == 2;
	if (kind != 1) {
		evbuffer_add_buffer(in, bs->hold);
		bs->state = BODYSTREAM_PASS;
		return BODYSTREAM_IN_REQUEST;
	}
	evbuffer_add(in, p, cs);
	evbuffer_add(in, "Content-Length: 0", sizeof "Content-Length: 0" - 1);
	evbuffer_add(in, p + ce, end - ce);
	evbuffer_drain(bs->hold, end);
	bs->state = BODYSTREAM_BODY;
	bs->length = length;
	bs->received = 0;
	bs->expect = expect;
	bodystream_take(bs, bs->hold);
	evbuffer_drain(bs->hold, evbuffer_get_length(bs->hold));
	return BODYSTREAM_IN_REQUEST;
}

/* n bytes were added to the connection's input (see the top). */
int
bodystream_input(struct bodystream *bs, struct evbuffer *in, size_t n)
{
	int said = BODYSTREAM_IN_BODY;

	if (bs->adding)
		return BODYSTREAM_IN_BODY;
	bs->adding = 1;
	switch (bs->state) {
	case BODYSTREAM_HEAD:
		said = BODYSTREAM_IN_REQUEST;
		if (evbuffer_get_length(in) != n) {
			/* Bytes evhttp has not read: not at a request's start. */
			bs->state = BODYSTREAM_PASS;
			if (evbuffer_get_length(bs->hold) > 0) {
				/* Cannot be: keep the order all the same. */
				evbuffer_prepend_buffer(in, bs->hold);
				bs->scanned = 0;
			}
			break;
		}
		evbuffer_add_buffer(bs->hold, in);
		said = bodystream_head(bs, in);
		break;
	case BODYSTREAM_PASS:
		said = BODYSTREAM_IN_REQUEST;
		break;
	case BODYSTREAM_BODY:
		bodystream_take(bs, in);
		break;
	case BODYSTREAM_DONE:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	}
	bs->adding = 0;
	return said;
}

/* evhttp dispatched a request on this connection. */
int
bodystream_dispatched(struct bodystream *bs, struct evhttp_request *req)
{
	(void)req;
	switch (bs->state) {
	case BODYSTREAM_PASS:
		/* Nothing after it: the next byte starts a request. */
		bs->unstreamed = 0;
		if (bs->bev != NULL && evbuffer_get_length(
		    bufferevent_get_input(bs->bev)) == 0) {
			bs->state = BODYSTREAM_HEAD;
			bs->scanned = 0;
		}
		return 0;
	case BODYSTREAM_BODY:
	case BODYSTREAM_DONE:
		if (bs->dispatched)
			return 0;
		bs->dispatched = 1;
		bs->req_holds = 1;
		return 1;
	case BODYSTREAM_HEAD:
		break;
	}
	return 0;
}

/* Is the request arriving an upload that is not streamed (chunked...)? */
int
bodystream_unstreamed(const struct bodystream *bs)
{
	return bs->state == BODYSTREAM_PASS && bs->unstreamed;
}

/* Still throwing a refused body away after evhttp let the connection go? */
int
bodystream_linger(struct bodystream *bs)
{
	double now;

	if (bs->state != BODYSTREAM_BODY || bs->bev == NULL ||
	    !(bufferevent_get_enabled(bs->bev) & EV_READ))
		return 0;
	now = util_now();
	if (bs->linger_until == 0)
		bs->linger_until = now + BODYSTREAM_LINGER;
	return now < bs->linger_until;
}

/* evhttp let the connection go. */
void
bodystream_conn_gone(struct bodystream *bs)
{
	bs->bev = NULL;
	bs->conn_holds = 0;
	bodystream_wake(bs);
	if (!bs->req_holds)
		bodystream_free(bs);
}

uint64_t
bodystream_length(const struct bodystream *bs)
{
	return bs->length;
}

uint64_t
bodystream_received(const struct bodystream *bs)
{
	return bs->received;
}

/* The handler starts reading. */
void
bodystream_start(struct bodystream *bs, void (*ready)(void *), void *arg)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	evutil_socket_t fd;

	bs->ready = ready;
	bs->arg = arg;
	if (bs->bev == NULL || bs->state != BODYSTREAM_BODY)
		return;
	/* Nothing else is being written: evhttp reads a request only after
	 * the last reply went out. */
	fd = bufferevent_getfd(bs->bev);
	if (bs->expect && bs->received == 0 && fd >= 0 && evbuffer_get_length(
	    bufferevent_get_output(bs->bev)) == 0)
		(void)send(fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* evhttp stopped reading when it dispatched the request. */
	if (!bs->paused)
		bufferevent_enable(bs->bev, EV_READ);
}

/* Up to n bytes of the body. */
ssize_t
bodystream_read(struct bodystream *bs, void *buf, size_t n)
{
	size_t have = evbuffer_get_length(bs->body);
	int got;

	if (have > 0) {
		got = evbuffer_remove(bs->body, buf, n);
		ASSERT(got > 0);
		if (bs->paused && have - (size_t)got < BODYSTREAM_HIGH / 2 &&
		    bs->bev != NULL) {
			bs->paused = 0;
			bufferevent_enable(bs->bev, EV_READ);
		}
		return got;
	}
	if (bs->received == bs->length)
		return 0;
	if (bs->bev == NULL)
		return BODYSTREAM_GONE;
	bs->waiting = 1;
	return BODYSTREAM_WAIT;
}

/* The request is done with it. */
void
bodystream_release(struct bodystream *bs)
{
	bs->released = 1;
	bs->req_holds = 0;
	bs->ready = NULL;
	bs->waiting = 0;
	event_del(bs->ev_ready);
	evbuffer_drain(bs->body, evbuffer_get_length(bs->body));
	if (!bs->conn_holds)
		bodystream_free(bs);
}
