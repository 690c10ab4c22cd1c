/*
 * report.h: the periodic statistical report of one unit and one period: a
 * model derived from analysis results, and its renderers.
 *
 * The model is built from struct result objects the caller computed with the
 * analysis library (one holding the unit and its children for the period, one
 * for the previous period of equal length); it derives everything a report
 * shows (change from the previous period, ranking and flags, the tables, the
 * methods annex) and owns copies of it, so the results may be freed at once.
 * The renderers only format: they compute no statistic. They know nothing of
 * the database, of HTTP or of schedules (sipasd and sipasctl do that).
 *
 * Numbers stay at full precision in the model, in the CSV and in the XLSX
 * cells (formatted 0.00); PDF and HTML show them as published: two decimals,
 * with a decimal comma in Vietnamese (docs/methodology.md section 9).
 *
 * Every renderer writes path.tmp first and renames it over path on success, so
 * a reader never sees a half-written report.
 */
#ifndef SIPAS_REPORT_H
#define SIPAS_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "sipas/analysis.h"
#include "sipas/survey.h"

enum report_lang {
	REPORT_LANG_VI,
	REPORT_LANG_EN,
};

/* A child unit to rank, with its display name; borrowed by report_create. */
struct report_unit {
	const char *code;
	const char *name; /* NULL: the code */
};

/* One point of the trend chart: the unit's overall index in an earlier period. */
struct report_point {
	char *label; /* "2024", "Q1/2025": borrowed by report_create, owned in a report */
	struct estimate estimate;
};

/* What the caller knows besides the numbers; every pointer borrowed. */
struct report_params {
	const char *unit;      /* the report's unit: its code in the results */
	const char *unit_name; /* NULL: the code */
	/* The units to rank; NULL: every other unit of the current result. */
	const struct report_unit *children;
	size_t nchildren;
	const char *from; /* the period, as shown: "2025-01-01" */
	const char *to;
	const char *prev_from; /* the previous period, or NULL */
	const char *prev_to;
	long min_n; /* respondents a child needs to be ranked (0: any) */
	enum report_lang lang;
	const struct report_point *trend; /* optional, oldest first */
	size_t ntrend;
	const char *generated; /* production date shown on the cover, or NULL */
};

/* The sections of a report, in order; each has one or more tables. */
enum report_section {
	REPORT_SECTION_OVERVIEW,
	REPORT_SECTION_RANKING,
	REPORT_SECTION_ELEMENTS,
	REPORT_SECTION_ITEMS,
	REPORT_SECTION_EXPECTATIONS,
	REPORT_SECTION_DISTRIBUTION,
	REPORT_SECTION_RELIABILITY,
	REPORT_SECTION_PRIORITIES,
	REPORT_SECTION_METHODS,
	REPORT_SECTION_COUNT,
};

enum report_cell_kind {
	REPORT_CELL_EMPTY,
	REPORT_CELL_TEXT,
	REPORT_CELL_NUMBER,  /* shown with decimals; NAN shows as a dash */
	REPORT_CELL_INTEGER, /* a count */
};

struct report_cell {
	enum report_cell_kind kind;
	char *text;    /* REPORT_CELL_TEXT, owned */
	double number; /* REPORT_CELL_NUMBER and REPORT_CELL_INTEGER */
	int decimals;  /* REPORT_CELL_NUMBER: 2, or 3 for p-values */
	int sign;      /* REPORT_CELL_NUMBER: show + on positive values (changes) */
	int strong;    /* emphasised (the parent's row, a priority) */
	int indent;    /* REPORT_CELL_TEXT: nesting depth (groups) */
};

struct report_column {
	char *title;
	double width; /* in characters, as a spreadsheet counts them */
	int wrap;     /* long text that wraps */
	int numeric;  /* every filled cell is a number: aligned right */
};

/* One table: a sheet of the XLSX, a table of the PDF and HTML. */
struct report_table {
	enum report_section section;
	char *title;  /* the section's heading, or a sub-heading */
	char *sheet;  /* the XLSX sheet name (at most 31 characters, unique) */
	char *note;   /* shown under the table (or instead of it when empty), or NULL */
	struct report_column *columns;
	int ncolumns;
	struct report_cell *cells; /* nrows x ncolumns, row-major */
	size_t nrows;
	int keyvalue; /* a two-column list of labels and values (overview, methods) */
};

/* Change of one index from the previous period. */
struct report_change {
	int ok;	     /* both periods have a value and an SE */
	double prev; /* the previous period's value, NAN if none */
	struct change change; /* change.significant: p_holm < 0.05 */
	double p_holm; /* change.p adjusted (Holm) over the changes of its table */
};

/* A child unit in the ranking. */
struct report_child {
	char *code;
	char *name;
	struct unit_result *ur; /* NULL: no data in the period */
	const struct estimate *overall; /* the overall index, into ur; NULL: no data */
	int ranked;		/* a value and at least min_n respondents */
	int rank;		/* 1-based among the ranked, 0 if not ranked */
	enum rank_flag flag;	/* against the parent's overall value, on p_holm */
	double p, p_holm;	/* against the parent's value: raw, Holm over the ranked */
};

struct report {
	const struct survey *survey; /* borrowed from the results: must outlive the report */
	enum report_lang lang;
	char *unit;
	char *unit_name;
	char *from, *to;	   /* the period */
	char *prev_from, *prev_to; /* or NULL */
	char *generated;	   /* or NULL */
	double level;		   /* confidence level, 0-1 */
	long min_n;
	int nodata;		 /* the unit has no respondents in the period */
	struct unit_result *ur;	 /* the unit's results; NULL when nodata */
	struct unit_result *prev; /* the previous period's, or NULL */
	struct report_change *group_change; /* [survey->ngroups]; overall last */
	struct report_change *item_change;  /* [survey->nitems] */
	double *nonresponse; /* [item]: % of the unit's respondents without an answer */
	int *group_order;    /* survey->ngroups group indices, the tree in pre-order */
	int *group_depth;    /* [group index]: 0 for overall */
	struct report_child *children; /* the ranked by overall (best first), then the rest by code */
	size_t nchildren;
	size_t nranked;
	struct report_point *trend; /* copies of the caller's points */
	size_t ntrend;
	int trend_ok; /* a WLS slope over the trend points exists (STATS_TREND_MIN of them) */
	size_t trend_points; /* trend points with a value */
	double trend_slope, trend_slope_se;
	struct report_table *tables; /* in section order */
	size_t ntables;
};

/*
 * Build the report of params->unit from cur (the period) and prev (the
 * previous period, or NULL); both borrowed. A unit absent from cur, or with
 * no respondents, gives a report that says there is no data. NULL and *cause
 * on bad parameters (no unit, no period, results of different surveys).
 */
struct report *report_create(const struct result *cur, const struct result *prev,
    const struct report_params *, char **cause);
/* Free a report; NULL-safe. */
void report_free(struct report *);

/* The overall estimate of the unit, or NULL when nodata. */
const struct estimate *report_overall_get(const struct report *);
/* First table of a section, or NULL. */
const struct report_table *report_table_find(const struct report *, enum report_section);
/* A cell of a table (borrowed). */
const struct report_cell *report_cell_get(const struct report_table *, size_t row, int col);
/* The section's title in the report's language. */
const char *report_section_title(const struct report *, enum report_section);
/* The period (previous: the previous period) as shown, e.g. "01/01/2025 – 31/12/2025" (caller frees). */
char *report_period_text(const struct report *, int previous);
/* A rank flag as shown: "Cao hơn" / "Above", "Tương đương" / "Within", "Thấp hơn" / "Below". */
const char *report_flag_text(const struct report *, enum rank_flag);
/* One of two texts by the report's language. */
const char *report_lang_pick(const struct report *, const char *vi, const char *en);

/* --- renderers: 0, or -1 and *cause; nothing is left at path on error --- */

int report_write_xlsx(const struct report *, const char *path, char **cause);
int report_write_pdf(const struct report *, const char *path, char **cause);
int report_write_csv(const struct report *, const char *path, char **cause);
int report_write_html(const struct report *, const char *path, char **cause);
/*
 * The content security policy of an HTML report (also in its meta tag): no
 * sources at all but the hash of its own style element. Static storage.
 */
const char *report_html_policy(void);
/* By format name (xlsx, pdf, csv, html); -1 and *cause for an unknown one. */
int report_write(const struct report *, const char *format, const char *path, char **cause);
/* The MIME type of a format (xlsx, pdf, csv, html), or NULL for an unknown one. */
const char *report_format_mime(const char *format);
/*
 * At exit, after the last PDF: free the font caches cairo and fontconfig keep
 * for the whole process, which leak checkers would otherwise report.
 */
/* The value axis [lo, hi] of the trend chart; -1 when no point has a value. */
int report_trend_range(const struct report *, double *lo, double *hi);
void report_fonts_free(void);

/* --- display formatting, shared by the renderers --- */

/*
 * v with decimals as published: "87,53" (vi) or "87.53" (en); "+1,20" with
 * sign; "–" for NAN; never "-0,00". Returns buf (at least 32 bytes).
 */
char *report_number_format(enum report_lang, double v, int decimals, int sign, char *buf, size_t len);
/* A count with thousands separators: "1.000.000" (vi), "1,000,000" (en). */
char *report_count_format(enum report_lang, long n, char *buf, size_t len);
/* A cell's display text into buf (at least 64 bytes); "" for an empty cell. */
const char *report_cell_format(const struct report *, const struct report_cell *, char *buf, size_t len);

/* Why ur's design is simple or complex: "Phức hợp: có trọng số (1 phiếu có trọng số khác 1)". Caller frees. */
char *report_design_text(enum report_lang, const struct unit_result *ur);
/* One plain sentence on what a confidence interval at level (0-1) means. Caller frees. */
char *report_ci_sentence(enum report_lang, double level);
/* One sentence on the Holm adjustment of the flags of a table (static). */
const char *report_holm_sentence(enum report_lang);
/* Why no trend is shown with nperiods periods with data. Caller frees. */
char *report_trend_none_text(enum report_lang, size_t nperiods);

/* --- for the renderers: write-then-rename --- */

/* The temporary path of path (caller frees). */
char *report_path_tmp(const char *path);
/* Rename tmp over path; on failure remove tmp, -1 and *cause. */
int report_path_commit(const char *tmp, const char *path, char **cause);
/*
 * Write path through a temporary file: open it (fopen mode), let fn write
 * into f (or into the file named tmp), close it and rename it over path.
 * fn returns 0, or -1 with or without *cause (without: the error of f). 0,
 * or -1 and *cause with the temporary file removed.
 */
typedef int (*report_write_fn)(FILE *f, const char *tmp, void *arg,
    char **cause);
int report_path_write(const char *path, const char *mode, report_write_fn fn,
    void *arg, char **cause);

#endif
