/*
 * test_report.c: the periodic report built from fixture results and
 * read back from every format: the CSV and the XLSX number cells against R's
 * references (tests/data/fixtures/ *.expected.json) to 1e-6, the PDF through
 * pdftotext (names, figures with a decimal comma), pdftoppm (it renders) and
 * pdffonts (fonts embedded), the HTML (figures, no outside resources). Also
 * the model (ranking, flags, changes, non-response), a period without data,
 * bad parameters and unwritable paths, and the display formatting.
 *
 * Needs unzip and poppler-utils. SIPAS_REPORT_OUT=dir keeps the files there.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "sipas/analysis.h"
#include "sipas/csvin.h"
#include "sipas/report.h"
#include "sipas/report_run.h"
#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/util.h"
#include "tap.h"

#define TOL 1e-6

static const char *data_dir;
static char *out_dir;
static int keep_out;

/* --- loading fixtures --- */

struct load {
	struct analysis *a;
	const char *parent; /* also add every row under this unit, or NULL */
	int errors;
};

/* Row callback: fold the response into its unit and into the parent. */
static int
row_cb(const struct response *r, long row, void *arg)
{
	struct load *l = arg;
	struct analysis_row ar = { r->weight, r->stratum, r->psu, r->answers };
	char *stratum = NULL;

	(void)row;
	analysis_add(l->a, r->unit, &ar);
	if (l->parent != NULL) {
		/* The parent's strata are the units' strata: name them apart. */
		if (r->stratum != NULL && *r->stratum != '\0') {
			xasprintf(&stratum, "%s/%s", r->unit, r->stratum);
			ar.stratum = stratum;
		}
		analysis_add(l->a, l->parent, &ar);
		free(stratum);
	}
	return 0;
}

/* Error callback: fixtures have no bad rows. */
static int
error_cb(const struct csvin_error *e, void *arg)
{
	struct load *l = arg;

	tap_diag("row %ld column %d: %s", e->row, e->column, e->reason);
	l->errors++;
	return 0;
}

/* Read data_dir/name into a; 0 or -1. */
static int
load_csv(const struct survey *s, struct analysis *a, const char *name, const char *parent)
{
	struct load l = { a, parent, 0 };
	struct csvin *in = csvin_create(s, row_cb, error_cb, &l);
	char *path, *text, *cause = NULL;
	size_t len;

	xasprintf(&path, "%s/%s", data_dir, name);
	text = util_file_read(path, &len, &cause);
	free(path);
	if (text == NULL) {
		tap_diag("%s", cause);
		free(cause);
		csvin_free(in);
		return -1;
	}
	if (csvin_push(in, text, len) != 0 || csvin_finish(in) != 0)
		l.errors++;
	csvin_free(in);
	free(text);
	return l.errors == 0 ? 0 : -1;
}

/* A JSON file under data_dir. */
static json_t *
load_json(const char *name)
{
	json_error_t err;
	char *path;
	json_t *j;

	xasprintf(&path, "%s/%s", data_dir, name);
	j = json_load_file(path, 0, &err);
	if (j == NULL)
		tap_diag("%s: %s", path, err.text);
	free(path);
	return j;
}

/* The expected estimate of unit/code in an expected JSON, or NULL. */
static json_t *
expected_find(json_t *exp, const char *unit, const char *code)
{
	static const char *lists[] = { "groups", "items", "expectations" };
	json_t *u, *x;
	size_t i, j, k;

	json_array_foreach(json_object_get(exp, "units"), i, u) {
		if (strcmp(json_string_value(json_object_get(u, "unit")), unit) != 0)
			continue;
		x = json_object_get(u, "overall");
		if (strcmp(json_string_value(json_object_get(x, "code")), code) == 0)
			return x;
		for (k = 0; k < 3; k++) {
			json_array_foreach(json_object_get(u, lists[k]), j, x) {
				if (strcmp(json_string_value(json_object_get(x, "code")), code) == 0)
					return x;
			}
		}
	}
	return NULL;
}

/* A number of an expected estimate (NAN for null). */
static double
expected_number(json_t *x, const char *key)
{
	json_t *v = json_object_get(x, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The estimate of code in a unit's results. */
static const struct estimate *
result_estimate(const struct survey *s, const struct unit_result *ur, const char *code)
{
	const struct group *g = survey_group_find(s, code);
	int i;

	if (g != NULL)
		return &ur->groups[g->index];
	if ((i = survey_item_find(s, code)) >= 0)
		return &ur->items[i];
	return NULL;
}

/* --- reading outputs back --- */

/* The whole output of a shell command, or NULL; *status its exit status. */
static char *
run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	size_t len = 0, cap = 65536, n;
	char *buf;
	int st;

	if (f == NULL)
		return NULL;
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
	}
	buf[len] = '\0';
	st = pclose(f);
	if (status != NULL)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

/* A path in the output directory (caller frees). */
static char *
out_path(const char *name)
{
	char *p;

	xasprintf(&p, "%s/%s", out_dir, name);
	return p;
}

/* 1 if path exists. */
static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* XML text with the five entities decoded, in place. */
static void
xml_unescape(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
	char *o = s;
	size_t k;

	while (*s != '\0') {
		for (k = 0; k < 5; k++) {
			if (strncmp(s, ents[k].ent, strlen(ents[k].ent)) == 0)
				break;
		}
		if (k < 5) {
			*o++ = ents[k].c;
			s += strlen(ents[k].ent);
		} else
			*o++ = *s++;
	}
	*o = '\0';
}

struct xcell {
	int row, col; /* 1-based row, 0-based column */
	int string;
	char *text;   /* the shared string, or the <v> text of a number */
	double number;
};

struct sheet {
	char *name;
	char *xml;
	struct xcell *cells;
	size_t ncells;
};

struct xlsx {
	char **strings;
	size_t nstrings;
	struct sheet *sheets;
	size_t nsheets;
	char *styles;
};

/* The text between <tag ...> and </tag> starting at s, or NULL; *end after it. */
static char *
xml_element(const char *s, const char *tag, const char **end)
{
	char open[32], close[32];
	const char *a, *b, *c;

	snprintf(open, sizeof open, "<%s", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	for (a = s; (a = strstr(a, open)) != NULL; a++) {
		if (a[strlen(open)] == '>' || a[strlen(open)] == ' ')
			break;
	}
	if (a == NULL || (b = strchr(a, '>')) == NULL)
		return NULL;
	if (b[-1] == '/') {
		*end = b + 1;
		return xstrdup("");
	}
	if ((c = strstr(b, close)) == NULL)
		return NULL;
	*end = c + strlen(close);
	return xstrndup(b + 1, c - b - 1);
}

/* Parse the shared strings: each <si> is the concatenation of its <t> texts. */
static void
xlsx_strings(struct xlsx *x, const char *xml)
{
	const char *p = xml, *q, *e;
	char *si, *t, *all;

	while ((si = xml_element(p, "si", &p)) != NULL) {
		all = xstrdup("");
		q = si;
		while ((t = xml_element(q, "t", &e)) != NULL) {
			char *next;

			xasprintf(&next, "%s%s", all, t);
			free(all);
			free(t);
			all = next;
			q = e;
		}
		xml_unescape(all);
		x->strings = xreallocarray(x->strings, x->nstrings + 1, sizeof *x->strings);
		x->strings[x->nstrings++] = all;
		free(si);
	}
}

/* Parse one sheet's cells. */
static void
xlsx_cells(struct xlsx *x, struct sheet *sh)
{
	const char *p = sh->xml, *q, *e;
	char ref[16];
	int n;

	while ((p = strstr(p, "<c r=\"")) != NULL) {
		struct xcell c;
		char *v;

		memset(&c, 0, sizeof c);
		if (sscanf(p, "<c r=\"%15[A-Z0-9]\"%n", ref, &n) != 1)
			break;
		e = strchr(p, '>');
		c.string = (q = strstr(p, " t=\"s\"")) != NULL && q < e;
		for (q = ref; *q >= 'A' && *q <= 'Z'; q++)
			c.col = c.col * 26 + (*q - 'A' + 1);
		c.col--;
		c.row = atoi(q);
		if (e[-1] == '/') {
			p = e;
			continue;
		}
		if ((v = xml_element(p, "v", &q)) == NULL || q > strstr(p, "</c>") + 4) {
			free(v);
			p = e;
			continue;
		}
		if (c.string) {
			size_t k = (size_t)atol(v);

			c.text = xstrdup(k < x->nstrings ? x->strings[k] : "");
		} else {
			c.text = xstrdup(v);
			c.number = strtod(v, NULL);
		}
		free(v);
		sh->cells = xreallocarray(sh->cells, sh->ncells + 1, sizeof *sh->cells);
		sh->cells[sh->ncells++] = c;
		p = q;
	}
}

/* Unzip an XLSX and parse its sheets; 0 or -1. */
static int
xlsx_load(struct xlsx *x, const char *path)
{
	char *cmd, *xml, *sheet;
	const char *p;
	int st;
	size_t i;

	memset(x, 0, sizeof *x);
	xasprintf(&cmd, "unzip -p '%s' xl/sharedStrings.xml", path);
	xml = run(cmd, &st);
	free(cmd);
	if (xml == NULL || st != 0) {
		free(xml);
		return -1;
	}
	xlsx_strings(x, xml);
	free(xml);
	xasprintf(&cmd, "unzip -p '%s' xl/styles.xml", path);
	x->styles = run(cmd, &st);
	free(cmd);
	xasprintf(&cmd, "unzip -p '%s' xl/workbook.xml", path);
	xml = run(cmd, &st);
	free(cmd);
	if (xml == NULL || st != 0) {
		free(xml);
		return -1;
	}
	for (p = xml; (p = strstr(p, "<sheet name=\"")) != NULL;) {
		const char *e;

		p += strlen("<sheet name=\"");
		e = strchr(p, '"');
		x->sheets = xreallocarray(x->sheets, x->nsheets + 1, sizeof *x->sheets);
		memset(&x->sheets[x->nsheets], 0, sizeof *x->sheets);
		x->sheets[x->nsheets].name = xstrndup(p, e - p);
		xml_unescape(x->sheets[x->nsheets].name);
		x->nsheets++;
	}
	free(xml);
	for (i = 0; i < x->nsheets; i++) {
		xasprintf(&cmd, "unzip -p '%s' xl/worksheets/sheet%zu.xml", path, i + 1);
		sheet = run(cmd, &st);
		free(cmd);
		if (sheet == NULL || st != 0) {
			free(sheet);
			return -1;
		}
		x->sheets[i].xml = sheet;
		xlsx_cells(x, &x->sheets[i]);
	}
	return 0;
}

/* Free a parsed XLSX. */
static void
xlsx_free(struct xlsx *x)
{
	size_t i, j;

	for (i = 0; i < x->nstrings; i++)
		free(x->strings[i]);
	free(x->strings);
	for (i = 0; i < x->nsheets; i++) {
		for (j = 0; j < x->sheets[i].ncells; j++)
			free(x->sheets[i].cells[j].text);
		free(x->sheets[i].cells);
		free(x->sheets[i].name);
		free(x->sheets[i].xml);
	}
	free(x->sheets);
	free(x->styles);
}

/* A sheet by name, or NULL. */
static struct sheet *
xlsx_sheet(struct xlsx *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nsheets; i++) {
		if (strcmp(x->sheets[i].name, name) == 0)
			return &x->sheets[i];
	}
	return NULL;
}

/* A cell, or NULL. */
static struct xcell *
sheet_cell(struct sheet *sh, int row, int col)
{
	size_t i;

	for (i = 0; i < sh->ncells; i++) {
		if (sh->cells[i].row == row && sh->cells[i].col == col)
			return &sh->cells[i];
	}
	return NULL;
}

/* The column whose header (row 2) is title, or -1. */
static int
sheet_column(struct sheet *sh, const char *title)
{
	size_t i;

	for (i = 0; i < sh->ncells; i++) {
		if (sh->cells[i].row == 2 && sh->cells[i].string && strcmp(sh->cells[i].text, title) == 0)
			return sh->cells[i].col;
	}
	return -1;
}

/* The row whose cell in col is the string text, or -1. */
static int
sheet_row(struct sheet *sh, int col, const char *text)
{
	size_t i;

	for (i = 0; i < sh->ncells; i++) {
		if (sh->cells[i].col == col && sh->cells[i].string && strcmp(sh->cells[i].text, text) == 0)
			return sh->cells[i].row;
	}
	return -1;
}

/* A numeric cell equal to want within TOL (an empty cell for NAN). */
static int
cell_is(struct sheet *sh, int row, int col, double want)
{
	struct xcell *c = sheet_cell(sh, row, col);

	if (isnan(want))
		return c == NULL;
	return c != NULL && !c->string && fabs(c->number - want) <= TOL;
}

/* The column titles of a model table, by position. */
static const char *
model_column(const struct report *r, enum report_section s, int col)
{
	const struct report_table *t = report_table_find(r, s);

	return t != NULL && col < t->ncolumns ? t->columns[col].title : "?";
}

/*
 * Every row of a sheet whose code (column 0 or 1) names an estimate of unit:
 * value, ci_low, ci_high and n numeric and equal to the reference. The
 * reference is the expected JSON when it has the unit, else the result.
 */
static int
check_sheet_estimates(const struct report *r, struct sheet *sh, enum report_section sec, int code_col,
    const char *unit, json_t *exp, const struct unit_result *ur, int *checked)
{
	int cv = sheet_column(sh, model_column(r, sec, code_col + 2)); /* value follows code and name */
	int cl = cv + 1, ch = cv + 2, cn = cv + 3, bad = 0;
	size_t i;

	if (cv < 0) {
		tap_diag("sheet %s: no value column", sh->name);
		return 1;
	}
	for (i = 0; i < sh->ncells; i++) {
		struct xcell *c = &sh->cells[i];
		const struct estimate *e;
		json_t *x;
		double v, lo, hi;
		long n;

		if (c->col != code_col || c->row <= 2 || !c->string)
			continue;
		if (sec == REPORT_SECTION_RANKING) {
			unit = c->text;
			if ((x = expected_find(exp, unit, r->survey->overall->code)) == NULL)
				continue;
		} else if (exp != NULL) {
			if ((x = expected_find(exp, unit, c->text)) == NULL)
				continue;
		} else {
			x = NULL;
		}
		if (x != NULL) {
			v = expected_number(x, "value");
			lo = expected_number(x, "ci_low");
			hi = expected_number(x, "ci_high");
			n = (long)json_integer_value(json_object_get(x, "n"));
		} else {
			if ((e = result_estimate(r->survey, ur, c->text)) == NULL)
				continue;
			v = e->value;
			lo = e->ci_low;
			hi = e->ci_high;
			n = e->n;
		}
		if (!cell_is(sh, c->row, cv, v) || !cell_is(sh, c->row, cl, lo) || !cell_is(sh, c->row, ch, hi) ||
		    !cell_is(sh, c->row, cn, (double)n)) {
			tap_diag("sheet %s row %d (%s): cells differ from the reference %.10g [%.10g, %.10g] n %ld",
			    sh->name, c->row, c->text, v, lo, hi, n);
			bad++;
		}
		(*checked)++;
	}
	return bad;
}

/* --- the CSV --- */

/*
 * Every CSV row against the reference: the expected JSON for the units it
 * has, the analysis result for the others. Returns mismatches; *rows counted.
 */
static int
check_csv(const char *path, const struct survey *s, json_t *exp, const struct result *res,
    const struct report *r, size_t *rows, size_t *trows)
{
	char *text = util_file_read(path, NULL, NULL), *line, *save = NULL, *f[8], *p;
	int bad = 0, k;

	*rows = *trows = 0;
	if (text == NULL)
		return 1;
	line = strtok_r(text, "\n", &save);
	if (line == NULL || strcmp(line, "unit,index_kind,code,value,ci_low,ci_high,n") != 0) {
		tap_diag("CSV header: %s", line ? line : "(none)");
		free(text);
		return 1;
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		const struct unit_result *ur;
		const struct estimate *e;
		double want[3], got[3];
		long n;
		json_t *x;

		for (k = 0, p = line; k < 7; k++) {
			f[k] = p;
			if ((p = strchr(p, ',')) == NULL)
				break;
			*p++ = '\0';
		}
		if (k != 6) {
			tap_diag("CSV row with %d fields", k + 1);
			bad++;
			continue;
		}
		for (k = 0; k < 3; k++)
			got[k] = *f[3 + k] != '\0' ? strtod(f[3 + k], NULL) : NAN;
		/* A trend row: the report's point of that label, in order. */
		if (strcmp(f[1], "trend") == 0) {
			if (*trows >= r->ntrend || strcmp(r->trend[*trows].label, f[2]) != 0 ||
			    strcmp(f[0], r->unit) != 0) {
				tap_diag("CSV trend row %s %s: not the report's point %zu", f[0], f[2], *trows);
				bad++;
				continue;
			}
			e = &r->trend[(*trows)++].estimate;
			if (!tap_close(got[0], e->value, TOL) || !tap_close(got[1], e->ci_low, TOL) ||
			    !tap_close(got[2], e->ci_high, TOL) || atol(f[6]) != e->n) {
				tap_diag("CSV trend %s: %.12g, expected %.12g", f[2], got[0], e->value);
				bad++;
			}
			continue;
		}
		(*rows)++;
		if ((x = exp != NULL ? expected_find(exp, f[0], f[2]) : NULL) != NULL) {
			want[0] = expected_number(x, "value");
			want[1] = expected_number(x, "ci_low");
			want[2] = expected_number(x, "ci_high");
			n = (long)json_integer_value(json_object_get(x, "n"));
		} else if ((ur = result_unit_find(res, f[0])) != NULL && (e = result_estimate(s, ur, f[2])) != NULL) {
			want[0] = e->value;
			want[1] = e->ci_low;
			want[2] = e->ci_high;
			n = e->n;
		} else {
			tap_diag("CSV row %s %s: no reference", f[0], f[2]);
			bad++;
			continue;
		}
		for (k = 0; k < 3; k++) {
			if (!tap_close(got[k], want[k], TOL)) {
				tap_diag("CSV %s %s: %.12g, expected %.12g", f[0], f[2], got[k], want[k]);
				bad++;
			}
		}
		if (atol(f[6]) != n) {
			tap_diag("CSV %s %s n: %s, expected %ld", f[0], f[2], f[6], n);
			bad++;
		}
	}
	free(text);
	return bad;
}

/* --- the PDF and the HTML --- */

/* The text of a PDF by pdftotext, or NULL. */
static char *
pdf_text(const char *path)
{
	char *cmd, *text;
	int st;

	xasprintf(&cmd, "pdftotext -enc UTF-8 '%s' - 2>&1", path);
	text = run(cmd, &st);
	free(cmd);
	if (st != 0) {
		tap_diag("pdftotext: %s", text ? text : "?");
		free(text);
		return NULL;
	}
	return text;
}

/* pdftoppm renders the page; 1 on success. */
static int
pdf_renders(const char *path, int page)
{
	char *cmd, *out, *png;
	int st;

	xasprintf(&png, "%s/page%d", out_dir, page);
	xasprintf(&cmd, "pdftoppm -r 50 -png -f %d -l %d -singlefile '%s' '%s' 2>&1", page, page, path, png);
	out = run(cmd, &st);
	free(cmd);
	if (out != NULL && *out != '\0')
		tap_diag("pdftoppm: %s", out);
	free(out);
	xasprintf(&cmd, "%s.png", png);
	st = st == 0 && exists(cmd);
	if (!keep_out)
		unlink(cmd);
	free(cmd);
	free(png);
	return st;
}

/* pdffonts: DejaVu Sans present and every font embedded; 1 if so. */
static int
pdf_fonts_embedded(const char *path)
{
	char *cmd, *out, *line, *save = NULL, *f[16], *w, *s2;
	int st, fonts = 0, dejavu = 0, notemb = 0, k, m;

	xasprintf(&cmd, "pdffonts '%s' 2>&1", path);
	out = run(cmd, &st);
	free(cmd);
	if (out == NULL || st != 0) {
		free(out);
		return 0;
	}
	/* name type encoding emb sub uni object ID; a type may be two words: count from the end. */
	for (line = strtok_r(out, "\n", &save), k = 0; line != NULL; line = strtok_r(NULL, "\n", &save), k++) {
		if (k < 2)
			continue; /* the header and the dashes */
		for (m = 0, s2 = NULL, w = strtok_r(line, " ", &s2); w != NULL && m < 16; w = strtok_r(NULL, " ", &s2))
			f[m++] = w;
		if (m < 6)
			continue;
		fonts++;
		dejavu += strstr(f[0], "DejaVuSans") != NULL;
		notemb += strcmp(f[m - 5], "yes") != 0;
	}
	free(out);
	if (fonts == 0 || dejavu == 0 || notemb > 0)
		tap_diag("pdffonts: %d fonts, %d DejaVu Sans, %d not embedded", fonts, dejavu, notemb);
	return fonts > 0 && dejavu > 0 && notemb == 0;
}

/* The overall value of unit as the PDF and HTML show it. */
static void
shown(const struct report *r, const struct unit_result *ur, char *buf, size_t len)
{
	report_number_format(r->lang, ur->groups[r->survey->ngroups - 1].value, 2, 0, buf, len);
}

/* Write every format of r under base; returns how many were written. */
static int
write_all(const struct report *r, const char *base)
{
	static const char *formats[] = { "xlsx", "pdf", "csv", "html" };
	char *path, *tmp, *cause = NULL;
	int k, ok = 0;

	for (k = 0; k < 4; k++) {
		xasprintf(&path, "%s/%s.%s", out_dir, base, formats[k]);
		xasprintf(&tmp, "%s.tmp", path);
		if (report_write(r, formats[k], path, &cause) == 0 && exists(path) && !exists(tmp))
			ok++;
		else {
			tap_diag("%s: %s", path, cause ? cause : "written, or a temporary file left");
			free(cause);
			cause = NULL;
		}
		free(path);
		free(tmp);
	}
	return ok;
}

/* --- the cases --- */

/* The parent with its children: sipas-2017, the previous period from the cluster fixture. */
static void
test_parent(void)
{
	struct survey *s = survey_builtin_create("sipas-2017");
	struct analysis *a = analysis_create(s, 0.95), *b = analysis_create(s, 0.95);
	json_t *units = load_json("report/units.json"), *exp = load_json("fixtures/sipas2017-simple.expected.json");
	json_t *c, *t;
	struct result *cur, *prev;
	struct report_params p;
	struct report_unit *children;
	struct report_point *trend;
	struct report *r;
	const struct unit_result *pu;
	const struct estimate *po;
	struct change ch;
	struct xlsx x;
	char *cause = NULL, *path, *text, buf[32];
	size_t i, n, rows, trows;
	int bad, ok, checked, sorted, flags;

	tap_ok(load_csv(s, a, "fixtures/sipas2017-simple.csv", "P") == 0 &&
	    load_csv(s, a, "report/small-unit.csv", "P") == 0, "current period: simple fixture and a small unit read");
	tap_ok(load_csv(s, b, "fixtures/sipas2017-cluster.csv", "P") == 0, "previous period: cluster fixture read");
	cur = analysis_result(a);
	prev = analysis_result(b);

	memset(&p, 0, sizeof p);
	p.unit = json_string_value(json_object_get(json_object_get(units, "parent"), "code"));
	p.unit_name = json_string_value(json_object_get(json_object_get(units, "parent"), "name"));
	n = json_array_size(json_object_get(units, "children"));
	children = xcalloc(n, sizeof *children);
	json_array_foreach(json_object_get(units, "children"), i, c) {
		children[i].code = json_string_value(json_object_get(c, "code"));
		children[i].name = json_string_value(json_object_get(c, "name"));
	}
	p.children = children;
	p.nchildren = n;
	p.from = json_string_value(json_object_get(json_object_get(units, "period"), "from"));
	p.to = json_string_value(json_object_get(json_object_get(units, "period"), "to"));
	p.prev_from = json_string_value(json_object_get(json_object_get(units, "previous"), "from"));
	p.prev_to = json_string_value(json_object_get(json_object_get(units, "previous"), "to"));
	p.min_n = (long)json_integer_value(json_object_get(units, "min_n"));
	p.lang = REPORT_LANG_VI;
	p.generated = "2026-01-05";
	/* The trend: the stored points, then the previous and the current period. */
	n = json_array_size(json_object_get(units, "trend"));
	trend = xcalloc(n + 2, sizeof *trend);
	json_array_foreach(json_object_get(units, "trend"), i, t) {
		trend[i].label = (char *)json_string_value(json_object_get(t, "label"));
		trend[i].estimate.value = expected_number(t, "value");
		trend[i].estimate.ci_low = expected_number(t, "ci_low");
		trend[i].estimate.ci_high = expected_number(t, "ci_high");
		trend[i].estimate.se = expected_number(t, "se");
		trend[i].estimate.n = (long)json_integer_value(json_object_get(t, "n"));
	}
	trend[n].label = "2024";
	trend[n].estimate = result_unit_find(prev, "P")->groups[s->ngroups - 1];
	trend[n + 1].label = "2025";
	trend[n + 1].estimate = result_unit_find(cur, "P")->groups[s->ngroups - 1];
	p.trend = trend;
	p.ntrend = n + 2;

	r = report_create(cur, prev, &p, &cause);
	if (!tap_ok(r != NULL, "report of P created")) {
		tap_diag("%s", cause);
		return;
	}
	pu = result_unit_find(cur, "P");
	po = &pu->groups[s->ngroups - 1];
	tap_ok(!r->nodata && r->ur->respondents == 612 && fabs(report_overall_get(r)->value - po->value) < 1e-12,
	    "the unit's results: 612 respondents, overall %.4f", po->value);

	/* Ranking: 4 ranked by value, U005 (12 respondents) listed not ranked, U006 without data. */
	sorted = r->nchildren == 6 && r->nranked == 4;
	flags = 1;
	for (i = 0; i < r->nranked && sorted; i++) {
		const struct report_child *k = &r->children[i];

		sorted = k->rank == (int)i + 1 && (i == 0 || k->overall->value <= r->children[i - 1].overall->value);
		flags &= k->flag == stats_rank_flag(k->overall, po->value) && k->flag != RANK_NONE;
	}
	tap_ok(sorted, "children ranked 1-4 by overall, best first");
	tap_ok(flags, "above/within/below flags as stats_rank_flag against the parent's %.2f", po->value);
	tap_ok(r->nchildren == 6 && strcmp(r->children[4].code, "U005") == 0 && r->children[4].ur != NULL &&
	    !r->children[4].ranked && r->children[4].rank == 0, "U005 with 12 respondents listed, not ranked");
	tap_ok(r->nchildren == 6 && strcmp(r->children[5].code, "U006") == 0 && r->children[5].ur == NULL &&
	    !r->children[5].ranked, "U006 without data listed last");
	tap_ok(strcmp(r->children[0].code, "U002") == 0 && r->children[0].flag == RANK_ABOVE &&
	    strcmp(r->children[3].code, "U001") == 0 && r->children[3].flag == RANK_BELOW,
	    "U002 first and above, U001 last and below");

	/* Change from the previous period, through stats_change. */
	stats_change(&result_unit_find(prev, "P")->groups[s->ngroups - 1], po, &ch);
	tap_ok(r->group_change[s->ngroups - 1].ok && r->group_change[s->ngroups - 1].change.diff == ch.diff &&
	    r->group_change[s->ngroups - 1].change.p == ch.p && r->group_change[s->ngroups - 1].p_holm >= ch.p &&
	    r->group_change[s->ngroups - 1].change.significant ==
	    (r->group_change[s->ngroups - 1].p_holm < 0.05), "overall change %+.4f (p %.4f, Holm %.4f) as "
	    "stats_change, significant on the adjusted p", ch.diff, ch.p, r->group_change[s->ngroups - 1].p_holm);
	bad = 0;
	for (i = 0; i < (size_t)s->nitems; i++) {
		double want = 100.0 * (double)(pu->respondents - pu->items[i].n) / (double)pu->respondents;

		bad += fabs(r->nonresponse[i] - want) > 1e-12;
	}
	tap_ok(bad == 0, "non-response of every item = missing share");
	tap_ok(r->group_order[0] == s->overall->index && r->group_depth[s->overall->index] == 0,
	    "elements in tree order, overall first");
	tap_ok(r->trend_ok && r->ntrend == 5, "trend slope over 5 points (%+.3f per period)", r->trend_slope);
	tap_ok(r->ntables == 9, "nine tables: one per section (one scale)");

	ok = write_all(r, "parent");
	tap_ok(ok == 4, "xlsx, pdf, csv, html written");

	/* CSV: every figure against R (U001-U004) or the analysis (P, U005). */
	path = out_path("parent.csv");
	bad = check_csv(path, s, exp, cur, r, &rows, &trows);
	tap_ok(bad == 0 && rows == 6 * (size_t)(s->ngroups + s->nitems),
	    "CSV: %zu rows (P, U001-U005), every figure equals the reference to 1e-6", rows);
	tap_ok(bad == 0 && trows == r->ntrend, "CSV: %zu trend rows, the report's points in order",
	    trows);
	free(path);

	/* XLSX. */
	path = out_path("parent.xlsx");
	if (tap_ok(xlsx_load(&x, path) == 0, "XLSX unzips and parses")) {
		struct sheet *sh;
		int col;

		ok = x.nsheets == 10 && xlsx_sheet(&x, "Xu hướng") != NULL;
		for (i = 0; i < REPORT_SECTION_COUNT; i++)
			ok &= xlsx_sheet(&x, report_section_title(r, (enum report_section)i)) != NULL;
		tap_ok(ok, "XLSX: 9 sheets named as the sections (Tổng quan ... Phương pháp) and Xu hướng");
		sh = xlsx_sheet(&x, "Xếp hạng");
		checked = 0;
		bad = sh == NULL || check_sheet_estimates(r, sh, REPORT_SECTION_RANKING, 1, NULL, exp, NULL, &checked);
		tap_ok(bad == 0 && checked == 4, "XLSX ranking: %d children's numeric cells equal R's to 1e-6",
		    checked);
		sh = xlsx_sheet(&x, "Yếu tố");
		checked = 0;
		bad = sh == NULL || check_sheet_estimates(r, sh, REPORT_SECTION_ELEMENTS, 0, "P", NULL, pu, &checked);
		tap_ok(bad == 0 && checked == s->ngroups, "XLSX elements: %d rows equal the analysis", checked);
		sh = xlsx_sheet(&x, "Tiêu chí");
		checked = 0;
		bad = sh != NULL ? check_sheet_estimates(r, sh, REPORT_SECTION_ITEMS, 0, "P", NULL, pu, &checked) : 1;
		tap_ok(bad == 0 && checked == s->nsat, "XLSX items: %d rows equal the analysis", checked);
		tap_ok(sh != NULL && strstr(sh->xml, "state=\"frozen\"") != NULL &&
			strstr(sh->xml, "ySplit=\"2\"") != NULL,
		    "XLSX: header rows frozen");
		tap_ok(x.styles != NULL && strstr(x.styles, "formatCode=\"0.00\"") != NULL, "XLSX: 0.00 number format");
		sh = xlsx_sheet(&x, "Xếp hạng");
		col = sh != NULL ? sheet_column(sh, model_column(r, REPORT_SECTION_RANKING, 7)) : -1;
		tap_ok(col >= 0 && sheet_row(sh, col, "Không xếp hạng") == sheet_row(sh, 1, "U005") &&
		    sheet_row(sh, col, "Không có dữ liệu") == sheet_row(sh, 1, "U006") && sheet_row(sh, 1, "U006") > 0,
		    "XLSX ranking lists U005 not ranked and U006 without data");
		sh = xlsx_sheet(&x, "Độ tin cậy");
		col = sh != NULL ? sheet_column(sh, "Cronbach's α") : -1;
		tap_ok(col >= 0 && cell_is(sh, sheet_row(sh, 0, "A"), col, pu->alpha[survey_group_find(s, "A")->index]),
		    "XLSX reliability: alpha of element A");
		xlsx_free(&x);
	}
	free(path);

	/* PDF. */
	path = out_path("parent.pdf");
	text = pdf_text(path);
	if (tap_ok(text != NULL, "pdftotext reads the PDF")) {
		ok = 1;
		for (i = 0; i < r->nchildren; i++) {
			if (strstr(text, r->children[i].name) == NULL) {
				tap_diag("PDF lacks %s", r->children[i].name);
				ok = 0;
			}
		}
		tap_ok(ok && strstr(text, "Sở Nội vụ tỉnh Thừa Thiên Huế") != NULL,
		    "PDF names the unit and all 6 children");
		ok = 1;
		for (i = 0; i < r->nranked; i++) {
			shown(r, r->children[i].ur, buf, sizeof buf);
			if (strchr(buf, ',') == NULL || strstr(text, buf) == NULL) {
				tap_diag("PDF lacks %s", buf);
				ok = 0;
			}
		}
		shown(r, pu, buf, sizeof buf);
		tap_ok(ok && strstr(text, buf) != NULL, "PDF shows every overall with a decimal comma (P %s)", buf);
		tap_ok(strstr(text, "QĐ 2640/QĐ-BNV") != NULL && strstr(text, "Năm 2025") != NULL &&
		    strstr(text, "Trang 1/") != NULL && strstr(text, "Phương pháp") != NULL,
		    "PDF: legal basis, period, page numbers, methods annex");
		tap_ok(strstr(text, "Chỉ số hài lòng") != NULL && strstr(text, "Cronbach") != NULL,
		    "PDF: Vietnamese text extracts with its diacritics");
	}
	free(text);
	tap_ok(pdf_renders(path, 1) && pdf_renders(path, 2), "pdftoppm renders pages 1 and 2");
	tap_ok(pdf_fonts_embedded(path), "pdffonts: DejaVu Sans, every font embedded");
	free(path);

	/* HTML. */
	path = out_path("parent.html");
	text = util_file_read(path, NULL, NULL);
	if (tap_ok(text != NULL, "HTML reads back")) {
		ok = 1;
		for (i = 0; i < r->nranked; i++) {
			shown(r, r->children[i].ur, buf, sizeof buf);
			ok &= strstr(text, buf) != NULL;
		}
		shown(r, pu, buf, sizeof buf);
		tap_ok(ok && strstr(text, buf) != NULL && strstr(text, "Phường Phú Hội") != NULL,
		    "HTML shows the names and the figures with a decimal comma");
		tap_ok(strstr(text, "http://") == NULL && strstr(text, "https://") == NULL &&
			strstr(text, "<script") == NULL && strstr(text, "<link") == NULL &&
			strstr(text, " src=") == NULL,
		    "HTML is self-contained");
		tap_ok(strstr(text, "<html lang=\"vi\">") != NULL && strstr(text, "@media print") != NULL &&
		    strstr(text, "<svg") != NULL, "HTML: lang=vi, print CSS, inline SVG chart");
	}
	free(text);
	free(path);

	report_free(r);
	free(children);
	free(trend);
	json_decref(units);
	json_decref(exp);
	result_free(cur);
	result_free(prev);
	analysis_free(a);
	analysis_free(b);
	survey_free(s);
}

/* Periods and days as people name them; no "-0,00". */
static void
test_calendar(void)
{
	static const struct {
		const char *from, *to, *vi, *en;
	} cases[] = {
		{ "2025-01-01", "2025-03-31", "Quý I/2025", "Q1 2025" },
		{ "2025-10-01", "2025-12-31", "Quý IV/2025", "Q4 2025" },
		{ "2025-01-01", "2025-06-30", "6 tháng đầu năm 2025", "H1 2025" },
		{ "2025-07-01", "2025-12-31", "6 tháng cuối năm 2025", "H2 2025" },
		{ "2025-01-01", "2025-12-31", "Năm 2025", "2025" },
		{ "2024-02-01", "2024-02-29", "Tháng 2/2024", "Feb 2024" },
		{ "2025-01-01", "2025-02-15", "01/01/2025 – 15/02/2025", "1 Jan 2025 – 15 Feb 2025" },
		{ "2024-12-01", "2025-02-28", "01/12/2024 – 28/02/2025", "1 Dec 2024 – 28 Feb 2025" },
	};
	char buf[128];
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(util_period_text(cases[i].from, cases[i].to, 0, buf, sizeof buf), cases[i].vi) != 0 ||
		    strcmp(util_period_text(cases[i].from, cases[i].to, 1, buf, sizeof buf), cases[i].en) != 0) {
			tap_diag("%s..%s: %s", cases[i].from, cases[i].to, buf);
			bad++;
		}
	}
	tap_ok(bad == 0, "periods named in Vietnamese and English (Quý I/2025, Q1 2025, ...)");
	tap_ok(strcmp(util_day_text("2026-12-04", 0, buf, sizeof buf), "04/12/2026") == 0 &&
	    strcmp(util_day_text("2026-12-04", 1, buf, sizeof buf), "4 Dec 2026") == 0, "days: 04/12/2026, 4 Dec 2026");
	tap_ok(strcmp(util_number_format(-0.001, 2, 0, 1, buf, sizeof buf), "0,00") == 0 &&
	    strcmp(util_number_format(-0.004, 2, 1, 0, buf, sizeof buf), "0.00") == 0 &&
	    strcmp(util_number_format(-0.02, 2, 0, 1, buf, sizeof buf), "-0,02") == 0,
	    "no -0,00 from the one number formatter");
}

/* One unit alone, in English: sipas-2023 (aspects, expectations), weights. */
static void
test_single(void)
{
	struct survey *s = survey_builtin_create("sipas-2023");
	struct analysis *a = analysis_create(s, 0.95);
	json_t *exp = load_json("fixtures/sipas2023-weighted.expected.json");
	struct report_params p;
	struct result *cur;
	struct report *r;
	struct xlsx x;
	char *cause = NULL, *path, *text, buf[32], want[128];
	struct report_point two[2];
	size_t rows, trows;
	int bad, checked;

	tap_ok(load_csv(s, a, "fixtures/sipas2023-weighted.csv", NULL) == 0, "sipas2023-weighted read");
	cur = analysis_result(a);
	memset(&p, 0, sizeof p);
	p.unit = "U001";
	p.unit_name = "Ward Phú Hội";
	p.children = (const struct report_unit[]){ { NULL, NULL } };
	p.nchildren = 0;
	p.from = "2025-01-01";
	p.to = "2025-03-31";
	p.min_n = 30;
	p.lang = REPORT_LANG_EN;
	two[0].label = "Q4 2024";
	two[0].estimate = result_unit_find(cur, "U001")->groups[s->ngroups - 1];
	two[1].label = "Q1 2025";
	two[1].estimate = two[0].estimate;
	p.trend = two;
	p.ntrend = 2;
	r = report_create(cur, NULL, &p, &cause);
	if (!tap_ok(r != NULL, "report of U001 created")) {
		tap_diag("%s", cause);
		return;
	}
	text = report_period_text(r, 0);
	tap_ok(strcmp(text, "Q1 2025") == 0, "the period in English: %s", text);
	free(text);
	text = report_design_text(r->lang, r->ur);
	snprintf(want, sizeof want, "weighted (%ld %s a weight other than 1)", r->ur->nweighted,
	    r->ur->nweighted == 1 ? "response has" : "responses have");
	tap_ok(r->ur->complex && r->ur->nweighted > 0 && strstr(text, want) != NULL,
	    "the design says why: %s", text);
	free(text);
	tap_ok(!r->trend_ok && r->trend_points == 2, "two periods: no slope");
	tap_ok(r->nchildren == 0 && r->prev == NULL && !r->group_change[s->ngroups - 1].ok,
	    "no children, no previous period, no change");
	tap_ok(write_all(r, "single") == 4, "xlsx, pdf, csv, html written");
	path = out_path("single.csv");
	bad = check_csv(path, s, exp, cur, r, &rows, &trows);
	tap_ok(bad == 0 && rows == (size_t)(s->ngroups + s->nitems), "CSV: %zu rows equal R's to 1e-6", rows);
	free(path);
	path = out_path("single.xlsx");
	if (tap_ok(xlsx_load(&x, path) == 0, "XLSX unzips and parses")) {
		struct sheet *sh;

		checked = 0;
		bad = (sh = xlsx_sheet(&x, "Elements")) != NULL ?
		    check_sheet_estimates(r, sh, REPORT_SECTION_ELEMENTS, 0, "U001", exp, NULL, &checked) : 1;
		tap_ok(bad == 0 && checked == s->ngroups, "XLSX elements: %d groups equal R's to 1e-6", checked);
		checked = 0;
		bad = (sh = xlsx_sheet(&x, "Items")) != NULL ?
		    check_sheet_estimates(r, sh, REPORT_SECTION_ITEMS, 0, "U001", exp, NULL, &checked) : 1;
		tap_ok(bad == 0 && checked == s->nsat, "XLSX items: %d items equal R's to 1e-6", checked);
		checked = 0;
		bad = (sh = xlsx_sheet(&x, "Expectations")) != NULL ?
		    check_sheet_estimates(r, sh, REPORT_SECTION_EXPECTATIONS, 0, "U001", exp, NULL, &checked) : 1;
		tap_ok(bad == 0 && checked == s->nitems - s->nsat, "XLSX expectations: %d items equal R's to 1e-6",
		    checked);
		tap_ok(xlsx_sheet(&x, "Distribution") != NULL && xlsx_sheet(&x, "Distribution (EXP4)") != NULL,
		    "XLSX: a distribution sheet per scale");
		xlsx_free(&x);
	}
	free(path);
	path = out_path("single.pdf");
	text = pdf_text(path);
	report_number_format(REPORT_LANG_EN, report_overall_get(r)->value, 2, 0, buf, sizeof buf);
	tap_ok(text != NULL && strchr(buf, '.') != NULL && strstr(text, buf) != NULL &&
		strstr(text, "Page 1 of") != NULL && strstr(text, "No previous period") != NULL,
	    "PDF in English: overall %s with a decimal point", buf);
	free(text);
	tap_ok(pdf_renders(path, 1), "pdftoppm renders page 1");
	free(path);
	path = out_path("single.html");
	text = util_file_read(path, NULL, NULL);
	tap_ok(text != NULL && strstr(text, "<html lang=\"en\">") != NULL && strstr(text, buf) != NULL,
	    "HTML in English with the overall %s", buf);
	tap_ok(text != NULL && strstr(text, "No trend is computed: it needs at least 3 periods with data, "
	    "and there are 2.") != NULL && strstr(text, "Slope") == NULL,
	    "HTML: two periods give a sentence, not a slope");
	tap_ok(text != NULL && strstr(text, "95 % confidence interval is the range") != NULL &&
	    strstr(text, "weight other than 1") != NULL, "HTML: what the interval means, why the design is complex");
	free(text);
	free(path);
	report_free(r);
	json_decref(exp);
	result_free(cur);
	analysis_free(a);
	survey_free(s);
}

/* A period without data renders in every format and says so. */
static void
test_nodata(void)
{
	static const char *langs[][3] = { { "vi", "Không có dữ liệu", "nodata-vi" }, { "en", "No data", "nodata-en" } };
	struct survey *s = survey_builtin_create("sipas-2023");
	struct analysis *a = analysis_create(s, 0.9);
	struct result *cur = analysis_result(a);
	struct report_params p;
	struct report *r;
	struct xlsx x;
	char *cause = NULL, *path, *text;
	int k, ok;

	for (k = 0; k < 2; k++) {
		memset(&p, 0, sizeof p);
		p.unit = "U001";
		p.from = "2025-02-01";
		p.to = "2025-02-28";
		p.prev_from = "2025-01-01";
		p.prev_to = "2025-01-31";
		p.lang = k == 0 ? REPORT_LANG_VI : REPORT_LANG_EN;
		r = report_create(cur, cur, &p, &cause);
		if (!tap_ok(r != NULL && r->nodata && r->ur == NULL, "%s: report for an empty period created",
			langs[k][0]))
			continue;
		tap_ok(write_all(r, langs[k][2]) == 4, "%s: xlsx, pdf, csv, html written", langs[k][0]);
		xasprintf(&path, "%s/%s.pdf", out_dir, langs[k][2]);
		text = pdf_text(path);
		tap_ok(text != NULL && strstr(text, langs[k][1]) != NULL, "%s: the PDF says '%s'", langs[k][0],
		    langs[k][1]);
		free(text);
		tap_ok(pdf_renders(path, 1), "%s: pdftoppm renders it", langs[k][0]);
		free(path);
		xasprintf(&path, "%s/%s.html", out_dir, langs[k][2]);
		text = util_file_read(path, NULL, NULL);
		tap_ok(text != NULL && strstr(text, langs[k][1]) != NULL, "%s: the HTML says so", langs[k][0]);
		free(text);
		free(path);
		xasprintf(&path, "%s/%s.xlsx", out_dir, langs[k][2]);
		ok = xlsx_load(&x, path) == 0;
		if (ok) {
			size_t i;

			ok = 0;
			for (i = 0; i < x.nstrings; i++)
				ok |= strstr(x.strings[i], langs[k][1]) != NULL;
			xlsx_free(&x);
		}
		tap_ok(ok, "%s: the XLSX says so", langs[k][0]);
		free(path);
		xasprintf(&path, "%s/%s.csv", out_dir, langs[k][2]);
		text = util_file_read(path, NULL, NULL);
		tap_ok(text != NULL && strcmp(text, "unit,index_kind,code,value,ci_low,ci_high,n\n") == 0,
		    "%s: the CSV is the header alone", langs[k][0]);
		free(text);
		free(path);
		report_free(r);
	}
	result_free(cur);
	analysis_free(a);
	survey_free(s);
}

/* Bad parameters and paths that cannot be written. */
static void
test_errors(void)
{
	static const char *formats[] = { "xlsx", "pdf", "csv", "html" };
	struct survey *s = survey_builtin_create("onestop-tt01"), *s2 = survey_builtin_create("sipas-2017");
	struct analysis *a = analysis_create(s, 0.95), *b = analysis_create(s2, 0.95);
	struct result *cur = analysis_result(a), *other = analysis_result(b);
	struct report_params p;
	struct report *r;
	char *cause = NULL, *path;
	int k, bad = 0;

	memset(&p, 0, sizeof p);
	p.from = "2025-01-01";
	p.to = "2025-01-31";
	r = report_create(cur, NULL, &p, &cause);
	tap_ok(r == NULL && cause != NULL, "no unit: %s", cause ? cause : "?");
	free(cause);
	cause = NULL;
	p.unit = "X";
	p.to = NULL;
	r = report_create(cur, NULL, &p, &cause);
	tap_ok(r == NULL && cause != NULL, "no period: %s", cause ? cause : "?");
	free(cause);
	cause = NULL;
	p.to = "2025-01-31";
	r = report_create(cur, other, &p, &cause);
	tap_ok(r == NULL && cause != NULL, "previous period of another survey: %s", cause ? cause : "?");
	free(cause);
	cause = NULL;
	r = report_create(cur, NULL, &p, &cause);
	for (k = 0; k < 4 && r != NULL; k++) {
		xasprintf(&path, "%s/no/such/dir/r.%s", out_dir, formats[k]);
		if (report_write(r, formats[k], path, &cause) != -1 || cause == NULL) {
			tap_diag("%s: no error", formats[k]);
			bad++;
		}
		free(cause);
		cause = NULL;
		free(path);
	}
	tap_ok(r != NULL && bad == 0, "every renderer fails on a missing directory with a cause");
	k = r != NULL ? report_write(r, "docx", "x.docx", &cause) : 0;
	tap_ok(k == -1 && cause != NULL, "unknown format: %s", cause ? cause : "?");
	free(cause);
	report_free(r);
	report_free(NULL);
	result_free(cur);
	result_free(other);
	analysis_free(a);
	analysis_free(b);
	survey_free(s);
	survey_free(s2);
}

/* Numbers as published. */
static void
test_format(void)
{
	static const struct {
		enum report_lang lang;
		double v;
		int decimals, sign;
		const char *want;
	} cases[] = {
		{ REPORT_LANG_VI, 87.5312, 2, 0, "87,53" },
		{ REPORT_LANG_EN, 87.5312, 2, 0, "87.53" },
		{ REPORT_LANG_VI, 87.535001, 2, 0, "87,54" },
		{ REPORT_LANG_VI, 100, 2, 0, "100,00" },
		{ REPORT_LANG_VI, -0.001, 2, 0, "0,00" },
		{ REPORT_LANG_VI, 0.001, 2, 1, "0,00" },
		{ REPORT_LANG_VI, 1.234, 2, 1, "+1,23" },
		{ REPORT_LANG_EN, -1.236, 2, 1, "-1.24" },
		{ REPORT_LANG_VI, 0.04567, 3, 0, "0,046" },
		{ REPORT_LANG_VI, NAN, 2, 0, "–" },
		{ REPORT_LANG_VI, 95, 0, 0, "95" },
	};
	char buf[32];
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		report_number_format(cases[i].lang, cases[i].v, cases[i].decimals, cases[i].sign, buf, sizeof buf);
		if (strcmp(buf, cases[i].want) != 0) {
			tap_diag("%g: '%s', expected '%s'", cases[i].v, buf, cases[i].want);
			bad++;
		}
	}
	tap_ok(bad == 0, "numbers: two decimals, decimal comma in Vietnamese, no -0,00");
	tap_ok(strcmp(report_count_format(REPORT_LANG_VI, 1000000, buf, sizeof buf), "1.000.000") == 0 &&
		strcmp(report_count_format(REPORT_LANG_EN, 1234, buf, sizeof buf), "1,234") == 0 &&
		strcmp(report_count_format(REPORT_LANG_VI, 612, buf, sizeof buf), "612") == 0,
	    "counts: thousands separators");
}

/* A stored answers object: every item on value v's place of its scale. */
static char *
run_answers(const struct survey *s, int k)
{
	json_t *o = json_object();
	const struct scale *sc;
	char *text;
	int i;

	for (i = 0; i < s->nitems; i++) {
		sc = s->items[i].scale;
		json_object_set_new(o, s->items[i].code, json_integer(sc->values[(k + i) % sc->nvalues]));
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/*
 * Periods that reach before the first supported day: the run keeps one
 * array of periods, the trend never longer, the previous period only when
 * it exists; report_period_previous refuses what the callers answer 422 to.
 */
static void
test_run_periods(void)
{
	static const struct {
		const char *from, *to;
		int ntrend, periods, prev; /* periods kept; a previous period? */
	} cases[] = {
		{ "1950-01-01", "2025-12-31", 6, 1, 0 },
		{ "1950-01-01", "2025-12-31", 60, 1, 0 },
		{ "1970-01-01", "2025-12-31", 60, 2, 1 },
		{ "1970-01-01", "2025-12-31", 6, 2, 1 },
		{ "1900-01-01", "1900-01-31", 60, 1, 0 },
		{ "1900-02-01", "1900-02-28", 60, 2, 1 },
		{ "1900-01-02", "1900-01-02", 3, 2, 1 },
		{ "1900-01-01", "9999-12-30", 60, 1, 0 },
		{ "1901-01-01", "1901-12-31", 60, 2, 1 },
		{ "2025-10-01", "2025-12-31", 4, 4, 1 },
		{ "2025-10-01", "2025-12-31", 1, 2, 1 },
		{ "2025-01-15", "2025-03-02", 60, 60, 1 },
	};
	struct survey *s = survey_builtin_create("sipas-2023");
	struct report_run *rr;
	struct report_params p;
	struct report *r;
	char *answers, *cause = NULL, pfrom[REPORT_DAY_LEN], pto[REPORT_DAY_LEN];
	size_t i, npts;
	int ok;

	answers = run_answers(s, 2);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rr = report_run_create(s, 0.95, "U001", cases[i].from, cases[i].to, cases[i].ntrend);
		/* A row in the period, one on its first day, one long before. */
		report_run_add(rr, cases[i].to, "C011", 1, NULL, NULL, answers, strlen(answers));
		report_run_add(rr, cases[i].from, NULL, 1, NULL, NULL, answers, strlen(answers));
		report_run_add(rr, "1900-01-01", NULL, 1, NULL, NULL, answers, strlen(answers));
		memset(&p, 0, sizeof p);
		p.unit = "U001";
		p.from = cases[i].from;
		p.to = cases[i].to;
		ok = report_period_previous(cases[i].from, cases[i].to, pfrom, pto) == 0;
		p.prev_from = ok ? pfrom : NULL;
		p.prev_to = ok ? pto : NULL;
		p.lang = REPORT_LANG_EN;
		r = report_run_finish(rr, &p, &cause);
		npts = r != NULL ? r->ntrend : 0;
		tap_ok(r != NULL && report_run_periods(rr) == cases[i].periods && ok == cases[i].prev &&
			npts >= 1 && (int)npts <= report_run_periods(rr) &&
			(r->prev_from != NULL) == cases[i].prev &&
			strcmp(report_run_start(rr), RESPONSE_DATE_MIN) >= 0,
		    "%s..%s, trend %d: %d period(s) (want %d), %zu trend point(s), previous %s",
		    cases[i].from, cases[i].to, cases[i].ntrend, report_run_periods(rr),
		    cases[i].periods, npts, ok ? pfrom : "none");
		if (r == NULL)
			tap_diag("%s", cause);
		free(cause);
		cause = NULL;
		report_free(r);
		report_run_free(rr);
	}
	tap_ok(report_day_valid("1900-01-01") && report_day_valid("9999-12-30") &&
		!report_day_valid("1899-12-31") && !report_day_valid("9999-12-31") &&
		!report_day_valid("2025-02-29") && report_day_valid("2024-02-29"),
	    "days: %s..%s, real days only", RESPONSE_DATE_MIN, RESPONSE_DATE_MAX);
	free(answers);
	survey_free(s);
}

/* What a run reads: the whole months of each period as states, the other days raw. */
static void
test_run_ranges(void)
{
	static const struct {
		const char *from, *to;
		int ntrend, raw;
		const char *months, *lo, *hi;
	} cases[] = {
		{ "2025-01-01", "2025-12-31", 1, 0,
		    "{2025-01-01,2025-02-01,2025-03-01,2025-04-01,2025-05-01,2025-06-01,"
		    "2025-07-01,2025-08-01,2025-09-01,2025-10-01,2025-11-01,2025-12-01,"
		    "2024-01-01,2024-02-01,2024-03-01,2024-04-01,2024-05-01,2024-06-01,"
		    "2024-07-01,2024-08-01,2024-09-01,2024-10-01,2024-11-01,2024-12-01}",
		    "{}", "{}" },
		{ "2025-10-01", "2025-12-31", 1, 1, "{}",
		    "{\"2025-10-01 00:00:00+07\",\"2025-07-01 00:00:00+07\"}",
		    "{\"2026-01-01 00:00:00+07\",\"2025-10-01 00:00:00+07\"}" },
		/* 253 days; the previous period is 2024-06-02..2025-02-09. */
		{ "2025-02-10", "2025-10-20", 2, 0,
		    "{2025-03-01,2025-04-01,2025-05-01,2025-06-01,2025-07-01,2025-08-01,"
		    "2025-09-01,2024-07-01,2024-08-01,2024-09-01,2024-10-01,2024-11-01,"
		    "2024-12-01,2025-01-01}",
		    "{\"2025-02-10 00:00:00+07\",\"2025-10-01 00:00:00+07\","
		    "\"2024-06-02 00:00:00+07\",\"2025-02-01 00:00:00+07\"}",
		    "{\"2025-03-01 00:00:00+07\",\"2025-10-21 00:00:00+07\","
		    "\"2024-07-01 00:00:00+07\",\"2025-02-10 00:00:00+07\"}" },
		/* Inside one month: no whole month, every day raw. */
		{ "2025-04-03", "2025-04-27", 2, 0, "{}",
		    "{\"2025-04-03 00:00:00+07\",\"2025-03-09 00:00:00+07\"}",
		    "{\"2025-04-28 00:00:00+07\",\"2025-04-03 00:00:00+07\"}" },
		/* From the 1st to a day that is not a month's last. */
		{ "2025-01-01", "2025-02-27", 2, 0, "{2025-01-01,2024-12-01}",
		    "{\"2025-02-01 00:00:00+07\",\"2024-11-04 00:00:00+07\"}",
		    "{\"2025-02-28 00:00:00+07\",\"2024-12-01 00:00:00+07\"}" },
	};
	struct survey *s = survey_builtin_create("sipas-2023");
	struct report_run *rr;
	struct report_ranges g;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rr = report_run_create(s, 0.95, "P01", cases[i].from, cases[i].to,
		    cases[i].ntrend);
		report_run_ranges(rr, cases[i].raw, &g);
		if (!tap_ok(strcmp(g.months, cases[i].months) == 0 &&
		    strcmp(g.lo, cases[i].lo) == 0 && strcmp(g.hi, cases[i].hi) == 0 &&
		    (g.nraw > 0) == (strcmp(cases[i].lo, "{}") != 0),
		    "ranges of %s..%s, %d period(s)%s", cases[i].from, cases[i].to,
		    report_run_periods(rr), cases[i].raw ? ", raw" : ""))
			tap_diag("months %s lo %s hi %s (%d)", g.months, g.lo, g.hi, g.nraw);
		report_ranges_clear(&g);
		report_run_free(rr);
	}
	rr = report_run_create(s, 0.95, "P01", "2025-02-10", "2025-10-20", 2);
	report_run_ranges(rr, 0, &g);
	tap_ok(strcmp(g.t0, "2024-06-02 00:00:00+07") == 0 &&
	    strcmp(g.t1, "2025-10-21 00:00:00+07") == 0,
	    "the bounds of all the periods: [%s, %s)", g.t0, g.t1);
	report_ranges_clear(&g);
	report_run_free(rr);
	survey_free(s);
}

/* The HTML report's policy allows exactly its own style element. */
static void
test_html_policy(void)
{
	const char *policy = report_html_policy();
	char *path = out_path("single.html"), *text, *meta, *css = NULL, *end;
	unsigned char md[EVP_MAX_MD_SIZE], b64[128];
	unsigned int mdlen = 0;
	char want[160];

	text = util_file_read(path, NULL, NULL);
	xasprintf(&meta, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">", policy);
	tap_ok(strncmp(policy, "default-src 'none'; style-src 'sha256-", 38) == 0 &&
		strstr(policy, "unsafe") == NULL && strstr(policy, "script") == NULL,
	    "HTML policy: default-src 'none', a hashed style, no script: %s", policy);
	if (text != NULL && (css = strstr(text, "<style>")) != NULL &&
	    (end = strstr(css, "</style>")) != NULL) {
		css += 7;
		EVP_Digest(css, (size_t)(end - css), md, &mdlen, EVP_sha256(), NULL);
		EVP_EncodeBlock(b64, md, (int)mdlen);
	} else
		b64[0] = '\0';
	snprintf(want, sizeof want, "style-src 'sha256-%s'", (char *)b64);
	tap_ok(text != NULL && strstr(text, meta) != NULL && strstr(text, meta) < strstr(text, "<style>"),
	    "HTML: the policy in a meta tag before the style element");
	tap_ok(b64[0] != '\0' && strstr(policy, want) != NULL,
	    "HTML: the policy's hash is the SHA-256 of the style element as written");
	tap_ok(text != NULL && strstr(text, " style=") == NULL && strstr(text, "<script") == NULL,
	    "HTML: no style attributes or scripts the policy would block");
	free(meta);
	free(text);
	free(path);
}

/* Remove the output directory's files (unless kept). */
static void
cleanup(void)
{
	char *cmd;

	if (keep_out)
		return;
	xasprintf(&cmd, "rm -rf '%s'", out_dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", out_dir);
	free(cmd);
}

/* Every case, in a fresh directory under /tmp (or SIPAS_REPORT_OUT). */
int
main(void)
{
	const char *keep = getenv("SIPAS_REPORT_OUT");
	char tmpl[] = "/tmp/sipas-report-XXXXXX";

	util_jansson_init();
	gsl_set_error_handler_off();
	data_dir = getenv("SIPAS_TEST_DATA") != NULL ? getenv("SIPAS_TEST_DATA") : "tests/data";
	if (keep != NULL && *keep != '\0') {
		mkdir(keep, 0777);
		out_dir = xstrdup(keep);
		keep_out = 1;
	} else if (mkdtemp(tmpl) != NULL)
		out_dir = xstrdup(tmpl);
	if (!tap_ok(out_dir != NULL, "output directory"))
		return tap_done();
	test_format();
	test_calendar();
	test_parent();
	test_single();
	test_nodata();
	test_errors();
	test_run_periods();
	test_run_ranges();
	test_html_policy();
	cleanup();
	free(out_dir);
	report_fonts_free();
	return tap_done();
}
