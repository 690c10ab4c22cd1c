/*
 * ingest.c: POST /api/v1/responses (docs/interfaces.md, "HTTP API"), and
 * the queue every channel's responses go through.
 *
 * The JSON body becomes a struct response (ingest_json_parse: the types and
 * formats of its fields); every channel's response, that one or one a module
 * built itself (ingest_submit_response), then passes the same check
 * (ingest_check: unit known and in scope, answers on their scales,
 * response_validate) and is queued. What is stored (the answers and
 * respondent JSON, the content hash of common/response.c) is produced once,
 * from the response, when it is queued.
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
 * Responses of the other channels (ingest_submit_response) are never
 * spooled.
 *
 * Must not contain SQL (store.c) or compute statistics.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
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
#include "daemon/store/aggregator.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/formdata.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "sipas/response.h"
#include "sipas/textbuf.h"
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
	struct response *resp; /* validated; row points into it */
	const struct survey *s; /* resp was validated against, of cache */
	struct cache *cache;	/* a reference, or NULL: s is of no snapshot */
	char *survey;
	char *answers;
	char *respondent;
	char hash[TOKEN_HASH_LEN + 1];
	int solo; /* retry alone after a failed batch */
	ingest_done_cb done; /* who answers (ingest_submit_response), or NULL */
	void *done_arg;
};

TAILQ_HEAD(ingest_items, ingest_item);

struct ingest {
	struct sipasd *sd;
	struct ingest_items queue;
	long nqueued;
	struct ingest_item **batch; /* the batch being committed */
	struct ingest_item **spare; /* the last batch's, being answered */
	struct store_row **rows;
	int nbatch;
	struct event *ev_flush;
	int flush_armed;
};

/* A validation failure: status, code, field and message in lang. */
struct ingest_error {
	const char *lang; /* "vi" or "en" */
	int status;
	const char *code;
	char field[160];
	char message[256];
};

static void ingest_flush(evutil_socket_t, short, void *);
static void ingest_reply_unavailable(struct request *, const char *);

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
	response_free(it->resp);
	cache_unref(it->cache);
	free(it->survey);
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
	free(ing->spare);
	free(ing->rows);
	free(ing);
}

/* 1 when nothing is queued or committing. */
int
ingest_idle(const struct ingest *ing)
{
	return ing->nqueued == 0 && ing->nbatch == 0;
}

/* A module's item: hand the outcome to it; 0 for a JSON one. */
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
	const char *lang = form_lang_api(it->r);

	http_reply_json(it->r, 202, json_pack("{s:s,s:s,s:s}", "id",
	    it->resp->id, "status", "spooled", "message", LANG_TEXT(lang,
	    "Cơ sở dữ liệu tạm thời không truy cập được; phiếu đã được giữ "
	    "trên đĩa và sẽ được lưu khi cơ sở dữ liệu hoạt động lại: không "
	    "cần gửi lại", "the database is not available; the response is "
	    "kept on disk and will be stored when it is back")));
}

/* 1 if the item goes to the spool rather than to a 503. */
static int
ingest_item_spoolable(const struct ingest *ing, const struct ingest_item *it)
{
	return ing->sd->spool != NULL && it->done == NULL &&
	    it->resp->id != NULL;
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
			ingest_reply_unavailable(items[i]->r, why);
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

/* A 503 for an API request: why in English, a retry advice in Vietnamese. */
static void
ingest_reply_unavailable(struct request *r, const char *why)
{
	http_reply_unavailable(r, LANG_TEXT(form_lang_api(r),
	    "Hiện chưa lưu được phiếu: vui lòng gửi lại sau ít phút, giữ "
	    "nguyên mã id để phiếu không bị lưu hai lần", why));
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

/* A short text field (id, stratum, psu) of at most INGEST_ID_MAX bytes. */
static int
ingest_text_check(const char *name, const char *text, size_t len,
    struct ingest_error *err)
{
	if (text == NULL || (strlen(text) <= INGEST_ID_MAX &&
	    strlen(text) == len))
		return 0;
	return ingest_fail(err, 422, "invalid", name, LANG_TEXT(err->lang,
	    "%s phải là một chuỗi không quá %d byte: rút ngắn giá trị rồi gửi "
	    "lại", "%s must be a string of at most %d bytes"), name,
	    INGEST_ID_MAX);
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
		    LANG_TEXT(err->lang, "%s phải là một chuỗi: gửi giá trị "
		    "trong dấu ngoặc kép", "%s must be a string"), name);
	if (ingest_text_check(name, *out, json_is_string(v) ?
	    json_string_length(v) : strlen(*out), err) != 0)
		return -1;
	if (**out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* An answer not on its item's scale. */
static int
ingest_answer_fail(const struct item *item, struct ingest_error *err)
{
	char field[160];

	snprintf(field, sizeof field, "answers.%s", item->code);
	return ingest_fail(err, 422, "invalid_answer", field,
	    LANG_TEXT(err->lang, "Câu trả lời %s không thuộc thang đo %s: gửi "
	    "một giá trị của thang đo", "%s is not a value of scale %s"),
	    item->code, item->scale->name);
}

/* One answer: ANSWER_NONE for null, else a value of the item's scale. */
static int
ingest_answer(const struct item *item, json_t *v, int *value,
    struct ingest_error *err)
{
	char field[160], *cause = NULL;
	double d;

	*value = ANSWER_NONE;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (json_string_length(v) == 0)
			return 0;
		if (response_answer_parse(item, json_string_value(v), value,
		    &cause) != 0) {
			snprintf(field, sizeof field, "answers.%s", item->code);
			ingest_fail(err, 422, "invalid_answer", field,
			    LANG_TEXT(err->lang, "Câu trả lời không hợp lệ "
			    "(%s): gửi một giá trị của thang đo", "%s"),
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
			return ingest_answer_fail(item, err);
		*value = (int)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d != floor(d) || fabs(d) > 1e6 || !scale_has(item->scale,
		    (int)d))
			return ingest_answer_fail(item, err);
		*value = (int)d;
		return 0;
	}
	return ingest_answer_fail(item, err);
}

/*
 * The unit of a response: inside the token's scope (checked first: a scoped
 * token cannot tell unknown codes apart), a well-formed code, a known unit.
 */
static int
ingest_unit_check(struct request *r, const char *unit,
    struct ingest_error *err)
{
	char *cause = NULL;

	if (!auth_scope_allows(r, unit))
		return ingest_fail(err, 403, "forbidden", "unit",
		    LANG_TEXT(err->lang, "Mã truy cập này không được gửi phiếu "
		    "cho đơn vị này: dùng mã truy cập của đơn vị hoặc sửa mã "
		    "đơn vị", "this token may not post to this unit"));
	if (response_unit_check(unit, &cause) != 0) {
		ingest_fail(err, 422, "invalid", "unit", LANG_TEXT(err->lang,
		    "Mã đơn vị không hợp lệ (%s): sửa mã rồi gửi lại", "%s"),
		    cause);
		free(cause);
		return -1;
	}
	if (cache_unit_get(r->sd->cache, unit) == NULL)
		return ingest_fail(err, 422, "unknown_unit", "unit",
		    LANG_TEXT(err->lang, "Không có đơn vị '%s': dùng mã của "
		    "một đơn vị đã đăng ký", "unknown unit '%s'"), unit);
	return 0;
}

/*
 * The one check of every response before the queue, whatever its channel:
 * the unit (scope, code, known), the text fields' lengths, the answers on
 * their scales, then the rules of common/response.c (response_validate), the
 * same a CSV row of an upload or an import passes. channel_ids: the response
 * comes from a channel that may use its own id prefixes (form, kiosk, SMS).
 */
static int
ingest_check(struct request *r, const struct survey *s,
    const struct response *rs, int channel_ids, struct ingest_error *err)
{
	struct response_rules rules;
	char *field = NULL, *cause = NULL;
	int i, rv = 0;

	if (rs->unit == NULL)
		return ingest_fail(err, 422, "missing", "unit",
		    LANG_TEXT(err->lang, "Thiếu mã đơn vị (unit): thêm mã đơn "
		    "vị rồi gửi lại", "unit (a unit code) is required"));
	if (ingest_unit_check(r, rs->unit, err) != 0)
		return -1;
	if (ingest_text_check("id", rs->id, rs->id != NULL ? strlen(rs->id) :
	    0, err) != 0 || ingest_text_check("stratum", rs->stratum,
	    rs->stratum != NULL ? strlen(rs->stratum) : 0, err) != 0 ||
	    ingest_text_check("psu", rs->psu, rs->psu != NULL ?
	    strlen(rs->psu) : 0, err) != 0)
		return -1;
	if (!isfinite(rs->weight) || rs->weight <= 0)
		return ingest_fail(err, 422, "invalid_weight", "weight",
		    LANG_TEXT(err->lang, "Trọng số (weight) phải là một số lớn "
		    "hơn 0: sửa giá trị rồi gửi lại",
		    "weight must be a number greater than 0"));
	for (i = 0; i < s->nitems && i < rs->nanswers; i++) {
		if (rs->answers[i] != ANSWER_NONE &&
		    !scale_has(s->items[i].scale, rs->answers[i]))
			return ingest_answer_fail(&s->items[i], err);
	}
	response_rules_default(&rules);
	rules.weight_max = r->sd->config->weight_max;
	rules.channel_ids = channel_ids;
	if (response_validate(rs, &rules, &field, &cause) != 0)
		rv = ingest_fail(err, 422, "invalid", field,
		    LANG_TEXT(err->lang, "Phiếu không hợp lệ ở trường %s (%s): "
		    "sửa giá trị rồi gửi lại", "%.0s%s"), field, cause);
	free(field);
	free(cause);
	return rv;
}

/* The API's respondent object into rs: strings, numbers, booleans, null. */
static int
ingest_json_respondent(json_t *resp, struct response *rs,
    struct ingest_error *err)
{
	const char *key;
	json_t *v;
	char f[160], *text;

	if (!json_is_object(resp))
		return ingest_fail(err, 422, "invalid", "respondent",
		    LANG_TEXT(err->lang, "respondent phải là một đối tượng "
		    "JSON: gửi {\"trường\": \"giá trị\", ...}",
		    "respondent must be an object"));
	json_object_foreach(resp, key, v) {
		snprintf(f, sizeof f, "respondent.%s", key);
		if (json_is_object(v) || json_is_array(v) ||
		    (json_is_string(v) && strlen(json_string_value(v)) !=
		    json_string_length(v)))
			return ingest_fail(err, 422, "invalid", f,
			    LANG_TEXT(err->lang, "respondent.%s phải là một "
			    "giá trị đơn (chuỗi, số, true, false hoặc null): "
			    "sửa giá trị rồi gửi lại", "respondent.%s must be "
			    "a plain value"), key);
		if (json_is_string(v))
			response_respondent_add(rs, key, json_string_value(v));
		else {
			text = json_dumps(v, JSON_ENCODE_ANY);
			response_respondent_add_json(rs, key, text);
			free(text);
		}
	}
	rs->resp_object = 1;
	return 0;
}

/*
 * The common body read without Jansson (ingest_json_fast): a cursor over
 * the text, and what it found of each field.
 */
struct ingest_fast {
	const char *p, *end;
};

/* A field's value: a string without escapes, null, or absent. */
struct ingest_fast_value {
	const char *s;	/* the string's bytes; NULL for null or absent */
	size_t len;
	int given;	/* 1: the field was in the body */
};

/* One member of answers: an item code and an integer or null. */
struct ingest_fast_answer {
	const char *key;
	size_t klen;
	int null;
	long value;
};

#define INGEST_FAST_ANSWERS 256	/* more members: Jansson reads the body */
#define INGEST_FAST_ITEMS 1024	/* surveys of more items: the same */

/* Skip JSON whitespace. */
static void
ingest_fast_ws(struct ingest_fast *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' ||
	    *f->p == '\r' || *f->p == '\t'))
		f->p++;
}

/*
 * A string at the cursor, of printable ASCII only: no escape, no control
 * character, no byte of a multibyte character (those are Jansson's to
 * read). 0 with its bytes, -1 for anything else.
 */
static int
ingest_fast_string(struct ingest_fast *f, const char **s, size_t *len)
{
	const char *q;

	if (f->p >= f->end || *f->p != '"')
		return -1;
	for (q = f->p + 1; q < f->end && *q != '"'; q++) {
		if (*q == '\\' || (unsigned char)*q < 0x20 ||
		    (unsigned char)*q >= 0x80)
			return -1;
	}
	if (q >= f->end)
		return -1;
	*s = f->p + 1;
	*len = (size_t)(q - *s);
	f->p = q + 1;
	return 0;
}

/* The literal null at the cursor, followed by a delimiter: 0, else -1. */
static int
ingest_fast_null(struct ingest_fast *f)
{
	if (f->end - f->p < 4 || memcmp(f->p, "null", 4) != 0)
		return -1;
	f->p += 4;
	if (f->p < f->end && isalnum((unsigned char)*f->p))
		return -1;
	return 0;
}

/*
 * An integer at the cursor as JSON writes one (an optional minus, no
 * leading zero, no fraction or exponent) of at most 9 digits: 0, else -1.
 */
static int
ingest_fast_integer(struct ingest_fast *f, long *v)
{
	const char *q = f->p;
	int neg = 0, n = 0;
	long x = 0;

	if (q < f->end && *q == '-') {
		neg = 1;
		q++;
	}
	while (q < f->end && *q >= '0' && *q <= '9') {
		if (++n > 9 || (n == 2 && x == 0))
			return -1;
		x = x * 10 + (*q - '0');
		q++;
	}
	if (n == 0 || (q < f->end && (*q == '.' || *q == 'e' || *q == 'E' ||
	    isalpha((unsigned char)*q))))
		return -1;
	*v = neg ? -x : x;
	f->p = q;
	return 0;
}

/* A string or null into v, once per field: 0, else -1. */
static int
ingest_fast_text(struct ingest_fast *f, struct ingest_fast_value *v)
{
	if (v->given)
		return -1;	/* a duplicate: Jansson's error to give */
	v->given = 1;
	if (f->p < f->end && *f->p == 'n')
		return ingest_fast_null(f);
	return ingest_fast_string(f, &v->s, &v->len);
}

/* The answers object at the cursor into a (at most INGEST_FAST_ANSWERS). */
static int
ingest_fast_answers(struct ingest_fast *f, struct ingest_fast_answer *a,
    int *na)
{
	struct ingest_fast_answer *m;

	if (f->p >= f->end || *f->p++ != '{')
		return -1;
	ingest_fast_ws(f);
	if (f->p < f->end && *f->p == '}') {
		f->p++;
		return 0;
	}
	for (;;) {
		if (*na == INGEST_FAST_ANSWERS)
			return -1;
		m = &a[(*na)++];
		if (ingest_fast_string(f, &m->key, &m->klen) != 0)
			return -1;
		ingest_fast_ws(f);
		if (f->p >= f->end || *f->p++ != ':')
			return -1;
		ingest_fast_ws(f);
		m->null = f->p < f->end && *f->p == 'n';
		if (m->null ? ingest_fast_null(f) != 0 :
		    ingest_fast_integer(f, &m->value) != 0)
			return -1;
		ingest_fast_ws(f);
		if (f->p >= f->end)
			return -1;
		if (*f->p == '}') {
			f->p++;
			return 0;
		}
		if (*f->p++ != ',')
			return -1;
		ingest_fast_ws(f);
	}
}

/* v's string NUL-terminated into buf of size n: 0, or -1 if it is longer. */
static int
ingest_fast_copy(const struct ingest_fast_value *v, char *buf, size_t n)
{
	if (v->len >= n)
		return -1;
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
	return 0;
}

/* An optional short text field (id, stratum, psu), as ingest_text_field. */
static int
ingest_fast_field(const struct ingest_fast_value *v, char **out)
{
	*out = NULL;
	if (v->s == NULL || v->len == 0)
		return 0;
	if (v->len > INGEST_ID_MAX)
		return -1;
	*out = xstrndup(v->s, v->len);
	return 0;
}

/*
 * The body most clients send, read without building Jansson's tree: an
 * object of the known fields whose values are strings of printable ASCII
 * or null (weight and respondent only null), and answers, an object of item
 * codes whose values are integers or null. Returns 1 with *sp and *rp when
 * the body is of that form and passes every check of the Jansson path
 * below (ingest_json_tree), *rp then being the response that path makes
 * of it; 0 for anything else, err untouched: the caller then reads the
 * body with Jansson, which names the error if there is one. The fuzzing
 * target fuzz_json_response checks that both paths agree.
 */
static int
ingest_json_fast(struct request *r, const char *text, size_t len,
    const struct survey **sp, struct response **rp)
{
	static const char *const fields[] = { "id", "survey", "unit",
		"channel", "submitted_at", "stratum", "psu", "weight",
		"respondent", NULL };
	enum { F_ID, F_SURVEY, F_UNIT, F_CHANNEL, F_TIME, F_STRATUM, F_PSU,
		F_WEIGHT, F_RESPONDENT, F_N };
	struct ingest_fast f = { text, text + len };
	struct ingest_fast_value v[F_N];
	struct ingest_fast_answer a[INGEST_FAST_ANSWERS];
	uint64_t seen[INGEST_FAST_ITEMS / 64];
	const struct survey *s;
	struct response *rs = NULL;
	const char *key;
	char buf[160], *cause = NULL;
	size_t klen;
	int na = 0, answers = 0, i, idx, next, k, ch;

	memset(v, 0, sizeof v);
	ingest_fast_ws(&f);
	if (f.p >= f.end || *f.p++ != '{')
		return 0;
	ingest_fast_ws(&f);
	for (;;) {
		if (ingest_fast_string(&f, &key, &klen) != 0)
			return 0;
		ingest_fast_ws(&f);
		if (f.p >= f.end || *f.p++ != ':')
			return 0;
		ingest_fast_ws(&f);
		if (klen == 7 && memcmp(key, "answers", 7) == 0) {
			if (answers++ || ingest_fast_answers(&f, a, &na) != 0)
				return 0;
		} else {
			for (k = 0; fields[k] != NULL; k++) {
				if (strlen(fields[k]) == klen &&
				    memcmp(fields[k], key, klen) == 0)
					break;
			}
			if (fields[k] == NULL ||
			    ingest_fast_text(&f, &v[k]) != 0)
				return 0;
		}
		ingest_fast_ws(&f);
		if (f.p >= f.end)
			return 0;
		if (*f.p == '}')
			break;
		if (*f.p++ != ',')
			return 0;
		ingest_fast_ws(&f);
	}
	f.p++;
	ingest_fast_ws(&f);
	if (f.p != f.end || !answers || v[F_WEIGHT].s != NULL ||
	    v[F_RESPONDENT].s != NULL)
		return 0;

	/* The checks of ingest_json_tree, in its order. */
	if (v[F_SURVEY].s == NULL || ingest_fast_copy(&v[F_SURVEY], buf,
	    sizeof buf) != 0 || (s = cache_survey_get(r->sd->cache, buf)) ==
	    NULL || s->nitems > INGEST_FAST_ITEMS)
		return 0;
	rs = response_create(s);
	if (v[F_UNIT].s == NULL ||
	    ingest_fast_copy(&v[F_UNIT], buf, sizeof buf) != 0 ||
	    !auth_scope_allows(r, buf))
		goto decline;
	if (response_unit_check(buf, &cause) != 0) {
		free(cause);
		goto decline;
	}
	if (cache_unit_get(r->sd->cache, buf) == NULL)
		goto decline;
	rs->unit = xstrdup(buf);
	if (ingest_fast_field(&v[F_ID], &rs->id) != 0 ||
	    ingest_fast_field(&v[F_STRATUM], &rs->stratum) != 0 ||
	    ingest_fast_field(&v[F_PSU], &rs->psu) != 0)
		goto decline;
	ch = CHANNEL_WEB;
	if (v[F_CHANNEL].s != NULL && (ingest_fast_copy(&v[F_CHANNEL], buf,
	    sizeof buf) != 0 || (ch = channel_parse(buf)) < 0))
		goto decline;
	rs->channel = ch;
	if (v[F_TIME].s != NULL) {
		if (ingest_fast_copy(&v[F_TIME], buf, sizeof buf) != 0)
			goto decline;
		if (time_parse_iso8601(buf, &rs->submitted_at,
		    &rs->tz_minutes, &cause) != 0) {
			free(cause);
			goto decline;
		}
		rs->has_time = 1;
	}
	memset(seen, 0, sizeof seen);
	next = 0;
	for (i = 0; i < na; i++) {
		if (next < s->nitems && strncmp(s->items[next].code, a[i].key,
		    a[i].klen) == 0 && s->items[next].code[a[i].klen] == '\0')
			idx = next;
		else if (a[i].klen >= sizeof buf)
			goto decline;
		else {
			memcpy(buf, a[i].key, a[i].klen);
			buf[a[i].klen] = '\0';
			if ((idx = survey_item_find(s, buf)) < 0)
				goto decline;
		}
		if (seen[idx / 64] & (UINT64_C(1) << (idx % 64)))
			goto decline;	/* a duplicate */
		seen[idx / 64] |= UINT64_C(1) << (idx % 64);
		if (!a[i].null) {
			if (a[i].value < -1000000 || a[i].value > 1000000 ||
			    !scale_has(s->items[idx].scale, (int)a[i].value))
				goto decline;
			rs->answers[idx] = (int)a[i].value;
		}
		next = idx + 1;
	}
	*sp = s;
	*rp = rs;
	return 1;
decline:
	response_free(rs);
	return 0;
}

/*
 * The JSON API's body into a response of *sp (owned by the caller): the
 * types and formats of its fields, in the order a client is told about
 * them. The checks every channel passes (ingest_check) come after. Any
 * body ingest_json_fast does not take is read with Jansson here.
 */
static int
ingest_json_tree(struct request *r, const char *text, size_t len,
    const struct survey **sp, struct response **rp, struct ingest_error *err)
{
	static const char *const known[] = { "id", "survey", "unit", "channel",
		"submitted_at", "answers", "respondent", "weight", "stratum",
		"psu", NULL };
	const struct survey *s;
	struct response *rs = NULL;
	const char *key, *const *k;
	json_t *body, *v, *answers;
	json_error_t jerr;
	char *cause = NULL;
	int value, idx, next, ch, rv = -1;

	*rp = NULL;
	body = util_json_loadb_scratch(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL)
		return ingest_fail(err, 400, "malformed_json", NULL,
		    LANG_TEXT(err->lang, "JSON không đúng cú pháp ở dòng %d, "
		    "cột %d (%s): sửa nội dung rồi gửi lại",
		    "malformed JSON at line %d, column %d: %s"), jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(body)) {
		ingest_fail(err, 400, "malformed_json", NULL,
		    LANG_TEXT(err->lang, "Nội dung phải là một đối tượng JSON "
		    "{...}: gửi một phiếu mỗi lần",
		    "the body must be a JSON object"));
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
			    LANG_TEXT(err->lang, "Không có trường '%s': bỏ "
			    "trường này hoặc sửa tên trường",
			    "unknown field '%s'"), cause);
			free(cause);
			goto out;
		}
	}

	v = json_object_get(body, "survey");
	if (!json_is_string(v)) {
		ingest_fail(err, 422, v == NULL ? "missing" : "invalid",
		    "survey", LANG_TEXT(err->lang, "Cần mã khảo sát (survey): "
		    "thêm trường survey là một chuỗi",
		    "survey (a survey code) is required"));
		goto out;
	}
	if ((s = cache_survey_get(r->sd->cache, json_string_value(v))) ==
	    NULL) {
		cause = response_quote_dup(json_string_value(v));
		ingest_fail(err, 422, "unknown_survey", "survey",
		    LANG_TEXT(err->lang, "Không có khảo sát '%s': dùng mã của "
		    "một khảo sát đã đăng ký", "unknown survey '%s'"), cause);
		free(cause);
		goto out;
	}
	rs = response_create(s);

	v = json_object_get(body, "unit");
	if (!json_is_string(v)) {
		ingest_fail(err, 422, v == NULL ? "missing" : "invalid", "unit",
		    LANG_TEXT(err->lang, "Cần mã đơn vị (unit): thêm trường "
		    "unit là một chuỗi", "unit (a unit code) is required"));
		goto out;
	}
	if (ingest_unit_check(r, json_string_value(v), err) != 0)
		goto out;
	rs->unit = xstrdup(json_string_value(v));

	if (ingest_text_field(body, "id", &rs->id, err) != 0 ||
	    ingest_text_field(body, "stratum", &rs->stratum, err) != 0 ||
	    ingest_text_field(body, "psu", &rs->psu, err) != 0)
		goto out;

	v = json_object_get(body, "channel");
	if (v == NULL || json_is_null(v))
		ch = CHANNEL_WEB;
	else if (!json_is_string(v) ||
	    (ch = channel_parse(json_string_value(v))) < 0) {
		ingest_fail(err, 422, "invalid", "channel",
		    LANG_TEXT(err->lang, "Kênh (channel) phải là paper, web, "
		    "sms hoặc kiosk: sửa giá trị rồi gửi lại",
		    "channel must be paper, web, sms or kiosk"));
		goto out;
	}
	rs->channel = ch;

	v = json_object_get(body, "submitted_at");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    time_parse_iso8601(json_string_value(v), &rs->submitted_at,
		    &rs->tz_minutes, &cause) != 0) {
			ingest_fail(err, 422, "invalid_time", "submitted_at",
			    LANG_TEXT(err->lang, "submitted_at không phải thời "
			    "điểm ISO 8601 (%s): gửi dạng 2025-04-23T13:59:00"
			    "+07:00", "submitted_at: %s"), cause != NULL ?
			    cause : "not an ISO 8601 date or time");
			free(cause);
			goto out;
		}
		rs->has_time = 1;
	}

	v = json_object_get(body, "weight");
	if (v != NULL && !json_is_null(v)) {
		if (json_is_number(v))
			rs->weight = json_number_value(v);
		else if (!json_is_string(v) ||
		    response_weight_parse(json_string_value(v), &rs->weight,
		    &cause) != 0)
			rs->weight = NAN;
		free(cause);
		cause = NULL;
		if (!isfinite(rs->weight) || rs->weight <= 0) {
			ingest_fail(err, 422, "invalid_weight", "weight",
			    LANG_TEXT(err->lang, "Trọng số (weight) phải là "
			    "một số lớn hơn 0: sửa giá trị rồi gửi lại",
			    "weight must be a number greater than 0"));
			goto out;
		}
	}

	v = json_object_get(body, "respondent");
	if (v != NULL && !json_is_null(v) &&
	    ingest_json_respondent(v, rs, err) != 0)
		goto out;

	answers = json_object_get(body, "answers");
	if (!json_is_object(answers)) {
		ingest_fail(err, 422, answers == NULL ? "missing" : "invalid",
		    "answers", LANG_TEXT(err->lang, "answers phải là một đối "
		    "tượng {\"mã câu hỏi\": giá trị, ...}: thêm các câu trả "
		    "lời",
		    "answers must be an object of item codes"));
		goto out;
	}
	/* Answers usually come in the survey's order: the item after the
	 * previous one is tried before the search. */
	next = 0;
	json_object_foreach(answers, key, v) {
		char f[160];

		if (next < s->nitems && strcmp(s->items[next].code, key) == 0)
			idx = next;
		else
			idx = survey_item_find(s, key);
		if (idx < 0) {
			cause = response_quote_dup(key);
			snprintf(f, sizeof f, "answers.%s", cause);
			ingest_fail(err, 422, "unknown_item", f,
			    LANG_TEXT(err->lang, "Khảo sát %s không có câu hỏi "
			    "'%s': sửa mã câu hỏi theo phiếu",
			    "survey %s has no item '%s'"), s->code, cause);
			free(cause);
			goto out;
		}
		if (ingest_answer(&s->items[idx], v, &value, err) != 0)
			goto out;
		rs->answers[idx] = value;
		next = idx + 1;
	}
	*sp = s;
	*rp = rs;
	rs = NULL;
	rv = 0;
out:
	response_free(rs);
	json_decref(body);
	return rv;
}

/* The JSON API's body into a response: the common form without Jansson. */
static int
ingest_json_parse(struct request *r, const char *text, size_t len,
    const struct survey **sp, struct response **rp, struct ingest_error *err)
{
	if (ingest_json_fast(r, text, len, sp, rp))
		return 0;
	return ingest_json_tree(r, text, len, sp, rp, err);
}

/*
 * A checked response into a queue item (which owns it from now on): what is
 * stored is produced here, once, from the response.
 */
static struct ingest_item *
ingest_item_create(struct request *r, const struct survey *s,
    struct response *rs)
{
	struct ingest_item *it = xcalloc(1, sizeof *it);

	it->r = r;
	it->resp = rs;
	it->s = s;
	/* The snapshot s is of, if it is the current one: the folder may then
	 * fold the response from memory once stored (aggregator_keep). */
	if (r->sd->cache != NULL &&
	    cache_survey_get(r->sd->cache, s->code) == s)
		it->cache = cache_ref(r->sd->cache);
	it->survey = xstrdup(s->code);
	response_store_texts(rs, s, &it->answers, &it->respondent, it->hash);
	it->row.survey = it->survey;
	it->row.unit = rs->unit;
	it->row.source_id = rs->id;
	it->row.submitted_at = rs->has_time ? rs->submitted_at :
	    (int64_t)time(NULL);
	it->row.channel = channel_name(rs->channel);
	it->row.weight = rs->weight;
	it->row.stratum = rs->stratum;
	it->row.psu = rs->psu;
	it->row.answers = it->answers;
	it->row.respondent = it->respondent;
	it->row.hash = it->hash;
	return it;
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

/*
 * {"id": ..., "status": what, "stored_id": N}, byte for byte what
 * json_dumps (JSON_COMPACT) writes of that object, without building it.
 */
static void
ingest_reply_stored(struct ingest_item *it, int status, const char *what)
{
	struct textbuf t;

	memset(&t, 0, sizeof t);
	textbuf_puts(&t, "{\"id\":");
	if (it->resp->id != NULL)
		textbuf_json_string(&t, it->resp->id);
	else
		textbuf_puts(&t, "null");
	textbuf_puts(&t, ",\"status\":\"");
	textbuf_puts(&t, what);
	textbuf_puts(&t, "\",\"stored_id\":");
	textbuf_int(&t, it->row.id);
	textbuf_addc(&t, '}');
	http_reply(it->r, status, "application/json", t.buf, t.len);
	textbuf_free(&t);
}

/* Answer one committed item. */
static void
ingest_item_reply(struct ingest_item *it)
{
	struct request *r = it->r;
	struct timeval now;

	gettimeofday(&now, NULL);
	metrics_ingest_latency((double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_usec - r->start.tv_usec) / 1e6);

	if (ingest_item_done(it, it->row.outcome == STORE_INSERTED ? 201 :
	    it->row.outcome == STORE_DUPLICATE ? 200 : 409,
	    it->row.outcome == STORE_CONFLICT ? "id" : NULL, "committed"))
		return;
	switch (it->row.outcome) {
	case STORE_INSERTED:
		ingest_reply_stored(it, 201, "stored");
		break;
	case STORE_DUPLICATE:
		ingest_reply_stored(it, 200, "already_stored");
		break;
	case STORE_CONFLICT:
		http_reply_error(r, 409, "conflict", "id",
		    LANG_TEXT(form_lang_api(r), "Khảo sát %2$s đã có một phiếu "
		    "khác mang mã '%1$s': đổi mã id của phiếu này hoặc không "
		    "gửi lại", "another response with id '%1$s' is already "
		    "stored for survey %2$s"), it->resp->id, it->survey);
		break;
	default:
		ASSERT(0);
	}
}

/* The batch committed or failed. */
static void
ingest_batch_done(int ok, const char *sqlstate, const char *message,
    void *arg)
{
	struct ingest *ing = arg;
	struct ingest_item **batch = ing->batch, *it;
	int i, n = 0;

	/* Items answered at the drain deadline (ingest_abandon) are done. */
	for (i = 0; i < ing->nbatch; i++) {
		if (batch[i]->r == NULL)
			ingest_item_free(batch[i]);
		else
			batch[n++] = batch[i];
	}
	/*
	 * The connection is free. After a COMMIT, what was queued meanwhile
	 * goes now, before this batch is answered, so that the server works
	 * on the next batch while sipasd writes the replies: the batch's items
	 * move to the spare array and the next batch fills the other (its
	 * callback never runs inside store_batch_insert: db.c calls it from
	 * the event loop).
	 */
	ing->batch = ing->spare;
	ing->spare = batch;
	ing->nbatch = 0;
	if (ok && n > 0 && ing->sd->config->batch_delay_ms == 0)
		ingest_flush(-1, 0, ing);
	if (n == 0)
		; /* every item was answered at the drain deadline */
	else if (ok) {
		log_debug("batch of %d committed", n);
		for (i = 0; i < n; i++) {
			it = batch[i];
			ingest_item_reply(it);
			/* A new row: the folder may have the response. */
			if (it->row.outcome == STORE_INSERTED &&
			    aggregator_keep(ing->sd->aggregator, it->row.id,
			    it->resp, it->s, it->cache, it->row.submitted_at))
				it->resp = NULL;
			ingest_item_free(it);
		}
	} else if (db_sqlstate_is_connection(sqlstate)) {
		log_warn("batch of %d not stored (%s): %s", n,
		    sqlstate != NULL ? sqlstate : "?", message);
		ingest_unavailable(ing, batch, n,
		    "the response could not be stored now");
		for (i = 0; i < n; i++)
			ingest_item_free(batch[i]);
	} else if (sqlstate != NULL && strncmp(sqlstate, "40", 2) == 0) {
		log_warn("batch of %d not stored (%s): %s", n, sqlstate,
		    message);
		for (i = 0; i < n; i++) {
			if (!ingest_item_done(batch[i], 503, NULL,
			    "the response could not be stored now"))
				ingest_reply_unavailable(batch[i]->r,
				    "the response could not be stored now");
			ingest_item_free(batch[i]);
		}
	} else if (n > 1) {
		/* One bad row spoils a transaction: retry them one by one. */
		log_warn("batch of %d failed (%s), retrying one by one: %s", n,
		    sqlstate != NULL ? sqlstate : "?", message);
		for (i = n - 1; i >= 0; i--) {
			it = batch[i];
			it->solo = 1;
			TAILQ_INSERT_HEAD(&ing->queue, it, entry);
			ing->nqueued++;
		}
	} else {
		it = batch[0];
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
			    LANG_TEXT(form_lang_api(it->r), "Cơ sở dữ liệu từ "
			    "chối phiếu (SQLSTATE %.5s): kiểm tra các giá trị "
			    "rồi gửi lại", "the database rejected the response "
			    "(SQLSTATE %.5s)"), sqlstate);
		else
			http_reply_error(it->r, 500, "internal", NULL,
			    LANG_TEXT(form_lang_api(it->r), "Không lưu được "
			    "phiếu (SQLSTATE %s): gửi lại sau, giữ nguyên mã "
			    "id",
			    "the response could not be stored (SQLSTATE %s)"),
			    sqlstate != NULL ? sqlstate : "?");
		ingest_item_free(it);
	}
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
	const struct survey *s = NULL;
	struct response *rs = NULL;
	struct ingest_item *it;
	struct ingest_error err;
	size_t len = evbuffer_get_length(in);
	const char *body, *lang = form_lang_api(r);

	if ((long)len > sd->config->max_body) {
		http_reply_error(r, 413, "too_large", NULL, LANG_TEXT(lang,
		    "Nội dung lớn hơn %ld byte: gửi từng phiếu một, hoặc tải "
		    "nhiều phiếu lên bằng /api/v1/uploads",
		    "the body is larger than %ld bytes"), sd->config->max_body);
		return;
	}
	/* Without the database, only the spool can take it (once validated). */
	if (!sipasd_ready(sd) && (sd->spool == NULL || sd->cache == NULL)) {
		ingest_reply_unavailable(r, "the database is not available");
		return;
	}
	if (ing->nqueued >= sd->config->queue_max) {
		metrics_limit(METRICS_LIMIT_QUEUE);
		ingest_reply_unavailable(r, "too many responses are waiting");
		return;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	memset(&err, 0, sizeof err);
	err.lang = lang;
	if (ingest_json_parse(r, body != NULL ? body : "", len, &s, &rs,
	    &err) != 0 || ingest_check(r, s, rs, 0, &err) != 0) {
		response_free(rs);
		http_reply_error(r, err.status, err.code, err.field[0] != '\0' ?
		    err.field : NULL, "%s", err.message);
		return;
	}
	if (sd->spool != NULL && rs->id == NULL) {
		/* A replay must be able to tell it was stored: give it an id. */
		rs->id = xmalloc(SPOOL_ID_LEN + 1);
		if (spool_id_generate(rs->id) != 0) {
			response_free(rs);
			http_reply_error(r, 500, "internal", NULL,
			    LANG_TEXT(lang, "Không tạo được mã id ngẫu nhiên: "
			    "gửi phiếu kèm mã id của mình",
			    "no random source id"));
			return;
		}
	}
	it = ingest_item_create(r, s, rs);
	/* Also while the database is away: the flush answers the whole queue
	 * then, spooling it with one fsync (ingest_fail_queued). */
	TAILQ_INSERT_TAIL(&ing->queue, it, entry);
	ing->nqueued++;
	ingest_kick(ing);
}

/* A response of another channel: see ingest.h. */
void
ingest_submit_response(struct request *r, const struct survey *s,
    struct response *rs, ingest_done_cb done, void *arg)
{
	struct ingest *ing = r->sd->ingest;
	struct ingest_item *it;
	struct ingest_error err;

	if (!sipasd_ready(r->sd)) {
		response_free(rs);
		done(r, 503, NULL, "the database is not available", arg);
		return;
	}
	if (ing->nqueued >= r->sd->config->queue_max) {
		response_free(rs);
		metrics_limit(METRICS_LIMIT_QUEUE);
		done(r, 503, NULL, "too many responses are waiting", arg);
		return;
	}
	memset(&err, 0, sizeof err);
	err.lang = "en";
	if (ingest_check(r, s, rs, 1, &err) != 0) {
		response_free(rs);
		done(r, err.status, err.field[0] != '\0' ? err.field : NULL,
		    err.message, arg);
		return;
	}
	it = ingest_item_create(r, s, rs);
	it->done = done;
	it->done_arg = arg;
	TAILQ_INSERT_TAIL(&ing->queue, it, entry);
	ing->nqueued++;
	ingest_kick(ing);
}
