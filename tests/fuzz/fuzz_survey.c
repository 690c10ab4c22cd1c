/*
 * fuzz_survey.c: libFuzzer target for the survey-definition loader
 * (survey_create in common/survey.c): any bytes are a JSON text that must
 * either load or be refused with a cause, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sipas/survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cause = NULL;
	struct survey *s;

	s = survey_create((const char *)data, size, &cause);
	survey_free(s);
	free(cause);
	return 0;
}
