/*
 * fuzz_json_response.c: libFuzzer target for the JSON response decoder of
 * POST /api/v1/responses and of the one check every channel's response
 * passes (ingest_json_parse and ingest_check in daemon/channels/ingest.c,
 * static: this file includes ingest.c), then the content hash and the stored
 * texts of what passed, which must be the same whether Jansson writes them
 * (response_hash) or response_store_texts does (abort otherwise). The catalogue is the built-in surveys and any unit
 * code of 1 to 32 bytes; every token may see every unit; the messages are in
 * Vietnamese for inputs of odd length, English otherwise. Nothing but the
 * decoder runs: run.sh links with unresolved symbols ignored (the HTTP
 * replies, the store and the metrics are never reached from these).
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
	struct ingest_error err;
	const struct survey *s = NULL;
	struct response *rs = NULL;
	char hash[TOKEN_HASH_LEN + 1], hash2[TOKEN_HASH_LEN + 1];
	char *text, *text2, *answers, *answers2;

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
	memset(&err, 0, sizeof err);
	err.lang = size % 2 == 1 ? "vi" : "en";
	if (ingest_json_parse(&r, (const char *)data, size, &s, &rs,
	    &err) == 0 && ingest_check(&r, s, rs, 0, &err) == 0) {
		response_hash(rs, s, hash);
		answers = response_answers_text(rs, s);
		text = response_respondent_text(rs);
		/* The texts written without Jansson are Jansson's, byte for
		 * byte: a difference is a crash the fuzzer reports. */
		response_store_texts(rs, s, &answers2, &text2, hash2);
		if (strcmp(hash, hash2) != 0 || strcmp(answers, answers2) != 0 ||
		    (text == NULL) != (text2 == NULL) ||
		    (text != NULL && strcmp(text, text2) != 0))
			abort();
		free(answers);
		free(answers2);
		free(text);
		free(text2);
	}
	response_free(rs);
	return 0;
}
