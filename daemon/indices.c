/*
 * indices.c: GET /api/v1/indices?survey=&unit=&from=&to=[&children=1]
 * [&level=LEVEL][&confidence=0.95]: the analysis result (interfaces.md
 * section 4) over the stored responses.
 *
 * The selected unit is computed from the pooled responses of its whole
 * subtree (methodology section 2, "parent units"); with children=1 each
 * direct child too, pooled over its own subtree; with level=L each unit of
 * level L in the subtree. Days are Vietnam days (+07:00), both inclusive.
 *
 * Rows stream in from the database one by one (single-row mode) and are
 * folded into the analysis as they come: memory does not grow with rows.
 * Owns nothing between requests; must not contain SQL (store.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/cache.h"
#include "sipas/config.h"
#include "sipas/db.h"
#include "sipas/log.h"
#include "sipas/response.h"
#include "sipas/sipasd.h"
#include "sipas/store.h"
#include "sipas/strmap.h"
#include "sipas/survey.h"
#include "sipas/util.h"

struct indices_ctx {
	struct request *r;
	struct cache *cache; /* held while the rows arrive */
	const struct survey *survey;
	struct analysis *a;
	char *unit;
	int children;
	int level; /* a level was asked */
	int *answers;
	struct strmap *index; /* item code -> index + 1 */
	long rows;
	long bad_rows;
	indices_result_cb done; /* indices_compute: hand the result over */
	void *done_arg;
	unsigned long reqid;
};

/* 1 if s is a valid YYYY-MM-DD date. */
static int
indices_date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return 0;
	return 1;
}

/* One stored response: fold it into every unit it counts for. */
static void
indices_row(const struct store_fetch_row *row, void *arg)
{
	struct indices_ctx *ctx = arg;
	struct analysis_row ar;

	ctx->rows++;
	if (response_answers_decode(ctx->survey, ctx->index, row->answers,
	    strlen(row->answers), ctx->answers) != 0) {
		ctx->bad_rows++;
		return;
	}
	ar.weight = row->weight > 0 ? row->weight : 1;
	ar.stratum = row->stratum;
	ar.psu = row->psu;
	ar.answers = ctx->answers;
	analysis_add(ctx->a, ctx->unit, &ar);
	if (ctx->children && row->child != NULL)
		analysis_add(ctx->a, row->child, &ar);
	if (ctx->level && row->at_level != NULL &&
	    strcmp(row->at_level, ctx->unit) != 0 &&
	    !(ctx->children && row->child != NULL &&
	    strcmp(row->child, row->at_level) == 0))
		analysis_add(ctx->a, row->at_level, &ar);
}

/* Free the context. */
static void
indices_ctx_free(struct indices_ctx *ctx)
{
	analysis_free(ctx->a);
	cache_unref(ctx->cache);
	free(ctx->answers);
	strmap_free(ctx->index);
	free(ctx->unit);
	free(ctx);
}

/* Every row arrived: compute and answer. */
static void
indices_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct indices_ctx *ctx = arg;
	struct request *r = ctx->r;
	struct result *res;
	char *text;

	if (ctx->done != NULL) {
		if (!ok)
			log_msg(LOG_LEVEL_WARN, ctx->reqid, "fetch failed (%s): %s",
			    sqlstate != NULL ? sqlstate : "?", message);
		res = ok ? analysis_result(ctx->a) : NULL;
		ctx->done(res, sqlstate, message, ctx->done_arg);
		indices_ctx_free(ctx);
		return;
	}
	if (!ok) {
		log_msg(LOG_LEVEL_WARN, r->id, "fetch failed (%s): %s",
		    sqlstate != NULL ? sqlstate : "?", message);
		if (db_sqlstate_is_connection(sqlstate))
			http_reply_unavailable(r, "the database is not "
			    "available");
		else
			http_reply_error(r, 500, "internal", NULL,
			    "the responses could not be read (SQLSTATE %s)",
			    sqlstate != NULL ? sqlstate : "?");
		goto out;
	}
	if (ctx->bad_rows > 0)
		log_msg(LOG_LEVEL_WARN, r->id, "%ld stored rows with unreadable "
		    "answers skipped", ctx->bad_rows);
	log_msg(LOG_LEVEL_DEBUG, r->id, "%ld rows for %s", ctx->rows,
	    ctx->unit);
	res = analysis_result(ctx->a);
	text = result_to_json(res, 0);
	result_free(res);
	http_reply(r, 200, "application/json", text, strlen(text));
	free(text);
out:
	indices_ctx_free(ctx);
}

/*
 * The result of survey s for unit (pooled over its subtree) and, with
 * children, each direct child, over from..to (NULL: open); done gets the
 * result (its own) or NULL with the SQLSTATE and message. The caller checked
 * sipasd_read_ready; cache is held until done.
 */
void
indices_compute(struct sipasd *sd, unsigned long reqid, const struct survey *s,
    const char *unit, const char *from, const char *to, int children,
    double confidence, indices_result_cb done, void *arg)
{
	struct indices_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->cache = cache_ref(sd->cache);
	ctx->survey = s;
	ctx->unit = xstrdup(unit);
	ctx->children = children;
	ctx->answers = xcalloc((size_t)s->nitems + 1, sizeof *ctx->answers);
	ctx->index = response_item_index(s);
	ctx->a = analysis_create(s, confidence);
	ctx->done = done;
	ctx->done_arg = arg;
	ctx->reqid = reqid;
	store_responses_fetch(sd->rdb, s->code, unit, from, to, NULL,
	    indices_row, indices_done, ctx);
}

/* GET /api/v1/indices, after authentication. */
void
indices_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct evkeyvalq q;
	struct indices_ctx *ctx;
	const char *survey, *unit, *from, *to, *children, *level, *conf;
	const struct survey *s;
	double confidence = sd->config->confidence;
	char *end;

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL,
		    "the query string is malformed");
		return;
	}
	if (!sipasd_read_ready(sd)) {
		evhttp_clear_headers(&q);
		http_reply_unavailable(r, "the database is not available");
		return;
	}
	survey = http_query_get(&q, "survey");
	unit = http_query_get(&q, "unit");
	from = http_query_get(&q, "from");
	to = http_query_get(&q, "to");
	children = http_query_get(&q, "children");
	level = http_query_get(&q, "level");
	conf = http_query_get(&q, "confidence");
	if (survey == NULL || unit == NULL) {
		http_reply_error(r, 400, "missing_parameter", survey == NULL ?
		    "survey" : "unit", "survey and unit are required");
		goto out;
	}
	if ((s = cache_survey_get(sd->cache, survey)) == NULL) {
		http_reply_error(r, 422, "unknown_survey", "survey",
		    "unknown survey '%s'", survey);
		goto out;
	}
	if (cache_unit_get(sd->cache, unit) == NULL) {
		http_reply_error(r, 422, "unknown_unit", "unit",
		    "unknown unit '%s'", unit);
		goto out;
	}
	if (!auth_scope_allows(r, unit)) {
		http_reply_error(r, 403, "forbidden", "unit",
		    "this token may not see unit '%s'", unit);
		goto out;
	}
	if (from != NULL && !indices_date_valid(from)) {
		http_reply_error(r, 422, "invalid_date", "from",
		    "from must be a date YYYY-MM-DD");
		goto out;
	}
	if (to != NULL && !indices_date_valid(to)) {
		http_reply_error(r, 422, "invalid_date", "to",
		    "to must be a date YYYY-MM-DD");
		goto out;
	}
	if (from != NULL && to != NULL && strcmp(from, to) > 0) {
		http_reply_error(r, 422, "invalid_date", "to",
		    "to is before from");
		goto out;
	}
	if (children != NULL && strcmp(children, "0") != 0 &&
	    strcmp(children, "1") != 0) {
		http_reply_error(r, 422, "invalid", "children",
		    "children must be 0 or 1");
		goto out;
	}
	if (conf != NULL) {
		confidence = strtod(conf, &end);
		if (*end != '\0' || !(confidence >= 0.5 &&
		    confidence <= 0.999)) {
			http_reply_error(r, 422, "invalid", "confidence",
			    "confidence must be a number from 0.5 to 0.999");
			goto out;
		}
	}
	ctx = xcalloc(1, sizeof *ctx);
	ctx->r = r;
	ctx->cache = cache_ref(sd->cache);
	ctx->survey = s;
	ctx->unit = xstrdup(unit);
	ctx->children = children != NULL && strcmp(children, "1") == 0;
	ctx->level = level != NULL;
	ctx->answers = xcalloc((size_t)s->nitems + 1, sizeof *ctx->answers);
	ctx->index = response_item_index(s);
	ctx->a = analysis_create(s, confidence);
	store_responses_fetch(sd->rdb, s->code, unit, from, to, level,
	    indices_row, indices_done, ctx);
out:
	evhttp_clear_headers(&q);
}
