/*
 * test_xlsxin.c: the XLSX reader (common/xlsxin.c) on small workbooks
 * written here with libzip, alone and feeding the CSV row logic through
 * csvin_push_fields: cell types, sparse rows, date serials, sheet choice,
 * broken files and the zip-bomb limits.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>

#include "sipas/csvin.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"
#include "sipas/xlsxin.h"

#include "tap.h"

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";

static const char workbook2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<workbook " NS "><workbookPr/><sheets>"
    "<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>"
    "<sheet name=\"Dữ liệu\" sheetId=\"2\" r:id=\"rId2\"/>"
    "</sheets></workbook>";

static const char rels2[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"worksheet\" Target=\"/xl/worksheets/sheet2.xml\"/>"
    "</Relationships>";

/* Style 0: General; 1: a built-in date; 2: a custom date-time; 3: [Red]0.0. */
static const char styles[] =
    "<styleSheet " NS "><numFmts count=\"2\">"
    "<numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\\ hh:mm\"/>"
    "<numFmt numFmtId=\"165\" formatCode=\"[Red]0.0&quot;day&quot;\"/>"
    "</numFmts><cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
    "<cellXfs count=\"4\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/>"
    "<xf numFmtId=\"164\"/><xf numFmtId=\"165\"/></cellXfs></styleSheet>";

static const char strings[] =
    "<sst " NS " count=\"4\" uniqueCount=\"4\">"
    "<si><t>unit</t></si><si><t>submitted_at</t></si>"
    "<si><r><t>A</t></r><r><t>1</t></r><rPh><t>x</t></rPh></si>"
    "<si><t xml:space=\"preserve\"> paper </t></si></sst>";

/* Header: unit, submitted_at, A1, channel (inline), A2; rows below. */
static const char sheet1[] =
    "<worksheet " NS "><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
    "<c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"inlineStr\"><is><t>channel</t></is></c>"
    "<c r=\"E1\" t=\"str\"><f>\"A\"&amp;2</f><v>A2</v></c></row>"
    "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>U001</t></is></c>"
    "<c r=\"B2\" s=\"2\"><v>45770.5</v></c><c r=\"C2\"><v>5</v></c>"
    "<c r=\"D2\" t=\"s\"><v>3</v></c><c r=\"E2\"><v>4</v></c></row>"
    "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t>U002</t></is></c>"
    "<c r=\"C4\" s=\"3\"><v>3</v></c></row>"
    "<row r=\"5\"><c r=\"A5\" s=\"1\"/><c r=\"B5\"/></row>"
    "<row r=\"6\"><c r=\"A6\" t=\"inlineStr\"><is><t>U003</t></is></c>"
    "<c r=\"B6\" s=\"1\"><v>45658</v></c><c r=\"C6\" t=\"b\"><v>1</v></c>"
    "<c r=\"E6\" t=\"e\"><v>#N/A</v></c></row>"
    "</sheetData></worksheet>";

static const char sheet2[] =
    "<worksheet " NS "><sheetData>"
    "<row><c t=\"inlineStr\"><is><t>unit</t></is></c><c t=\"inlineStr\"><is><t>A1</t></is></c></row>"
    "<row><c t=\"inlineStr\"><is><t>U009</t></is></c><c><v>2</v></c></row>"
    "</sheetData></worksheet>";

/* One part of a workbook to write. */
struct part {
	const char *name;
	const char *text; /* NULL: end */
	size_t len;	  /* 0: strlen(text) */
};

static char tmpl[] = "/tmp/test_xlsxin.XXXXXX";

/* Write parts as a zip into a new temporary file: its path (static). */
static const char *
write_zip(const struct part *parts)
{
	static char path[64];
	zip_t *z;
	zip_source_t *src;
	zip_int64_t i;
	int fd, err;

	snprintf(path, sizeof path, "%s", tmpl);
	if ((fd = mkstemp(path)) < 0)
		abort();
	close(fd);
	if ((z = zip_open(path, ZIP_TRUNCATE, &err)) == NULL)
		abort();
	for (; parts->name != NULL; parts++) {
		src = zip_source_buffer(z, parts->text, parts->len > 0 ?
		    parts->len : strlen(parts->text), 0);
		if (src == NULL || (i = zip_file_add(z, parts->name, src,
		    ZIP_FL_ENC_UTF_8)) < 0)
			abort();
		zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_DEFLATE, 9);
	}
	if (zip_close(z) != 0)
		abort();
	return path;
}

/* The standard workbook with sheet1 replaced by s1 (NULL: the usual). */
static const char *
write_book(const char *s1)
{
	struct part parts[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "xl/workbook.xml", workbook2, 0 },
		{ "xl/_rels/workbook.xml.rels", rels2, 0 },
		{ "xl/styles.xml", styles, 0 },
		{ "xl/sharedStrings.xml", strings, 0 },
		{ "xl/worksheets/sheet1.xml", s1 != NULL ? s1 : sheet1, 0 },
		{ "xl/worksheets/sheet2.xml", sheet2, 0 },
		{ NULL, NULL, 0 },
	};

	return write_zip(parts);
}

/* Little-endian fields of a zip header. */
static uint32_t
le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
le32_put(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

/*
 * Make entry name of the zip at path declare an uncompressed size of twice
 * its compressed size, in the central directory and its local header.
 */
static void
lie_sizes(const char *path, const char *name)
{
	unsigned char *d;
	size_t len, i, nlen = strlen(name), found = 0;
	uint32_t comp, off;
	FILE *f;

	if ((f = fopen(path, "r+b")) == NULL || fseek(f, 0, SEEK_END) != 0)
		abort();
	len = (size_t)ftell(f);
	d = xmalloc(len);
	rewind(f);
	if (fread(d, 1, len, f) != len)
		abort();
	for (i = 0; i + 46 + nlen <= len; i++) {
		if (memcmp(d + i, "PK\001\002", 4) != 0 ||
		    (size_t)(d[i + 28] | d[i + 29] << 8) != nlen ||
		    memcmp(d + i + 46, name, nlen) != 0)
			continue;
		comp = le32(d + i + 20);
		off = le32(d + i + 42);
		le32_put(d + i + 24, comp * 2);
		le32_put(d + off + 22, comp * 2);
		found++;
	}
	if (found != 1)
		abort();
	rewind(f);
	if (fwrite(d, 1, len, f) != len || fclose(f) != 0)
		abort();
	free(d);
}

/* A growing transcript. */
struct out {
	char s[8192];
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->s + o->len, sizeof o->s - o->len, fmt, ap);
	va_end(ap);
	if (n > 0 && o->len + n < sizeof o->s)
		o->len += n;
}

/* xlsxin: a row as "ROW:a|b|c\n". */
static int
dump_row(const char *const *fields, const size_t *lens, int n, long row,
    void *arg)
{
	struct out *o = arg;
	int i;

	out_add(o, "%ld:", row);
	for (i = 0; i < n; i++) {
		if (strlen(fields[i]) != lens[i])
			out_add(o, "<bad length>");
		out_add(o, "%s%s", i > 0 ? "|" : "", fields[i]);
	}
	out_add(o, "\n");
	return 0;
}

/* Open path (removed after), read it whole: 0, or the failure. */
static enum xlsxin_fail
read_book(const char *path, const char *sheet, const struct xlsxin_limits *lim,
    struct out *o, char **cause, char **name)
{
	struct xlsxin_limits def;
	struct xlsxin *x;
	enum xlsxin_fail fail = XLSXIN_OK;
	int fd, rc;

	if (lim == NULL) {
		xlsxin_limits_default(&def);
		lim = &def;
	}
	*cause = NULL;
	if ((fd = open(path, O_RDONLY)) < 0)
		abort();
	unlink(path);
	if ((x = xlsxin_open_fd(fd, sheet, lim, &fail, cause)) == NULL)
		return fail;
	if (name != NULL)
		*name = xstrdup(xlsxin_sheet(x));
	while ((rc = xlsxin_step(x, dump_row, o)) > 0)
		;
	if (rc < 0) {
		fail = xlsxin_failed(x);
		*cause = xstrdup(xlsxin_cause(x));
	}
	xlsxin_free(x);
	return fail;
}

static void
test_cells(void)
{
	struct out o = { .len = 0 };
	char *cause, *name = NULL;
	enum xlsxin_fail f;

	f = read_book(write_book(NULL), NULL, NULL, &o, &cause, &name);
	tap_ok(f == XLSXIN_OK, "the first sheet reads (%s)", cause ? cause : "");
	tap_ok(name != NULL && strcmp(name, "Sheet1") == 0, "first sheet: Sheet1");
	tap_ok(strcmp(o.s,
	    "1:unit|submitted_at|A1|channel|A2\n"
	    "2:U001|2025-04-23T12:00:00+07:00|5| paper |4\n"
	    "4:U002||3\n"
	    "5:|\n"
	    "6:U003|2025-01-01T00:00:00+07:00|TRUE||#N/A\n") == 0,
	    "strings, rich text, inline, numbers, booleans, errors, dates, "
	    "sparse rows");
	if (tap_failed)
		tap_diag("%s", o.s);
	free(cause);
	free(name);
}

static void
test_sheet_choice(void)
{
	struct out o = { .len = 0 };
	char *cause, *name = NULL;
	enum xlsxin_fail f;

	f = read_book(write_book(NULL), "Dữ liệu", NULL, &o, &cause, &name);
	tap_ok(f == XLSXIN_OK && name != NULL && strcmp(name, "Dữ liệu") == 0,
	    "sheet=NAME picks the second sheet");
	tap_ok(strcmp(o.s, "1:unit|A1\n2:U009|2\n") == 0,
	    "rows and cells without references are numbered in order");
	free(cause);
	free(name);
	o.len = 0;
	f = read_book(write_book(NULL), "Sheet9", NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_NO_SHEET && cause != NULL &&
	    strstr(cause, "Sheet1, Dữ liệu") != NULL,
	    "an unknown sheet lists the sheets (%s)", cause ? cause : "");
	free(cause);
}

static void
test_broken(void)
{
	static const char not_zip[] = "unit,A1\nU001,5\n";
	struct part no_types[] = {
		{ "xl/workbook.xml", workbook2, 0 },
		{ NULL, NULL, 0 },
	};
	struct xlsxin_limits lim;
	struct out o = { .len = 0 };
	struct xlsxin *x;
	enum xlsxin_fail f = XLSXIN_OK;
	char *cause = NULL;
	const char *path;
	int fd;

	xlsxin_limits_default(&lim);
	x = xlsxin_open_buffer(not_zip, sizeof not_zip - 1, NULL, &lim, &f,
	    &cause);
	tap_ok(x == NULL && f == XLSXIN_BAD && cause != NULL,
	    "not a zip: refused (%s)", cause ? cause : "");
	free(cause);

	/* A zip cut in half. */
	path = write_book(NULL);
	if ((fd = open(path, O_RDWR)) < 0 || ftruncate(fd, 600) != 0)
		abort();
	close(fd);
	f = read_book(path, NULL, NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL, "a truncated zip: refused (%s)",
	    cause ? cause : "");
	free(cause);

	f = read_book(write_zip(no_types), NULL, NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL &&
	    strstr(cause, "[Content_Types].xml") != NULL,
	    "a zip that is not a workbook: refused (%s)", cause ? cause : "");
	free(cause);

	f = read_book(write_book("<worksheet><sheetData><row><c><v>1</v></row>"),
	    NULL, NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL && strstr(cause, "line") != NULL,
	    "malformed sheet XML: refused with its line (%s)", cause ?
	    cause : "");
	free(cause);

	f = read_book(write_book("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>"
	    "<worksheet><sheetData/></worksheet>"), NULL, NULL, &o, &cause,
	    NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL && strstr(cause, "DOCTYPE"),
	    "a DOCTYPE is refused (%s)", cause ? cause : "");
	free(cause);

	f = read_book(write_book("<worksheet><sheetData><row r=\"1\">"
	    "<c r=\"A1\" t=\"s\"><v>17</v></c></row></sheetData></worksheet>"),
	    NULL, NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL && strstr(cause, "A1") != NULL,
	    "a shared string that does not exist names its cell (%s)",
	    cause ? cause : "");
	free(cause);

	f = read_book(write_book("<worksheet><sheetData><row r=\"1\">"
	    "<c r=\"XFE1\"><v>1</v></c></row></sheetData></worksheet>"),
	    NULL, NULL, &o, &cause, NULL);
	tap_ok(f == XLSXIN_BAD && cause != NULL, "a column past XFD is refused "
	    "(%s)", cause ? cause : "");
	free(cause);
}

static void
test_limits(void)
{
	struct xlsxin_limits lim;
	struct out o = { .len = 0 };
	enum xlsxin_fail f;
	char *cause, *zeros;
	size_t n = 8 * 1024 * 1024;

	/* 8 MiB of zeros deflate about 1000:1. */
	zeros = xcalloc(1, n);
	memset(zeros, ' ', n);
	{
		struct part bomb[] = {
			{ "[Content_Types].xml", content_types, 0 },
			{ "xl/workbook.xml", workbook2, 0 },
			{ "xl/_rels/workbook.xml.rels", rels2, 0 },
			{ "xl/worksheets/sheet1.xml", zeros, n },
			{ NULL, NULL, 0 },
		};

		f = read_book(write_zip(bomb), NULL, NULL, &o, &cause, NULL);
		tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
		    strstr(cause, "xl/worksheets/sheet1.xml") != NULL &&
		    strstr(cause, "100 times") != NULL,
		    "an entry over 100:1: refused (%s)", cause ? cause : "");
		free(cause);
	}
	/* The same, its declared sizes lowered to twice the compressed. */
	{
		struct part bomb[] = {
			{ "[Content_Types].xml", content_types, 0 },
			{ "xl/workbook.xml", workbook2, 0 },
			{ "xl/_rels/workbook.xml.rels", rels2, 0 },
			{ "xl/worksheets/sheet1.xml", zeros, n },
			{ NULL, NULL, 0 },
		};
		const char *path = write_zip(bomb);

		lie_sizes(path, "xl/worksheets/sheet1.xml");
		f = read_book(path, NULL, NULL, &o, &cause, NULL);
		tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
		    strstr(cause, "inflates more than 100 times") != NULL,
		    "lying sizes: the ratio is enforced while inflating (%s)",
		    cause ? cause : "");
		free(cause);

		path = write_zip(bomb);
		lie_sizes(path, "xl/worksheets/sheet1.xml");
		xlsxin_limits_default(&lim);
		lim.ratio_max = 1000000;
		lim.inflated_max = 1024 * 1024;
		f = read_book(path, NULL, &lim, &o, &cause, NULL);
		tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
		    strstr(cause, "inflates to more than 1048576") != NULL,
		    "lying sizes: the total is enforced while inflating (%s)",
		    cause ? cause : "");
		free(cause);
	}
	free(zeros);

	xlsxin_limits_default(&lim);
	lim.inflated_max = 1000;
	f = read_book(write_book(NULL), NULL, &lim, &o, &cause, NULL);
	tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
	    strstr(cause, "1000 bytes") != NULL,
	    "over the inflated total: refused (%s)", cause ? cause : "");
	free(cause);

	xlsxin_limits_default(&lim);
	lim.entries_max = 5;
	f = read_book(write_book(NULL), NULL, &lim, &o, &cause, NULL);
	tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
	    strstr(cause, "entries") != NULL,
	    "over the entry count: refused (%s)", cause ? cause : "");
	free(cause);

	xlsxin_limits_default(&lim);
	lim.strings_max = 40;
	f = read_book(write_book(NULL), NULL, &lim, &o, &cause, NULL);
	tap_ok(f == XLSXIN_TOO_LARGE && cause != NULL &&
	    strstr(cause, "shared strings") != NULL,
	    "over the shared-string cap: refused (%s)", cause ? cause : "");
	free(cause);
}

/* csvin callbacks: a transcript of rows and errors. */
static int
csv_row(const struct response *r, long row, void *arg)
{
	struct out *o = arg;
	char when[32] = "-";

	if (r->has_time)
		time_format_iso8601(r->submitted_at, r->tz_minutes, when);
	out_add(o, "row %ld %s %s %s A1=%d\n", row, r->unit, when,
	    channel_name(r->channel), r->answers[0]);
	return 0;
}

static int
csv_error(const struct csvin_error *e, void *arg)
{
	struct out *o = arg;

	out_add(o, "error %ld:%d %s\n", e->row, e->column, e->reason);
	return 0;
}

struct pushed {
	struct csvin *csv;
};

static int
push_row(const char *const *fields, const size_t *lens, int n, long row,
    void *arg)
{
	struct pushed *p = arg;

	return csvin_push_fields(p->csv, fields, lens, n);
}

static void
test_csvin(void)
{
	struct xlsxin_limits lim;
	struct out o = { .len = 0 };
	struct survey *s = survey_builtin_create("sipas-2017");
	struct pushed p;
	struct xlsxin *x;
	enum xlsxin_fail f;
	char *cause = NULL;
	const char *path = write_book(NULL);
	int fd, rc;

	ASSERT(s != NULL);
	xlsxin_limits_default(&lim);
	if ((fd = open(path, O_RDONLY)) < 0)
		abort();
	unlink(path);
	x = xlsxin_open_fd(fd, NULL, &lim, &f, &cause);
	ASSERT(x != NULL);
	p.csv = csvin_create(s, csv_row, csv_error, &o);
	while ((rc = xlsxin_step(x, push_row, &p)) > 0)
		;
	tap_ok(rc == 0, "the sheet is read to its end");
	tap_ok(csvin_finish(p.csv) == 0, "csvin_finish");
	tap_ok(csvin_rows(p.csv) == 3 && csvin_bad_rows(p.csv) == 1,
	    "3 data rows (the blank one skipped), 1 bad");
	tap_ok(strcmp(o.s,
	    "row 1 U001 2025-04-23T12:00:00+07:00 paper A1=5\n"
	    "row 2 U002 - paper A1=3\n"
	    "error 3:3 value \"TRUE\" is not on scale SAT5 (1, 2, 3, 4, 5)\n"
	    "error 3:5 value \"#N/A\" is not on scale SAT5 (1, 2, 3, 4, 5)\n")
	    == 0, "rows validated by csvin; a short row is padded; errors "
	    "name row and column");
	if (tap_failed)
		tap_diag("%s", o.s);
	tap_ok(xlsxin_dates(x) == 2, "two date serials read");
	csvin_free(p.csv);
	xlsxin_free(x);
	survey_free(s);
}

int
main(void)
{
	test_cells();
	test_sheet_choice();
	test_broken();
	test_limits();
	test_csvin();
	return tap_done();
}
