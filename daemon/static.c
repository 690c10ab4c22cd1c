/*
 * static.c: GET /static/NAME, the stylesheet and the optional script of the
 * citizen pages, compiled into sipasd (build-aux/embed.sh, static/) so that
 * nothing comes from a CDN or an install path.
 *
 * Each asset has a strong ETag (a SHA-256 prefix of its content); pages link
 * to NAME?v=HASH, which may be cached for a year; other URLs for an hour,
 * revalidated with If-None-Match (304). Owns the lazily computed hashes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "daemon/html.h"
#include "daemon/request.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Generated from static/ by build-aux/embed.sh (daemon/static_assets.c). */
struct static_asset {
	const char *code;
	const char *text;
};
extern const struct static_asset static_assets[];

/* Characters of the content hash used as version and ETag. */
#define STATIC_HASH_LEN 16
#define STATIC_MAX 16

static char static_hashes[STATIC_MAX][STATIC_HASH_LEN + 1];

/* The index of an asset by name, or -1. */
static int
static_find(const char *name)
{
	int i;

	for (i = 0; static_assets[i].code != NULL && i < STATIC_MAX; i++) {
		if (strcmp(static_assets[i].code, name) == 0)
			return i;
	}
	return -1;
}

/* The hash of asset i. */
static const char *
static_hash(int i)
{
	char full[TOKEN_HASH_LEN + 1];

	if (static_hashes[i][0] == '\0') {
		token_hash(static_assets[i].text, strlen(static_assets[i].text),
		    full);
		memcpy(static_hashes[i], full, STATIC_HASH_LEN);
		static_hashes[i][STATIC_HASH_LEN] = '\0';
	}
	return static_hashes[i];
}

/* The version of an asset for its URL. */
const char *
static_version(const char *name)
{
	int i = static_find(name);

	return i < 0 ? "" : static_hash(i);
}

/* The Content-Type by extension. */
static const char *
static_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return "text/plain; charset=utf-8";
}

/* GET /static/NAME. */
void
static_handle(struct request *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	const char *name = r->path + strlen("/static/"), *inm;
	const char *text;
	char etag[STATIC_HASH_LEN + 3], want[STATIC_HASH_LEN + 3];
	int i = static_find(name);

	if (i < 0) {
		http_reply(r, 404, "text/plain; charset=utf-8", "not found\n",
		    10);
		return;
	}
	snprintf(etag, sizeof etag, "\"%s\"", static_hash(i));
	snprintf(want, sizeof want, "v=%s", static_hash(i));
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Cache-Control", r->query != NULL &&
	    strcmp(r->query, want) == 0 ? "public, max-age=31536000, immutable" :
	    "public, max-age=3600");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	inm = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "If-None-Match");
	if (inm != NULL && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
		http_reply(r, 304, static_type(name), NULL, 0);
		return;
	}
	text = static_assets[i].text;
	http_reply(r, 200, static_type(name), text, strlen(text));
}
