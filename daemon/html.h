/*
 * html.h: the small HTML layer of sipasd's pages (the web form, the kiosk,
 * the login and the dashboard): escaping, the page frame (lang, viewport, the
 * embedded stylesheet), the HTML replies with their security headers, and
 * the embedded assets the pages link to (static.c).
 *
 * Text from a survey, a unit or a citizen always goes through html_text;
 * html_raw is for the module's own markup only.
 */
#ifndef SIPAS_HTML_H
#define SIPAS_HTML_H

struct evbuffer;
struct request;

/* Append s with & < > " ' escaped (NULL appends nothing). */
void html_text(struct evbuffer *, const char *s);
/* Append trusted markup, printf-style. */
void html_raw(struct evbuffer *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * <!doctype html> up to <main>: lang "vi" or "en", the title (escaped), a
 * class for <body> (or NULL), and a meta refresh after refresh seconds to
 * refresh_url (a path made by the caller) when refresh > 0.
 */
void html_page_begin(struct evbuffer *, const char *lang, const char *title,
    const char *body_class, int refresh, const char *refresh_url);
/*
 * The sign-out button of a signed-in page's header: a POST form to /logout
 * carrying the session's CSRF value (r->csrf), labelled in lang.
 */
void html_logout_form(struct evbuffer *, const struct request *,
    const char *lang);
/* </main></body></html>; with_js adds the optional enhancement script. */
void html_page_end(struct evbuffer *, int with_js);
/* Reply with buf as text/html (buf stays the caller's); frees the request. */
void html_reply(struct request *, int status, struct evbuffer *buf);
/*
 * A whole page: a heading, a paragraph and a link (all escaped). A title that
 * is NULL or only a status number is replaced by the status in words (the
 * other language's words follow); without a link, an error page links to
 * its own address to try again.
 */
void html_reply_message(struct request *, int status, const char *lang,
    const char *title, const char *text, const char *link_href,
    const char *link_text);

/* static.c: GET /static/NAME, the embedded assets with ETag and Cache-Control. */
void static_handle(struct request *);
/* static.c: the short content hash of an embedded asset, for versioned URLs; "" if none. */
const char *static_version(const char *name);

#endif
