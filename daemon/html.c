/*
 * html.c: escaping, the page frame and the HTML replies of the citizen pages.
 *
 * Owns no state. Must not know about surveys or responses: form.c and
 * kiosk.c decide what a page says.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/html.h"
#include "daemon/request.h"
#include "sipas/util.h"

/* Append s escaped for text and attribute values. */
void
html_text(struct evbuffer *b, const char *s)
{
	const char *p, *start;

	if (s == NULL)
		return;
	for (start = p = s; *p != '\0'; p++) {
		const char *rep;

		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		evbuffer_add(b, start, (size_t)(p - start));
		evbuffer_add(b, rep, strlen(rep));
		start = p + 1;
	}
	evbuffer_add(b, start, (size_t)(p - start));
}

/* Append trusted markup. */
void
html_raw(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
}

/* The head of a page. */
void
html_page_begin(struct evbuffer *b, const char *lang, const char *title,
    const char *body_class, int refresh, const char *refresh_url)
{
	html_raw(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", lang);
	html_text(b, title);
	html_raw(b, "</title>\n");
	if (refresh > 0) {
		html_raw(b, "<meta http-equiv=\"refresh\" content=\"%d", refresh);
		if (refresh_url != NULL) {
			html_raw(b, ";url=");
			html_text(b, refresh_url);
		}
		html_raw(b, "\">\n");
	}
	html_raw(b, "<link rel=\"stylesheet\" href=\"/static/form.css?v=%s\">\n"
	    "</head>\n<body%s%s%s>\n<main>\n", static_version("form.css"),
	    body_class != NULL ? " class=\"" : "",
	    body_class != NULL ? body_class : "",
	    body_class != NULL ? "\"" : "");
}

/* The end of a page. */
void
html_page_end(struct evbuffer *b, int with_js)
{
	html_raw(b, "</main>\n");
	if (with_js)
		html_raw(b, "<script src=\"/static/form.js?v=%s\" defer></script>\n",
		    static_version("form.js"));
	html_raw(b, "</body>\n</html>\n");
}

/* The sign-out form of a page's header. */
void
html_logout_form(struct evbuffer *b, const struct request *r,
    const char *lang)
{
	html_raw(b, "<form method=\"post\" action=\"/logout\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(b, r->csrf != NULL ? r->csrf : "");
	html_raw(b, "\"><button type=\"submit\" id=\"logout\">%s</button>"
	    "</form>", LANG_TEXT(lang, "Đăng xuất", "Sign out"));
}

/* Reply with an HTML page: nothing from elsewhere, no framing. */
void
html_reply(struct request *r, int status, struct evbuffer *b)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	size_t len = evbuffer_get_length(b);

	evhttp_add_header(out, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; script-src 'self'; "
	    "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
	    "frame-ancestors 'none'");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	http_reply(r, status, "text/html; charset=utf-8",
	    (const char *)evbuffer_pullup(b, -1), len);
}

/* The words of an error status: [0] Vietnamese, [1] English; NULL if none. */
static const char *const *
html_status_words(int status)
{
	static const struct {
		int status;
		const char *words[2];
	} table[] = {
		{ 400, { "Yêu cầu không hợp lệ", "The request is not valid" } },
		{ 401, { "Cần đăng nhập", "Please sign in" } },
		{ 403, { "Không có quyền truy cập", "Not allowed" } },
		{ 404, { "Không tìm thấy trang", "Page not found" } },
		{ 405, { "Thao tác không được hỗ trợ", "Not supported here" } },
		{ 413, { "Dữ liệu gửi lên quá lớn", "Too much data sent" } },
		{ 422, { "Thông tin nhập chưa đúng", "Some input is not valid" } },
		{ 429, { "Quá nhiều lần thử", "Too many attempts" } },
		{ 500, { "Đã xảy ra lỗi trong hệ thống", "Something went wrong on our side" } },
		{ 503, { "Hệ thống tạm thời gián đoạn", "Temporarily unavailable" } },
	};
	size_t i;

	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (table[i].status == status)
			return table[i].words;
	}
	return NULL;
}

/* 1 if title is missing or only a status number. */
static int
html_title_bare(const char *title)
{
	if (title == NULL || *title == '\0')
		return 1;
	return strspn(title, "0123456789") == strlen(title);
}

/* A page with one message. */
void
html_reply_message(struct request *r, int status, const char *lang,
    const char *title, const char *text, const char *link_href,
    const char *link_text)
{
	struct evbuffer *b = evbuffer_new();
	const char *const *words = html_status_words(status);
	int en = strcmp(lang, "en") == 0;
	char *again = NULL;

	/* A bare status number never heads a page: say it in words. */
	if (html_title_bare(title))
		title = words != NULL ? words[en] : en ? "Error" : "Lỗi";
	html_page_begin(b, lang, title, "message", 0, NULL);
	html_raw(b, "<h1>");
	html_text(b, title);
	html_raw(b, "</h1>\n");
	/* The other language's words for the status, for the other reader. */
	if (words != NULL && status >= 400) {
		html_raw(b, "<p class=\"status\" lang=\"%s\">", en ? "vi" : "en");
		html_text(b, words[!en]);
		html_raw(b, " (%d)</p>\n", status);
	}
	html_raw(b, "<p>");
	html_text(b, text);
	html_raw(b, "</p>\n");
	/* Without a way given, the way back is the same address, to try again. */
	if (link_href == NULL && status >= 400) {
		if (r->query != NULL)
			xasprintf(&again, "%s?%s", r->path, r->query);
		else
			again = xstrdup(r->path);
		link_href = again;
		link_text = en ? "Try again" : "Thử lại";
	}
	if (link_href != NULL) {
		html_raw(b, "<p><a class=\"button\" href=\"");
		html_text(b, link_href);
		html_raw(b, "\">");
		html_text(b, link_text);
		html_raw(b, "</a></p>\n");
	}
	html_page_end(b, 0);
	html_reply(r, status, b);
	evbuffer_free(b);
	free(again);
}
