/*
 * accum.h: per-unit sufficient statistics (internal to analysis/).
 *
 * For every stratum h of a unit, with u_c the vector (Y_c1, A_c1, ..., Y_cI,
 * A_cI) of PSU c's weighted satisfied and answered totals per item, we keep
 * the number of PSUs, s_h = sum_c u_c and the cross products
 * M_h = sum_c u_c u_c' (packed upper triangle) over the satisfaction items
 * (groups combine them), and the 2 x 2 diagonal blocks of every item. Every linearized variance of
 * docs/methodology.md section 5 (items, mean_items, mean_children, pooled groups) is a
 * quadratic form in these: Var = sum_h n_h/(n_h-1) (d'M_h d - (d's_h)^2/n_h)
 * for the coefficient vector d of the estimator. Rows without a psu are their
 * own PSU and go straight into M_h; named PSUs are summed first and folded in
 * when a result is computed, so memory grows with PSUs, never with rows.
 */
#ifndef SIPAS_ACCUM_H
#define SIPAS_ACCUM_H

#include <stdint.h>

#include "sipas/analysis.h"
#include "sipas/strmap.h"

struct psu_acc {
	int stratum; /* index into unit_acc->strata */
	double *u;   /* K = 2 * nitems */
};

/*
 * Second moments are summed in long double: an exactly zero variance (every
 * PSU with the same ratio) is a difference of such sums, and double rounding
 * alone would leave ~1e-6 percentage points of noise in small units.
 */
typedef long double acc_t;

struct stratum_acc {
	char *name;
	long nsingle;	 /* PSUs that were single rows */
	long *nsingle_item; /* [item]: single-row PSUs that answered it */
	acc_t *s;	 /* K = 2 * nitems */
	acc_t *diag;	 /* [item][3]: sum Y^2, sum YA, sum A^2 */
	acc_t *m;	 /* Ks(Ks+1)/2 over Ks = 2 * nsat, packed upper triangle */
	/*
	 * Rows of weight 1 add exactly 1 to each pair of m they answer: they
	 * are counted here in integers (packed like m, NULL until the first),
	 * and m + mc is the matrix. Readers use accum_stratum_m.
	 */
	long *mc;
	/*
	 * Rows of weight 1 not yet counted in mc, as bit columns: bit j % 64 of
	 * bits[k * ACCUM_BITS_WORDS + j / 64] is set when pending row j has a
	 * non-zero at position k < Ks. They are counted ACCUM_BITS_ROWS at a
	 * time, an AND and a popcount per pair of positions instead of an
	 * increment per pair and row; accum_stratum_m and accum_unit_merge
	 * count those still pending.
	 */
	uint64_t *bits;
	int nbits;
	long npsu_named; /* named PSUs in this stratum */
};

#define ACCUM_BITS_WORDS 4
#define ACCUM_BITS_ROWS (64 * ACCUM_BITS_WORDS)

/*
 * Distinct weights of a unit and, per weight and item, how many answering
 * rows were not / were satisfied: what replaying R's IRLS start needs
 * (indices.c). Capped: past ACCUM_WEIGHTS_MAX distinct weights the unit is
 * large, R's IRLS error is far below 1e-6, and the exact formula is used.
 */
#define ACCUM_WEIGHTS_MAX 4096

struct weights_acc {
	double *keys;  /* hash of weights; 0 = empty */
	int *slot;     /* slot of each key */
	size_t cap;    /* a power of two */
	int n;	       /* distinct weights */
	int overflow;  /* more than ACCUM_WEIGHTS_MAX: counts incomplete */
	double *w;     /* [slot]: the weight */
	int *cnt;      /* [slot][item][2]: not satisfied, satisfied */
};

struct unit_acc {
	char *code;
	long rows;
	int any_weight; /* a weight other than 1 */
	int any_stratum;
	int any_psu;
	long nweighted; /* rows with a weight other than 1 */
	/* per item */
	long *n;     /* respondents who answered */
	long *x;     /* of them satisfied (unweighted) */
	double *Y;   /* weighted satisfied */
	double *X;   /* weighted answered */
	double *W2;  /* sum of squared weights of those who answered */
	double **dist; /* [item][value index]: weighted count */
	struct weights_acc weights;
	/* per group */
	long *gn; /* respondents who answered at least one descendant item */
	/* Cronbach's alpha per leaf group: complete respondents */
	long *an;
	double **asx;  /* [group][k]: sum of item values */
	double **asx2; /* [group][k]: sum of squares */
	double *ast;   /* sum of totals */
	double *ast2;  /* sum of squared totals */
	/*
	 * Corrected item-total correlation per satisfaction item: respondents,
	 * and weighted sums (weight w: w, w^2, w x, w m, w x^2, w m^2, w x m).
	 */
	long *cn;
	double *cw, *cw2, *cx, *cm, *cxx, *cmm, *cxm;
	/* design */
	struct stratum_acc **strata;
	int nstrata;
	struct strmap *stratum_map; /* name -> index + 1 */
	struct strmap *psu_map;	    /* "stratum\x1fpsu" -> struct psu_acc */
};

/* Packed index of (a, b), a <= b, in a K x K upper triangle. */
static inline size_t
accum_packed(size_t K, size_t a, size_t b)
{
	return a * K - a * (a - 1) / 2 + (b - a);
}

struct unit_acc *accum_unit_create(const struct survey *, const char *code);
void accum_unit_free(const struct survey *, struct unit_acc *);
/* ones: every val is 1, its products counted in mc. */
void accum_stratum_fold(const struct survey *, struct stratum_acc *, const int *nz, int nnz, const double *val,
    int ones);
const acc_t *accum_stratum_m(const struct survey *, const struct stratum_acc *, acc_t **tmp);
void accum_unit_merge(const struct survey *, struct unit_acc *to, const struct unit_acc *from);
void accum_unit_add(const struct survey *, struct unit_acc *, const struct analysis_row *);
int accum_stratum_get(const struct survey *, struct unit_acc *, const char *name);
void accum_weights_merge(const struct survey *, struct weights_acc *to, const struct weights_acc *from);

/* indices.c: an analysis's units, for state.c. */
const struct unit_acc *analysis_unit_acc(const struct analysis *, const char *unit);
struct unit_acc *analysis_unit_acc_get(struct analysis *, const char *unit);
/* The hash of the survey's shape that states carry (state.c), once known. */
struct state_shape_cache {
	int known;
	uint64_t shape;
};
struct state_shape_cache *analysis_shape_cache(struct analysis *);

#endif
