/*
 * kiosk.c: the one-stop desk kiosk, GET and POST /kiosk/{unit}: one question
 * (the first item of the survey, by default onestop-tt01's R1) with one big
 * button per value of its scale, in plain HTML forms (no JavaScript).
 *
 * A tap posts the value; it is stored with channel kiosk through
 * ingest_submit_response (the API's validation and write path) and the
 * thank-you page returns to the question after kiosk_reset seconds (meta
 * refresh). Must not contain SQL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/channels/form.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/channels/ingest.h"
#include "sipas/survey.h"
#include "sipas/util.h"

#define TR(lang, vi, en) (strcmp((lang), "en") == 0 ? (en) : (vi))

/* The survey a kiosk asks when the URL names none. */
#define KIOSK_SURVEY "onestop-tt01"

/* A kiosk page being answered. */
struct kiosk_ctx {
	struct cache *cache;
	const struct survey *survey;
	const struct cache_unit *unit;
	const char *lang;
	char *back; /* the question's URL (path and query), unescaped */
	char nonce[FORM_NONCE_SIZE];
};

/* Free a kiosk context. */
static void
kiosk_ctx_free(struct kiosk_ctx *k)
{
	if (k == NULL)
		return;
	cache_unref(k->cache);
	free(k->back);
	free(k);
}

/* A text by language, falling back to Vietnamese. */
static const char *
kiosk_tr(const char *lang, const char *vi, const char *en)
{
	if (strcmp(lang, "en") == 0 && en != NULL && en[0] != '\0')
		return en;
	return vi != NULL ? vi : "";
}

/* A short page that returns to the question after secs seconds. */
static void
kiosk_reply_page(struct request *r, int status, const struct kiosk_ctx *k,
    const char *cls, const char *title, const char *text, int secs)
{
	struct evbuffer *b = evbuffer_new();

	html_page_begin(b, k->lang, title, cls, secs, k->back);
	html_raw(b, "<h1>");
	html_text(b, title);
	html_raw(b, "</h1>\n<p>");
	html_text(b, text);
	html_raw(b, "</p>\n<p class=\"unit\">");
	html_text(b, k->unit->name);
	html_raw(b, "</p>\n<p><a class=\"button\" href=\"");
	html_text(b, k->back);
	html_raw(b, "\">%s</a></p>\n", TR(k->lang, "Quay lại", "Back"));
	html_page_end(b, 0);
	html_reply(r, status, b);
	evbuffer_free(b);
}

/* The question page. */
static void
kiosk_reply_question(struct request *r, const struct kiosk_ctx *k)
{
	const struct item *it = &k->survey->items[0];
	const struct scale *sc = it->scale;
	struct evbuffer *b = evbuffer_new();
	char token[FORM_TOKEN_SIZE], *scope;
	char *enc;
	long ttl = r->sd->config->form_token_ttl;
	int i;

	xasprintf(&scope, "kiosk/%s/%s", k->survey->code, k->unit->code);
	form_token_create(r->sd->config, scope, token);
	free(scope);
	/* Reload well before the token expires, for an idle tablet. */
	html_page_begin(b, k->lang, kiosk_tr(k->lang, k->survey->title_vi,
	    k->survey->title_en), "kiosk", (int)(ttl / 2 < 1800 ? ttl / 2 :
	    1800), k->back);
	html_raw(b, "<p class=\"unit\">");
	html_text(b, k->unit->name[0] != '\0' ? k->unit->name : k->unit->code);
	html_raw(b, "</p>\n<h1>");
	html_text(b, kiosk_tr(k->lang, it->text_vi, it->text_en));
	html_raw(b, "</h1>\n<form method=\"post\" action=\"");
	html_text(b, k->back);
	html_raw(b, "\">\n<input type=\"hidden\" name=\"token\" value=\"");
	html_text(b, token);
	html_raw(b, "\">\n<input type=\"hidden\" name=\"lang\" value=\"%s\">\n"
	    "<div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">"
	    "Website</label><input type=\"text\" name=\"website\" "
	    "id=\"website\" tabindex=\"-1\" autocomplete=\"off\" value=\"\">"
	    "</div>\n<div class=\"choices n%d\">\n", k->lang, sc->nvalues);
	enc = evhttp_uriencode(it->code, -1, 0);
	/* Worst first, as on the form, the poster and the SMS help. */
	for (i = 0; i < sc->nvalues; i++) {
		html_raw(b, "<button type=\"submit\" name=\"");
		html_text(b, enc);
		html_raw(b, "\" value=\"%d\" class=\"choice c%d\" id=\"v%d\">",
		    sc->values[i], sc->nvalues - i, sc->values[i]);
		html_text(b, kiosk_tr(k->lang, sc->labels_vi[i],
		    sc->labels_en[i]));
		html_raw(b, "</button>\n");
	}
	free(enc);
	html_raw(b, "</div>\n</form>\n");
	html_page_end(b, 0);
	html_reply(r, 200, b);
	evbuffer_free(b);
}

/* The committed (or failed) outcome of a tap. */
static void
kiosk_post_done(struct request *r, int status, const char *field,
    const char *message, void *arg)
{
	struct kiosk_ctx *k = arg;

	/* 409: the same page tapped twice with two buttons; the first counts. */
	if (status == 201 || status == 200 || status == 409)
		kiosk_reply_page(r, 200, k, "kiosk thanks",
		    TR(k->lang, "Cảm ơn ông/bà!", "Thank you!"),
		    TR(k->lang, "Đánh giá của ông/bà đã được ghi nhận.",
		    "Your rating has been recorded."),
		    (int)r->sd->config->kiosk_reset);
	else
		kiosk_reply_page(r, status, k, "kiosk message",
		    TR(k->lang, "Chưa lưu được đánh giá", "Not recorded"),
		    TR(k->lang, "Hệ thống tạm thời chưa lưu được. Vui lòng "
		    "chọn lại sau giây lát.", "The system could not store it "
		    "now. Please tap again in a moment."), 5);
	kiosk_ctx_free(k);
}

/* POST /kiosk/{unit}: one tap. */
static void
kiosk_post(struct request *r, struct kiosk_ctx *k)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1), *v;
	const struct item *it = &k->survey->items[0];
	struct form_fields *f;
	char id[64], *scope, *cause = NULL;
	struct response *rs;
	int value;

	f = form_fields_parse(body != NULL ? body : "", len);
	if (f == NULL) {
		kiosk_reply_page(r, 400, k, "kiosk message",
		    TR(k->lang, "Không đọc được", "Could not read the tap"),
		    TR(k->lang, "Vui lòng chọn lại.", "Please tap again."), 3);
		kiosk_ctx_free(k);
		return;
	}
	xasprintf(&scope, "kiosk/%s/%s", k->survey->code, k->unit->code);
	switch (form_guard(r, f, 'k', scope, k->lang, k->nonce)) {
	case FORM_GUARD_REPLIED:
		kiosk_ctx_free(k);
		goto out;
	case FORM_GUARD_TOKEN:
		kiosk_reply_page(r, 403, k, "kiosk message",
		    TR(k->lang, "Trang đã hết hạn", "The page expired"),
		    TR(k->lang, "Vui lòng chọn lại.", "Please tap again."), 2);
		kiosk_ctx_free(k);
		goto out;
	case FORM_GUARD_OK:
		break;
	}
	v = form_fields_get(f, it->code);
	if (v == NULL || response_answer_parse(it, v, &value, &cause) != 0) {
		free(cause);
		kiosk_reply_page(r, 422, k, "kiosk message",
		    TR(k->lang, "Chưa chọn đánh giá", "No rating chosen"),
		    TR(k->lang, "Vui lòng chọn một trong các nút.",
		    "Please tap one of the buttons."), 3);
		kiosk_ctx_free(k);
		goto out;
	}
	snprintf(id, sizeof id, "kiosk-%s", k->nonce);
	rs = response_create(k->survey);
	rs->id = xstrdup(id);
	rs->unit = xstrdup(k->unit->code);
	rs->channel = CHANNEL_KIOSK;
	rs->answers[0] = value;
	ingest_submit_response(r, k->survey, rs, kiosk_post_done, k);
out:
	free(scope);
	form_fields_free(f);
}

/* GET and POST /kiosk/{unit}[?survey=CODE][&lang=en]. */
void
kiosk_handle(struct request *r)
{
	const char *lang = form_lang(r, NULL), *scode = KIOSK_SURVEY, *q;
	const char *ucode = r->path + strlen("/kiosk/");
	struct form_fields *query = NULL;
	struct kiosk_ctx *k;
	const struct survey *s = NULL;
	const struct cache_unit *u = NULL;
	char *unit = NULL, *enc_u, *enc_s;
	size_t n = strcspn(ucode, "/");

	if (r->sd->cache == NULL) {
		html_reply_message(r, 503, lang, TR(lang, "Tạm thời gián đoạn",
		    "Temporarily unavailable"), TR(lang, "Hệ thống đang khởi "
		    "động.", "The system is starting."), NULL, NULL);
		return;
	}
	if (r->query != NULL)
		query = form_fields_parse(r->query, strlen(r->query));
	if ((q = form_fields_get(query, "survey")) != NULL)
		scode = q;
	if (n > 0 && (ucode[n] == '\0' || strcmp(ucode + n, "/") == 0)) {
		char *raw = xstrndup(ucode, n);

		unit = evhttp_uridecode(raw, 0, NULL);
		free(raw);
	}
	if (unit != NULL) {
		s = cache_survey_get(r->sd->cache, scode);
		u = cache_unit_get(r->sd->cache, unit);
	}
	if (s == NULL || u == NULL || s->nsat < 1) {
		html_reply_message(r, 404, lang, TR(lang, "Không tìm thấy",
		    "Not found"), TR(lang, "Không có kiosk ở địa chỉ này.",
		    "There is no kiosk at this address."), NULL, NULL);
		goto out;
	}
	k = xcalloc(1, sizeof *k);
	k->cache = cache_ref(r->sd->cache);
	k->survey = s;
	k->unit = u;
	k->lang = lang;
	enc_u = evhttp_uriencode(u->code, -1, 0);
	enc_s = evhttp_uriencode(s->code, -1, 0);
	xasprintf(&k->back, "/kiosk/%s?survey=%s&lang=%s", enc_u, enc_s, lang);
	free(enc_u);
	free(enc_s);
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_POST)
		kiosk_post(r, k);
	else {
		kiosk_reply_question(r, k);
		kiosk_ctx_free(k);
	}
out:
	free(unit);
	form_fields_free(query);
}
