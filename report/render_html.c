/*
 * render_html.c: the report as one printable, self-contained HTML page: the same
 * tables as the other formats, the ranking and trend charts as inline SVG,
 * CSS inline with print rules (A4, repeated table headers, no row split).
 *
 * Nothing is fetched from anywhere: no scripts, no external style sheets,
 * fonts or images, no links to other sites. Numbers as published (two
 * decimals, a decimal comma in Vietnamese).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sipas/report.h"
#include "sipas/util.h"

#define L(r, vi, en) report_lang_pick(r, vi, en)

/* Chart colours by flag. */
#define HTML_ABOVE "#2e7d32"
#define HTML_WITHIN "#7b8fa1"
#define HTML_BELOW "#c62828"
#define HTML_PARENT "#1f4e9c"

static const char report_html_css[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;color:#222;margin:2em auto;max-width:60em;"
    "line-height:1.35}\n"
    "h1{font-size:18pt;margin:.2em 0}h2{font-size:13pt;border-bottom:2px solid #1f4e9c;color:#1f4e9c;"
    "margin-top:1.6em}h3{font-size:11pt;margin-top:1.2em}\n"
    ".cover{border-top:8px solid #1f4e9c;padding-top:1em}.kicker{text-transform:uppercase;color:#1f4e9c;"
    "font-weight:bold;letter-spacing:.05em;margin:0}\n"
    ".key{display:flex;gap:2em;align-items:baseline;background:#eef3fa;padding:.8em 1.2em;margin:1em 0}"
    ".key .big{font-size:26pt;font-weight:bold;color:#1f4e9c}\n"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ccd;padding:2px 5px;"
    "vertical-align:top}th{background:#dde6f0;text-align:left;font-size:9pt}\n"
    "td.num{text-align:right;white-space:nowrap}th.num{text-align:right}tr:nth-child(even) td{background:#f7f9fc}"
    "td.strong{font-weight:bold}td.i1{padding-left:1.5em}td.i2{padding-left:3em}td.i3{padding-left:4.5em}\n"
    "table.kv th{width:30%}.note{color:#555;font-size:9pt;margin:.3em 0 1em}.nodata{font-weight:bold;"
    "color:#c62828}\n"
    "svg{max-width:100%;height:auto;display:block;margin:.5em 0}svg text{font-family:'DejaVu Sans',Arial,"
    "sans-serif}\n"
    "footer{margin-top:2em;color:#777;font-size:8pt;border-top:1px solid #ccd}\n"
    "@media print{@page{size:A4;margin:15mm}body{margin:0;max-width:none;font-size:9pt}"
    "thead{display:table-header-group}tr,svg,.key{break-inside:avoid}h2,h3{break-after:avoid}"
    "section.ranking{break-before:page}}\n";

/* Text with &, <, >, " and ' escaped. */
static void
report_html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A number as published. */
static void
report_html_number(FILE *f, const struct report *r, double v, int decimals, int sign)
{
	char buf[32];

	fputs(report_number_format(r->lang, v, decimals, sign, buf, sizeof buf), f);
}

/* At most max characters of s (UTF-8), with an ellipsis when cut, escaped. */
static void
report_html_text_cut(FILE *f, const char *s, size_t max)
{
	size_t chars = 0, i;
	char *cut;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars > max)
			break;
	}
	cut = xstrndup(s, i);
	report_html_text(f, cut);
	if (s[i] != '\0')
		fputs("…", f);
	free(cut);
}

/* One table with its note. */
static void
report_html_table(FILE *f, const struct report *r, const struct report_table *t)
{
	char buf[64];
	size_t i;
	int j;

	if (t->nrows > 0) {
		fprintf(f, "<table%s>\n<thead><tr>", t->keyvalue ? " class=\"kv\"" : "");
		for (j = 0; j < t->ncolumns; j++) {
			fputs(t->columns[j].numeric ? "<th class=\"num\">" : "<th>", f);
			report_html_text(f, t->columns[j].title);
			fputs("</th>", f);
		}
		fputs("</tr></thead>\n<tbody>\n", f);
		for (i = 0; i < t->nrows; i++) {
			fputs("<tr>", f);
			for (j = 0; j < t->ncolumns; j++) {
				const struct report_cell *c = report_cell_get(t, i, j);
				int num =
				    !t->keyvalue && (c->kind == REPORT_CELL_NUMBER || c->kind == REPORT_CELL_INTEGER);
				const char *tag = t->keyvalue && j == 0 ? "th" : "td";

				fprintf(f, "<%s", tag);
				if (num || c->strong || c->indent > 0) {
					fprintf(f, " class=\"%s%s", num ? "num" : "",
					    c->strong ? (num ? " strong" : "strong") : "");
					if (c->indent > 0)
						fprintf(f, "%si%d", num || c->strong ? " " : "",
						    c->indent > 3 ? 3 : c->indent);
					fputc('"', f);
				}
				fputc('>', f);
				report_html_text(f, report_cell_format(r, c, buf, sizeof buf));
				fprintf(f, "</%s>", tag);
			}
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
	if (t->note != NULL) {
		fputs("<p class=\"note\">", f);
		report_html_text(f, t->note);
		fputs("</p>\n", f);
	}
}

/* The flag's colour. */
static const char *
report_html_flag_color(enum rank_flag flag)
{
	return flag == RANK_ABOVE ? HTML_ABOVE : flag == RANK_BELOW ? HTML_BELOW : HTML_WITHIN;
}

/* The ranking as a horizontal bar chart with interval whiskers and the parent's value. */
static void
report_html_ranking_chart(FILE *f, const struct report *r)
{
	static const enum rank_flag flags[] = { RANK_ABOVE, RANK_WITHIN, RANK_BELOW };
	const struct estimate *po = report_overall_get(r);
	const double W = 720, LW = 230, X0 = 240, X1 = 650, top = 40, rh = 18;
	double H, px, y;
	size_t i, k;
	int tick;

	if (r->nranked == 0)
		return;
	H = top + r->nranked * rh + 34;
#define HX(v) (X0 + (X1 - X0) * ((v) < 0 ? 0 : (v) > 100 ? 100 : (v)) / 100)
	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n", W, H, W, H);
	fputs("<title>", f);
	report_html_text(f, L(r, "Xếp hạng đơn vị trực thuộc", "Ranking of the child units"));
	fputs("</title>\n", f);
	for (tick = 0; tick <= 100; tick += 20) {
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">%d</text>\n",
		    HX(tick), top - 4, HX(tick), top + r->nranked * rh, HX(tick), top + r->nranked * rh + 14, tick);
	}
	/* Legend. */
	for (k = 0; k < 3; k++) {
		fprintf(f, "<rect x=\"%.0f\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"15\" "
		    "font-size=\"10\">%s</text>\n", X0 + k * 95.0, report_html_flag_color(flags[k]), X0 + k * 95.0 + 14,
		    report_flag_text(r, flags[k]));
	}
	fprintf(f,
	    "<path d=\"M%.0f 11h18\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/><text x=\"%.0f\" "
	    "y=\"15\" font-size=\"10\">%s</text>\n",
	    X0 + 3 * 95.0, HTML_PARENT, X0 + 3 * 95.0 + 22, L(r, "Chỉ số của đơn vị cấp trên", "The parent's index"));
	for (i = 0; i < r->nranked; i++) {
		const struct report_child *c = &r->children[i];
		const struct estimate *e = c->overall;

		y = top + i * rh;
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\"><title>", LW,
		    y + rh * 0.7);
		report_html_text(f, c->name);
		fputs("</title>", f);
		report_html_text_cut(f, c->name, 36);
		fputs("</text>\n", f);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", X0,
		    y + rh * 0.2, HX(e->value) - X0, rh * 0.6, report_html_flag_color(c->flag));
		if (isfinite(e->ci_low) && isfinite(e->ci_high))
			fprintf(f, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#222\" "
			    "stroke-width=\"1.2\" fill=\"none\"/>\n", HX(e->ci_low), y + rh / 2, HX(e->ci_high),
			    HX(e->ci_low), y + rh * 0.3, y + rh * 0.7, HX(e->ci_high), y + rh * 0.3, y + rh * 0.7);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">", W - 4, y + rh * 0.7);
		report_html_number(f, r, e->value, 2, 0);
		fputs("</text>\n", f);
	}
	if (!isfinite(po->value)) {
		fputs("</svg>\n", f);
		return;
	}
	px = HX(po->value);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" "
	    "stroke-dasharray=\"5 3\"/>\n", px, top - 14, px, top + r->nranked * rh, HTML_PARENT);
	/* The label on the side of the line with more room. */
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" font-weight=\"bold\" fill=\"%s\" text-anchor=\"%s\">",
	    px > (X0 + X1) / 2 ? px - 4 : px + 4, top - 6, HTML_PARENT, px > (X0 + X1) / 2 ? "end" : "start");
	report_html_text_cut(f, r->unit_name, 30);
	fputs(": ", f);
	report_html_number(f, r, po->value, 2, 0);
	fputs("</text>\n</svg>\n", f);
#undef HX
}

/* The trend of the overall index as a line with interval whiskers. */
static void
report_html_trend_chart(FILE *f, const struct report *r)
{
	const double W = 720, H = 240, X0 = 50, X1 = 700, Y0 = 20, Y1 = 200;
	double lo, hi, step, x, y;
	size_t i;
	int tick;

	if (report_trend_range(r, &lo, &hi) != 0)
		return;
	step = (X1 - X0) / (double)r->ntrend;
#define TY(v) (Y1 - (Y1 - Y0) * ((v) - lo) / (hi - lo))
	fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n<title>", W, H, W, H);
	report_html_text(f, L(r, "Xu hướng chỉ số chung", "Trend of the overall index"));
	fputs("</title>\n", f);
	for (tick = (int)lo; tick <= (int)hi; tick += hi - lo > 30 ? 10 : 5)
		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.0f\" "
		    "y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">%d</text>\n", X0, TY(tick), X1,
		    TY(tick), X0 - 4, TY(tick) + 3, tick);
	fputs("<polyline fill=\"none\" stroke=\"" HTML_PARENT "\" stroke-width=\"2\" points=\"", f);
	for (i = 0; i < r->ntrend; i++) {
		if (isfinite(r->trend[i].estimate.value))
			fprintf(f, "%.1f,%.1f ", X0 + step * (i + 0.5), TY(r->trend[i].estimate.value));
	}
	fputs("\"/>\n", f);
	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;

		x = X0 + step * (i + 0.5);
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">", x, Y1 + 16);
		/* About 5 units a character at font size 10: "6 tháng đầu năm 2025" fits six points. */
		report_html_text_cut(f, r->trend[i].label, (size_t)fmax(8, step / 5));
		fputs("</text>\n", f);
		if (!isfinite(e->value))
			continue;
		y = TY(e->value);
		if (isfinite(e->ci_low) && isfinite(e->ci_high))
			fprintf(f, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"#222\" stroke-width=\"1.2\"/>\n", x,
			    TY(e->ci_low), TY(e->ci_high));
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"" HTML_PARENT "\"/>", x, y);
		/* Above the interval, clear of the line. */
		fprintf(f,
		    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" font-weight=\"bold\" text-anchor=\"middle\" "
		    "fill=\"" HTML_PARENT "\">",
		    x, (isfinite(e->ci_high) ? TY(e->ci_high) : y) - 5);
		report_html_number(f, r, e->value, 2, 0);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
#undef TY
}

/* The trend chart with its heading and slope. */
static void
report_html_trend(FILE *f, const struct report *r)
{
	fputs("<h3>", f);
	report_html_text(f, L(r, "Xu hướng chỉ số chung", "Trend of the overall index"));
	fputs("</h3>\n", f);
	report_html_trend_chart(f, r);
	if (!r->trend_ok) {
		char *text = report_trend_none_text(r->lang, r->trend_points);

		fputs("<p class=\"note\" id=\"trend-none\">", f);
		report_html_text(f, text);
		fputs("</p>\n", f);
		free(text);
		return;
	}
	fprintf(f, "<p class=\"note\">%s: ", L(r, "Độ dốc", "Slope"));
	report_html_number(f, r, r->trend_slope, 2, 1);
	fprintf(f, " %s (%s ", L(r, "điểm mỗi kỳ", "points per period"), L(r, "sai số chuẩn", "standard error"));
	report_html_number(f, r, r->trend_slope_se, 2, 0);
	fputs(").</p>\n", f);
}

/* The cover: title, unit, period and the key figure. */
static void
report_html_cover(FILE *f, const struct report *r)
{
	const struct estimate *o = report_overall_get(r);
	const struct report_change *ch = &r->group_change[r->survey->ngroups - 1];
	char *period = report_period_text(r, 0), n[32];

	fputs("<header class=\"cover\">\n<p class=\"kicker\">", f);
	report_html_text(f, L(r, "Báo cáo chỉ số hài lòng", "Satisfaction index report"));
	fputs("</p>\n<h1>", f);
	report_html_text(f, r->unit_name);
	fputs("</h1>\n<p>", f);
	report_html_text(f, r->lang == REPORT_LANG_EN && r->survey->title_en != NULL ? r->survey->title_en :
	    r->survey->title_vi);
	fputs("<br>", f);
	report_html_text(f, L(r, "Kỳ báo cáo: ", "Period: "));
	report_html_text(f, period);
	fputs("</p>\n", f);
	free(period);
	if (o == NULL) {
		fputs("<p class=\"key nodata\">", f);
		report_html_text(f, L(r, "Không có dữ liệu cho kỳ báo cáo này.", "No data for this period."));
		fputs("</p>\n</header>\n", f);
		return;
	}
	fputs("<div class=\"key\"><div><span class=\"big\">", f);
	report_html_number(f, r, o->value, 2, 0);
	fputs(r->lang == REPORT_LANG_VI ? " %" : "%", f);
	fputs("</span><br>", f);
	report_html_text(f, r->lang == REPORT_LANG_EN && r->survey->overall->title_en != NULL ?
	    r->survey->overall->title_en : r->survey->overall->title_vi);
	fputs("</div><div>", f);
	fprintf(f, "%s %g %%: ", L(r, "Khoảng tin cậy", "Confidence interval"), 100 * r->level);
	report_html_number(f, r, o->ci_low, 2, 0);
	fputs(" – ", f);
	report_html_number(f, r, o->ci_high, 2, 0);
	fprintf(f, "<br>%s: %s", L(r, "Số người trả lời", "Respondents"),
	    report_count_format(r->lang, r->ur->respondents, n, sizeof n));
	if (ch->ok) {
		fprintf(f, "<br>%s: ", L(r, "So với kỳ trước", "From the previous period"));
		report_html_number(f, r, ch->change.diff, 2, 1);
		fprintf(f, " %s (p = ", L(r, "điểm", "points"));
		report_html_number(f, r, ch->change.p, 3, 0);
		fprintf(f, "; %s ", L(r, "hiệu chỉnh", "adjusted"));
		report_html_number(f, r, ch->p_holm, 3, 0);
		fprintf(f, ", %s)", ch->change.significant ? L(r, "có ý nghĩa thống kê", "significant") :
		    L(r, "không có ý nghĩa thống kê", "not significant"));
	}
	fputs("</div></div>\n</header>\n", f);
}

/*
 * The page's policy: nothing loads or runs, only its own style element
 * applies (by its SHA-256); computed once.
 */
const char *
report_html_policy(void)
{
	static char policy[256];
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;

	if (policy[0] != '\0')
		return policy;
	/* The element's text as written below: a newline, then the sheet. */
	ctx = EVP_MD_CTX_new();
	ASSERT(ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
	ASSERT(EVP_DigestUpdate(ctx, "\n", 1) == 1);
	ASSERT(EVP_DigestUpdate(ctx, report_html_css, sizeof report_html_css - 1) == 1);
	ASSERT(EVP_DigestFinal_ex(ctx, md, &mdlen) == 1);
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	snprintf(policy, sizeof policy, "default-src 'none'; style-src 'sha256-%s'; "
	    "base-uri 'none'; form-action 'none'", b64);
	return policy;
}

/* The whole page. */
static void
report_html_body(FILE *f, const struct report *r)
{
	const char *sections[] = { "overview", "ranking", "elements", "items", "expectations", "distribution",
		"reliability", "priorities", "methods" };
	enum report_section last = REPORT_SECTION_COUNT;
	size_t i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	    r->lang == REPORT_LANG_EN ? "en" : "vi", report_html_policy());
	report_html_text(f, L(r, "Báo cáo chỉ số hài lòng – ", "Satisfaction index report – "));
	report_html_text(f, r->unit_name);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", report_html_css);
	report_html_cover(f, r);
	for (i = 0; i < r->ntables; i++) {
		const struct report_table *t = &r->tables[i];

		if (t->section != last) {
			if (last != REPORT_SECTION_COUNT)
				fputs("</section>\n", f);
			fprintf(f, "<section class=\"%s\" id=\"%s\">\n<h2>", sections[t->section],
			    sections[t->section]);
			report_html_text(f, report_section_title(r, t->section));
			fputs("</h2>\n", f);
			last = t->section;
			if (t->section == REPORT_SECTION_RANKING && !r->nodata)
				report_html_ranking_chart(f, r);
		}
		if (strcmp(t->title, report_section_title(r, t->section)) != 0) {
			fputs("<h3>", f);
			report_html_text(f, t->title);
			fputs("</h3>\n", f);
		}
		report_html_table(f, r, t);
		if (t->section == REPORT_SECTION_OVERVIEW && r->ntrend > 0)
			report_html_trend(f, r);
	}
	if (last != REPORT_SECTION_COUNT)
		fputs("</section>\n", f);
	fputs("<footer>", f);
	report_html_text(f, r->survey->code);
	if (r->generated != NULL) {
		fputs(" · ", f);
		report_html_text(f, r->generated);
	}
	fputs(" · sipas</footer>\n</body>\n</html>\n", f);
}

/* The page into f. */
static int
report_html_file(FILE *f, const char *tmp, void *arg, char **cause)
{
	(void)tmp;
	(void)cause;
	report_html_body(f, arg);
	return 0;
}

/* Write the HTML. */
int
report_write_html(const struct report *r, const char *path, char **cause)
{
	return report_path_write(path, "w", report_html_file, (void *)r, cause);
}
