/*
 * render_xlsx.c: the report as an XLSX workbook through libxlsxwriter: one sheet per
 * table of the model, in section order, and after the overview a sheet of
 * the trend's points (the chart's data in the PDF and HTML).
 *
 * Each sheet: row 1 the table's title (with the unit and the period), row 2
 * the column headers, both frozen; then the rows; the table's note two rows
 * below. Numbers are real numeric cells at full precision with a number
 * format (0.00, +0.00 for changes, 0.000 for p-values, #,##0 for counts), so
 * a spreadsheet in a Vietnamese locale shows its own decimal comma. A value
 * that does not exist is an empty cell, never text.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "sipas/csvout.h"
#include "sipas/report.h"
#include "sipas/util.h"

/* Number styles of cells. */
enum xlsx_style {
	XLSX_TEXT,
	XLSX_D0,
	XLSX_D2,
	XLSX_D2_SIGN,
	XLSX_D3,
	XLSX_COUNT,
	XLSX_NSTYLES,
};

#define XLSX_INDENTS 4

struct xlsx {
	const struct report *r;
	lxw_workbook *wb;
	lxw_format *title;
	lxw_format *header;
	lxw_format *note;
	lxw_format *cells[XLSX_NSTYLES][2][2][XLSX_INDENTS]; /* style, strong, wrap, indent */
};

/* The number format of a style, or NULL for text. */
static const char *
report_xlsx_num_format(enum xlsx_style st)
{
	switch (st) {
	case XLSX_D0:
		return "0";
	case XLSX_D2:
		return "0.00";
	case XLSX_D2_SIGN:
		return "+0.00;-0.00;0.00";
	case XLSX_D3:
		return "0.000";
	case XLSX_COUNT:
		return "#,##0";
	case XLSX_TEXT:
	case XLSX_NSTYLES:
		break;
	}
	return NULL;
}

/* The format of a body cell, made once. */
static lxw_format *
report_xlsx_format(struct xlsx *x, enum xlsx_style st, int strong, int wrap, int indent)
{
	lxw_format **f;
	const char *num;

	if (indent >= XLSX_INDENTS)
		indent = XLSX_INDENTS - 1;
	f = &x->cells[st][strong != 0][wrap != 0][indent];
	if (*f != NULL)
		return *f;
	*f = workbook_add_format(x->wb);
	format_set_align(*f, LXW_ALIGN_VERTICAL_TOP);
	format_set_border(*f, LXW_BORDER_HAIR);
	format_set_border_color(*f, 0xBFBFBF);
	if ((num = report_xlsx_num_format(st)) != NULL)
		format_set_num_format(*f, num);
	if (strong)
		format_set_bold(*f);
	if (wrap)
		format_set_text_wrap(*f);
	if (indent > 0)
		format_set_indent(*f, (uint8_t)indent);
	return *f;
}

/* The style of a number cell. */
static enum xlsx_style
report_xlsx_style(const struct report_cell *c)
{
	if (c->kind == REPORT_CELL_INTEGER)
		return XLSX_COUNT;
	if (c->kind != REPORT_CELL_NUMBER)
		return XLSX_TEXT;
	if (c->decimals == 0)
		return XLSX_D0;
	if (c->decimals >= 3)
		return XLSX_D3;
	return c->sign ? XLSX_D2_SIGN : XLSX_D2;
}

/* A text cell; text a spreadsheet could run gets a ' in front (csvout.h). */
static void
report_xlsx_text(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
    const char *text, lxw_format *f)
{
	char *guarded;

	if (!csvout_text_risky(text)) {
		worksheet_write_string(ws, row, col, text, f);
		return;
	}
	xasprintf(&guarded, "'%s", text);
	worksheet_write_string(ws, row, col, guarded, f);
	free(guarded);
}

/* One sheet. */
static int
report_xlsx_sheet(struct xlsx *x, const struct report_table *t, char **cause)
{
	const struct report *r = x->r;
	lxw_worksheet *ws;
	char *title, *period;
	size_t i;
	int j;

	if ((ws = workbook_add_worksheet(x->wb, t->sheet)) == NULL) {
		xasprintf(cause, "xlsx: cannot add sheet '%s'", t->sheet);
		return -1;
	}
	worksheet_set_paper(ws, 9); /* A4 */
	if (t->ncolumns > 5)
		worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_repeat_rows(ws, 0, 1);
	period = report_period_text(r, 0);
	xasprintf(&title, "%s – %s, %s", t->title, r->unit_name, period);
	worksheet_set_row(ws, 0, 20, NULL);
	worksheet_write_string(ws, 0, 0, title, x->title);
	free(title);
	free(period);
	for (j = 0; j < t->ncolumns; j++) {
		worksheet_set_column(ws, j, j, t->columns[j].width, NULL);
		worksheet_write_string(ws, 1, j, t->columns[j].title, x->header);
	}
	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < t->ncolumns; j++) {
			const struct report_cell *c = report_cell_get(t, i, j);
			lxw_row_t row = (lxw_row_t)(i + 2);
			lxw_format *f = report_xlsx_format(x, report_xlsx_style(c), c->strong, t->columns[j].wrap,
			    c->indent);

			switch (c->kind) {
			case REPORT_CELL_TEXT:
				report_xlsx_text(ws, row, j, c->text, f);
				break;
			case REPORT_CELL_NUMBER:
			case REPORT_CELL_INTEGER:
				if (isfinite(c->number))
					worksheet_write_number(ws, row, j, c->number, f);
				else
					worksheet_write_blank(ws, row, j, f);
				break;
			case REPORT_CELL_EMPTY:
				worksheet_write_blank(ws, row, j, f);
				break;
			}
		}
	}
	worksheet_freeze_panes(ws, 2, 0);
	if (!t->keyvalue && t->nrows > 0)
		worksheet_autofilter(ws, 1, 0, (lxw_row_t)(t->nrows + 1), (lxw_col_t)(t->ncolumns - 1));
	if (t->note != NULL)
		worksheet_write_string(ws, (lxw_row_t)(t->nrows + 3), 0, t->note, x->note);
	return 0;
}

/* The trend sheet: one row per period, oldest first (a gap's cells empty). */
static int
report_xlsx_trend(struct xlsx *x, char **cause)
{
	const struct report *r = x->r;
	struct report_column cols[6];
	struct report_table t;
	size_t i;
	int j, error;

	memset(&t, 0, sizeof t);
	memset(cols, 0, sizeof cols);
	t.section = REPORT_SECTION_OVERVIEW;
	t.title = (char *)report_lang_pick(r, "Xu hướng chỉ số chung", "Trend of the overall index");
	t.sheet = (char *)report_lang_pick(r, "Xu hướng", "Trend");
	cols[0].title = (char *)report_lang_pick(r, "Kỳ", "Period");
	cols[1].title = (char *)report_lang_pick(r, "Chỉ số chung (%)", "Overall index (%)");
	cols[2].title = (char *)report_lang_pick(r, "Cận dưới", "CI low");
	cols[3].title = (char *)report_lang_pick(r, "Cận trên", "CI high");
	cols[4].title = (char *)report_lang_pick(r, "Sai số chuẩn", "SE");
	cols[5].title = "n";
	cols[0].width = 24;
	for (j = 1; j < 6; j++) {
		cols[j].width = 14;
		cols[j].numeric = 1;
	}
	t.columns = cols;
	t.ncolumns = 6;
	t.nrows = r->ntrend;
	t.cells = xcalloc(r->ntrend * 6 + 1, sizeof *t.cells);
	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;
		struct report_cell *c = &t.cells[i * 6];

		c[0].kind = REPORT_CELL_TEXT;
		c[0].text = r->trend[i].label;
		c[1].number = e->value;
		c[2].number = e->ci_low;
		c[3].number = e->ci_high;
		c[4].number = e->se;
		for (j = 1; j < 5; j++) {
			c[j].kind = REPORT_CELL_NUMBER;
			c[j].decimals = 2;
		}
		c[5].kind = REPORT_CELL_INTEGER;
		c[5].number = isfinite(e->value) ? (double)e->n : NAN;
	}
	error = report_xlsx_sheet(x, &t, cause);
	free(t.cells);
	return error;
}

/*
 * The workbook into the file tmp (libxlsxwriter writes it itself; f, opened
 * first, tells at once a file it cannot create, which libxlsxwriter reports
 * only at close and without errno).
 */
static int
report_xlsx_file(FILE *f, const char *tmp, void *arg, char **cause)
{
	const struct report *r = arg;
	struct xlsx x;
	lxw_doc_properties props;
	lxw_error err;
	char *title;
	size_t i;

	(void)f;
	memset(&x, 0, sizeof x);
	x.r = r;
	if ((x.wb = workbook_new(tmp)) == NULL) {
		xasprintf(cause, "%s: cannot create workbook", tmp);
		return -1;
	}
	x.title = workbook_add_format(x.wb);
	format_set_bold(x.title);
	format_set_font_size(x.title, 13);
	x.header = workbook_add_format(x.wb);
	format_set_bold(x.header);
	format_set_text_wrap(x.header);
	format_set_align(x.header, LXW_ALIGN_VERTICAL_TOP);
	format_set_bg_color(x.header, 0xDDE6F0);
	format_set_border(x.header, LXW_BORDER_THIN);
	x.note = workbook_add_format(x.wb);
	format_set_italic(x.note);
	format_set_font_color(x.note, 0x595959);

	xasprintf(&title, "%s – %s", report_lang_pick(r, "Báo cáo chỉ số hài lòng", "Satisfaction index report"),
	    r->unit_name);
	memset(&props, 0, sizeof props);
	props.title = title;
	props.subject = r->survey->code;
	props.author = "sipas";
	props.comments = r->survey->basis;
	workbook_set_properties(x.wb, &props);
	for (i = 0; i < r->ntables; i++) {
		if (report_xlsx_sheet(&x, &r->tables[i], cause) != 0 ||
		    (r->tables[i].section == REPORT_SECTION_OVERVIEW && r->ntrend > 0 &&
		    (i + 1 == r->ntables || r->tables[i + 1].section != REPORT_SECTION_OVERVIEW) &&
		    report_xlsx_trend(&x, cause) != 0)) {
			free(title);
			workbook_close(x.wb);
			return -1;
		}
	}
	err = workbook_close(x.wb);
	free(title);
	if (err != LXW_NO_ERROR) {
		xasprintf(cause, "%s: %s", tmp, lxw_strerror(err));
		return -1;
	}
	return 0;
}

/* Write the XLSX. */
int
report_write_xlsx(const struct report *r, const char *path, char **cause)
{
	return report_path_write(path, "w", report_xlsx_file, (void *)r, cause);
}
