/*
 * render_csv.c: the report as one tidy CSV table for further analysis:
 * unit,index_kind,code,value,ci_low,ci_high,n, one row per unit and index
 * (the report's unit first, then its children in ranking order), then the
 * trend of the unit's overall index as rows "unit,trend,LABEL,..." oldest
 * first (a period without data inside the trend with empty cells).
 *
 * Full precision with a "." decimal point whatever the report's language;
 * an index without a value has empty cells. A period without data gives
 * the header and the trend alone.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sipas/csvout.h"
#include "sipas/report.h"
#include "sipas/util.h"

/* A number at full precision, or an empty field for NAN. */
static void
report_csv_number(struct csvout *o, double v)
{
	char buf[32];

	if (isfinite(v)) {
		snprintf(buf, sizeof buf, "%.17g", v);
		csvout_number(o, buf);
	} else
		csvout_field(o, NULL);
}

/* One row. */
static void
report_csv_row(struct csvout *o, const char *unit, const char *kind, const char *code, const struct estimate *e)
{
	char n[24];

	csvout_field(o, unit);
	csvout_field(o, kind);
	csvout_field(o, code);
	report_csv_number(o, e->value);
	report_csv_number(o, e->ci_low);
	report_csv_number(o, e->ci_high);
	snprintf(n, sizeof n, "%ld", e->n);
	csvout_number(o, n);
	csvout_row_end(o);
}

/* Every index of one unit. */
static void
report_csv_unit(struct csvout *o, const struct survey *s, const char *unit, const struct unit_result *ur)
{
	int i;

	report_csv_row(o, unit, "overall", s->overall->code, &ur->groups[s->ngroups - 1]);
	for (i = 0; i < s->ngroups - 1; i++)
		report_csv_row(o, unit, "group", s->groups[i]->code, &ur->groups[i]);
	for (i = 0; i < s->nitems; i++)
		report_csv_row(o, unit, s->items[i].expectation ? "expectation" : "item", s->items[i].code,
		    &ur->items[i]);
}

/* The CSV's rows into f. */
static int
report_csv_body(FILE *f, const char *tmp, void *arg, char **cause)
{
	const struct report *r = arg;
	struct csvout o;
	size_t i;
	int error;

	(void)tmp;
	(void)cause;
	csvout_init(&o, "\n");
	fputs("unit,index_kind,code,value,ci_low,ci_high,n\n", f);
	if (r->ur != NULL)
		report_csv_unit(&o, r->survey, r->unit, r->ur);
	for (i = 0; i < r->nchildren; i++) {
		if (r->children[i].ur != NULL)
			report_csv_unit(&o, r->survey, r->children[i].code, r->children[i].ur);
	}
	for (i = 0; i < r->ntrend; i++)
		report_csv_row(&o, r->unit, "trend", r->trend[i].label, &r->trend[i].estimate);
	error = csvout_write(&o, f) != 0 ? -1 : 0;
	csvout_free(&o);
	return error;
}

/* Write the CSV. */
int
report_write_csv(const struct report *r, const char *path, char **cause)
{
	return report_path_write(path, "w", report_csv_body, (void *)r, cause);
}
