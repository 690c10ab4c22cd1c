/*
 * account.c: signing a person in with a login and a password, and the
 * lockout of a login after ACCOUNT_FAILS wrong passwords within
 * ACCOUNT_WINDOW seconds (docs/security.md, "Accounts").
 *
 * The account is looked up, then the password is verified on the password
 * threads (passwork.c). An unknown or disabled login is verified against a
 * dummy hash of the same cost and gets the same answer as a wrong password,
 * so neither the time nor the page tells whether a login exists. Every
 * attempt counts as a failure until it succeeds, so attempts sent in
 * parallel cannot outrun the count. The counts live in memory, keyed by the
 * login as typed (a restart forgets them). Neither a password nor a hash is
 * ever logged.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <jansson.h>

#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/net/account.h"
#include "daemon/net/passwork.h"
#include "daemon/net/session.h"
#include "daemon/sipasd.h"
#include "daemon/store/store_users.h"
#include "sipas/password.h"
#include "sipas/strmap.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Forget settled entries when the table grows past this many logins. */
#define ACCOUNT_SWEEP 10000
/* The longest login looked up (longer ones are refused like a wrong one). */
#define ACCOUNT_LOGIN_MAX 63

struct account_fails {
	int n;		/* attempts not (yet) successful in the window */
	time_t first;	/* the window's start */
	time_t until;	/* locked until, or 0 */
};

/* login -> struct account_fails; one loop, no lock. */
static struct strmap *account_table;

/* A sign-in on its way: look-up, then verification. */
struct account_wait {
	struct request *r;
	char *login;
	char *password;
	char *next;
	const char *lang;
	int found;	/* an enabled account of a role that may sign in */
	int role;
	char *scope;
};

/* Drop entries whose window and lock are over (rebuilds the table). */
static void
account_sweep(time_t now)
{
	struct strmap *keep = strmap_create();
	struct account_fails *a;
	const char *key;
	void *value;
	size_t pos = 0;

	while (strmap_next(account_table, &pos, &key, &value)) {
		a = value;
		if (a->until > now || now - a->first < ACCOUNT_WINDOW)
			strmap_put(keep, key, a);
		else
			free(a);
	}
	strmap_free(account_table);
	account_table = keep;
}

/* The entry of login, created when missing; its window restarted if over. */
static struct account_fails *
account_fails_get(const char *login, time_t now)
{
	struct account_fails *a;

	if (account_table == NULL)
		account_table = strmap_create();
	if ((a = strmap_get(account_table, login)) == NULL) {
		if (strmap_count(account_table) >= ACCOUNT_SWEEP)
			account_sweep(now);
		a = xcalloc(1, sizeof *a);
		strmap_put(account_table, login, a);
	}
	if (a->until != 0 && a->until <= now) {
		a->until = 0;
		a->n = 0;
	}
	if (a->until == 0 && now - a->first >= ACCOUNT_WINDOW) {
		a->n = 0;
		a->first = now;
	}
	return a;
}

/* t as dd/mm/yyyy HH:MM in Vietnam time (UTC+7, no daylight saving). */
static void
account_vn_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t vn = t + 7 * 3600;

	gmtime_r(&vn, &tm);
	strftime(buf, len, "%d/%m/%Y %H:%M", &tm);
}

/* The 429 login page: locked until a->until. */
static void
account_locked_page(struct request *r, const char *lang, const char *next,
    time_t until)
{
	char when[32], msg[320];

	account_vn_time(until, when, sizeof when);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Retry-After", "900");
	snprintf(msg, sizeof msg, strcmp(lang, "en") == 0 ?
	    "Too many wrong passwords for this login. Sign-in is paused until "
	    "%s (Vietnam time); try again then, or ask an administrator to "
	    "reset the password." : "Nhập sai mật khẩu quá nhiều lần. Tên đăng "
	    "nhập này tạm khóa đến %s (giờ Việt Nam); hãy thử lại sau thời "
	    "điểm đó hoặc nhờ quản trị viên đặt lại mật khẩu.", when);
	session_login_page(r, 429, lang, next, msg);
}

/* Free a wait, wiping the password. */
static void
account_wait_free(struct account_wait *w)
{
	if (w->password != NULL) {
		explicit_bzero(w->password, strlen(w->password));
		free(w->password);
	}
	free(w->login);
	free(w->next);
	free(w->scope);
	free(w);
}

/* Audit a lockout: the login and until when, nothing else. */
static void
account_audit_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	(void)sqlstate;
	(void)arg;
	if (!ok)
		log_msg(LOG_LEVEL_WARN, 0, "audit of a lockout failed: %s",
		    message);
}

/* The verification answered. */
static void
account_verified(int ok, const char *encoded, void *arg)
{
	struct account_wait *w = arg;
	struct request *r = w->r;
	struct account_fails *a;
	json_t *detail;
	char *text, when[32], quoted[96];
	time_t now = time(NULL);

	(void)encoded;
	a = account_fails_get(w->login, now);
	/* A lockout begun while this one was being verified holds. */
	if (ok && w->found && a->until <= now) {
		a->n = 0;
		a->first = 0;
		metrics_login("ok");
		session_open_user(r, w->role, w->scope, w->login, w->lang,
		    w->next);
		goto out;
	}
	log_msg(LOG_LEVEL_INFO, r->id, "login refused: %s (wrong password or "
	    "unknown login, attempt %d)", log_quote(quoted, sizeof quoted,
	    w->login), a->n);
	if (a->until == 0 && a->n >= ACCOUNT_FAILS) {
		a->until = now + ACCOUNT_LOCK;
		metrics_lockout();
		account_vn_time(a->until, when, sizeof when);
		log_msg(LOG_LEVEL_WARN, r->id, "login %s locked until %s",
		    quoted, when);
		detail = json_pack("{s:s,s:i,s:I}", "login", w->login,
		    "failures", a->n, "until", (json_int_t)a->until);
		text = json_dumps(detail, JSON_COMPACT);
		store_audit_actor(r->sd->db, "sipasd", "login lockout", text,
		    account_audit_done, NULL);
		free(text);
		json_decref(detail);
	}
	metrics_login("refused");
	if (a->until > now)
		account_locked_page(r, w->lang, w->next, a->until);
	else
		session_login_page(r, 401, w->lang, w->next, strcmp(w->lang,
		    "en") == 0 ? "The login or the password is wrong." :
		    "Tên đăng nhập hoặc mật khẩu không đúng.");
out:
	account_wait_free(w);
}

/* The account look-up answered: verify (against a dummy when none). */
static void
account_found(const struct store_user *u, size_t n, const char *message,
    void *arg)
{
	struct account_wait *w = arg;
	struct request *r = w->r;
	struct account_fails *a;
	int role;

	if (u == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "account look-up failed: %s",
		    message);
		/* Not the user's fault: the attempt does not count. */
		a = account_fails_get(w->login, time(NULL));
		if (a->n > 0)
			a->n--;
		session_login_page(r, 503, w->lang, w->next, strcmp(w->lang,
		    "en") == 0 ? "The database is not available; try again "
		    "shortly." : "Cơ sở dữ liệu tạm thời không sẵn sàng; vui "
		    "lòng thử lại.");
		account_wait_free(w);
		return;
	}
	if (n == 1 && !u[0].disabled && u[0].hash != NULL &&
	    ((role = role_parse(u[0].role)) == ROLE_VIEWER ||
	    role == ROLE_ADMIN || role == ROLE_UPLOADER)) {
		w->found = 1;
		w->role = role;
		w->scope = u[0].unit != NULL ? xstrdup(u[0].unit) : NULL;
	}
	passwork_verify(r->sd->base, w->found ? u[0].hash : NULL, w->password,
	    account_verified, w);
}

/* POST /login with login= and password=. */
void
account_login(struct request *r, const struct form_fields *f,
    const char *lang, const char *next)
{
	const char *login = form_fields_get(f, "login");
	const char *password = form_fields_get(f, "password");
	struct account_fails *a;
	struct account_wait *w;
	time_t now = time(NULL);
	int en = strcmp(lang, "en") == 0;

	if (login == NULL || *login == '\0' || password == NULL ||
	    *password == '\0') {
		session_login_page(r, 400, lang, next, en ? "Enter your login "
		    "and your password." : "Vui lòng nhập tên đăng nhập và mật "
		    "khẩu.");
		return;
	}
	if (strlen(login) > ACCOUNT_LOGIN_MAX || strlen(password) >
	    PASSWORD_MAX || !utf8_valid(login, strlen(login))) {
		session_login_page(r, 401, lang, next, en ? "The login or the "
		    "password is wrong." : "Tên đăng nhập hoặc mật khẩu không "
		    "đúng.");
		return;
	}
	a = account_fails_get(login, now);
	if (a->until > now) {
		metrics_login("locked");
		log_msg(LOG_LEVEL_INFO, r->id, "login refused: locked out");
		account_locked_page(r, lang, next, a->until);
		return;
	}
	/* Attempts still being verified count: they cannot outrun the lock. */
	if (a->n >= ACCOUNT_FAILS) {
		metrics_login("locked");
		account_locked_page(r, lang, next, now + ACCOUNT_LOCK);
		return;
	}
	if (!sipasd_ready(r->sd)) {
		session_login_page(r, 503, lang, next, en ? "The database is "
		    "not available; try again shortly." : "Cơ sở dữ liệu tạm "
		    "thời không sẵn sàng; vui lòng thử lại.");
		return;
	}
	a->n++;
	w = xcalloc(1, sizeof *w);
	w->r = r;
	w->login = xstrdup(login);
	w->password = xstrdup(password);
	w->next = next != NULL ? xstrdup(next) : NULL;
	w->lang = lang;
	store_user_find(r->sd->db, login, account_found, w);
}
