/*
 * model.c: the report model derived from analysis results: the
 * unit's figures, the change from the previous period, the ranking of the
 * children with their flags, non-response, the trend, and every table the
 * renderers show, in the report's language.
 *
 * Owns copies of what it shows; compares only through the analysis library
 * (stats_change, stats_rank_flag, stats_trend: docs/methodology.md section 7). Never
 * formats for a file format and never does I/O.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sipas/report.h"
#include "sipas/util.h"

#define L(r, vi, en) report_lang_pick(r, vi, en)

/* A copy of one unit's results. */
static struct unit_result *
report_unit_dup(const struct survey *s, const struct unit_result *u)
{
	struct unit_result *d = xcalloc(1, sizeof *d);
	int i;

	d->unit = xstrdup(u->unit);
	d->complex = u->complex;
	d->nweighted = u->nweighted;
	d->nstrata = u->nstrata;
	d->npsu = u->npsu;
	d->priority_median_importance = u->priority_median_importance;
	d->priority_median_performance = u->priority_median_performance;
	d->respondents = u->respondents;
	d->lonely_psu = u->lonely_psu;
	d->groups = xcalloc(s->ngroups, sizeof *d->groups);
	memcpy(d->groups, u->groups, s->ngroups * sizeof *d->groups);
	d->items = xcalloc(s->nitems, sizeof *d->items);
	memcpy(d->items, u->items, s->nitems * sizeof *d->items);
	d->dist = xcalloc(s->nitems, sizeof *d->dist);
	for (i = 0; i < s->nitems; i++) {
		d->dist[i] = xcalloc(s->items[i].scale->nvalues, sizeof **d->dist);
		memcpy(d->dist[i], u->dist[i], s->items[i].scale->nvalues * sizeof **d->dist);
	}
	d->alpha = xcalloc(s->ngroups, sizeof *d->alpha);
	memcpy(d->alpha, u->alpha, s->ngroups * sizeof *d->alpha);
	d->alpha_n = xcalloc(s->ngroups, sizeof *d->alpha_n);
	memcpy(d->alpha_n, u->alpha_n, s->ngroups * sizeof *d->alpha_n);
	d->priorities = xcalloc(s->nsat, sizeof *d->priorities);
	memcpy(d->priorities, u->priorities, s->nsat * sizeof *d->priorities);
	return d;
}

/* Free a copy made by report_unit_dup; NULL-safe. */
static void
report_unit_free(const struct survey *s, struct unit_result *u)
{
	int i;

	if (u == NULL)
		return;
	free(u->unit);
	free(u->groups);
	free(u->items);
	for (i = 0; i < s->nitems; i++)
		free(u->dist[i]);
	free(u->dist);
	free(u->alpha);
	free(u->alpha_n);
	free(u->priorities);
	free(u);
}

/* The unit's results in res if it has respondents, else NULL. */
static const struct unit_result *
report_unit_lookup(const struct result *res, const char *unit)
{
	const struct unit_result *u;

	if (res == NULL || (u = result_unit_find(res, unit)) == NULL || u->respondents <= 0)
		return NULL;
	return u;
}

/* The overall estimate of the unit, or NULL when nodata. */
const struct estimate *
report_overall_get(const struct report *r)
{
	return r->ur != NULL ? &r->ur->groups[r->survey->ngroups - 1] : NULL;
}

/* First table of a section, or NULL. */
const struct report_table *
report_table_find(const struct report *r, enum report_section section)
{
	size_t i;

	for (i = 0; i < r->ntables; i++) {
		if (r->tables[i].section == section)
			return &r->tables[i];
	}
	return NULL;
}

/* A cell of a table. */
const struct report_cell *
report_cell_get(const struct report_table *t, size_t row, int col)
{
	ASSERT(row < t->nrows && col >= 0 && col < t->ncolumns);
	return &t->cells[row * t->ncolumns + col];
}

/* Pre-order walk of the group tree: order and depth of every group. */
static void
report_groups_walk(struct report *r, const struct group *g, int depth, int *k)
{
	int i;

	r->group_order[(*k)++] = g->index;
	r->group_depth[g->index] = depth;
	for (i = 0; i < g->ngroups; i++)
		report_groups_walk(r, g->groups[i], depth + 1, k);
}

/* Order children: the ranked by overall (best first, then code), then the rest by code. */
static int
report_child_cmp(const void *a, const void *b)
{
	const struct report_child *x = a, *y = b;

	if (x->ranked != y->ranked)
		return x->ranked ? -1 : 1;
	if (x->ranked && x->overall->value != y->overall->value)
		return x->overall->value > y->overall->value ? -1 : 1;
	return strcmp(x->code, y->code);
}

/* Fill one child from the current result. */
static void
report_child_set(struct report *r, struct report_child *c, const struct result *cur, const char *code,
    const char *name)
{
	const struct unit_result *u = report_unit_lookup(cur, code);
	const struct estimate *po = report_overall_get(r);

	c->code = xstrdup(code);
	c->name = xstrdup(name != NULL && *name != '\0' ? name : code);
	if (u == NULL)
		return;
	c->ur = report_unit_dup(r->survey, u);
	c->overall = &c->ur->groups[r->survey->ngroups - 1];
	c->ranked = isfinite(c->overall->value) && c->ur->respondents >= r->min_n;
	c->p = c->p_holm = NAN;
	if (c->ranked)
		c->p = stats_rank_p(c->overall, po != NULL ? po->value : NAN);
}

/* The flags of the ranked children: Holm over all of them (one table). */
static void
report_children_flag(struct report *r)
{
	const struct estimate *po = report_overall_get(r);
	double *p = xcalloc(r->nchildren + 1, sizeof *p), *adj = xcalloc(r->nchildren + 1, sizeof *adj);
	size_t i;

	for (i = 0; i < r->nchildren; i++)
		p[i] = r->children[i].ranked ? r->children[i].p : NAN;
	stats_holm(p, r->nchildren, adj);
	for (i = 0; i < r->nchildren; i++) {
		struct report_child *c = &r->children[i];

		c->p_holm = adj[i];
		if (c->ranked)
			c->flag = stats_rank_flag_p(c->overall, po != NULL ? po->value : NAN, adj[i], 0.05);
	}
	free(p);
	free(adj);
}

/* Holm over the changes c[0..n) that exist; significant on the adjusted p. */
static void
report_changes_adjust(struct report_change *c, size_t n)
{
	double *p = xcalloc(n + 1, sizeof *p), *adj = xcalloc(n + 1, sizeof *adj);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = c[i].ok ? c[i].change.p : NAN;
	stats_holm(p, n, adj);
	for (i = 0; i < n; i++) {
		c[i].p_holm = adj[i];
		if (c[i].ok)
			c[i].change.significant = adj[i] < 0.05;
	}
	free(p);
	free(adj);
}

/* The children, sorted and ranked (equal values share a rank). */
static void
report_children_build(struct report *r, const struct result *cur, const struct report_params *p)
{
	size_t i, k = 0;

	if (p->children != NULL) {
		r->children = xcalloc(p->nchildren, sizeof *r->children);
		for (i = 0; i < p->nchildren; i++)
			report_child_set(r, &r->children[k++], cur, p->children[i].code, p->children[i].name);
	} else {
		r->children = xcalloc(cur->nunits, sizeof *r->children);
		for (i = 0; i < cur->nunits; i++) {
			if (strcmp(cur->units[i].unit, r->unit) != 0)
				report_child_set(r, &r->children[k++], cur, cur->units[i].unit, NULL);
		}
	}
	r->nchildren = k;
	report_children_flag(r);
	qsort(r->children, k, sizeof *r->children, report_child_cmp);
	for (i = 0; i < k && r->children[i].ranked; i++) {
		if (i > 0 && r->children[i].overall->value == r->children[i - 1].overall->value)
			r->children[i].rank = r->children[i - 1].rank;
		else
			r->children[i].rank = (int)i + 1;
	}
	r->nranked = i;
}

/* Changes from the previous period, non-response, the trend. */
static void
report_derive(struct report *r)
{
	const struct survey *s = r->survey;
	double *x, *y, *se;
	size_t i;
	int j;

	r->group_change = xcalloc(s->ngroups, sizeof *r->group_change);
	r->item_change = xcalloc(s->nitems, sizeof *r->item_change);
	r->nonresponse = xcalloc(s->nitems, sizeof *r->nonresponse);
	for (j = 0; j < s->ngroups; j++) {
		r->group_change[j].prev = r->prev != NULL ? r->prev->groups[j].value : NAN;
		if (r->ur != NULL && r->prev != NULL)
			r->group_change[j].ok = stats_change(&r->prev->groups[j], &r->ur->groups[j],
			    &r->group_change[j].change) == 0;
	}
	for (j = 0; j < s->nitems; j++) {
		r->item_change[j].prev = r->prev != NULL ? r->prev->items[j].value : NAN;
		if (r->ur != NULL && r->prev != NULL)
			r->item_change[j].ok = stats_change(&r->prev->items[j], &r->ur->items[j],
			    &r->item_change[j].change) == 0;
		r->nonresponse[j] = r->ur != NULL ?
		    100.0 * (double)(r->ur->respondents - r->ur->items[j].n) / (double)r->ur->respondents : NAN;
	}
	report_changes_adjust(r->group_change, (size_t)s->ngroups);
	report_changes_adjust(r->item_change, (size_t)s->nsat);
	if (r->ntrend == 0)
		return;
	x = xcalloc(r->ntrend, sizeof *x);
	y = xcalloc(r->ntrend, sizeof *y);
	se = xcalloc(r->ntrend, sizeof *se);
	for (i = 0; i < r->ntrend; i++) {
		x[i] = (double)i;
		y[i] = r->trend[i].estimate.value;
		se[i] = r->trend[i].estimate.se;
		if (isfinite(y[i]) && isfinite(se[i]) && se[i] > 0)
			r->trend_points++;
	}
	r->trend_ok = stats_trend(x, y, se, r->ntrend, &r->trend_slope, &r->trend_slope_se) == 0;
	free(x);
	free(y);
	free(se);
}

/* --- tables --- */

/* Add a table with ncolumns columns to the report; valid until the next add. */
static struct report_table *
report_table_add(struct report *r, enum report_section section, const char *title, const char *sheet, int ncolumns)
{
	struct report_table *t;

	r->tables = xreallocarray(r->tables, r->ntables + 1, sizeof *r->tables);
	t = &r->tables[r->ntables++];
	memset(t, 0, sizeof *t);
	t->section = section;
	t->title = xstrdup(title);
	t->sheet = xstrdup(sheet != NULL ? sheet : title);
	t->ncolumns = ncolumns;
	t->columns = xcalloc(ncolumns, sizeof *t->columns);
	return t;
}

/* Name column j. */
static void
report_column_set(struct report_table *t, int j, const char *title, double width, int wrap)
{
	ASSERT(j >= 0 && j < t->ncolumns);
	t->columns[j].title = xstrdup(title);
	t->columns[j].width = width;
	t->columns[j].wrap = wrap;
}

/* Append an empty row; returns its index. */
static size_t
report_row_add(struct report_table *t)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncolumns, sizeof *t->cells);
	memset(&t->cells[t->nrows * t->ncolumns], 0, t->ncolumns * sizeof *t->cells);
	return t->nrows++;
}

/* A cell to fill. */
static struct report_cell *
report_cell_at(struct report_table *t, size_t row, int col)
{
	ASSERT(row < t->nrows && col >= 0 && col < t->ncolumns);
	return &t->cells[row * t->ncolumns + col];
}

/* A text cell (copied); NULL leaves it empty. */
static struct report_cell *
report_cell_text(struct report_table *t, size_t row, int col, const char *text)
{
	struct report_cell *c = report_cell_at(t, row, col);

	if (text != NULL) {
		free(c->text);
		c->kind = REPORT_CELL_TEXT;
		c->text = xstrdup(text);
	}
	return c;
}

/* vasprintf through xmalloc. */
static char *
report_vprintf(const char *fmt, va_list ap)
{
	va_list aq;
	char *text;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	ASSERT(n >= 0);
	text = xmalloc((size_t)n + 1);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	return text;
}

/* A formatted text cell. */
static struct report_cell * __attribute__((format(printf, 4, 5)))
report_cell_textf(struct report_table *t, size_t row, int col, const char *fmt, ...)
{
	struct report_cell *c = report_cell_at(t, row, col);
	va_list ap;

	free(c->text);
	c->kind = REPORT_CELL_TEXT;
	va_start(ap, fmt);
	c->text = report_vprintf(fmt, ap);
	va_end(ap);
	return c;
}

/* A number cell shown with decimals (NAN: a dash, an empty spreadsheet cell). */
static struct report_cell *
report_cell_number(struct report_table *t, size_t row, int col, double v, int decimals, int sign)
{
	struct report_cell *c = report_cell_at(t, row, col);

	c->kind = REPORT_CELL_NUMBER;
	c->number = v;
	c->decimals = decimals;
	c->sign = sign;
	return c;
}

/* A count cell. */
static struct report_cell *
report_cell_count(struct report_table *t, size_t row, int col, long n)
{
	struct report_cell *c = report_cell_at(t, row, col);

	c->kind = REPORT_CELL_INTEGER;
	c->number = (double)n;
	return c;
}

/* Set the table's note (formatted). */
static void __attribute__((format(printf, 2, 3)))
report_table_note(struct report_table *t, const char *fmt, ...)
{
	va_list ap;

	free(t->note);
	va_start(ap, fmt);
	t->note = report_vprintf(fmt, ap);
	va_end(ap);
}

/* A label and a value row of a key-value table; returns the value cell's row. */
static size_t
report_row_kv(struct report_table *t, const char *label)
{
	size_t row = report_row_add(t);

	report_cell_text(t, row, 0, label);
	return row;
}

/* A key-value row with a text (copied). */
static struct report_cell *
report_kv_text(struct report_table *t, const char *label, const char *text)
{
	return report_cell_text(t, report_row_kv(t, label), 1, text);
}

/* A key-value row with a number. */
static struct report_cell *
report_kv_number(struct report_table *t, const char *label, double v, int decimals, int sign)
{
	return report_cell_number(t, report_row_kv(t, label), 1, v, decimals, sign);
}

/* The period (or the previous period) as shown: "Quý I/2025", "Q1 2025", "01/01/2025 – 15/02/2025". */
char *
report_period_text(const struct report *r, int previous)
{
	const char *from = previous ? r->prev_from : r->from, *to = previous ? r->prev_to : r->to;
	char buf[128];

	if (from == NULL || to == NULL)
		return xstrdup("–");
	return xstrdup(util_period_text(from, to, r->lang == REPORT_LANG_EN, buf, sizeof buf));
}

/* A group's or an item's text in the report's language. */
static const char *
report_group_title(const struct report *r, const struct group *g)
{
	const char *t = r->lang == REPORT_LANG_EN && g->title_en != NULL ? g->title_en : g->title_vi;

	return t != NULL ? t : g->code;
}

/* An item's text in the report's language. */
static const char *
report_item_text(const struct report *r, const struct item *it)
{
	const char *t = r->lang == REPORT_LANG_EN && it->text_en != NULL ? it->text_en : it->text_vi;

	return t != NULL ? t : it->code;
}

/* A scale label in the report's language. */
static const char *
report_scale_label(const struct report *r, const struct scale *sc, int j)
{
	const char *t = r->lang == REPORT_LANG_EN && sc->labels_en != NULL ? sc->labels_en[j] :
	    sc->labels_vi != NULL ? sc->labels_vi[j] : NULL;

	return t != NULL ? t : "";
}

/* The survey's title in the report's language. */
static const char *
report_survey_title(const struct report *r)
{
	const struct survey *s = r->survey;
	const char *t = r->lang == REPORT_LANG_EN && s->title_en != NULL ? s->title_en : s->title_vi;

	return t != NULL ? t : s->code;
}

/* The text of "no data for this period". */
static const char *
report_nodata_text(const struct report *r)
{
	return L(r, "Không có dữ liệu cho kỳ báo cáo này.", "No data for this period.");
}

/* A child's standing as shown in the ranking table. */
static const char *
report_child_status(const struct report *r, const struct report_child *c)
{
	if (c->ur == NULL)
		return L(r, "Không có dữ liệu", "No data");
	if (!c->ranked)
		return L(r, "Không xếp hạng", "Not ranked");
	return report_flag_text(r, c->flag);
}

/* Yes or no for a significant change, empty when there is none. */
static const char *
report_significance_text(const struct report *r, const struct report_change *c)
{
	if (!c->ok)
		return NULL;
	return c->change.significant ? L(r, "Có", "Yes") : L(r, "Không", "No");
}

/* The level as a percentage, e.g. 95. */
static double
report_level_percent(const struct report *r)
{
	return 100 * r->level;
}

/* The cover and key figures. */
static void
report_section_overview(struct report *r)
{
	const struct survey *s = r->survey;
	const struct estimate *o = report_overall_get(r);
	const struct report_change *ch = &r->group_change[s->ngroups - 1];
	struct report_table *t;
	char *text;
	size_t row;

	t = report_table_add(r, REPORT_SECTION_OVERVIEW, report_section_title(r, REPORT_SECTION_OVERVIEW), NULL, 2);
	t->keyvalue = 1;
	report_column_set(t, 0, L(r, "Mục", "Item"), 38, 1);
	report_column_set(t, 1, L(r, "Giá trị", "Value"), 64, 1);
	row = report_row_kv(t, L(r, "Đơn vị", "Unit"));
	if (strcmp(r->unit_name, r->unit) != 0)
		report_cell_textf(t, row, 1, "%s (%s)", r->unit_name, r->unit);
	else
		report_cell_text(t, row, 1, r->unit);
	report_cell_textf(t, report_row_kv(t, L(r, "Khảo sát", "Survey")), 1, "%s [%s, %s %d]",
	    report_survey_title(r), s->code, L(r, "phiên bản", "version"), s->version);
	report_kv_text(t, L(r, "Căn cứ pháp lý", "Legal basis"), s->basis != NULL ? s->basis : "–");
	text = report_period_text(r, 0);
	report_kv_text(t, L(r, "Kỳ báo cáo", "Period"), text);
	free(text);
	if (r->prev_from != NULL && r->prev_to != NULL) {
		text = report_period_text(r, 1);
		report_kv_text(t, L(r, "Kỳ trước", "Previous period"), text);
		free(text);
	}
	if (r->generated != NULL)
		report_kv_text(t, L(r, "Ngày lập báo cáo", "Produced on"), r->generated);
	report_kv_number(t, L(r, "Mức tin cậy (%)", "Confidence level (%)"), report_level_percent(r), 0, 0);
	if (r->nodata) {
		report_kv_text(t, L(r, "Tình trạng", "Status"), report_nodata_text(r))->strong = 1;
		report_cell_count(t, report_row_kv(t, L(r, "Số người trả lời (n)", "Respondents (n)")), 1, 0);
		return;
	}
	text = report_design_text(r->lang, r->ur);
	report_kv_text(t, L(r, "Thiết kế mẫu", "Sample design"), text);
	free(text);
	report_cell_count(t, report_row_kv(t, L(r, "Số người trả lời (n)", "Respondents (n)")), 1, r->ur->respondents);
	xasprintf(&text, "%s (%%)", report_group_title(r, s->overall));
	report_kv_number(t, text, o->value, 2, 0)->strong = 1;
	free(text);
	report_kv_number(t, L(r, "Cận dưới khoảng tin cậy (%)", "Confidence interval, lower (%)"), o->ci_low, 2, 0);
	report_kv_number(t, L(r, "Cận trên khoảng tin cậy (%)", "Confidence interval, upper (%)"), o->ci_high, 2, 0);
	text = report_ci_sentence(r->lang, r->level);
	report_kv_text(t, L(r, "Khoảng tin cậy là gì", "What the interval means"), text);
	free(text);
	if (r->prev != NULL)
		report_kv_number(t, L(r, "Chỉ số kỳ trước (%)", "Previous period (%)"), ch->prev, 2, 0);
	if (ch->ok) {
		report_kv_number(t, L(r, "Thay đổi so với kỳ trước (điểm %)", "Change from previous period (points)"),
		    ch->change.diff, 2, 1);
		report_kv_number(t, L(r, "Sai số chuẩn của thay đổi", "Standard error of the change"), ch->change.se,
		    2, 0);
		report_kv_number(t, L(r, "Giá trị p", "p-value"), ch->change.p, 3, 0);
		report_kv_number(t, L(r, "Giá trị p hiệu chỉnh (Holm)", "Adjusted p-value (Holm)"), ch->p_holm, 3, 0);
		report_kv_text(t, L(r, "Có ý nghĩa thống kê (mức 5 %, sau hiệu chỉnh)",
		    "Significant at 5 % (adjusted)"), report_significance_text(r, ch));
	} else
		report_kv_text(t, L(r, "Thay đổi so với kỳ trước", "Change from previous period"),
		    L(r, "Không có số liệu kỳ trước để so sánh", "No previous period to compare with"));
	if (r->trend_ok) {
		report_kv_number(t, L(r, "Xu hướng (điểm % mỗi kỳ)", "Trend (points per period)"), r->trend_slope,
		    2, 1);
		report_kv_number(t, L(r, "Sai số chuẩn của xu hướng", "Standard error of the trend"),
		    r->trend_slope_se, 2, 0);
	} else if (r->ntrend > 0) {
		text = report_trend_none_text(r->lang, r->trend_points);
		report_kv_text(t, L(r, "Xu hướng", "Trend"), text);
		free(text);
	}
	if (r->ur->lonely_psu && r->survey->lonely_psu == LONELY_PSU_CERTAINTY)
		report_kv_text(t, L(r, "Cảnh báo", "Warning"),
		    L(r, "Có tầng chỉ có một cụm: tầng đó không đóng góp vào phương sai.",
			"A stratum has a single PSU: it contributes no variance."));
	else if (r->ur->lonely_psu)
		report_kv_text(t, L(r, "Cảnh báo", "Warning"),
		    L(r, "Có tầng chỉ có một cụm: tổng của cụm đó được tính vào phương sai quanh giá trị 0.",
			"A stratum has a single PSU: its PSU total enters the variance about zero."));
}

/* The ranking of the children, the parent first. */
static void
report_section_ranking(struct report *r)
{
	const struct estimate *o = report_overall_get(r);
	struct report_table *t;
	char v[32], *flag;
	size_t i, row;

	t = report_table_add(r, REPORT_SECTION_RANKING, report_section_title(r, REPORT_SECTION_RANKING), NULL, 8);
	report_column_set(t, 0, L(r, "Hạng", "Rank"), 6, 0);
	report_column_set(t, 1, L(r, "Mã", "Code"), 9, 0);
	report_column_set(t, 2, L(r, "Đơn vị", "Unit"), 36, 1);
	report_column_set(t, 3, L(r, "Chỉ số (%)", "Index (%)"), 10, 0);
	report_column_set(t, 4, L(r, "Cận dưới (%)", "CI low (%)"), 10, 0);
	report_column_set(t, 5, L(r, "Cận trên (%)", "CI high (%)"), 10, 0);
	report_column_set(t, 6, "n", 8, 0);
	report_column_set(t, 7, L(r, "So với đơn vị cấp trên", "Against the parent"), 16, 1);
	if (r->nodata) {
		report_table_note(t, "%s", report_nodata_text(r));
		return;
	}
	if (r->nchildren == 0) {
		report_table_note(t, "%s",
		    L(r, "Đơn vị không có đơn vị trực thuộc để xếp hạng.", "The unit has no child units to rank."));
		return;
	}
	row = report_row_add(t);
	report_cell_text(t, row, 1, r->unit)->strong = 1;
	report_cell_text(t, row, 2, r->unit_name)->strong = 1;
	report_cell_number(t, row, 3, o->value, 2, 0)->strong = 1;
	report_cell_number(t, row, 4, o->ci_low, 2, 0)->strong = 1;
	report_cell_number(t, row, 5, o->ci_high, 2, 0)->strong = 1;
	report_cell_count(t, row, 6, r->ur->respondents)->strong = 1;
	report_cell_text(t, row, 7, L(r, "Đơn vị cấp trên", "Parent unit"))->strong = 1;
	for (i = 0; i < r->nchildren; i++) {
		const struct report_child *c = &r->children[i];

		row = report_row_add(t);
		if (c->ranked)
			report_cell_count(t, row, 0, c->rank);
		report_cell_text(t, row, 1, c->code);
		report_cell_text(t, row, 2, c->name);
		if (c->ur != NULL) {
			report_cell_number(t, row, 3, c->overall->value, 2, 0);
			report_cell_number(t, row, 4, c->overall->ci_low, 2, 0);
			report_cell_number(t, row, 5, c->overall->ci_high, 2, 0);
			report_cell_count(t, row, 6, c->ur->respondents);
		}
		report_cell_text(t, row, 7, report_child_status(r, c));
	}
	report_number_format(r->lang, o->value, 2, 0, v, sizeof v);
	if (r->lang == REPORT_LANG_VI)
		xasprintf(&flag, "Khoảng tin cậy %g %%. “Cao hơn” / “Thấp hơn”: chỉ số của đơn vị khác chỉ số "
		    "của %s (%s %%) có ý nghĩa thống kê ở mức 5 %% sau hiệu chỉnh; còn lại là “Tương đương”. "
		    "Đơn vị có dưới %ld người trả lời được liệt kê nhưng không xếp hạng.",
		    report_level_percent(r), r->unit_name, v, r->min_n);
	else
		xasprintf(&flag, "%g %% confidence intervals. “Above” / “Below”: the unit's index differs from "
		    "the index of %s (%s%%) at the 5 %% level after adjustment; otherwise “Within”. Units with "
		    "fewer than %ld respondents are listed but not ranked.", report_level_percent(r),
		    r->unit_name, v, r->min_n);
	report_table_note(t, "%s %s", flag, report_holm_sentence(r->lang));
	free(flag);
}

/* The elements (every group of the tree, overall first) with their change. */
static void
report_section_elements(struct report *r)
{
	const struct survey *s = r->survey;
	struct report_table *t;
	size_t row;
	int k;

	t = report_table_add(r, REPORT_SECTION_ELEMENTS, report_section_title(r, REPORT_SECTION_ELEMENTS), NULL, 11);
	report_column_set(t, 0, L(r, "Mã", "Code"), 8, 0);
	report_column_set(t, 1, L(r, "Chỉ số, khía cạnh, yếu tố", "Index, aspect, element"), 34, 1);
	report_column_set(t, 2, L(r, "Chỉ số (%)", "Index (%)"), 9, 0);
	report_column_set(t, 3, L(r, "Cận dưới (%)", "CI low (%)"), 9, 0);
	report_column_set(t, 4, L(r, "Cận trên (%)", "CI high (%)"), 9, 0);
	report_column_set(t, 5, "n", 7, 0);
	report_column_set(t, 6, L(r, "Kỳ trước (%)", "Previous (%)"), 9, 0);
	report_column_set(t, 7, L(r, "Thay đổi (điểm %)", "Change (points)"), 10, 0);
	report_column_set(t, 8, "p", 7, 0);
	report_column_set(t, 9, L(r, "Ý nghĩa thống kê", "Significant"), 10, 0);
	report_column_set(t, 10, L(r, "p hiệu chỉnh (Holm)", "p adjusted (Holm)"), 9, 0);
	if (r->nodata) {
		report_table_note(t, "%s", report_nodata_text(r));
		return;
	}
	for (k = 0; k < s->ngroups; k++) {
		int gi = r->group_order[k];
		const struct group *g = s->groups[gi];
		const struct estimate *e = &r->ur->groups[gi];
		const struct report_change *c = &r->group_change[gi];
		int strong = g == s->overall;

		row = report_row_add(t);
		report_cell_text(t, row, 0, g->code)->strong = strong;
		report_cell_text(t, row, 1, report_group_title(r, g))->indent = r->group_depth[gi];
		report_cell_at(t, row, 1)->strong = strong;
		report_cell_number(t, row, 2, e->value, 2, 0)->strong = strong;
		report_cell_number(t, row, 3, e->ci_low, 2, 0);
		report_cell_number(t, row, 4, e->ci_high, 2, 0);
		report_cell_count(t, row, 5, e->n);
		if (r->prev != NULL)
			report_cell_number(t, row, 6, c->prev, 2, 0);
		if (c->ok) {
			report_cell_number(t, row, 7, c->change.diff, 2, 1);
			report_cell_number(t, row, 8, c->change.p, 3, 0);
			report_cell_text(t, row, 9, report_significance_text(r, c));
			report_cell_number(t, row, 10, c->p_holm, 3, 0);
		}
	}
	if (r->prev == NULL)
		report_table_note(t, "%s",
		    L(r, "Không có số liệu kỳ trước để so sánh.", "No previous period to compare with."));
	else
		report_table_note(t, "%s %s",
		    L(r, "Thay đổi tính bằng điểm phần trăm so với kỳ trước; có ý nghĩa thống kê khi p hiệu "
		    "chỉnh < 0,05.", "Change in percentage points from the previous period; significant when "
		    "the adjusted p < 0.05."), report_holm_sentence(r->lang));
}

/* The satisfaction items or the expectation items. */
static void
report_section_items(struct report *r, int expectation)
{
	const struct survey *s = r->survey;
	enum report_section sec = expectation ? REPORT_SECTION_EXPECTATIONS : REPORT_SECTION_ITEMS;
	struct report_table *t;
	size_t row;
	int i, any = 0;

	t = report_table_add(r, sec, report_section_title(r, sec), NULL, expectation ? 7 : 9);
	report_column_set(t, 0, L(r, "Mã", "Code"), 8, 0);
	report_column_set(t, 1, expectation ? L(r, "Nhu cầu, mong đợi", "Expectation") : L(r, "Tiêu chí", "Item"),
	    36, 1);
	report_column_set(t, 2, L(r, "Chỉ số (%)", "Index (%)"), 9, 0);
	report_column_set(t, 3, L(r, "Cận dưới (%)", "CI low (%)"), 9, 0);
	report_column_set(t, 4, L(r, "Cận trên (%)", "CI high (%)"), 9, 0);
	report_column_set(t, 5, "n", 7, 0);
	report_column_set(t, 6, L(r, "Không trả lời (%)", "Missing (%)"), 10, 0);
	if (!expectation) {
		report_column_set(t, 7, L(r, "Thay đổi (điểm %)", "Change (points)"), 10, 0);
		report_column_set(t, 8, L(r, "Ý nghĩa thống kê", "Significant"), 10, 0);
	}
	for (i = 0; i < s->nitems; i++)
		any += s->items[i].expectation == expectation;
	if (!any) {
		report_table_note(t, "%s", L(r, "Bộ câu hỏi này không có câu hỏi về nhu cầu, mong đợi.",
		    "This survey has no expectation items."));
		return;
	}
	if (r->nodata) {
		report_table_note(t, "%s", report_nodata_text(r));
		return;
	}
	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];
		const struct estimate *e = &r->ur->items[i];

		if (it->expectation != expectation)
			continue;
		row = report_row_add(t);
		report_cell_text(t, row, 0, it->code);
		report_cell_text(t, row, 1, report_item_text(r, it));
		report_cell_number(t, row, 2, e->value, 2, 0);
		report_cell_number(t, row, 3, e->ci_low, 2, 0);
		report_cell_number(t, row, 4, e->ci_high, 2, 0);
		report_cell_count(t, row, 5, e->n);
		report_cell_number(t, row, 6, r->nonresponse[i], 2, 0);
		if (!expectation && r->item_change[i].ok) {
			report_cell_number(t, row, 7, r->item_change[i].change.diff, 2, 1);
			report_cell_text(t, row, 8, report_significance_text(r, &r->item_change[i]));
		}
	}
	if (expectation)
		report_table_note(t, "%s", L(r, "Chỉ số mong đợi: tỷ lệ người trả lời chọn mức mong muốn trở lên.",
		    "Expectation index: share of respondents who chose a wish level or above."));
	else
		report_table_note(t, "%s %s", L(r, "Không trả lời: tỷ lệ người trả lời bỏ trống tiêu chí.",
		    "Non-response: share of respondents who left the item blank."), report_holm_sentence(r->lang));
}

/* A sheet name from a title and a suffix: at most 31 bytes, whole UTF-8 characters, no []:*?/\. */
static char *
report_sheet_name(const char *title, const char *suffix)
{
	char *name, *p;
	size_t len;

	if (suffix != NULL)
		xasprintf(&name, "%s (%s)", title, suffix);
	else
		name = xstrdup(title);
	for (p = name; *p != '\0'; p++) {
		if (strchr("[]:*?/\\", *p) != NULL)
			*p = '_';
	}
	len = strlen(name);
	if (len > 31) {
		len = 31;
		while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
		name[len] = '\0';
	}
	return name;
}

/* The distribution of answers: one table per scale, items as rows, values as columns. */
static void
report_section_distribution(struct report *r)
{
	const struct survey *s = r->survey;
	const char *title = report_section_title(r, REPORT_SECTION_DISTRIBUTION);
	struct report_table *t;
	char *sheet, *heading, *col;
	size_t row;
	int k, i, j, first = 1;

	for (k = 0; k < s->nscales; k++) {
		const struct scale *sc = &s->scales[k];

		for (i = 0; i < s->nitems && s->items[i].scale != sc; i++)
			;
		if (i == s->nitems)
			continue;
		sheet = report_sheet_name(title, first ? NULL : sc->name);
		xasprintf(&heading, "%s (%%) – %s %s", L(r, "Phân bố câu trả lời", "Distribution of answers"),
		    L(r, "thang đo", "scale"), sc->name);
		t = report_table_add(r, REPORT_SECTION_DISTRIBUTION, heading, sheet, sc->nvalues + 3);
		free(sheet);
		free(heading);
		first = 0;
		report_column_set(t, 0, L(r, "Mã", "Code"), 8, 0);
		report_column_set(t, 1, L(r, "Tiêu chí", "Item"), 34, 1);
		for (j = 0; j < sc->nvalues; j++) {
			xasprintf(&col, "%d. %s", sc->values[j], report_scale_label(r, sc, j));
			report_column_set(t, j + 2, col, 10, 1);
			free(col);
		}
		report_column_set(t, sc->nvalues + 2, "n", 7, 0);
		if (r->nodata) {
			report_table_note(t, "%s", report_nodata_text(r));
			continue;
		}
		for (i = 0; i < s->nitems; i++) {
			const struct item *it = &s->items[i];

			if (it->scale != sc)
				continue;
			row = report_row_add(t);
			report_cell_text(t, row, 0, it->code);
			report_cell_text(t, row, 1, report_item_text(r, it));
			for (j = 0; j < sc->nvalues; j++)
				report_cell_number(t, row, j + 2, r->ur->dist[i][j], 2, 0);
			report_cell_count(t, row, sc->nvalues + 2, r->ur->items[i].n);
		}
		report_table_note(t, "%s",
		    L(r, "Tỷ lệ (có trọng số) trên số người trả lời tiêu chí; mỗi dòng cộng lại bằng 100 %.",
			"Weighted share of the respondents who answered the item; each row adds up to 100 %."));
	}
}

/* Cronbach's alpha of the elements with at least two items. */
static void
report_section_reliability(struct report *r)
{
	const struct survey *s = r->survey;
	struct report_table *t;
	size_t row;
	int k;

	t = report_table_add(r, REPORT_SECTION_RELIABILITY, report_section_title(r, REPORT_SECTION_RELIABILITY),
	    NULL, 5);
	report_column_set(t, 0, L(r, "Mã", "Code"), 8, 0);
	report_column_set(t, 1, L(r, "Yếu tố", "Element"), 40, 1);
	report_column_set(t, 2, L(r, "Số tiêu chí", "Items"), 9, 0);
	report_column_set(t, 3, "Cronbach's α", 12, 0);
	report_column_set(t, 4, L(r, "n (trả lời đủ)", "n (all answered)"), 12, 0);
	if (r->nodata) {
		report_table_note(t, "%s", report_nodata_text(r));
		return;
	}
	for (k = 0; k < s->ngroups; k++) {
		int gi = r->group_order[k];
		const struct group *g = s->groups[gi];

		if (!g->leaf || g->nitems < 2)
			continue;
		row = report_row_add(t);
		report_cell_text(t, row, 0, g->code);
		report_cell_text(t, row, 1, report_group_title(r, g));
		report_cell_count(t, row, 2, g->nitems);
		report_cell_number(t, row, 3, r->ur->alpha[gi], 2, 0);
		report_cell_count(t, row, 4, r->ur->alpha_n[gi]);
	}
	report_table_note(t, "%s",
	    L(r,
		"α tính trên những người trả lời đủ mọi tiêu chí của yếu tố, theo giá trị gốc của thang đo; "
		"α từ 0,70 trở lên thường được coi là chấp nhận được.",
		"α over the respondents who answered every item of the element, on the raw scale values; "
		"α of 0.70 or more is commonly taken as acceptable."));
}

/* Improvement priorities: the priority items first, then the rest, in survey order. */
static void
report_section_priorities(struct report *r)
{
	const struct survey *s = r->survey;
	struct report_table *t;
	char a[32], b[32];
	size_t row;
	int pass, i;

	t = report_table_add(r, REPORT_SECTION_PRIORITIES, report_section_title(r, REPORT_SECTION_PRIORITIES), NULL, 8);
	report_column_set(t, 0, L(r, "Mã", "Code"), 8, 0);
	report_column_set(t, 1, L(r, "Tiêu chí", "Item"), 40, 1);
	report_column_set(t, 2, L(r, "Tầm quan trọng (r)", "Importance (r)"), 12, 0);
	report_column_set(t, 3, L(r, "Cận dưới của r", "r, CI low"), 10, 0);
	report_column_set(t, 4, L(r, "Cận trên của r", "r, CI high"), 10, 0);
	report_column_set(t, 5, L(r, "Kết quả (%)", "Performance (%)"), 11, 0);
	report_column_set(t, 6, L(r, "Cận trên kết quả (%)", "Performance, CI high (%)"), 11, 0);
	report_column_set(t, 7, L(r, "Ưu tiên cải thiện", "Priority"), 11, 0);
	if (r->nodata) {
		report_table_note(t, "%s", report_nodata_text(r));
		return;
	}
	for (pass = 1; pass >= 0; pass--) {
		for (i = 0; i < s->nsat; i++) {
			const struct priority *p = &r->ur->priorities[i];

			if (p->priority != pass)
				continue;
			row = report_row_add(t);
			report_cell_text(t, row, 0, s->items[i].code)->strong = pass;
			report_cell_text(t, row, 1, report_item_text(r, &s->items[i]))->strong = pass;
			report_cell_number(t, row, 2, p->importance, 2, 0);
			report_cell_number(t, row, 3, p->importance_low, 2, 0);
			report_cell_number(t, row, 4, p->importance_high, 2, 0);
			report_cell_number(t, row, 5, p->performance, 2, 0);
			report_cell_number(t, row, 6, r->ur->items[i].ci_high, 2, 0);
			if (pass)
				report_cell_text(t, row, 7, L(r, "Ưu tiên", "Priority"))->strong = 1;
		}
	}
	report_number_format(r->lang, r->ur->priority_median_importance, 2, 0, a, sizeof a);
	report_number_format(r->lang, r->ur->priority_median_performance, 2, 0, b, sizeof b);
	if (r->lang == REPORT_LANG_VI)
		report_table_note(t,
		    "Tầm quan trọng: hệ số tương quan (có trọng số) giữa điểm tiêu chí và điểm trung bình các "
		    "tiêu chí còn lại của người trả lời, với khoảng tin cậy %g %%. Ưu tiên cải thiện chỉ khi rõ "
		    "ràng: cận dưới của tầm quan trọng trên trung vị (%s) và cận trên của kết quả dưới trung vị "
		    "(%s %%).", report_level_percent(r), a, b);
	else
		report_table_note(t,
		    "Importance: the (weighted) correlation of the item with the mean of the respondent's other "
		    "items, with its %g %% confidence interval. An item is a priority only when this is clear: "
		    "the lower limit of its importance is above the median (%s) and the upper limit of its "
		    "performance is below the median (%s%%).", report_level_percent(r), a, b);
}

/* The scales' satisfied answers, e.g. “Hài lòng” hoặc “Rất hài lòng”, for the given kind of item. */
static char *
report_cut_text(const struct report *r, int expectation)
{
	const struct survey *s = r->survey;
	char *text = xstrdup(""), *next;
	int k, i, j;

	for (k = 0; k < s->nscales; k++) {
		const struct scale *sc = &s->scales[k];

		for (i = 0; i < s->nitems; i++) {
			if (s->items[i].scale == sc && s->items[i].expectation == expectation)
				break;
		}
		if (i == s->nitems)
			continue;
		xasprintf(&next, "%s%s%s %s: ", text, *text != '\0' ? "; " : "", L(r, "thang", "scale"), sc->name);
		free(text);
		text = next;
		for (j = 0; j < sc->nvalues; j++) {
			if (sc->values[j] < sc->satisfied_min)
				continue;
			xasprintf(&next, "%s%s“%s”", text,
			    sc->values[j] > sc->satisfied_min ? L(r, " hoặc ", " or ") : "",
			    report_scale_label(r, sc, j));
			free(text);
			text = next;
		}
	}
	return text;
}

/* The groups of one aggregate rule, e.g. "A, B, C", or NULL if none. */
static char *
report_aggregate_codes(const struct report *r, enum aggregate agg)
{
	const struct survey *s = r->survey;
	char *text = NULL, *next;
	int k;

	for (k = 0; k < s->ngroups; k++) {
		const struct group *g = s->groups[r->group_order[k]];

		if (g->aggregate != agg)
			continue;
		xasprintf(&next, "%s%s%s", text != NULL ? text : "", text != NULL ? ", " : "", g->code);
		free(text);
		text = next;
	}
	return text;
}

/* How the groups are aggregated, in words. */
static char *
report_aggregate_text(const struct report *r)
{
	static const struct {
		enum aggregate agg;
		const char *vi, *en;
	} rules[] = {
	    {AGGREGATE_MEAN_ITEMS, "trung bình cộng các chỉ số tiêu chí thuộc nhóm",
		"the mean of its items' indices"},
	    {AGGREGATE_MEAN_CHILDREN, "trung bình cộng các chỉ số nhóm con", "the mean of its child groups' indices"},
	    {AGGREGATE_POOLED, "tỷ lệ gộp câu trả lời hài lòng trên mọi tiêu chí của nhóm",
		"the pooled share of satisfied answers over all its items"},
	};
	char *text = xstrdup(""), *codes, *next;
	size_t k;

	for (k = 0; k < sizeof rules / sizeof rules[0]; k++) {
		if ((codes = report_aggregate_codes(r, rules[k].agg)) == NULL)
			continue;
		xasprintf(&next, "%s%s%s: %s", text, *text != '\0' ? "; " : "", codes, L(r, rules[k].vi, rules[k].en));
		free(text);
		free(codes);
		text = next;
	}
	return text;
}

/* The sample sizes, in words. */
static char *
report_sample_text(const struct report *r)
{
	long lo = 0, hi = 0;
	size_t i, with = 0;
	char n[32], a[32], b[32], p[32], *text;

	for (i = 0; i < r->nchildren; i++) {
		long m;

		if (r->children[i].ur == NULL)
			continue;
		m = r->children[i].ur->respondents;
		lo = with == 0 || m < lo ? m : lo;
		hi = with == 0 || m > hi ? m : hi;
		with++;
	}
	report_count_format(r->lang, r->ur != NULL ? r->ur->respondents : 0, n, sizeof n);
	report_count_format(r->lang, r->prev != NULL ? r->prev->respondents : 0, p, sizeof p);
	report_count_format(r->lang, lo, a, sizeof a);
	report_count_format(r->lang, hi, b, sizeof b);
	if (r->lang == REPORT_LANG_VI)
		xasprintf(&text, "%s: %s người trả lời trong kỳ báo cáo%s%s%s. Đơn vị trực thuộc: %zu đơn vị, %zu có "
		    "dữ liệu (từ %s đến %s người trả lời), %zu đủ điều kiện xếp hạng (n ≥ %ld).", r->unit_name, n,
		    r->prev != NULL ? ", " : "", r->prev != NULL ? p : "", r->prev != NULL ? " trong kỳ trước" : "",
		    r->nchildren, with, a, b, r->nranked, r->min_n);
	else
		xasprintf(&text,
		    "%s: %s respondents in the period%s%s%s. Child units: %zu, %zu with data (%s to %s "
		    "respondents), %zu ranked (n ≥ %ld).",
		    r->unit_name, n, r->prev != NULL ? ", " : "", r->prev != NULL ? p : "",
		    r->prev != NULL ? " in the previous period" : "", r->nchildren, with, a, b, r->nranked, r->min_n);
	return text;
}

/* Item non-response, in words. */
static char *
report_nonresponse_text(const struct report *r)
{
	const struct survey *s = r->survey;
	double sum = 0;
	int i, lo = -1, hi = -1, k = 0;
	char m[32], a[32], b[32], *text;

	for (i = 0; i < s->nitems && r->ur != NULL; i++) {
		sum += r->nonresponse[i];
		k++;
		if (lo < 0 || r->nonresponse[i] < r->nonresponse[lo])
			lo = i;
		if (hi < 0 || r->nonresponse[i] > r->nonresponse[hi])
			hi = i;
	}
	if (k == 0)
		return xstrdup(report_nodata_text(r));
	report_number_format(r->lang, sum / k, 2, 0, m, sizeof m);
	report_number_format(r->lang, r->nonresponse[lo], 2, 0, a, sizeof a);
	report_number_format(r->lang, r->nonresponse[hi], 2, 0, b, sizeof b);
	if (r->lang == REPORT_LANG_VI)
		xasprintf(&text,
		    "Tỷ lệ người trả lời bỏ trống một câu hỏi: trung bình %s %%, thấp nhất %s %% (%s), cao "
		    "nhất %s %% (%s); chi tiết theo từng tiêu chí ở bảng Tiêu chí. Câu bỏ trống không bao giờ được "
		    "tính là 0.",
		    m, a, s->items[lo].code, b, s->items[hi].code);
	else
		xasprintf(&text, "Share of respondents who left a question blank: mean %s%%, lowest %s%% (%s), highest "
		    "%s%% (%s); per item in the Items table. A blank answer is never counted as 0.", m, a,
		    s->items[lo].code, b, s->items[hi].code);
	return text;
}

/* A methods row: label and text (owned, freed here). */
static void
report_method_add(struct report_table *t, const char *label, char *text)
{
	report_kv_text(t, label, text);
	free(text);
}

/* The fixed paragraphs of the methods annex: label and text, Vietnamese then English. */
static const struct {
	const char *label[2];
	const char *text[2];
} report_methods_fixed[] = {
	{ { "Thay đổi giữa hai kỳ", "Change between periods" },
	    { "Hiệu hai chỉ số (điểm phần trăm); sai số chuẩn √(SE₁² + SE₂²); giá trị p hai phía theo phân phối "
	      "chuẩn, hiệu chỉnh theo phương pháp Holm trên các thay đổi của cùng một bảng; có ý nghĩa thống kê "
	      "khi giá trị p hiệu chỉnh < 0,05.",
		"Difference of the two indices (percentage points); standard error √(SE₁² + SE₂²); two-sided "
		"p-value from the normal distribution, adjusted by Holm's method over the changes of one table; "
		"significant when the adjusted p-value < 0.05." } },
	{ { "Xếp hạng", "Ranking" },
	    { "Đơn vị trực thuộc xếp theo chỉ số chung giảm dần; giá trị p hai phía của chỉ số đơn vị so với "
	      "chỉ số của đơn vị cấp trên (phân phối t), hiệu chỉnh Holm trên mọi đơn vị được xếp hạng; "
	      "“Cao hơn” / “Thấp hơn” khi giá trị p hiệu chỉnh < 0,05, còn lại “Tương đương”.",
		"Child units by overall index, highest first; two-sided p-value of the unit's index against "
		"the parent's index (t distribution), adjusted by Holm's method over every ranked unit; "
		"“Above” / “Below” when the adjusted p-value < 0.05, else “Within”." } },
	{ { "Xu hướng", "Trend" },
	    { "Độ dốc bình phương tối thiểu có trọng số (trọng số 1/SE²) của chỉ số chung qua các kỳ, tính bằng "
	      "điểm phần trăm mỗi kỳ; chỉ tính khi có ít nhất 3 kỳ có số liệu.",
		"Weighted least-squares slope (weights 1/SE²) of the overall index over the periods, in "
		"percentage points per period; computed only with at least 3 periods with data." } },
	{ { "Độ tin cậy thang đo", "Scale reliability" },
	    { "Hệ số Cronbach's α của mỗi yếu tố, trên những người trả lời đủ mọi tiêu chí của yếu tố, theo giá "
	      "trị gốc của thang đo.",
		"Cronbach's α of each element over the respondents who answered all its items, on the raw scale "
		"values." } },
	{ { "Ưu tiên cải thiện", "Improvement priorities" },
	    { "Tầm quan trọng = hệ số tương quan Pearson (có trọng số) giữa điểm tiêu chí và trung bình các "
	      "tiêu chí hài lòng còn lại của người trả lời, khoảng tin cậy theo biến đổi z của Fisher trên cỡ "
	      "mẫu hiệu dụng; kết quả = chỉ số tiêu chí. Ưu tiên: cận dưới của tầm quan trọng trên trung vị "
	      "tầm quan trọng và cận trên của kết quả dưới trung vị kết quả.",
		"Importance = (weighted) Pearson correlation of the item with the mean of the respondent's "
		"other satisfaction items, its interval by Fisher's z on the effective sample size; "
		"performance = the item index. Priority: the importance's lower limit above the median "
		"importance and the performance's upper limit below the median performance." } },
};

/* The interval method of the design, in words. */
static char *
report_interval_text(const struct report *r)
{
	char *text;

	if (r->ur != NULL && r->ur->complex)
		xasprintf(&text, "%s %g %%.", L(r,
		    "Mẫu phức hợp (trọng số, tầng, cụm): khoảng logit cho mỗi tiêu chí; chỉ số nhóm ± t · SE, "
		    "SE tính bằng tuyến tính hoá; t theo (số cụm − số tầng) bậc tự do. Mức tin cậy",
		    "Complex design (weights, strata, clusters): logit interval for each item; groups ± t · SE, "
		    "SE by linearization; t on (PSUs − strata) degrees of freedom. Confidence level"),
		    report_level_percent(r));
	else
		xasprintf(&text, "%s %g %%.", L(r,
		    "Mẫu đơn giản: khoảng Wilson cho mỗi tiêu chí; chỉ số nhóm ± t · SE, SE tính bằng tuyến tính "
		    "hoá, t theo n − 1 bậc tự do. Mức tin cậy",
		    "Simple design: Wilson interval for each item; groups ± t · SE, SE by linearization, t on "
		    "n − 1 degrees of freedom. Confidence level"),
		    report_level_percent(r));
	return text;
}

/* The methods annex: formulas in words, design, sample sizes, non-response. */
static void
report_section_methods(struct report *r)
{
	const struct survey *s = r->survey;
	int en = r->lang == REPORT_LANG_EN;
	struct report_table *t;
	char *text, *cut;
	size_t k;
	int i, nexp = 0;

	for (i = 0; i < s->nitems; i++)
		nexp += s->items[i].expectation;
	t = report_table_add(r, REPORT_SECTION_METHODS, report_section_title(r, REPORT_SECTION_METHODS), NULL, 2);
	t->keyvalue = 1;
	report_column_set(t, 0, L(r, "Nội dung", "Topic"), 28, 1);
	report_column_set(t, 1, L(r, "Mô tả", "Description"), 90, 1);
	xasprintf(&text, "%s (%s, %s %d). %s: %s.", report_survey_title(r), s->code, L(r, "phiên bản", "version"),
	    s->version, L(r, "Căn cứ", "Basis"), s->basis != NULL ? s->basis : "–");
	report_method_add(t, L(r, "Bộ câu hỏi", "Survey definition"), text);
	cut = report_cut_text(r, 0);
	xasprintf(&text, "%s (%s). %s", L(r,
	    "Tỷ lệ phần trăm (có trọng số) người trả lời chọn mức hài lòng trở lên trên tổng số người trả lời "
	    "tiêu chí đó",
	    "Weighted percentage of the respondents who answered the item that chose a satisfied answer"), cut,
	    L(r, "Câu bỏ trống được loại khỏi mẫu số, không tính là 0.",
		"A blank answer leaves the denominator; it is never counted as 0."));
	free(cut);
	report_method_add(t, L(r, "Chỉ số tiêu chí", "Item index"), text);
	report_method_add(t, L(r, "Chỉ số nhóm", "Group indices"), report_aggregate_text(r));
	if (nexp > 0) {
		cut = report_cut_text(r, 1);
		xasprintf(&text, "%s (%s).", L(r, "Tỷ lệ người trả lời chọn mức mong muốn trở lên",
		    "Share of the respondents who chose a wish level or above"), cut);
		free(cut);
		report_method_add(t, L(r, "Chỉ số mong đợi", "Expectation index"), text);
	}
	report_method_add(t, L(r, "Khoảng tin cậy", "Confidence intervals"), report_interval_text(r));
	for (k = 0; k < sizeof report_methods_fixed / sizeof report_methods_fixed[0]; k++) {
		if (strcmp(report_methods_fixed[k].label[1], "Trend") == 0 && r->ntrend == 0)
			continue;
		report_kv_text(t, report_methods_fixed[k].label[en], report_methods_fixed[k].text[en]);
	}
	report_method_add(t, L(r, "Cỡ mẫu", "Sample sizes"), report_sample_text(r));
	report_method_add(t, L(r, "Không trả lời", "Non-response"), report_nonresponse_text(r));
	report_kv_text(t, L(r, "Làm tròn", "Rounding"), L(r,
	    "Tính với độ chính xác kép; chỉ làm tròn khi trình bày (hai chữ số thập phân). Tệp CSV và các ô số "
	    "của tệp XLSX giữ nguyên độ chính xác.",
	    "Computed in double precision and rounded only for display (two decimals). The CSV file and the "
	    "XLSX number cells keep full precision."));
}

/* Mark the columns whose filled cells are all numbers (not in key-value tables). */
static void
report_tables_align(struct report *r)
{
	size_t i, row;
	int j, numbers, texts;

	for (i = 0; i < r->ntables; i++) {
		struct report_table *t = &r->tables[i];

		for (j = 0; j < t->ncolumns && !t->keyvalue; j++) {
			numbers = texts = 0;
			for (row = 0; row < t->nrows; row++) {
				enum report_cell_kind k = report_cell_at(t, row, j)->kind;

				numbers += k == REPORT_CELL_NUMBER || k == REPORT_CELL_INTEGER;
				texts += k == REPORT_CELL_TEXT;
			}
			t->columns[j].numeric = numbers > 0 && texts == 0;
		}
	}
}

/* Every table, in section order. */
static void
report_tables_build(struct report *r)
{
	report_section_overview(r);
	report_section_ranking(r);
	report_section_elements(r);
	report_section_items(r, 0);
	report_section_items(r, 1);
	report_section_distribution(r);
	report_section_reliability(r);
	report_section_priorities(r);
	report_section_methods(r);
	report_tables_align(r);
}

/* A copy of s, or NULL. */
static char *
report_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Build the report of one unit and period. */
struct report *
report_create(const struct result *cur, const struct result *prev, const struct report_params *p, char **cause)
{
	struct report *r;
	const struct unit_result *u;
	size_t i;
	int k = 0;

	if (cur == NULL || p->unit == NULL || *p->unit == '\0') {
		xasprintf(cause, "report: no unit");
		return NULL;
	}
	if (p->from == NULL || p->to == NULL || *p->from == '\0' || *p->to == '\0') {
		xasprintf(cause, "report: no period");
		return NULL;
	}
	if (prev != NULL && prev->survey != cur->survey && strcmp(prev->survey->code, cur->survey->code) != 0) {
		xasprintf(cause, "report: previous period of survey %s, not %s", prev->survey->code, cur->survey->code);
		return NULL;
	}
	if (p->lang != REPORT_LANG_VI && p->lang != REPORT_LANG_EN) {
		xasprintf(cause, "report: unknown language");
		return NULL;
	}
	if (p->min_n < 0) {
		xasprintf(cause, "report: negative minimum n");
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->survey = cur->survey;
	r->lang = p->lang;
	r->unit = xstrdup(p->unit);
	r->unit_name = xstrdup(p->unit_name != NULL && *p->unit_name != '\0' ? p->unit_name : p->unit);
	r->from = xstrdup(p->from);
	r->to = xstrdup(p->to);
	r->prev_from = report_strdup(p->prev_from);
	r->prev_to = report_strdup(p->prev_to);
	if (p->generated != NULL) {
		char day[64];

		r->generated = xstrdup(util_day_text(p->generated, p->lang == REPORT_LANG_EN, day, sizeof day));
	}
	r->level = cur->level;
	r->min_n = p->min_n;
	if ((u = report_unit_lookup(cur, p->unit)) != NULL)
		r->ur = report_unit_dup(r->survey, u);
	else
		r->nodata = 1;
	if ((u = report_unit_lookup(prev, p->unit)) != NULL)
		r->prev = report_unit_dup(r->survey, u);
	r->group_order = xcalloc(r->survey->ngroups, sizeof *r->group_order);
	r->group_depth = xcalloc(r->survey->ngroups, sizeof *r->group_depth);
	report_groups_walk(r, r->survey->overall, 0, &k);
	ASSERT(k == r->survey->ngroups);
	if (p->ntrend > 0) {
		r->trend = xcalloc(p->ntrend, sizeof *r->trend);
		for (i = 0; i < p->ntrend; i++) {
			r->trend[i].label = xstrdup(p->trend[i].label != NULL ? p->trend[i].label : "");
			r->trend[i].estimate = p->trend[i].estimate;
		}
		r->ntrend = p->ntrend;
	}
	if (!r->nodata)
		report_children_build(r, cur, p);
	report_derive(r);
	report_tables_build(r);
	return r;
}

/* Free a report. */
void
report_free(struct report *r)
{
	size_t i, j;
	int k;

	if (r == NULL)
		return;
	for (i = 0; i < r->ntables; i++) {
		struct report_table *t = &r->tables[i];

		free(t->title);
		free(t->sheet);
		free(t->note);
		for (k = 0; k < t->ncolumns; k++)
			free(t->columns[k].title);
		free(t->columns);
		for (j = 0; j < t->nrows * t->ncolumns; j++)
			free(t->cells[j].text);
		free(t->cells);
	}
	free(r->tables);
	for (i = 0; i < r->nchildren; i++) {
		free(r->children[i].code);
		free(r->children[i].name);
		report_unit_free(r->survey, r->children[i].ur);
	}
	free(r->children);
	for (i = 0; i < r->ntrend; i++)
		free(r->trend[i].label);
	free(r->trend);
	report_unit_free(r->survey, r->ur);
	report_unit_free(r->survey, r->prev);
	free(r->group_change);
	free(r->item_change);
	free(r->nonresponse);
	free(r->group_order);
	free(r->group_depth);
	free(r->unit);
	free(r->unit_name);
	free(r->from);
	free(r->to);
	free(r->prev_from);
	free(r->prev_to);
	free(r->generated);
	free(r);
}
