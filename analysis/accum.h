/*
 * accum.h: per-unit sufficient statistics (internal to analysis/).
 *
 * For every stratum h of a unit, with u_c the vector (Y_c1, A_c1, ..., Y_cI,
 * A_cI) of PSU c's weighted satisfied and answered totals per item, we keep
 * the number of PSUs, s_h = sum_c u_c and the cross products
 * M_h = sum_c u_c u_c' (packed upper triangle). Every linearized variance of
 * methodology section 4 (items, mean_items, mean_children, pooled groups) is a
 * quadratic form in these: Var = sum_h n_h/(n_h-1) (d'M_h d - (d's_h)^2/n_h)
 * for the coefficient vector d of the estimator. Rows without a psu are their
 * own PSU and go straight into M_h; named PSUs are summed first and folded in
 * when a result is computed, so memory grows with PSUs, never with rows.
 */
#ifndef SIPAS_ACCUM_H
#define SIPAS_ACCUM_H

#include "sipas/analysis.h"
#include "sipas/strmap.h"

struct psu_acc {
	int stratum; /* index into unit_acc->strata */
	double *u;   /* K = 2 * nitems */
};

/*
 * Distinct weights of the rows that answered an item, with how many of them
 * were (not) satisfied: what R's IRLS start (glm.fit's mustart) needs to be
 * reproduced exactly. Bounded by the number of weight cells, not rows.
 */
struct whist {
	double *w;
	long *n0; /* not satisfied */
	long *n1; /* satisfied */
	size_t cap; /* a power of two; empty slots have w == 0 */
	size_t count;
};

struct stratum_acc {
	char *name;
	long nsingle;	 /* PSUs that were single rows */
	long *nsingle_item; /* [item]: single-row PSUs that answered it */
	double *s;	 /* K */
	double *m;	 /* K(K+1)/2, packed upper triangle */
	long npsu_named; /* named PSUs in this stratum */
};

struct unit_acc {
	char *code;
	long rows;
	int any_weight; /* a weight other than 1 */
	int any_stratum;
	int any_psu;
	/* per item */
	long *n;     /* respondents who answered */
	long *x;     /* of them satisfied (unweighted) */
	double *Y;   /* weighted satisfied */
	double *X;   /* weighted answered */
	double *W2;  /* sum of squared weights of those who answered */
	double **dist; /* [item][value index]: weighted count */
	struct whist *hist; /* [item] */
	/* per group */
	long *gn; /* respondents who answered at least one descendant item */
	/* Cronbach's alpha per leaf group: complete respondents */
	long *an;
	double **asx;  /* [group][k]: sum of item values */
	double **asx2; /* [group][k]: sum of squares */
	double *ast;   /* sum of totals */
	double *ast2;  /* sum of squared totals */
	/* corrected item-total correlation per satisfaction item */
	long *cn;
	double *cx, *cm, *cxx, *cmm, *cxm;
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
void accum_unit_add(const struct survey *, struct unit_acc *, const struct analysis_row *);

#endif
