/*
 * admin_users.c: /admin/users, where an admin lists, adds and disables
 * people's accounts and sets their passwords (docs/security.md, "Accounts").
 *
 * An admin sees and changes only the accounts whose unit lies within the
 * admin's own scope: a district admin cannot see nor touch a province
 * account, nor one of every unit, and every account it adds is scoped to a
 * unit within its own. Every POST must come from this site's page (Origin or
 * Sec-Fetch-Site) and carry the session's token. New passwords follow
 * password_check and are hashed on the password threads (passwork.c);
 * disabling an account or setting its password ends its sessions at once.
 * Every change is written to the audit log, the admin as actor, without the
 * password or its hash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "daemon/net/admin_users.h"
#include "daemon/net/passwork.h"
#include "daemon/net/session.h"
#include "daemon/sipasd.h"
#include "daemon/store/cache.h"
#include "daemon/store/db.h"
#include "daemon/store/store_users.h"
#include "sipas/hmac.h"
#include "sipas/password.h"
#include "sipas/token.h"
#include "sipas/util.h"

#define ATR(o, vi, en) (strcmp((o)->lang, "en") == 0 ? (en) : (vi))

/* A change on its way through hashing and the database. */
struct admin_op {
	struct request *r;
	const char *lang;
	char *action;	/* add, disable, passwd */
	char *login;
	char *name;
	char *role;
	char *unit;	/* NULL: every unit */
	char *password;
};

/* Free an op, wiping the password. */
static void
admin_op_free(struct admin_op *o)
{
	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	free(o->action);
	free(o->login);
	free(o->name);
	free(o->role);
	free(o->unit);
	free(o);
}

/* 1 if the admin may see and change an account of unit (NULL: every unit). */
static int
admin_may(const struct request *r, const char *unit)
{
	if (r->scope == NULL)
		return 1;
	return unit != NULL && auth_scope_allows(r, unit);
}

/* A message page with the way back to the list. */
static void
admin_message(struct request *r, int status, const char *lang,
    const char *text)
{
	int en = strcmp(lang, "en") == 0;

	html_reply_message(r, status, lang, NULL, text, en ?
	    "/admin/users?lang=en" : "/admin/users", en ?
	    "Back to the accounts" : "Về danh sách tài khoản");
}

/* Audit a change by this admin (never the password). */
static void
admin_audit(struct admin_op *o)
{
	json_t *detail;
	char *text, *actor;

	if (o->r->user != NULL)
		xasprintf(&actor, "user:%s", o->r->user);
	else
		actor = xstrdup("admin session");
	detail = json_pack("{s:s,s:s?,s:s?}", "login", o->login, "role",
	    o->role, "unit", o->unit);
	text = json_dumps(detail, JSON_COMPACT);
	xasprintf(&o->action, "user %s", o->action);
	store_audit_actor(o->r->sd->db, actor, o->action, text, NULL, NULL);
	free(text);
	free(actor);
	json_decref(detail);
}

/* Done: back to the list. */
static void
admin_done(struct admin_op *o)
{
	char loc[64];
	char quoted[96];

	log_msg(LOG_LEVEL_INFO, o->r->id, "admin: %s %s", o->action,
	    log_quote(quoted, sizeof quoted, o->login));
	snprintf(loc, sizeof loc, "/admin/users?done=%s%s", o->action,
	    strcmp(o->lang, "en") == 0 ? "&lang=en" : "");
	admin_audit(o);
	session_redirect(o->r, loc);
	admin_op_free(o);
}

/* The insert answered. */
static void
admin_inserted(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct admin_op *o = arg;

	if (!ok) {
		if (sqlstate != NULL && strcmp(sqlstate, "23505") == 0)
			admin_message(o->r, 422, o->lang, ATR(o, "login: tên "
			    "đăng nhập này đã có.", "login: this login exists "
			    "already."));
		else {
			log_msg(LOG_LEVEL_WARN, o->r->id, "admin: %s", message);
			admin_message(o->r, db_sqlstate_is_connection(sqlstate) ?
			    503 : 500, o->lang, ATR(o, "Không lưu được tài "
			    "khoản; vui lòng thử lại.", "The account could not "
			    "be saved; please try again."));
		}
		admin_op_free(o);
		return;
	}
	admin_done(o);
}

/* A disable or a new hash answered. */
static void
admin_changed(long n, const char *message, void *arg)
{
	struct admin_op *o = arg;

	if (n != 1) {
		if (n < 0)
			log_msg(LOG_LEVEL_WARN, o->r->id, "admin: %s", message);
		admin_message(o->r, n < 0 ? 503 : 404, o->lang, n < 0 ?
		    ATR(o, "Không lưu được thay đổi; vui lòng thử lại.",
		    "The change could not be saved; please try again.") :
		    ATR(o, "login: không có tài khoản này.",
		    "login: there is no such account."));
		admin_op_free(o);
		return;
	}
	session_end_user(o->login);
	admin_done(o);
}

/* The new password hashed: store it. */
static void
admin_hashed(int ok, const char *encoded, void *arg)
{
	struct admin_op *o = arg;

	if (!ok) {
		admin_message(o->r, 500, o->lang, ATR(o, "Không tạo được mật "
		    "khẩu; vui lòng thử lại.", "The password could not be set; "
		    "please try again."));
		admin_op_free(o);
		return;
	}
	if (strcmp(o->action, "add") == 0)
		store_user_insert(o->r->sd->db, o->login, o->name, o->role,
		    o->unit, encoded, admin_inserted, o);
	else
		store_user_set_hash(o->r->sd->db, o->login, encoded,
		    admin_changed, o);
}

/* The account to disable or to give a password: found? within scope? */
static void
admin_target_found(const struct store_user *u, size_t n, const char *message,
    void *arg)
{
	struct admin_op *o = arg;

	if (u == NULL) {
		log_msg(LOG_LEVEL_WARN, o->r->id, "admin: %s", message);
		admin_message(o->r, 503, o->lang, ATR(o, "Cơ sở dữ liệu tạm "
		    "thời không sẵn sàng.", "The database is not available."));
		admin_op_free(o);
		return;
	}
	/* Outside the scope is answered as unknown: nothing leaks. */
	if (n != 1 || !admin_may(o->r, u[0].unit)) {
		admin_message(o->r, n != 1 ? 404 : 403, o->lang, n != 1 ?
		    ATR(o, "login: không có tài khoản này.", "login: there is "
		    "no such account.") : ATR(o, "login: tài khoản này ngoài "
		    "phạm vi đơn vị của bạn.", "login: this account is outside "
		    "your unit's scope."));
		admin_op_free(o);
		return;
	}
	o->role = xstrdup(u[0].role);
	o->unit = u[0].unit != NULL ? xstrdup(u[0].unit) : NULL;
	if (strcmp(o->action, "disable") == 0)
		store_user_disable(o->r->sd->db, o->login, admin_changed, o);
	else
		passwork_hash(o->r->sd->base, o->password, admin_hashed, o);
}

/* A field of f, NULL when absent or empty. */
static const char *
admin_field(const struct form_fields *f, const char *key)
{
	const char *v = f != NULL ? form_fields_get(f, key) : NULL;

	return v != NULL && *v != '\0' ? v : NULL;
}

/* POST /admin/users. */
static void
admin_post(struct request *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct form_fields *f;
	struct admin_op *o;
	const char *action, *login, *pw, *unit, *role, *name, *why, *csrf;
	const char *lang;
	char msg[256];
	int en;

	f = form_fields_parse((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in));
	lang = form_lang(r, f);
	en = strcmp(lang, "en") == 0;
	csrf = admin_field(f, "csrf");
	if (!session_post_ok(r) || r->csrf == NULL || csrf == NULL ||
	    !hmac_equal(r->csrf, csrf)) {
		log_msg(LOG_LEVEL_INFO, r->id, "admin: refused: %s",
		    !session_post_ok(r) ? "not from this site" :
		    "bad or missing token");
		admin_message(r, 403, lang, en ? "The change did not come from "
		    "this site's page; use the forms of the accounts page." :
		    "Yêu cầu không đến từ trang này; hãy dùng các biểu mẫu của "
		    "trang tài khoản.");
		goto out;
	}
	action = admin_field(f, "action");
	login = admin_field(f, "login");
	pw = admin_field(f, "password");
	if (action == NULL || (strcmp(action, "add") != 0 &&
	    strcmp(action, "disable") != 0 && strcmp(action, "passwd") != 0)) {
		admin_message(r, 422, lang, en ? "action: choose add, disable "
		    "or passwd." : "action: chọn add, disable hoặc passwd.");
		goto out;
	}
	if (login == NULL || !password_login_ok(login)) {
		admin_message(r, 422, lang, en ? "login: use 1 to 63 of a-z, "
		    "0-9, . _ -, starting with a letter or digit." : "login: "
		    "dùng 1 đến 63 ký tự a-z, 0-9, . _ -, bắt đầu bằng chữ "
		    "hoặc số.");
		goto out;
	}
	if (strcmp(action, "disable") != 0 && (pw == NULL ||
	    (why = password_check(pw)) != NULL)) {
		snprintf(msg, sizeof msg, "password: %s.", pw == NULL ? (en ?
		    "enter the new password" : "hãy nhập mật khẩu mới") : en ?
		    why : "mật khẩu cần ít nhất 10 ký tự, tối đa 256 byte, "
		    "không có ký tự điều khiển");
		admin_message(r, 422, lang, msg);
		goto out;
	}
	if (strcmp(action, "disable") == 0 && r->user != NULL &&
	    strcmp(r->user, login) == 0) {
		admin_message(r, 422, lang, en ? "login: you cannot disable "
		    "your own account." : "login: không thể tự khóa tài khoản "
		    "của mình.");
		goto out;
	}
	if (!sipasd_ready(r->sd)) {
		admin_message(r, 503, lang, en ? "The database is not "
		    "available." : "Cơ sở dữ liệu tạm thời không sẵn sàng.");
		goto out;
	}
	o = xcalloc(1, sizeof *o);
	o->r = r;
	o->lang = lang;
	o->action = xstrdup(action);
	o->login = xstrdup(login);
	o->password = pw != NULL ? xstrdup(pw) : NULL;
	if (strcmp(action, "add") != 0) {
		store_user_find(r->sd->db, login, admin_target_found, o);
		goto out;
	}
	role = admin_field(f, "role");
	unit = admin_field(f, "unit");
	name = admin_field(f, "name");
	if (role == NULL || (strcmp(role, "viewer") != 0 &&
	    strcmp(role, "uploader") != 0 && strcmp(role, "admin") != 0)) {
		admin_message(r, 422, lang, en ? "role: choose viewer, uploader "
		    "or admin." : "role: chọn viewer, uploader hoặc admin.");
		admin_op_free(o);
		goto out;
	}
	if ((unit != NULL && cache_unit_get(r->sd->cache, unit) == NULL) ||
	    !admin_may(r, unit)) {
		admin_message(r, 422, lang, unit == NULL ? (en ? "unit: give a "
		    "unit within your own scope." : "unit: hãy nhập một đơn vị "
		    "trong phạm vi của bạn.") : en ? "unit: no such unit within "
		    "your scope." : "unit: không có đơn vị này trong phạm vi của "
		    "bạn.");
		admin_op_free(o);
		goto out;
	}
	if (name != NULL && (strlen(name) > 200 || !utf8_valid(name,
	    strlen(name)))) {
		admin_message(r, 422, lang, en ? "name: at most 200 bytes." :
		    "name: tối đa 200 byte.");
		admin_op_free(o);
		goto out;
	}
	o->role = xstrdup(role);
	o->unit = unit != NULL ? xstrdup(unit) : NULL;
	o->name = name != NULL ? xstrdup(name) : NULL;
	passwork_hash(r->sd->base, o->password, admin_hashed, o);
out:
	form_fields_free(f);
}

/* A hidden csrf field and the form's start. */
static void
admin_form_begin(struct evbuffer *b, const struct request *r, const char *id,
    const char *action, int en)
{
	html_raw(b, "<form method=\"post\" action=\"/admin/users\" id=\"%s\">\n"
	    "<input type=\"hidden\" name=\"action\" value=\"%s\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"", id, action);
	html_text(b, r->csrf);
	html_raw(b, "\">\n%s", en ? "<input type=\"hidden\" name=\"lang\" "
	    "value=\"en\">\n" : "");
}

struct admin_list {
	struct request *r;
	const char *lang;
	char *done;
};

/* The list answered: the page. */
static void
admin_listed(const struct store_user *u, size_t n, const char *message,
    void *arg)
{
	struct admin_list *l = arg;
	struct request *r = l->r;
	struct evbuffer *b;
	char day[16], id[96];
	struct tm tm;
	size_t i;
	int en = strcmp(l->lang, "en") == 0;

	if (u == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "admin: %s", message);
		html_reply_message(r, 503, l->lang, NULL, en ? "The accounts "
		    "could not be read; please try again." : "Không đọc được "
		    "danh sách tài khoản; vui lòng thử lại.", NULL, NULL);
		goto out;
	}
	b = evbuffer_new();
	html_page_begin(b, l->lang, en ? "Accounts: SIPAS" :
	    "Tài khoản: SIPAS", "admin", 0, NULL);
	html_raw(b, "<p class=\"lang\"><a href=\"/admin/users%s\">%s</a> · "
	    "<a href=\"/start%s\">%s</a></p>\n", en ? "" : "?lang=en",
	    en ? "Tiếng Việt" : "English", en ? "?lang=en" : "",
	    en ? "Dashboard" : "Bảng điều hành");
	html_raw(b, "<h1>%s</h1>\n", en ? "Accounts" : "Tài khoản");
	if (r->scope != NULL) {
		html_raw(b, "<p id=\"scope\">%s ", en ? "Accounts of unit" :
		    "Tài khoản thuộc đơn vị");
		html_text(b, r->scope);
		html_raw(b, en ? " and the units below it.</p>\n" :
		    " và các đơn vị trực thuộc.</p>\n");
	}
	if (l->done != NULL)
		html_raw(b, "<p class=\"done\" role=\"status\">%s</p>\n", en ?
		    "Saved." : "Đã lưu.");
	html_raw(b, "<table class=\"accounts\">\n<tr><th>%s</th><th>%s</th>"
	    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th></th></tr>\n",
	    en ? "Login" : "Tên đăng nhập", en ? "Name" : "Họ tên",
	    en ? "Role" : "Vai trò", en ? "Unit" : "Đơn vị",
	    en ? "State" : "Trạng thái", en ? "Password set" :
	    "Đặt mật khẩu");
	for (i = 0; i < n; i++) {
		if (!admin_may(r, u[i].unit))
			continue;
		gmtime_r(&(time_t){ u[i].changed + 7 * 3600 }, &tm);
		strftime(day, sizeof day, "%d/%m/%Y", &tm);
		html_raw(b, "<tr data-login=\"");
		html_text(b, u[i].login);
		html_raw(b, "\"><td>");
		html_text(b, u[i].login);
		html_raw(b, "</td><td>");
		html_text(b, u[i].name);
		html_raw(b, "</td><td>");
		html_text(b, u[i].role);
		html_raw(b, "</td><td>");
		html_text(b, u[i].unit != NULL ? u[i].unit : en ? "all" :
		    "tất cả");
		html_raw(b, "</td><td>%s</td><td>%s</td><td>", u[i].disabled ?
		    (en ? "disabled" : "đã khóa") : (en ? "active" :
		    "đang dùng"), day);
		if (!u[i].disabled) {
			snprintf(id, sizeof id, "disable-%s", u[i].login);
			admin_form_begin(b, r, id, "disable", en);
			html_raw(b, "<input type=\"hidden\" name=\"login\" "
			    "value=\"");
			html_text(b, u[i].login);
			html_raw(b, "\">\n<button type=\"submit\">%s</button>\n"
			    "</form>\n", en ? "Disable" : "Khóa");
			snprintf(id, sizeof id, "passwd-%s", u[i].login);
			admin_form_begin(b, r, id, "passwd", en);
			html_raw(b, "<input type=\"hidden\" name=\"login\" "
			    "value=\"");
			html_text(b, u[i].login);
			html_raw(b, "\">\n<input type=\"password\" "
			    "name=\"password\" autocomplete=\"new-password\" "
			    "minlength=\"%d\" aria-label=\"%s\" required>\n"
			    "<button type=\"submit\">%s</button>\n</form>\n",
			    PASSWORD_MIN, en ? "New password" : "Mật khẩu mới",
			    en ? "Reset password" : "Đặt lại mật khẩu");
		}
		html_raw(b, "</td></tr>\n");
	}
	html_raw(b, "</table>\n<h2>%s</h2>\n", en ? "Add an account" :
	    "Thêm tài khoản");
	admin_form_begin(b, r, "add", "add", en);
	html_raw(b, "<label for=\"add-login\">%s</label>\n<input id=\"add-login\""
	    " name=\"login\" required pattern=\"[a-z0-9][a-z0-9._\\-]{0,62}\">\n"
	    "<label for=\"add-name\">%s</label>\n<input id=\"add-name\" "
	    "name=\"name\">\n<label for=\"add-role\">%s</label>\n"
	    "<select id=\"add-role\" name=\"role\"><option>viewer</option>"
	    "<option>uploader</option><option>admin</option></select>\n"
	    "<label for=\"add-unit\">%s</label>\n<input id=\"add-unit\" "
	    "name=\"unit\"%s value=\"", en ? "Login" : "Tên đăng nhập",
	    en ? "Name" : "Họ tên", en ? "Role" : "Vai trò",
	    en ? "Unit code" : "Mã đơn vị", r->scope != NULL ? " required" : "");
	html_text(b, r->scope);
	html_raw(b, "\">\n<label for=\"add-password\">%s</label>\n"
	    "<input type=\"password\" id=\"add-password\" name=\"password\" "
	    "autocomplete=\"new-password\" minlength=\"%d\" required>\n"
	    "<button type=\"submit\">%s</button>\n</form>\n",
	    en ? "Password (at least 10 characters)" :
	    "Mật khẩu (ít nhất 10 ký tự)", PASSWORD_MIN, en ? "Add" : "Thêm");
	html_page_end(b, 0);
	/* The posts of this page carry their real Origin. */
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Referrer-Policy", "same-origin");
	html_reply(r, 200, b);
	evbuffer_free(b);
out:
	free(l->done);
	free(l);
}

/* GET and POST /admin/users, after the session check (admins only). */
void
admin_users_handle(struct request *r)
{
	struct form_fields *q = NULL;
	struct admin_list *l;
	const char *done = NULL;

	if (strcmp(r->method, "POST") == 0) {
		admin_post(r);
		return;
	}
	if (!sipasd_ready(r->sd)) {
		html_reply_message(r, 503, form_lang(r, NULL), NULL,
		    strcmp(form_lang(r, NULL), "en") == 0 ? "The database is "
		    "not available." : "Cơ sở dữ liệu tạm thời không sẵn sàng.",
		    NULL, NULL);
		return;
	}
	if (r->query != NULL)
		q = form_fields_parse(r->query, strlen(r->query));
	if (q != NULL)
		done = form_fields_get(q, "done");
	l = xcalloc(1, sizeof *l);
	l->r = r;
	l->lang = form_lang(r, NULL);
	l->done = done != NULL ? xstrdup(done) : NULL;
	form_fields_free(q);
	store_users_list(r->sd->db, admin_listed, l);
}
