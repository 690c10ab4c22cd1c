/*
 * format.c: what every report renderer shares: numbers as published (two
 * decimals, a decimal comma in Vietnamese, docs/methodology.md section 9), the
 * language switch, section titles and write-then-rename of output files. No
 * statistics, no file format and no dispatch by format here (writers.c).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sipas/report.h"
#include "sipas/util.h"

/* Section titles: Vietnamese, English. */
static const char *const report_section_titles[REPORT_SECTION_COUNT][2] = {
	[REPORT_SECTION_OVERVIEW] = { "Tổng quan", "Overview" },
	[REPORT_SECTION_RANKING] = { "Xếp hạng", "Ranking" },
	[REPORT_SECTION_ELEMENTS] = { "Yếu tố", "Elements" },
	[REPORT_SECTION_ITEMS] = { "Tiêu chí", "Items" },
	[REPORT_SECTION_EXPECTATIONS] = { "Mong đợi", "Expectations" },
	[REPORT_SECTION_DISTRIBUTION] = { "Phân bố", "Distribution" },
	[REPORT_SECTION_RELIABILITY] = { "Độ tin cậy", "Reliability" },
	[REPORT_SECTION_PRIORITIES] = { "Ưu tiên", "Priorities" },
	[REPORT_SECTION_METHODS] = { "Phương pháp", "Methods" },
};

/* One of two texts by the report's language. */
const char *
report_lang_pick(const struct report *r, const char *vi, const char *en)
{
	return r->lang == REPORT_LANG_EN ? en : vi;
}

/* The section's title in the report's language. */
const char *
report_section_title(const struct report *r, enum report_section s)
{
	ASSERT(s < REPORT_SECTION_COUNT);
	return report_section_titles[s][r->lang == REPORT_LANG_EN];
}

/* A rank flag as shown: above, within, below the parent. */
const char *
report_flag_text(const struct report *r, enum rank_flag flag)
{
	switch (flag) {
	case RANK_ABOVE:
		return report_lang_pick(r, "Cao hơn", "Above");
	case RANK_WITHIN:
		return report_lang_pick(r, "Tương đương", "Within");
	case RANK_BELOW:
		return report_lang_pick(r, "Thấp hơn", "Below");
	case RANK_NONE:
		break;
	}
	return "–";
}

/* v with decimals; a decimal comma in Vietnamese; a dash for NAN; no "-0,00". */
char *
report_number_format(enum report_lang lang, double v, int decimals, int sign, char *buf, size_t len)
{
	return util_number_format(v, decimals, sign, lang == REPORT_LANG_VI, buf, len);
}

/* A count with thousands separators: "." in Vietnamese, "," in English. */
char *
report_count_format(enum report_lang lang, long n, char *buf, size_t len)
{
	char digits[32];
	size_t nd, i, o = 0;
	int neg = n < 0;

	ASSERT(len >= 32);
	snprintf(digits, sizeof digits, "%lu", neg ? -(unsigned long)n : (unsigned long)n);
	nd = strlen(digits);
	if (neg)
		buf[o++] = '-';
	for (i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = lang == REPORT_LANG_VI ? '.' : ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* A cell's display text. */
const char *
report_cell_format(const struct report *r, const struct report_cell *c, char *buf, size_t len)
{
	switch (c->kind) {
	case REPORT_CELL_TEXT:
		return c->text;
	case REPORT_CELL_NUMBER:
		return report_number_format(r->lang, c->number, c->decimals, c->sign, buf, len);
	case REPORT_CELL_INTEGER:
		return report_count_format(r->lang, (long)c->number, buf, len);
	case REPORT_CELL_EMPTY:
		break;
	}
	return "";
}

/* The temporary path of path. */
char *
report_path_tmp(const char *path)
{
	char *tmp;

	xasprintf(&tmp, "%s.tmp", path);
	return tmp;
}

/* Rename tmp over path, or remove tmp. */
int
report_path_commit(const char *tmp, const char *path, char **cause)
{
	if (rename(tmp, path) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Write path through its temporary file. */
int
report_path_write(const char *path, const char *mode, report_write_fn fn,
    void *arg, char **cause)
{
	char *tmp = report_path_tmp(path), *why = NULL;
	FILE *f;
	int error;

	if ((f = fopen(tmp, mode)) == NULL) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	errno = 0;
	error = fn(f, tmp, arg, &why) != 0 || ferror(f);
	if (fclose(f) != 0 || error) {
		if (why != NULL)
			*cause = why;
		else
			xasprintf(cause, "%s: %s", tmp, strerror(errno != 0 ?
			    errno : EIO));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	error = report_path_commit(tmp, path, cause);
	free(tmp);
	return error;
}

/*
 * The value axis of a trend chart: the points and their intervals, widened to
 * multiples of 5 with room for the labels, at least 10 points tall, within
 * [0, 100]. -1 when no point has a value.
 */
int
report_trend_range(const struct report *r, double *lop, double *hip)
{
	double lo = 100, hi = 0;
	size_t i;

	for (i = 0; i < r->ntrend; i++) {
		const struct estimate *e = &r->trend[i].estimate;

		if (isfinite(e->value)) {
			lo = fmin(lo, isfinite(e->ci_low) ? e->ci_low : e->value);
			hi = fmax(hi, isfinite(e->ci_high) ? e->ci_high : e->value);
		}
	}
	if (lo > hi)
		return -1;
	lo = fmax(0, floor((lo - 2) / 5) * 5);
	hi = fmin(100, ceil((hi + 4) / 5) * 5); /* room for the labels */
	if (hi - lo < 10) {
		hi = fmin(100, lo + 10);
		lo = hi - 10;
	}
	*lop = lo;
	*hip = hi;
	return 0;
}

/*
 * Why the design of ur is simple or complex, in words: "Phức hợp: có trọng
 * số (1 phiếu có trọng số khác 1)" / "Complex: weighted (1 response has a
 * weight other than 1)", with strata and clusters likewise. Caller frees.
 */
char *
report_design_text(enum report_lang lang, const struct unit_result *ur)
{
	char *text, *part, *tmp;
	int en = lang == REPORT_LANG_EN, n = 0;

	if (!ur->complex)
		return xstrdup(en ? "Simple: every weight is 1, no strata, no clusters" :
		    "Đơn giản: mọi phiếu có trọng số 1, không phân tầng, không chọn cụm");
	text = xstrdup(en ? "Complex:" : "Phức hợp:");
	if (ur->nweighted > 0) {
		if (en)
			xasprintf(&part, "weighted (%ld %s a weight other than 1)", ur->nweighted,
			    ur->nweighted == 1 ? "response has" : "responses have");
		else
			xasprintf(&part, "có trọng số (%ld phiếu có trọng số khác 1)", ur->nweighted);
		xasprintf(&tmp, "%s%s %s", text, n++ ? ";" : "", part);
		free(text);
		free(part);
		text = tmp;
	}
	if (ur->nstrata > 0) {
		if (en)
			xasprintf(&part, "stratified (%ld %s)", ur->nstrata, ur->nstrata == 1 ? "stratum" : "strata");
		else
			xasprintf(&part, "phân tầng (%ld tầng)", ur->nstrata);
		xasprintf(&tmp, "%s%s %s", text, n++ ? ";" : "", part);
		free(text);
		free(part);
		text = tmp;
	}
	if (ur->npsu > 0) {
		if (en)
			xasprintf(&part, "clustered (%ld %s)", ur->npsu, ur->npsu == 1 ? "cluster" : "clusters");
		else
			xasprintf(&part, "chọn cụm (%ld cụm)", ur->npsu);
		xasprintf(&tmp, "%s%s %s", text, n++ ? ";" : "", part);
		free(text);
		free(part);
		text = tmp;
	}
	if (n == 0) {
		/* A stored state from before the counts were kept. */
		xasprintf(&tmp, "%s %s", text, en ? "weights, strata or clusters" :
		    "có trọng số, phân tầng hoặc chọn cụm");
		free(text);
		text = tmp;
	}
	return text;
}

/* What a confidence interval at level (0-1) means, in one plain sentence. Caller frees. */
char *
report_ci_sentence(enum report_lang lang, double level)
{
	char *text;

	if (lang == REPORT_LANG_EN)
		xasprintf(&text, "A %g %% confidence interval is the range that, computed the same way on "
		    "many samples, would contain the true value %g times in 100; a wide interval means "
		    "the sample says little.", level * 100, level * 100);
	else
		xasprintf(&text, "Khoảng tin cậy %g %%: nếu khảo sát lặp lại nhiều lần theo cùng cách, "
		    "%g lần trong 100 lần khoảng tính được sẽ chứa giá trị thật; khoảng càng rộng thì "
		    "mẫu càng ít thông tin.", level * 100, level * 100);
	return text;
}

/* The multiple-comparison rule of the flags shown together, in one sentence. */
const char *
report_holm_sentence(enum report_lang lang)
{
	if (lang == REPORT_LANG_EN)
		return "Many comparisons are made at once, so the p-values of each table are adjusted "
		    "(Holm's method): a difference is called significant only if it holds for the whole "
		    "table at 5 %.";
	return "Vì so sánh nhiều cặp cùng lúc, giá trị p của mỗi bảng được hiệu chỉnh theo phương pháp "
	    "Holm: chỉ gọi là có ý nghĩa thống kê khi khác biệt vẫn đứng vững ở mức 5 % cho cả bảng.";
}

/* Why no trend is shown: fewer than STATS_TREND_MIN periods with data. Caller frees. */
char *
report_trend_none_text(enum report_lang lang, size_t nperiods)
{
	char *text;

	if (lang == REPORT_LANG_EN)
		xasprintf(&text, "No trend is computed: it needs at least %d periods with data, and "
		    "there %s %zu.", STATS_TREND_MIN, nperiods == 1 ? "is" : "are", nperiods);
	else
		xasprintf(&text, "Chưa tính xu hướng: cần ít nhất %d kỳ có số liệu, hiện có %zu kỳ.",
		    STATS_TREND_MIN, nperiods);
	return text;
}
