/*
 * html.c: escaping, the page frame and the HTML replies of the citizen pages.
 *
 * Owns no state. Must not know about surveys or responses: form.c and
 * kiosk.c decide what a page says.
 */
#include "config.h"

#include <stdarg.h>
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

/* A page with one message. */
void
html_reply_message(struct request *r, int status, const char *lang,
    const char *title, const char *text, const char *link_href,
    const char *link_text)
{
	struct evbuffer *b = evbuffer_new();

	html_page_begin(b, lang, title, "message", 0, NULL);
	html_raw(b, "<h1>");
	html_text(b, title);
	html_raw(b, "</h1>\n<p>");
	html_text(b, text);
	html_raw(b, "</p>\n");
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
}
