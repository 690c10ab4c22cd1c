/*
 * request.h: the request object of sipasd and the verbs that answer it, for
 * every module that serves an HTTP route (channels, presenters, net).
 *
 * net/http.c creates a struct request when an HTTP request arrives and
 * implements the replies; net/auth.c the token checks. Everything runs on
 * one libevent loop: no locks. A struct request lives until its one reply
 * (http_reply*), which frees it; every path ends in exactly one reply, also
 * when the client left. Declared here, below the channels and presenters,
 * so that they never include a header of the layer that routes to them.
 */
#ifndef SIPAS_REQUEST_H
#define SIPAS_REQUEST_H

#include <stddef.h>
#include <string.h>
#include <sys/time.h>

/* The limit on a request line and its headers (http.c gives it to evhttp). */
#define REQUEST_HEAD_MAX 16384

struct bodystream;
struct evhttp_request;
struct json_t;
struct sipasd;

struct request {
	struct sipasd *sd;
	struct evhttp_request *req;
	unsigned long id;
	struct timeval start;
	const char *method;
	char *path;
	char *query;  /* after '?', or NULL */
	int role;     /* enum role, once authenticated */
	char *scope;  /* the token's unit, or NULL */
	char *csrf;   /* a dashboard session's sign-out token, or NULL */
	char *actor;  /* a session's audit actor (its token's SHA-256), or NULL */
	char *user;   /* a person's session: the login, or NULL */
	struct bodystream *body; /* a streamed upload body, or NULL */
};

/*
 * One of two texts (or format strings: both are checked) by a reply's
 * language, "vi" or "en" (form_lang_api of formdata.h picks it from lang=
 * and Accept-Language). Every message a person may read comes in both.
 */
#define LANG_TEXT(lang, vi, en) (strcmp((lang), "vi") == 0 ? (vi) : (en))

/* http.c: replies; each frees the request. */
void http_reply(struct request *, int status, const char *content_type,
    const char *body, size_t len);
/* Reply with a JSON value (reference stolen). */
void http_reply_json(struct request *, int status, struct json_t *);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void http_reply_error(struct request *, int status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 503 with Retry-After. */
void http_reply_unavailable(struct request *, const char *why);
/*
 * A streamed reply: the headers of http_reply, then the caller sends the body
 * with evhttp_send_reply_chunk* on r->req; http_reply_stream_end (also when
 * the client left) ends it, logs it and frees the request. Start returns -1
 * when the client has already left.
 */
int http_reply_stream_start(struct request *, int status, const char *content_type);
void http_reply_stream_end(struct request *, int status);
/* Break a streamed reply off (a failure in the middle): the connection is
 * closed without the last chunk; frees the request. */
void http_reply_stream_abort(struct request *, int status);
/* A query parameter of a parsed query, or NULL when absent or empty. */
struct evkeyvalq;
const char *http_query_get(struct evkeyvalq *, const char *name);
struct survey;
/* survey and unit checked (known, within scope): the survey, or NULL after a reply. */
const struct survey *http_check_survey_unit(struct request *, const char *survey,
    const char *unit);
/* channel checked and made canonical: 0, or -1 after a 422 naming the field. */
int http_check_channel(struct request *, const char **channel);
/* from/to of a period checked: 0, or -1 after a 422 naming the field. */
int http_check_dates(struct request *, const char *from, const char *to);
/* The Content-Disposition of a download named name, escaped (RFC 6266). */
void http_attachment(struct request *, const char *name);

/* session.c: the value of the request's cookie name into buf (len bytes): 0, or -1 when absent or too long. */
int http_cookie_get(const struct request *, const char *name, char *buf,
    size_t len);
/* session.c: set the cookie name=value (a safe token) for Path=/, HttpOnly, SameSite=Strict. */
void http_cookie_set(struct request *, const char *name, const char *value,
    long max_age);
/* auth.c: 1 if the request's token may see unit (its scope is an ancestor-or-self). */
int auth_scope_allows(const struct request *, const char *unit);
/* auth.c: SHA-256 (hex) of the request's bearer token into hash (TOKEN_HASH_LEN + 1): 0, or -1 none, -2 bad. */
int auth_token_hash(const struct request *, char *hash);

#endif
