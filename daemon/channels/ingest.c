/*
 * ingest.c: POST /api/v1/responses (docs/interfaces.md, "HTTP API"):
 * validate the JSON body against the cached survey and unit tree, queue it,
 * and commit queued responses in batches.
 *
 * Owns the queue. Every validated response waits in the queue; one batch at a
 * time goes to store_batch_insert (one transaction for everything queued, up
 * to batch_max) and each request is answered only after its batch committed:
 * 201 new, 200 the same id and content again, 409 the same id with other
 * content. If a batch fails for a reason of one row (a constraint), the batch
 * is retried one response per transaction so that the others still get in;
 * if the connection fails, every response of the batch and the queue gets
 * 503 (a client retry with the same id is then safe: 200 or 201).
 *
 * With a spool (spool_dir, spool.h), what the connection failure or an absent
 * database would answer 503 is appended to the spool instead and answered
 * 202 once fsync()ed; the spool replays it later. Every API response then has
 * a source id (a generated "spool-..." when it came without one), so that a
 * replay of a response whose COMMIT was in doubt cannot store it twice.
 * Responses of the web form and the kiosk (ingest_submit) are never spooled.
 *
 * Must not contain SQL (store.c) or compute statistics.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/channels/ingest.h"
#include "daemon/store/spool.h"
#include "daemon/store/store.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Longest source id accepted. */
#define INGEST_ID_MAX 200

struct ingest_item {
	TAILQ_ENTRY(ingest_item) entry;
	struct request *r;
	struct store_row row;
	char *survey;
	char *unit;
	char *source_id;
	char *channel;
	char *stratum;
	char *psu;
	char *answers;
	char *respondent;
	char hash[TOKEN_HASH_LEN + 1];
	int solo; /* retry alone after a failed batch */
	ingest_done_cb done; /* ingest_submit: who answers, or NULL for JSON */
	void *done_arg;
};

TAILQ_HEAD(ingest_items, ingest_item);

struct ingest {
	struct sipasd *sd;
	struct ingest_items queue;
	long nqueued;
	struct ingest_item **batch; /* the batch being committed */
	struct store_row **rows;
	int nbatch;
	struct event *ev_flush;
	int flush_armed;
};

/* A validation failure: status, code, field and message. */
struct ingest_error {
	int status;
	const char *code;
	char field[160];
	char message[256];
};

static void ingest_flush(evutil_socket_t, short, void *);

/* Record a 422 (or other) failure. */
static int
ingest_fail(struct ingest_error *err, int status, const char *code,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
ingest_fail(struct ingest_error *err, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof err->field, "%s", field != NULL ? field :
	    "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* Free an item (not its request). */
static void
ingest_item_free(struct ingest_item *it)
{
	free(it->survey);
	free(it->unit);
	free(it->source_id);
	free(it->channel);
	free(it->stratum);
	free(it->psu);
	free(it->answers);
	free(it->respondent);
	free(it);
}

/* A new queue. */
struct ingest *
ingest_create(struct sipasd *sd)
{
	struct ingest *ing = xcalloc(1, sizeof *ing);

	ing->sd = sd;
	TAILQ_INIT(&ing->queue);
	ing->ev_flush = evtimer_new(sd->base, ingest_flush, ing);
	return ing;
}

/* Free the queue; queued requests get 503. */
void
ingest_free(struct ingest *ing)
{
	if (ing == NULL)
		return;
	ingest_fail_queued(ing, "shutting down");
	event_free(ing->ev_flush);
	free(ing->batch);
	free(ing->rows);
	free(ing);
}

/* 1 when nothing is queued or committing. */
int
ingest_idle(const struct ingest *ing)
{
	return ing->nqueued == 0 && ing->nbatch == 0;
}

/* An ingest_submit item: hand the outcome to its module; 0 for a JSON one. */
static int
ingest_item_done(struct ingest_item *it, int status, const char *field,
    const char *message)
{
	if (it->done == NULL)
		return 0;
	it->done(it->r, status, field, message, it->done_arg);
	return 1;
}

/* Responses waiting for a batch (the /metrics gauge). */
long
ingest_queued(const struct ingest *ing)
{
	return ing != NULL ? ing->nqueued : 0;
}

/* 202: the response is in the spool, to be stored when the database is back. */
static void
ingest_item_spooled(struct ingest_item *it)
{
	http_reply_json(it->r, 202, json_pack("{s:s,s:s,s:s}", "id",
	    it->source_id, "status", "spooled", "message", "the database is "
	    "not available; the response is kept on disk and will be stored "
	    "when it is back"));
}

/* 1 if the item goes to the spool rather than to a 503. */
static int
ingest_item_spoolable(const struct ingest *ing, const struct ingest_item *it)
{
	return ing->sd->spool != NULL && it->done == NULL &&
	    it->source_id != NULL;
}

/*
 * Answer items that cannot be committed now (the database is away): 202 for
 * those the spool takes (one fsync for all), 503 for the others. Each item's
 * request is answered and forgotten (it->r = NULL); the items stay the
 * caller's to free.
 */
static void
ingest_unavailable(struct ingest *ing, struct ingest_item **items, int n,
    const char *why)
{
	struct store_row **rows = xcalloc((size_t)n + 1, sizeof *rows);
	char *cause = NULL;
	int i, nrows = 0, spooled = 0;

	for (i = 0; i < n; i++) {
		if (items[i]->r != NULL && ingest_item_spoolable(ing, items[i]))
			rows[nrows++] = &items[i]->row;
	}
	if (nrows > 0) {
		if (spool_append(ing->sd->spool, rows, nrows, &cause) == 0) {
			log_info("spooled %d response(s): %s", nrows, why);
			spooled = 1;
		} else {
			log_error("cannot spool %d response(s), answering "
			    "503: %s", nrows, cause);
			free(cause);
		}
	}
	for (i = 0; i < n; i++) {
		if (items[i]->r == NULL)
			continue;
		if (spooled && ingest_item_spoolable(ing, items[i]))
			ingest_item_spooled(items[i]);
		else if (!ingest_item_done(items[i], 503, NULL, why))
			http_reply_unavailable(items[i]->r, why);
		items[i]->r = NULL;
	}
	free(rows);
}

/* The database is away: answer every queued response (spool or 503). */
void
ingest_fail_queued(struct ingest *ing, const char *why)
{
	struct ingest_item *it, **items;
	int i, n = 0;

	if (ing->nqueued == 0)
		return;
	items = xcalloc((size_t)ing->nqueued, sizeof *items);
	while ((it = TAILQ_FIRST(&ing->queue)) != NULL) {
		TAILQ_REMOVE(&ing->queue, it, entry);
		ing->nqueued--;
		items[n++] = it;
	}
	ingest_unavailable(ing, items, n, why);
	for (i = 0; i < n; i++)
		ingest_item_free(items[i]);
	free(items);
}

/*
 * The drain deadline: answer the queue and the batch waiting for a hung
 * database (spool or 503). The batch's items stay until its callback.
 */
void
ingest_abandon(struct ingest *ing, const char *why)
{
	ingest_fail_queued(ing, why);
	if (ing->nbatch > 0)
		ingest_unavailable(ing, ing->batch, ing->nbatch, why);
}

/* A JSON string or integer as a new string; NULL if another type. */
static char *
ingest_json_text(json_t *v)
{
	char *s;

	if (json_is_string(v))
		return xstrndup(json_string_value(v), json_string_length(v));
	if (json_is_integer(v)) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return s;
	}
	return NULL;
}

/* An optional short text field (id, stratum, psu): 0, or -1 with err. */
static int
ingest_text_field(json_t *body, const char *name, char **out,
    struct ingest_error *err)
{
	json_t *v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if ((*out = ingest_json_text(v)) == NULL)
		return ingest_fail(err, 422, "invalid", name,
		    "%s must be a string", name);
	if (strlen(*out) > INGEST_ID_MAX || strlen(*out) !=
	    (json_is_string(v) ? json_string_length(v) : strlen(*out)))
		return ingest_fail(err, 422, "invalid", name,
		    "%s must be a string of at most %d bytes", name,
		    INGEST_ID_MAX);
	if (**out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* One answer: ANSWER_NONE for null, else a value of the item's scale. */
static int
ingest_answer(const struct item *item, json_t *v, int *value,
    struct ingest_error *err)
{
	char field[160], *cause = NULL;
	double d;

	snprintf(field, sizeof field, "answers.%s", item->code);
	*value = ANSWER_NONE;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (json_string_length(v) == 0)
			return 0;
		if (response_answer_parse(item, json_string_value(v), value,
		    &cause) != 0) {
			ingest_fail(err, 422, "invalid_answer", field, "%s",
			    cause != NULL ? cause : "not a value of the scale");
			free(cause);
			return -1;
		}
		return 0;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < -1000000 ||
		    json_integer_value(v) > 1000000 ||
		    !scale_has(item->scale, (int)json_integer_value(v)))
			goto bad;
		*value = (int)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d != floor(d) || fabs(d) > 1e6 || !scale_has(item->scale,
		    (int)d))
			goto bad;
		*value = (int)d;
		return 0;
	}
bad:
	return ingest_fail(err, 422, "invalid_answer", field,
	    "%s is not a value of scale %s", item->code, item->scale->name);
}

/*
 * The rules of common/response.c on the parsed body: the same checks a CSV
 * row of an upload or an import passes. channel_ids: the body comes from a
 * channel that may use its own id prefixes (form, kiosk, SMS).
 */
static int
ingest_rules(struct request *r, const struct survey *s,
    struct ingest_item *it, json_t *norm, json_t *resp, int64_t when,
    int tz, int has_time, double weight, int channel_ids,
    struct ingest_error *err)
{
	struct response *rs = response_create(s);
	struct response_rules rules;
	const char *key;
	json_t *v;
	char *field = NULL, *cause = NULL, *text;
	int rv = 0;

	rs->unit = xstrdup(it->unit);
	rs->id = it->source_id != NULL ? xstrdup(it->source_id) : NULL;
	rs->submitted_at = when;
	rs->tz_minutes = tz;
	rs->has_time = has_time;
	rs->weight = weight;
	json_object_foreach(norm, key, v)
		rs->answers[survey_item_find(s, key)] =
		    (int)json_integer_value(v);
	if (resp != NULL) {
		json_object_foreach(resp, key, v) {
			if (json_is_string(v))
				text = xstrndup(json_string_value(v),
				    json_string_length(v));
			else
				text = json_dumps(v, JSON_ENCODE_ANY);
			response_respondent_add(rs, key, text);
			free(text);
		}
	}
	response_rules_default(&rules);
	rules.weight_max = r->sd->config->weight_max;
	rules.channel_ids = channel_ids;
	if (response_validate(rs, &rules, &field, &cause) != 0)
		rv = ingest_fail(err, 422, "invalid", field, "%s", cause);
	free(field);
	free(cause);
	response_free(rs);
	return rv;
}

/*
 * Validate a request body into an item. The content hash covers everything
 * but the id, normalised (answers as numbers, the time as an instant), so
 * that the same response sent again matches whatever its formatting.
 */
static int
ingest_parse(struct request *r, const char *text, size_t len,
    struct ingest_item *it, int channel_ids, struct ingest_error *err)
{
	static const char *const known[] = { "id", "survey", "unit", "channel",
		"submitted_at", "answers", "respondent", "weight", "stratum",
		"psu", NULL };
	struct cache *cache = r->sd->cache;
	const struct survey *s;
	const struct item *item;
	const char *key, *const *k;
	json_t *body, *v, *answers, *norm = NULL, *canon = NULL, *resp;
	json_error_t jerr;
	char *cause = NULL, *ctext;
	int64_t when = 0;
	int tz = 0, has_time = 0, value, idx, ch, rv = -1;
	double weight = 1;

	body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL)
		return ingest_fail(err, 400, "malformed_json", NULL,
		    "malformed JSON at line %d, column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(body)) {
		ingest_fail(err, 400, "malformed_json", NULL,
		    "the body must be a JSON object");
		goto out;
	}
	json_object_foreach(body, key, v) {
		for (k = known; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k == NULL) {
			cause = response_quote_dup(key);
			ingest_fail(err, 422, "unknown_field", cause,
			    "unknown field '%s'", cause);
			free(cause);
			goto out;
		}
	}

	v = json_object_get(body, "survey");
	if (!json_is_string(v)) {
		ingest_fail(err, 422, v == NULL ? "missing" : "invalid",
		    "survey", "survey (a survey code) is required");
		goto out;
	}
	if ((s = cache_survey_get(cache, json_string_value(v))) == NULL) {
		cause = response_quote_dup(json_string_value(v));
		ingest_fail(err, 422, "unknown_survey", "survey",
		    "unknown survey '%s'", cause);
		free(cause);
		goto out;
	}
	it->survey = xstrdup(s->code);

	v = json_object_get(body, "unit");
	if (!json_is_string(v)) {
		ingest_fail(err, 422, v == NULL ? "missing" : "invalid", "unit",
		    "unit (a unit code) is required");
		goto out;
	}
	/* Scope first: a scoped token cannot tell unknown codes apart. */
	if (!auth_scope_allows(r, json_string_value(v))) {
		ingest_fail(err, 403, "forbidden", "unit",
		    "this token may not post to this unit");
		goto out;
	}
	if (response_unit_check(json_string_value(v), &cause) != 0) {
		ingest_fail(err, 422, "invalid", "unit", "%s", cause);
		free(cause);
		goto out;
	}
	if (cache_unit_get(cache, json_string_value(v)) == NULL) {
		ingest_fail(err, 422, "unknown_unit", "unit",
		    "unknown unit '%s'", json_string_value(v));
		goto out;
	}
	it->unit = xstrdup(json_string_value(v));

	if (ingest_text_field(body, "id", &it->source_id, err) != 0 ||
	    ingest_text_field(body, "stratum", &it->stratum, err) != 0 ||
	    ingest_text_field(body, "psu", &it->psu, err) != 0)
		goto out;

	v = json_object_get(body, "channel");
	if (v == NULL || json_is_null(v))
		ch = CHANNEL_WEB;
	else if (!json_is_string(v) ||
	    (ch = channel_parse(json_string_value(v))) < 0) {
		ingest_fail(err, 422, "invalid", "channel",
		    "channel must be paper, web, sms or kiosk");
		goto out;
	}
	it->channel = xstrdup(channel_name(ch));

	v = json_object_get(body, "submitted_at");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    time_parse_iso8601(json_string_value(v), &when, &tz,
		    &cause) != 0) {
			ingest_fail(err, 422, "invalid_time", "submitted_at",
			    "submitted_at: %s", cause != NULL ? cause :
			    "not an ISO 8601 date or time");
			free(cause);
			goto out;
		}
		has_time = 1;
	}
	if (!has_time)
		when = (int64_t)time(NULL);

	v = json_object_get(body, "weight");
	if (v != NULL && !json_is_null(v)) {
		if (json_is_number(v))
			weight = json_number_value(v);
		else if (!json_is_string(v) ||
		    response_weight_parse(json_string_value(v), &weight,
		    &cause) != 0)
			weight = NAN;
		free(cause);
		cause = NULL;
		if (!isfinite(weight) || weight <= 0) {
			ingest_fail(err, 422, "invalid_weight", "weight",
			    "weight must be a number greater than 0");
			goto out;
		}
	}

	resp = json_object_get(body, "respondent");
	if (resp != NULL && !json_is_null(resp)) {
		if (!json_is_object(resp)) {
			ingest_fail(err, 422, "invalid", "respondent",
			    "respondent must be an object");
			goto out;
		}
		json_object_foreach(resp, key, v) {
			if (json_is_object(v) || json_is_array(v)) {
				char f[160];

				snprintf(f, sizeof f, "respondent.%s", key);
				ingest_fail(err, 422, "invalid", f,
				    "respondent.%s must be a plain value", key);
				goto out;
			}
		}
		it->respondent = json_dumps(resp, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
	} else
		resp = NULL;

	answers = json_object_get(body, "answers");
	if (!json_is_object(answers)) {
		ingest_fail(err, 422, answers == NULL ? "missing" : "invalid",
		    "answers", "answers must be an object of item codes");
		goto out;
	}
	norm = json_object();
	json_object_foreach(answers, key, v) {
		char f[160];

		if ((idx = survey_item_find(s, key)) < 0) {
			cause = response_quote_dup(key);
			snprintf(f, sizeof f, "answers.%s", cause);
			ingest_fail(err, 422, "unknown_item", f,
			    "survey %s has no item '%s'", s->code, cause);
			free(cause);
			goto out;
		}
		item = &s->items[idx];
		if (ingest_answer(item, v, &value, err) != 0)
			goto out;
		if (value != ANSWER_NONE)
			json_object_set_new(norm, item->code,
			    json_integer(value));
	}
	it->answers = json_dumps(answers, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (ingest_rules(r, s, it, norm, resp, when, tz, has_time, weight,
	    channel_ids, err) != 0)
		goto out;

	canon = json_pack("{s:s,s:s,s:s,s:o,s:O,s:O,s:f,s:s?,s:s?}",
	    "survey", it->survey, "unit", it->unit, "channel", it->channel,
	    "t", has_time ? json_integer(when) : json_null(),
	    "answers", norm, "respondent", resp != NULL ? resp : json_null(),
	    "weight", weight, "stratum", it->stratum, "psu", it->psu);
	ASSERT(canon != NULL);
	ctext = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_REAL_PRECISION(17));
	token_hash(ctext, strlen(ctext), it->hash);
	free(ctext);

	it->row.survey = it->survey;
	it->row.unit = it->unit;
	it->row.source_id = it->source_id;
	it->row.submitted_at = when;
	it->row.channel = it->channel;
	it->row.weight = weight;
	it->row.stratum = it->stratum;
	it->row.psu = it->psu;
	it->row.answers = it->answers;
	it->row.respondent = it->respondent;
	it->row.hash = it->hash;
	rv = 0;
out:
	json_decref(canon);
	json_decref(norm);
	json_decref(body);
	return rv;
}

/* Arm a flush: now, or after batch_delay_ms while the batch is not full. */
static void
ingest_flush_arm(struct ingest *ing)
{
	struct timeval tv = { 0, 0 };
	long delay = ing->sd->config->batch_delay_ms;

	if (ing->flush_armed)
		return;
	if (delay > 0 && ing->nqueued < ing->sd->config->batch_max &&
	    !ing->sd->draining) {
		tv.tv_sec = delay / 1000;
		tv.tv_usec = (delay % 1000) * 1000;
	}
	ing->flush_armed = 1;
	evtimer_add(ing->ev_flush, &tv);
}

/* Try to start a batch. */
void
ingest_kick(struct ingest *ing)
{
	if (ing->nqueued > 0 && ing->nbatch == 0)
		ingest_flush_arm(ing);
}

/* Answer one committed item. */
static void
ingest_item_reply(struct ingest_item *it)
{
	struct request *r = it->r;
	struct timeval now;
	json_t *id;

	gettimeofday(&now, NULL);
	metrics_ingest_latency((double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_usec - r->start.tv_usec) / 1e6);

	if (ingest_item_done(it, it->row.outcome == STORE_INSERTED ? 201 :
	    it->row.outcome == STORE_DUPLICATE ? 200 : 409,
	    it->row.outcome == STORE_CONFLICT ? "id" : NULL, "committed"))
		return;
	id = it->source_id != NULL ? json_string(it->source_id) : json_null();
	switch (it->row.outcome) {
	case STORE_INSERTED:
		http_reply_json(r, 201, json_pack("{s:o,s:s,s:I}", "id", id,
		    "status", "stored", "stored_id", (json_int_t)it->row.id));
		break;
	case STORE_DUPLICATE:
		http_reply_json(r, 200, json_pack("{s:o,s:s,s:I}", "id", id,
		    "status", "already_stored", "stored_id",
		    (json_int_t)it->row.id));
		break;
	case STORE_CONFLICT:
		json_decref(id);
		http_reply_error(r, 409, "conflict", "id",
		    "another response with id '%s' is already stored for "
		    "survey %s", it->source_id, it->survey);
		break;
	default:
		json_decref(id);
		ASSERT(0);
	}
}

/* The batch committed or failed. */
static void
ingest_batch_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct ingest *ing = arg;
	struct ingest_item *it;
	int i, n = 0;

	/* Items answered at the drain deadline (ingest_abandon) are done. */
	for (i = 0; i < ing->nbatch; i++) {
		if (ing->batch[i]->r == NULL)
			ingest_item_free(ing->batch[i]);
		else
			ing->batch[n++] = ing->batch[i];
	}
	if (n == 0)
		; /* every item was answered at the drain deadline */
	else if (ok) {
		log_debug("batch of %d committed", n);
		for (i = 0; i < n; i++) {
			ingest_item_reply(ing->batch[i]);
			ingest_item_free(ing->batch[i]);
		}
	} else if (db_sqlstate_is_connection(sqlstate)) {
		log_warn("batch of %d not stored (%s): %s", n,
		    sqlstate != NULL ? sqlstate : "?", message);
		ingest_unavailable(ing, ing->batch, n,
		    "the response could not be stored now");
		for (i = 0; i < n; i++)
			ingest_item_free(ing->batch[i]);
	} else if (sqlstate != NULL && strncmp(sqlstate, "40", 2) == 0) {
		log_warn("batch of %d not stored (%s): %s", n, sqlstate,
		    message);
		for (i = 0; i < n; i++) {
			if (!ingest_item_done(ing->batch[i], 503, NULL,
			    "the response could not be stored now"))
				http_reply_unavailable(ing->batch[i]->r,
				    "the response could not be stored now");
			ingest_item_free(ing->batch[i]);
		}
	} else if (n > 1) {
		/* One bad row spoils a transaction: retry them one by one. */
		log_warn("batch of %d failed (%s), retrying one by one: %s", n,
		    sqlstate != NULL ? sqlstate : "?", message);
		for (i = n - 1; i >= 0; i--) {
			it = ing->batch[i];
			it->solo = 1;
			TAILQ_INSERT_HEAD(&ing->queue, it, entry);
			ing->nqueued++;
		}
	} else {
		it = ing->batch[0];
		log_msg(LOG_LEVEL_WARN, it->r->id, "not stored (%s): %s",
		    sqlstate != NULL ? sqlstate : "?", message);
		if (ingest_item_done(it, sqlstate != NULL &&
		    (strncmp(sqlstate, "22", 2) == 0 ||
		    strncmp(sqlstate, "23", 2) == 0) ? 422 : 500, NULL,
		    "the database rejected the response"))
			;
		else if (sqlstate != NULL && (strncmp(sqlstate, "22", 2) == 0 ||
		    strncmp(sqlstate, "23", 2) == 0))
			http_reply_error(it->r, 422, "rejected", NULL,
			    "the database rejected the response (SQLSTATE %.5s)",
			    sqlstate);
		else
			http_reply_error(it->r, 500, "internal", NULL,
			    "the response could not be stored (SQLSTATE %s)",
			    sqlstate != NULL ? sqlstate : "?");
		ingest_item_free(it);
	}
	ing->nbatch = 0;
	ingest_kick(ing);
	sipasd_drain_check(ing->sd);
}

/* Start a batch of what is queued. */
static void
ingest_flush(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ing = arg;
	struct ingest_item *it;
	long max = ing->sd->config->batch_max;
	int n = 0;

	ing->flush_armed = 0;
	if (ing->nbatch > 0 || ing->nqueued == 0)
		return;
	if (!sipasd_ready(ing->sd)) {
		ingest_fail_queued(ing, "the database is not available");
		return;
	}
	if (TAILQ_FIRST(&ing->queue)->solo)
		max = 1;
	ing->batch = xreallocarray(ing->batch, (size_t)max, sizeof *ing->batch);
	ing->rows = xreallocarray(ing->rows, (size_t)max, sizeof *ing->rows);
	while (n < max && (it = TAILQ_FIRST(&ing->queue)) != NULL) {
		if (n > 0 && it->solo)
			break;
		TAILQ_REMOVE(&ing->queue, it, entry);
		ing->nqueued--;
		it->row.outcome = STORE_PENDING;
		ing->batch[n] = it;
		ing->rows[n] = &it->row;
		n++;
	}
	ing->nbatch = n;
	metrics_batch(n);
	store_batch_insert(ing->sd->db, ing->rows, n, ingest_batch_done, ing);
}

/* POST /api/v1/responses, after authentication. */
void
ingest_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct ingest *ing = sd->ingest;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct ingest_item *it;
	struct ingest_error err;
	size_t len = evbuffer_get_length(in);
	const char *body;

	if ((long)len > sd->config->max_body) {
		http_reply_error(r, 413, "too_large", NULL,
		    "the body is larger than %ld bytes", sd->config->max_body);
		return;
	}
	/* Without the database, only the spool can take it (once validated). */
	if (!sipasd_ready(sd) && (sd->spool == NULL || sd->cache == NULL)) {
		http_reply_unavailable(r, "the database is not available");
		return;
	}
	if (ing->nqueued >= sd->config->queue_max) {
		metrics_limit(METRICS_LIMIT_QUEUE);
		http_reply_unavailable(r, "too many responses are waiting");
		return;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	it = xcalloc(1, sizeof *it);
	memset(&err, 0, sizeof err);
	if (ingest_parse(r, body != NULL ? body : "", len, it, 0, &err) != 0) {
		ingest_item_free(it);
		http_reply_error(r, err.status, err.code, err.field[0] != '\0' ?
		    err.field : NULL, "%s", err.message);
		return;
	}
	it->r = r;
	if (sd->spool != NULL && it->source_id == NULL) {
		/* A replay must be able to tell it was stored: give it an id. */
		it->source_id = xmalloc(SPOOL_ID_LEN + 1);
		if (spool_id_generate(it->source_id) != 0) {
			ingest_item_free(it);
			http_reply_error(r, 500, "internal", NULL,
			    "no random source id");
			return;
		}
		it->row.source_id = it->source_id;
	}
	/* Also while the database is away: the flush answers the whole queue
	 * then, spooling it with one fsync (ingest_fail_queued). */
	TAILQ_INSERT_TAIL(&ing->queue, it, entry);
	ing->nqueued++;
	ingest_kick(ing);
}

/* A response from the web form or the kiosk: see sipasd.h. */
void
ingest_submit(struct request *r, const char *body, size_t len,
    ingest_done_cb done, void *arg)
{
	struct ingest *ing = r->sd->ingest;
	struct ingest_item *it;
	struct ingest_error err;

	if (!sipasd_ready(r->sd)) {
		done(r, 503, NULL, "the database is not available", arg);
		return;
	}
	if (ing->nqueued >= r->sd->config->queue_max) {
		metrics_limit(METRICS_LIMIT_QUEUE);
		done(r, 503, NULL, "too many responses are waiting", arg);
		return;
	}
	it = xcalloc(1, sizeof *it);
	memset(&err, 0, sizeof err);
	if (ingest_parse(r, body, len, it, 1, &err) != 0) {
		ingest_item_free(it);
		done(r, err.status, err.field[0] != '\0' ? err.field : NULL,
		    err.message, arg);
		return;
	}
	it->r = r;
	it->done = done;
	it->done_arg = arg;
	TAILQ_INSERT_TAIL(&ing->queue, it, entry);
	ing->nqueued++;
	ingest_kick(ing);
}
