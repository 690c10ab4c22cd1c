/*
 * respost.c: a test and demo tool that posts the rows of a responses CSV
 * (docs/interfaces.md, "Responses CSV") to sipasd as JSON, many requests in
 * flight.
 *
 *	respost --url http://HOST:PORT --token TOKEN --survey CODE
 *	    [--parallel N] [--print] FILE.csv
 *	respost --drop-unit CODE <RESULT.json >RESULT.json
 *
 * The first form turns each data row into the body of POST /api/v1/responses
 * (id, unit, submitted_at, channel, weight, stratum, psu; respondent.<field>
 * columns into "respondent"; every other column into "answers", empty cells
 * left out, numbers as numbers) and sends it over N keep-alive connections
 * (default 8). It prints one line per HTTP status, "STATUS COUNT", and the
 * first error bodies on stderr; exit 0 when every reply was 200 or 201, 1
 * if not, 2 on a usage or file error. With --print it only prints the JSON
 * bodies, one a line.
 *
 * The second form removes one unit from an analysis result (to compare a
 * parent's children with a reference that does not have the parent).
 *
 * A test tool: libevent, libcsv and Jansson only, no project code.
 */
#define _GNU_SOURCE /* asprintf, strndup */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

struct respost {
	/* CSV state */
	char **header;
	int ncols;
	int col;
	int row; /* 0: the header */
	json_t *obj;
	json_t *answers;
	json_t *respondent;
	const char *survey;
	/* the bodies */
	char **bodies;
	size_t nbodies;
	size_t next;
	size_t done;
	/* HTTP */
	struct event_base *base;
	const char *host;
	int port;
	char *auth;
	long status[600];
	int errors_shown;
	int failed;
};

struct respost_conn {
	struct respost *rp;
	struct evhttp_connection *conn;
};

/* A CSV cell is a number: integer or decimal. */
static int
respost_is_number(const char *s, size_t len)
{
	size_t i = 0;
	int digits = 0, dot = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i++;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && !dot)
			dot = 1;
		else
			return 0;
	}
	return digits > 0;
}

/* libcsv: one field. */
static void
respost_field(void *data, size_t len, void *arg)
{
	struct respost *rp = arg;
	const char *name;
	char *s = data;
	json_t *v;

	if (rp->row == 0) {
		if (rp->col == 0 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			len -= 3;
		}
		rp->header = realloc(rp->header, sizeof *rp->header *
		    (size_t)(rp->ncols + 1));
		rp->header[rp->ncols++] = strndup(s, len);
		rp->col++;
		return;
	}
	if (rp->obj == NULL) {
		rp->obj = json_object();
		rp->answers = json_object();
		rp->respondent = json_object();
		json_object_set_new(rp->obj, "survey", json_string(rp->survey));
	}
	if (rp->col >= rp->ncols || len == 0) {
		rp->col++;
		return;
	}
	name = rp->header[rp->col++];
	if (strcmp(name, "weight") == 0) {
		json_object_set_new(rp->obj, name, json_real(strtod(s, NULL)));
		return;
	}
	if (strcmp(name, "id") == 0 || strcmp(name, "unit") == 0 ||
	    strcmp(name, "submitted_at") == 0 || strcmp(name, "channel") == 0 ||
	    strcmp(name, "stratum") == 0 || strcmp(name, "psu") == 0) {
		json_object_set_new(rp->obj, name, json_stringn(s, len));
		return;
	}
	if (strncmp(name, "respondent.", 11) == 0) {
		json_object_set_new(rp->respondent, name + 11,
		    json_stringn(s, len));
		return;
	}
	if (respost_is_number(s, len) && memchr(s, '.', len) == NULL)
		v = json_integer(strtoll(s, NULL, 10));
	else
		v = json_stringn(s, len);
	json_object_set_new(rp->answers, name, v);
}

/* libcsv: end of a row. */
static void
respost_row(int c, void *arg)
{
	struct respost *rp = arg;

	if (rp->row++ == 0 || rp->obj == NULL) {
		rp->col = 0;
		return;
	}
	json_object_set_new(rp->obj, "answers", rp->answers);
	if (json_object_size(rp->respondent) > 0)
		json_object_set_new(rp->obj, "respondent", rp->respondent);
	else
		json_decref(rp->respondent);
	rp->bodies = realloc(rp->bodies, sizeof *rp->bodies *
	    (rp->nbodies + 1));
	rp->bodies[rp->nbodies++] = json_dumps(rp->obj, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(rp->obj);
	rp->obj = NULL;
	rp->col = 0;
}

/* Read the whole CSV into JSON bodies. */
static int
respost_read(struct respost *rp, const char *path)
{
	struct csv_parser p;
	char buf[65536];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "respost: %s: %s\n", path, strerror(errno));
		return -1;
	}
	csv_init(&p, CSV_APPEND_NULL);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (csv_parse(&p, buf, n, respost_field, respost_row, rp) != n) {
			fprintf(stderr, "respost: %s: %s\n", path,
			    csv_strerror(csv_error(&p)));
			fclose(f);
			csv_free(&p);
			return -1;
		}
	}
	csv_fini(&p, respost_field, respost_row, rp);
	csv_free(&p);
	fclose(f);
	return 0;
}

static void respost_send(struct respost_conn *);

/* A reply arrived (or the request failed). */
static void
respost_done(struct evhttp_request *req, void *arg)
{
	struct respost_conn *c = arg;
	struct respost *rp = c->rp;
	struct evbuffer *in;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	size_t len;

	if (code < 0 || code >= 600)
		code = 0;
	rp->status[code]++;
	if (code != 200 && code != 201) {
		rp->failed = 1;
		if (rp->errors_shown++ < 5) {
			in = req != NULL ? evhttp_request_get_input_buffer(req) :
			    NULL;
			len = in != NULL ? evbuffer_get_length(in) : 0;
			fprintf(stderr, "respost: HTTP %d: %.*s\n", code,
			    (int)(len > 400 ? 400 : len), len > 0 ?
			    (char *)evbuffer_pullup(in, -1) : "");
		}
	}
	if (++rp->done == rp->nbodies)
		event_base_loopexit(rp->base, NULL);
	else
		respost_send(c);
}

/* Send the next body on connection c. */
static void
respost_send(struct respost_conn *c)
{
	struct respost *rp = c->rp;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	const char *body;

	if (rp->next >= rp->nbodies)
		return;
	body = rp->bodies[rp->next++];
	req = evhttp_request_new(respost_done, c);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", rp->host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Authorization", rp->auth);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	if (evhttp_make_request(c->conn, req, EVHTTP_REQ_POST,
	    "/api/v1/responses") != 0) {
		fprintf(stderr, "respost: cannot send a request\n");
		exit(2);
	}
}

/* Remove one unit from a result read on stdin. */
static int
respost_drop_unit(const char *unit)
{
	json_error_t jerr;
	json_t *res, *units, *u;
	size_t i;

	if ((res = json_loadf(stdin, 0, &jerr)) == NULL) {
		fprintf(stderr, "respost: stdin: %s\n", jerr.text);
		return 2;
	}
	units = json_object_get(res, "units");
	for (i = 0; i < json_array_size(units); i++) {
		u = json_array_get(units, i);
		if (json_is_string(json_object_get(u, "unit")) &&
		    strcmp(json_string_value(json_object_get(u, "unit")),
		    unit) == 0) {
			json_array_remove(units, i);
			break;
		}
	}
	json_dumpf(res, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(17));
	putchar('\n');
	json_decref(res);
	return 0;
}

/* Usage. */
static int
respost_usage(void)
{
	fprintf(stderr, "usage: respost --url http://HOST:PORT --token TOKEN "
	    "--survey CODE [--parallel N] [--print] FILE.csv\n"
	    "       respost --drop-unit CODE <RESULT.json\n");
	return 2;
}

/* Post a CSV, or drop a unit from a result. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "survey", required_argument, NULL, 's' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "print", no_argument, NULL, 'P' },
		{ "drop-unit", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct respost rp;
	struct respost_conn *conns;
	const char *url = NULL, *token = NULL;
	struct evhttp_uri *uri;
	int c, parallel = 8, print = 0, i;
	size_t k;

	memset(&rp, 0, sizeof rp);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 's':
			rp.survey = optarg;
			break;
		case 'p':
			parallel = atoi(optarg);
			break;
		case 'P':
			print = 1;
			break;
		case 'd':
			return respost_drop_unit(optarg);
		default:
			return respost_usage();
		}
	}
	if (optind != argc - 1 || rp.survey == NULL || parallel < 1 ||
	    (!print && (url == NULL || token == NULL)))
		return respost_usage();
	if (respost_read(&rp, argv[optind]) != 0)
		return 2;
	if (print) {
		for (k = 0; k < rp.nbodies; k++)
			printf("%s\n", rp.bodies[k]);
		return 0;
	}
	if (rp.nbodies == 0) {
		fprintf(stderr, "respost: %s: no rows\n", argv[optind]);
		return 2;
	}
	if ((uri = evhttp_uri_parse(url)) == NULL ||
	    evhttp_uri_get_host(uri) == NULL) {
		fprintf(stderr, "respost: bad url %s\n", url);
		return 2;
	}
	rp.host = evhttp_uri_get_host(uri);
	rp.port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	if (asprintf(&rp.auth, "Bearer %s", token) < 0)
		return 2;
	rp.base = event_base_new();
	conns = calloc((size_t)parallel, sizeof *conns);
	for (i = 0; i < parallel; i++) {
		conns[i].rp = &rp;
		conns[i].conn = evhttp_connection_base_new(rp.base, NULL,
		    rp.host, (unsigned short)rp.port);
		evhttp_connection_set_timeout(conns[i].conn, 60);
		respost_send(&conns[i]);
	}
	event_base_dispatch(rp.base);
	for (i = 0; i < 600; i++) {
		if (rp.status[i] > 0)
			printf("%d %ld\n", i, rp.status[i]);
	}
	for (i = 0; i < parallel; i++)
		evhttp_connection_free(conns[i].conn);
	free(conns);
	event_base_free(rp.base);
	evhttp_uri_free(uri);
	for (k = 0; k < rp.nbodies; k++)
		free(rp.bodies[k]);
	free(rp.bodies);
	for (i = 0; i < rp.ncols; i++)
		free(rp.header[i]);
	free(rp.header);
	free(rp.auth);
	return rp.failed ? 1 : 0;
}
