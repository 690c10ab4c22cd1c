/*
 * fuzz_json_response.c: libFuzzer target for the JSON response decoder of
 * POST /api/v1/responses (ingest_parse in daemon/channels/ingest.c, static: this file
 * includes ingest.c). The catalogue is the built-in surveys and any unit code
 * of 1 to 32 bytes; every token may see every unit. Nothing but the decoder
 * runs: run.sh links with unresolved symbols ignored (the HTTP replies, the
 * store and the metrics are never reached from ingest_parse).
 */
#include "../../daemon/channels/ingest.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct survey *fuzz_surveys[3];
static int fuzz_nsurveys;
static struct cache_unit fuzz_unit = { "U001", "Unit", "district", NULL };

/* The built-in surveys by code. */
const struct survey *
cache_survey_get(const struct cache *c, const char *code)
{
	int i;

	for (i = 0; i < fuzz_nsurveys; i++) {
		if (strcmp(fuzz_surveys[i]->code, code) == 0)
			return fuzz_surveys[i];
	}
	return NULL;
}

/* Any code of 1 to 32 bytes is a unit. */
const struct cache_unit *
cache_unit_get(const struct cache *c, const char *code)
{
	size_t n = strlen(code);

	return n >= 1 && n <= 32 ? &fuzz_unit : NULL;
}

/* Every token sees every unit. */
int
auth_scope_allows(const struct request *r, const char *unit)
{
	return 1;
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *codes;
	struct sipasd sd;
	struct config cfg;
	struct request r;
	struct ingest_item *it;
	struct ingest_error err;

	if (fuzz_nsurveys == 0) {
		for (codes = survey_builtin_codes(); *codes != NULL &&
		    fuzz_nsurveys < 3; codes++)
			if ((fuzz_surveys[fuzz_nsurveys++] =
			    survey_builtin_create(*codes)) == NULL)
				abort();
	}
	memset(&sd, 0, sizeof sd);
	memset(&cfg, 0, sizeof cfg);
	cfg.weight_max = RESPONSE_WEIGHT_MAX;
	sd.config = &cfg;
	memset(&r, 0, sizeof r);
	sd.cache = (struct cache *)&fuzz_unit; /* never dereferenced */
	r.sd = &sd;
	it = xcalloc(1, sizeof *it);
	memset(&err, 0, sizeof err);
	(void)ingest_parse(&r, (const char *)data, size, it, 0, &err);
	ingest_item_free(it);
	return 0;
}
