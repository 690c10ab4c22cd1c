/*
 * render_pdf.c: the report as an A4 PDF drawn with cairo: a cover with the key
 * figure, the ranking of the children as a bar chart with interval whiskers
 * and the parent's value as a line, the trend of the overall index, then every
 * table of the model, flowing over pages with repeated headers, page numbers
 * ("Trang 2/7") and a bookmark per section.
 *
 * Text is set in DejaVu Sans through cairo's font API (fontconfig), whose
 * Vietnamese glyphs cairo embeds as subsets with a ToUnicode map, so the text
 * can be searched and extracted. The document is laid out twice: the first
 * pass, to a sink, only counts the pages for "page i of n".
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "sipas/report.h"
#include "sipas/util.h"

#define L(r, vi, en) report_lang_pick(r, vi, en)

#define PDF_W 595.276 /* A4 in points */
#define PDF_H 841.890
#define PDF_LEFT 50.0
#define PDF_RIGHT (PDF_W - 50.0)
#define PDF_TOP 62.0
#define PDF_BOTTOM (PDF_H - 58.0)
#define PDF_FONT "DejaVu Sans"
#define PDF_BOX 78.0 /* the key figure box on the cover */

#define PDF_BLUE 0x1f4e9c
#define PDF_TEXT 0x222222
#define PDF_GREY 0x666666
#define PDF_RULE 0xc8ccd8
#define PDF_ABOVE 0x2e7d32
#define PDF_WITHIN 0x7b8fa1
#define PDF_BELOW 0xc62828

struct pdf {
	const struct report *r;
	cairo_surface_t *surface;
	cairo_t *cr;
	double y;   /* the next line's top */
	int page;   /* the current page, 1-based */
	int npages; /* all pages: known in the second pass, 0 in the first */
};

/* Select DejaVu Sans at size, bold or not. */
static void
report_pdf_font(struct pdf *p, double size, int bold)
{
	cairo_select_font_face(p->cr, PDF_FONT, CAIRO_FONT_SLANT_NORMAL,
	    bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(p->cr, size);
}

/* Set the source colour from 0xRRGGBB. */
static void
report_pdf_color(struct pdf *p, unsigned int rgb)
{
	cairo_set_source_rgb(p->cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

/* The advance width of text in the current font. */
static double
report_pdf_width(struct pdf *p, const char *text)
{
	cairo_text_extents_t ext;

	cairo_text_extents(p->cr, text, &ext);
	return ext.x_advance;
}

/* Text with its baseline at (x, y). */
static void
report_pdf_show(struct pdf *p, double x, double y, const char *text)
{
	cairo_move_to(p->cr, x, y);
	cairo_show_text(p->cr, text);
}

/* Text ending at x. */
static void
report_pdf_show_right(struct pdf *p, double x, double y, const char *text)
{
	report_pdf_show(p, x - report_pdf_width(p, text), y, text);
}

/* Text centred on x. */
static void
report_pdf_show_center(struct pdf *p, double x, double y, const char *text)
{
	report_pdf_show(p, x - report_pdf_width(p, text) / 2, y, text);
}

/* Length of the UTF-8 character at s. */
static size_t
report_pdf_char_len(const char *s)
{
	size_t n = 1;

	while (s[n] != '\0' && ((unsigned char)s[n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* text cut to width with an ellipsis (caller frees). */
static char *
report_pdf_fit(struct pdf *p, const char *text, double width)
{
	size_t len = strlen(text);
	char *t;

	if (report_pdf_width(p, text) <= width)
		return xstrdup(text);
	t = xmalloc(len + 4);
	while (len > 0) {
		/* Back off one whole character. */
		do
			len--;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80);
		memcpy(t, text, len);
		memcpy(t + len, "…", sizeof "…");
		if (report_pdf_width(p, t) <= width)
			break;
	}
	if (len == 0)
		memcpy(t, "…", sizeof "…");
	return t;
}

/* Break text into lines no wider than width, at spaces (inside a word when it must). */
static char **
report_pdf_wrap(struct pdf *p, const char *text, double width, int *nlines)
{
	char **lines = NULL, *line = xstrdup(""), *cand;
	const char *s = text, *e;
	int n = 0;

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		for (e = s; *e != '\0' && *e != ' '; e++)
			;
		xasprintf(&cand, "%s%s%.*s", line, *line != '\0' ? " " : "", (int)(e - s), s);
		if (report_pdf_width(p, cand) <= width) {
			free(line);
			line = cand;
			s = e;
			continue;
		}
		free(cand);
		if (*line != '\0') {
			lines = xreallocarray(lines, n + 1, sizeof *lines);
			lines[n++] = line;
			line = xstrdup("");
			continue;
		}
		/* A word wider than the line: as many characters as fit (at least one). */
		{
			size_t k = report_pdf_char_len(s), next;
			char *part;

			while (s + k < e) {
				next = k + report_pdf_char_len(s + k);
				part = xstrndup(s, next);
				if (report_pdf_width(p, part) > width) {
					free(part);
					break;
				}
				free(part);
				k = next;
			}
			lines = xreallocarray(lines, n + 1, sizeof *lines);
			lines[n++] = xstrndup(s, k);
			s += k;
		}
	}
	if (*line != '\0' || n == 0) {
		lines = xreallocarray(lines, n + 1, sizeof *lines);
		lines[n++] = line;
	} else
		free(line);
	*nlines = n;
	return lines;
}

/* Free lines of report_pdf_wrap. */
static void
report_pdf_lines_free(char **lines, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* A horizontal rule at y. */
static void
report_pdf_rule(struct pdf *p, double x0, double x1, double y, double w, unsigned int rgb)
{
	report_pdf_color(p, rgb);
	cairo_set_line_width(p->cr, w);
	cairo_move_to(p->cr, x0, y);
	cairo_line_to(p->cr, x1, y);
	cairo_stroke(p->cr);
}

/* Start a page: running header (after the cover) and footer with the page number. */
static void
report_pdf_page_start(struct pdf *p)
{
	const struct report *r = p->r;
	char *period = report_period_text(r, 0), *left, num[64];

	p->page++;
	p->y = PDF_TOP;
	report_pdf_font(p, 7.5, 0);
	report_pdf_color(p, PDF_GREY);
	if (p->page > 1) {
		xasprintf(&left, "%s – %s", L(r, "Báo cáo chỉ số hài lòng", "Satisfaction index report"), r->unit_name);
		report_pdf_show(p, PDF_LEFT, 36, left);
		free(left);
		report_pdf_show_right(p, PDF_RIGHT, 36, period);
		report_pdf_rule(p, PDF_LEFT, PDF_RIGHT, 42, 0.5, PDF_RULE);
		report_pdf_color(p, PDF_GREY);
	}
	xasprintf(&left, "%s · %s", r->survey->code, period);
	report_pdf_rule(p, PDF_LEFT, PDF_RIGHT, PDF_H - 42, 0.5, PDF_RULE);
	report_pdf_color(p, PDF_GREY);
	report_pdf_show(p, PDF_LEFT, PDF_H - 30, left);
	if (r->lang == REPORT_LANG_EN)
		snprintf(num, sizeof num, "Page %d of %d", p->page, p->npages);
	else
		snprintf(num, sizeof num, "Trang %d/%d", p->page, p->npages);
	report_pdf_show_right(p, PDF_RIGHT, PDF_H - 30, num);
	free(left);
	free(period);
}

/* End the page. */
static void
report_pdf_page_end(struct pdf *p)
{
	cairo_show_page(p->cr);
}

/* A new page unless h points still fit on this one; 1 if a page was started. */
static int
report_pdf_need(struct pdf *p, double h)
{
	if (p->y + h <= PDF_BOTTOM)
		return 0;
	report_pdf_page_end(p);
	report_pdf_page_start(p);
	return 1;
}

/* A section heading (level 1) or a sub-heading (level 2), kept with what follows. */
static void
report_pdf_heading(struct pdf *p, const char *text, int level)
{
	double size = level == 1 ? 14 : 10.5;
	char attrs[64];

	report_pdf_need(p, level == 1 ? 110 : 80);
	if (p->y > PDF_TOP + 1)
		p->y += level == 1 ? 14 : 8;
	report_pdf_font(p, size, 1);
	report_pdf_color(p, level == 1 ? PDF_BLUE : PDF_TEXT);
	report_pdf_show(p, PDF_LEFT, p->y + size, text);
	p->y += size + 5;
	if (level == 1) {
		report_pdf_rule(p, PDF_LEFT, PDF_RIGHT, p->y, 1.2, PDF_BLUE);
		p->y += 8;
		snprintf(attrs, sizeof attrs, "page=%d", p->page);
		if (p->npages > 0)
			cairo_pdf_surface_add_outline(p->surface, CAIRO_PDF_OUTLINE_ROOT, text, attrs, 0);
	} else
		p->y += 3;
}

/* A wrapped paragraph, breaking pages between lines. */
static void
report_pdf_paragraph(struct pdf *p, const char *text, double size, int bold, unsigned int rgb)
{
	double lh = size * 1.3;
	char **lines;
	int n, i;

	report_pdf_font(p, size, bold);
	lines = report_pdf_wrap(p, text, PDF_RIGHT - PDF_LEFT, &n);
	for (i = 0; i < n; i++) {
		if (report_pdf_need(p, lh))
			report_pdf_font(p, size, bold);
		report_pdf_color(p, rgb);
		report_pdf_show(p, PDF_LEFT, p->y + size, lines[i]);
		p->y += lh;
	}
	report_pdf_lines_free(lines, n);
	p->y += 3;
}

#define PDF_CELL 7.8   /* body font size */
#define PDF_HEAD 7.2   /* header font size */
#define PDF_PAD 2.2    /* cell padding, vertical */
#define PDF_PADX 3.2   /* cell padding, horizontal */
#define PDF_INDENT 9.0 /* per nesting level */

/* The header font size of a column: smaller when a word of the title is wider than the column. */
static double
report_pdf_header_size(struct pdf *p, const char *title, double avail)
{
	char *copy = xstrdup(title), *w, *save = NULL;
	double widest = 0;

	report_pdf_font(p, PDF_HEAD, 1);
	for (w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		widest = fmax(widest, report_pdf_width(p, w));
	free(copy);
	return widest > avail ? fmax(5, 0.95 * PDF_HEAD * avail / widest) : PDF_HEAD;
}

/* The table's header row (drawn when draw); returns its height. */
static double
report_pdf_table_header(struct pdf *p, const struct report_table *t, const double *x, const double *w, int draw)
{
	double h = 0, size, lh, avail, base;
	char **lines;
	int j, n, i;

	for (j = 0; j < t->ncolumns; j++) {
		avail = w[j] - 2 * PDF_PADX;
		size = report_pdf_header_size(p, t->columns[j].title, avail);
		report_pdf_font(p, size, 1);
		lines = report_pdf_wrap(p, t->columns[j].title, avail, &n);
		h = fmax(h, n * size * 1.25 + 2 * PDF_PAD);
		report_pdf_lines_free(lines, n);
	}
	if (!draw)
		return h;
	report_pdf_color(p, 0xdde6f0);
	cairo_rectangle(p->cr, x[0], p->y, x[t->ncolumns] - x[0], h);
	cairo_fill(p->cr);
	for (j = 0; j < t->ncolumns; j++) {
		avail = w[j] - 2 * PDF_PADX;
		size = report_pdf_header_size(p, t->columns[j].title, avail);
		lh = size * 1.25;
		report_pdf_font(p, size, 1);
		lines = report_pdf_wrap(p, t->columns[j].title, avail, &n);
		report_pdf_color(p, PDF_TEXT);
		for (i = 0; i < n; i++) {
			base = p->y + PDF_PAD + i * lh + size;
			if (t->columns[j].numeric)
				report_pdf_show_right(p, x[j + 1] - PDF_PADX, base, lines[i]);
			else
				report_pdf_show(p, x[j] + PDF_PADX, base, lines[i]);
		}
		report_pdf_lines_free(lines, n);
	}
	p->y += h;
	report_pdf_rule(p, x[0], x[t->ncolumns], p->y, 0.6, PDF_BLUE);
	return h;
}

/* One table: columns scaled to the text width, rows that never split, the header on every page. */
static void
report_pdf_table(struct pdf *p, const struct report_table *t)
{
	const struct report *r = p->r;
	double *x = xcalloc(t->ncolumns + 1, sizeof *x), *w = xcalloc(t->ncolumns, sizeof *w);
	double total = 0, lh = PDF_CELL * 1.3, h, head;
	char buf[64], ***lines = xcalloc(t->ncolumns, sizeof *lines);
	int *nl = xcalloc(t->ncolumns, sizeof *nl);
	size_t i;
	int j, k, m;

	for (j = 0; j < t->ncolumns; j++)
		total += t->columns[j].width;
	x[0] = PDF_LEFT;
	for (j = 0; j < t->ncolumns; j++) {
		w[j] = (PDF_RIGHT - PDF_LEFT) * t->columns[j].width / total;
		x[j + 1] = x[j] + w[j];
	}
	if (t->nrows > 0) {
		head = report_pdf_table_header(p, t, x, w, 0);
		report_pdf_need(p, head + 3 * lh);
		report_pdf_table_header(p, t, x, w, 1);
	}
	for (i = 0; i < t->nrows; i++) {
		h = 0;
		for (j = 0; j < t->ncolumns; j++) {
			const struct report_cell *c = report_cell_get(t, i, j);
			const char *text = report_cell_format(r, c, buf, sizeof buf);
			double avail = w[j] - 2 * PDF_PADX - c->indent * PDF_INDENT;

			report_pdf_font(p, PDF_CELL, c->strong || (t->keyvalue && j == 0));
			if (c->kind == REPORT_CELL_TEXT && t->columns[j].wrap)
				lines[j] = report_pdf_wrap(p, text, avail, &nl[j]);
			else {
				lines[j] = xcalloc(1, sizeof **lines);
				lines[j][0] = report_pdf_fit(p, text, avail);
				nl[j] = 1;
			}
			h = fmax(h, nl[j] * lh + 2 * PDF_PAD);
		}
		if (report_pdf_need(p, h))
			report_pdf_table_header(p, t, x, w, 1);
		if (i % 2 == 1) {
			report_pdf_color(p, 0xf4f6fa);
			cairo_rectangle(p->cr, x[0], p->y, x[t->ncolumns] - x[0], h);
			cairo_fill(p->cr);
		}
		for (j = 0; j < t->ncolumns; j++) {
			const struct report_cell *c = report_cell_get(t, i, j);
			int num = c->kind == REPORT_CELL_NUMBER || c->kind == REPORT_CELL_INTEGER;

			report_pdf_font(p, PDF_CELL, c->strong || (t->keyvalue && j == 0));
			report_pdf_color(p, PDF_TEXT);
			for (k = 0; k < nl[j]; k++) {
				double base = p->y + PDF_PAD + k * lh + PDF_CELL;

				if (num && !t->keyvalue)
					report_pdf_show_right(p, x[j + 1] - PDF_PADX, base, lines[j][k]);
				else
					report_pdf_show(p, x[j] + PDF_PADX + c->indent * PDF_INDENT, base, lines[j][k]);
			}
			report_pdf_lines_free(lines[j], nl[j]);
		}
		p->y += h;
		report_pdf_rule(p, x[0], x[t->ncolumns], p->y, 0.3, PDF_RULE);
	}
	p->y += 5;
	if (t->note != NULL) {
		m = t->nrows == 0 && t->section != REPORT_SECTION_OVERVIEW;
		report_pdf_paragraph(p, t->note, m ? 9 : 7.2, 0, m ? PDF_TEXT : PDF_GREY);
	}
	free(lines);
	free(nl);
	free(x);
	free(w);
}

/* The colour of a rank flag. */
static unsigned int
report_pdf_flag_color(enum rank_flag f)
{
	return f == RANK_ABOVE ? PDF_ABOVE : f == RANK_BELOW ? PDF_BELOW : PDF_WITHIN;
}

/* The chart legend: the three flags and the parent's line. */
static void
report_pdf_ranking_legend(struct pdf *p, double x, double y)
{
	static const enum rank_flag flags[] = { RANK_ABOVE, RANK_WITHIN, RANK_BELOW };
	const struct report *r = p->r;
	const char *text;
	int k;

	report_pdf_font(p, 7.5, 0);
	for (k = 0; k < 3; k++) {
		report_pdf_color(p, report_pdf_flag_color(flags[k]));
		cairo_rectangle(p->cr, x, y - 7, 8, 8);
		cairo_fill(p->cr);
		report_pdf_color(p, PDF_TEXT);
		text = report_flag_text(r, flags[k]);
		report_pdf_show(p, x + 11, y, text);
		x += 11 + report_pdf_width(p, text) + 14;
	}
	report_pdf_color(p, PDF_BLUE);
	cairo_set_line_width(p->cr, 1.4);
	cairo_set_dash(p->cr, (const double[]){ 4, 2 }, 2, 0);
	cairo_move_to(p->cr, x, y - 3);
	cairo_line_to(p->cr, x + 16, y - 3);
	cairo_stroke(p->cr);
	cairo_set_dash(p->cr, NULL, 0, 0);
	report_pdf_color(p, PDF_TEXT);
	report_pdf_show(p, x + 20, y, L(r, "Chỉ số của đơn vị cấp trên", "The parent's index"));
}

/* The parent's value as a dashed line across the rows at x, labelled above them. */
static void
report_pdf_parent_line(struct pdf *p, double x, double top, double rows_h, double maxw)
{
	const struct report *r = p->r;
	char buf[32], *label, *name;

	report_pdf_color(p, PDF_BLUE);
	cairo_set_line_width(p->cr, 1.4);
	cairo_set_dash(p->cr, (const double[]){ 4, 2 }, 2, 0);
	cairo_move_to(p->cr, x, top - 3);
	cairo_line_to(p->cr, x, top + rows_h);
	cairo_stroke(p->cr);
	cairo_set_dash(p->cr, NULL, 0, 0);
	report_pdf_font(p, 7.5, 1);
	xasprintf(&label, "%s: %s", r->unit_name,
	    report_number_format(r->lang, report_overall_get(r)->value, 2, 0, buf, sizeof buf));
	name = report_pdf_fit(p, label, maxw);
	if (x + 3 + report_pdf_width(p, name) <= PDF_RIGHT)
		report_pdf_show(p, x + 3, top - 5, name);
	else
		report_pdf_show_right(p, x - 3, top - 5, name);
	free(name);
	free(label);
}

/*
 * The ranking as horizontal bars (0-100, bars start at zero) with the
 * interval as whiskers and the parent's value as a dashed line; continued on
 * the next page when the units do not fit.
 */
static void
report_pdf_ranking_chart(struct pdf *p)
{
	const struct report *r = p->r;
	const struct estimate *po = report_overall_get(r);
	double rh = r->nranked <= 25 ? 16 : r->nranked <= 50 ? 11 : 8.5;
	double fs = rh >= 16 ? 8 : rh >= 11 ? 7 : 6;
	double lw = 0, x0, x1, y, top, rows_h;
	char buf[32], *name;
	size_t i = 0, start, fit;
	int tick, first = 1;

	if (r->nranked == 0)
		return;
	report_pdf_font(p, fs, 0);
	for (i = 0; i < r->nranked; i++)
		lw = fmax(lw, report_pdf_width(p, r->children[i].name));
	lw = fmin(lw, 170);
	x0 = PDF_LEFT + lw + 8;
	x1 = PDF_RIGHT - 42;
#define PX(v) (x0 + (x1 - x0) * fmax(0, fmin(100, (v))) / 100)
	i = 0;
	while (i < r->nranked) {
		report_pdf_need(p, 60 + 3 * rh);
		if (first) {
			report_pdf_ranking_legend(p, x0, p->y + 9);
			p->y += 16;
		}
		top = p->y + 14; /* room for the parent's label */
		fit = (size_t)floor((PDF_BOTTOM - top - 24) / rh);
		start = i;
		if (fit > r->nranked - i)
			fit = r->nranked - i;
		rows_h = fit * rh;
		/* Grid and axis. */
		report_pdf_font(p, 7, 0);
		for (tick = 0; tick <= 100; tick += 10) {
			report_pdf_color(p, tick % 20 == 0 ? 0xd5d9e0 : 0xeceef2);
			cairo_set_line_width(p->cr, 0.5);
			cairo_move_to(p->cr, PX(tick), top);
			cairo_line_to(p->cr, PX(tick), top + rows_h);
			cairo_stroke(p->cr);
			if (tick % 20 == 0) {
				snprintf(buf, sizeof buf, "%d", tick);
				report_pdf_color(p, PDF_GREY);
				report_pdf_show_center(p, PX(tick), top + rows_h + 10, buf);
			}
		}
		report_pdf_color(p, PDF_GREY);
		report_pdf_show_center(p, (x0 + x1) / 2, top + rows_h + 20,
		    L(r, "Chỉ số chung (%)", "Overall index (%)"));
		for (; i < start + fit; i++) {
			const struct report_child *c = &r->children[i];
			const struct estimate *e = c->overall;

			y = top + (i - start) * rh;
			report_pdf_font(p, fs, 0);
			report_pdf_color(p, PDF_TEXT);
			name = report_pdf_fit(p, c->name, lw);
			report_pdf_show_right(p, x0 - 6, y + rh / 2 + fs * 0.35, name);
			free(name);
			report_pdf_color(p, report_pdf_flag_color(c->flag));
			cairo_rectangle(p->cr, x0, y + rh * 0.18, PX(e->value) - x0, rh * 0.64);
			cairo_fill(p->cr);
			if (isfinite(e->ci_low) && isfinite(e->ci_high)) {
				report_pdf_color(p, 0x111111);
				cairo_set_line_width(p->cr, 0.9);
				cairo_move_to(p->cr, PX(e->ci_low), y + rh / 2);
				cairo_line_to(p->cr, PX(e->ci_high), y + rh / 2);
				cairo_move_to(p->cr, PX(e->ci_low), y + rh * 0.3);
				cairo_line_to(p->cr, PX(e->ci_low), y + rh * 0.7);
				cairo_move_to(p->cr, PX(e->ci_high), y + rh * 0.3);
				cairo_line_to(p->cr, PX(e->ci_high), y + rh * 0.7);
				cairo_stroke(p->cr);
			}
			report_pdf_color(p, PDF_TEXT);
			report_pdf_show_right(p, PDF_RIGHT, y + rh / 2 + fs * 0.35,
			    report_number_format(r->lang, e->value, 2, 0, buf, sizeof buf));
		}
		/* The parent's value across the rows, labelled above them. */
		if (isfinite(po->value))
			report_pdf_parent_line(p, PX(po->value), top, rows_h, x1 - x0);
		p->y = top + rows_h + 30;
		first = 0;
	}
#undef PX
}

/* The trend of the overall index: a line over the periods with interval whiskers. */
static void
report_pdf_trend_chart(struct pdf *p)
{
	const struct report *r = p->r;
	const double h = 112;
	double lo, hi, x0 = PDF_LEFT + 28, x1 = PDF_RIGHT, y0, y1, step, x, y;
	char buf[32], *label;
	size_t i;
	int tick, started = 0, every;

	if (report_trend_range(r, &lo, &hi) != 0)
		return;
	report_pdf_need(p, h + 26);
	y0 = p->y + 6;
	y1 = y0 + h;
	step = (x1 - x0) / (double)r->ntrend;
	every = r->ntrend > 12 ? (int)ceil(r->ntrend / 12.0) : 1;
#define TY(v) (y1 - (y1 - y0) * ((v) - lo) / (hi - lo))
	report_pdf_font(p, 7, 0);
	for (tick = (int)lo; tick <= (int)hi; tick += hi - lo > 30 ? 10 : 5) {
		report_pdf_color(p, 0xdfe3ea);
		cairo_set_line_width(p->cr, 0.5);
		cairo_move_to(p->cr, x0, TY(tick));
		cairo_line_to(p->cr, x1, TY(tick));
		cairo_stroke(p->cr);
		snprintf(buf, sizeof buf, "%d", tick);
		report_pdf_color(p, PDF_GREY);
		report_pdf_show_right(p, x0 - 4, TY(tick) + 2.5, buf);
	}
	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;

		x = x0 + step * (i + 0.5);
		if (isfinite(e->ci_low) && isfinite(e->ci_high)) {
			report_pdf_color(p, 0x555555);
			cairo_set_line_width(p->cr, 0.9);
			cairo_move_to(p->cr, x, TY(e->ci_low));
			cairo_line_to(p->cr, x, TY(e->ci_high));
			cairo_move_to(p->cr, x - 3, TY(e->ci_low));
			cairo_line_to(p->cr, x + 3, TY(e->ci_low));
			cairo_move_to(p->cr, x - 3, TY(e->ci_high));
			cairo_line_to(p->cr, x + 3, TY(e->ci_high));
			cairo_stroke(p->cr);
		}
		if ((int)i % every == 0 || i == r->ntrend - 1) {
			report_pdf_font(p, 7, 0);
			report_pdf_color(p, PDF_TEXT);
			label = report_pdf_fit(p, r->trend[i].label, step * every - 4);
			report_pdf_show_center(p, x, y1 + 11, label);
			free(label);
		}
	}
	report_pdf_color(p, PDF_BLUE);
	cairo_set_line_width(p->cr, 1.8);
	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;

		if (!isfinite(e->value))
			continue;
		x = x0 + step * (i + 0.5);
		if (started)
			cairo_line_to(p->cr, x, TY(e->value));
		else
			cairo_move_to(p->cr, x, TY(e->value));
		started = 1;
	}
	cairo_stroke(p->cr);
	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;

		if (!isfinite(e->value))
			continue;
		x = x0 + step * (i + 0.5);
		y = TY(e->value);
		report_pdf_color(p, PDF_BLUE);
		cairo_new_path(p->cr); /* show_text left a current point */
		cairo_arc(p->cr, x, y, 2.8, 0, 2 * M_PI);
		cairo_fill(p->cr);
		if (r->ntrend <= 12) {
			/* Above the interval, clear of the line. */
			report_pdf_font(p, 7, 1);
			report_pdf_show_center(p, x, (isfinite(e->ci_high) ? TY(e->ci_high) : y) - 4,
			    report_number_format(r->lang, e->value, 2, 0, buf, sizeof buf));
		}
	}
#undef TY
	p->y = y1 + 22;
}

/* The cover: title, unit, survey, period and the key figure. */
static void
report_pdf_cover(struct pdf *p)
{
	const struct report *r = p->r;
	const struct survey *s = r->survey;
	const struct estimate *o = report_overall_get(r);
	const struct report_change *ch = &r->group_change[s->ngroups - 1];
	char *period = report_period_text(r, 0), *text, a[32], b[32], c[32], n[32];
	double boxy, bx;

	report_pdf_color(p, PDF_BLUE);
	cairo_rectangle(p->cr, PDF_LEFT, 44, PDF_RIGHT - PDF_LEFT, 6);
	cairo_fill(p->cr);
	p->y = 66;
	report_pdf_font(p, 10.5, 1);
	report_pdf_color(p, PDF_BLUE);
	report_pdf_show(p, PDF_LEFT, p->y + 10, L(r, "BÁO CÁO CHỈ SỐ HÀI LÒNG", "SATISFACTION INDEX REPORT"));
	p->y += 20;
	report_pdf_paragraph(p, r->unit_name, 18, 1, PDF_TEXT);
	report_pdf_paragraph(p, r->lang == REPORT_LANG_EN && s->title_en != NULL ? s->title_en : s->title_vi, 10.5, 0,
	    PDF_TEXT);
	xasprintf(&text, "%s: %s", L(r, "Kỳ báo cáo", "Period"), period);
	report_pdf_paragraph(p, text, 10.5, 1, PDF_TEXT);
	free(text);
	p->y += 2;

	boxy = p->y;
	report_pdf_color(p, 0xeef3fa);
	cairo_rectangle(p->cr, PDF_LEFT, boxy, PDF_RIGHT - PDF_LEFT, PDF_BOX);
	cairo_fill(p->cr);
	if (o == NULL) {
		report_pdf_font(p, 14, 1);
		report_pdf_color(p, PDF_BELOW);
		report_pdf_show(p, PDF_LEFT + 16, boxy + 44, L(r, "Không có dữ liệu cho kỳ báo cáo này.",
		    "No data for this period."));
		p->y = boxy + PDF_BOX + 6;
		free(period);
		return;
	}
	report_pdf_font(p, 30, 1);
	report_pdf_color(p, PDF_BLUE);
	xasprintf(&text, "%s%s", report_number_format(r->lang, o->value, 2, 0, a, sizeof a),
	    r->lang == REPORT_LANG_VI ? " %" : "%");
	report_pdf_show(p, PDF_LEFT + 16, boxy + 42, text);
	free(text);
	report_pdf_font(p, 9, 0);
	report_pdf_color(p, PDF_TEXT);
	text = report_pdf_fit(p, r->lang == REPORT_LANG_EN && s->overall->title_en != NULL ? s->overall->title_en :
	    s->overall->title_vi, 170);
	report_pdf_show(p, PDF_LEFT + 16, boxy + 62, text);
	free(text);

	bx = PDF_LEFT + 210;
	report_pdf_font(p, 9, 0);
	xasprintf(&text, "%s %g %%: %s – %s", L(r, "Khoảng tin cậy", "Confidence interval"), 100 * r->level,
	    report_number_format(r->lang, o->ci_low, 2, 0, a, sizeof a),
	    report_number_format(r->lang, o->ci_high, 2, 0, b, sizeof b));
	report_pdf_show(p, bx, boxy + 20, text);
	free(text);
	xasprintf(&text, "%s: %s · %s", L(r, "Số người trả lời", "Respondents"),
	    report_count_format(r->lang, r->ur->respondents, n, sizeof n),
	    r->ur->complex ? L(r, "mẫu phức hợp", "complex design") : L(r, "mẫu đơn giản", "simple design"));
	report_pdf_show(p, bx, boxy + 35, text);
	free(text);
	if (ch->ok) {
		xasprintf(&text, "%s: %s %s (p = %s; %s %s)", L(r, "So với kỳ trước", "From the previous period"),
		    report_number_format(r->lang, ch->change.diff, 2, 1, a, sizeof a), L(r, "điểm", "points"),
		    report_number_format(r->lang, ch->change.p, 3, 0, c, sizeof c), L(r, "hiệu chỉnh", "adjusted"),
		    report_number_format(r->lang, ch->p_holm, 3, 0, n, sizeof n));
		report_pdf_show(p, bx, boxy + 50, text);
		free(text);
		report_pdf_font(p, 9, 1);
		report_pdf_color(p, ch->change.significant ? (ch->change.diff > 0 ? PDF_ABOVE : PDF_BELOW) : PDF_GREY);
		report_pdf_show(p, bx, boxy + 65, ch->change.significant ?
		    L(r, "Thay đổi có ý nghĩa thống kê (mức 5 %, sau hiệu chỉnh)",
			"A significant change (5 % level, adjusted)") :
		    L(r, "Thay đổi không có ý nghĩa thống kê (mức 5 %, sau hiệu chỉnh)",
			"Not a significant change (5 % level, adjusted)"));
	} else {
		report_pdf_color(p, PDF_GREY);
		report_pdf_show(p, bx, boxy + 50, L(r, "Không có số liệu kỳ trước để so sánh.",
		    "No previous period to compare with."));
	}
	p->y = boxy + PDF_BOX + 6;
	free(period);
}

/* Lay the whole document out on p->surface. */
static void
report_pdf_render(struct pdf *p)
{
	const struct report *r = p->r;
	enum report_section last = REPORT_SECTION_COUNT;
	char *text, a[32], b[32];
	size_t i;

	p->cr = cairo_create(p->surface);
	p->page = 0;
	report_pdf_page_start(p);
	report_pdf_cover(p);
	for (i = 0; i < r->ntables; i++) {
		const struct report_table *t = &r->tables[i];

		if (t->section != last) {
			/* The ranking starts a page: with the cover, the two pages a reader sees first. */
			if (t->section == REPORT_SECTION_RANKING && !r->nodata && p->y > PDF_TOP + 1) {
				report_pdf_page_end(p);
				report_pdf_page_start(p);
			}
			report_pdf_heading(p, report_section_title(r, t->section), 1);
			last = t->section;
			if (t->section == REPORT_SECTION_RANKING && !r->nodata)
				report_pdf_ranking_chart(p);
		}
		if (strcmp(t->title, report_section_title(r, t->section)) != 0)
			report_pdf_heading(p, t->title, 2);
		report_pdf_table(p, t);
		if (t->section == REPORT_SECTION_OVERVIEW && r->ntrend > 0) {
			report_pdf_need(p, 112 + 60); /* the heading with its chart */
			report_pdf_heading(p, L(r, "Xu hướng chỉ số chung", "Trend of the overall index"), 2);
			report_pdf_trend_chart(p);
			if (r->trend_ok) {
				xasprintf(&text, "%s: %s %s (%s %s).", L(r, "Độ dốc", "Slope"),
				    report_number_format(r->lang, r->trend_slope, 2, 1, a, sizeof a),
				    L(r, "điểm mỗi kỳ", "points per period"), L(r, "sai số chuẩn", "standard error"),
				    report_number_format(r->lang, r->trend_slope_se, 2, 0, b, sizeof b));
				report_pdf_paragraph(p, text, 7.2, 0, PDF_GREY);
				free(text);
			} else {
				text = report_trend_none_text(r->lang, r->trend_points);
				report_pdf_paragraph(p, text, 7.2, 0, PDF_GREY);
				free(text);
			}
		}
	}
	report_pdf_page_end(p);
	cairo_destroy(p->cr);
	p->cr = NULL;
}

/* A cairo write function that drops everything (the counting pass). */
static cairo_status_t
report_pdf_sink(void *arg, const unsigned char *data, unsigned int len)
{
	(void)arg;
	(void)data;
	(void)len;
	return CAIRO_STATUS_SUCCESS;
}

/* A cairo write function to a FILE. */
static cairo_status_t
report_pdf_fwrite(void *arg, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, arg) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Pass 2 of the PDF: the document into f. */
static int
report_pdf_file(FILE *f, const char *tmp, void *arg, char **cause)
{
	struct pdf *p = arg;
	const struct report *r = p->r;
	cairo_status_t st;
	char *title;

	p->surface = cairo_pdf_surface_create_for_stream(report_pdf_fwrite, f, PDF_W, PDF_H);
	xasprintf(&title, "%s – %s", L(r, "Báo cáo chỉ số hài lòng", "Satisfaction index report"), r->unit_name);
	cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_SUBJECT, r->survey->code);
	cairo_pdf_surface_set_metadata(p->surface, CAIRO_PDF_METADATA_CREATOR, "sipas");
	free(title);
	report_pdf_render(p);
	cairo_surface_finish(p->surface);
	st = cairo_surface_status(p->surface);
	cairo_surface_destroy(p->surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		xasprintf(cause, "%s: %s", tmp, cairo_status_to_string(st));
		return -1;
	}
	if (p->page != p->npages) {
		xasprintf(cause, "pdf: %d pages laid out, %d counted", p->page, p->npages);
		return -1;
	}
	return 0;
}

/* Write the PDF. */
int
report_write_pdf(const struct report *r, const char *path, char **cause)
{
	struct pdf p;
	cairo_status_t st;

	memset(&p, 0, sizeof p);
	p.r = r;
	/* Pass 1: count the pages. */
	p.surface = cairo_pdf_surface_create_for_stream(report_pdf_sink, NULL, PDF_W, PDF_H);
	report_pdf_render(&p);
	cairo_surface_finish(p.surface);
	st = cairo_surface_status(p.surface);
	cairo_surface_destroy(p.surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		xasprintf(cause, "pdf: %s", cairo_status_to_string(st));
		return -1;
	}
	p.npages = p.page;
	return report_path_write(path, "wb", report_pdf_file, &p, cause);
}

/* Release the font caches cairo and fontconfig keep for the process. */
void
report_fonts_free(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
