/*
 * dashboard.c: GET /dashboard, the leadership page (docs/dashboard.md).
 *
 * For one survey, unit, period, channel (or all channels) and respondent
 * group (respondent.FIELD=VALUE, e.g. gender and age band; or everybody): the unit's
 * overall index with its interval and n, each aspect and element, the change
 * from the previous period of equal length with its significance
 * (docs/methodology.md, section 7), the ranking of the child units flagged against
 * the parent (a table and an SVG bar chart with interval whiskers; every
 * child of the catalog is listed, also one without responses), the trend per
 * quarter with an interval band, and each item's distribution and
 * improvement priority. Everything is rendered on the server: tables plus
 * inline SVG, no script, no external asset.
 *
 * The numbers come from indices_compute, the code behind GET /api/v1/indices,
 * run one after another on the read connection: the period with its
 * children, the previous period, then each quarter of the trend. With a
 * respondent filter every fetch reads raw rows (no aggregate holds a
 * subgroup) and a unit with fewer than dashboard_min_n respondents in the
 * group shows no number. Owns the struct dash of one page until its reply;
 * must not contain SQL.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "sipas/analysis.h"
#include "daemon/store/cache.h"
#include "daemon/conf.h"
#include "daemon/present/dashboard.h"
#include "daemon/present/landing.h"
#include "daemon/sipasd.h"
#include "daemon/present/indices_api.h"
#include "daemon/store/db.h"
#include "daemon/formdata.h"
#include "daemon/html.h"
#include "daemon/log.h"
#include "sipas/report.h"
#include "sipas/report_run.h"
#include "sipas/response.h"
#include "daemon/store/store_agg.h"
#include "sipas/survey.h"
#include "sipas/token.h"
#include "sipas/util.h"

/* Quarters on the trend chart. */
#define DASH_TREND 8
/* Fetches of one page: the period, the previous period, the trend. */
#define DASH_STEPS (2 + DASH_TREND)

/*
 * The respondent fields the filter form offers, with the values the web form
 * stores (daemon/channels/form.c, docs/form.md); any other respondent.FIELD=VALUE of
 * a deep link is kept as a hidden field.
 */
static const struct dash_field {
	const char *key, *vi, *en;
	const struct form_choice *choices;
} dash_fields[] = {
	{ "gender", "Giới tính", "Gender", form_genders },
	{ "age_band", "Tuổi", "Age", form_ages },
};
#define DASH_NFIELDS (sizeof dash_fields / sizeof dash_fields[0])

/* One page being computed. */
struct dash {
	struct request *r;
	struct cache *cache; /* held until the reply */
	const struct survey *s;
	const char *lang; /* "vi" or "en" */
	const char *channel; /* channel_name(): only that channel; NULL: all */
	struct store_agg_filter filter; /* its strings are fkey, fvalue */
	char *fkey[STORE_AGG_FILTER_MAX], *fvalue[STORE_AGG_FILTER_MAX];
	char *unit;
	char from[REPORT_DAY_LEN], to[REPORT_DAY_LEN];
	char pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN];
	char tfrom[DASH_TREND][REPORT_DAY_LEN], tto[DASH_TREND][REPORT_DAY_LEN];
	char tlabel[DASH_TREND][32];
	int step;
	struct result *cur;   /* the unit and its children */
	struct result *prev;  /* the unit, the previous period */
	struct result *trend[DASH_TREND];
	double *gp_holm; /* [group]: change p-values adjusted over the groups shown */
};

/* The report language of the page. */
#define DLANG(d) (strcmp((d)->lang, "en") == 0 ? REPORT_LANG_EN : REPORT_LANG_VI)

/* Vietnamese or English. */
#define DTR(d, vi, en) (strcmp((d)->lang, "en") == 0 ? (en) : (vi))

/* A number with decimals places, a decimal comma in Vietnamese; "–" for NAN. */
static const char *
dash_num(char *buf, size_t len, const char *lang, double v, int decimals,
    int sign)
{
	return util_number_format(v, decimals, sign, strcmp(lang, "en") != 0,
	    buf, len);
}

/* A percentage for display: 87,53 % (vi) or 87.53% (en). */
static const char *
dash_pct(char *buf, size_t len, const char *lang, double v)
{
	char num[64];

	if (!isfinite(v))
		snprintf(buf, len, "–");
	else
		snprintf(buf, len, "%s%s", dash_num(num, sizeof num, lang, v, 2,
		    0), strcmp(lang, "en") == 0 ? "%" : " %");
	return buf;
}

/* Free a page's state. */
static void
dash_free(struct dash *d)
{
	int i;

	result_free(d->cur);
	result_free(d->prev);
	free(d->gp_holm);
	for (i = 0; i < DASH_TREND; i++)
		result_free(d->trend[i]);
	for (i = 0; i < STORE_AGG_FILTER_MAX; i++) {
		free(d->fkey[i]);
		free(d->fvalue[i]);
	}
	cache_unref(d->cache);
	free(d->unit);
	free(d);
}

/* The unit's own result in res, or NULL. */
static const struct unit_result *
dash_unit(const struct result *res, const char *unit)
{
	return res != NULL ? result_unit_find(res, unit) : NULL;
}

/* The overall estimate of a unit result, or NULL. */
static const struct estimate *
dash_overall(const struct dash *d, const struct unit_result *ur)
{
	return ur != NULL ? &ur->groups[d->s->overall->index] : NULL;
}

/*
 * With a respondent filter, a unit result under dashboard_min_n respondents
 * (its overall n) shows no number: a small group is not revealed.
 */
static int
dash_hidden(const struct dash *d, const struct unit_result *ur)
{
	return d->filter.n > 0 && ur != NULL && dash_overall(d, ur)->n <
	    d->r->sd->config->dashboard_min_n;
}

/* The value of respondent filter key, or NULL. */
static const char *
dash_filter_get(const struct dash *d, const char *key)
{
	int i;

	for (i = 0; i < d->filter.n; i++) {
		if (strcmp(d->filter.key[i], key) == 0)
			return d->filter.value[i];
	}
	return NULL;
}

/* The label of value of a field of the form, or the value itself. */
static const char *
dash_choice_label(const struct dash *d, const char *key, const char *value)
{
	const struct form_choice *c;
	size_t i;

	for (i = 0; i < DASH_NFIELDS; i++) {
		if (strcmp(dash_fields[i].key, key) != 0)
			continue;
		for (c = dash_fields[i].choices; c->value != NULL; c++) {
			if (strcmp(c->value, value) == 0)
				return DTR(d, c->vi, c->en);
		}
	}
	return value;
}

/* A channel's name for display. */
static const char *
dash_channel_label(const struct dash *d, const char *channel)
{
	if (channel == NULL)
		return DTR(d, "Tất cả các kênh", "All channels");
	if (strcmp(channel, "paper") == 0)
		return DTR(d, "Phiếu giấy", "Paper");
	if (strcmp(channel, "web") == 0)
		return DTR(d, "Trực tuyến (web)", "Web");
	if (strcmp(channel, "sms") == 0)
		return DTR(d, "Tin nhắn (SMS)", "SMS");
	if (strcmp(channel, "kiosk") == 0)
		return DTR(d, "Ki-ốt", "Kiosk");
	return channel;
}

/*
 * A link to the dashboard with the page's survey, period, channel,
 * respondent filter and language.
 */
static void
dash_href(struct evbuffer *b, const struct dash *d, const char *unit,
    const char *lang)
{
	char *eu = evhttp_encode_uri(unit), *es = evhttp_encode_uri(d->s->code);
	char *ev;
	int i;

	html_raw(b, "/dashboard?survey=%s&amp;unit=%s&amp;from=%s&amp;to=%s", es,
	    eu, d->from, d->to);
	if (d->channel != NULL)
		html_raw(b, "&amp;channel=%s", d->channel);
	/* Keys are [a-z0-9_]; a value is percent-encoded (safe in HTML). */
	for (i = 0; i < d->filter.n; i++) {
		ev = evhttp_encode_uri(d->filter.value[i]);
		html_raw(b, "&amp;respondent.%s=%s", d->filter.key[i], ev);
		free(ev);
	}
	if (strcmp(lang, "en") == 0)
		html_raw(b, "&amp;lang=en");
	free(eu);
	free(es);
}

/* The name of a unit, or its code. */
static const char *
dash_unit_name(const struct dash *d, const char *code)
{
	const struct cache_unit *u = cache_unit_get(d->cache, code);

	return u != NULL && u->name != NULL && *u->name != '\0' ? u->name : code;
}

/* The top of the page: head, header, breadcrumb, filters. */
static void
dash_head(struct evbuffer *b, const struct dash *d)
{
	const struct request *r = d->r;
	const struct cache_unit *u, *chain[64];
	const struct survey *const *all;
	const struct form_choice *c;
	const char *sel;
	size_t nall, i, j;
	int n = 0, k, ch, known;

	html_raw(b, "<!doctype html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>",
	    d->lang);
	html_text(b, dash_unit_name(d, d->unit));
	html_raw(b, " · %s</title>\n<link rel=\"stylesheet\" "
	    "href=\"/static/dashboard.css?v=%s\">\n</head>\n"
	    "<body class=\"dashboard\">\n<header class=\"top\">\n<p class=\"brand\">"
	    "%s</p>\n<nav class=\"tools\"><a id=\"lang\" href=\"",
	    DTR(d, "Bảng điều hành SIPAS", "SIPAS dashboard"),
	    static_version("dashboard.css"),
	    DTR(d, "Bảng điều hành SIPAS", "SIPAS dashboard"));
	dash_href(b, d, d->unit, DTR(d, "en", "vi"));
	html_raw(b, "\">%s</a> ", DTR(d, "English", "Tiếng Việt"));
	html_logout_form(b, r, d->lang);
	html_raw(b, "</nav>\n</header>\n<main>\n");

	/* The breadcrumb: from the viewer's top unit down to this one. */
	for (u = cache_unit_get(d->cache, d->unit); u != NULL && n < 64;
	    u = u->parent) {
		chain[n++] = u;
		if (r->scope != NULL && strcmp(u->code, r->scope) == 0)
			break;
	}
	html_raw(b, "<nav class=\"breadcrumb\" aria-label=\"%s\"><ol>\n",
	    DTR(d, "Vị trí", "Breadcrumb"));
	for (k = n - 1; k >= 0; k--) {
		if (k == 0) {
			html_raw(b, "<li aria-current=\"page\">");
			html_text(b, chain[k]->name);
			html_raw(b, "</li>\n");
			continue;
		}
		html_raw(b, "<li><a href=\"");
		dash_href(b, d, chain[k]->code, d->lang);
		html_raw(b, "\" data-unit=\"");
		html_text(b, chain[k]->code);
		html_raw(b, "\">");
		html_text(b, chain[k]->name);
		html_raw(b, "</a></li>\n");
	}
	html_raw(b, "</ol></nav>\n");

	/* Filters: a GET form, so that every state is a link. */
	html_raw(b, "<form class=\"filters\" method=\"get\" action=\"/dashboard\">"
	    "\n<input type=\"hidden\" name=\"unit\" value=\"");
	html_text(b, d->unit);
	html_raw(b, "\">\n<input type=\"hidden\" name=\"lang\" value=\"%s\">\n"
	    "<label>%s <select name=\"survey\">\n", d->lang,
	    DTR(d, "Bộ phiếu", "Survey"));
	all = cache_surveys(d->cache, &nall);
	for (i = 0; i < nall; i++) {
		html_raw(b, "<option value=\"");
		html_text(b, all[i]->code);
		html_raw(b, "\"%s>", all[i] == d->s ? " selected" : "");
		html_text(b, all[i]->code);
		html_raw(b, "</option>\n");
	}
	html_raw(b, "</select></label>\n<label>%s <input type=\"date\" "
	    "name=\"from\" value=\"%s\"></label>\n<label>%s <input type=\"date\" "
	    "name=\"to\" value=\"%s\"></label>\n<label>%s <select "
	    "name=\"channel\">\n<option value=\"\"%s>%s</option>\n",
	    DTR(d, "Từ ngày", "From"), d->from, DTR(d, "Đến ngày", "To"), d->to,
	    DTR(d, "Kênh", "Channel"), d->channel == NULL ? " selected" : "",
	    dash_channel_label(d, NULL));
	/* Every enum channel (response.h), in its order. */
	for (ch = CHANNEL_PAPER; ch <= CHANNEL_KIOSK; ch++) {
		const char *name = channel_name(ch);

		html_raw(b, "<option value=\"%s\"%s>%s</option>\n", name,
		    d->channel != NULL && strcmp(d->channel, name) == 0 ?
		    " selected" : "", dash_channel_label(d, name));
	}
	html_raw(b, "</select></label>\n");
	/* The respondent fields: a select each (a deep link's value kept). */
	for (i = 0; i < DASH_NFIELDS; i++) {
		sel = dash_filter_get(d, dash_fields[i].key);
		html_raw(b, "<label>%s <select name=\"respondent.%s\">\n"
		    "<option value=\"\"%s>%s</option>\n",
		    DTR(d, dash_fields[i].vi, dash_fields[i].en),
		    dash_fields[i].key, sel == NULL ? " selected" : "",
		    DTR(d, "Tất cả", "All"));
		known = 0;
		for (c = dash_fields[i].choices; c->value != NULL; c++) {
			known |= sel != NULL && strcmp(sel, c->value) == 0;
			html_raw(b, "<option value=\"");
			html_text(b, c->value);
			html_raw(b, "\"%s>%s</option>\n", sel != NULL &&
			    strcmp(sel, c->value) == 0 ? " selected" : "",
			    DTR(d, c->vi, c->en));
		}
		if (sel != NULL && !known) {
			html_raw(b, "<option value=\"");
			html_text(b, sel);
			html_raw(b, "\" selected>");
			html_text(b, sel);
			html_raw(b, "</option>\n");
		}
		html_raw(b, "</select></label>\n");
	}
	/* Other fields of a deep link. */
	for (k = 0; k < d->filter.n; k++) {
		for (j = 0; j < DASH_NFIELDS; j++) {
			if (strcmp(d->filter.key[k], dash_fields[j].key) == 0)
				break;
		}
		if (j < DASH_NFIELDS)
			continue;
		html_raw(b, "<input type=\"hidden\" name=\"respondent.%s\" "
		    "value=\"", d->filter.key[k]);
		html_text(b, d->filter.value[k]);
		html_raw(b, "\">\n");
	}
	html_raw(b, "<button type=\"submit\">%s</button>\n<p class=\"note\" "
	    "id=\"respondent-note\">%s</p>\n</form>\n", DTR(d, "Xem", "Show"),
	    DTR(d, "Lọc theo giới tính hoặc tuổi đọc từng phiếu gốc, không dùng "
	    "số liệu tổng hợp sẵn, nên chậm hơn.", "A gender or age filter reads "
	    "every raw response instead of the precomputed aggregates, so it is "
	    "slower."));
}

/* Value, interval and n of an estimate as table cells. */
static void
dash_cells(struct evbuffer *b, const struct dash *d, const struct estimate *e)
{
	char v[64], lo[64], hi[64];

	if (e == NULL || !isfinite(e->value)) {
		html_raw(b, "<td class=\"value\">–</td><td class=\"ci\">–</td>"
		    "<td class=\"n\">%ld</td>", e != NULL ? e->n : 0L);
		return;
	}
	html_raw(b, "<td class=\"value\">%s</td><td class=\"ci\">%s – %s</td>"
	    "<td class=\"n\">%ld</td>", dash_pct(v, sizeof v, d->lang, e->value),
	    dash_num(lo, sizeof lo, d->lang, e->ci_low, 2, 0),
	    dash_num(hi, sizeof hi, d->lang, e->ci_high, 2, 0), e->n);
}

/* The change from a to b as a cell: difference, raw and adjusted p, significance. */
static void
dash_change_cell(struct evbuffer *b, const struct dash *d,
    const struct estimate *a, const struct estimate *e, double p_holm)
{
	struct change c;
	char diff[64], p[64], ph[64];
	int sig;

	if (a == NULL || e == NULL || stats_change(a, e, &c) != 0) {
		html_raw(b, "<td class=\"change none\">–</td>");
		return;
	}
	sig = p_holm < 0.05;
	html_raw(b, "<td class=\"change %s\">%s <span class=\"p\">(p = %s; %s %s)"
	    "</span>%s</td>", !sig ? "same" : c.diff > 0 ? "up" : "down",
	    dash_num(diff, sizeof diff, d->lang, c.diff, 2, 1),
	    dash_num(p, sizeof p, d->lang, c.p, 3, 0),
	    DTR(d, "hiệu chỉnh", "adjusted"),
	    dash_num(ph, sizeof ph, d->lang, p_holm, 3, 0),
	    sig ? DTR(d, " <strong>có ý nghĩa</strong>",
	    " <strong>significant</strong>") : "");
}

/* Holm over the changes of every group shown (overall included). */
static void
dash_changes_adjust(struct dash *d)
{
	const struct unit_result *ur = dash_unit(d->cur, d->unit);
	const struct unit_result *pr = dash_unit(d->prev, d->unit);
	int n = d->s->ngroups, i;
	double *p = xcalloc(n, sizeof *p);
	struct change c;

	d->gp_holm = xcalloc(n, sizeof *d->gp_holm);
	for (i = 0; i < n; i++) {
		p[i] = NAN;
		if (ur != NULL && pr != NULL && !dash_hidden(d, ur) &&
		    !dash_hidden(d, pr) && stats_change(&pr->groups[i],
		    &ur->groups[i], &c) == 0)
			p[i] = c.p;
	}
	stats_holm(p, n, d->gp_holm);
	free(p);
}

/* The unit's summary: overall index, interval, n, change. */
static void
dash_summary(struct evbuffer *b, const struct dash *d)
{
	const struct unit_result *ur = dash_unit(d->cur, d->unit);
	const struct unit_result *pr = dash_unit(d->prev, d->unit);
	const struct estimate *e = dash_overall(d, ur), *pe = dash_overall(d, pr);
	char v[64], lo[64], hi[64], diff[64], p[64], ph[64], conf[16];
	char per[128], *text;
	struct change c;
	double holm = d->gp_holm[d->s->ngroups - 1];
	int i, sig;

	html_raw(b, "<section class=\"summary\" id=\"summary\">\n<h1 id=\"unit\" "
	    "data-unit=\"");
	html_text(b, d->unit);
	html_raw(b, "\">");
	html_text(b, dash_unit_name(d, d->unit));
	html_raw(b, "</h1>\n<p class=\"survey\">");
	html_text(b, strcmp(d->lang, "en") == 0 && d->s->title_en != NULL ?
	    d->s->title_en : d->s->title_vi);
	html_raw(b, " · <span id=\"period\">%s</span>", util_period_text(d->from,
	    d->to, DLANG(d) == REPORT_LANG_EN, per, sizeof per));
	if (d->channel != NULL)
		html_raw(b, " · <span id=\"channel\" data-channel=\"%s\">%s: %s"
		    "</span>", d->channel, DTR(d, "kênh", "channel"),
		    dash_channel_label(d, d->channel));
	if (d->filter.n > 0) {
		html_raw(b, " · <span id=\"respondent\">%s: ",
		    DTR(d, "người trả lời", "respondents"));
		for (i = 0; i < d->filter.n; i++) {
			html_raw(b, "%s<span data-field=\"%s\">", i > 0 ? ", " : "",
			    d->filter.key[i]);
			html_text(b, dash_choice_label(d, d->filter.key[i],
			    d->filter.value[i]));
			html_raw(b, "</span>");
		}
		html_raw(b, "</span>");
	}
	html_raw(b, "</p>\n");
	snprintf(conf, sizeof conf, "%.0f", d->cur->level * 100);
	if (dash_hidden(d, pr))
		pe = NULL;
	if (dash_hidden(d, ur)) {
		html_raw(b, "<p class=\"big\" id=\"overall-value\">–</p>\n"
		    "<p class=\"note\" id=\"overall-few\">%s %ld %s "
		    "<span id=\"overall-n\">n = %ld</span></p>\n",
		    DTR(d, "Nhóm này có dưới", "Fewer than"),
		    d->r->sd->config->dashboard_min_n,
		    DTR(d, "người trả lời: không hiển thị số liệu.",
		    "respondents in this group: no numbers are shown."), e->n);
		e = NULL;
	} else if (e == NULL || !isfinite(e->value)) {
		html_raw(b, "<p class=\"big\" id=\"overall-value\">–</p>\n"
		    "<p class=\"note\" id=\"overall-n\">%s n = %ld</p>\n",
		    DTR(d, "Chưa có phiếu trong kỳ này.",
		    "No responses in this period."), e != NULL ? e->n : 0L);
	} else {
		html_raw(b, "<p class=\"big\" id=\"overall-value\">%s</p>\n"
		    "<p class=\"note\"><span id=\"overall-ci\">%s %s%s: %s – %s"
		    "</span> · <span id=\"overall-n\">n = %ld</span></p>\n",
		    dash_pct(v, sizeof v, d->lang, e->value),
		    DTR(d, "Khoảng tin cậy", "Confidence interval"), conf,
		    DTR(d, " %", "%"),
		    dash_num(lo, sizeof lo, d->lang, e->ci_low, 2, 0),
		    dash_num(hi, sizeof hi, d->lang, e->ci_high, 2, 0), e->n);
		text = report_ci_sentence(DLANG(d), d->cur->level);
		html_raw(b, "<p class=\"note\" id=\"ci-meaning\">");
		html_text(b, text);
		html_raw(b, "</p>\n");
		free(text);
	}
	if (ur != NULL && !dash_hidden(d, ur)) {
		text = report_design_text(DLANG(d), ur);
		html_raw(b, "<p class=\"note\" id=\"design\">%s: ",
		    DTR(d, "Thiết kế mẫu", "Sample design"));
		html_text(b, text);
		html_raw(b, "</p>\n");
		free(text);
	}
	html_raw(b, "<p class=\"change\" id=\"overall-change\">%s (%s): ",
	    DTR(d, "So với kỳ trước", "Against the previous period"),
	    util_period_text(d->pfrom, d->pto, DLANG(d) == REPORT_LANG_EN, per,
	    sizeof per));
	if (e == NULL || pe == NULL || stats_change(pe, e, &c) != 0)
		html_raw(b, "%s", DTR(d, "không so sánh được (thiếu số liệu)",
		    "cannot be compared (no data)"));
	else {
		sig = holm < 0.05;
		html_raw(b, "<strong class=\"%s\">%s %s</strong>, p = %s (%s %s): %s",
		    !sig ? "same" : c.diff > 0 ? "up" : "down",
		    dash_num(diff, sizeof diff, d->lang, c.diff, 2, 1),
		    DTR(d, "điểm %", "points"),
		    dash_num(p, sizeof p, d->lang, c.p, 3, 0),
		    DTR(d, "hiệu chỉnh", "adjusted"),
		    dash_num(ph, sizeof ph, d->lang, holm, 3, 0), sig ?
		    DTR(d, "thay đổi có ý nghĩa thống kê (5 %)",
		    "a significant change (5%)") :
		    DTR(d, "không có ý nghĩa thống kê", "not significant"));
	}
	html_raw(b, "</p>\n</section>\n");
}

/* One group row and its children, depth first. */
static void
dash_group_rows(struct evbuffer *b, const struct dash *d, const struct group *g,
    int depth, const struct unit_result *ur, const struct unit_result *pr)
{
	int i;

	html_raw(b, "<tr class=\"depth%d\" data-code=\"", depth);
	html_text(b, g->code);
	html_raw(b, "\"><th scope=\"row\">");
	html_text(b, strcmp(d->lang, "en") == 0 && g->title_en != NULL ?
	    g->title_en : g->title_vi);
	html_raw(b, "</th>");
	dash_cells(b, d, ur != NULL ? &ur->groups[g->index] : NULL);
	dash_change_cell(b, d, pr != NULL ? &pr->groups[g->index] : NULL,
	    ur != NULL ? &ur->groups[g->index] : NULL, d->gp_holm[g->index]);
	html_raw(b, "</tr>\n");
	for (i = 0; i < g->ngroups; i++)
		dash_group_rows(b, d, g->groups[i], depth + 1, ur, pr);
}

/* Aspects and elements. */
static void
dash_groups(struct evbuffer *b, const struct dash *d)
{
	const struct unit_result *ur = dash_unit(d->cur, d->unit);
	const struct unit_result *pr = dash_unit(d->prev, d->unit);

	if (dash_hidden(d, pr))
		pr = NULL;
	if (dash_hidden(d, ur)) {
		html_raw(b, "<section id=\"groups\">\n<h2>%s</h2>\n<p class=\"note\">"
		    "%s</p>\n</section>\n", DTR(d, "Các lĩnh vực và tiêu chí",
		    "Aspects and elements"), DTR(d, "Quá ít người trả lời.",
		    "Too few respondents."));
		return;
	}
	html_raw(b, "<section id=\"groups\">\n<h2>%s</h2>\n<div class=\"scroll\">"
	    "<table class=\"groups\">\n<thead><tr><th>%s</th><th>%s</th><th>%s"
	    "</th><th>n</th><th>%s</th></tr></thead>\n<tbody>\n",
	    DTR(d, "Các lĩnh vực và tiêu chí", "Aspects and elements"),
	    DTR(d, "Chỉ số", "Index"), DTR(d, "Giá trị", "Value"),
	    DTR(d, "Khoảng tin cậy", "Interval"),
	    DTR(d, "Thay đổi (điểm %)", "Change (points)"));
	dash_group_rows(b, d, d->s->overall, 0, ur, pr);
	html_raw(b, "</tbody></table></div>\n<p class=\"note\" id=\"groups-holm\">%s"
	    "</p>\n</section>\n", report_holm_sentence(DLANG(d)));
}

/* A child of the ranking. */
struct dash_rank {
	const char *unit;
	const struct estimate *e; /* NULL: no response in the period */
	int tier; /* 2 ranked, 1 too few respondents, 0 no response */
	enum rank_flag flag; /* on the Holm-adjusted p against the parent */
};

/* Ranked first by value (descending), then too few, then none, by code. */
static int
dash_rank_cmp(const void *pa, const void *pb)
{
	const struct dash_rank *a = pa, *b = pb;

	if (a->tier != b->tier)
		return b->tier - a->tier;
	if (a->tier == 2 && a->e->value != b->e->value)
		return a->e->value < b->e->value ? 1 : -1;
	return strcmp(a->unit, b->unit);
}

/* bsearch over the children (sorted by code) by a unit code. */
static int
dash_child_cmp(const void *key, const void *elt)
{
	const struct cache_unit *const *u = elt;

	return strcmp(key, (*u)->code);
}

/*
 * The children to rank: every direct child of the catalog (also those without
 * a response in the period) and any other unit of the result but the parent
 * (a unit added after the cache was loaded). *n gets the count.
 */
static struct dash_rank *
dash_rank_children(const struct dash *d, size_t *n)
{
	const struct cache_unit **kids;
	struct dash_rank *rk;
	long min_n = d->r->sd->config->dashboard_min_n;
	size_t nkids, i;

	kids = cache_unit_children(d->cache, d->unit, &nkids);
	rk = xcalloc(nkids + d->cur->nunits + 1, sizeof *rk);
	*n = 0;
	for (i = 0; i < nkids; i++)
		rk[(*n)++].unit = kids[i]->code;
	for (i = 0; i < d->cur->nunits; i++) {
		const char *u = d->cur->units[i].unit;

		if (strcmp(u, d->unit) != 0 && (nkids == 0 ||
		    bsearch(u, kids, nkids, sizeof *kids, dash_child_cmp) == NULL))
			rk[(*n)++].unit = u;
	}
	for (i = 0; i < *n; i++) {
		const struct estimate *e = dash_overall(d, dash_unit(d->cur,
		    rk[i].unit));

		if (e == NULL || e->n <= 0)
			rk[i].tier = 0;
		else if (e->n >= min_n && isfinite(e->value))
			rk[i].tier = 2;
		else
			rk[i].tier = 1;
		rk[i].e = rk[i].tier > 0 ? e : NULL;
	}
	free(kids);
	return rk;
}

/* The flags of the ranked children: Holm over all of them. */
static void
dash_rank_flags(struct dash_rank *rk, size_t n, double parent)
{
	double *p = xcalloc(n + 1, sizeof *p), *adj = xcalloc(n + 1, sizeof *adj);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rk[i].tier == 2 ? stats_rank_p(rk[i].e, parent) : NAN;
	stats_holm(p, n, adj);
	for (i = 0; i < n; i++)
		rk[i].flag = rk[i].tier == 2 ? stats_rank_flag_p(rk[i].e, parent,
		    adj[i], 0.05) : RANK_NONE;
	free(p);
	free(adj);
}

/*
 * The ranking of the child units: a bar chart with whiskers and a table.
 * Children without a response in the period are listed in the table (greyed,
 * n = 0) but left out of the chart.
 */
static void
dash_ranking(struct evbuffer *b, const struct dash *d)
{
	const struct unit_result *ur = dash_unit(d->cur, d->unit);
	const struct estimate *pe = dash_overall(d, ur);
	double parent = pe != NULL && !dash_hidden(d, ur) ? pe->value : NAN;
	long min_n = d->r->sd->config->dashboard_min_n;
	struct dash_rank *rk;
	size_t i, n, nbars = 0;
	int rank = 0, h, y, row;
	char v[64], lo[64], hi[64];
	const double x0 = 220, w = 400;

	rk = dash_rank_children(d, &n);
	html_raw(b, "<section id=\"ranking\">\n<h2>%s</h2>\n",
	    DTR(d, "Xếp hạng các đơn vị trực thuộc",
	    "Ranking of the units below"));
	if (n == 0) {
		html_raw(b, "<p class=\"note\">%s</p>\n</section>\n",
		    DTR(d, "Đơn vị này không có đơn vị trực thuộc.",
		    "This unit has no units below."));
		free(rk);
		return;
	}
	qsort(rk, n, sizeof *rk, dash_rank_cmp);
	dash_rank_flags(rk, n, parent);
	for (i = 0; i < n; i++) {
		if (rk[i].tier > 0)
			nbars++;
	}
	html_raw(b, "<p class=\"note\">%s %ld %s %s</p>\n",
	    DTR(d, "So với chỉ số của đơn vị cấp trên (vạch đứt). Đơn vị có dưới",
	    "Against the parent's index (dashed line). Units with fewer than"),
	    min_n, DTR(d, "người trả lời không được xếp hạng.",
	    "respondents are not ranked."), report_holm_sentence(DLANG(d)));

	/* The chart: one row per child with responses, 0-100 % over w pixels. */
	if (nbars == 0) {
		html_raw(b, "<p class=\"note\" id=\"ranking-empty\">%s</p>\n",
		    DTR(d, "Không có đơn vị trực thuộc nào có phiếu trong kỳ này.",
		    "No unit below has responses in this period."));
		goto table;
	}
	h = 30 + 26 * (int)nbars;
	html_raw(b, "<svg class=\"chart ranking\" viewBox=\"0 0 680 %d\" "
	    "role=\"img\" aria-label=\"%s\">\n", h,
	    DTR(d, "Biểu đồ xếp hạng", "Ranking chart"));
	for (i = 0; i <= 4; i++)
		html_raw(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"4\" "
		    "y2=\"%d\"/><text class=\"axis\" x=\"%.1f\" y=\"%d\">%d</text>\n",
		    x0 + w * (double)i / 4, x0 + w * (double)i / 4, h - 16,
		    x0 + w * (double)i / 4, h - 2, (int)i * 25);
	for (i = 0, row = 0; i < n; i++) {
		const struct estimate *e = rk[i].e;
		enum rank_flag f;

		if (rk[i].tier == 0)
			continue;
		f = rk[i].flag;
		y = 8 + 26 * row++;
		html_raw(b, "<a href=\"");
		dash_href(b, d, rk[i].unit, d->lang);
		html_raw(b, "\"><text class=\"label%s\" x=\"%.1f\" y=\"%d\">",
		    rk[i].tier == 2 ? "" : " few", x0 - 8, y + 14);
		html_text(b, dash_unit_name(d, rk[i].unit));
		html_raw(b, "</text></a>\n");
		if (rk[i].tier != 2) {
			html_raw(b, "<text class=\"few\" x=\"%.1f\" y=\"%d\">n = %ld"
			    "</text>\n", x0 + 4, y + 14, e->n);
			continue;
		}
		html_raw(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"18\"/>\n", stats_rank_flag_name(f),
		    x0, y, w * e->value / 100);
		if (isfinite(e->ci_low) && isfinite(e->ci_high))
			html_raw(b, "<path class=\"whisker\" d=\"M%.1f %dV%dM%.1f %dH%.1f"
			    "M%.1f %dV%d\"/>\n", x0 + w * e->ci_low / 100, y + 4,
			    y + 14, x0 + w * e->ci_low / 100, y + 9,
			    x0 + w * e->ci_high / 100, x0 + w * e->ci_high / 100,
			    y + 4, y + 14);
		html_raw(b, "<text class=\"val\" x=\"676\" y=\"%d\">%s</text>\n",
		    y + 14, dash_num(v, sizeof v, d->lang, e->value,
		    2, 0));
	}
	if (isfinite(parent))
		html_raw(b, "<line class=\"parent\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"2\" y2=\"%d\"/>\n", x0 + w * parent / 100,
		    x0 + w * parent / 100, h - 16);
	html_raw(b, "</svg>\n");

table:
	html_raw(b, "<div class=\"scroll\"><table class=\"ranking\">\n<thead><tr>"
	    "<th>#</th><th>%s</th><th>%s</th><th>%s</th><th>n</th><th>%s</th>"
	    "</tr></thead>\n<tbody>\n", DTR(d, "Đơn vị", "Unit"),
	    DTR(d, "Chỉ số", "Index"), DTR(d, "Khoảng tin cậy", "Interval"),
	    DTR(d, "So với cấp trên", "Against the parent"));
	for (i = 0; i < n; i++) {
		const struct estimate *e = rk[i].e;
		enum rank_flag f = rk[i].flag;
		const char *flag = rk[i].tier == 0 ? DTR(d, "Chưa có phiếu",
		    "No responses") : f == RANK_ABOVE ? DTR(d, "Cao hơn", "Above") :
		    f == RANK_BELOW ? DTR(d, "Thấp hơn", "Below") :
		    f == RANK_WITHIN ? DTR(d, "Tương đương", "Within") :
		    rk[i].tier == 2 ? "–" : DTR(d, "Quá ít phiếu",
		    "Too few responses");

		html_raw(b, "<tr class=\"%s\" data-unit=\"", rk[i].tier == 2 ?
		    stats_rank_flag_name(f) : rk[i].tier == 1 ? "few" :
		    "few empty");
		html_text(b, rk[i].unit);
		if (rk[i].tier == 2)
			html_raw(b, "\"><td class=\"rank\">%d</td>", ++rank);
		else
			html_raw(b, "\"><td class=\"rank\"></td>");
		html_raw(b, "<td class=\"unit\"><a href=\"");
		dash_href(b, d, rk[i].unit, d->lang);
		html_raw(b, "\">");
		html_text(b, dash_unit_name(d, rk[i].unit));
		html_raw(b, "</a></td>");
		if (rk[i].tier == 2)
			html_raw(b, "<td data-label=\"%s\" class=\"value\">%s</td>"
			    "<td data-label=\"%s\" class=\"ci\">%s – %s</td>",
			    DTR(d, "Chỉ số", "Index"),
			    dash_pct(v, sizeof v, d->lang, e->value),
			    DTR(d, "Khoảng tin cậy", "Interval"),
			    dash_num(lo, sizeof lo, d->lang, e->ci_low, 2, 0),
			    dash_num(hi, sizeof hi, d->lang, e->ci_high, 2, 0));
		else
			html_raw(b, "<td data-label=\"%s\" class=\"value\">–</td>"
			    "<td data-label=\"%s\" class=\"ci\">–</td>",
			    DTR(d, "Chỉ số", "Index"),
			    DTR(d, "Khoảng tin cậy", "Interval"));
		html_raw(b, "<td data-label=\"n\" class=\"n\">%ld</td>"
		    "<td data-label=\"%s\" class=\"flag\">%s</td></tr>\n",
		    e != NULL ? e->n : 0L, DTR(d, "So với cấp trên",
		    "Against the parent"), flag);
	}
	html_raw(b, "</tbody></table></div>\n</section>\n");
	free(rk);
}

/* The trend: the overall index per quarter with its interval band. */
static void
dash_trend(struct evbuffer *b, const struct dash *d)
{
	double x[DASH_TREND], y[DASH_TREND], se[DASH_TREND], lo = 100, hi = 0;
	double slope, slope_se, px[DASH_TREND], py[DASH_TREND];
	const struct estimate *e[DASH_TREND];
	const double left = 50, width = 600, top = 10, height = 180;
	char v[64], s1[64], s2[64];
	size_t n = 0;
	int i, k = 0;

	for (i = 0; i < DASH_TREND; i++) {
		e[i] = dash_overall(d, dash_unit(d->trend[i], d->unit));
		if (e[i] == NULL || !isfinite(e[i]->value) ||
		    dash_hidden(d, dash_unit(d->trend[i], d->unit))) {
			e[i] = NULL;
			continue;
		}
		x[n] = i;
		y[n] = e[i]->value;
		se[n] = e[i]->se;
		n++;
		if (isfinite(e[i]->ci_low) && e[i]->ci_low < lo)
			lo = e[i]->ci_low;
		if (isfinite(e[i]->ci_high) && e[i]->ci_high > hi)
			hi = e[i]->ci_high;
		if (e[i]->value < lo)
			lo = e[i]->value;
		if (e[i]->value > hi)
			hi = e[i]->value;
	}
	html_raw(b, "<section id=\"trend\">\n<h2>%s</h2>\n",
	    DTR(d, "Xu hướng theo quý", "Trend by quarter"));
	if (n == 0 && d->filter.n == 0) {
		html_raw(b, "<p class=\"note\">%s</p>\n</section>\n",
		    DTR(d, "Chưa có số liệu.", "No data yet."));
		return;
	}
	if (n == 0) {
		/* A filtered group: the quarters' n still, without numbers. */
		html_raw(b, "<p class=\"note\">%s</p>\n", DTR(d, "Không có quý "
		    "nào đủ người trả lời để hiển thị.", "No quarter has enough "
		    "respondents to be shown."));
		goto table;
	}
	lo = floor(lo / 5) * 5;
	hi = ceil(hi / 5) * 5;
	if (hi - lo < 10)
		hi = lo + 10;
	if (hi > 100)
		hi = 100;
	if (lo > hi - 10)
		lo = hi - 10;
#define TX(i) (left + width * ((double)(i) + 0.5) / DASH_TREND)
#define TY(v) (top + height * (hi - (v)) / (hi - lo))
	html_raw(b, "<svg class=\"chart trend\" viewBox=\"0 0 680 220\" "
	    "role=\"img\" aria-label=\"%s\">\n",
	    DTR(d, "Biểu đồ xu hướng", "Trend chart"));
	for (i = 0; i <= 2; i++) {
		double gv = lo + (hi - lo) * i / 2;

		html_raw(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/><text class=\"axis\" x=\"%.1f\" "
		    "y=\"%.1f\">%.0f</text>\n", left, left + width, TY(gv),
		    TY(gv), left - 6, TY(gv) + 4, gv);
	}
	/* The band: the upper limits left to right, the lower back. */
	html_raw(b, "<path class=\"band\" d=\"");
	for (i = 0; i < DASH_TREND; i++) {
		if (e[i] != NULL && isfinite(e[i]->ci_high))
			html_raw(b, "%s%.1f %.1f", k++ == 0 ? "M" : "L", TX(i),
			    TY(e[i]->ci_high));
	}
	for (i = DASH_TREND - 1; i >= 0; i--) {
		if (e[i] != NULL && isfinite(e[i]->ci_low))
			html_raw(b, "L%.1f %.1f", TX(i), TY(e[i]->ci_low));
	}
	html_raw(b, "Z\"/>\n<path class=\"line\" d=\"");
	for (i = 0, k = 0; i < DASH_TREND; i++) {
		if (e[i] == NULL)
			continue;
		px[k] = TX(i);
		py[k] = TY(e[i]->value);
		html_raw(b, "%s%.1f %.1f", k == 0 ? "M" : "L", px[k], py[k]);
		k++;
	}
	html_raw(b, "\"/>\n");
	for (i = 0; i < k; i++)
		html_raw(b, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>"
		    "\n", px[i], py[i]);
	for (i = 0; i < DASH_TREND; i++) {
		html_raw(b, "<text class=\"axis tick%s\" x=\"%.1f\" y=\"214\">%s"
		    "</text>\n", i % 2 ? " odd" : "", TX(i), d->tlabel[i]);
		if (e[i] != NULL)
			html_raw(b, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">%s"
			    "</text>\n", TX(i), TY(e[i]->value) - 8,
			    dash_num(v, sizeof v, d->lang, e[i]->value, 1, 0));
	}
#undef TX
#undef TY
	html_raw(b, "</svg>\n");
	if (stats_trend(x, y, se, n, &slope, &slope_se) == 0)
		html_raw(b, "<p class=\"note\" id=\"trend-slope\">%s %s %s "
		    "(%s %s).</p>\n", DTR(d, "Độ dốc (bình phương tối thiểu có "
		    "trọng số):", "Weighted least-squares slope:"),
		    dash_num(s1, sizeof s1, d->lang, slope, 2, 1),
		    DTR(d, "điểm % mỗi quý", "points per quarter"),
		    DTR(d, "sai số chuẩn", "standard error"),
		    dash_num(s2, sizeof s2, d->lang, slope_se, 2, 0));
	else {
		char *text = report_trend_none_text(DLANG(d), n);

		html_raw(b, "<p class=\"note\" id=\"trend-none\">");
		html_text(b, text);
		html_raw(b, "</p>\n");
		free(text);
	}
table:
	html_raw(b, "<table class=\"trend\"><thead><tr><th>%s</th><th>%s</th>"
	    "<th>%s</th><th>n</th></tr></thead><tbody>\n",
	    DTR(d, "Quý", "Quarter"), DTR(d, "Chỉ số", "Index"),
	    DTR(d, "Khoảng tin cậy", "Interval"));
	for (i = 0; i < DASH_TREND; i++) {
		const struct unit_result *tr = dash_unit(d->trend[i], d->unit);
		struct estimate few;

		html_raw(b, "<tr><th scope=\"row\">%s</th>", d->tlabel[i]);
		if (dash_hidden(d, tr)) {
			/* Its n only, as a ranked child's. */
			few = *dash_overall(d, tr);
			few.value = NAN;
			dash_cells(b, d, &few);
		} else
			dash_cells(b, d, dash_overall(d, tr));
		html_raw(b, "</tr>\n");
	}
	html_raw(b, "</tbody></table>\n</section>\n");
}

/* Each satisfaction item: index, distribution bar, importance, priority. */
static void
dash_items(struct evbuffer *b, const struct dash *d)
{
	const struct unit_result *ur = dash_unit(d->cur, d->unit);
	const struct survey *s = d->s;
	char v[64], imp[64], ilo[64], ihi[64];
	int i, j;

	html_raw(b, "<section id=\"items\">\n<h2>%s</h2>\n<p class=\"note\">%s"
	    "</p>\n", DTR(d, "Chi tiết từng câu hỏi", "Item detail"),
	    DTR(d, "Thanh màu: tỷ lệ từng mức trả lời (từ thấp đến cao). "
	    "Tầm quan trọng: hệ số tương quan của câu hỏi với trung bình các câu "
	    "còn lại, kèm khoảng tin cậy 95 %. Ưu tiên cải thiện chỉ khi rõ ràng: "
	    "cận dưới của tầm quan trọng trên trung vị và cận trên của chỉ số "
	    "dưới trung vị.", "Bars: the share of each answer (low to high). "
	    "Importance: the correlation of the item with the mean of the other "
	    "items, with its 95 % interval. A priority only when clear: the "
	    "importance's lower limit above the median and the index's upper "
	    "limit below the median."));
	if (ur == NULL || dash_hidden(d, ur)) {
		html_raw(b, "<p class=\"note\">%s</p>\n</section>\n", ur == NULL ?
		    DTR(d, "Chưa có số liệu.", "No data yet.") :
		    DTR(d, "Quá ít người trả lời.", "Too few respondents."));
		return;
	}
	html_raw(b, "<div class=\"scroll\"><table class=\"items\">\n<thead><tr>"
	    "<th>%s</th><th>%s</th><th>n</th><th>%s</th><th>%s</th><th>%s</th>"
	    "</tr></thead>\n<tbody>\n", DTR(d, "Câu hỏi", "Item"),
	    DTR(d, "Chỉ số", "Index"), DTR(d, "Phân bố", "Distribution"),
	    DTR(d, "Tầm quan trọng", "Importance"), DTR(d, "Ưu tiên", "Priority"));
	for (i = 0; i < s->nsat; i++) {
		const struct item *it = &s->items[i];
		const struct priority *p = &ur->priorities[i];
		double xpos = 0;

		html_raw(b, "<tr%s data-code=\"", p->priority ?
		    " class=\"priority\"" : "");
		html_text(b, it->code);
		html_raw(b, "\"><th scope=\"row\"><span class=\"code\">");
		html_text(b, it->code);
		html_raw(b, "</span> ");
		html_text(b, strcmp(d->lang, "en") == 0 && it->text_en != NULL ?
		    it->text_en : it->text_vi);
		html_raw(b, "</th><td class=\"value\">%s</td><td class=\"n\">%ld"
		    "</td><td class=\"dist\"><svg class=\"dist\" viewBox=\"0 0 200 "
		    "16\" role=\"img\" aria-label=\"",
		    dash_pct(v, sizeof v, d->lang, ur->items[i].value),
		    ur->items[i].n);
		for (j = 0; j < it->scale->nvalues; j++)
			html_raw(b, "%s%d: %s", j > 0 ? ", " : "",
			    it->scale->values[j], dash_pct(v, sizeof v, d->lang,
			    ur->dist[i][j]));
		html_raw(b, "\">");
		for (j = 0; j < it->scale->nvalues; j++) {
			double share = isfinite(ur->dist[i][j]) ? ur->dist[i][j] :
			    0;
			int shade = it->scale->nvalues > 1 ?
			    (int)lround(4.0 * j / (it->scale->nvalues - 1)) : 4;

			if (share <= 0)
				continue;
			html_raw(b, "<rect class=\"s%d\" x=\"%.2f\" y=\"0\" "
			    "width=\"%.2f\" height=\"16\"/>", shade, xpos * 2,
			    share * 2);
			xpos += share;
		}
		html_raw(b, "</svg></td><td class=\"imp\">%s <span class=\"ci\">"
		    "(%s – %s)</span></td><td class=\"pri\">%s</td></tr>\n",
		    dash_num(imp, sizeof imp, d->lang, p->importance, 2, 0),
		    dash_num(ilo, sizeof ilo, d->lang, p->importance_low, 2, 0),
		    dash_num(ihi, sizeof ihi, d->lang, p->importance_high, 2, 0),
		    p->priority ? DTR(d, "Ưu tiên", "Priority") : "");
	}
	html_raw(b, "</tbody></table></div>\n</section>\n");
}

/* Every result arrived: render the page. */
static void
dash_render(struct dash *d)
{
	struct evbuffer *b = evbuffer_new();
	char conf[16];

	dash_changes_adjust(d);
	dash_head(b, d);
	dash_summary(b, d);
	dash_ranking(b, d);
	dash_trend(b, d);
	dash_groups(b, d);
	dash_items(b, d);
	snprintf(conf, sizeof conf, "%.0f", d->cur->level * 100);
	if (d->r->sd->rdb_up && d->r->sd->read_standby)
		html_raw(b, "<p class=\"note\">%s %.0f %s</p>\n",
		    DTR(d, "Số liệu đọc từ máy chủ dự phòng, có thể chậm tới",
		    "Read from a standby database; the numbers may be up to"),
		    ceil(sipasd_read_lag(d->r->sd)), DTR(d, "giây.",
		    "seconds behind."));
	html_raw(b, "<footer><p class=\"note\">%s %s%s. %s</p></footer>\n"
	    "</main>\n</body>\n</html>\n",
	    DTR(d, "Chỉ số là tỷ lệ người hài lòng (%); khoảng tin cậy",
	    "Indices are the share of satisfied respondents (%); intervals at"),
	    conf, DTR(d, " %", "%"), DTR(d, "Số liệu trên trang này trùng với số "
	    "liệu trong báo cáo định kỳ và dữ liệu xuất cho đơn vị, cùng kỳ.",
	    "The numbers on this page are the same as in the periodic reports "
	    "and the data exports of the unit for the same period."));
	/* The sign-out post of this page carries its real Origin. */
	evhttp_add_header(evhttp_request_get_output_headers(d->r->req),
	    "Referrer-Policy", "same-origin");
	html_reply(d->r, 200, b);
	evbuffer_free(b);
	dash_free(d);
}

static void dash_next(struct dash *);

/* One fetch finished. */
static void
dash_fetched(struct result *res, const char *sqlstate, const char *message,
    void *arg)
{
	struct dash *d = arg;

	if (res == NULL) {
		html_reply_message(d->r, db_sqlstate_is_connection(sqlstate) ?
		    503 : 500, d->lang, DTR(d, "Lỗi", "Error"),
		    DTR(d, "Không đọc được số liệu; vui lòng thử lại.",
		    "The data could not be read; please try again."), NULL, NULL);
		dash_free(d);
		return;
	}
	if (d->step == 0)
		d->cur = res;
	else if (d->step == 1)
		d->prev = res;
	else
		d->trend[d->step - 2] = res;
	d->step++;
	dash_next(d);
}

/* Start the next fetch, or render. */
static void
dash_next(struct dash *d)
{
	struct sipasd *sd = d->r->sd;
	double conf = sd->config->confidence;
	int t = d->step - 2;

	if (d->step >= DASH_STEPS) {
		dash_render(d);
		return;
	}
	if (!sipasd_read_ready(sd)) {
		html_reply_message(d->r, 503, d->lang, "503",
		    DTR(d, "Cơ sở dữ liệu tạm thời không sẵn sàng.",
		    "The database is not available."), NULL, NULL);
		dash_free(d);
		return;
	}
	if (d->step == 0)
		indices_compute(sd, d->r->id, d->cache, d->s, d->unit, d->from, d->to,
		    d->channel, &d->filter, 1, conf, dash_fetched, d);
	else if (d->step == 1)
		indices_compute(sd, d->r->id, d->cache, d->s, d->unit, d->pfrom, d->pto,
		    d->channel, &d->filter, 0, conf, dash_fetched, d);
	else
		indices_compute(sd, d->r->id, d->cache, d->s, d->unit, d->tfrom[t],
		    d->tto[t], d->channel, &d->filter, 0, conf, dash_fetched, d);
}

/* The DASH_TREND quarters that end with the quarter holding day to. */
static void
dash_quarters(struct dash *d)
{
	int y = atoi(d->to), q = (atoi(d->to + 5) - 1) / 3, i;
	char buf[64];

	for (i = DASH_TREND - 1; i >= 0; i--) {
		y %= 10000;
		snprintf(buf, sizeof buf, "%04d-%02d-01", y, q * 3 + 1);
		memcpy(d->tfrom[i], buf, REPORT_DAY_LEN - 1);
		snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, q * 3 + 3,
		    util_month_days(y, q * 3 + 3));
		memcpy(d->tto[i], buf, REPORT_DAY_LEN - 1);
		util_period_text(d->tfrom[i], d->tto[i], strcmp(d->lang, "en") == 0,
		    d->tlabel[i], sizeof d->tlabel[i]);
		if (--q < 0) {
			q = 3;
			y--;
		}
	}
}

/* A page with one message and a way back. */
static void
dash_message(struct request *r, int status, const char *lang,
    const char *title, const char *text)
{
	html_reply_message(r, status, lang, title, text,
	    strcmp(lang, "en") == 0 ? "/dashboard?lang=en" : "/dashboard",
	    strcmp(lang, "en") == 0 ? "Back to the dashboard" :
	    "Về bảng điều hành");
}

/* GET /dashboard, once the session is checked. */
static void
dash_start(struct request *r)
{
	struct sipasd *sd = r->sd;
	struct form_fields *q = NULL;
	const char *lang = form_lang(r, NULL), *survey = NULL, *unit = NULL;
	const char *from = NULL, *to = NULL, *channel = NULL, *why;
	struct store_agg_filter filter = { 0 };
	const struct survey *s;
	struct dash *d;
	char today[REPORT_DAY_LEN], label[16], msg[160], qkey[160];
	int en = strcmp(lang, "en") == 0, i;

	if (r->query != NULL && (q = form_fields_parse(r->query,
	    strlen(r->query))) == NULL) {
		dash_message(r, 400, lang, "400", en ? "The address is malformed." :
		    "Địa chỉ không hợp lệ.");
		return;
	}
	if (q != NULL) {
		survey = form_fields_get(q, "survey");
		unit = form_fields_get(q, "unit");
		from = form_fields_get(q, "from");
		to = form_fields_get(q, "to");
		channel = form_fields_get(q, "channel");
	}
	if (survey != NULL && *survey == '\0')
		survey = NULL;
	if (unit != NULL && *unit == '\0')
		unit = NULL;
	if (from != NULL && *from == '\0')
		from = NULL;
	if (to != NULL && *to == '\0')
		to = NULL;
	if (channel != NULL && *channel == '\0')
		channel = NULL;
	/* respondent.FIELD=VALUE (an empty value, "all" in the form: none). */
	for (i = 0; q != NULL && i < q->n; i++) {
		if (strncmp(q->keys[i], "respondent.", 11) != 0 ||
		    *q->values[i] == '\0')
			continue;
		if (form_respondent_check(q->keys[i] + 11, q->values[i],
		    &why) != 0 || store_agg_filter_add(&filter, q->keys[i] + 11,
		    q->values[i], &why) != 0) {
			log_msg(LOG_LEVEL_INFO, r->id, "dashboard: %s: %s",
			    log_quote(qkey, sizeof qkey, q->keys[i]), why);
			dash_message(r, 422, lang, "422", en ? "Bad respondent "
			    "filter: only gender (f, m, o) and age_band (18-24, "
			    "25-34, 35-49, 50-64, 65+), each once." : "Bộ lọc "
			    "người trả lời không hợp lệ: chỉ giới tính (gender: "
			    "f, m, o) và nhóm tuổi (age_band: 18-24, 25-34, "
			    "35-49, 50-64, 65+), mỗi trường một lần.");
			goto out;
		}
	}
	if (sd->cache == NULL || !sipasd_read_ready(sd)) {
		html_reply_message(r, 503, lang, "503", en ?
		    "The database is not available." :
		    "Cơ sở dữ liệu tạm thời không sẵn sàng.", NULL, NULL);
		goto out;
	}
	if (unit == NULL)
		unit = r->scope;
	if (unit == NULL) {
		landing_picker(r);
		goto out;
	}
	s = survey != NULL ? cache_survey_get(sd->cache, survey) :
	    cache_default_survey(sd->cache);
	if (s == NULL) {
		dash_message(r, 404, lang, "404", en ? "Unknown survey." :
		    "Không có bộ phiếu này.");
		goto out;
	}
	/* A scoped account gets one answer for units unknown or not its own. */
	if (!auth_scope_allows(r, unit)) {
		log_msg(LOG_LEVEL_INFO, r->id, "dashboard: unit %s outside the "
		    "scope %s", log_quote(qkey, sizeof qkey, unit), r->scope);
		dash_message(r, 403, lang, en ? "Not allowed" :
		    "Không có quyền xem", en ? "This account may not see that "
		    "unit." : "Tài khoản này không được xem đơn vị đó.");
		goto out;
	}
	if (cache_unit_get(sd->cache, unit) == NULL) {
		dash_message(r, 404, lang, "404", en ? "Unknown unit." :
		    "Không có đơn vị này.");
		goto out;
	}
	if ((from == NULL) != (to == NULL) || (from != NULL &&
	    report_day_valid(from) && report_day_valid(to) &&
	    strcmp(from, to) > 0)) {
		dash_message(r, 400, lang, "400", en ? "Give both days of the "
		    "period (YYYY-MM-DD), the first not after the last." :
		    "Hãy nhập cả hai ngày của kỳ (YYYY-MM-DD), ngày đầu không "
		    "sau ngày cuối.");
		goto out;
	}
	if (from != NULL && (!report_day_valid(from) ||
	    !report_day_valid(to))) {
		snprintf(msg, sizeof msg, en ? "%s: give a day YYYY-MM-DD "
		    "from %s to %s." : "%s: nhập một ngày YYYY-MM-DD từ %s đến "
		    "%s.", !report_day_valid(from) ? "from" : "to",
		    RESPONSE_DATE_MIN, RESPONSE_DATE_MAX);
		dash_message(r, 422, lang, "422", msg);
		goto out;
	}
	if (channel != NULL && channel_parse(channel) < 0) {
		dash_message(r, 422, lang, "422", en ? "Unknown channel: choose "
		    "paper, web, sms or kiosk (or all channels)." : "Kênh không "
		    "hợp lệ: chọn paper, web, sms hoặc kiosk (hoặc tất cả các "
		    "kênh).");
		goto out;
	}
	d = xcalloc(1, sizeof *d);
	d->r = r;
	d->channel = channel != NULL ? channel_name(channel_parse(channel)) :
	    NULL;
	d->cache = cache_ref(sd->cache);
	d->s = s;
	d->lang = lang;
	d->unit = xstrdup(unit);
	for (i = 0; i < filter.n; i++) {
		d->fkey[i] = xstrdup(filter.key[i]);
		d->fvalue[i] = xstrdup(filter.value[i]);
		d->filter.key[i] = d->fkey[i];
		d->filter.value[i] = d->fvalue[i];
	}
	d->filter.n = filter.n;
	if (from != NULL) {
		snprintf(d->from, sizeof d->from, "%s", from);
		snprintf(d->to, sizeof d->to, "%s", to);
	} else {
		/* The latest closed quarter (docs/dashboard.md). */
		if (*sd->config->report_today != '\0')
			snprintf(today, sizeof today, "%s",
			    sd->config->report_today);
		else
			report_day_today(today);
		if (report_period_closed(REPORT_PERIOD_QUARTER, today, d->from,
		    d->to, label, sizeof label) != 0)
			d->from[0] = '\0';
	}
	if (d->from[0] == '\0' ||
	    report_period_previous(d->from, d->to, d->pfrom, d->pto) != 0) {
		dash_free(d);
		snprintf(msg, sizeof msg, en ? "from: the previous period of "
		    "equal length would start before %s." : "from: kỳ trước "
		    "cùng độ dài sẽ bắt đầu trước %s.", RESPONSE_DATE_MIN);
		dash_message(r, 422, lang, "422", msg);
		goto out;
	}
	dash_quarters(d);
	dash_next(d);
out:
	form_fields_free(q);
}

/* GET /dashboard, after the session check of the route table. */
void
dashboard_handle(struct request *r)
{
	dash_start(r);
}
