/*
 * fuzz_bodystream.c: libFuzzer target for the upload body stream
 * (daemon/channels/bodystream.c): the bytes a client sends, cut into chunks at
 * places the input chooses, go through bodystream_input as limits.c hands
 * them over; this harness plays evhttp (it takes what the stream leaves in
 * the buffer and dispatches a request now and then) and the upload handler
 * (it reads the streamed body). Checks that a streamed body never yields
 * more than its Content-Length, that the head evhttp gets for it says
 * "Content-Length: 0", and that nothing leaks.
 *
 * Input: byte 0 seeds the chunk sizes; the rest is the client's bytes.
 */
#define _GNU_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "daemon/channels/bodystream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *fuzz_base;

/* The upload handler's ready callback: nothing to do here. */
static void
fuzz_ready(void *arg)
{
	(void)arg;
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bufferevent *bev;
	struct bodystream *bs;
	struct evbuffer *in;
	uint64_t got = 0;
	unsigned seed;
	size_t off = 1, n, len;
	char buf[4096];
	ssize_t r;
	int streamed = 0;

	if (size < 1)
		return 0;
	if (fuzz_base == NULL)
		fuzz_base = event_base_new();
	bev = bufferevent_socket_new(fuzz_base, -1, 0);
	bs = bodystream_create(bev);
	in = evbuffer_new();
	seed = data[0];
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 700;
		if (n > size - off)
			n = size - off;
		evbuffer_add(in, data + off, n);
		off += n;
		(void)bodystream_input(bs, in, n);
		/* evhttp reads what is left for it. */
		len = evbuffer_get_length(in);
		if (len > 0 && !streamed) {
			char *p = malloc(len);

			evbuffer_remove(in, p, len);
			/* A streamed head reaches evhttp with length 0. */
			if (bodystream_length(bs) > 0 && memmem(p, len,
			    "Content-Length: 0", 17) == NULL)
				abort();
			free(p);
		} else {
			evbuffer_drain(in, len);
		}
		/* evhttp dispatches (the harness: at every third chunk). */
		if ((seed & 3) == 0 && !streamed &&
		    bodystream_dispatched(bs, NULL)) {
			streamed = 1;
			bodystream_start(bs, fuzz_ready, NULL);
		}
		while (streamed && (r = bodystream_read(bs, buf, sizeof buf)) > 0)
			got += (uint64_t)r;
		if (streamed && got > bodystream_length(bs))
			abort();
	}
	if (streamed)
		bodystream_release(bs);
	bodystream_conn_gone(bs);
	evbuffer_free(in);
	bufferevent_free(bev);
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	return 0;
}
