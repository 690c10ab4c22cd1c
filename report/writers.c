/*
 * writers.c: the table of report formats, {name, MIME type, writer}, and the
 * dispatch by name. The one place that knows every renderer: the renderers
 * use format.c's helpers and never this table, so nothing loops back.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "sipas/report.h"
#include "sipas/util.h"

struct report_writer {
	const char *format;
	const char *mime;
	int (*write)(const struct report *, const char *, char **);
};

static const struct report_writer report_writers[] = {
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    report_write_xlsx },
	{ "pdf", "application/pdf", report_write_pdf },
	{ "csv", "text/csv; charset=utf-8", report_write_csv },
	{ "html", "text/html; charset=utf-8", report_write_html },
};

/* The table's entry of a format, or NULL. */
static const struct report_writer *
report_writer_find(const char *format)
{
	size_t i;

	if (format == NULL)
		return NULL;
	for (i = 0; i < sizeof report_writers / sizeof report_writers[0]; i++) {
		if (strcmp(report_writers[i].format, format) == 0)
			return &report_writers[i];
	}
	return NULL;
}

/* MIME type of a format. */
const char *
report_format_mime(const char *format)
{
	const struct report_writer *w = report_writer_find(format);

	return w != NULL ? w->mime : NULL;
}

/* Write by format name. */
int
report_write(const struct report *r, const char *format, const char *path, char **cause)
{
	const struct report_writer *w = report_writer_find(format);

	if (w == NULL) {
		xasprintf(cause, "unknown report format '%s' (xlsx, pdf, csv, html)",
		    format);
		return -1;
	}
	return w->write(r, path, cause);
}
