/*
 * fuzz_sms.c: libFuzzer target for the SMS grammar (common/sms.c):
 * sms_message_parse against the built-in surveys, with and without a unit
 * catalogue, sms_dialogue_parse for every SMS item of the first survey that
 * has one, and the response built from a parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipas/response.h"
#include "sipas/sms.h"
#include "sipas/survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct survey *fuzz_surveys[3];
static int fuzz_nsurveys;

/* Units: anything starting with "U0" of at most 8 characters exists. */
static const char *
fuzz_unit_find(void *arg, const char *folded)
{
	static char code[16];

	if (strncmp(folded, "U0", 2) != 0 || strlen(folded) > 8)
		return NULL;
	strcpy(code, folded);
	return code;
}

/* Load the built-in surveys once. */
static void
fuzz_init(void)
{
	const char *const *codes = survey_builtin_codes();

	for (; *codes != NULL && fuzz_nsurveys < 3; codes++) {
		if ((fuzz_surveys[fuzz_nsurveys] = survey_builtin_create(*codes)) ==
		    NULL)
			abort();
		fuzz_nsurveys++;
	}
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sms_units units = { fuzz_unit_find, NULL };
	struct sms_parse p;
	struct response *r;
	int i;

	if (fuzz_nsurveys == 0)
		fuzz_init();
	sms_message_parse((const char *)data, size,
	    (const struct survey *const *)fuzz_surveys, fuzz_nsurveys, NULL, &p);
	(void)sms_parse_outcome(&p);
	if (sms_message_parse((const char *)data, size,
	    (const struct survey *const *)fuzz_surveys, fuzz_nsurveys, &units,
	    &p) == 0 && p.kind == SMS_ANSWERS) {
		r = sms_parse_response_create(&p);
		response_free(r);
	}
	for (i = 0; i < fuzz_nsurveys; i++) {
		if (fuzz_surveys[i]->nsms > 0) {
			sms_dialogue_parse((const char *)data, size,
			    fuzz_surveys[i], (int)(size % fuzz_surveys[i]->nsms),
			    &p);
			break;
		}
	}
	return 0;
}
