/*
 * output.c: the result JSON (docs/interfaces.md, "Result JSON") and its CSV
 * form.
 *
 * Full precision always (docs/methodology.md section 9); NAN becomes JSON null
 * or an empty CSV cell. Extensions of the shared result shape:
 * each estimate carries "se"; each item its "distribution"; each unit its
 * "reliability" (Cronbach's alpha per element), "priorities" and "warnings";
 * a unit whose numbers are withheld (result_unit_withhold) says so with
 * "withheld": "min_n" and "min_n".
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/textbuf.h"
#include "sipas/util.h"

/* A number, or null for NAN. */
static json_t *
output_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* One estimate object. */
static json_t *
output_estimate(const char *code, const struct estimate *e)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:I, s:o}", "code", code,
	    "value", output_number(e->value), "ci_low", output_number(e->ci_low),
	    "ci_high", output_number(e->ci_high), "n", (json_int_t)e->n,
	    "se", output_number(e->se));
}

/* The items (or expectation items) of a unit. */
static json_t *
output_items(const struct survey *s, const struct unit_result *ur, int expectation)
{
	json_t *arr = json_array(), *o, *dist;
	int i, j;

	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		if (it->expectation != expectation)
			continue;
		o = output_estimate(it->code, &ur->items[i]);
		dist = json_object();
		for (j = 0; j < it->scale->nvalues; j++) {
			char key[16];

			snprintf(key, sizeof key, "%d", it->scale->values[j]);
			json_object_set_new(dist, key, output_number(ur->dist[i][j]));
		}
		json_object_set_new(o, "distribution", dist);
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The warning of a unit with a stratum of a single PSU. */
static json_t *
output_lonely_warning(const struct survey *s, const struct unit_result *ur)
{
	return json_sprintf("unit %s: a stratum has a single PSU; %s", ur->unit,
	    s->lonely_psu == LONELY_PSU_CERTAINTY ? "it adds nothing to the variance (lonely_psu certainty)" :
	    "its PSU total enters the variance about zero (lonely_psu adjust)");
}

/* One unit object. */
static json_t *
output_unit(const struct survey *s, const struct unit_result *ur)
{
	json_t *o, *groups = json_array(), *rel = json_array(), *pri = json_array(), *warn = json_array();
	int i;

	for (i = 0; i < s->ngroups - 1; i++)
		json_array_append_new(groups, output_estimate(s->groups[i]->code, &ur->groups[i]));
	for (i = 0; i < s->ngroups; i++) {
		if (s->groups[i]->leaf && s->groups[i]->nitems >= 2)
			json_array_append_new(rel, json_pack("{s:s, s:o, s:I}", "code", s->groups[i]->code,
			    "alpha", output_number(ur->alpha[i]), "n", (json_int_t)ur->alpha_n[i]));
	}
	for (i = 0; i < s->nsat; i++) {
		const struct priority *p = &ur->priorities[i];

		json_array_append_new(pri, json_pack("{s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:b}",
		    "code", s->items[i].code, "importance", output_number(p->importance),
		    "importance_ci_low", output_number(p->importance_low),
		    "importance_ci_high", output_number(p->importance_high),
		    "importance_n", (json_int_t)p->importance_n,
		    "importance_neff", output_number(p->importance_neff),
		    "performance", output_number(p->performance),
		    "performance_ci_high", output_number(ur->items[i].ci_high),
		    "priority", p->priority));
	}
	if (ur->lonely_psu)
		json_array_append_new(warn, output_lonely_warning(s, ur));
	o = json_pack("{s:s, s:s, s:I}", "unit", ur->unit, "design", ur->complex ? "complex" : "simple",
	    "respondents", (json_int_t)ur->respondents);
	json_object_set_new(o, "design_reason", json_pack("{s:I, s:I, s:I}",
	    "weighted_rows", (json_int_t)ur->nweighted, "strata", (json_int_t)ur->nstrata,
	    "psus", (json_int_t)ur->npsu));
	json_object_set_new(o, "priority_medians", json_pack("{s:o, s:o}",
	    "importance", output_number(ur->priority_median_importance),
	    "performance", output_number(ur->priority_median_performance)));
	json_object_set_new(o, "overall", output_estimate(s->overall->code, &ur->groups[s->ngroups - 1]));
	json_object_set_new(o, "groups", groups);
	json_object_set_new(o, "items", output_items(s, ur, 0));
	json_object_set_new(o, "expectations", output_items(s, ur, 1));
	json_object_set_new(o, "reliability", rel);
	json_object_set_new(o, "priorities", pri);
	json_object_set_new(o, "warnings", warn);
	if (ur->withheld_min_n > 0) {
		json_object_set_new(o, "withheld", json_string("min_n"));
		json_object_set_new(o, "min_n",
		    json_integer((json_int_t)ur->withheld_min_n));
	}
	return o;
}

/* An estimate without its numbers; its n stays. */
static void
output_estimate_withhold(struct estimate *e)
{
	e->value = e->ci_low = e->ci_high = e->se = NAN;
}

/* Withhold the numbers of a small unit. */
void
result_unit_withhold(const struct survey *s, struct unit_result *ur,
    long min_n)
{
	int i, j;

	for (i = 0; i < s->ngroups; i++) {
		output_estimate_withhold(&ur->groups[i]);
		ur->alpha[i] = NAN;
	}
	for (i = 0; i < s->nitems; i++) {
		output_estimate_withhold(&ur->items[i]);
		for (j = 0; j < s->items[i].scale->nvalues; j++)
			ur->dist[i][j] = NAN;
	}
	for (i = 0; i < s->nsat; i++) {
		ur->priorities[i].importance = NAN;
		ur->priorities[i].importance_low = NAN;
		ur->priorities[i].importance_high = NAN;
		ur->priorities[i].performance = NAN;
		ur->priorities[i].priority = 0;
	}
	ur->priority_median_importance = ur->priority_median_performance = NAN;
	ur->withheld_min_n = min_n;
}

/*
 * The compact text, written directly: the same bytes as Jansson's compact
 * dump of the tree above (tests/unit/test_fixtures checks both agree), without
 * a tree of some 30,000 nodes for a province and its 100 districts.
 */

/* "key": */
static void
tj_key(struct textbuf *t, const char *key)
{
	textbuf_json_string(t, key);
	textbuf_addc(t, ':');
}

/* A number, or null for NAN. */
static void
tj_number(struct textbuf *t, double v)
{
	if (isfinite(v))
		textbuf_json_real(t, v);
	else
		textbuf_add(t, "null", 4);
}

static void
tj_estimate(struct textbuf *t, const char *code, const struct estimate *e)
{
	tj_key(t, "code");
	textbuf_json_string(t, code);
	textbuf_add(t, ",\"value\":", 9);
	tj_number(t, e->value);
	textbuf_add(t, ",\"ci_low\":", 10);
	tj_number(t, e->ci_low);
	textbuf_add(t, ",\"ci_high\":", 11);
	tj_number(t, e->ci_high);
	textbuf_add(t, ",\"n\":", 5);
	textbuf_int(t, e->n);
	textbuf_add(t, ",\"se\":", 6);
	tj_number(t, e->se);
}

static void
tj_items(struct textbuf *t, const struct survey *s, const struct unit_result *ur,
    int expectation)
{
	int i, j, first = 1;

	textbuf_addc(t, '[');
	for (i = 0; i < s->nitems; i++) {
		const struct item *it = &s->items[i];

		if (it->expectation != expectation)
			continue;
		textbuf_add(t, first ? "{" : ",{", first ? 1 : 2);
		first = 0;
		tj_estimate(t, it->code, &ur->items[i]);
		textbuf_add(t, ",\"distribution\":{", 17);
		for (j = 0; j < it->scale->nvalues; j++) {
			if (j > 0)
				textbuf_addc(t, ',');
			textbuf_addc(t, '"');
			textbuf_int(t, it->scale->values[j]);
			textbuf_add(t, "\":", 2);
			tj_number(t, ur->dist[i][j]);
		}
		textbuf_add(t, "}}", 2);
	}
	textbuf_addc(t, ']');
}

static void
tj_unit(struct textbuf *t, const struct survey *s, const struct unit_result *ur)
{
	int i, first;

	textbuf_add(t, "{\"unit\":", 8);
	textbuf_json_string(t, ur->unit);
	textbuf_puts(t, ur->complex ? ",\"design\":\"complex\"" :
	    ",\"design\":\"simple\"");
	textbuf_puts(t, ",\"respondents\":");
	textbuf_int(t, ur->respondents);
	textbuf_puts(t, ",\"design_reason\":{\"weighted_rows\":");
	textbuf_int(t, ur->nweighted);
	textbuf_puts(t, ",\"strata\":");
	textbuf_int(t, ur->nstrata);
	textbuf_puts(t, ",\"psus\":");
	textbuf_int(t, ur->npsu);
	textbuf_puts(t, "},\"priority_medians\":{\"importance\":");
	tj_number(t, ur->priority_median_importance);
	textbuf_puts(t, ",\"performance\":");
	tj_number(t, ur->priority_median_performance);
	textbuf_puts(t, "},\"overall\":{");
	tj_estimate(t, s->overall->code, &ur->groups[s->ngroups - 1]);
	textbuf_puts(t, "},\"groups\":[");
	for (i = 0; i < s->ngroups - 1; i++) {
		textbuf_add(t, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
		tj_estimate(t, s->groups[i]->code, &ur->groups[i]);
		textbuf_addc(t, '}');
	}
	textbuf_puts(t, "],\"items\":");
	tj_items(t, s, ur, 0);
	textbuf_puts(t, ",\"expectations\":");
	tj_items(t, s, ur, 1);
	textbuf_puts(t, ",\"reliability\":[");
	for (i = 0, first = 1; i < s->ngroups; i++) {
		if (!s->groups[i]->leaf || s->groups[i]->nitems < 2)
			continue;
		textbuf_add(t, first ? "{" : ",{", first ? 1 : 2);
		first = 0;
		tj_key(t, "code");
		textbuf_json_string(t, s->groups[i]->code);
		textbuf_puts(t, ",\"alpha\":");
		tj_number(t, ur->alpha[i]);
		textbuf_puts(t, ",\"n\":");
		textbuf_int(t, ur->alpha_n[i]);
		textbuf_addc(t, '}');
	}
	textbuf_puts(t, "],\"priorities\":[");
	for (i = 0; i < s->nsat; i++) {
		const struct priority *p = &ur->priorities[i];

		textbuf_add(t, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
		tj_key(t, "code");
		textbuf_json_string(t, s->items[i].code);
		textbuf_puts(t, ",\"importance\":");
		tj_number(t, p->importance);
		textbuf_puts(t, ",\"importance_ci_low\":");
		tj_number(t, p->importance_low);
		textbuf_puts(t, ",\"importance_ci_high\":");
		tj_number(t, p->importance_high);
		textbuf_puts(t, ",\"importance_n\":");
		textbuf_int(t, p->importance_n);
		textbuf_puts(t, ",\"importance_neff\":");
		tj_number(t, p->importance_neff);
		textbuf_puts(t, ",\"performance\":");
		tj_number(t, p->performance);
		textbuf_puts(t, ",\"performance_ci_high\":");
		tj_number(t, ur->items[i].ci_high);
		textbuf_puts(t, p->priority ? ",\"priority\":true}" :
		    ",\"priority\":false}");
	}
	textbuf_puts(t, "],\"warnings\":[");
	if (ur->lonely_psu) {
		/* Rare: the message as the tree writes it. */
		json_t *w = output_lonely_warning(s, ur);

		/* NULL (a code that is not UTF-8): no warning, as the tree. */
		if (w != NULL)
			textbuf_json_string(t, json_string_value(w));
		json_decref(w);
	}
	textbuf_addc(t, ']');
	if (ur->withheld_min_n > 0) {
		textbuf_puts(t, ",\"withheld\":\"min_n\",\"min_n\":");
		textbuf_int(t, ur->withheld_min_n);
	}
	textbuf_addc(t, '}');
}

/* The result as JSON text (caller frees): compact, or indented by 2. */
char *
result_to_json(const struct result *r, int pretty)
{
	json_t *root, *units;
	struct textbuf t = { NULL, 0, 0 };
	char *text;
	size_t i;

	if (!pretty) {
		textbuf_puts(&t, "{\"survey\":");
		textbuf_json_string(&t, r->survey->code);
		textbuf_puts(&t, ",\"confidence\":");
		textbuf_json_real(&t, r->level);
		textbuf_puts(&t, ",\"units\":[");
		for (i = 0; i < r->nunits; i++) {
			if (i > 0)
				textbuf_addc(&t, ',');
			tj_unit(&t, r->survey, &r->units[i]);
		}
		textbuf_add(&t, "]}", 2);
		return textbuf_take(&t);
	}
	units = json_array();
	for (i = 0; i < r->nunits; i++)
		json_array_append_new(units, output_unit(r->survey, &r->units[i]));
	root = json_pack("{s:s, s:f, s:o}", "survey", r->survey->code, "confidence", r->level, "units", units);
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) | JSON_INDENT(2));
	json_decref(root);
	ASSERT(text != NULL);
	return text;
}

/* Append formatted text to a growing buffer. */
static void __attribute__((format(printf, 4, 5)))
output_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		ASSERT(n >= 0);
		if ((size_t)n < *cap - *len)
			break;
		*cap = (*cap + n + 1) * 2;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	*len += n;
}

/* A number cell: full precision, empty for NAN. */
static void
output_cell(char **buf, size_t *len, size_t *cap, double v)
{
	if (isfinite(v))
		output_append(buf, len, cap, ",%.17g", v);
	else
		output_append(buf, len, cap, ",");
}

/* One CSV row. Codes are letters, digits, dots and underscores; units are quoted. */
static void
output_csv_row(char **buf, size_t *len, size_t *cap, const char *unit, const char *kind,
    const char *code, const struct estimate *e)
{
	const char *p;

	output_append(buf, len, cap, "\"");
	for (p = unit; *p != '\0'; p++)
		output_append(buf, len, cap, *p == '"' ? "\"\"" : "%c", *p);
	output_append(buf, len, cap, "\",%s,\"%s\"", kind, code);
	output_cell(buf, len, cap, e->value);
	output_cell(buf, len, cap, e->ci_low);
	output_cell(buf, len, cap, e->ci_high);
	output_append(buf, len, cap, ",%ld\n", e->n);
}

/* The result as CSV: one row per unit and index. */
char *
result_to_csv(const struct result *r)
{
	const struct survey *s = r->survey;
	size_t len = 0, cap = 4096, i;
	char *buf = xmalloc(cap);
	int j;

	output_append(&buf, &len, &cap, "unit,kind,code,value,ci_low,ci_high,n\n");
	for (i = 0; i < r->nunits; i++) {
		const struct unit_result *ur = &r->units[i];

		output_csv_row(&buf, &len, &cap, ur->unit, "overall", s->overall->code, &ur->groups[s->ngroups - 1]);
		for (j = 0; j < s->ngroups - 1; j++)
			output_csv_row(&buf, &len, &cap, ur->unit, "group", s->groups[j]->code, &ur->groups[j]);
		for (j = 0; j < s->nitems; j++)
			output_csv_row(&buf, &len, &cap, ur->unit, s->items[j].expectation ? "expectation" : "item",
			    s->items[j].code, &ur->items[j]);
	}
	return buf;
}
