/*
 * poster.c: sipasctl poster, a printable A4 page for a unit's desk: the
 * unit's name, the survey title, a QR code of the web form's public URL
 * (libqrencode), the URL in text and the SMS instructions ("HL <unit> ...")
 * from the survey's sms keyword and items, with the number to text when one
 * is given (--sms-number or SIPAS_SMS_NUMBER), drawn with cairo into PDF, SVG or
 * PNG (by the file's extension). Text is DejaVu Sans (fonts-dejavu-core),
 * embedded in PDF and SVG output by cairo.
 *
 * The unit's name comes from --name or from the database (--db); the survey
 * is built in or loaded from the database. Must not write anything but -o.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <libpq-fe.h>
#include <qrencode.h>

#include "ctl.h"
#include "ctl_db.h"
#include "sipas/report.h"
#include "sipas/sms.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* A4 in points. */
#define POSTER_W 595.276
#define POSTER_H 841.890
#define POSTER_MARGIN 48.0
/* PNG pixels per point (about 150 dpi). */
#define POSTER_PNG_SCALE 2.0833
#define POSTER_FONT "DejaVu Sans"
/* Seconds a citizen takes for one item, for the poster's time estimate. */
#define POSTER_ITEM_SECONDS 10

/* Draw text centred at y, wrapped to width; returns the y below it. */
static double
poster_text(cairo_t *cr, const char *text, double size, int bold, double y,
    double width)
{
	cairo_text_extents_t ext;
	char *copy = xstrdup(text), *line = xmalloc(strlen(text) + 1);
	char *word, *save = NULL;
	double lh = size * 1.3;

	cairo_select_font_face(cr, POSTER_FONT, CAIRO_FONT_SLANT_NORMAL,
	    bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	line[0] = '\0';
	for (word = strtok_r(copy, " ", &save); ; word = strtok_r(NULL, " ",
	    &save)) {
		size_t had = strlen(line);

		if (word != NULL) {
			if (had > 0)
				strcat(line, " ");
			strcat(line, word);
			cairo_text_extents(cr, line, &ext);
			if (ext.x_advance <= width || had == 0)
				continue;
			line[had] = '\0';
		}
		if (line[0] != '\0') {
			cairo_text_extents(cr, line, &ext);
			y += lh;
			cairo_move_to(cr, (POSTER_W - ext.x_advance) / 2, y);
			cairo_show_text(cr, line);
		}
		if (word == NULL)
			break;
		strcpy(line, word);
	}
	free(copy);
	free(line);
	return y + lh * 0.3;
}

/* Draw the QR code of url, side points wide, top-left at x, y. */
static int
poster_qr(cairo_t *cr, const char *url, double x, double y, double side)
{
	QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	double m;
	int i, j, quiet = 4;

	if (qr == NULL)
		return -1;
	m = side / (qr->width + 2 * quiet);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, side, side);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (i = 0; i < qr->width; i++) {
		for (j = 0; j < qr->width; j++) {
			if (qr->data[i * qr->width + j] & 1)
				cairo_rectangle(cr, x + (j + quiet) * m,
				    y + (i + quiet) * m, m, m);
		}
	}
	cairo_fill(cr);
	QRcode_free(qr);
	return 0;
}

/*
 * The time the form takes, for the poster: POSTER_ITEM_SECONDS for each item
 * it shows (expectations included), rounded up to whole minutes, at least 1.
 */
static int
poster_minutes(const struct survey *s)
{
	int secs = s->nitems * POSTER_ITEM_SECONDS;

	return secs <= 60 ? 1 : (secs + 59) / 60;
}

/* The whole page. */
static int
poster_draw(cairo_t *cr, const struct survey *s, const char *unit,
    const char *name, const char *url, const char *sms_number)
{
	double y = POSTER_MARGIN, w = POSTER_W - 2 * POSTER_MARGIN, side = 300;
	char *line;
	int i;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0.04, 0.24, 0.42);
	cairo_rectangle(cr, 0, 0, POSTER_W, 14);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0.04, 0.24, 0.42);
	y = poster_text(cr, name, 26, 1, y, w);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	y = poster_text(cr, "Ông/bà hài lòng với dịch vụ hôm nay?", 22, 0, y + 4,
	    w);
	y = poster_text(cr, s->title_vi, 13, 0, y, w);
	xasprintf(&line, "Quét mã QR để đánh giá — khoảng %d phút, không "
	    "ghi tên.", poster_minutes(s));
	y = poster_text(cr, line, 15, 1, y + 6, w);
	free(line);
	if (poster_qr(cr, url, (POSTER_W - side) / 2, y + 8, side) != 0)
		return -1;
	y += side + 12;
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	y = poster_text(cr, url, 12, 0, y, w);
	if (s->sms_keyword != NULL && s->nsms > 0) {
		char *vals = xstrdup("");

		for (i = 0; i < s->nsms; i++) {
			char *next;

			xasprintf(&next, "%s%s%c", vals, i > 0 ? " " : "",
			    'a' + i);
			free(vals);
			vals = next;
		}
		cairo_set_source_rgb(cr, 0.04, 0.24, 0.42);
		if (sms_number != NULL) {
			xasprintf(&line, "Hoặc nhắn tin SMS tới số %s:",
			    sms_number);
			y = poster_text(cr, line, 17, 1, y + 10, w);
			free(line);
		} else
			y = poster_text(cr, "Hoặc nhắn tin SMS:", 17, 1, y + 10,
			    w);
		xasprintf(&line, "%s %s %s", s->sms_keyword, unit, vals);
		free(vals);
		y = poster_text(cr, line, 24, 1, y, w);
		free(line);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		for (i = 0; i < s->nsms; i++) {
			const struct item *it = &s->items[s->sms_items[i]];
			const struct scale *sc = it->scale;

			xasprintf(&line, "%c = %s (%d–%d)", 'a' + i,
			    it->text_vi, sc->values[0],
			    sc->values[sc->nvalues - 1]);
			y = poster_text(cr, line, 11, 0, y - 4, w);
			free(line);
		}
		xasprintf(&line, "Thang điểm: %d = %s … %d = %s",
		    s->scales[0].values[0], s->scales[0].labels_vi[0],
		    s->scales[0].values[s->scales[0].nvalues - 1],
		    s->scales[0].labels_vi[s->scales[0].nvalues - 1]);
		y = poster_text(cr, line, 11, 0, y, w);
		free(line);
		xasprintf(&line, "Ví dụ: %s %s", s->sms_keyword, unit);
		for (i = 0; i < s->nsms; i++) {
			char *next;

			xasprintf(&next, "%s %d", line,
			    s->items[s->sms_items[i]].scale->values[
			    s->items[s->sms_items[i]].scale->nvalues - 1]);
			free(line);
			line = next;
		}
		y = poster_text(cr, line, 13, 1, y, w);
		free(line);
	}
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	poster_text(cr, "Phiếu không ghi tên. Ý kiến của ông/bà giúp cải thiện "
	    "dịch vụ hành chính công.", 10, 0, POSTER_H - POSTER_MARGIN - 30, w);
	return 0;
}

/*
 * The unit's name and, if not built in, the survey from the database: 0, or
 * the exit status after a message (CTL_EXIT_USAGE for an unknown unit).
 */
static int
poster_db(const char *dsn, const char *unit, char **name, const char *scode,
    struct survey **s)
{
	PGconn *conn;
	const char *params[1];
	PGresult *res;
	char *cause = NULL;
	int rv = CTL_EXIT_FAIL;

	if ((conn = ctl_db_connect(dsn)) == NULL)
		return CTL_EXIT_FAIL;
	params[0] = unit;
	if ((res = ctl_db_exec(conn, "SELECT name FROM units WHERE code = $1",
	    1, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		ctl_warnx("unknown unit '%s'", unit);
		PQclear(res);
		rv = CTL_EXIT_USAGE;
		goto out;
	}
	if (*name == NULL)
		*name = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*s == NULL) {
		params[0] = scode;
		res = PQexecParams(conn, "SELECT definition::text FROM surveys "
		    "WHERE code = $1", 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1)
			*s = survey_create(PQgetvalue(res, 0, 0),
			    (size_t)PQgetlength(res, 0, 0), &cause);
		free(cause);
		PQclear(res);
	}
	rv = 0;
out:
	PQfinish(conn);
	return rv;
}

/* The options of sipasctl poster. */
const struct ctl_opt ctl_poster_opts[] = {
	{ "survey", 's', 's', "CODE", "the survey of the form" },
	{ "unit", 'u', 'u', "CODE", "the unit the form's responses are for" },
	{ "name", 'n', 'n', "TEXT", "the unit's name on the poster (default: "
	    "read from the database)" },
	{ "url", 'b', 'b', "BASE", "public base URL of the forms (default: "
	    "$SIPAS_PUBLIC_URL, else http://127.0.0.1:8080)" },
	{ "sms-number", 'm', 0, "NUMBER", "the number citizens text, printed "
	    "with the SMS syntax (default: $SIPAS_SMS_NUMBER; none: no number)" },
	{ "output", 'o', 'o', "FILE", "the poster; its extension .pdf, .svg or "
	    ".png chooses the format" },
	{ NULL, 0, 0, NULL, NULL },
};

/*
 * sipasctl poster --survey S --unit CODE [--name TEXT] [--url BASE]
 * [--sms-number NUMBER] -o FILE.
 */
int
ctl_poster_run(struct ctl *ctl, int argc, char **argv)
{
	const char *scode = NULL, *unit = NULL, *base = NULL, *out = NULL, *ext;
	const char *number = NULL;
	char *name = NULL, *url = NULL, *cause = NULL;
	struct survey *s = NULL;
	cairo_surface_t *surf = NULL;
	cairo_t *cr;
	cairo_status_t st;
	int ch, rv = CTL_EXIT_USAGE, dbrv, png = 0;

	while ((ch = ctl_getopt(argc, argv, ctl_poster_opts)) != -1) {
		switch (ch) {
		case 's':
			scode = optarg;
			break;
		case 'u':
			unit = optarg;
			break;
		case 'n':
			name = xstrdup(optarg);
			break;
		case 'b':
			base = optarg;
			break;
		case 'm':
			number = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (scode == NULL || unit == NULL || out == NULL || optind != argc)
		goto usage;
	if (base == NULL && (base = getenv("SIPAS_PUBLIC_URL")) == NULL)
		base = "http://127.0.0.1:8080";
	if (number == NULL && (number = getenv("SIPAS_SMS_NUMBER")) != NULL &&
	    *number == '\0')
		number = NULL;
	if (number != NULL && sms_number_check(number, &cause) != 0) {
		ctl_warnx("--sms-number: %s", cause);
		free(cause);
		goto out;
	}
	s = survey_builtin_create(scode);
	if ((name == NULL || s == NULL) &&
	    (dbrv = poster_db(ctl->db, unit, &name, scode, &s)) != 0) {
		rv = dbrv;
		goto out;
	}
	if (s == NULL) {
		ctl_warnx("unknown survey '%s'", scode);
		goto out;
	}
	xasprintf(&url, "%s%sf/%s/%s", base,
	    base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/", scode, unit);
	ext = strrchr(out, '.');
	if (ext != NULL && strcmp(ext, ".pdf") == 0)
		surf = cairo_pdf_surface_create(out, POSTER_W, POSTER_H);
	else if (ext != NULL && strcmp(ext, ".svg") == 0)
		surf = cairo_svg_surface_create(out, POSTER_W, POSTER_H);
	else if (ext != NULL && strcmp(ext, ".png") == 0) {
		png = 1;
		surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
		    (int)(POSTER_W * POSTER_PNG_SCALE),
		    (int)(POSTER_H * POSTER_PNG_SCALE));
	} else {
		ctl_warnx("%s: the output must end in .pdf, .svg or .png", out);
		goto out;
	}
	cr = cairo_create(surf);
	if (png)
		cairo_scale(cr, POSTER_PNG_SCALE, POSTER_PNG_SCALE);
	rv = CTL_EXIT_FAIL;
	if (poster_draw(cr, s, unit, name, url, number) != 0) {
		ctl_warnx("the URL is too long for a QR code");
		cairo_destroy(cr);
		goto out;
	}
	cairo_show_page(cr);
	cairo_destroy(cr);
	if (png)
		st = cairo_surface_write_to_png(surf, out);
	else {
		cairo_surface_finish(surf);
		st = cairo_surface_status(surf);
	}
	if (st != CAIRO_STATUS_SUCCESS) {
		ctl_warnx("%s: %s", out, cairo_status_to_string(st));
		goto out;
	}
	printf("%s\n", url);
	rv = CTL_EXIT_OK;
	goto out;
usage:
	ctl_verb_usage(stderr, ctl_verb_find("poster"));
out:
	if (surf != NULL)
		cairo_surface_destroy(surf);
	report_fonts_free(); /* cairo's and fontconfig's caches, for LeakSanitizer */
	survey_free(s);
	free(name);
	free(url);
	return rv;
}
