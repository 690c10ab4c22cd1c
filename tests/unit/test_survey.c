/*
 * test_survey.c: the survey model. The built-in definitions load with the
 * structure docs/methodology.md section 1 gives them; every bad definition of
 * tests/data/survey-bad.tsv is rejected with a message naming the code.
 */
#include "config.h"

#include <string.h>

#include "sipas/survey.h"
#include "sipas/util.h"
#include "tap.h"

/* Count leaf groups (elements) of a survey. */
static int
count_leaves(const struct survey *s)
{
	int i, n = 0;

	for (i = 0; i < s->ngroups; i++)
		n += s->groups[i]->leaf;
	return n;
}

/* The built-ins: structure and numbering. */
static void
test_builtins(void)
{
	const char *const *codes = survey_builtin_codes();
	struct survey *s;
	int n = 0, i;

	for (i = 0; codes[i] != NULL; i++)
		n++;
	tap_ok(n == 3, "three built-in surveys");
	tap_ok(survey_builtin_create("nope") == NULL, "an unknown code is not a built-in");

	s = survey_builtin_create("sipas-2017");
	tap_ok(s != NULL && s->nsat == 22 && count_leaves(s) == 5, "sipas-2017: 22 criteria in 5 elements");
	tap_ok(s != NULL && s->overall->aggregate == AGGREGATE_MEAN_CHILDREN,
	    "sipas-2017: overall is the mean of its elements");
	tap_ok(s != NULL && s->groups[s->ngroups - 1] == s->overall, "sipas-2017: overall is the last group");
	survey_free(s);

	s = survey_builtin_create("sipas-2023");
	tap_ok(s != NULL && s->nsat == 39 && s->nitems == 49, "sipas-2023: 39 items and 10 expectation items");
	tap_ok(s != NULL && survey_group_find(s, "POL") != NULL && survey_group_find(s, "POL")->ndesc == 23 &&
	    survey_group_find(s, "SVC")->ndesc == 16, "sipas-2023: policy 23 items, services 16");
	tap_ok(s != NULL && strcmp(s->sms_keyword, "HL") == 0, "sipas-2023: SMS keyword HL");
	tap_ok(s != NULL && s->items[0].scale->satisfied_min == 4 && scale_has(s->items[0].scale, 5) &&
	    !scale_has(s->items[0].scale, 0), "sipas-2023: SAT5 counts 4 and 5 as satisfied");
	tap_ok(s != NULL && s->items[39].expectation && s->items[39].scale->satisfied_min == 3,
	    "sipas-2023: expectation items follow, EXP4 cut at 3");
	/* Children before parents, items numbered depth-first. */
	for (i = 0; s != NULL && i < s->ngroups; i++) {
		if (s->groups[i]->parent != NULL && s->groups[i]->parent->index < i)
			break;
	}
	tap_ok(s != NULL && i == s->ngroups, "sipas-2023: groups are in post-order");
	survey_free(s);

	s = survey_builtin_create("onestop-tt01");
	tap_ok(s != NULL && s->nsat == 1 && s->items[0].scale->satisfied_min == 2 &&
	    strcmp(s->sms_keyword, "MC") == 0, "onestop-tt01: one rating, satisfied from 2, SMS keyword MC");
	tap_ok(s != NULL && s->intro_vi != NULL && s->intro_en != NULL &&
	    strstr(s->intro_vi, "hồ sơ") != NULL, "onestop-tt01: its intro speaks of the dossier just handled");
	survey_free(s);

	s = survey_builtin_create("sipas-2023");
	tap_ok(s != NULL && s->intro_en != NULL && strstr(s->intro_en, "policies") != NULL &&
	    strstr(s->intro_en, "services") != NULL, "sipas-2023: its intro speaks of policies and services");
	survey_free(s);
}

/* lonely_psu: "adjust" unless the definition says "certainty". */
static void
test_lonely_psu(void)
{
	const char *def = "\"scales\": {\"S\": {\"values\": [1,2], \"satisfied_min\": 2}}, "
			  "\"overall\": {\"code\": \"O\", \"items\": [{\"code\": \"A\", \"scale\": \"S\"}]}}";
	const char *opts[] = { "", "\"lonely_psu\": \"adjust\", ", "\"lonely_psu\": \"certainty\", " };
	const enum lonely_psu want[] = { LONELY_PSU_ADJUST, LONELY_PSU_ADJUST, LONELY_PSU_CERTAINTY };
	struct survey *s;
	char *text, *cause;
	int i;

	for (i = 0; i < 3; i++) {
		cause = NULL;
		xasprintf(&text, "{\"code\": \"x\", %s%s", opts[i], def);
		s = survey_create(text, strlen(text), &cause);
		if (!tap_ok(s != NULL && s->lonely_psu == want[i], "lonely_psu %s", i == 0 ? "(absent): adjust" :
		    i == 1 ? "adjust" : "certainty"))
			tap_diag("%s", cause ? cause : "wrong mode");
		survey_free(s);
		free(cause);
		free(text);
	}
	s = survey_builtin_create("sipas-2023");
	tap_ok(s != NULL && s->lonely_psu == LONELY_PSU_ADJUST, "sipas-2023: lonely PSUs adjusted by default");
	survey_free(s);
}

/* Every line of survey-bad.tsv: rejected, with the expected message. */
static void
test_bad(const char *path)
{
	char *text, *cause = NULL, *line, *save = NULL, *tab;
	struct survey *s;
	int n = 0;

	text = util_file_read(path, NULL, &cause);
	if (!tap_ok(text != NULL, "%s loads", path))
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		cause = NULL;
		s = survey_create(tab, strlen(tab), &cause);
		if (!tap_ok(s == NULL && cause != NULL && strstr(cause, line) != NULL, "rejected: %s", line))
			tap_diag("got: %s", cause ? cause : "(accepted)");
		survey_free(s);
		free(cause);
		n++;
	}
	tap_ok(n >= 20, "%d bad definitions tried", n);
	free(text);
}

int
main(void)
{
	const char *data = getenv("SIPAS_TEST_DATA");
	char *path;

	util_jansson_init();
	test_builtins();
	test_lonely_psu();
	xasprintf(&path, "%s/survey-bad.tsv", data ? data : "tests/data");
	test_bad(path);
	free(path);
	return tap_done();
}
