/*
 * csv.c: the report as one tidy CSV table for further analysis:
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

#include "sipas/report.h"
#include "sipas/util.h"

/* One field, quoted when it holds a comma, a quote or a line break. */
static void
report_csv_field(FILE *f, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* A number at full precision, or nothing for NAN. */
static void
report_csv_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, ",%.17g", v);
	else
		fputc(',', f);
}

/* One row. */
static void
report_csv_row(FILE *f, const char *unit, const char *kind, const char *code, const struct estimate *e)
{
	report_csv_field(f, unit);
	fprintf(f, ",%s,", kind);
	report_csv_field(f, code);
	report_csv_number(f, e->value);
	report_csv_number(f, e->ci_low);
	report_csv_number(f, e->ci_high);
	fprintf(f, ",%ld\n", e->n);
}

/* Every index of one unit. */
static void
report_csv_unit(FILE *f, const struct survey *s, const char *unit, const struct unit_result *ur)
{
	int i;

	report_csv_row(f, unit, "overall", s->overall->code, &ur->groups[s->ngroups - 1]);
	for (i = 0; i < s->ngroups - 1; i++)
		report_csv_row(f, unit, "group", s->groups[i]->code, &ur->groups[i]);
	for (i = 0; i < s->nitems; i++)
		report_csv_row(f, unit, s->items[i].expectation ? "expectation" : "item", s->items[i].code,
		    &ur->items[i]);
}

/* Write the CSV. */
int
report_write_csv(const struct report *r, const char *path, char **cause)
{
	char *tmp = report_path_tmp(path);
	FILE *f;
	size_t i;
	int error;

	if ((f = fopen(tmp, "w")) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	errno = 0;
	fputs("unit,index_kind,code,value,ci_low,ci_high,n\n", f);
	if (r->ur != NULL)
		report_csv_unit(f, r->survey, r->unit, r->ur);
	for (i = 0; i < r->nchildren; i++) {
		if (r->children[i].ur != NULL)
			report_csv_unit(f, r->survey, r->children[i].code, r->children[i].ur);
	}
	for (i = 0; i < r->ntrend; i++)
		report_csv_row(f, r->unit, "trend", r->trend[i].label, &r->trend[i].estimate);
	error = ferror(f);
	if (fclose(f) != 0 || error) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno != 0 ? errno : EIO));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	error = report_path_commit(tmp, path, cause);
	free(tmp);
	return error;
}
