/*
 * indices_api.c: GET /api/v1/indices?survey=&unit=&from=&to=[&children=1]
 * [&level=LEVEL][&channel=][&respondent.FIELD=VALUE ...][&confidence=0.95]:
 * the analysis result (docs/interfaces.md, "Result JSON") over the stored
 * responses.
 *
 * The selected unit is computed from the pooled responses of its whole
 * subtree (docs/methodology.md, section 3); with children=1 each
 * direct child too, pooled over its own subtree; with level=L each unit of
 * level L in the subtree. Days are Vietnam days (+07:00), both inclusive.
 *
 * channel=NAME counts only that channel's responses; respondent.FIELD=VALUE
 * (up to 3) only the responses whose respondent object has FIELD = VALUE.
 *
 * The statistics come from the incremental aggregates (store_agg.h,
 * sql/0004_aggregates.sql): one state per unit, whole month and channel,
 * merged, plus the raw responses of the days outside whole months and those
 * not folded yet, all read in one snapshot; with a respondent filter only
 * raw rows (no state holds a subgroup). Rows stream in one by one
 * (single-row mode) and are folded as they come: memory grows with units,
 * never with rows. Owns nothing between requests; must not contain SQL.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/formdata.h"
#include "sipas/response.h"
#include "daemon/sipasd.h"
#include "daemon/request.h"
#include "daemon/present/indices_api.h"
#include "daemon/store/store.h"
#include "daemon/store/store_agg.h"
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
	struct strmap *kids;  /* children seen (values unused) */
	long rows;
	long states;
	long bad_rows;
	long bad_states; /* states that could not be read */
	long min_n;	 /* a respondent filter: withhold units below it */
	indices_result_cb done; /* indices_compute: hand the result over */
	void *done_arg;
	unsigned long reqid;
};

/*
 * The compact JSON object text (ending in '}') with member "key": value
 * (JSON text) added last. Takes text; returns the new text.
 */
static char *
indices_json_append(char *text, const char *key, const char *value)
{
	size_t len = strlen(text), more = strlen(key) + strlen(value) + 8;
	char *out;

	ASSERT(len >= 2 && text[len - 1] == '}');
	out = xmalloc(len + more);
	memcpy(out, text, len - 1);
	snprintf(out + len - 1, more, "%s\"%s\":%s}", len > 2 ? "," : "",
	    key, value);
	free(text);
	return out;
}

/*
 * Reads served by a standby say how far behind its data may be: the result
 * object gets "read_lag_seconds". Takes text.
 */
static char *
indices_json_lag(char *text, const struct sipasd *sd)
{
	size_t len = strlen(text);
	char lag[32];

	if (!(sd->rdb_up && sd->read_standby) || len < 2 ||
	    text[len - 1] != '}')
		return text;
	snprintf(lag, sizeof lag, "%.3f", sipasd_read_lag(sd));
	return indices_json_append(text, "read_lag_seconds", lag);
}

/*
 * Every unit a row or state of unit counts for: the selected, its child, its
 * level's unit. What falls under a child goes to the child alone; the
 * children are merged into the selected unit once, at the end
 * (indices_children_merge): one merge per child instead of one per state.
 */
static int
indices_targets(struct indices_ctx *ctx, const struct store_agg_row *row,
    const char *t[3])
{
	int n = 0;

	if (ctx->children && row->child != NULL) {
		t[n++] = row->child;
		if (strmap_get(ctx->kids, row->child) == NULL)
			strmap_put(ctx->kids, row->child, ctx);
	} else
		t[n++] = ctx->unit;
	if (ctx->level && row->at_level != NULL &&
	    strcmp(row->at_level, ctx->unit) != 0 &&
	    !(ctx->children && row->child != NULL &&
	    strcmp(row->child, row->at_level) == 0))
		t[n++] = row->at_level;
	return n;
}

/* One state or stored response: fold it into every unit it counts for. */
static void
indices_row(const struct store_agg_row *row, void *arg)
{
	struct indices_ctx *ctx = arg;
	struct analysis_row ar;
	const char *t[3];
	int i, n = indices_targets(ctx, row, t);

	if (row->kind == 'S') {
		ctx->states++;
		if (analysis_state_merge_units(ctx->a, t, n, row->state,
		    row->state_len) != 0)
			ctx->bad_states++;
		return;
	}
	ctx->rows++;
	if (row->answers == NULL || response_answers_decode(ctx->survey,
	    ctx->index, row->answers, strlen(row->answers), ctx->answers) != 0) {
		ctx->bad_rows++;
		return;
	}
	ar.weight = row->weight > 0 ? row->weight : 1;
	ar.stratum = row->stratum;
	ar.psu = row->psu;
	ar.answers = ctx->answers;
	for (i = 0; i < n; i++)
		analysis_add(ctx->a, t[i], &ar);
}

/* The selected unit pools its children's statistics (indices_targets). */
static void
indices_children_merge(struct indices_ctx *ctx)
{
	size_t pos = 0;
	const char *kid;
	void *v;

	while (strmap_next(ctx->kids, &pos, &kid, &v))
		analysis_merge(ctx->a, ctx->unit, ctx->a, kid);
}

/* Free the context. */
static void
indices_ctx_free(struct indices_ctx *ctx)
{
	strmap_free(ctx->kids);
	analysis_free(ctx->a);
	cache_unref(ctx->cache);
	free(ctx->answers);
	strmap_free(ctx->index);
	free(ctx->unit);
	free(ctx);
}

/* A number, or null for NAN. */
static json_t *
indices_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * With children=1, the ranking the dashboard shows: each child with at least
 * dashboard_min_n respondents against the unit's overall value, its raw
 * two-sided p-value, the p-value adjusted (Holm) over those children, and
 * its flag (docs/methodology.md section 7). Added to the result JSON text
 * (freed here); returns the new text.
 */
static char *
indices_ranking_add(struct indices_ctx *ctx, const struct result *res, char *text)
{
	const struct unit_result *pu = result_unit_find(res, ctx->unit);
	int og = ctx->survey->overall->index;
	long min_n = ctx->r->sd->config->dashboard_min_n;
	double parent = pu != NULL ? pu->groups[og].value : NAN;
	double *p = xcalloc(res->nunits + 1, sizeof *p);
	double *adj = xcalloc(res->nunits + 1, sizeof *adj);
	json_t *kids = json_array(), *rk;
	char *rk_text;
	size_t i;

	for (i = 0; i < res->nunits; i++) {
		const struct estimate *e = &res->units[i].groups[og];

		p[i] = NAN;
		if (strcmp(res->units[i].unit, ctx->unit) != 0 && e->n >= min_n)
			p[i] = stats_rank_p(e, parent);
	}
	stats_holm(p, res->nunits, adj);
	for (i = 0; i < res->nunits; i++) {
		const struct estimate *e = &res->units[i].groups[og];

		if (strcmp(res->units[i].unit, ctx->unit) == 0)
			continue;
		json_array_append_new(kids, json_pack("{s:s, s:b, s:o, s:o, s:s}",
		    "unit", res->units[i].unit, "ranked", isfinite(p[i]),
		    "p", indices_number(p[i]), "p_holm", indices_number(adj[i]),
		    "flag", stats_rank_flag_name(stats_rank_flag_p(e, parent,
		    adj[i], 0.05))));
	}
	free(p);
	free(adj);
	rk = json_pack("{s:s, s:o, s:I, s:s, s:o}", "parent", ctx->unit,
	    "parent_value", indices_number(parent), "min_n", (json_int_t)min_n,
	    "adjustment", "holm", "children", kids);
	rk_text = json_dumps(rk, JSON_PRESERVE_ORDER | JSON_COMPACT |
	    JSON_REAL_PRECISION(17));
	json_decref(rk);
	ASSERT(rk_text != NULL);
	text = indices_json_append(text, "ranking", rk_text);
	free(rk_text);
	return text;
}

/* Every row arrived: compute and answer. */
static void
indices_done(int ok, const char *sqlstate, const char *message, void *arg)
{
	struct indices_ctx *ctx = arg;
	struct request *r = ctx->r;
	struct result *res;
	char *text;
	size_t i;

	if (ok && ctx->bad_states > 0) {
		/* A state of another survey shape or machine: never guess. */
		log_msg(LOG_LEVEL_WARN, ctx->reqid, "%ld aggregate states could "
		    "not be read; run sipasctl aggregate --rebuild",
		    ctx->bad_states);
		ok = 0;
		sqlstate = "XX001";
		message = "aggregate states could not be read (sipasctl "
		    "aggregate --rebuild rebuilds them)";
	}
	if (ctx->done != NULL) {
		if (!ok)
			log_msg(LOG_LEVEL_WARN, ctx->reqid, "fetch failed (%s): %s",
			    sqlstate != NULL ? sqlstate : "?", message);
		if (ok)
			indices_children_merge(ctx);
		res = ok ? analysis_result(ctx->a) : NULL;
		ctx->done(res, sqlstate, message, ctx->done_arg);
		indices_ctx_free(ctx);
		return;
	}
	if (!ok) {
		log_msg(LOG_LEVEL_WARN, r->id, "fetch failed (%s): %s",
		    sqlstate != NULL ? sqlstate : "?", message);
		if (db_sqlstate_is_connection(sqlstate))
			http_reply_unavailable(r, LANG_TEXT(form_lang_api(r),
			    "cơ sở dữ liệu tạm thời không sẵn sàng: thử lại "
			    "sau ít phút", "the database is not available"));
		else if (ctx->bad_states > 0)
			http_reply_error(r, 500, "stale_aggregates", NULL,
			    "%s", LANG_TEXT(form_lang_api(r), "không đọc được "
			    "trạng thái tổng hợp: quản trị viên chạy sipasctl "
			    "aggregate --rebuild để dựng lại", message));
		else
			http_reply_error(r, 500, "internal", NULL,
			    LANG_TEXT(form_lang_api(r), "không đọc được các "
			    "câu trả lời (SQLSTATE %s): thử lại; nếu vẫn lỗi, "
			    "báo quản trị viên",
			    "the responses could not be read (SQLSTATE %s)"),
			    sqlstate != NULL ? sqlstate : "?");
		goto out;
	}
	if (ctx->bad_rows > 0)
		log_msg(LOG_LEVEL_WARN, r->id, "%ld stored rows with unreadable "
		    "answers skipped", ctx->bad_rows);
	log_msg(LOG_LEVEL_DEBUG, r->id, "%ld states and %ld rows for %s",
	    ctx->states, ctx->rows, ctx->unit);
	indices_children_merge(ctx);
	res = analysis_result(ctx->a);
	/* A subgroup as small as a few people is not revealed (as the dashboard). */
	for (i = 0; ctx->min_n > 0 && i < res->nunits; i++) {
		if (res->units[i].groups[ctx->survey->overall->index].n <
		    ctx->min_n)
			result_unit_withhold(ctx->survey, &res->units[i],
			    ctx->min_n);
	}
	text = result_to_json(res, 0);
	if (ctx->children && !ctx->level)
		text = indices_ranking_add(ctx, res, text);
	text = indices_json_lag(text, r->sd);
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
 * sipasd_read_ready. cache is the snapshot s belongs to (not necessarily
 * sd->cache, which a refresh may have replaced since): it is held until the
 * analysis that reads s is freed.
 */
void
indices_compute(struct sipasd *sd, unsigned long reqid, struct cache *cache,
    const struct survey *s,
    const char *unit, const char *from, const char *to, const char *channel,
    const struct store_agg_filter *filter, int children, double confidence,
    indices_result_cb done, void *arg)
{
	struct indices_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->cache = cache_ref(cache);
	ctx->survey = s;
	ctx->unit = xstrdup(unit);
	ctx->children = children;
	ctx->answers = xcalloc((size_t)s->nitems + 1, sizeof *ctx->answers);
	ctx->index = response_item_index(s);
	ctx->kids = strmap_create();
	ctx->a = analysis_create(s, confidence);
	ctx->done = done;
	ctx->done_arg = arg;
	ctx->reqid = reqid;
	store_agg_fetch(sipasd_reader(sd), s->code, unit, from, to, NULL, channel,
	    filter, indices_row, indices_done, ctx);
}

/* s is printable ASCII (safe to echo in a JSON error, which must be UTF-8). */
static int
indices_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	}
	return 1;
}

/* GET /api/v1/indices, after authentication. */
void
indices_handle(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct evkeyvalq q;
	struct evkeyval *kv;
	struct store_agg_filter filter = { 0 };
	struct indices_ctx *ctx;
	const char *survey, *unit, *from, *to, *children, *level, *conf;
	const char *channel, *why, *lang = form_lang_api(r);
	const struct survey *s;
	double confidence = sd->config->confidence;
	char *end;

	TAILQ_INIT(&q);
	if (r->query != NULL && evhttp_parse_query_str(r->query, &q) != 0) {
		http_reply_error(r, 400, "bad_query", NULL,
		    LANG_TEXT(lang, "chuỗi truy vấn sai cú pháp: mã hoá lại "
		    "các tham số (ví dụ %%20 cho dấu cách)",
		    "the query string is malformed"));
		return;
	}
	if (!sipasd_read_ready(sd)) {
		evhttp_clear_headers(&q);
		http_reply_unavailable(r, LANG_TEXT(lang, "cơ sở dữ liệu tạm "
		    "thời không sẵn sàng: thử lại sau ít phút",
		    "the database is not available"));
		return;
	}
	survey = http_query_get(&q, "survey");
	unit = http_query_get(&q, "unit");
	from = http_query_get(&q, "from");
	to = http_query_get(&q, "to");
	children = http_query_get(&q, "children");
	level = http_query_get(&q, "level");
	conf = http_query_get(&q, "confidence");
	channel = http_query_get(&q, "channel");
	if (survey == NULL || unit == NULL) {
		http_reply_error(r, 400, "missing_parameter", survey == NULL ?
		    "survey" : "unit", LANG_TEXT(lang, survey == NULL ?
		    "thiếu tham số survey: thêm ?survey=MÃ_KHẢO_SÁT&unit="
		    "MÃ_ĐƠN_VỊ" : "thiếu tham số unit: thêm &unit=MÃ_ĐƠN_VỊ",
		    "survey and unit are required"));
		goto out;
	}
	if ((s = http_check_survey_unit(r, survey, unit)) == NULL ||
	    http_check_dates(r, from, to) != 0)
		goto out;
	if (children != NULL && strcmp(children, "0") != 0 &&
	    strcmp(children, "1") != 0) {
		http_reply_error(r, 422, "invalid", "children",
		    LANG_TEXT(lang, "children không hợp lệ: ghi 0 hoặc 1",
		    "children must be 0 or 1"));
		goto out;
	}
	if (http_check_channel(r, &channel) != 0)
		goto out;
	/* respondent.FIELD=VALUE: borrowed from q until the fetch is submitted. */
	TAILQ_FOREACH(kv, &q, next) {
		if (strncmp(kv->key, "respondent.", 11) != 0)
			continue;
		if (form_respondent_check(kv->key + 11, kv->value, &why) != 0 ||
		    store_agg_filter_add(&filter, kv->key + 11, kv->value,
		    &why) != 0) {
			if (!indices_printable(kv->key))
				http_reply_error(r, 422, "invalid", "respondent",
				    LANG_TEXT(lang, "bộ lọc người trả lời không "
				    "hợp lệ (%s): chỉ dùng respondent.gender "
				    "(f, m, o) và respondent.age_band (18-24, "
				    "25-34, 35-49, 50-64, 65+), mỗi trường một "
				    "lần", "a respondent filter: %s"), why);
			else
				http_reply_error(r, 422, "invalid", kv->key,
				    LANG_TEXT(lang, "%s không hợp lệ (%s): chỉ "
				    "dùng respondent.gender (f, m, o) và "
				    "respondent.age_band (18-24, 25-34, 35-49, "
				    "50-64, 65+), mỗi trường một lần", "%s: %s"),
				    kv->key, why);
			goto out;
		}
	}
	if (conf != NULL) {
		confidence = strtod(conf, &end);
		if (*end != '\0' || !(confidence >= 0.5 &&
		    confidence <= 0.999)) {
			http_reply_error(r, 422, "invalid", "confidence",
			    LANG_TEXT(lang, "confidence không hợp lệ: ghi một "
			    "số từ 0.5 đến 0.999, ví dụ 0.95",
			    "confidence must be a number from 0.5 to 0.999"));
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
	ctx->min_n = filter.n > 0 ? sd->config->dashboard_min_n : 0;
	ctx->answers = xcalloc((size_t)s->nitems + 1, sizeof *ctx->answers);
	ctx->index = response_item_index(s);
	ctx->kids = strmap_create();
	ctx->a = analysis_create(s, confidence);
	store_agg_fetch(sipasd_reader(sd), s->code, unit, from, to, level, channel,
	    &filter, indices_row, indices_done, ctx);
out:
	evhttp_clear_headers(&q);
}
