/*
 * http.c: the HTTP listener, the routes and the replies.
 *
 * Owns the evhttp server and the life of struct request: created here when a
 * request arrives, freed by the one reply. Must not validate bodies or run
 * SQL: each route hands the request to its module (ingest.c, indices.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "daemon/channels/bodystream.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/present/dashboard.h"
#include "daemon/present/landing.h"
#include "daemon/net/session.h"
#include "daemon/channels/uploadpage.h"
#include "daemon/net/admin_users.h"
#include "daemon/net/accesslog.h"
#include "daemon/channels/ingest.h"
#include "daemon/store/db.h"
#include "daemon/present/export.h"
#include "daemon/channels/form.h"
#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/net/limits.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/present/reports.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/net/http.h"
#include "daemon/net/auth.h"
#include "daemon/present/indices_api.h"
#include "daemon/channels/sms_http.h"
#include "daemon/store/store.h"
#include "sipas/token.h"
#include "daemon/channels/upload.h"
#include "sipas/util.h"

/* Milliseconds since the request arrived. */
static double
http_elapsed_ms(const struct request *r)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
	    (double)(now.tv_usec - r->start.tv_usec) / 1e3;
}

static const char *http_route_label(const char *);

/* A reply was written out completely. */
static void
http_reply_flushed(struct evhttp_request *req, void *arg)
{
	struct sipasd *sd = arg;

	sd->unflushed--;
	sipasd_drain_check(sd);
}

/* The headers every reply has; counted in the metrics. */
static void
http_reply_headers(struct request *r, int status, const char *content_type)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	char id[32];

	snprintf(id, sizeof id, "r%lu", r->id);
	evhttp_add_header(out, "Content-Type", content_type);
	evhttp_add_header(out, "X-Request-Id", id);
	/* Static assets (static.c) set their own caching. */
	if (evhttp_find_header(out, "Cache-Control") == NULL)
		evhttp_add_header(out, "Cache-Control", "no-store");
	/* Security headers; HTML pages set a fuller policy (html.c). */
	if (evhttp_find_header(out, "Content-Security-Policy") == NULL)
		evhttp_add_header(out, "Content-Security-Policy",
		    strncmp(content_type, "text/html", 9) == 0 ?
		    "frame-ancestors 'none'" :
		    "default-src 'none'; frame-ancestors 'none'");
	if (evhttp_find_header(out, "X-Content-Type-Options") == NULL)
		evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (evhttp_find_header(out, "Referrer-Policy") == NULL)
		evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	metrics_request(http_route_label(r->path), r->method, status);
	/* limits.c counted the requests it cut off. */
	if (status == 413 && limits_conn_status(r) != 413)
		metrics_limit(METRICS_LIMIT_BODY);
}

/* Count a reply still being written, so that a drain waits for it. */
static void
http_reply_track(struct request *r)
{
	if (evhttp_request_get_connection(r->req) != NULL) {
		r->sd->unflushed++;
		evhttp_request_set_on_complete_cb(r->req, http_reply_flushed,
		    r->sd);
	}
}

/* The reply is sent: log it and free the request. */
static void
http_reply_release(struct request *r, int status)
{
	struct sipasd *sd = r->sd;

	accesslog_request(r, http_route_label(r->path), status,
	    http_elapsed_ms(r));
	if (r->body != NULL)
		bodystream_release(r->body);
	free(r->path);
	free(r->query);
	free(r->scope);
	free(r->csrf);
	free(r->actor);
	free(r->user);
	free(r);
	sd->inflight--;
	sipasd_drain_check(sd);
}

/* Send the reply, log it and free the request. */
void
http_reply(struct request *r, int status, const char *content_type,
    const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	http_reply_headers(r, status, content_type);
	if (body != NULL)
		evbuffer_add(buf, body, len);
	http_reply_track(r);
	evhttp_send_reply(r->req, status, NULL, buf);
	evbuffer_free(buf);
	http_reply_release(r, status);
}

/*
 * Start a streamed reply (chunked with HTTP/1.1): the headers of http_reply.
 * The caller sends the body with evhttp_send_reply_chunk* on r->req and ends
 * with http_reply_stream_end, also when the client left. 0, or -1 when the
 * client has already left (nothing was sent; end it all the same).
 */
int
http_reply_stream_start(struct request *r, int status, const char *content_type)
{
	http_reply_headers(r, status, content_type);
	/* libevent 2.1's evhttp_send_reply_start needs the connection. */
	if (evhttp_request_get_connection(r->req) == NULL)
		return -1;
	evhttp_send_reply_start(r->req, status, NULL);
	return 0;
}

/*
 * Break off a streamed reply: close the connection without the last chunk, so
 * that the client sees an incomplete transfer rather than a short body that
 * looks whole; log it and free the request.
 */
void
http_reply_stream_abort(struct request *r, int status)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);

	if (evcon != NULL)
		evhttp_connection_free(evcon); /* and the request with it */
	else
		evhttp_send_reply_end(r->req); /* the client left: frees it */
	http_reply_release(r, status);
}

/* End a streamed reply (status as started), log it and free the request. */
void
http_reply_stream_end(struct request *r, int status)
{
	http_reply_track(r);
	evhttp_send_reply_end(r->req);
	http_reply_release(r, status);
}

/* Reply with a JSON value (reference stolen). */
void
http_reply_json(struct request *r, int status, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));

	json_decref(v);
	ASSERT(text != NULL);
	http_reply(r, status, "application/json", text, strlen(text));
	free(text);
}

/*
 * Make s valid UTF-8 in place: every byte that does not start a well-formed
 * sequence (overlong forms, surrogates and code points past U+10FFFF
 * included, as Jansson checks) becomes '?'. Error messages repeat what the
 * client sent, decoded from the query string, and may be cut mid-character.
 */
static void
http_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	const unsigned char *end = p + strlen(s), *next;

	while (p < end) {
		next = p;
		if (utf8_next(&next, end) == UTF8_INVALID)
			*p = '?'; /* next is p + 1 */
		p += next - p;
	}
}

/* {"error": {"code", "message", "field"}}. */
void
http_reply_error(struct request *r, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;
	char msg[512], fbuf[256], qfield[300];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_utf8_clean(msg);
	if (field != NULL) {
		snprintf(fbuf, sizeof fbuf, "%s", field);
		http_utf8_clean(fbuf);
		field = fbuf;
	}
	log_msg(LOG_LEVEL_DEBUG, r->id, "%d %s%s%s: %s", status, code,
	    field != NULL ? " " : "", field != NULL ? log_quote(qfield,
	    sizeof qfield, field) : "", msg);
	http_reply_json(r, status, json_pack("{s:{s:s,s:s,s:s?}}", "error",
	    "code", code, "message", msg, "field", field));
}

/* 503 with Retry-After: the caller should come back. */
void
http_reply_unavailable(struct request *r, const char *why)
{
	char secs[16];

	snprintf(secs, sizeof secs, "%ld", r->sd->config->retry_after);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Retry-After", secs);
	http_reply_error(r, 503, "unavailable", NULL, "%s", why);
}

/* 1 if the request carries "Authorization: Bearer <metrics_token>". */
static int
http_metrics_token_ok(struct request *r, const char *want)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(
	    r->req), "Authorization");
	size_t wlen = strlen(want);

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	if (strlen(h) != wlen)
		return 0;
	return CRYPTO_memcmp(h, want, wlen) == 0;
}

/* GET /metrics: no token, or Bearer metrics_token when that is set. */
static void
http_metrics(struct request *r)
{
	const char *want = r->sd->config->metrics_token;
	struct evbuffer *b;
	size_t len;

	if (want != NULL && *want != '\0' && !http_metrics_token_ok(r, want)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "WWW-Authenticate", "Bearer");
		http_reply_error(r, 401, "unauthorized", NULL,
		    LANG_TEXT(form_lang_api(r), "GET /metrics cần mã thông "
		    "báo metrics: gửi Authorization: Bearer kèm mã đó",
		    "GET /metrics needs the metrics token"));
		return;
	}
	b = evbuffer_new();
	metrics_print(b);
	len = evbuffer_get_length(b);
	http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
}

/*
 * /healthz's answer, for a load balancer: "primary" (200) when responses are
 * stored, "read-only" (200) when only the reads are served (db_read is set,
 * the write connection is away and the read connection up: during a
 * failover), "down" (503) otherwise, or while draining.
 */
static void
http_health_reply(struct request *r, int primary)
{
	struct sipasd *sd = r->sd;
	json_t *o;

	if (!sd->draining && primary)
		o = json_pack("{s:s,s:s}", "status", "ok", "database",
		    "primary");
	else if (!sd->draining && sd->config->db_read[0] != '\0' &&
	    sd->rdb_up && sipasd_read_ready(sd))
		o = json_pack("{s:s,s:s,s:s}", "status", "read-only",
		    "database", "read-only", "reason", "the primary database "
		    "is not reachable: responses are spooled or refused");
	else {
		http_reply_json(r, 503, json_pack("{s:s,s:s,s:s}", "status",
		    "unavailable", "reason", sd->draining ? "draining" :
		    "database", "database", "down"));
		return;
	}
	if (sd->rdb_up && sd->read_standby)
		json_object_set_new(o, "read_lag_seconds",
		    json_real(sipasd_read_lag(sd)));
	http_reply_json(r, 200, o);
}

/* GET /healthz: the ping's answer. */
static void
http_health_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	http_health_reply(arg, ok);
}

/* GET /healthz: ping the primary when connected to it. */
static void
http_health(struct request *r)
{
	if (!r->sd->draining && sipasd_ready(r->sd))
		store_ping(r->sd->db, http_health_done, r);
	else
		http_health_reply(r, 0);
}

/* In a route's roles: check them on the cookie session (session.c), not a token. */
#define HTTP_SESSION (1u << 31)
/* In a route's roles: a bearer token when the request has one, else the session. */
#define HTTP_TOKEN_OR_SESSION (1u << 30)

/*
 * The routes. A path ending in '/' is a prefix (e.g. "/f/" for
 * /f/{survey}/{unit}); the handler reads the rest from r->path. Each module
 * adds its own lines here and nothing else.
 */
static const struct http_route {
	enum evhttp_cmd_type method;
	const char *path;
	unsigned roles; /* 0: no token; with HTTP_SESSION: a cookie session */
	auth_next_cb handler;
} http_routes[] = {
	{ EVHTTP_REQ_GET, "/healthz", 0, http_health },
	{ EVHTTP_REQ_GET, "/metrics", 0, http_metrics },
	{ EVHTTP_REQ_POST, "/api/v1/responses",
	    AUTH_ROLE(ROLE_COLLECTOR) | AUTH_ROLE(ROLE_ADMIN), ingest_handle },
	{ EVHTTP_REQ_GET, "/api/v1/indices",
	    AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN), indices_handle },
	{ EVHTTP_REQ_GET, "/f/", 0, form_handle },
	{ EVHTTP_REQ_POST, "/f/", 0, form_handle },
	{ EVHTTP_REQ_GET, "/kiosk/", 0, kiosk_handle },
	{ EVHTTP_REQ_POST, "/kiosk/", 0, kiosk_handle },
	{ EVHTTP_REQ_GET, "/static/", 0, static_handle },
	{ EVHTTP_REQ_POST, BODYSTREAM_PATH,
	    AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN), upload_handle },
	{ EVHTTP_REQ_GET, "/api/v1/export",
	    AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN), export_handle },
	/* SMS gateways authenticate by key or signature (sms_http.c). */
	{ EVHTTP_REQ_GET, "/sms/kannel", 0, sms_kannel_handle },
	{ EVHTTP_REQ_POST, "/sms/kannel", 0, sms_kannel_handle },
	{ EVHTTP_REQ_POST, "/sms/twilio", 0, sms_twilio_handle },
	{ EVHTTP_REQ_POST, "/sms/external", 0, sms_external_handle },
	{ EVHTTP_REQ_GET, "/api/v1/reports",
	    AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN), reports_handle },
	{ EVHTTP_REQ_GET, "/api/v1/reports/list",
	    AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN), reports_list_handle },
	{ EVHTTP_REQ_GET, "/api/v1/reports/files/",
	    AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN), reports_file_handle },
	/* The leadership dashboard: cookie sessions (session.c, dashboard.c). */
	{ EVHTTP_REQ_GET, "/login", 0, session_login_handle },
	{ EVHTTP_REQ_POST, "/login", 0, session_login_handle },
	{ EVHTTP_REQ_POST, "/logout", 0, session_logout_handle },
	{ EVHTTP_REQ_GET, "/dashboard",
	    HTTP_SESSION | AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN),
	    dashboard_handle },
	/* The survey teams' upload page (uploadpage.c); POST is streamed. */
	{ EVHTTP_REQ_GET, BODYSTREAM_PAGE_PATH,
	    HTTP_SESSION | AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN),
	    uploadpage_handle },
	{ EVHTTP_REQ_POST, BODYSTREAM_PAGE_PATH,
	    HTTP_SESSION | AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN),
	    uploadpage_handle },
	{ EVHTTP_REQ_GET, "/uploads/rejected",
	    HTTP_SESSION | AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN),
	    uploadpage_rejected_handle },
	{ EVHTTP_REQ_GET, "/uploads/template", HTTP_TOKEN_OR_SESSION |
	    AUTH_ROLE(ROLE_UPLOADER) | AUTH_ROLE(ROLE_ADMIN),
	    uploadpage_template_handle },
	/* People's accounts, for admins (admin_users.c). */
	{ EVHTTP_REQ_GET, "/admin/users", HTTP_SESSION | AUTH_ROLE(ROLE_ADMIN),
	    admin_users_handle },
	{ EVHTTP_REQ_POST, "/admin/users", HTTP_SESSION | AUTH_ROLE(ROLE_ADMIN),
	    admin_users_handle },
	/* After sign-in: the latest period of the account's unit, or a picker. */
	{ EVHTTP_REQ_GET, "/start",
	    HTTP_SESSION | AUTH_ROLE(ROLE_VIEWER) | AUTH_ROLE(ROLE_ADMIN),
	    landing_handle },
};

/* The route pattern that path falls under, for /metrics: never the raw path. */
static const char *
http_route_label(const char *path)
{
	size_t i, plen;

	for (i = 0; i < sizeof http_routes / sizeof http_routes[0]; i++) {
		plen = strlen(http_routes[i].path);
		if (http_routes[i].path[plen - 1] == '/' ?
		    strncmp(http_routes[i].path, path, plen) == 0 :
		    strcmp(http_routes[i].path, path) == 0)
			return http_routes[i].path;
	}
	return "unmatched";
}

/* A query parameter of a parsed query, or NULL when absent or empty. */
const char *
http_query_get(struct evkeyvalq *q, const char *name)
{
	const char *v = evhttp_find_header(q, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* The name of a method, for logs. */
static const char *
http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

/* 1 if a browser asks for a page (Accept: text/html), outside the API. */
static int
http_wants_html(const struct request *r)
{
	const char *accept = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Accept");

	return accept != NULL && strstr(accept, "text/html") != NULL &&
	    strncmp(r->path, "/api/", 5) != 0;
}

/* The token's verdict on a routed request (arg: its route): go on, or reply. */
static void
http_auth_done(struct request *r, enum auth_verdict v, const char *why,
    void *arg)
{
	const struct http_route *rt = arg;

	switch (v) {
	case AUTH_ALLOW:
		rt->handler(r);
		break;
	case AUTH_UNAUTHORIZED:
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "WWW-Authenticate", "Bearer realm=\"sipas\"");
		http_reply_error(r, 401, "unauthorized", NULL, "%s", why);
		break;
	case AUTH_FORBIDDEN:
		http_reply_error(r, 403, "forbidden", NULL,
		    LANG_TEXT(form_lang_api(r), "mã thông báo vai trò %s không "
		    "được làm việc này: dùng mã của vai trò được phép hoặc "
		    "xin quản trị viên cấp quyền", "a %s token may not do this"),
		    role_name(r->role));
		break;
	case AUTH_UNAVAILABLE:
		http_reply_unavailable(r, why);
		break;
	}
}

/* Every request starts here. */
static void
http_request(struct evhttp_request *req, void *arg)
{
	struct sipasd *sd = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const struct http_route *rt;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct request *r;
	const char *path, *query;
	size_t i;
	int path_known = 0, refused;

	r = xcalloc(1, sizeof *r);
	r->sd = sd;
	r->req = req;
	r->id = ++sd->next_reqid;
	r->role = -1;
	gettimeofday(&r->start, NULL);
	r->method = http_method_name(method);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	r->path = xstrdup(path != NULL && *path != '\0' ? path : "/");
	r->query = query != NULL ? xstrdup(query) : NULL;
	sd->inflight++;
	/* A streamed body: its connection closes after the reply, whatever
	 * the handler read of it. */
	if ((r->body = limits_request_seen(r)) != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");

	if (sd->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		http_reply_unavailable(r, LANG_TEXT(form_lang_api(r),
		    "máy chủ đang dừng: thử lại sau ít phút", "shutting down"));
		return;
	}
	if ((refused = limits_conn_status(r)) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		if (refused == 503)
			http_reply_unavailable(r, LANG_TEXT(form_lang_api(r),
			    "máy chủ đang có quá nhiều kết nối: thử lại sau "
			    "ít giây", "too many connections"));
		else
			http_reply_error(r, 413, "too_large", NULL,
			    LANG_TEXT(form_lang_api(r), "yêu cầu quá lớn: gửi "
			    "ít dữ liệu hơn hoặc chia thành nhiều lần",
			    "the request is too large"));
		return;
	}
	/* Probes are not rate limited. */
	if (strcmp(r->path, "/healthz") != 0 && strcmp(r->path, "/metrics") != 0 &&
	    limits_rate_check(r) != 0)
		return;
	for (i = 0; i < sizeof http_routes / sizeof http_routes[0]; i++) {
		size_t plen;

		rt = &http_routes[i];
		plen = strlen(rt->path);
		if (rt->path[plen - 1] == '/' ? strncmp(rt->path, r->path, plen) != 0 :
		    strcmp(rt->path, r->path) != 0)
			continue;
		path_known = 1;
		if (rt->method != method)
			continue;
		if ((long)evbuffer_get_length(evhttp_request_get_input_buffer(
		    req)) > sd->config->max_body) {
			if (rt->handler == upload_handle)
				http_reply_error(r, 413, "too_large", NULL,
				    LANG_TEXT(form_lang_api(r), "tệp tải lên "
				    "này không được gửi theo luồng (thiếu "
				    "Content-Length, hoặc gửi sau một yêu cầu "
				    "khác) nên bị giới hạn ở %ld byte "
				    "(max_body): gửi lại kèm Content-Length",
				    "this upload was not streamed (no "
				    "Content-Length, or sent behind another "
				    "request), so it is held to %ld bytes "
				    "(max_body): send it with a Content-Length"),
				    sd->config->max_body);
			else
				http_reply_error(r, 413, "too_large", NULL,
				    LANG_TEXT(form_lang_api(r), "nội dung "
				    "lớn hơn %ld byte: gửi ít dữ liệu hơn hoặc "
				    "chia thành nhiều lần",
				    "the body is larger than %ld bytes"),
				    sd->config->max_body);
			return;
		}
		if (rt->roles == 0)
			rt->handler(r);
		else if ((rt->roles & HTTP_SESSION) ||
		    ((rt->roles & HTTP_TOKEN_OR_SESSION) &&
		    evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Authorization") == NULL))
			session_check(r, rt->roles & ~(HTTP_SESSION |
			    HTTP_TOKEN_OR_SESSION), rt->handler);
		else
			auth_check(r, rt->roles & ~HTTP_TOKEN_OR_SESSION,
			    http_auth_done, (void *)rt);
		return;
	}
	if (path_known)
		http_reply_error(r, 405, "method_not_allowed", NULL,
		    LANG_TEXT(form_lang_api(r), "không dùng được %s cho %s: "
		    "gửi bằng phương thức mà đường dẫn này nhận (GET hoặc POST)",
		    "%s is not allowed on %s"), r->method, r->path);
	else if (http_wants_html(r))
		html_reply_message(r, 404, form_lang(r, NULL), NULL,
		    strcmp(form_lang(r, NULL), "en") == 0 ? "There is no page "
		    "at this address; it may have moved, or the link may be "
		    "mistyped." : "Không có trang nào ở địa chỉ này; trang có "
		    "thể đã chuyển chỗ hoặc đường dẫn bị gõ sai.",
		    strcmp(form_lang(r, NULL), "en") == 0 ? "/dashboard?lang=en" :
		    "/dashboard", strcmp(form_lang(r, NULL), "en") == 0 ?
		    "Go to the dashboard" : "Về bảng điều hành");
	else
		http_reply_error(r, 404, "not_found", NULL,
		    LANG_TEXT(form_lang_api(r), "không có đường dẫn %s: kiểm "
		    "tra lại địa chỉ (các đường dẫn API bắt đầu bằng /api/v1/)",
		    "no such path: %s"), r->path);
}

/* Split ADDR:PORT (the address may be [v6]). */
static int
http_listen_split(const char *listen, char **addr, int *port, char **cause)
{
	const char *colon = strrchr(listen, ':');
	size_t alen;

	if (colon == NULL || colon == listen) {
		xasprintf(cause, "listen: '%s' is not ADDR:PORT", listen);
		return -1;
	}
	alen = (size_t)(colon - listen);
	if (listen[0] == '[' && alen >= 2 && listen[alen - 1] == ']')
		*addr = xstrndup(listen + 1, alen - 2);
	else
		*addr = xstrndup(listen, alen);
	*port = atoi(colon + 1);
	return 0;
}

/* Apply the reloadable HTTP settings. */
void
http_configure(struct sipasd *sd)
{
	/*
	 * No body limit in evhttp: its 413 is an HTML page sent before the
	 * body is read (on Content-Length). limits.c cuts off a request over
	 * the largest body of any route with a JSON 413 as the bytes arrive;
	 * http_request holds the routes to max_body, upload.c to upload_max.
	 */
	evhttp_set_max_body_size(sd->http, EV_SSIZE_MAX);
	evhttp_set_max_headers_size(sd->http, REQUEST_HEAD_MAX);
	evhttp_set_timeout(sd->http, (int)sd->config->http_timeout);
}

/* Start the listener. */
int
http_start(struct sipasd *sd, char **cause)
{
	const char *listen = sd->listen_override != NULL ?
	    sd->listen_override : sd->config->listen;
	char *addr = NULL;
	int port;

	if (http_listen_split(listen, &addr, &port, cause) != 0)
		return -1;
	sd->http = evhttp_new(sd->base);
	evhttp_set_allowed_methods(sd->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(sd->http, http_request, sd);
	http_configure(sd);
	limits_start(sd);
	accesslog_start(sd);
	sd->bound = evhttp_bind_socket_with_handle(sd->http, addr,
	    (ev_uint16_t)port);
	if (sd->bound == NULL) {
		xasprintf(cause, "cannot listen on %s", listen);
		free(addr);
		return -1;
	}
	log_info("listening on %s", listen);
	if (config_cookie_secure(sd->config)) {
		if (sd->config->session_cookie_secure == 0)
			log_warn("session_cookie_secure = 0 ignored: %s is not "
			    "a loopback address", listen);
		log_info("session cookies are Secure (HTTPS in front)");
	} else
		log_info("session cookies without Secure: plain HTTP on the "
		    "loopback address %s (session_cookie_secure = 0)", listen);
	free(addr);
	return 0;
}

/* Stop accepting connections; open ones finish. */
void
http_stop_accepting(struct sipasd *sd)
{
	if (sd->bound != NULL) {
		evhttp_del_accept_socket(sd->http, sd->bound);
		sd->bound = NULL;
	}
}

/* Close everything. */
void
http_free(struct sipasd *sd)
{
	if (sd->http != NULL)
		evhttp_free(sd->http);
	sd->http = NULL;
	accesslog_stop();
	limits_free();
}

/*
 * The survey and unit parameters of a read: the survey, or NULL after a 422
 * (unknown survey, or unknown unit to an unscoped token) or a 403 (the unit
 * outside a scoped token's subtree, known or not) was sent. unit may be NULL
 * (not asked).
 */
const struct survey *
http_check_survey_unit(struct request *r, const char *survey, const char *unit)
{
	const struct survey *s;

	if ((s = cache_survey_get(r->sd->cache, survey)) == NULL) {
		http_reply_error(r, 422, "unknown_survey", "survey",
		    LANG_TEXT(form_lang_api(r), "không có khảo sát '%s': "
		    "dùng một mã khảo sát đã nạp, ví dụ sipas-2023",
		    "unknown survey '%s'"), survey);
		return NULL;
	}
	/* Scope first: a scoped token cannot tell unknown codes apart. */
	if (unit != NULL && !auth_scope_allows(r, unit)) {
		http_reply_error(r, 403, "forbidden", "unit",
		    LANG_TEXT(form_lang_api(r), "mã thông báo này không được "
		    "xem đơn vị này: chọn một đơn vị thuộc phạm vi của mã",
		    "this token may not see this unit"));
		return NULL;
	}
	if (unit != NULL && cache_unit_get(r->sd->cache, unit) == NULL) {
		http_reply_error(r, 422, "unknown_unit", "unit",
		    LANG_TEXT(form_lang_api(r), "không có đơn vị '%s': kiểm "
		    "tra lại mã đơn vị", "unknown unit '%s'"), unit);
		return NULL;
	}
	return s;
}

/*
 * A channel parameter: *channel (NULL: any) becomes the channel's canonical
 * name; -1 after a 422 naming the field.
 */
int
http_check_channel(struct request *r, const char **channel)
{
	int ch;

	if (*channel == NULL)
		return 0;
	if ((ch = channel_parse(*channel)) < 0) {
		http_reply_error(r, 422, "invalid", "channel",
		    LANG_TEXT(form_lang_api(r), "không có kênh '%s': dùng "
		    "paper, web, sms hoặc kiosk",
		    "unknown channel '%s' (paper, web, sms, kiosk)"), *channel);
		return -1;
	}
	*channel = channel_name(ch);
	return 0;
}

/* Mark the reply as a download named name (util_content_disposition). */
void
http_attachment(struct request *r, const char *name)
{
	char *disp = util_content_disposition(name);

	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Disposition", disp);
	free(disp);
}

/*
 * The from/to query parameters of a period: 0 if each is absent or a real
 * date and from <= to; else a 422 naming the field was sent and -1.
 */
int
http_check_dates(struct request *r, const char *from, const char *to)
{
	if (from != NULL && !response_date_valid(from)) {
		http_reply_error(r, 422, "invalid_date", "from",
		    LANG_TEXT(form_lang_api(r), "ngày from không hợp lệ: "
		    "ghi theo dạng YYYY-MM-DD, từ %s đến %s",
		    "from must be a date YYYY-MM-DD from %s to %s"),
		    RESPONSE_DATE_MIN, RESPONSE_DATE_MAX);
		return -1;
	}
	if (to != NULL && !response_date_valid(to)) {
		http_reply_error(r, 422, "invalid_date", "to",
		    LANG_TEXT(form_lang_api(r), "ngày to không hợp lệ: "
		    "ghi theo dạng YYYY-MM-DD, từ %s đến %s",
		    "to must be a date YYYY-MM-DD from %s to %s"),
		    RESPONSE_DATE_MIN, RESPONSE_DATE_MAX);
		return -1;
	}
	if (from != NULL && to != NULL && strcmp(from, to) > 0) {
		http_reply_error(r, 422, "invalid_date", "to",
		    LANG_TEXT(form_lang_api(r), "ngày to trước ngày from: "
		    "đổi lại để from không sau to", "to is before from"));
		return -1;
	}
	return 0;
}
