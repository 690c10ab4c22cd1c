/*
 * test_priority.c: the improvement priorities (weighted corrected item-total
 * correlation, its Fisher z interval, the medians and the flag) of a simple
 * and a weighted, clustered fixture, and Holm's adjustment of a ranking and
 * of changes between periods, against R (tests/data/priority-ref.json,
 * tests/tools/gen_priority_ref.R) to 1e-6. Also: a state saved in the
 * previous format (tests/data/state-v1-*.bin, made by the analysis code
 * before the weighted sums) of an unweighted unit still merges to the same
 * numbers; that of a weighted unit is refused (it must be rebuilt). States
 * of the format after it (state-v2-*.bin) merge, weighted or not.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <jansson.h>

#include "sipas/analysis.h"
#include "sipas/csvin.h"
#include "sipas/util.h"
#include "tap.h"

#define TOL 1e-6

/* Row callback: fold into the analysis. */
static int
row_cb(const struct response *r, long row, void *arg)
{
	struct analysis_row ar = { r->weight, r->stratum, r->psu, r->answers };

	(void)row;
	analysis_add(arg, r->unit, &ar);
	return 0;
}

/* A number of a JSON object; "Inf" is INFINITY. */
static double
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v) && strcmp(json_string_value(v), "Inf") == 0)
		return INFINITY;
	return json_number_value(v);
}

/* The result of one fixture file. */
static struct result *
load(const struct survey *s, const char *dir, const char *name)
{
	struct analysis *a = analysis_create(s, 0.95);
	struct result *r = NULL;
	struct csvin *in;
	char *path, *text, *cause = NULL;
	size_t len;

	xasprintf(&path, "%s/%s", dir, name);
	text = util_file_read(path, &len, &cause);
	free(path);
	if (tap_ok(text != NULL, "%s loads", name)) {
		in = csvin_create(s, row_cb, NULL, a);
		tap_ok(csvin_push(in, text, len) == 0 && csvin_finish(in) == 0 &&
		    csvin_bad_rows(in) == 0, "%s: rows read", name);
		csvin_free(in);
		r = analysis_result(a);
	}
	free(text);
	free(cause);
	analysis_free(a);
	return r;
}

/* One fixture's units against R. */
static void
check_fixture(const struct survey *s, const char *dir, json_t *f)
{
	const char *name = json_string_value(json_object_get(f, "file"));
	struct result *r = load(s, dir, name);
	json_t *u, *x;
	size_t i, j;

	if (r == NULL)
		return;
	json_array_foreach(json_object_get(f, "units"), i, u) {
		const char *code = json_string_value(json_object_get(u, "unit"));
		const struct unit_result *ur = result_unit_find(r, code);
		int good = 0, flags = 0, nflag = 0;

		if (!tap_ok(ur != NULL, "%s %s present", name, code))
			continue;
		tap_ok(tap_close(ur->priority_median_importance,
		    num(u, "median_importance"), TOL) &&
		    tap_close(ur->priority_median_performance,
		    num(u, "median_performance"), TOL),
		    "%s %s: medians %.6f and %.4f equal R's", name, code,
		    ur->priority_median_importance, ur->priority_median_performance);
		json_array_foreach(json_object_get(u, "items"), j, x) {
			int k = survey_item_find(s, json_string_value(json_object_get(x, "code")));
			const struct priority *p;

			if (k < 0)
				continue;
			p = &ur->priorities[k];
			if (tap_close(p->importance, num(x, "importance"), TOL) &&
			    tap_close(p->importance_low, num(x, "ci_low"), TOL) &&
			    tap_close(p->importance_high, num(x, "ci_high"), TOL) &&
			    p->importance_n == (long)num(x, "n") &&
			    tap_close(p->importance_neff, num(x, "neff"), TOL) &&
			    tap_close(p->performance, num(x, "performance"), TOL) &&
			    tap_close(ur->items[k].ci_high, num(x, "performance_ci_high"), TOL))
				good++;
			else
				tap_diag("%s %s %s: %.8f [%.8f, %.8f] n %ld neff %.4f; R %.8f [%.8f, %.8f] n %.0f neff %.4f",
				    name, code, s->items[k].code, p->importance, p->importance_low,
				    p->importance_high, p->importance_n, p->importance_neff,
				    num(x, "importance"), num(x, "ci_low"), num(x, "ci_high"), num(x, "n"),
				    num(x, "neff"));
			if (p->priority == json_is_true(json_object_get(x, "priority")))
				flags++;
			nflag += p->priority;
		}
		tap_ok(good == s->nsat, "%s %s: %d/%d importances with intervals equal R's",
		    name, code, good, s->nsat);
		tap_ok(flags == s->nsat, "%s %s: %d/%d priority flags equal R's (%d flagged)",
		    name, code, flags, s->nsat, nflag);
	}
	result_free(r);
}

/* States of the previous format: read when unweighted, refused when weighted. */
static void
check_state_v1(const struct survey *s, const char *dir)
{
	struct result *direct = load(s, dir, "small-2017.csv");
	struct analysis *a = analysis_create(s, 0.95);
	const struct unit_result *d, *m;
	struct result *r;
	char *path, *data, *cause = NULL;
	size_t len;
	int i, good = 0;

	xasprintf(&path, "%s/state-v1-small-U001.bin", dir);
	data = util_file_read(path, &len, &cause);
	free(path);
	tap_ok(data != NULL && analysis_state_merge(a, "U001", data, len) == 0,
	    "an unweighted state of the previous format merges");
	free(data);
	r = analysis_result(a);
	d = direct != NULL ? result_unit_find(direct, "U001") : NULL;
	m = result_unit_find(r, "U001");
	for (i = 0; d != NULL && m != NULL && i < s->nsat; i++) {
		if (tap_close(m->priorities[i].importance, d->priorities[i].importance, 1e-9) &&
		    tap_close(m->priorities[i].importance_low, d->priorities[i].importance_low, 1e-9) &&
		    m->priorities[i].priority == d->priorities[i].priority &&
		    tap_close(m->items[i].value, d->items[i].value, 1e-9))
			good++;
	}
	tap_ok(good == s->nsat && m->nweighted == 0 && !m->complex,
	    "... and gives the rows' priorities and indices (%d/%d items)", good, s->nsat);
	result_free(r);
	result_free(direct);
	xasprintf(&path, "%s/state-v1-cluster-U001.bin", dir);
	data = util_file_read(path, &len, &cause);
	free(path);
	tap_ok(data != NULL && analysis_state_merge(a, "W", data, len) == -1 &&
	    analysis_unit_rows(a, "W") == 0, "a weighted state of the previous format is refused");
	free(data);
	free(cause);
	analysis_free(a);
}

/*
 * States of the format before compact numbers (tests/data/state-v2-*.bin,
 * saved by the analysis code of that format from the same files): an
 * unweighted and a weighted, clustered unit both merge to the rows' numbers;
 * saved again they are the compact format, and smaller.
 */
static void
check_state_v2(const struct survey *s, const char *dir)
{
	static const char *const files[2][2] = {
		{ "small", "small-2017.csv" },
		{ "cluster", "fixtures/sipas2017-cluster.csv" },
	};
	int f, i;

	for (f = 0; f < 2; f++) {
		struct result *direct = load(s, dir, files[f][1]);
		struct analysis *a = analysis_create(s, 0.95);
		const struct unit_result *d, *m;
		struct result *r;
		char *path, *data, *cause = NULL, *again;
		size_t len, len2 = 0;
		int good = 0;

		xasprintf(&path, "%s/state-v2-%s-U001.bin", dir, files[f][0]);
		data = util_file_read(path, &len, &cause);
		free(path);
		tap_ok(data != NULL && len > 8 && memcmp(data, "SIPASST2", 8) == 0 &&
		    analysis_state_merge(a, "U001", data, len) == 0,
		    "%s: a state of the format before compact numbers merges",
		    files[f][1]);
		r = analysis_result(a);
		d = direct != NULL ? result_unit_find(direct, "U001") : NULL;
		m = result_unit_find(r, "U001");
		for (i = 0; d != NULL && m != NULL && i < s->nitems; i++) {
			if (tap_close(m->items[i].value, d->items[i].value, 1e-9) &&
			    tap_close(m->items[i].ci_low, d->items[i].ci_low, 1e-9) &&
			    tap_close(m->items[i].ci_high, d->items[i].ci_high, 1e-9) &&
			    m->items[i].n == d->items[i].n)
				good++;
		}
		tap_ok(d != NULL && m != NULL && good == s->nitems &&
		    m->nweighted == d->nweighted && m->complex == d->complex &&
		    tap_close(m->groups[s->ngroups - 1].ci_low,
		    d->groups[s->ngroups - 1].ci_low, 1e-9),
		    "%s: ... and gives the rows' indices and intervals (%d/%d "
		    "items, %ld weighted rows)", files[f][1], good, s->nitems,
		    m != NULL ? m->nweighted : -1L);
		again = analysis_state_save(a, "U001", &len2);
		tap_ok(again != NULL && memcmp(again, "SIPASST3", 8) == 0 &&
		    len2 < len, "%s: saved again: the compact format, %zu bytes "
		    "instead of %zu", files[f][1], len2, len);
		free(again);
		free(data);
		free(cause);
		result_free(r);
		result_free(direct);
		analysis_free(a);
	}
}

/* The Holm families against R. */
static void
check_holm(json_t *h)
{
	json_t *rk = json_object_get(h, "ranking"), *kids = json_object_get(rk, "children");
	json_t *chg = json_object_get(h, "changes"), *x;
	double parent = num(rk, "parent"), p[16], adj[16];
	size_t n = json_array_size(kids), m = json_array_size(chg), i;
	int good = 0, flags = 0;

	ASSERT(n <= 16 && m <= 16);
	json_array_foreach(kids, i, x) {
		struct estimate e = { num(x, "value"), NAN, NAN, num(x, "se"), num(x, "df"), 100 };

		p[i] = stats_rank_p(&e, parent);
		good += tap_close(p[i], num(x, "p"), 1e-9);
	}
	tap_ok(good == (int)n, "ranking: %d/%zu raw p-values equal R's", good, n);
	stats_holm(p, n, adj);
	good = 0;
	json_array_foreach(kids, i, x) {
		struct estimate e = { num(x, "value"), NAN, NAN, num(x, "se"), num(x, "df"), 100 };
		enum rank_flag f = stats_rank_flag_p(&e, parent, adj[i], 0.05);
		double want = num(x, "p_holm");

		good += tap_close(adj[i], want, TOL);
		flags += f == (want >= 0.05 ? RANK_WITHIN : e.value > parent ? RANK_ABOVE : RANK_BELOW);
	}
	tap_ok(good == (int)n, "ranking: %d/%zu Holm-adjusted p-values equal R's", good, n);
	tap_ok(flags == (int)n, "ranking: flags follow the adjusted p-values");
	good = 0;
	json_array_foreach(chg, i, x) {
		struct estimate a = { num(x, "v1"), NAN, NAN, num(x, "se1"), INFINITY, 100 };
		struct estimate b = { num(x, "v2"), NAN, NAN, num(x, "se2"), INFINITY, 100 };
		struct change c;

		p[i] = stats_change(&a, &b, &c) == 0 ? c.p : NAN;
		good += tap_close(p[i], num(x, "p"), 1e-9);
	}
	stats_holm(p, m, adj);
	json_array_foreach(chg, i, x)
		good += tap_close(adj[i], num(x, "p_holm"), TOL);
	tap_ok(good == 2 * (int)m, "changes: %d/%zu raw and adjusted p-values equal R's", good, 2 * m);
	/* Missing comparisons stay missing and do not count in the family. */
	p[0] = 0.01;
	p[1] = NAN;
	p[2] = 0.04;
	stats_holm(p, 3, adj);
	tap_ok(tap_close(adj[0], 0.02, 1e-12) && isnan(adj[1]) && tap_close(adj[2], 0.04, 1e-12),
	    "a missing p-value is left out of the family");
}

int
main(void)
{
	const char *dir = getenv("SIPAS_TEST_DATA");
	struct survey *s = survey_builtin_create("sipas-2017");
	json_t *ref, *f;
	json_error_t err;
	char *path;
	size_t i;

	util_jansson_init();
	gsl_set_error_handler_off();
	if (dir == NULL)
		dir = "tests/data";
	xasprintf(&path, "%s/priority-ref.json", dir);
	ref = json_load_file(path, 0, &err);
	free(path);
	if (!tap_ok(ref != NULL, "priority-ref.json loads"))
		return tap_done();
	json_array_foreach(json_object_get(ref, "priorities"), i, f)
		check_fixture(s, dir, f);
	check_holm(json_object_get(ref, "holm"));
	check_state_v1(s, dir);
	check_state_v2(s, dir);
	json_decref(ref);
	survey_free(s);
	return tap_done();
}
