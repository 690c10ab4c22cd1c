/*
 * session.c: the dashboard's login: GET/POST /login, /logout and the cookie
 * sessions behind the leadership pages.
 *
 * A viewer or admin pastes an API token into the login form; when the token
 * is valid, a session is opened under a random id (token_generate) that goes
 * back as an HttpOnly, SameSite=Strict cookie with Max-Age session_lifetime
 * (Secure unless config_cookie_secure says otherwise). The session keeps the
 * token's SHA-256, role and unit scope in memory only, never the token
 * itself, and looks the token up again every token_ttl seconds so that a
 * revocation ends it.
 *
 * A person signs in with a login and a password instead (account.c); such a
 * session keeps the login and looks the account up again every token_ttl
 * seconds, so that disabling it or changing its password ends the session.
 *
 * Every POST (login, logout) must come from this site's own pages: the
 * browser's Sec-Fetch-Site or Origin says so, and the form carries a token.
 * The login form's token is a form token (form.c) whose scope holds a
 * random value sent along in a SameSite=Strict cookie of /login, so that a
 * token fetched by another site is worth nothing in the victim's browser;
 * a session has its own random token for the pages it shows (sign out).
 * Must not render the dashboard (dashboard.c) nor touch the Bearer path
 * (auth.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/conf.h"
#include "daemon/net/session.h"
#include "daemon/sipasd.h"
#include "daemon/channels/form.h"
#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "daemon/store/store.h"
#include "daemon/store/store_users.h"
#include "daemon/net/account.h"
#include "sipas/hmac.h"
#include "sipas/strmap.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Sweep expired sessions when the table grows past this many. */
#define SESSION_SWEEP 1000
/* Refuse new logins beyond this many live sessions. */
#define SESSION_MAX 100000
/* The cookie that binds a login form's token to the browser that got it. */
#define SESSION_LOGIN_COOKIE "sipas_login"

struct session {
	char hash[TOKEN_HASH_LEN + 1]; /* the token's SHA-256 */
	char *user;	 /* a person's login, or NULL: a token's session */
	int role;
	char *scope;	 /* NULL: every unit */
	char csrf[TOKEN_LEN + 1]; /* the token of the session's own posts */
	time_t expires;	 /* 0: logged out */
	time_t checked;	 /* last look-up of the token */
	time_t opened;	 /* when the session began */
};

/* id -> struct session; one loop, so no lock. Reachable until exit. */
static struct strmap *session_table;

/* A login or a re-check waiting for the token look-up. */
struct session_wait {
	struct request *r;
	char id[TOKEN_LEN + 1]; /* re-check: the session's id */
	char hash[TOKEN_HASH_LEN + 1];
	char *next;		/* login: where to go after */
	const char *lang;
	unsigned roles;
	auth_next_cb then;
	time_t opened;		/* re-check of a person: the session's start */
};

/* Drop expired and logged-out sessions (rebuilds the table). */
static void
session_sweep(void)
{
	struct strmap *keep = strmap_create();
	const char *key;
	void *value;
	struct session *s;
	size_t pos = 0;
	time_t now = time(NULL);

	while (strmap_next(session_table, &pos, &key, &value)) {
		s = value;
		if (s->expires > now)
			strmap_put(keep, key, s);
		else {
			free(s->scope);
			free(s->user);
			free(s);
		}
	}
	strmap_free(session_table);
	session_table = keep;
}

/* The live session of id, or NULL. */
static struct session *
session_get(const char *id)
{
	struct session *s;

	if (session_table == NULL || id == NULL)
		return NULL;
	s = strmap_get(session_table, id);
	if (s == NULL || s->expires <= time(NULL))
		return NULL;
	return s;
}

/* The value of the request's cookie cname into id, or -1. */
static int
session_cookie_get(const struct request *r, const char *cname,
    char id[TOKEN_LEN + 1])
{
	return http_cookie_get(r, cname, id, TOKEN_LEN + 1);
}

/* The value of the request's cookie cname into buf, or -1. */
int
http_cookie_get(const struct request *r, const char *cname, char *buf,
    size_t size)
{
	const char *h, *p, *end;
	size_t name = strlen(cname), len;

	h = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Cookie");
	for (p = h; p != NULL && *p != '\0'; p = end) {
		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > name && strncmp(p, cname,
		    name) == 0 && p[name] == '=') {
			len = (size_t)(end - p) - name - 1;
			if (len == 0 || len >= size)
				return -1;
			memcpy(buf, p + name + 1, len);
			buf[len] = '\0';
			return 0;
		}
	}
	return -1;
}

/* The session id of the request's cookie into id, or -1. */
static int
session_cookie_id(const struct request *r, char id[TOKEN_LEN + 1])
{
	return session_cookie_get(r, SESSION_COOKIE, id);
}

/* Reply 303 See Other. */
void
session_redirect(struct request *r, const char *location)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location",
	    location);
	http_reply(r, 303, "text/plain; charset=utf-8", NULL, 0);
}

/* Set (max_age > 0) or clear the cookie cname for path. */
static void
session_cookie_put(struct request *r, const char *cname, const char *path,
    const char *id, long max_age)
{
	char *v;

	xasprintf(&v, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
	    cname, id, path, max_age, config_cookie_secure(r->sd->config) ?
	    "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Set-Cookie", v);
	free(v);
}

/* Set a cookie of the whole site. */
void
http_cookie_set(struct request *r, const char *cname, const char *value,
    long max_age)
{
	session_cookie_put(r, cname, "/", value, max_age);
}

/* Set (max_age > 0) or clear the session cookie. */
static void
session_cookie_set(struct request *r, const char *id, long max_age)
{
	session_cookie_put(r, SESSION_COOKIE, "/", id, max_age);
}

/* The form token scope of a login form bound to the cookie value bind. */
static void
session_login_scope(char *scope, size_t len, const char *bind)
{
	snprintf(scope, len, "login/%s", bind);
}

/* The hidden fields of a login form: lang, csrf and next if any. */
static void
session_login_hidden(struct evbuffer *b, const char *lang, const char *csrf,
    const char *next)
{
	html_raw(b, "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"", lang);
	html_text(b, csrf);
	html_raw(b, "\">\n");
	if (next != NULL) {
		html_raw(b, "<input type=\"hidden\" name=\"next\" value=\"");
		html_text(b, next);
		html_raw(b, "\">\n");
	}
}

/* The login page, with an error line or none. */
void
session_login_page(struct request *r, int status, const char *lang,
    const char *next, const char *error)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	char bind[TOKEN_LEN + 1], scope[TOKEN_LEN + 16], csrf[FORM_TOKEN_SIZE];
	char *cause = NULL;
	int en = strcmp(lang, "en") == 0;

	/* A fresh binding value for each form shown: its cookie and token. */
	if (token_generate(bind, sizeof bind, &cause) != 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "login form: %s", cause);
		free(cause);
		bind[0] = '\0';
	}
	session_login_scope(scope, sizeof scope, bind);
	form_token_create(r->sd->config, scope, csrf);
	session_cookie_put(r, SESSION_LOGIN_COOKIE, "/login", bind,
	    r->sd->config->form_token_ttl);
	/* The post of this page then carries its real Origin. */
	evhttp_add_header(out, "Referrer-Policy", "same-origin");
	html_raw(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n"
	    "<link rel=\"stylesheet\" href=\"/static/dashboard.css?v=%s\">\n"
	    "</head>\n<body class=\"login\">\n<main>\n", lang,
	    en ? "Sign in: SIPAS dashboard" : "Đăng nhập: bảng điều hành SIPAS",
	    static_version("dashboard.css"));
	html_raw(b, "<p class=\"lang\"><a href=\"/login?lang=%s\">%s</a></p>\n",
	    en ? "vi" : "en", en ? "Tiếng Việt" : "English");
	html_raw(b, "<h1>%s</h1>\n", en ? "SIPAS dashboard" :
	    "Bảng điều hành SIPAS");
	if (error != NULL) {
		html_raw(b, "<p class=\"error\" id=\"login-error\" role=\"alert\">");
		html_text(b, error);
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<form method=\"post\" action=\"/login\" class=\"login\">\n"
	    "<label for=\"user-login\">%s</label>\n"
	    "<input type=\"text\" id=\"user-login\" name=\"login\" "
	    "autocomplete=\"username\" autocapitalize=\"none\" required>\n"
	    "<label for=\"password\">%s</label>\n"
	    "<input type=\"password\" id=\"password\" name=\"password\" "
	    "autocomplete=\"current-password\" required>\n",
	    en ? "Login" : "Tên đăng nhập", en ? "Password" : "Mật khẩu");
	session_login_hidden(b, lang, csrf, next);
	html_raw(b, "<button type=\"submit\" id=\"login-password\">%s</button>\n"
	    "</form>\n<h2>%s</h2>\n", en ? "Sign in" : "Đăng nhập", en ?
	    "Or with an access token" : "Hoặc bằng mã truy cập");
	html_raw(b, "<form method=\"post\" action=\"/login\" class=\"login\">\n"
	    "<label for=\"token\">%s</label>\n"
	    "<input type=\"password\" id=\"token\" name=\"token\" "
	    "autocomplete=\"current-password\" required>\n",
	    en ? "Access token" : "Mã truy cập");
	session_login_hidden(b, lang, csrf, next);
	html_raw(b, "<button type=\"submit\" id=\"login\">%s</button>\n</form>\n"
	    "</main>\n</body>\n</html>\n", en ? "Sign in" : "Đăng nhập");
	html_reply(r, status, b);
	evbuffer_free(b);
}

/* 1 if next is a dashboard path we may redirect to. */
static int
session_next_ok(const char *next)
{
	size_t i;

	if (next == NULL)
		return 0;
	if (strncmp(next, "/dashboard", 10) == 0 && (next[10] == '\0' ||
	    next[10] == '?'))
		;
	else if (strncmp(next, "/uploads", 8) == 0 && (next[8] == '\0' ||
	    next[8] == '?' || next[8] == '/'))
		;
	else
		return 0;
	for (i = 0; next[i] != '\0'; i++) {
		if ((unsigned char)next[i] < 0x20 || next[i] == '\\')
			return 0;
	}
	return 1;
}

/* Keep session s under id, set the cookie and go to the page asked for. */
static void
session_start(struct request *r, const char *id, struct session *s,
    const char *lang, const char *next)
{
	strmap_put(session_table, id, s);
	log_msg(LOG_LEVEL_INFO, r->id, "login: %s session%s%s%s%s",
	    role_name(s->role), s->user != NULL ? " of " : "",
	    s->user != NULL ? s->user : "", s->scope != NULL ? " for " : "",
	    s->scope != NULL ? s->scope : "");
	session_cookie_set(r, id, r->sd->config->session_lifetime);
	session_cookie_put(r, SESSION_LOGIN_COOKIE, "/login", "", 0);
	if (session_next_ok(next))
		session_redirect(r, next);
	else if (s->role == ROLE_UPLOADER)
		session_redirect(r, strcmp(lang, "en") == 0 ?
		    "/uploads?lang=en" : "/uploads");
	else
		session_redirect(r, strcmp(lang, "en") == 0 ?
		    "/start?lang=en" : "/start");
}

/* Open a person's session (account.c) and redirect, or a 503 login page. */
void
session_open_user(struct request *r, int role, const char *scope,
    const char *user, const char *lang, const char *next)
{
	struct session *s;
	char id[TOKEN_LEN + 1], *cause = NULL;
	int en = strcmp(lang, "en") == 0;

	if (session_table == NULL)
		session_table = strmap_create();
	if (strmap_count(session_table) >= SESSION_SWEEP)
		session_sweep();
	s = xcalloc(1, sizeof *s);
	if (strmap_count(session_table) >= SESSION_MAX ||
	    token_generate(id, sizeof id, &cause) != 0 ||
	    token_generate(s->csrf, sizeof s->csrf, &cause) != 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "no session: %s", cause != NULL ?
		    cause : "too many sessions");
		free(cause);
		free(s);
		session_login_page(r, 503, lang, next, en ?
		    "Cannot sign in now; try again shortly." :
		    "Không thể đăng nhập lúc này; vui lòng thử lại.");
		return;
	}
	s->role = role;
	s->scope = scope != NULL ? xstrdup(scope) : NULL;
	s->user = xstrdup(user);
	s->opened = s->checked = time(NULL);
	s->expires = s->checked + r->sd->config->session_lifetime;
	session_start(r, id, s, lang, next);
}

/* End every session of a person's login. */
void
session_end_user(const char *user)
{
	const char *key;
	void *value;
	struct session *s;
	size_t pos = 0;

	while (session_table != NULL && strmap_next(session_table, &pos, &key,
	    &value)) {
		s = value;
		if (s->user != NULL && strcmp(s->user, user) == 0)
			s->expires = 0;
	}
}

/* The token look-up of a login answered. */
static void
session_login_found(const struct store_token *t, const char *message, void *arg)
{
	struct session_wait *w = arg;
	struct request *r = w->r;
	struct session *s;
	char id[TOKEN_LEN + 1], *cause = NULL;
	int role, en = strcmp(w->lang, "en") == 0;

	if (t == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "token look-up failed: %s",
		    message);
		session_login_page(r, 503, w->lang, w->next, en ?
		    "The database is not available; try again shortly." :
		    "Cơ sở dữ liệu tạm thời không sẵn sàng; vui lòng thử lại.");
		goto out;
	}
	if (!t->found || t->revoked || (role = role_parse(t->role)) < 0 ||
	    (role != ROLE_VIEWER && role != ROLE_ADMIN &&
	    role != ROLE_UPLOADER)) {
		log_msg(LOG_LEVEL_INFO, r->id, "login refused: %s", !t->found ?
		    "unknown token" : t->revoked ? "revoked token" : "role");
		session_login_page(r, 401, w->lang, w->next, en ?
		    "This token is unknown, revoked, or not a viewer's or "
		    "an uploader's." :
		    "Mã truy cập không đúng, đã bị thu hồi hoặc không có quyền "
		    "xem.");
		goto out;
	}
	if (session_table == NULL)
		session_table = strmap_create();
	if (strmap_count(session_table) >= SESSION_SWEEP)
		session_sweep();
	if (strmap_count(session_table) >= SESSION_MAX ||
	    token_generate(id, sizeof id, &cause) != 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "no session: %s", cause != NULL ?
		    cause : "too many sessions");
		free(cause);
		session_login_page(r, 503, w->lang, w->next, en ?
		    "Cannot sign in now; try again shortly." :
		    "Không thể đăng nhập lúc này; vui lòng thử lại.");
		goto out;
	}
	s = xcalloc(1, sizeof *s);
	memcpy(s->hash, w->hash, sizeof s->hash);
	s->role = role;
	s->scope = t->unit != NULL ? xstrdup(t->unit) : NULL;
	s->opened = s->checked = time(NULL);
	s->expires = s->checked + r->sd->config->session_lifetime;
	if (token_generate(s->csrf, sizeof s->csrf, &cause) != 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "no session: %s", cause);
		free(cause);
		free(s->scope);
		free(s);
		session_login_page(r, 503, w->lang, w->next, en ?
		    "Cannot sign in now; try again shortly." :
		    "Không thể đăng nhập lúc này; vui lòng thử lại.");
		goto out;
	}
	session_start(r, id, s, w->lang, w->next);
out:
	free(w->next);
	free(w);
}

/*
 * 1 if the browser says the post comes from this site's own page:
 * Sec-Fetch-Site same-origin, or (a browser without fetch metadata) an Origin
 * that is this host. A post with neither, with Origin "null" alone, or from
 * another site is refused: a form of another site or a sandboxed frame
 * cannot log anybody in or out.
 */
static int
session_origin_ok(const struct request *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	const char *origin = evhttp_find_header(in, "Origin");
	const char *site = evhttp_find_header(in, "Sec-Fetch-Site");
	const char *host = evhttp_find_header(in, "Host"), *p;

	if (site != NULL && strcmp(site, "same-origin") != 0)
		return 0;
	if (origin == NULL || strcmp(origin, "null") == 0)
		return site != NULL;
	if (host == NULL || (p = strstr(origin, "://")) == NULL)
		return 0;
	return strcmp(p + 3, host) == 0;
}

/* 1 if a post comes from this site's own page (session_origin_ok). */
int
session_post_ok(const struct request *r)
{
	return session_origin_ok(r);
}

/* 1 if the login form's csrf field is the token of this browser's form. */
static int
session_login_token_ok(struct request *r, const struct form_fields *f)
{
	char bind[TOKEN_LEN + 1], scope[TOKEN_LEN + 16], nonce[FORM_NONCE_SIZE];
	const char *why;

	if (f == NULL || session_cookie_get(r, SESSION_LOGIN_COOKIE, bind) != 0) {
		log_msg(LOG_LEVEL_INFO, r->id, "login refused: no form cookie");
		return 0;
	}
	session_login_scope(scope, sizeof scope, bind);
	if (form_token_check(r->sd->config, scope, form_fields_get(f, "csrf"),
	    nonce, &why) != 0) {
		log_msg(LOG_LEVEL_INFO, r->id, "login refused: form token %s",
		    why);
		return 0;
	}
	return 1;
}

/* GET and POST /login. */
void
session_login_handle(struct request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct form_fields *f = NULL, *q = NULL;
	struct session_wait *w;
	const char *token, *next = NULL, *lang;
	size_t len = evbuffer_get_length(in);

	if (r->query != NULL)
		q = form_fields_parse(r->query, strlen(r->query));
	if (strcmp(r->method, "GET") == 0) {
		lang = form_lang(r, NULL);
		if (q != NULL)
			next = form_fields_get(q, "next");
		session_login_page(r, 200, lang, session_next_ok(next) ? next :
		    NULL, NULL);
		goto out;
	}
	f = form_fields_parse((const char *)evbuffer_pullup(in, -1), len);
	lang = form_lang(r, f);
	if (f != NULL)
		next = form_fields_get(f, "next");
	if (!session_next_ok(next))
		next = NULL;
	if (!session_origin_ok(r)) {
		log_msg(LOG_LEVEL_INFO, r->id, "login refused: not from this "
		    "site");
		session_login_page(r, 403, lang, next, strcmp(lang, "en") == 0 ?
		    "The sign-in came from another site." :
		    "Yêu cầu đăng nhập đến từ một trang khác.");
		goto out;
	}
	if (!session_login_token_ok(r, f)) {
		session_login_page(r, 403, lang, next, strcmp(lang, "en") == 0 ?
		    "The sign-in form has expired; please sign in again." :
		    "Biểu mẫu đăng nhập đã hết hạn; vui lòng đăng nhập lại.");
		goto out;
	}
	if (form_fields_get(f, "login") != NULL || form_fields_get(f,
	    "password") != NULL) {
		account_login(r, f, lang, next);
		goto out;
	}
	token = f != NULL ? form_fields_get(f, "token") : NULL;
	if (token == NULL || *token == '\0' || strlen(token) > 512) {
		session_login_page(r, 400, lang, next, strcmp(lang, "en") == 0 ?
		    "Enter your access token." : "Vui lòng nhập mã truy cập.");
		goto out;
	}
	if (!sipasd_ready(r->sd)) {
		session_login_page(r, 503, lang, next, strcmp(lang, "en") == 0 ?
		    "The database is not available; try again shortly." :
		    "Cơ sở dữ liệu tạm thời không sẵn sàng; vui lòng thử lại.");
		goto out;
	}
	w = xcalloc(1, sizeof *w);
	w->r = r;
	w->lang = lang;
	w->next = next != NULL ? xstrdup(next) : NULL;
	token_hash(token, strlen(token), w->hash);
	store_token_find(r->sd->db, w->hash, session_login_found, w);
out:
	form_fields_free(f);
	form_fields_free(q);
}

/* POST /logout: csrf= the session's token, from this site's page. */
void
session_logout_handle(struct request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct form_fields *f;
	struct session *s;
	const char *csrf, *lang = form_lang(r, NULL);
	char id[TOKEN_LEN + 1];

	f = form_fields_parse((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in));
	csrf = f != NULL ? form_fields_get(f, "csrf") : NULL;
	s = session_cookie_id(r, id) == 0 ? session_get(id) : NULL;
	if (!session_origin_ok(r) || (s != NULL && (csrf == NULL ||
	    !hmac_equal(s->csrf, csrf)))) {
		log_msg(LOG_LEVEL_INFO, r->id, "logout refused: %s",
		    !session_origin_ok(r) ? "not from this site" :
		    "bad or missing token");
		html_reply_message(r, 403, lang, "403", strcmp(lang, "en") == 0 ?
		    "The sign-out did not come from this site's page; use the "
		    "Sign out button of the dashboard." : "Yêu cầu đăng xuất "
		    "không đến từ trang này; hãy dùng nút Đăng xuất của bảng "
		    "điều hành.", "/dashboard", strcmp(lang, "en") == 0 ?
		    "Dashboard" : "Bảng điều hành");
		goto out;
	}
	if (s != NULL)
		s->expires = 0;
	session_cookie_set(r, "", 0);
	session_redirect(r, "/login");
out:
	form_fields_free(f);
}

/* To the login page, remembering the page asked for. */
static void
session_to_login(struct request *r)
{
	struct evbuffer *b = evbuffer_new();
	char *path, *enc;

	if (r->query != NULL)
		xasprintf(&path, "%s?%s", r->path, r->query);
	else
		path = xstrdup(r->path);
	enc = evhttp_encode_uri(path);
	evbuffer_add_printf(b, "/login?next=%s", enc);
	if (strcmp(form_lang(r, NULL), "en") == 0)
		evbuffer_add_printf(b, "&lang=en");
	evbuffer_add(b, "", 1);
	session_redirect(r, (const char *)evbuffer_pullup(b, -1));
	evbuffer_free(b);
	free(enc);
	free(path);
}

/* Let a checked session through, or refuse its role. */
static void
session_decide(struct request *r, const struct session *s, unsigned roles,
    auth_next_cb then)
{
	if (!(roles & AUTH_ROLE(s->role))) {
		html_reply_message(r, 403, form_lang(r, NULL), "403",
		    strcmp(form_lang(r, NULL), "en") == 0 ?
		    "This account may not see this page." :
		    "Tài khoản này không được xem trang này.", "/login",
		    strcmp(form_lang(r, NULL), "en") == 0 ?
		    "Sign in with another token" :
		    "Đăng nhập bằng mã khác");
		return;
	}
	r->role = s->role;
	free(r->scope);
	r->scope = s->scope != NULL ? xstrdup(s->scope) : NULL;
	free(r->csrf);
	r->csrf = xstrdup(s->csrf);
	free(r->actor);
	r->actor = s->user == NULL ? xstrdup(s->hash) : NULL;
	free(r->user);
	r->user = s->user != NULL ? xstrdup(s->user) : NULL;
	then(r);
}

/* 503: the database cannot answer. */
static void
session_unavailable(struct request *r)
{
	html_reply_message(r, 503, form_lang(r, NULL), "503",
	    "The database is not available / Cơ sở dữ liệu tạm thời "
	    "không sẵn sàng.", NULL, NULL);
}

/*
 * A re-check's answer: ok and role (-1 if unknown) keep the session with
 * unit as its scope and decide on the request, else the session ends and
 * the request goes to the login. Frees w.
 */
static void
session_recheck_done(struct session_wait *w, int ok, int role,
    const char *unit)
{
	struct request *r = w->r;
	struct session *s = session_get(w->id);

	if (s == NULL || !ok || role < 0) {
		if (s != NULL)
			s->expires = 0;
		session_cookie_set(r, "", 0);
		session_to_login(r);
	} else {
		s->role = role;
		free(s->scope);
		s->scope = unit != NULL ? xstrdup(unit) : NULL;
		s->checked = time(NULL);
		session_decide(r, s, w->roles, w->then);
	}
	free(w);
}

/* A re-check's look-up failed (what: "token" or "account"). Frees w. */
static void
session_recheck_failed(struct session_wait *w, const char *what,
    const char *message)
{
	log_msg(LOG_LEVEL_WARN, w->r->id, "%s look-up failed: %s", what,
	    message);
	session_unavailable(w->r);
	free(w);
}

/* The re-check of a session's token answered. */
static void
session_recheck_found(const struct store_token *t, const char *message,
    void *arg)
{
	struct session_wait *w = arg;

	if (t == NULL) {
		session_recheck_failed(w, "token", message);
		return;
	}
	session_recheck_done(w, t->found && !t->revoked, t->found &&
	    !t->revoked ? role_parse(t->role) : -1, t->unit);
}

/* The re-check of a person's account answered. */
static void
session_user_found(const struct store_user *u, size_t n, const char *message,
    void *arg)
{
	struct session_wait *w = arg;

	if (u == NULL) {
		session_recheck_failed(w, "account", message);
		return;
	}
	/* Gone, disabled, or its password changed since the sign-in: end it. */
	session_recheck_done(w, n == 1 && !u->disabled &&
	    u->changed <= w->opened, n == 1 ? role_parse(u->role) : -1,
	    n == 1 ? u->unit : NULL);
}

/* Check the session cookie, then call then. */
void
session_check(struct request *r, unsigned roles, auth_next_cb then)
{
	struct session_wait *w;
	struct session *s;
	char id[TOKEN_LEN + 1];

	if (session_cookie_id(r, id) != 0 || (s = session_get(id)) == NULL) {
		session_to_login(r);
		return;
	}
	if (time(NULL) - s->checked < r->sd->config->token_ttl) {
		session_decide(r, s, roles, then);
		return;
	}
	if (sipasd_lookup_db(r->sd) == NULL) {
		session_unavailable(r);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->r = r;
	memcpy(w->id, id, sizeof w->id);
	memcpy(w->hash, s->hash, sizeof w->hash);
	w->roles = roles;
	w->then = then;
	w->opened = s->opened;
	if (s->user != NULL)
		store_user_find(sipasd_lookup_db(r->sd), s->user,
		    session_user_found, w);
	else
		store_token_find(sipasd_lookup_db(r->sd), w->hash,
		    session_recheck_found, w);
}
