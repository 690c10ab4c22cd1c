/*
 * form.c: the citizen web form, GET and POST /f/{survey}/{unit}, and the
 * abuse checks it shares with the kiosk (form tokens, honeypot, rate limit).
 *
 * A GET renders the survey from the cache as plain HTML (Vietnamese, English
 * with ?lang=en) that works without JavaScript. A survey of more than
 * FORM_ONE_PAGE_MAX items is shown in steps: one page per group that lists
 * items, then a last page of the expectations and the optional questions.
 * The answers of the other pages travel in a hidden "state" field signed with
 * the form secret and bound to the form token, so nothing is kept on the
 * server between pages. A POST is checked (form.h form_guard), the answers of
 * its page are checked item by item so that every problem can be shown next
 * to its item, and the last page is turned into a struct response and
 * handed to ingest_submit_response: the same validation and the same
 * batched, durable write path as the API. After COMMIT the browser is
 * sent (303) to the thank-you page, GET /f/{survey}/{unit}/thanks, so that
 * reloading it sends nothing.
 *
 * Owns the process's random form secret (when form_secret is empty) and the
 * rate-limit table. Must not contain SQL or build responses any other way.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/channels/form.h"
#include "sipas/hmac.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/channels/ingest.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* Vietnamese or English by the page's language. */
#define TR(lang, vi, en) (strcmp((lang), "en") == 0 ? (en) : (vi))

/* Longest comment kept, in bytes. */
#define FORM_COMMENT_MAX 1000
/* A survey of at most this many items (expectations included) is one page. */
#define FORM_ONE_PAGE_MAX 12
/* Most pages of a form in steps (the item pages and the last page). */
#define FORM_STEPS_MAX 64
/* Slots of the rate-limit table; a collision only restarts a count. */
#define FORM_RATE_SLOTS 4096

/* One client address in the rate-limit table. */
struct form_rate {
	char key[64]; /* kind and address */
	time_t start; /* of the window */
	long count;
};

static struct form_rate form_rates[FORM_RATE_SLOTS];
static char form_random_secret[65]; /* when form_secret is empty */

/* A form being answered: what a GET shows or a POST re-shows. */
struct form_ctx {
	struct cache *cache; /* referenced while a post commits */
	const struct survey *survey;
	const struct cache_unit *unit;
	const char *lang;
	struct form_fields *fields; /* the post, or NULL */
	char **errors;		    /* per item, or NULL */
	char *err_gender, *err_age, *err_comment;
	char *message;		    /* a problem of the whole form */
	char token[FORM_TOKEN_SIZE];
	char nonce[FORM_NONCE_SIZE];
	int nerrors;
	int *values;		    /* the answers so far, or NULL */
	const struct group *pages[FORM_STEPS_MAX]; /* the item pages */
	int nsteps;		    /* pages, the last one included; 1: one page */
	int step;		    /* the page shown, from 0 */
};

/* --- tokens, rate limit, guard ------------------------------------------ */

/* The HMAC key: form_secret, or random bits made at the first use. */
static const char *
form_secret(const struct config *c)
{
	unsigned char raw[32];
	int i;

	if (c->form_secret != NULL && c->form_secret[0] != '\0')
		return c->form_secret;
	if (form_random_secret[0] == '\0') {
		evutil_secure_rng_get_bytes(raw, sizeof raw);
		for (i = 0; i < 32; i++)
			snprintf(form_random_secret + 2 * i, 3, "%02x", raw[i]);
	}
	return form_random_secret;
}

/* The MAC of a token's time and nonce for scope. */
static int
form_token_mac(const struct config *c, const char *scope, long long ts,
    const char *nonce, char mac[HMAC_SHA256_HEX_SIZE])
{
	const char *key = form_secret(c);
	char data[512], *cause = NULL;
	int n;

	n = snprintf(data, sizeof data, "sipas-form-v1|%s|%lld|%s", scope, ts,
	    nonce);
	if (n < 0 || (size_t)n >= sizeof data ||
	    hmac_sha256_hex(key, strlen(key), data, (size_t)n, mac, &cause) != 0) {
		free(cause);
		return -1;
	}
	return 0;
}

/* A new token for scope. */
void
form_token_create(const struct config *c, const char *scope,
    char out[FORM_TOKEN_SIZE])
{
	unsigned char raw[8];
	char nonce[FORM_NONCE_SIZE], mac[HMAC_SHA256_HEX_SIZE];
	long long ts = (long long)time(NULL);
	int i;

	evutil_secure_rng_get_bytes(raw, sizeof raw);
	for (i = 0; i < 8; i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	if (form_token_mac(c, scope, ts, nonce, mac) != 0)
		mac[0] = '\0';
	snprintf(out, FORM_TOKEN_SIZE, "%lld.%s.%s", ts, nonce, mac);
}

/* Check a token for scope. */
int
form_token_check(const struct config *c, const char *scope, const char *token,
    char nonce[FORM_NONCE_SIZE], const char **why)
{
	char mac[HMAC_SHA256_HEX_SIZE], *end;
	const char *p;
	long long ts, now = (long long)time(NULL);
	int i;

	*why = "invalid";
	if (token == NULL || *token == '\0') {
		*why = "missing";
		return -1;
	}
	ts = strtoll(token, &end, 10);
	if (end == token || *end != '.' || ts <= 0)
		return -1;
	p = end + 1;
	for (i = 0; i < FORM_NONCE_SIZE - 1; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		nonce[i] = p[i];
	}
	nonce[i] = '\0';
	if (p[i] != '.')
		return -1;
	if (form_token_mac(c, scope, ts, nonce, mac) != 0 ||
	    !hmac_equal(mac, p + i + 1))
		return -1;
	if (ts > now + 300 || now - ts > c->form_token_ttl) {
		*why = "expired";
		return -1;
	}
	return 0;
}

/* The client's address. */
static const char *
form_peer(struct request *r)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->req);
	char *addr = NULL;
	ev_uint16_t port;

	if (conn == NULL)
		return "?";
	evhttp_connection_get_peer(conn, &addr, &port);
	return addr != NULL ? addr : "?";
}

/* 1 if the address may post once more in this window (and count it). */
static int
form_rate_allow(struct request *r, char kind, long limit, long window)
{
	struct form_rate *slot;
	char key[64];
	unsigned long h = 5381;
	time_t now = time(NULL);
	const char *k;

	if (limit <= 0)
		return 1;
	snprintf(key, sizeof key, "%c %s", kind, form_peer(r));
	for (k = key; *k != '\0'; k++)
		h = h * 33 + (unsigned char)*k;
	slot = &form_rates[h % FORM_RATE_SLOTS];
	if (strcmp(slot->key, key) != 0 || now - slot->start >= window) {
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->start = now;
		slot->count = 0;
	}
	if (slot->count >= limit)
		return 0;
	slot->count++;
	return 1;
}

/* "scheme://host[:port]" of a URL is a prefix of origin and ends it. */
static int
form_origin_ok(const char *public_url, const char *origin)
{
	const char *p = strstr(public_url, "://");
	size_t n;

	if (p == NULL)
		return 1; /* not a URL: nothing to compare with */
	p = strchr(p + 3, '/');
	n = p != NULL ? (size_t)(p - public_url) : strlen(public_url);
	return strlen(origin) == n && strncmp(origin, public_url, n) == 0;
}

/* The checks of a post before validation. */
enum form_guard
form_guard(struct request *r, const struct form_fields *f, char kind,
    const char *scope, const char *lang, char nonce[FORM_NONCE_SIZE])
{
	const struct config *c = r->sd->config;
	const char *origin, *why, *hp;
	char secs[16];

	if (!form_rate_allow(r, kind, kind == 'k' ? c->kiosk_rate_limit :
	    kind == 's' ? 0 : c->form_rate_limit, c->form_rate_window)) {
		log_msg(LOG_LEVEL_INFO, r->id, "rate limit of %s reached",
		    form_peer(r));
		snprintf(secs, sizeof secs, "%ld", c->form_rate_window);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", secs);
		html_reply_message(r, 429, lang,
		    TR(lang, "Quá nhiều phiếu gửi", "Too many submissions"),
		    TR(lang, "Thiết bị này đã gửi quá nhiều phiếu trong thời "
		    "gian ngắn. Vui lòng thử lại sau ít phút.",
		    "This device has sent too many responses in a short time. "
		    "Please try again in a few minutes."), NULL, NULL);
		return FORM_GUARD_REPLIED;
	}
	origin = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Origin");
	if (c->public_url[0] != '\0' && origin != NULL &&
	    !form_origin_ok(c->public_url, origin)) {
		log_msg(LOG_LEVEL_INFO, r->id, "post from another origin");
		html_reply_message(r, 403, lang,
		    TR(lang, "Không thể nhận phiếu", "Response not accepted"),
		    TR(lang, "Phiếu được gửi từ một trang khác. Vui lòng mở "
		    "lại phiếu khảo sát từ địa chỉ chính thức.",
		    "The response was sent from another site. Please open the "
		    "survey again from its official address."), NULL, NULL);
		return FORM_GUARD_REPLIED;
	}
	hp = form_fields_get(f, "website");
	if (c->form_honeypot && hp != NULL && hp[0] != '\0') {
		log_msg(LOG_LEVEL_INFO, r->id, "honeypot field filled");
		html_reply_message(r, 400, lang,
		    TR(lang, "Không thể nhận phiếu", "Response not accepted"),
		    TR(lang, "Ô ẩn \"website\" phải để trống. Nếu ông/bà là "
		    "người dùng, vui lòng quay lại và gửi lại phiếu.",
		    "The hidden field \"website\" must be left empty. If you "
		    "are a person, please go back and send the form again."),
		    NULL, NULL);
		return FORM_GUARD_REPLIED;
	}
	if (form_token_check(c, scope, form_fields_get(f, "token"), nonce,
	    &why) != 0) {
		log_msg(LOG_LEVEL_INFO, r->id, "form token %s", why);
		return FORM_GUARD_TOKEN;
	}
	return FORM_GUARD_OK;
}

/* --- steps and their signed state --------------------------------------- */

/* Collect the groups that list items, depth-first, as items are numbered. */
static void
form_steps_collect(struct form_ctx *ctx, const struct group *g)
{
	int i;

	if (g->nitems > 0) {
		if (ctx->nsteps >= FORM_STEPS_MAX - 1)
			return; /* too many: form_steps_init makes one page */
		ctx->pages[ctx->nsteps++] = g;
	}
	for (i = 0; i < g->ngroups; i++)
		form_steps_collect(ctx, g->groups[i]);
}

/* Forget the answers of ctx (all unanswered). */
static void
form_values_clear(struct form_ctx *ctx)
{
	int i;

	for (i = 0; i < ctx->survey->nitems; i++)
		ctx->values[i] = ANSWER_NONE;
}

/*
 * Split the survey into pages: one page when it is short, or when it has
 * more groups of items than FORM_STEPS_MAX - 1 pages.
 */
static void
form_steps_init(struct form_ctx *ctx)
{
	ctx->nsteps = 0;
	if (ctx->survey->nitems > FORM_ONE_PAGE_MAX)
		form_steps_collect(ctx, ctx->survey->overall);
	if (ctx->nsteps >= FORM_STEPS_MAX - 1)
		ctx->nsteps = 0;
	ctx->nsteps++; /* the last page (or the only one) */
	ctx->values = xcalloc((size_t)ctx->survey->nitems,
	    sizeof *ctx->values);
	form_values_clear(ctx);
	ctx->step = 0;
}

/* The page of item i. */
static int
form_item_step(const struct form_ctx *ctx, int i)
{
	const struct item *it = &ctx->survey->items[i];
	int k;

	for (k = 0; k < ctx->nsteps - 1; k++) {
		if (ctx->pages[k] == it->group)
			return k;
	}
	return ctx->nsteps - 1;
}

/* The answers as "v,v,,v" (empty: none); owned. */
static char *
form_state_answers(const struct form_ctx *ctx)
{
	struct evbuffer *b = evbuffer_new();
	char *out;
	size_t n;
	int i;

	for (i = 0; i < ctx->survey->nitems; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		if (ctx->values[i] != ANSWER_NONE)
			evbuffer_add_printf(b, "%d", ctx->values[i]);
	}
	n = evbuffer_get_length(b);
	out = xmalloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

/* The MAC of answers under the form token; -1 if it cannot be made. */
static int
form_state_mac(const struct config *c, const char *token, const char *answers,
    char mac[HMAC_SHA256_HEX_SIZE])
{
	const char *key = form_secret(c);
	char *data, *cause = NULL;
	int n, rv = 0;

	n = xasprintf(&data, "sipas-form-state-v1|%s|%s", token, answers);
	if (hmac_sha256_hex(key, strlen(key), data, (size_t)n, mac,
	    &cause) != 0) {
		free(cause);
		rv = -1;
	}
	free(data);
	return rv;
}

/* The hidden state of the answers so far: "answers.mac"; owned. */
static char *
form_state_create(const struct config *c, const struct form_ctx *ctx)
{
	char mac[HMAC_SHA256_HEX_SIZE], *answers, *out;

	answers = form_state_answers(ctx);
	if (form_state_mac(c, ctx->token, answers, mac) != 0)
		mac[0] = '\0';
	xasprintf(&out, "%s.%s", answers, mac);
	free(answers);
	return out;
}

/*
 * Read the posted page number and the signed answers of a form in steps
 * into ctx; -1 and the field at fault if either was changed or is missing.
 */
static int
form_state_read(const struct config *c, struct form_ctx *ctx,
    const char *token, const char **field)
{
	const struct survey *s = ctx->survey;
	const char *step = form_fields_get(ctx->fields, "step");
	const char *state = form_fields_get(ctx->fields, "state");
	const char *dot, *p;
	char mac[HMAC_SHA256_HEX_SIZE], *answers, *end;
	long v;
	int i, rv = -1;

	*field = "step";
	if (step == NULL || (v = strtol(step, &end, 10)) < 1 ||
	    v > ctx->nsteps || *end != '\0')
		return -1;
	*field = "state";
	if (state == NULL || token == NULL ||
	    (dot = strrchr(state, '.')) == NULL)
		return -1;
	answers = xstrndup(state, (size_t)(dot - state));
	if (form_state_mac(c, token, answers, mac) != 0 ||
	    !hmac_equal(mac, dot + 1))
		goto out;
	for (i = 0, p = answers; i < s->nitems; i++) {
		if (*p == ',' || *p == '\0')
			ctx->values[i] = ANSWER_NONE;
		else {
			ctx->values[i] = (int)strtol(p, &end, 10);
			if (end == p || !scale_has(s->items[i].scale,
			    ctx->values[i]))
				goto out;
			p = end;
		}
		if (*p != (i == s->nitems - 1 ? '\0' : ','))
			goto out;
		p++;
	}
	ctx->step = (int)v - 1;
	rv = 0;
out:
	free(answers);
	return rv;
}

/* --- the page ------------------------------------------------------------ */

/* Split /PREFIX/A/B[/] into decoded A and B; -1 if it is not that shape. */
static int
form_path_split(const char *path, size_t prefix, char **a, char **b)
{
	const char *p = path + prefix, *slash = strchr(p, '/');
	char *sa, *sb;
	size_t lb;

	*a = *b = NULL;
	if (slash == NULL || slash == p)
		return -1;
	lb = strcspn(slash + 1, "/");
	if (lb == 0 || (slash[1 + lb] != '\0' && strcmp(slash + 1 + lb,
	    "/") != 0))
		return -1;
	sa = xstrndup(p, (size_t)(slash - p));
	sb = xstrndup(slash + 1, lb);
	*a = evhttp_uridecode(sa, 0, NULL);
	*b = evhttp_uridecode(sb, 0, NULL);
	free(sa);
	free(sb);
	if (*a == NULL || *b == NULL) {
		free(*a);
		free(*b);
		*a = *b = NULL;
		return -1;
	}
	return 0;
}

/* Append s URL-encoded and HTML-escaped. */
static void
form_url_part(struct evbuffer *b, const char *s)
{
	char *enc = evhttp_uriencode(s, -1, 0);

	html_text(b, enc);
	free(enc);
}

/* The form's own path, escaped. */
static void
form_action(struct evbuffer *b, const struct form_ctx *ctx)
{
	html_raw(b, "/f/");
	form_url_part(b, ctx->survey->code);
	html_raw(b, "/");
	form_url_part(b, ctx->unit->code);
}

/* A text by language, falling back to Vietnamese. */
static const char *
form_tr(const char *lang, const char *vi, const char *en)
{
	if (strcmp(lang, "en") == 0 && en != NULL && en[0] != '\0')
		return en;
	return vi != NULL ? vi : "";
}

/* One item: a fieldset of radio buttons named by the item code. */
static void
form_render_item(struct evbuffer *b, const struct form_ctx *ctx,
    const struct item *it)
{
	const struct scale *sc = it->scale;
	const char *err = ctx->errors != NULL ? ctx->errors[it->index] : NULL;
	int i, sel = ctx->values != NULL ? ctx->values[it->index] : ANSWER_NONE;
	char v[16];

	html_raw(b, "<fieldset class=\"item%s%s\" id=\"q-", it->expectation ?
	    " opt" : "", err != NULL ? " invalid" : "");
	html_text(b, it->code);
	html_raw(b, "\"");
	if (err != NULL) {
		html_raw(b, " aria-describedby=\"e-");
		html_text(b, it->code);
		html_raw(b, "\"");
	}
	html_raw(b, ">\n<legend>");
	html_text(b, form_tr(ctx->lang, it->text_vi, it->text_en));
	html_raw(b, "</legend>\n");
	if (err != NULL) {
		html_raw(b, "<p class=\"error\" id=\"e-");
		html_text(b, it->code);
		html_raw(b, "\">");
		html_text(b, err);
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<div class=\"options n%d\">\n", sc->nvalues);
	for (i = 0; i < sc->nvalues; i++) {
		snprintf(v, sizeof v, "%d", sc->values[i]);
		html_raw(b, "<label for=\"");
		html_text(b, it->code);
		html_raw(b, "-%s\"><input type=\"radio\" name=\"", v);
		html_text(b, it->code);
		html_raw(b, "\" id=\"");
		html_text(b, it->code);
		html_raw(b, "-%s\" value=\"%s\"%s> <span>", v, v,
		    sel == sc->values[i] ? " checked" : "");
		html_text(b, form_tr(ctx->lang, sc->labels_vi[i],
		    sc->labels_en[i]));
		html_raw(b, "</span></label>\n");
	}
	html_raw(b, "</div>\n</fieldset>\n");
}

/* A group: a fieldset with its title as legend, its items and subgroups. */
static void
form_render_group(struct evbuffer *b, const struct form_ctx *ctx,
    const struct group *g, int depth)
{
	int i;

	if (depth > 0) {
		html_raw(b, "<fieldset class=\"group depth%d\">\n<legend>",
		    depth > 2 ? 2 : depth);
		html_text(b, form_tr(ctx->lang, g->title_vi, g->title_en));
		html_raw(b, "</legend>\n");
	}
	for (i = 0; i < g->nitems; i++)
		form_render_item(b, ctx, &ctx->survey->items[g->items[i]]);
	for (i = 0; i < g->ngroups; i++)
		form_render_group(b, ctx, g->groups[i], depth + 1);
	if (depth > 0)
		html_raw(b, "</fieldset>\n");
}

/* A page of a form in steps: one group's own items under its titles. */
static void
form_render_page(struct evbuffer *b, const struct form_ctx *ctx,
    const struct group *g)
{
	int i;

	if (g->parent != NULL && g->parent->parent != NULL) {
		html_raw(b, "<h2 class=\"section\">");
		html_text(b, form_tr(ctx->lang, g->parent->title_vi,
		    g->parent->title_en));
		html_raw(b, "</h2>\n");
	}
	html_raw(b, "<fieldset class=\"group depth1\">\n<legend>");
	html_text(b, form_tr(ctx->lang, g->title_vi, g->title_en));
	html_raw(b, "</legend>\n");
	for (i = 0; i < g->nitems; i++)
		form_render_item(b, ctx, &ctx->survey->items[g->items[i]]);
	html_raw(b, "</fieldset>\n");
}

/* Optional radio buttons of a demographic field. */
static void
form_render_choice(struct evbuffer *b, const struct form_ctx *ctx,
    const char *name, const char *legend, const struct form_choice *ch,
    const char *err)
{
	const char *sel = form_fields_get(ctx->fields, name);

	html_raw(b, "<fieldset class=\"item%s\" id=\"q-%s\">\n<legend>",
	    err != NULL ? " invalid" : "", name);
	html_text(b, legend);
	html_raw(b, "</legend>\n");
	if (err != NULL) {
		html_raw(b, "<p class=\"error\">");
		html_text(b, err);
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<div class=\"options inline\">\n");
	for (; ch->value != NULL; ch++) {
		html_raw(b, "<label for=\"%s-%s\"><input type=\"radio\" "
		    "name=\"%s\" id=\"%s-%s\" value=\"%s\"%s> <span>", name,
		    ch->value, name, name, ch->value, ch->value,
		    sel != NULL && strcmp(sel, ch->value) == 0 ? " checked" : "");
		html_text(b, TR(ctx->lang, ch->vi, ch->en));
		html_raw(b, "</span></label>\n");
	}
	html_raw(b, "</div>\n</fieldset>\n");
}

/* An error summary line linking to the item. */
static void
form_render_summary_line(struct evbuffer *b, const char *id, const char *label,
    const char *err)
{
	html_raw(b, "<li><a href=\"#q-");
	html_text(b, id);
	html_raw(b, "\">");
	html_text(b, label);
	html_raw(b, "</a>: ");
	html_text(b, err);
	html_raw(b, "</li>\n");
}

/*
 * The buttons that end the form: "next" or "send" first (Enter in the form
 * presses it), then "back" from the second page on. </form> included.
 */
static void
form_render_buttons(struct evbuffer *b, const struct form_ctx *ctx)
{
	const char *lang = ctx->lang;
	int last = ctx->step == ctx->nsteps - 1;

	html_raw(b, "<p class=\"progress\" id=\"progress\" aria-live=\"polite\">"
	    "</p>\n<p class=\"nav\"><button type=\"submit\" class=\"submit\" "
	    "name=\"nav\" value=\"%s\" id=\"%s\">", last ? "send" : "next",
	    last ? "send" : "next");
	html_text(b, last ? TR(lang, "Gửi phiếu", "Send") :
	    TR(lang, "Tiếp tục", "Next"));
	html_raw(b, "</button>");
	if (ctx->step > 0) {
		html_raw(b, "\n<button type=\"submit\" class=\"back\" "
		    "name=\"nav\" value=\"back\" id=\"back\">");
		html_text(b, TR(lang, "Quay lại", "Back"));
		html_raw(b, "</button>");
	}
	html_raw(b, "</p>\n</form>\n");
}

/* The whole form page, or the page of its step. */
static void
form_render(struct evbuffer *b, const struct form_ctx *ctx,
    const struct config *c)
{
	const struct survey *s = ctx->survey;
	const char *lang = ctx->lang, *other = TR(lang, "en", "vi");
	const char *comment = form_fields_get(ctx->fields, "comment");
	int i, nexp = s->nitems - s->nsat;

	html_page_begin(b, lang, form_tr(lang, s->title_vi, s->title_en),
	    "form", 0, NULL);
	html_raw(b, "<p class=\"lang\"><a href=\"?lang=%s\" lang=\"%s\" "
	    "hreflang=\"%s\">%s</a></p>\n", other, other, other,
	    TR(lang, "English", "Tiếng Việt"));
	html_raw(b, "<header>\n<p class=\"unit\">");
	html_text(b, ctx->unit->name[0] != '\0' ? ctx->unit->name :
	    ctx->unit->code);
	html_raw(b, "</p>\n<h1>");
	html_text(b, form_tr(lang, s->title_vi, s->title_en));
	html_raw(b, "</h1>\n");
	if (ctx->step == 0) {
		html_raw(b, "<p class=\"intro\">");
		if (s->intro_vi != NULL)
			html_text(b, form_tr(lang, s->intro_vi, s->intro_en));
		else
			html_text(b, TR(lang, "Xin ông/bà cho biết mức độ hài "
			    "lòng của mình qua các câu hỏi dưới đây. Phiếu không "
			    "ghi tên.", "Please tell us how satisfied you are "
			    "by answering the questions below. The form is "
			    "anonymous."));
		html_raw(b, " %s</p>\n", TR(lang, "Các câu hỏi về mức độ hài "
		    "lòng là bắt buộc, các thông tin khác không bắt buộc.",
		    "The satisfaction questions are required, everything else "
		    "is optional."));
	}
	if (ctx->nsteps > 1) {
		html_raw(b, "<p class=\"step\" id=\"step\">");
		if (strcmp(lang, "en") == 0)
			html_raw(b, "Part %d of %d", ctx->step + 1, ctx->nsteps);
		else
			html_raw(b, "Phần %d/%d", ctx->step + 1, ctx->nsteps);
		html_raw(b, "</p>\n");
	}
	html_raw(b, "</header>\n");

	if (ctx->message != NULL || ctx->nerrors > 0) {
		html_raw(b, "<div class=\"summary\" role=\"alert\" "
		    "tabindex=\"-1\" id=\"summary\">\n<h2>");
		html_text(b, ctx->nerrors > 0 ? TR(lang,
		    "Vui lòng kiểm tra lại phiếu", "Please check the form") :
		    TR(lang, "Phiếu chưa được gửi", "The form was not sent"));
		html_raw(b, "</h2>\n");
		if (ctx->message != NULL) {
			html_raw(b, "<p>");
			html_text(b, ctx->message);
			html_raw(b, "</p>\n");
		}
		if (ctx->nerrors > 0) {
			html_raw(b, "<ul>\n");
			for (i = 0; i < s->nitems; i++) {
				if (ctx->errors[i] != NULL)
					form_render_summary_line(b,
					    s->items[i].code,
					    form_tr(lang, s->items[i].text_vi,
					    s->items[i].text_en),
					    ctx->errors[i]);
			}
			if (ctx->err_gender != NULL)
				form_render_summary_line(b, "gender",
				    TR(lang, "Giới tính", "Gender"),
				    ctx->err_gender);
			if (ctx->err_age != NULL)
				form_render_summary_line(b, "age_band",
				    TR(lang, "Tuổi", "Age"), ctx->err_age);
			if (ctx->err_comment != NULL)
				form_render_summary_line(b, "comment",
				    TR(lang, "Góp ý", "Comment"),
				    ctx->err_comment);
			html_raw(b, "</ul>\n");
		}
		html_raw(b, "</div>\n");
	}

	html_raw(b, "<form method=\"post\" action=\"");
	form_action(b, ctx);
	html_raw(b, "\" accept-charset=\"utf-8\">\n"
	    "<input type=\"hidden\" name=\"token\" value=\"");
	html_text(b, ctx->token);
	html_raw(b, "\">\n<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	    lang);
	if (ctx->nsteps > 1) {
		char *state = form_state_create(c, ctx);

		html_raw(b, "<input type=\"hidden\" name=\"step\" "
		    "value=\"%d\">\n<input type=\"hidden\" name=\"state\" "
		    "value=\"", ctx->step + 1);
		html_text(b, state);
		html_raw(b, "\">\n");
		free(state);
	}
	/* The honeypot: hidden from people and screen readers, not from bots. */
	html_raw(b, "<div class=\"hp\" aria-hidden=\"true\"><label "
	    "for=\"website\">Website</label><input type=\"text\" "
	    "name=\"website\" id=\"website\" tabindex=\"-1\" "
	    "autocomplete=\"off\" value=\"\"></div>\n");

	if (ctx->step < ctx->nsteps - 1) {
		form_render_page(b, ctx, ctx->pages[ctx->step]);
		form_render_buttons(b, ctx);
		html_page_end(b, 1);
		return;
	}
	if (ctx->nsteps == 1)
		form_render_group(b, ctx, s->overall, 0);

	if (nexp > 0) {
		html_raw(b, "<fieldset class=\"group depth1\">\n<legend>");
		html_text(b, TR(lang, "Mong muốn của ông/bà (không bắt buộc)",
		    "What you would like improved (optional)"));
		html_raw(b, "</legend>\n");
		for (i = s->nsat; i < s->nitems; i++)
			form_render_item(b, ctx, &s->items[i]);
		html_raw(b, "</fieldset>\n");
	}

	html_raw(b, "<fieldset class=\"group depth1\">\n<legend>");
	html_text(b, TR(lang, "Thông tin về ông/bà (không bắt buộc)",
	    "About you (optional)"));
	html_raw(b, "</legend>\n");
	form_render_choice(b, ctx, "gender", TR(lang, "Giới tính", "Gender"),
	    form_genders, ctx->err_gender);
	form_render_choice(b, ctx, "age_band", TR(lang, "Tuổi", "Age"),
	    form_ages, ctx->err_age);
	html_raw(b, "<div class=\"item%s\" id=\"q-comment\">\n<label "
	    "for=\"comment\" class=\"block\">", ctx->err_comment != NULL ?
	    " invalid" : "");
	html_text(b, TR(lang, "Góp ý khác", "Other comments"));
	html_raw(b, "</label>\n");
	if (ctx->err_comment != NULL) {
		html_raw(b, "<p class=\"error\">");
		html_text(b, ctx->err_comment);
		html_raw(b, "</p>\n");
	}
	html_raw(b, "<textarea name=\"comment\" id=\"comment\" rows=\"4\" "
	    "maxlength=\"%d\">", FORM_COMMENT_MAX);
	html_text(b, comment);
	html_raw(b, "</textarea>\n</div>\n</fieldset>\n");

	form_render_buttons(b, ctx);
	html_page_end(b, 1);
}

/* --- handlers ------------------------------------------------------------ */

/* Free a form context. */
static void
form_ctx_free(struct form_ctx *ctx)
{
	int i;

	if (ctx == NULL)
		return;
	if (ctx->errors != NULL) {
		for (i = 0; i < ctx->survey->nitems; i++)
			free(ctx->errors[i]);
		free(ctx->errors);
	}
	free(ctx->err_gender);
	free(ctx->err_age);
	free(ctx->err_comment);
	free(ctx->message);
	free(ctx->values);
	form_fields_free(ctx->fields);
	cache_unref(ctx->cache);
	free(ctx);
}

/* Render ctx with status and free it. */
static void
form_reply_form(struct request *r, int status, struct form_ctx *ctx)
{
	struct evbuffer *b = evbuffer_new();

	form_render(b, ctx, r->sd->config);
	html_reply(r, status, b);
	evbuffer_free(b);
	form_ctx_free(ctx);
}

/* The cookie name of the one-per-day rule for unit. */
static void
form_cookie_name(const char *unit, char *out, size_t len)
{
	size_t i, n;

	n = (size_t)snprintf(out, len, "sipas_done_%s", unit);
	for (i = strlen("sipas_done_"); i < n && i < len - 1; i++) {
		if (!isalnum((unsigned char)out[i]) && out[i] != '-' &&
		    out[i] != '_')
			out[i] = '_';
	}
}

/* Today in Vietnam time as YYYYMMDD. */
static void
form_today(char out[16])
{
	time_t t = time(NULL) + RESPONSE_TZ_DEFAULT * 60;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d", &tm);
}

/* 1 if this device already answered for unit today. */
static int
form_answered_today(struct request *r, const char *unit)
{
	const char *cookies = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Cookie");
	char name[128], want[160], today[16];
	const char *p;
	size_t n;

	if (!r->sd->config->form_one_per_day || cookies == NULL)
		return 0;
	form_cookie_name(unit, name, sizeof name);
	form_today(today);
	n = (size_t)snprintf(want, sizeof want, "%s=%s", name, today);
	for (p = cookies; (p = strstr(p, want)) != NULL; p++) {
		if ((p == cookies || p[-1] == ' ' || p[-1] == ';') &&
		    (p[n] == '\0' || p[n] == ';'))
			return 1;
	}
	return 0;
}

/* The page for a device that already answered today. */
static void
form_reply_once(struct request *r, const char *lang)
{
	html_reply_message(r, 429, lang,
	    TR(lang, "Ông/bà đã gửi phiếu hôm nay", "Already answered today"),
	    TR(lang, "Thiết bị này đã gửi một phiếu cho đơn vị này hôm nay. "
	    "Cảm ơn ông/bà; mỗi thiết bị chỉ gửi một phiếu mỗi ngày.",
	    "This device has already sent a response for this office today. "
	    "Thank you; each device may send one response a day."), NULL, NULL);
}

/* GET /f/{survey}/{unit}/thanks?ref=NONCE: the page after a stored form. */
static void
form_reply_thanks(struct request *r, const char *lang,
    const struct cache_unit *u)
{
	struct form_fields *q = NULL;
	struct evbuffer *b = evbuffer_new();
	const char *ref = NULL;
	size_t i;

	if (r->query != NULL)
		q = form_fields_parse(r->query, strlen(r->query));
	ref = form_fields_get(q, "ref");
	for (i = 0; ref != NULL && ref[i] != '\0'; i++) {
		if (!isxdigit((unsigned char)ref[i]))
			break;
	}
	if (ref != NULL && (i != FORM_NONCE_SIZE - 1 || ref[i] != '\0'))
		ref = NULL;
	html_page_begin(b, lang, TR(lang, "Cảm ơn ông/bà", "Thank you"),
	    "message thanks", 0, NULL);
	html_raw(b, "<h1>%s</h1>\n<p>%s</p>\n<p class=\"unit\">",
	    TR(lang, "Cảm ơn ông/bà!", "Thank you!"),
	    TR(lang, "Ý kiến của ông/bà đã được ghi nhận.",
	    "Your response has been recorded."));
	html_text(b, u->name[0] != '\0' ? u->name : u->code);
	html_raw(b, "</p>\n");
	if (ref != NULL)
		html_raw(b, "<p class=\"ref\">%s <code id=\"ref\">web-%s"
		    "</code></p>\n", TR(lang, "Mã phiếu:", "Reference:"), ref);
	html_page_end(b, 0);
	html_reply(r, 200, b);
	evbuffer_free(b);
	form_fields_free(q);
}

/* The committed (or failed) outcome of a post. */
static void
form_post_done(struct request *r, int status, const char *field,
    const char *message, void *arg)
{
	struct form_ctx *ctx = arg;
	const char *lang = ctx->lang;
	struct evbuffer *b;
	char name[128], today[16], cookie[256], secs[16];
	int idx;

	if (status == 201 || status == 200) {
		if (r->sd->config->form_one_per_day) {
			form_cookie_name(ctx->unit->code, name, sizeof name);
			form_today(today);
			snprintf(cookie, sizeof cookie, "%s=%s; Max-Age=86400; "
			    "Path=/f/; HttpOnly; SameSite=Lax", name, today);
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "Set-Cookie", cookie);
		}
		/* Post/Redirect/Get: a reload of the thanks sends nothing. */
		b = evbuffer_new();
		form_action(b, ctx);
		evbuffer_add_printf(b, "/thanks?lang=%s&ref=%s", lang,
		    ctx->nonce);
		evbuffer_add(b, "", 1);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Location", (const char *)evbuffer_pullup(b, -1));
		evbuffer_free(b);
		http_reply(r, 303, "text/plain; charset=utf-8", NULL, 0);
		form_ctx_free(ctx);
		return;
	}
	if (status == 409) {
		b = evbuffer_new();
		html_page_begin(b, lang, TR(lang, "Phiếu đã được gửi",
		    "Already sent"), "message", 0, NULL);
		html_raw(b, "<h1>%s</h1>\n<p>%s</p>\n<p><a class=\"button\" "
		    "href=\"", TR(lang, "Phiếu này đã được gửi",
		    "This form was already sent"),
		    TR(lang, "Phiếu này đã được ghi nhận trước đó với các câu "
		    "trả lời khác, nên không thể thay đổi.",
		    "This form was recorded before with other answers; it "
		    "cannot be changed."));
		form_action(b, ctx);
		html_raw(b, "?lang=%s\">%s</a></p>\n", lang,
		    TR(lang, "Mở phiếu mới", "Open a new form"));
		html_page_end(b, 0);
		html_reply(r, 409, b);
		evbuffer_free(b);
		form_ctx_free(ctx);
		return;
	}
	/* Re-show the form with its answers and the problem. */
	if (field != NULL && strncmp(field, "answers.", 8) == 0 &&
	    (idx = survey_item_find(ctx->survey, field + 8)) >= 0) {
		ctx->step = form_item_step(ctx, idx);
		free(ctx->errors[idx]);
		ctx->errors[idx] = xstrdup(TR(lang,
		    "Câu trả lời không hợp lệ.", "Not a valid answer."));
		ctx->nerrors++;
	} else if (field != NULL && strcmp(field, "answers") == 0) {
		ctx->message = xstrdup(TR(lang, "Vui lòng trả lời ít nhất một "
		    "câu hỏi.", "Please answer at least one question."));
	} else if (status == 503) {
		ctx->message = xstrdup(TR(lang, "Hệ thống tạm thời chưa lưu được "
		    "phiếu. Các câu trả lời vẫn được giữ: vui lòng bấm \"Gửi "
		    "phiếu\" lại sau ít phút.", "The system cannot store the "
		    "response right now. Your answers are kept: please press "
		    "\"Send\" again in a few minutes."));
		snprintf(secs, sizeof secs, "%ld", r->sd->config->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", secs);
	} else {
		xasprintf(&ctx->message, "%s (%s)", TR(lang,
		    "Không lưu được phiếu", "The response could not be stored"),
		    message != NULL ? message : "?");
	}
	form_reply_form(r, status, ctx);
}

/*
 * Check the answers of the page posted one by one into ctx->values (an item
 * left empty is unanswered) and the optional fields into resp; the number of
 * problems.
 */
static int
form_check(struct form_ctx *ctx, struct response *resp)
{
	const struct survey *s = ctx->survey;
	const char *lang = ctx->lang, *v;
	const struct form_choice *ch;
	char *cause = NULL;
	int i, value, n = 0;

	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		if (form_item_step(ctx, i) != ctx->step)
			continue;
		ctx->values[i] = ANSWER_NONE;
		v = form_fields_get(ctx->fields, it->code);
		if (v == NULL || v[0] == '\0')
			continue; /* required items: form_post */
		if (response_answer_parse(it, v, &value, &cause) != 0) {
			free(cause);
			cause = NULL;
			ctx->errors[i] = xstrdup(TR(lang,
			    "Câu trả lời không hợp lệ.", "Not a valid answer."));
			n++;
			continue;
		}
		ctx->values[i] = value;
	}
	v = form_fields_get(ctx->fields, "gender");
	if (v != NULL && v[0] != '\0') {
		for (ch = form_genders; ch->value != NULL; ch++)
			if (strcmp(ch->value, v) == 0)
				break;
		if (ch->value == NULL) {
			ctx->err_gender = xstrdup(TR(lang, "Giá trị không hợp lệ.",
			    "Not a valid choice."));
			n++;
		} else
			response_respondent_add(resp, "gender", v);
	}
	v = form_fields_get(ctx->fields, "age_band");
	if (v != NULL && v[0] != '\0') {
		for (ch = form_ages; ch->value != NULL; ch++)
			if (strcmp(ch->value, v) == 0)
				break;
		if (ch->value == NULL) {
			ctx->err_age = xstrdup(TR(lang, "Giá trị không hợp lệ.",
			    "Not a valid choice."));
			n++;
		} else
			response_respondent_add(resp, "age_band", v);
	}
	v = form_fields_get(ctx->fields, "comment");
	if (v != NULL && v[0] != '\0') {
		json_t *js = json_string(v);

		if (js == NULL || strlen(v) > FORM_COMMENT_MAX) {
			json_decref(js);
			ctx->err_comment = xstrdup(TR(lang, "Góp ý quá dài hoặc "
			    "có ký tự không hợp lệ (tối đa 1000 byte).",
			    "The comment is too long or has invalid characters "
			    "(at most 1000 bytes)."));
			n++;
		} else {
			json_decref(js);
			response_respondent_add(resp, "comment", v);
		}
	}
	return n;
}

/* Forget the problems found on the page posted. */
static void
form_errors_clear(struct form_ctx *ctx)
{
	int i;

	for (i = 0; i < ctx->survey->nitems; i++) {
		free(ctx->errors[i]);
		ctx->errors[i] = NULL;
	}
	free(ctx->err_gender);
	free(ctx->err_age);
	free(ctx->err_comment);
	ctx->err_gender = ctx->err_age = ctx->err_comment = NULL;
	ctx->nerrors = 0;
}

/* Mark the unanswered required items of page step; how many. */
static int
form_required_check(struct form_ctx *ctx, int step)
{
	const struct survey *s = ctx->survey;
	int i, n = 0;

	for (i = 0; i < s->nsat; i++) {
		if (ctx->errors[i] == NULL && ctx->values[i] == ANSWER_NONE &&
		    form_item_step(ctx, i) == step) {
			ctx->errors[i] = xstrdup(TR(ctx->lang,
			    "Vui lòng chọn một câu trả lời.",
			    "Please choose an answer."));
			n++;
		}
	}
	return n;
}

/* A changed or missing step or state: the page that names the field. */
static void
form_reply_state(struct request *r, struct form_ctx *ctx, const char *field)
{
	struct evbuffer *b = evbuffer_new();
	char *text;

	log_msg(LOG_LEVEL_INFO, r->id, "form field %s changed or missing",
	    field);
	xasprintf(&text, TR(ctx->lang, "Trường \"%s\" của phiếu bị thiếu hoặc "
	    "đã bị thay đổi, nên phiếu không được nhận. Vui lòng mở lại "
	    "phiếu.", "The form's field \"%s\" is missing or was changed, so "
	    "the form was not accepted. Please open the form again."), field);
	form_action(b, ctx);
	evbuffer_add_printf(b, "?lang=%s", ctx->lang);
	evbuffer_add(b, "", 1);
	html_reply_message(r, 400, ctx->lang, TR(ctx->lang,
	    "Không đọc được phiếu", "The form could not be read"), text,
	    (const char *)evbuffer_pullup(b, -1), TR(ctx->lang,
	    "Mở lại phiếu", "Open the form again"));
	evbuffer_free(b);
	free(text);
	form_ctx_free(ctx);
}

/*
 * After Next or Back: 303 to GET the page with its step and signed state in
 * the query, so that every page in the browser's history is a GET (Back after
 * sending shows a page, not a question about sending again).
 */
static void
form_redirect_step(struct request *r, struct form_ctx *ctx)
{
	struct evbuffer *b = evbuffer_new();
	char *state = form_state_create(r->sd->config, ctx);
	char *etoken = evhttp_uriencode(ctx->token, -1, 0);
	char *estate = evhttp_uriencode(state, -1, 0);

	form_action(b, ctx);
	evbuffer_add_printf(b, "?lang=%s&step=%d&token=%s&state=%s", ctx->lang,
	    ctx->step + 1, etoken, estate);
	evbuffer_add(b, "", 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Location", (const char *)evbuffer_pullup(b, -1));
	http_reply(r, 303, "text/plain; charset=utf-8", NULL, 0);
	evbuffer_free(b);
	free(etoken);
	free(estate);
	free(state);
	form_ctx_free(ctx);
}

/*
 * POST /f/{survey}/{unit}: the page posted with the button pressed ("nav":
 * next, back or send). Back and next keep the answers; only send on the last
 * page stores.
 */
static void
form_post(struct request *r, struct form_ctx *ctx, const char *scope)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	const struct config *c = r->sd->config;
	const struct survey *s = ctx->survey;
	const char *nav, *field;
	struct response *resp;
	char id[64];
	int i, n, stepped = ctx->nsteps > 1, last = ctx->nsteps - 1;

	if ((ctx->fields = form_fields_parse(body != NULL ? body : "", len)) ==
	    NULL) {
		html_reply_message(r, 400, ctx->lang, TR(ctx->lang,
		    "Không đọc được phiếu", "The form could not be read"),
		    TR(ctx->lang, "Dữ liệu gửi lên không đúng định dạng.",
		    "The data sent is malformed."), NULL, NULL);
		form_ctx_free(ctx);
		return;
	}
	ctx->lang = form_lang(r, ctx->fields);
	if ((nav = form_fields_get(ctx->fields, "nav")) == NULL)
		nav = stepped ? "next" : "send";
	ctx->errors = xcalloc((size_t)s->nitems, sizeof *ctx->errors);
	resp = response_create(s);
	resp->resp_object = 1;
	/* Only a post that may store counts against the rate limit. */
	switch (form_guard(r, ctx->fields, stepped && strcmp(nav, "send") != 0 ?
	    's' : 'f', scope, ctx->lang, ctx->nonce)) {
	case FORM_GUARD_REPLIED:
		response_free(resp);
		form_ctx_free(ctx);
		return;
	case FORM_GUARD_TOKEN:
		/* Keep the answers; a fresh token lets the citizen send again. */
		if (stepped && form_state_read(c, ctx, form_fields_get(
		    ctx->fields, "token"), &field) != 0)
			form_values_clear(ctx);
		form_check(ctx, resp);
		response_free(resp);
		form_token_create(c, scope, ctx->token);
		ctx->message = xstrdup(TR(ctx->lang, "Phiếu đã hết hạn hoặc "
		    "không hợp lệ. Các câu trả lời vẫn được giữ: vui lòng kiểm "
		    "tra và bấm \"Gửi phiếu\" lại.", "The form expired or is "
		    "not valid. Your answers are kept: please check them and "
		    "press \"Send\" again."));
		form_reply_form(r, 403, ctx);
		return;
	case FORM_GUARD_OK:
		break;
	}
	if (form_answered_today(r, ctx->unit->code)) {
		response_free(resp);
		form_reply_once(r, ctx->lang);
		form_ctx_free(ctx);
		return;
	}
	snprintf(ctx->token, sizeof ctx->token, "%s",
	    form_fields_get(ctx->fields, "token"));
	if (stepped && form_state_read(c, ctx, ctx->token, &field) != 0) {
		response_free(resp);
		form_reply_state(r, ctx, field);
		return;
	}
	n = form_check(ctx, resp);
	if (stepped && strcmp(nav, "back") == 0) {
		/* Back keeps what is answered and asks for nothing. */
		response_free(resp);
		form_errors_clear(ctx);
		if (ctx->step > 0)
			ctx->step--;
		form_redirect_step(r, ctx);
		return;
	}
	if (c->form_require_all)
		n += form_required_check(ctx, ctx->step);
	if (n == 0 && stepped && (ctx->step < last ||
	    strcmp(nav, "send") != 0)) {
		response_free(resp);
		if (ctx->step < last)
			ctx->step++;
		form_redirect_step(r, ctx);
		return;
	}
	/* On the last page: the required items of every page. */
	for (i = 0; n == 0 && c->form_require_all && i < last; i++) {
		if ((n = form_required_check(ctx, i)) > 0)
			ctx->step = i;
	}
	for (i = 0; i < s->nitems; i++)
		resp->answers[i] = ctx->values[i];
	for (i = 0; i < s->nitems && ctx->values[i] == ANSWER_NONE; i++)
		;
	if (n == 0 && i == s->nitems) {
		ctx->message = xstrdup(TR(ctx->lang, "Vui lòng trả lời ít nhất "
		    "một câu hỏi.", "Please answer at least one question."));
		n = -1;
	}
	if (n != 0) {
		response_free(resp);
		ctx->nerrors = n > 0 ? n : 0;
		form_reply_form(r, 422, ctx);
		return;
	}
	/* The token's nonce is the id: sending the same form again is a replay. */
	snprintf(id, sizeof id, "web-%s", ctx->nonce);
	resp->id = xstrdup(id);
	resp->unit = xstrdup(ctx->unit->code);
	resp->channel = CHANNEL_WEB;
	ingest_submit_response(r, s, resp, form_post_done, ctx);
}

/* GET and POST /f/{survey}/{unit}. */
void
form_handle(struct request *r)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(r->req);
	const char *lang = form_lang(r, NULL);
	struct form_ctx *ctx;
	const struct survey *s = NULL;
	const struct cache_unit *u = NULL;
	char *scode = NULL, *ucode = NULL, *scope = NULL, *path;
	const char *field;
	size_t len = strlen(r->path), tl = strlen("/thanks");
	int thanks;

	if (r->sd->cache == NULL) {
		html_reply_message(r, 503, lang, TR(lang, "Tạm thời gián đoạn",
		    "Temporarily unavailable"), TR(lang, "Hệ thống đang khởi "
		    "động. Vui lòng thử lại sau ít phút.", "The system is "
		    "starting. Please try again in a few minutes."), NULL, NULL);
		return;
	}
	/* /f/{survey}/{unit}/thanks: the page a stored form is sent to. */
	thanks = method == EVHTTP_REQ_GET && len > tl &&
	    strcmp(r->path + len - tl, "/thanks") == 0;
	path = xstrndup(r->path, thanks ? len - tl : len);
	if (form_path_split(path, strlen("/f/"), &scode, &ucode) == 0) {
		s = cache_survey_get(r->sd->cache, scode);
		u = cache_unit_get(r->sd->cache, ucode);
	}
	free(path);
	if (s == NULL || u == NULL) {
		html_reply_message(r, 404, lang, TR(lang, "Không tìm thấy phiếu",
		    "Form not found"), TR(lang, "Không có phiếu khảo sát ở địa "
		    "chỉ này. Vui lòng kiểm tra lại mã QR hoặc đường dẫn.",
		    "There is no survey at this address. Please check the QR "
		    "code or the link."), NULL, NULL);
		goto out;
	}
	if (thanks) {
		form_reply_thanks(r, lang, u);
		goto out;
	}
	ctx = xcalloc(1, sizeof *ctx);
	ctx->cache = cache_ref(r->sd->cache);
	ctx->survey = s;
	ctx->unit = u;
	ctx->lang = lang;
	form_steps_init(ctx);
	xasprintf(&scope, "f/%s/%s", s->code, u->code);
	if (method == EVHTTP_REQ_POST) {
		form_post(r, ctx, scope);
		goto out;
	}
	if (form_answered_today(r, u->code)) {
		form_reply_once(r, lang);
		form_ctx_free(ctx);
		goto out;
	}
	if (r->query != NULL && ctx->nsteps > 1 &&
	    (ctx->fields = form_fields_parse(r->query, strlen(r->query))) !=
	    NULL && form_fields_get(ctx->fields, "state") != NULL) {
		/* A page after Next or Back (form_redirect_step). */
		field = form_fields_get(ctx->fields, "token");
		snprintf(ctx->token, sizeof ctx->token, "%s", field != NULL ?
		    field : "");
		if (form_state_read(r->sd->config, ctx, ctx->token,
		    &field) != 0)
			form_reply_state(r, ctx, field);
		else
			form_reply_form(r, 200, ctx);
		goto out;
	}
	form_token_create(r->sd->config, scope, ctx->token);
	form_reply_form(r, 200, ctx);
out:
	free(scope);
	free(scode);
	free(ucode);
}
