/*
 * fuzz_json_response.c: libFuzzer target for the JSON response decoder of
 * POST /api/v1/responses and of the one check every channel's response
 * passes (ingest_json_parse and ingest_check in daemon/channels/ingest.c,
 * static: this file includes ingest.c). A body the reader without Jansson
 * (ingest_json_fast) takes must be one Jansson's path (ingest_json_tree)
 * takes too, into the same response; the content hash and the stored texts
 * of what passed must be the same whether Jansson writes them
 * (response_hash) or response_store_texts does. Any difference aborts. The
 * catalogue is the built-in surveys and any unit code of 1 to 32 bytes;
 * every token may see every unit; the messages are in Vietnamese for inputs
 * of odd length, English otherwise. Nothing but the decoder runs: run.sh
 * links with unresolved symbols ignored (the HTTP replies, the store and the
 * metrics are never reached from these).
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

/* Two strings, either maybe NULL, are the same. */
static int
fuzz_same_text(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Two responses are the same, field by field. */
static int
fuzz_same(const struct response *a, const struct response *b)
{
	return fuzz_same_text(a->id, b->id) &&
	    fuzz_same_text(a->unit, b->unit) &&
	    fuzz_same_text(a->stratum, b->stratum) &&
	    fuzz_same_text(a->psu, b->psu) &&
	    a->submitted_at == b->submitted_at &&
	    a->tz_minutes == b->tz_minutes && a->has_time == b->has_time &&
	    a->channel == b->channel && a->weight == b->weight &&
	    a->nanswers == b->nanswers && memcmp(a->answers, b->answers,
	    a->nanswers * sizeof *a->answers) == 0 && a->nresp == b->nresp &&
	    a->resp_object == b->resp_object;
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
	const struct survey *s = NULL, *s2 = NULL;
	struct response *rs = NULL, *rs2 = NULL;
	int rv;
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
	/* The body read without Jansson is the body read with it: a body
	 * ingest_json_fast takes is one Jansson's path takes too, into the
	 * same response. */
	rv = ingest_json_tree(&r, (const char *)data, size, &s, &rs, &err);
	if (ingest_json_fast(&r, (const char *)data, size, &s2, &rs2)) {
		if (rv != 0 || s2 != s || !fuzz_same(rs, rs2))
			abort();
		response_free(rs2);
	}
	if (rv == 0 && ingest_check(&r, s, rs, 0, &err) == 0) {
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
