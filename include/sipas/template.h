/*
 * template.h: the sheet a survey team fills for an upload (report/template.c),
 * for GET /uploads/template and sipasctl template.
 *
 * The header is the column codes the upload reads (id, unit, submitted_at,
 * one per item), so a filled sheet saved as CSV uploads as it is. The XLSX
 * adds what a typist needs: drop-down lists of each item's scale values and
 * of the allowed units, times shown dd/mm/yyyy, the items' texts and scales
 * as cell comments and on a sheet "Hướng dẫn", the units on a sheet
 * "Đơn vị".
 */
#ifndef SIPAS_TEMPLATE_H
#define SIPAS_TEMPLATE_H

#include <stddef.h>
#include <stdio.h>

struct csvout;
struct survey;

/* Data rows of the XLSX that carry the drop-down lists. */
#define TEMPLATE_ROWS 5000

/* A unit of the list (borrowed). */
struct template_unit {
	const char *code;
	const char *name; /* or NULL */
};

/* The header row of the CSV template of s, ended, into out. */
void template_csv(struct csvout *out, const struct survey *s);
/* The header row of the CSV template of s (CRLF-ended) to f: 0, or -1 and *cause. */
int template_write_csv(FILE *f, const struct survey *s, char **cause);
/*
 * The XLSX template of s with its n units (the unit list; none: no list) to
 * path: 0, or -1 and *cause.
 */
int template_write_xlsx(const char *path, const struct survey *s,
    const struct template_unit *units, size_t n, char **cause);

#endif
