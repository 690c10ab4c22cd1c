/*
 * echo.c: the ceiling of bench/ingest.sh. A bare libevent evhttp +
 * Jansson server with one event loop, like sipasd, that does only what any
 * ingest must do: read the body of POST /api/v1/responses, parse it with
 * json_loadb, take its "id" and answer 201 application/json
 * {"id": ..., "status": "stored", "stored_id": N}, about the size of
 * sipasd's answer. Nothing is validated and nothing is stored: sipasd's
 * throughput divided by this one is what durability, validation and the
 * rest of sipasd cost.
 *
 *	bench/echo ADDR PORT
 *
 * Anything else gets 404 (or 400 for a body that is not a JSON object).
 * SIGINT and SIGTERM stop the loop. A benchmark tool: libevent and Jansson
 * only, no project code; not installed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

static json_int_t echo_stored; /* the "stored_id" of the next answer */

/* Send BODY (owned, freed here) with STATUS as application/json. */
static void
echo_reply(struct evhttp_request *req, int status, const char *reason, char *body)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evbuffer_add(out, body, strlen(body));
	free(body);
	evhttp_send_reply(req, status, reason, NULL);
}

/* POST /api/v1/responses: parse, take the id, answer 201. */
static void
echo_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	json_t *body, *answer;
	json_error_t err;
	size_t len;
	char *text;

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST || path == NULL ||
	    strcmp(path, "/api/v1/responses") != 0) {
		echo_reply(req, 404, "Not Found", strdup("{\"error\":{\"code\":\"not_found\"}}"));
		return;
	}
	len = evbuffer_get_length(in);
	body = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &err);
	if (body == NULL || !json_is_object(body)) {
		json_decref(body);
		echo_reply(req, 400, "Bad Request", strdup("{\"error\":{\"code\":\"bad_json\"}}"));
		return;
	}
	answer = json_pack("{s:O?,s:s,s:I}", "id", json_object_get(body, "id"),
	    "status", "stored", "stored_id", ++echo_stored);
	text = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	json_decref(body);
	if (text == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	echo_reply(req, 201, "Created", text);
}

/* SIGINT, SIGTERM: leave the loop. */
static void
echo_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct evhttp *http;
	struct event *sigint, *sigterm;

	if (argc != 3) {
		fprintf(stderr, "usage: echo ADDR PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "echo: libevent initialisation failed\n");
		return 1;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, echo_request, NULL);
	if (evhttp_bind_socket(http, argv[1], (ev_uint16_t)atoi(argv[2])) != 0) {
		fprintf(stderr, "echo: cannot listen on %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	sigint = evsignal_new(base, SIGINT, echo_signal, base);
	sigterm = evsignal_new(base, SIGTERM, echo_signal, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);
	event_free(sigint);
	event_free(sigterm);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
