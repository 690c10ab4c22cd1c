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
		json_array_append_new(warn, json_sprintf("unit %s: a stratum has a single PSU; %s", ur->unit,
		    s->lonely_psu == LONELY_PSU_CERTAINTY ? "it adds nothing to the variance (lonely_psu certainty)" :
		    "its PSU total enters the variance about zero (lonely_psu adjust)"));
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

/* The result as JSON text (caller frees). */
char *
result_to_json(const struct result *r, int pretty)
{
	json_t *root, *units = json_array();
	char *text;
	size_t i;

	for (i = 0; i < r->nunits; i++)
		json_array_append_new(units, output_unit(r->survey, &r->units[i]));
	root = json_pack("{s:s, s:f, s:o}", "survey", r->survey->code, "confidence", r->level, "units", units);
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
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
