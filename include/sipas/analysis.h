/*
 * analysis.h: the statistics of docs/methodology.md, pure computation.
 *
 * No I/O, no logging, no libevent, no libpq: callers (sipasd, sipasctl, tests)
 * feed rows and read numbers. Memory is bounded by units, strata, PSUs,
 * items and distinct weights (at most 4096 per unit are remembered), never by
 * the number of rows: each row is folded into sufficient statistics as it
 * arrives (docs/methodology.md section 3).
 *
 * Design per unit: a row without a psu is its own primary sampling unit; a row
 * without a stratum belongs to the unit's one unnamed stratum. A unit is
 * "complex" when any weight differs from 1 or any row names a stratum or psu.
 */
#ifndef SIPAS_ANALYSIS_H
#define SIPAS_ANALYSIS_H

#include <limits.h>
#include <stddef.h>

#include "sipas/survey.h"

/* One response as the analysis sees it; everything borrowed. */
struct analysis_row {
	double weight;	     /* > 0 */
	const char *stratum; /* NULL or "": none */
	const char *psu;     /* NULL or "": the row is its own PSU */
	const int *answers;  /* survey->nitems values; ANSWER_NONE = no answer */
};

/* A percentage index with its interval. NAN where there is none (JSON null). */
struct estimate {
	double value; /* 0-100 */
	double ci_low;
	double ci_high;
	double se; /* linearized standard error of value, percentage points */
	double df; /* degrees of freedom of the interval (INFINITY: normal) */
	long n;	   /* respondents who answered (groups: at least one item) */
};

/*
 * Improvement priority inputs of one item (docs/methodology.md, "Improvement
 * priorities").
 */
struct priority {
	double importance;  /* corrected item-total correlation (weighted), NAN if undefined */
	double importance_low, importance_high; /* its interval (Fisher z), NAN if none */
	long importance_n;  /* respondents it is computed on */
	double importance_neff; /* their Kish effective size (= n when unweighted) */
	double performance; /* the item index */
	int priority;	    /* importance clearly above, index clearly below the medians */
};

struct unit_result {
	char *unit;
	int complex;
	long nweighted; /* why complex: rows with a weight other than 1, */
	long nstrata;	/* named strata, */
	long npsu;	/* named PSUs */
	long respondents;
	int lonely_psu; /* a stratum had one PSU (warning; survey->lonely_psu says how it counted) */
	struct estimate *groups; /* survey->ngroups, post-order; overall last */
	struct estimate *items;	 /* survey->nitems */
	double **dist;		 /* [item][value index]: weighted share, 0-100 */
	double *alpha;		 /* [group]: Cronbach's alpha of leaf groups, else NAN */
	long *alpha_n;		 /* [group]: respondents who answered all its items */
	struct priority *priorities; /* [item] for satisfaction items */
	double priority_median_importance, priority_median_performance; /* NAN: none */
	long withheld_min_n; /* > 0: numbers withheld, fewer respondents than this */
};

struct result {
	const struct survey *survey;
	double level;
	struct unit_result *units; /* sorted by unit code (bytewise) */
	size_t nunits;
};

struct analysis;

/* Start an analysis of one survey at confidence level (0 < level < 1). */
struct analysis *analysis_create(const struct survey *, double level);
void analysis_free(struct analysis *);
/* Fold one row into the accumulator of unit key (copied). */
void analysis_add(struct analysis *, const char *unit, const struct analysis_row *);
/*
 * Fold the statistics of unit from of src (same survey; may be a itself, but
 * from != into) into unit into of a, exactly as if from's rows had been added
 * to into: a parent's indices from its children's, without re-reading rows.
 */
void analysis_merge(struct analysis *a, const char *into, const struct analysis *src, const char *from);
/*
 * States (state.c): unit's sufficient statistics as bytes (a new buffer,
 * *len bytes; NULL if a has no such unit), to keep and merge later; and the
 * merge of such bytes into unit into (created if new), exactly as if the
 * rows behind them had been added. -1 (nothing merged) for bytes that are
 * not a whole state of this survey's shape made on a machine like this one.
 */
void *analysis_state_save(const struct analysis *, const char *unit, size_t *len);
int analysis_state_merge(struct analysis *, const char *into, const void *data, size_t len);
/* The same into n units at once (the state is decoded once). */
int analysis_state_merge_units(struct analysis *, const char *const *into, int n,
    const void *data, size_t len);
/* The survey a was created for. */
const struct survey *analysis_survey(const struct analysis *);
/* Rows folded into unit, directly or through merges (0 if unknown). */
long analysis_unit_rows(const struct analysis *, const char *unit);
/* Call fn with the code of every unit seen. */
void analysis_each_unit(const struct analysis *, void (*fn)(const char *, void *), void *);
/* Number of distinct units seen. */
size_t analysis_unit_count(const struct analysis *);
/* Compute every unit's indices; the analysis stays usable. */
struct result *analysis_result(struct analysis *);
void result_free(struct result *);

/* Output: docs/interfaces.md, "Result JSON". Returns new JSON text (freed
 * by the caller). */
char *result_to_json(const struct result *, int pretty);
/* One CSV row per unit and index: unit,kind,code,value,ci_low,ci_high,n. */
char *result_to_csv(const struct result *);
/*
 * Withhold the numbers of a unit of survey s with fewer respondents than
 * min_n (a small subgroup): every value, interval, distribution, alpha and
 * priority becomes NAN (null in JSON), the counts stay, and the JSON says
 * "withheld": "min_n" with the threshold.
 */
void result_unit_withhold(const struct survey *s, struct unit_result *ur,
    long min_n);
/* Find a unit in a result, or NULL. */
const struct unit_result *result_unit_find(const struct result *, const char *unit);

/* --- interval helpers (exposed for tests) --- */

/* Wilson score interval for x of n at level (R prop.test, correct = FALSE), 0-1. */
void stats_wilson(double x, double n, double level, double *lo, double *hi);
/* Two-sided Student quantile for level on df (df = INFINITY: normal). */
double stats_t_quantile(double level, double df);

/* --- comparisons (docs/methodology.md section 7) --- */

struct change {
	double diff; /* b - a, percentage points */
	double se;
	double z;
	double p; /* two-sided, normal */
	int significant; /* p < 0.05 */
};
/* Change from a (earlier) to b (later); -1 if either has no value or SE. */
int stats_change(const struct estimate *a, const struct estimate *b, struct change *);

enum rank_flag {
	RANK_NONE,   /* no value or too few respondents */
	RANK_ABOVE,  /* interval entirely above the parent's value */
	RANK_WITHIN,
	RANK_BELOW,
};
enum rank_flag stats_rank_flag(const struct estimate *child, double parent_value);
const char *stats_rank_flag_name(enum rank_flag);
/* Two-sided p-value of child's value against parent_value (its SE, t on its df); NAN if none. */
double stats_rank_p(const struct estimate *child, double parent_value);
/* Above or below when p (adjusted) < alpha, else within; RANK_NONE without a value. */
enum rank_flag stats_rank_flag_p(const struct estimate *child, double parent_value, double p,
    double alpha);
/*
 * Holm's adjustment of the finite p-values among p[0..n) for multiple
 * comparisons (R p.adjust(method = "holm")); NAN stays NAN. adj may not be p.
 */
void stats_holm(const double *p, size_t n, double *adj);
/* Periods with data a trend needs before a slope is shown. */
#define STATS_TREND_MIN 3

/* WLS slope of y over x with weights 1/se^2; -1 if fewer than STATS_TREND_MIN usable points. */
int stats_trend(const double *x, const double *y, const double *se, size_t n,
    double *slope, double *slope_se);

#endif
