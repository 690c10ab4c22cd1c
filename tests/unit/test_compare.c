/*
 * test_compare.c: scale reliability (Cronbach's alpha per element) and the
 * improvement priorities (corrected item-total correlation) of
 * tests/data/small-2017.csv against R (tests/data/compare-ref.json), and the
 * distributions and priority flags they feed.
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

/* Row callback: fold into the analysis. */
static int
row_cb(const struct response *r, long row, void *arg)
{
	struct analysis_row ar = { r->weight, r->stratum, r->psu, r->answers };

	analysis_add(arg, r->unit, &ar);
	return 0;
}

int
main(void)
{
	const char *data = getenv("SIPAS_TEST_DATA");
	struct survey *s = survey_builtin_create("sipas-2017");
	struct analysis *a = analysis_create(s, 0.95);
	struct result *r;
	struct csvin *in;
	json_t *ref, *u, *x;
	json_error_t err;
	char *path, *text, *cause = NULL;
	size_t len, i, j;

	util_jansson_init();
	gsl_set_error_handler_off();
	xasprintf(&path, "%s/small-2017.csv", data ? data : "tests/data");
	text = util_file_read(path, &len, &cause);
	free(path);
	if (!tap_ok(text != NULL, "small-2017.csv loads"))
		return tap_done();
	in = csvin_create(s, row_cb, NULL, a);
	tap_ok(csvin_push(in, text, len) == 0 && csvin_finish(in) == 0 && csvin_bad_rows(in) == 0, "rows read");
	csvin_free(in);
	free(text);
	r = analysis_result(a);

	xasprintf(&path, "%s/compare-ref.json", data ? data : "tests/data");
	ref = json_load_file(path, 0, &err);
	free(path);
	tap_ok(ref != NULL && r->nunits == json_array_size(json_object_get(ref, "units")), "reference loads");
	json_array_foreach(json_object_get(ref, "units"), i, u) {
		const struct unit_result *ur = result_unit_find(r, json_string_value(json_object_get(u, "unit")));
		int npri = 0, nitems = 0;

		if (!tap_ok(ur != NULL, "unit %s present", json_string_value(json_object_get(u, "unit"))))
			continue;
		json_array_foreach(json_object_get(u, "alpha"), j, x) {
			const struct group *g = survey_group_find(s, json_string_value(json_object_get(x, "code")));
			double want = json_number_value(json_object_get(x, "alpha"));

			tap_ok(g != NULL && tap_close(ur->alpha[g->index], want, 1e-10) &&
			    ur->alpha_n[g->index] == json_integer_value(json_object_get(x, "n")),
			    "%s alpha of %s = %.6f over %ld complete respondents", ur->unit, g ? g->code : "?",
			    g ? ur->alpha[g->index] : NAN, g ? ur->alpha_n[g->index] : 0);
		}
		json_array_foreach(json_object_get(u, "importance"), j, x) {
			int k = survey_item_find(s, json_string_value(json_object_get(x, "code")));
			double want = json_number_value(json_object_get(x, "importance"));

			if (k >= 0 && tap_close(ur->priorities[k].importance, want, 1e-10))
				nitems++;
			else
				tap_diag("%s %s importance %.10f, R %.10f", ur->unit, s->items[k].code,
				    ur->priorities[k].importance, want);
			npri += ur->priorities[k].priority;
		}
		tap_ok(nitems == s->nsat, "%s: %d/%d corrected item-total correlations equal R's", ur->unit, nitems,
		    s->nsat);
		/* 30 respondents: no importance is clearly above the median (test_priority.c). */
		tap_ok(npri < s->nsat, "%s: %d priority items (not all)", ur->unit, npri);
		for (j = 0; j < (size_t)s->nitems; j++) {
			double sum = 0;
			int v;

			for (v = 0; v < s->items[j].scale->nvalues; v++)
				sum += ur->dist[j][v];
			if (fabs(sum - 100) > 1e-9)
				break;
		}
		tap_ok(j == (size_t)s->nitems, "%s: every item's distribution sums to 100 %%", ur->unit);
	}
	json_decref(ref);
	result_free(r);
	analysis_free(a);
	survey_free(s);
	return tap_done();
}
