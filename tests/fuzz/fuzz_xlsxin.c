/*
 * fuzz_xlsxin.c: libFuzzer target for the XLSX reader (common/xlsxin.c): the
 * input is a workbook (a zip archive) read from memory with small limits, the
 * sheet named by nothing (the first) or "Data", its rows pushed into the CSV
 * row logic (csvin_push_fields) for the built-in survey sipas-2017. The seeds
 * store their entries uncompressed, so that mutations reach the XML.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sipas/csvin.h"
#include "sipas/survey.h"
#include "sipas/xlsxin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct survey *fuzz_survey;

static int
fuzz_row(const struct response *resp, long row, void *arg)
{
	(*(long *)arg)++;
	return 0;
}

static int
fuzz_error(const struct csvin_error *e, void *arg)
{
	return 0;
}

static int
fuzz_fields(const char *const *fields, const size_t *lens, int n, long row,
    void *arg)
{
	return csvin_push_fields(arg, fields, lens, n);
}

/* One input: its first byte picks the sheet. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlsxin_limits lim;
	struct xlsxin *x;
	struct csvin *in;
	enum xlsxin_fail fail;
	char *cause = NULL;
	long rows = 0;
	int rc;

	if (size < 1)
		return 0;
	if (fuzz_survey == NULL &&
	    (fuzz_survey = survey_builtin_create("sipas-2017")) == NULL)
		abort();
	xlsxin_limits_default(&lim);
	lim.inflated_max = 4 * 1024 * 1024;
	lim.strings_max = 1024 * 1024;
	x = xlsxin_open_buffer(data + 1, size - 1, data[0] & 1 ? "Data" : NULL,
	    &lim, &fail, &cause);
	if (x == NULL) {
		if (cause == NULL || fail == XLSXIN_OK)
			abort();
		free(cause);
		return 0;
	}
	in = csvin_create(fuzz_survey, fuzz_row, fuzz_error, &rows);
	while ((rc = xlsxin_step(x, fuzz_fields, in)) > 0)
		;
	if (rc == 0)
		csvin_finish(in);
	else if (xlsxin_failed(x) == XLSXIN_OK || *xlsxin_cause(x) == '\0')
		abort();
	csvin_free(in);
	xlsxin_free(x);
	return 0;
}
