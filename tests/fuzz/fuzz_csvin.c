/*
 * fuzz_csvin.c: libFuzzer target for the CSV reader (common/csvin.c): the
 * input is an upload for the survey its first byte picks (a built-in one, or
 * the file SIPAS_FUZZ_SURVEY names: run.sh gives tests/data/csv's "mini"
 * survey, which most seeds are written for), pushed in
 * two chunks split where its second byte says, so that rows, quotes and UTF-8
 * sequences straddle a chunk boundary.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sipas/csvin.h"
#include "sipas/survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct survey *fuzz_surveys[4];

/* The survey of the file SIPAS_FUZZ_SURVEY, or NULL. */
static struct survey *
fuzz_survey_file(void)
{
	const char *path = getenv("SIPAS_FUZZ_SURVEY");
	char buf[65536], *cause = NULL;
	struct survey *s;
	size_t n;
	FILE *f;

	if (path == NULL || (f = fopen(path, "rb")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	s = survey_create(buf, n, &cause);
	free(cause);
	return s;
}

/* A row: count it. */
static int
fuzz_row(const struct response *resp, long row, void *arg)
{
	(*(long *)arg)++;
	return 0;
}

/* A bad row: keep going. */
static int
fuzz_error(const struct csvin_error *e, void *arg)
{
	return 0;
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codes[3] = { "sipas-2023", "sipas-2017",
		"onestop-tt01" };
	struct csvin *in;
	size_t split;
	long rows = 0;
	int k;

	if (size < 2)
		return 0;
	k = data[0] % 4;
	if (k == 3 && fuzz_surveys[3] == NULL &&
	    (fuzz_surveys[3] = fuzz_survey_file()) == NULL)
		k = 0;
	if (fuzz_surveys[k] == NULL &&
	    (fuzz_surveys[k] = survey_builtin_create(codes[k])) == NULL)
		abort();
	split = size > 2 ? data[1] % (size - 2 + 1) : 0;
	data += 2;
	size -= 2;
	in = csvin_create(fuzz_surveys[k], fuzz_row, fuzz_error, &rows);
	if (csvin_push(in, (const char *)data, split) == 0 &&
	    csvin_push(in, (const char *)data + split, size - split) == 0)
		csvin_finish(in);
	csvin_free(in);
	return 0;
}
