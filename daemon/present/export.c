/*
 * export.c: GET /api/v1/export?survey=CODE[&unit=U][&from=YYYY-MM-DD]
 * [&to=YYYY-MM-DD][&channel=CH]: the stored responses as the responses CSV
 * of docs/interfaces.md ("Responses CSV"), the same bytes as sipasctl export
 * with the same filters (both write rows with common/csvout.c).
 *
 * Streamed: the reply is chunked, and memory does not grow with rows. The
 * rows come from the read connection in pages of EXPORT_PAGE_ROWS by id
 * (store_export_page; single-row mode inside a page), each page its own
 * statement, so other reads run between pages and no transaction stays
 * open. A page's rows become CSV as they arrive and go to the connection in
 * chunks of about EXPORT_CHUNK_BYTES. The next page is asked for only while
 * the connection holds less than EXPORT_HIGH_WATER unsent bytes; above it,
 * the export waits for evhttp to say the output has drained (the callback of
 * evhttp_send_reply_chunk_with_cb, run by the bufferevent's write callback
 * when its output is empty). A slow reader therefore holds at most the high
 * water mark plus one page, and a reader that stops reading is cut off by the
 * write timeout (http_timeout).
 *
 * The selection is fixed when the export starts: rows up to the highest id
 * then (store_export_head, which also lists the respondent.<field> columns).
 * Rows stored while the export runs are left out.
 *
 * Must not contain SQL (store.c) nor format CSV itself (csvout.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "sipas/csvout.h"
#include "daemon/store/db.h"
#include "daemon/present/export.h"
#include "daemon/log.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/formdata.h"
#include "daemon/request.h"
#include "daemon/store/store.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "sipas/util.h"

struct export {
	struct request *r;
	struct sipasd *sd;
	unsigned long reqid;
	struct cache *cache;	/* held: the survey lives in it */
	const struct survey *survey;
	char *unit, *from, *to, *channel;
	struct store_export_filter filter;
	char **keys;		/* respondent.<key> columns */
	size_t nkeys;
	long long last_id;	/* the selection: ids up to this one */
	long long after;	/* the last id sent */
	long page_rows;		/* rows of the page arriving */
	long rows;
	struct csvout out;	/* CSV not yet handed to the connection */
	struct evbuffer *chunk;
	struct evhttp_connection *evcon; /* its close callback is ours */
	int waiting;		/* output over the high water mark */
	int gone;		/* the client left */
	int failed;		/* the database failed in the middle */
	char token_hash[TOKEN_HASH_LEN + 1];
	int have_hash;
};

static void export_next(struct export *);

/* export_next on the next loop turn (from a callback inside evhttp). */
static void
export_resume(evutil_socket_t fd, short what, void *arg)
{
	export_next(arg);
}

/* Free everything but the request. */
static void
export_free(struct export *x)
{
	size_t i;

	for (i = 0; i < x->nkeys; i++)
		free(x->keys[i]);
	free(x->keys);
	csvout_free(&x->out);
	if (x->chunk != NULL)
		evbuffer_free(x->chunk);
	cache_unref(x->cache);
	free(x->unit);
	free(x->from);
	free(x->to);
	free(x->channel);
	free(x);
}

/* The connection closed (evhttp frees it): nothing more can be sent. */
static void
export_closed(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	x->gone = 1;
	x->evcon = NULL;
	/* Waiting for a drain that will not come: go on (to the end). */
	if (x->waiting) {
		x->waiting = 0;
		event_base_once(x->sd->base, -1, EV_TIMEOUT, export_resume, x,
		    NULL);
	}
}

/* Stop watching the connection (it outlives the export when kept alive). */
static void
export_unwatch(struct export *x)
{
	if (x->evcon != NULL)
		evhttp_connection_set_closecb(x->evcon, NULL, NULL);
	x->evcon = NULL;
}

/* The connection's output drained: if a page waits for that, ask for it. */
static void
export_drained(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	if (x->waiting) {
		x->waiting = 0;
		export_next(x);
	}
}

/* Hand the collected CSV to the connection. */
static void
export_flush(struct export *x)
{
	if (x->out.len == 0)
		return;
	if (!x->gone && evhttp_request_get_connection(x->r->req) == NULL)
		x->gone = 1;
	if (x->gone) {
		csvout_clear(&x->out);
		return;
	}
	evbuffer_add(x->chunk, x->out.data, x->out.len);
	csvout_clear(&x->out);
	evhttp_send_reply_chunk_with_cb(x->r->req, x->chunk, export_drained, x);
}

/* The audit row is written (or not): end the reply, free the export. */
static void
export_audited(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct export *x = arg;

	if (!ok)
		log_msg(LOG_LEVEL_WARN, x->reqid, "export: audit log not "
		    "written: %s", message);
	export_unwatch(x);
	if (x->failed)
		http_reply_stream_abort(x->r, 200);
	else
		http_reply_stream_end(x->r, 200);
	export_free(x);
}

/* Every row sent (or the export stopped): log, audit, end. */
static void
export_finish(struct export *x)
{
	json_t *detail;
	char *text;
	int complete = !x->gone && !x->failed;

	export_flush(x);
	log_msg(complete ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, x->reqid,
	    "export %s: %ld rows%s", x->survey->code, x->rows, x->failed ?
	    " (stopped: database failure)" : x->gone ?
	    " (stopped: the client left)" : "");
	if (!x->have_hash || !sipasd_ready(x->sd)) {
		export_audited(0, NULL, "database unavailable", x);
		return;
	}
	detail = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:I,s:b}", "survey",
	    x->survey->code, "unit", x->unit, "from", x->from, "to", x->to,
	    "channel", x->channel, "rows", (json_int_t)x->rows, "complete",
	    complete);
	text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	store_audit_append(x->sd->db, x->token_hash, "export", text,
	    export_audited, x);
	free(text);
}

/* One row of a page: to CSV, and to the connection by chunks. */
static void
export_row(const struct store_export_row *row, void *arg)
{
	struct export *x = arg;

	x->after = row->id;
	x->page_rows++;
	if (x->gone)
		return;
	x->rows++;
	csvout_responses_row(&x->out, x->survey, x->keys, x->nkeys, &row->r);
	if (x->out.len >= EXPORT_CHUNK_BYTES)
		export_flush(x);
}

/* A page arrived whole: the next one now, after a drain, or the end. */
static void
export_page_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct export *x = arg;
	struct evhttp_connection *evcon;
	size_t unsent;

	if (!ok) {
		log_msg(LOG_LEVEL_WARN, x->reqid, "export: reading the rows "
		    "failed (%s): %s", sqlstate != NULL ? sqlstate : "?",
		    message);
		x->failed = 1;
		csvout_clear(&x->out);
		export_finish(x);
		return;
	}
	if (x->gone || x->page_rows < EXPORT_PAGE_ROWS) {
		export_finish(x);
		return;
	}
	export_flush(x);
	evcon = evhttp_request_get_connection(x->r->req);
	unsent = evcon != NULL ? evbuffer_get_length(bufferevent_get_output(
	    evhttp_connection_get_bufferevent(evcon))) : 0;
	if (unsent > EXPORT_HIGH_WATER && !x->gone) {
		log_msg(LOG_LEVEL_DEBUG, x->reqid, "export: %zu bytes unsent "
		    "after %ld rows: waiting for the client to read", unsent,
		    x->rows);
		x->waiting = 1; /* export_drained or export_closed goes on */
		return;
	}
	export_next(x);
}

/* Ask for the next page (or end, when the client left). */
static void
export_next(struct export *x)
{
	if (x->gone) {
		export_finish(x);
		return;
	}
	if (!sipasd_read_ready(x->sd)) {
		export_page_done(0, "08006", "the database is not available",
		    x);
		return;
	}
	x->page_rows = 0;
	store_export_page(sipasd_reader(x->sd), &x->filter, x->last_id, x->after,
	    EXPORT_PAGE_ROWS, export_row, export_page_done, x);
}

/* The head is known: start the reply with the header row, then the pages. */
static void
export_head_done(char *const *keys, size_t nkeys, long long last_id,
    const char *sqlstate, const char *message, void *arg)
{
	struct export *x = arg;
	struct request *r = x->r;
	char *name;
	size_t i;

	if (keys == NULL) {
		log_msg(LOG_LEVEL_WARN, r->id, "export: the selection could "
		    "not be read (%s): %s", sqlstate != NULL ? sqlstate : "?",
		    message);
		if (db_sqlstate_is_connection(sqlstate))
			http_reply_unavailable(r, LANG_TEXT(form_lang_api(r),
			    "cơ sở dữ liệu tạm thời không sẵn sàng: thử lại "
			    "sau ít phút", "the database is not available"));
		else
			http_reply_error(r, 500, "internal", NULL,
			    LANG_TEXT(form_lang_api(r), "không đọc được các "
			    "câu trả lời (SQLSTATE %s): thử lại; nếu vẫn lỗi, "
			    "báo quản trị viên", "the responses could not be "
			    "read (SQLSTATE %s)"), sqlstate != NULL ? sqlstate :
			    "?");
		export_free(x);
		return;
	}
	x->keys = xcalloc(nkeys + 1, sizeof *x->keys);
	for (i = 0; i < nkeys; i++)
		x->keys[i] = xstrdup(keys[i]);
	x->nkeys = nkeys;
	x->last_id = last_id;
	xasprintf(&name, "%s.csv", x->survey->code);
	http_attachment(r, name);
	free(name);
	if (http_reply_stream_start(r, 200, "text/csv; charset=utf-8") != 0)
		x->gone = 1;
	else {
		x->evcon = evhttp_request_get_connection(r->req);
		evhttp_connection_set_closecb(x->evcon, export_closed, x);
	}
	x->chunk = evbuffer_new();
	csvout_responses_header(&x->out, x->survey, x->keys, x->nkeys);
	export_flush(x);
	export_next(x);
}

/* The query parameters export knows. */
static const char *const export_params[] = { "survey", "unit", "from", "to",
	"channel", "lang", NULL };

/* GET /api/v1/export, after authentication. */
void
export_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct evkeyvalq q;
	struct evkeyval *kv;
	const char *survey, *unit, *from, *to, *channel;
	const struct survey *s;
	const char *lang = form_lang_api(r);
	struct export *x;
	int i;

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL,
		    LANG_TEXT(lang, "chuỗi truy vấn sai cú pháp: mã hoá lại "
		    "các tham số (ví dụ %%20 cho dấu cách)",
		    "the query string is malformed"));
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		for (i = 0; export_params[i] != NULL; i++) {
			if (strcmp(kv->key, export_params[i]) == 0)
				break;
		}
		if (export_params[i] == NULL) {
			http_reply_error(r, 400, "unknown_parameter", kv->key,
			    LANG_TEXT(lang, "không có tham số '%s': chỉ dùng "
			    "survey, unit, from, to, channel, lang",
			    "unknown parameter '%s' (survey, unit, from, to, "
			    "channel)"), kv->key);
			goto out;
		}
	}
	survey = http_query_get(&q, "survey");
	unit = http_query_get(&q, "unit");
	from = http_query_get(&q, "from");
	to = http_query_get(&q, "to");
	channel = http_query_get(&q, "channel");
	if (survey == NULL) {
		http_reply_error(r, 400, "missing_parameter", "survey",
		    LANG_TEXT(lang, "thiếu tham số survey: thêm "
		    "?survey=MÃ_KHẢO_SÁT", "survey=CODE is required"));
		goto out;
	}
	if (!sipasd_read_ready(sd) || sd->cache == NULL) {
		http_reply_unavailable(r, LANG_TEXT(lang, "cơ sở dữ liệu tạm "
		    "thời không sẵn sàng: thử lại sau ít phút",
		    "the database is not available"));
		goto out;
	}
	/* A scoped token exports its own subtree unless it names a unit in it. */
	if (unit == NULL)
		unit = r->scope;
	if ((s = http_check_survey_unit(r, survey, unit)) == NULL ||
	    http_check_dates(r, from, to) != 0 ||
	    http_check_channel(r, &channel) != 0)
		goto out;

	x = xcalloc(1, sizeof *x);
	x->r = r;
	x->sd = sd;
	x->reqid = r->id;
	x->cache = cache_ref(sd->cache);
	x->survey = s;
	x->unit = unit != NULL ? xstrdup(unit) : NULL;
	x->from = from != NULL ? xstrdup(from) : NULL;
	x->to = to != NULL ? xstrdup(to) : NULL;
	x->channel = channel != NULL ? xstrdup(channel) : NULL;
	x->filter.survey = s->code;
	x->filter.unit = x->unit;
	x->filter.from = x->from;
	x->filter.to = x->to;
	x->filter.channel = x->channel;
	x->have_hash = auth_token_hash(r, x->token_hash) == 0;
	csvout_init(&x->out, "\r\n");
	log_msg(LOG_LEVEL_INFO, r->id, "export %s: unit %s, %s to %s%s%s",
	    s->code, unit != NULL ? unit : "(all)", from != NULL ? from : "-",
	    to != NULL ? to : "-", x->channel != NULL ? ", channel " : "",
	    x->channel != NULL ? x->channel : "");
	store_export_head(sipasd_reader(sd), &x->filter, export_head_done, x);
out:
	evhttp_clear_headers(&q);
}
