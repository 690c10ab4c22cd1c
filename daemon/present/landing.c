/*
 * landing.c: the page after sign-in (landing.h).
 *
 * The period a landing shows is the calendar quarter holding the day of the
 * latest stored response of the unit's subtree (Vietnam time) when that
 * quarter has at least dashboard_min_n responses, else the calendar year
 * holding it; with no response at all the dashboard's own default (the last
 * closed quarter). An account that sees every unit picks one from the unit
 * tree (the first levels, or every unit whose code or name holds the text
 * of ?q=, a plain GET form); the choice is remembered in a cookie and the
 * next landing goes straight to it. Must not render the dashboard itself.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "daemon/present/dashboard.h"
#include "daemon/present/landing.h"
#include "daemon/sipasd.h"
#include "daemon/store/cache.h"
#include "daemon/store/store_users.h"
#include "sipas/report_run.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* Levels of the tree the picker shows without a search. */
#define LANDING_DEPTH 3
/* Units a search lists at most. */
#define LANDING_MATCHES 200
/* How long the cookie remembers a choice: a year. */
#define LANDING_COOKIE_AGE (365L * 24 * 3600)

#define LTR(en, vi, english) ((en) ? (english) : (vi))

/* A landing waiting for the latest day of its unit. */
struct landing {
	struct request *r;
	char *unit;
	const char *lang;
	struct cache *cache;
};

/* 1 if code can be kept in a cookie as it is. */
static int
landing_code_ok(const char *code)
{
	size_t i, len = strlen(code);

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)code[i]) && code[i] != '.' &&
		    code[i] != '_' && code[i] != '-')
			return 0;
	}
	return 1;
}

/* 303 to the dashboard of unit, with a period (from NULL: its default). */
static void
landing_redirect(struct request *r, const char *unit, const char *from,
    const char *to, const char *lang)
{
	struct evbuffer *b = evbuffer_new();
	char *enc = evhttp_encode_uri(unit);

	evbuffer_add_printf(b, "/dashboard?unit=%s", enc);
	if (from != NULL)
		evbuffer_add_printf(b, "&from=%s&to=%s", from, to);
	if (strcmp(lang, "en") == 0)
		evbuffer_add_printf(b, "&lang=en");
	evbuffer_add(b, "", 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Location", (const char *)evbuffer_pullup(b, -1));
	http_reply(r, 303, "text/plain; charset=utf-8", NULL, 0);
	evbuffer_free(b);
	free(enc);
}

/* The latest day with data answered: pick the period, go. */
static void
landing_latest(const char *day, long quarter_n, long year_n,
    const char *message, void *arg)
{
	struct landing *l = arg;
	struct request *r = l->r;
	char next[32], from[REPORT_DAY_LEN], to[REPORT_DAY_LEN];
	char label[16];
	int y, m, kind;

	(void)year_n;
	if (message != NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "landing: %s", message);
		html_reply_message(r, 503, l->lang, NULL, LTR(strcmp(l->lang,
		    "en") == 0, "Không đọc được số liệu; vui lòng thử lại.",
		    "The data could not be read; please try again."), NULL,
		    NULL);
		goto out;
	}
	if (day == NULL) {
		landing_redirect(r, l->unit, NULL, NULL, l->lang);
		goto out;
	}
	/* The period closed by the first day after it is the one holding day. */
	y = atoi(day);
	m = atoi(day + 5);
	if (quarter_n >= r->sd->config->dashboard_min_n) {
		kind = REPORT_PERIOD_QUARTER;
		m = (m - 1) / 3 * 3 + 4;
		if (m > 12) {
			m = 1;
			y++;
		}
	} else {
		kind = REPORT_PERIOD_YEAR;
		m = 1;
		y++;
	}
	snprintf(next, sizeof next, "%04d-%02d-01", y % 10000, m);
	if (report_period_closed(kind, next, from, to, label,
	    sizeof label) != 0)
		landing_redirect(r, l->unit, NULL, NULL, l->lang);
	else
		landing_redirect(r, l->unit, from, to, l->lang);
out:
	cache_unref(l->cache);
	free(l->unit);
	free(l);
}

/* Append the link that chooses unit u. */
static void
landing_unit_link(struct evbuffer *b, const struct cache_unit *u, int en,
    const char *cls)
{
	char *enc = evhttp_encode_uri(u->code);

	html_raw(b, "<a%s%s%s href=\"/start?unit=%s%s\">", cls != NULL ?
	    " class=\"" : "", cls != NULL ? cls : "", cls != NULL ? "\"" : "",
	    enc, en ? "&amp;lang=en" : "");
	html_text(b, u->name);
	html_raw(b, "</a> <span class=\"code\">");
	html_text(b, u->code);
	html_raw(b, "</span>");
	free(enc);
}

/* The children of u (NULL: the roots), depth levels deep, as nested lists. */
static void
landing_tree(struct evbuffer *b, const struct cache_unit *all, size_t n,
    const struct cache_unit *u, int depth, int en)
{
	size_t i;
	int any = 0;

	if (depth == 0)
		return;
	for (i = 0; i < n; i++) {
		if (all[i].parent != u)
			continue;
		html_raw(b, any ? "" : "<ul class=\"units\">\n");
		any = 1;
		html_raw(b, "<li>");
		landing_unit_link(b, &all[i], en, NULL);
		landing_tree(b, all, n, &all[i], depth - 1, en);
		html_raw(b, "</li>\n");
	}
	if (any)
		html_raw(b, "</ul>\n");
}

/* 1 if hay holds needle, ASCII letters compared without case. */
static int
landing_match(const char *hay, const char *needle)
{
	size_t i, nlen = strlen(needle);

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < nlen; i++) {
			if (tolower((unsigned char)hay[i]) !=
			    tolower((unsigned char)needle[i]))
				break;
		}
		if (i == nlen)
			return 1;
	}
	return nlen == 0;
}

/* The picker: the last unit chosen, the search form, the tree or matches. */
static void
landing_picker_page(struct request *r, const char *lang, const char *q)
{
	struct evbuffer *b = evbuffer_new();
	const struct cache_unit *all, *last = NULL, *p;
	char code[72];
	size_t n, i, shown = 0;
	int en = strcmp(lang, "en") == 0;

	all = cache_units(r->sd->cache, &n);
	if (http_cookie_get(r, LANDING_COOKIE, code, sizeof code) == 0)
		last = cache_unit_get(r->sd->cache, code);
	html_page_begin(b, lang, LTR(en, "Chọn đơn vị: SIPAS",
	    "Choose a unit: SIPAS"), "picker", 0, NULL);
	html_raw(b, "<p class=\"lang\"><a href=\"/dashboard%s\">%s</a></p>\n",
	    en ? "" : "?lang=en", en ? "Tiếng Việt" : "English");
	html_raw(b, "<h1>%s</h1>\n<p>%s</p>\n", LTR(en, "Chọn đơn vị",
	    "Choose a unit"), LTR(en, "Tài khoản này xem được mọi đơn vị. "
	    "Chọn một đơn vị để xem số liệu của kỳ gần nhất có dữ liệu.",
	    "This account sees every unit. Choose one to see its numbers for "
	    "the latest period with data."));
	if (last != NULL) {
		html_raw(b, "<p id=\"last-unit\">%s ", LTR(en, "Lần trước:",
		    "Last chosen:"));
		landing_unit_link(b, last, en, "button");
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<form method=\"get\" action=\"/dashboard\" role=\"search\">\n"
	    "<label for=\"q\">%s</label>\n<input type=\"search\" id=\"q\" "
	    "name=\"q\" value=\"", LTR(en, "Tìm theo tên hoặc mã đơn vị",
	    "Search by unit name or code"));
	html_text(b, q);
	html_raw(b, "\">\n%s<button type=\"submit\" id=\"search\">%s</button>\n"
	    "</form>\n", en ? "<input type=\"hidden\" name=\"lang\" "
	    "value=\"en\">\n" : "", LTR(en, "Tìm", "Search"));
	if (q != NULL && *q != '\0') {
		html_raw(b, "<ul class=\"units\" id=\"matches\">\n");
		for (i = 0; i < n && shown < LANDING_MATCHES; i++) {
			if (!landing_match(all[i].code, q) &&
			    !landing_match(all[i].name, q))
				continue;
			html_raw(b, "<li>");
			landing_unit_link(b, &all[i], en, NULL);
			/* Where it lies: its ancestors, nearest last. */
			if (all[i].parent != NULL) {
				html_raw(b, " <span class=\"path\">");
				for (p = all[i].parent; p != NULL; p = p->parent) {
					html_text(b, p->name);
					html_raw(b, p->parent != NULL ? " ‹ " : "");
				}
				html_raw(b, "</span>");
			}
			html_raw(b, "</li>\n");
			shown++;
		}
		html_raw(b, "</ul>\n");
		if (shown == 0) {
			html_raw(b, "<p id=\"no-match\">");
			html_text(b, LTR(en, "Không có đơn vị nào khớp. Hãy thử "
			    "một phần của tên hoặc mã.", "No unit matches. Try "
			    "part of a name or a code."));
			html_raw(b, "</p>\n");
		}
		html_raw(b, "<p><a href=\"/dashboard%s\">%s</a></p>\n",
		    en ? "?lang=en" : "", LTR(en, "Xem cây đơn vị",
		    "Show the unit tree"));
	} else
		landing_tree(b, all, n, NULL, LANDING_DEPTH, en);
	html_page_end(b, 0);
	html_reply(r, 200, b);
	evbuffer_free(b);
}

/* The unit picker (the dashboard without a unit comes here). */
void
landing_picker(struct request *r)
{
	struct form_fields *q = NULL;
	const char *lang = form_lang(r, NULL), *text = NULL;

	if (r->query != NULL)
		q = form_fields_parse(r->query, strlen(r->query));
	if (q != NULL)
		text = form_fields_get(q, "q");
	if (text != NULL && strlen(text) > 200)
		html_reply_message(r, 400, lang, NULL, strcmp(lang, "en") == 0 ?
		    "q: the search text is longer than 200 bytes." :
		    "q: nội dung tìm kiếm dài quá 200 byte.", "/dashboard",
		    strcmp(lang, "en") == 0 ? "Choose a unit" : "Chọn đơn vị");
	else
		landing_picker_page(r, lang, text);
	form_fields_free(q);
}

/* GET /start. */
void
landing_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct form_fields *q = NULL;
	const char *lang = form_lang(r, NULL), *unit = NULL, *pick = NULL;
	const struct survey *s;
	struct landing *l;
	char code[72];
	int en = strcmp(lang, "en") == 0;

	if (sd->cache == NULL || !sipasd_read_ready(sd)) {
		html_reply_message(r, 503, lang, NULL, LTR(en, "Cơ sở dữ liệu "
		    "tạm thời không sẵn sàng.", "The database is not "
		    "available."), NULL, NULL);
		return;
	}
	if (r->query != NULL)
		q = form_fields_parse(r->query, strlen(r->query));
	if (q != NULL) {
		unit = form_fields_get(q, "unit");
		pick = form_fields_get(q, "pick");
	}
	if (unit != NULL && *unit == '\0')
		unit = NULL;
	if (unit != NULL) {
		if (!auth_scope_allows(r, unit) ||
		    cache_unit_get(sd->cache, unit) == NULL) {
			html_reply_message(r, 404, lang, NULL, LTR(en, "Không có "
			    "đơn vị này trong phạm vi của tài khoản.", "There is "
			    "no such unit within this account's scope."),
			    en ? "/start?lang=en" : "/start", LTR(en,
			    "Về trang đầu", "Back to the start"));
			goto out;
		}
		if (r->scope == NULL && landing_code_ok(unit))
			http_cookie_set(r, LANDING_COOKIE, unit,
			    LANDING_COOKIE_AGE);
	} else if (r->scope != NULL)
		unit = r->scope;
	else if (pick == NULL && http_cookie_get(r, LANDING_COOKIE, code,
	    sizeof code) == 0 && cache_unit_get(sd->cache, code) != NULL)
		unit = code;
	if (unit == NULL) {
		landing_picker(r);
		goto out;
	}
	if ((s = cache_default_survey(sd->cache)) == NULL) {
		landing_redirect(r, unit, NULL, NULL, lang);
		goto out;
	}
	l = xcalloc(1, sizeof *l);
	l->r = r;
	l->unit = xstrdup(unit);
	l->lang = lang;
	l->cache = cache_ref(sd->cache);
	store_latest_day(sd->rdb, s->code, unit, landing_latest, l);
out:
	form_fields_free(q);
}
