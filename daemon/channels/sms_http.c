/*
 * sms_http.c: the SMS channel's gateway adapters (docs/interfaces.md, "HTTP
 * API" and "SMS grammar"; docs/sms.md): Kannel's get-url, Twilio's webhook
 * and a RapidPro-style external channel. Each incoming message is
 * authenticated, logged raw (store_sms_begin), parsed by the pure core
 * (sms.h), turned into a response
 * that goes through the ingest queue (ingest_submit_response: the thank-you
 * is only sent after COMMIT), and answered with exactly one reply SMS.
 *
 * The state machine of one message:
 *
 *   begin  -> the (gateway, id) was answered before: the same reply again
 *          -> parse; an open dialogue takes bare numbers and empty texts
 *   start  -> "<KEYWORD> <UNIT>": look at the period's claim, save the
 *             dialogue (no answers yet), ask the first SMS item
 *   answer -> one more dialogue answer: save it and ask the next item, or,
 *             with the last one, store like a complete message
 *   store  -> claim the period (one response per number, survey, unit and
 *             period), ingest_submit_response, and after COMMIT thank
 *   finish -> the dialogue change and the message's outcome and reply in one
 *             transaction, then the HTTP reply
 *
 * A failure of the database before finish answers 503 and leaves the
 * message's reply empty: the gateway's retry (Kannel's http-request-retry)
 * handles it again, and the response's source id "sms-<message row>" makes
 * that retry store nothing twice.
 *
 * Owns no SQL (store_sms.c) and no grammar (common/sms.c). Never logs a full
 * phone number: the sender is hashed (sms_phone_secret) and masked.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "sipas/hmac.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/channels/ingest.h"
#include "sipas/sms.h"
#include "daemon/channels/sms_http.h"
#include "daemon/store/store_sms.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* Most form fields read from one request. */
#define SMS_FORM_MAX 64

enum sms_gateway {
	SMS_GW_KANNEL,
	SMS_GW_TWILIO,
	SMS_GW_EXTERNAL,
};

static const char *const sms_gateway_names[] = { "kannel", "twilio",
	"external" };

/* Decoded form fields (query string and body). */
struct sms_form {
	struct sms_param p[SMS_FORM_MAX];
	size_t len[SMS_FORM_MAX]; /* value lengths: a value may hold NULs */
	int n;
};

/* One message being handled; lives until its HTTP reply. */
struct sms_msg {
	struct request *r;
	enum sms_gateway gw;
	enum sms_coding coding;
	struct cache *cache; /* the snapshot it is parsed against */
	char *external_id;
	char *recipient;
	char *text; /* valid UTF-8, no NULs */
	size_t textlen;
	int64_t sent_at;
	char hash[SMS_PHONE_HASH_SIZE];
	char mask[SMS_PHONE_SIZE];
	long long id;

	const struct survey *survey;
	char unit[SMS_UNIT_SIZE];
	int answers[SMS_ANSWERS_MAX];
	int nanswers;
	int had_dialogue; /* the sender had a dialogue row */
	int from_dialogue; /* the answers came from a dialogue */
	char comment[SMS_COMMENT_SIZE];
	char period[24];
	char source_id[40];
	const char *outcome;
	enum store_sms_dialogue_op dop;
	int claimed; /* holds the period's claim */
	char reply[SMS_REPLY_SIZE];
};

static void sms_store(struct sms_msg *);
static void sms_finish(struct sms_msg *);

/* Add the fields of s (name=value&...) to f; later duplicates are kept too. */
static void
sms_form_parse(struct sms_form *f, const char *s, size_t len)
{
	const char *end = s + len, *amp, *eq;
	size_t nlen;

	while (s < end && f->n < SMS_FORM_MAX) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (amp > s) {
			eq = memchr(s, '=', (size_t)(amp - s));
			if (eq == NULL)
				eq = amp;
			f->p[f->n].name = form_decode(s, (size_t)(eq - s), 0,
			    &nlen);
			f->p[f->n].value = eq < amp ? form_decode(eq + 1,
			    (size_t)(amp - eq - 1), 0, &f->len[f->n]) :
			    form_decode("", 0, 0, &f->len[f->n]);
			f->n++;
		}
		s = amp + 1;
	}
}

/* Free the fields. */
static void
sms_form_clear(struct sms_form *f)
{
	int i;

	for (i = 0; i < f->n; i++) {
		free((char *)f->p[i].name);
		free((char *)f->p[i].value);
	}
	f->n = 0;
}

/* The first field called name, or NULL; *len its length if asked. */
static const char *
sms_form_get(const struct sms_form *f, const char *name, size_t *len)
{
	int i;

	for (i = 0; i < f->n; i++) {
		if (strcmp(f->p[i].name, name) == 0) {
			if (len != NULL)
				*len = f->len[i];
			return f->p[i].value;
		}
	}
	return NULL;
}

/*
 * Valid UTF-8 without NULs or C0 controls other than tab and newline: what
 * PostgreSQL accepts in a text column. Anything else becomes U+FFFD.
 */
static char *
sms_utf8_clean(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *q;
	char *out = xmalloc(len * 3 + 1);
	size_t n = 0;
	uint32_t cp;

	while (p < end) {
		q = p;
		cp = utf8_next(&p, end);
		if (cp == UTF8_INVALID || cp == 0 || cp == 0x7f ||
		    (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')) {
			memcpy(out + n, "\xef\xbf\xbd", 3);
			n += 3;
			p = q + 1;
			continue;
		}
		memcpy(out + n, q, (size_t)(p - q));
		n += (size_t)(p - q);
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* Free a message and reply nothing (the caller replied). */
static void
sms_msg_free(struct sms_msg *m)
{
	cache_unref(m->cache);
	free(m->external_id);
	free(m->recipient);
	free(m->text);
	free(m);
}

/* Escape s for XML text into an owned string. */
static char *
sms_xml_escape(const char *s)
{
	char *out = xmalloc(strlen(s) * 6 + 1), *o = out;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			o = stpcpy(o, "&lt;");
			break;
		case '>':
			o = stpcpy(o, "&gt;");
			break;
		case '&':
			o = stpcpy(o, "&amp;");
			break;
		case '"':
			o = stpcpy(o, "&quot;");
			break;
		case '\'':
			o = stpcpy(o, "&apos;");
			break;
		default:
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* 1 if s has a byte outside ASCII. */
static int
sms_has_non_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

/* Reply the SMS text in the gateway's form; frees the request. */
static void
sms_reply_send(struct request *r, enum sms_gateway gw, const char *text)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	char *xml, *esc;

	switch (gw) {
	case SMS_GW_TWILIO:
		esc = sms_xml_escape(text);
		if (*text == '\0')
			xasprintf(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			    "<Response></Response>");
		else
			xasprintf(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			    "<Response><Message>%s</Message></Response>", esc);
		http_reply(r, 200, "application/xml; charset=utf-8", xml,
		    strlen(xml));
		free(esc);
		free(xml);
		return;
	case SMS_GW_KANNEL:
		/* A reply with diacritics goes out as UCS-2 (accept-x-kannel-headers). */
		if (sms_has_non_ascii(text))
			evhttp_add_header(out, "X-Kannel-Coding", "2");
		break;
	case SMS_GW_EXTERNAL:
		break;
	}
	http_reply(r, 200, "text/plain; charset=utf-8", text, strlen(text));
}

/* A plain-text refusal (403, 404, 400, 503) that a gateway does not relay. */
static void
sms_refuse(struct request *r, int status, const char *why)
{
	log_msg(status >= 500 ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, r->id,
	    "sms refused (%d): %s", status, why);
	if (status == 503) {
		char secs[16];

		snprintf(secs, sizeof secs, "%ld", r->sd->config->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", secs);
	}
	http_reply(r, status, "text/plain; charset=utf-8", why, strlen(why));
}

/* The database failed on the way: 503 so that the gateway tries again. */
static void
sms_fail(struct sms_msg *m, const char *why)
{
	log_msg(LOG_LEVEL_WARN, m->r->id, "sms %s from %s not handled: %s",
	    sms_gateway_names[m->gw], m->mask, why);
	sms_refuse(m->r, 503, "the message could not be handled now");
	sms_msg_free(m);
}

/* The display name of the message's unit (or its code). */
static const char *
sms_unit_name(const struct sms_msg *m)
{
	const struct cache_unit *u = cache_unit_get(m->cache, m->unit);

	return u != NULL && u->name[0] != '\0' ? u->name : m->unit;
}

/* sms_units finder over the snapshot's folded codes. */
static const char *
sms_unit_find(void *arg, const char *folded)
{
	const struct cache_unit *u = cache_unit_folded_get(arg, folded);

	return u != NULL ? u->code : NULL;
}

/* The key of the current period in Vietnam time, or "" for none. */
static void
sms_period_key(long period, char *buf, size_t size)
{
	time_t t = time(NULL) + RESPONSE_TZ_DEFAULT * 60;
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (period) {
	case CONFIG_PERIOD_DAY:
		strftime(buf, size, "%Y-%m-%d", &tm);
		break;
	case CONFIG_PERIOD_WEEK:
		strftime(buf, size, "%G-W%V", &tm);
		break;
	case CONFIG_PERIOD_MONTH:
		strftime(buf, size, "%Y-%m", &tm);
		break;
	case CONFIG_PERIOD_QUARTER:
		snprintf(buf, size, "%d-Q%d", tm.tm_year + 1900, tm.tm_mon / 3 + 1);
		break;
	case CONFIG_PERIOD_YEAR:
		strftime(buf, size, "%Y", &tm);
		break;
	default:
		buf[0] = '\0';
	}
}

/* The name of the configured period, for the reply. */
static const char *
sms_period_name(long period)
{
	static const char *const names[] = { "none", "day", "week", "month",
		"quarter", "year" };

	return period >= 0 && period <= CONFIG_PERIOD_YEAR ? names[period] :
	    "month";
}

/* finish's transaction is done: reply, or 503 for a retry. */
static void
sms_finish_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct sms_msg *m = arg;

	if (!ok) {
		sms_fail(m, message != NULL ? message : "finish failed");
		return;
	}
	log_msg(LOG_LEVEL_INFO, m->r->id, "sms %s #%lld from %s: %s%s%s",
	    sms_gateway_names[m->gw], m->id, m->mask, m->outcome,
	    m->survey != NULL ? " " : "", m->survey != NULL ? m->survey->code :
	    "");
	metrics_sms(m->outcome);
	sms_reply_send(m->r, m->gw, m->reply);
	sms_msg_free(m);
}

/* Write the outcome (and the dialogue change) in one transaction. */
static void
sms_finish(struct sms_msg *m)
{
	struct store_sms_finish f;

	memset(&f, 0, sizeof f);
	f.id = m->id;
	f.outcome = m->outcome;
	f.survey = m->survey != NULL ? m->survey->code : NULL;
	f.unit = m->unit[0] != '\0' ? m->unit : NULL;
	f.comment = m->comment[0] != '\0' ? m->comment : NULL;
	f.reply = m->reply;
	f.source_id = strcmp(m->outcome, "stored") == 0 ? m->source_id : NULL;
	f.dialogue = m->dop;
	f.sender_hash = m->hash;
	f.answers = m->answers;
	f.nanswers = m->nanswers;
	f.ttl = m->r->sd->config->sms_dialogue_ttl;
	store_sms_finish(m->r->sd->db, &f, sms_finish_done, m);
}

/* A claim released after a failed store: now answer 503. */
static void
sms_released(int ok, const char *sqlstate, const char *message, void *arg)
{
	sms_fail(arg, "the response could not be stored");
}

/* The ingest queue committed the response (or could not). */
static void
sms_ingest_done(struct request *r, int status, const char *field,
    const char *message, void *arg)
{
	struct sms_msg *m = arg;

	if (status == 201 || status == 200) {
		m->outcome = "stored";
		sms_reply_thanks(m->coding, sms_unit_name(m), m->reply);
		sms_finish(m);
		return;
	}
	log_msg(LOG_LEVEL_WARN, r->id, "sms #%lld: response refused (%d%s%s): %s",
	    m->id, status, field != NULL ? " " : "", field != NULL ? field : "",
	    message);
	if (status == 422 && field != NULL && strcmp(field, "unit") == 0) {
		/* The unit left the catalog since the parse. */
		m->outcome = "unknown-unit";
		sms_reply_unit_unknown(m->coding, m->survey, m->unit, m->reply);
		if (m->claimed)
			store_sms_quota_release(r->sd->db, m->id, NULL, NULL);
		sms_finish(m);
		return;
	}
	if (m->claimed)
		store_sms_quota_release(r->sd->db, m->id, sms_released, m);
	else
		sms_fail(m, "the response could not be stored");
}

/* Hand the complete response to the ingest queue. */
static void
sms_submit(struct sms_msg *m)
{
	const struct survey *s = m->survey;
	struct response *rs = response_create(s);
	int i;

	rs->id = xstrdup(m->source_id);
	rs->unit = xstrdup(m->unit);
	rs->channel = CHANNEL_SMS;
	rs->submitted_at = m->sent_at > 0 ? m->sent_at : (int64_t)time(NULL);
	rs->tz_minutes = RESPONSE_TZ_DEFAULT;
	rs->has_time = 1;
	for (i = 0; i < s->nsms && i < m->nanswers; i++)
		rs->answers[s->sms_items[i]] = m->answers[i];
	ingest_submit_response(m->r, s, rs, sms_ingest_done, m);
}

/* The period's claim: ours (or none needed) stores, another's refuses. */
static void
sms_claimed(long long owner, const char *sqlstate, const char *message,
    void *arg)
{
	struct sms_msg *m = arg;

	if (owner < 0) {
		sms_fail(m, message != NULL ? message : "claim failed");
		return;
	}
	if (owner != m->id) {
		m->outcome = "limit";
		sms_reply_limit(m->coding, sms_unit_name(m),
		    sms_period_name(m->r->sd->config->sms_limit_period), m->reply);
		sms_finish(m);
		return;
	}
	m->claimed = 1;
	sms_submit(m);
}

/* A complete set of answers: claim the period, then store. */
static void
sms_store(struct sms_msg *m)
{
	struct config *cfg = m->r->sd->config;

	snprintf(m->source_id, sizeof m->source_id, "sms-%lld", m->id);
	if (m->had_dialogue)
		m->dop = STORE_SMS_DIALOGUE_DELETE;
	if (cfg->sms_limit_period == CONFIG_PERIOD_NONE) {
		sms_submit(m);
		return;
	}
	sms_period_key(cfg->sms_limit_period, m->period, sizeof m->period);
	store_sms_quota(m->r->sd->db, 1, m->hash, m->survey->code, m->unit,
	    m->period, m->id, sms_claimed, m);
}

/* A dialogue may start unless the period is used up. */
static void
sms_start_checked(long long owner, const char *sqlstate, const char *message,
    void *arg)
{
	struct sms_msg *m = arg;

	if (owner < 0) {
		sms_fail(m, message != NULL ? message : "claim check failed");
		return;
	}
	if (owner > 0) {
		m->outcome = "limit";
		m->dop = m->had_dialogue ? STORE_SMS_DIALOGUE_DELETE :
		    STORE_SMS_DIALOGUE_KEEP;
		sms_reply_limit(m->coding, sms_unit_name(m),
		    sms_period_name(m->r->sd->config->sms_limit_period), m->reply);
	} else {
		m->outcome = "dialogue-start";
		m->dop = STORE_SMS_DIALOGUE_SAVE;
		m->nanswers = 0;
		sms_reply_question(m->coding, m->survey, 0, m->reply);
	}
	sms_finish(m);
}

/* Decide what the message is, given the sender's dialogue. */
static void
sms_decide(struct sms_msg *m, const struct store_sms_begin *b)
{
	struct config *cfg = m->r->sd->config;
	const struct survey *const *surveys, *ds = NULL;
	struct sms_units units = { sms_unit_find, m->cache };
	struct sms_parse p, dp;
	size_t nsurveys;
	int active = 0;

	surveys = cache_surveys(m->cache, &nsurveys);
	m->had_dialogue = b->has_dialogue;
	if (b->has_dialogue && !b->dialogue_expired &&
	    (ds = cache_survey_get(m->cache, b->dialogue_survey)) != NULL &&
	    ds->nsms > 0 && b->dialogue_n < ds->nsms &&
	    cache_unit_get(m->cache, b->dialogue_unit) != NULL)
		active = 1;
	/* An expired or stale dialogue goes, whatever this message is. */
	m->dop = b->has_dialogue && !active ? STORE_SMS_DIALOGUE_DELETE :
	    STORE_SMS_DIALOGUE_KEEP;

	sms_message_parse(m->text, m->textlen, surveys, (int)nsurveys, &units,
	    &p);
	if (active && p.kind == SMS_ERROR && (p.error == SMS_ERR_KEYWORD ||
	    p.error == SMS_ERR_EMPTY)) {
		/* The next answer of the open dialogue. */
		m->survey = ds;
		snprintf(m->unit, sizeof m->unit, "%s", b->dialogue_unit);
		memcpy(m->answers, b->dialogue_answers, sizeof m->answers);
		m->nanswers = b->dialogue_n;
		m->from_dialogue = 1;
		if (sms_dialogue_parse(m->text, m->textlen, ds, m->nanswers,
		    &dp) != 0) {
			m->outcome = sms_parse_outcome(&dp);
			sms_reply_error(m->coding, &dp, surveys, (int)nsurveys,
			    m->reply);
			sms_finish(m);
			return;
		}
		m->answers[m->nanswers++] = dp.answers[0];
		snprintf(m->comment, sizeof m->comment, "%s", dp.comment);
		if (m->nanswers < ds->nsms) {
			m->outcome = "dialogue-answer";
			m->dop = STORE_SMS_DIALOGUE_SAVE;
			sms_reply_question(m->coding, ds, m->nanswers, m->reply);
			sms_finish(m);
			return;
		}
		sms_store(m);
		return;
	}

	m->survey = p.survey;
	if (p.unit[0] != '\0')
		snprintf(m->unit, sizeof m->unit, "%s", p.unit);
	snprintf(m->comment, sizeof m->comment, "%s", p.comment);
	switch (p.kind) {
	case SMS_ANSWERS:
		memcpy(m->answers, p.answers, sizeof m->answers);
		m->nanswers = p.nanswers;
		sms_store(m);
		return;
	case SMS_DIALOGUE_START:
		if (cfg->sms_limit_period == CONFIG_PERIOD_NONE) {
			sms_start_checked(0, NULL, NULL, m);
			return;
		}
		sms_period_key(cfg->sms_limit_period, m->period,
		    sizeof m->period);
		store_sms_quota(m->r->sd->db, 0, m->hash, m->survey->code,
		    m->unit, m->period, m->id, sms_start_checked, m);
		return;
	case SMS_ERROR:
		break;
	}
	if (p.error != SMS_ERR_UNIT_UNKNOWN && p.error != SMS_ERR_COUNT &&
	    p.error != SMS_ERR_RANGE)
		m->unit[0] = '\0';
	m->outcome = sms_parse_outcome(&p);
	sms_reply_error(m->coding, &p, surveys, (int)nsurveys, m->reply);
	sms_finish(m);
}

/* The message is logged: replay an earlier reply, or handle it. */
static void
sms_begun(const struct store_sms_begin *b, const char *sqlstate,
    const char *message, void *arg)
{
	struct sms_msg *m = arg;

	if (b == NULL) {
		sms_fail(m, message != NULL ? message : "log failed");
		return;
	}
	m->id = b->id;
	if (!b->is_new && b->reply != NULL) {
		log_msg(LOG_LEVEL_INFO, m->r->id, "sms %s #%lld from %s: again "
		    "(%s), same reply", sms_gateway_names[m->gw], m->id, m->mask,
		    b->outcome != NULL ? b->outcome : "?");
		sms_reply_send(m->r, m->gw, b->reply);
		sms_msg_free(m);
		return;
	}
	if (!b->is_new)
		log_msg(LOG_LEVEL_INFO, m->r->id, "sms %s #%lld: sent again "
		    "before it was answered; handling it again",
		    sms_gateway_names[m->gw], m->id);
	sms_decide(m, b);
}

/* Read the query string and (for POST) the form body. */
static void
sms_request_form(struct request *r, struct sms_form *body,
    struct sms_form *query)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data;

	memset(body, 0, sizeof *body);
	memset(query, 0, sizeof *query);
	if (r->query != NULL)
		sms_form_parse(query, r->query, strlen(r->query));
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_POST && len > 0 &&
	    (data = (const char *)evbuffer_pullup(in, -1)) != NULL)
		sms_form_parse(body, data, len);
}

/* A field from the body, else the query string. */
static const char *
sms_field(const struct sms_form *body, const struct sms_form *query,
    const char *name, size_t *len)
{
	const char *v = sms_form_get(body, name, len);

	return v != NULL ? v : sms_form_get(query, name, len);
}

/* Check Twilio's signature over the public URL and the POST fields. */
static int
sms_twilio_check(struct request *r, const struct sms_form *body)
{
	struct config *cfg = r->sd->config;
	const char *sig = evhttp_find_header(evhttp_request_get_input_headers(
	    r->req), "X-Twilio-Signature"), *host;
	char want[SMS_SIGNATURE_SIZE], *url = NULL, *cause = NULL;
	int ok;

	if (sig == NULL)
		return 0;
	if (cfg->sms_twilio_url[0] != '\0')
		url = xstrdup(cfg->sms_twilio_url);
	else {
		/* Without sms_twilio_url: the URL as this request reached us. */
		host = evhttp_find_header(evhttp_request_get_input_headers(
		    r->req), "Host");
		xasprintf(&url, "http://%s%s%s%s", host != NULL ? host : "",
		    r->path, r->query != NULL ? "?" : "", r->query != NULL ?
		    r->query : "");
	}
	if (sms_twilio_signature(cfg->sms_twilio_token, url, body->p, body->n,
	    want, &cause) != 0) {
		log_msg(LOG_LEVEL_WARN, r->id, "twilio signature: %s", cause);
		free(cause);
		free(url);
		return 0;
	}
	ok = sms_signature_equal(sig, want);
	free(url);
	return ok;
}

/* Every gateway: authenticate, read the fields, log the message. */
static void
sms_handle(struct request *r, enum sms_gateway gw)
{
	struct sipasd *sd = r->sd;
	struct config *cfg = sd->config;
	struct sms_form body, query;
	struct sms_msg *m = NULL;
	const char *key, *from, *text, *id, *to, *when, *coding, *charset;
	const char *want;
	char phone[SMS_PHONE_SIZE], *cause = NULL, *raw = NULL;
	size_t textlen = 0;
	int64_t sent_at = 0;
	int tz;

	sms_request_form(r, &body, &query);
	switch (gw) {
	case SMS_GW_TWILIO:
		if (cfg->sms_twilio_token[0] == '\0') {
			sms_refuse(r, 404, "the Twilio gateway is not enabled");
			goto out;
		}
		if (!sms_twilio_check(r, &body)) {
			sms_refuse(r, 403, "bad X-Twilio-Signature");
			goto out;
		}
		id = sms_form_get(&body, "MessageSid", NULL);
		from = sms_form_get(&body, "From", NULL);
		to = sms_form_get(&body, "To", NULL);
		text = sms_form_get(&body, "Body", &textlen);
		when = NULL;
		break;
	default:
		want = gw == SMS_GW_KANNEL ? cfg->sms_kannel_key :
		    cfg->sms_external_key;
		if (want[0] == '\0') {
			sms_refuse(r, 404, "this gateway is not enabled");
			goto out;
		}
		key = sms_field(&body, &query, "key", NULL);
		if (key == NULL || !hmac_equal(key, want)) {
			sms_refuse(r, 403, "bad or missing key");
			goto out;
		}
		id = sms_field(&body, &query, "id", NULL);
		from = sms_field(&body, &query, "from", NULL);
		to = sms_field(&body, &query, "to", NULL);
		text = sms_field(&body, &query, "text", &textlen);
		when = sms_field(&body, &query, gw == SMS_GW_KANNEL ? "ts" :
		    "date", NULL);
		break;
	}
	if (cfg->sms_phone_secret[0] == '\0') {
		sms_refuse(r, 503, "sms_phone_secret is not set");
		goto out;
	}
	if (from == NULL || sms_phone_normalize(from, phone, &cause) != 0) {
		sms_refuse(r, 400, cause != NULL ? cause : "no sender (from)");
		free(cause);
		goto out;
	}
	if (when != NULL && *when != '\0') {
		if (gw == SMS_GW_KANNEL)
			sent_at = strtoll(when, NULL, 10);
		else if (time_parse_iso8601(when, &sent_at, &tz, &cause) != 0) {
			sms_refuse(r, 400, "date is not an RFC 3339 time");
			free(cause);
			goto out;
		}
		if (sent_at < 0)
			sent_at = 0;
	}
	if (!sipasd_ready(sd) || sd->cache == NULL) {
		sms_refuse(r, 503, "the database is not available");
		goto out;
	}

	m = xcalloc(1, sizeof *m);
	m->r = r;
	m->gw = gw;
	m->coding = gw == SMS_GW_KANNEL && cfg->sms_diacritics ?
	    SMS_CODING_UCS2 : SMS_CODING_GSM7;
	m->sent_at = sent_at;
	if (sms_phone_hash(cfg->sms_phone_secret, phone, m->hash, &cause) != 0) {
		sms_refuse(r, 400, cause);
		free(cause);
		free(m);
		goto out;
	}
	sms_phone_mask(phone, m->mask);
	if (text == NULL)
		text = "";
	/* Kannel without mo-recode passes UCS-2 through as UTF-16BE bytes. */
	coding = sms_field(&body, &query, "coding", NULL);
	charset = sms_field(&body, &query, "charset", NULL);
	if (gw == SMS_GW_KANNEL && coding != NULL && strcmp(coding, "2") == 0 &&
	    charset != NULL && (strcasecmp(charset, "UTF-16BE") == 0 ||
	    strcasecmp(charset, "UCS-2") == 0 ||
	    strcasecmp(charset, "UCS-2BE") == 0)) {
		raw = sms_text_from_ucs2((const unsigned char *)text, textlen,
		    &textlen);
		text = raw;
	}
	m->text = sms_utf8_clean(text, textlen, &m->textlen);
	free(raw);
	m->external_id = id != NULL && *id != '\0' ? xstrndup(id, 200) : NULL;
	m->recipient = to != NULL && *to != '\0' ? xstrndup(to, 64) : NULL;
	m->cache = cache_ref(sd->cache);
	{
		struct store_sms_message msg = {
			.gateway = sms_gateway_names[gw],
			.external_id = m->external_id,
			.sender_hash = m->hash,
			.sender_masked = m->mask,
			.recipient = m->recipient,
			.text = m->text,
			.sent_at = m->sent_at,
		};

		store_sms_begin(sd->db, &msg, sms_begun, m);
	}
out:
	sms_form_clear(&body);
	sms_form_clear(&query);
}

/* GET or POST /sms/kannel?key=...&id=%I&from=%p&to=%P&text=%a&ts=%T */
void
sms_kannel_handle(struct request *r)
{
	sms_handle(r, SMS_GW_KANNEL);
}

/* POST /sms/twilio: Twilio's inbound message webhook. */
void
sms_twilio_handle(struct request *r)
{
	sms_handle(r, SMS_GW_TWILIO);
}

/* POST /sms/external?key=...: from, text, optional date and id. */
void
sms_external_handle(struct request *r)
{
	sms_handle(r, SMS_GW_EXTERNAL);
}
