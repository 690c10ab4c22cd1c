/*
 * test_response.c: the content hash of a response (response_hash), the
 * stored JSON of its answers and respondent, and response_copy.
 *
 * The hashes below are pinned: rows already stored keep the hash they were
 * given, and a replay of one of them must still be found a duplicate (200),
 * not a conflict (409). A change of the canonical text fails here.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipas/response.h"
#include "sipas/survey.h"
#include "sipas/textbuf.h"
#include "sipas/util.h"
#include "tap.h"

/* Answer code's value. */
static void
answer(const struct survey *s, struct response *r, const char *code, int v)
{
	int i = survey_item_find(s, code);

	if (i >= 0)
		r->answers[i] = v;
}

/* Compare the hash of r with the pinned one. */
static void
hash_is(const struct survey *s, const struct response *r, const char *want,
    const char *name)
{
	char h[TOKEN_HASH_LEN + 1], h2[TOKEN_HASH_LEN + 1];
	char *answers, *rd, *answers1, *rd1;

	response_hash(r, s, h);
	if (!tap_ok(strcmp(h, want) == 0, "hash: %s", name))
		tap_diag("got %s, want %s", h, want);
	/* A store row's texts and hash at once are the same as one by one. */
	response_store_texts(r, s, &answers, &rd, h2);
	answers1 = response_answers_text(r, s);
	rd1 = response_respondent_text(r);
	tap_ok(strcmp(h2, want) == 0 && strcmp(answers, answers1) == 0 &&
	    (rd == NULL) == (rd1 == NULL) && (rd == NULL ||
	    strcmp(rd, rd1) == 0), "store texts at once: %s", name);
	free(answers);
	free(rd);
	free(answers1);
	free(rd1);
}

/* A response with every field: strings only (a CSV row, a form, an import). */
static void
test_full(const struct survey *s)
{
	struct response *r = response_create(s), *c;
	char *text;

	r->id = xstrdup("paper-17");
	r->unit = xstrdup("HN.BD");
	r->channel = CHANNEL_PAPER;
	r->has_time = 1;
	r->submitted_at = 1745391540;
	r->tz_minutes = 7 * 60;
	r->weight = 1.5;
	r->stratum = xstrdup("urban");
	r->psu = xstrdup("p-7");
	answer(s, r, "Q9_3", 2);
	answer(s, r, "Q9_1", 4);
	answer(s, r, "Q9_2", 1);
	response_respondent_add(r, "gender", "female");
	response_respondent_add(r, "age_band", "25-34");
	hash_is(s, r, "9a12cea3120e7b6ba6721a6e7982bd3f7159674827deb2519b971"
	    "c3999b32fab", "every field, string demographics");

	/* The id and the offset the time was given in are not content. */
	free(r->id);
	r->id = NULL;
	r->tz_minutes = 0;
	hash_is(s, r, "9a12cea3120e7b6ba6721a6e7982bd3f7159674827deb2519b971"
	    "c3999b32fab", "without the id, the same instant at +00:00");

	text = response_answers_text(r, s);
	tap_ok(strcmp(text, "{\"Q9_1\":4,\"Q9_2\":1,\"Q9_3\":2}") == 0,
	    "answers as stored: %s", text);
	free(text);
	text = response_respondent_text(r);
	tap_ok(text != NULL && strcmp(text, "{\"gender\":\"female\","
	    "\"age_band\":\"25-34\"}") == 0, "respondent as stored: %s",
	    text != NULL ? text : "(null)");
	free(text);

	c = response_copy(r);
	hash_is(s, c, "9a12cea3120e7b6ba6721a6e7982bd3f7159674827deb2519b971"
	    "c3999b32fab", "a copy hashes the same");
	r->answers[0] = 5;
	tap_ok(c->answers[0] == 4 && strcmp(c->unit, "HN.BD") == 0 &&
	    c->nresp == 2 && strcmp(c->resp_values[1], "25-34") == 0,
	    "a copy owns its fields");
	response_free(c);
	response_free(r);
}

/* The least: a unit and one answer, no time, weight 1. */
static void
test_minimal(const struct survey *s)
{
	struct response *r = response_create(s);
	char *text;

	r->unit = xstrdup("U1");
	r->channel = CHANNEL_WEB;
	answer(s, r, "Q9_1", 5);
	hash_is(s, r, "970420a12f4c8077c8507769886de4d73ba3bf2acbd1aea60acee3"
	    "47d0fcd96c", "minimal, no time");
	tap_ok(response_respondent_text(r) == NULL, "no respondent: NULL");

	/* The web form sends an empty respondent object: not the same. */
	r->answers[survey_item_find(s, "Q9_1")] = ANSWER_NONE;
	answer(s, r, "Q9_2", 5);
	r->resp_object = 1;
	hash_is(s, r, "33e77a257b08a318dababaf300e170cffb34af541a5d4602862727"
	    "799e6848e5", "empty respondent object");
	text = response_respondent_text(r);
	tap_ok(text != NULL && strcmp(text, "{}") == 0,
	    "empty respondent as stored: {}");
	free(text);

	response_clear(r);
	r->unit = xstrdup("U1");
	r->channel = CHANNEL_KIOSK;
	r->has_time = 1;
	r->submitted_at = -86400;
	r->weight = 1000;
	r->psu = xstrdup("7");
	answer(s, r, "Q9_1", 1);
	hash_is(s, r, "aabd80552a1dbdb2891d8b5ed6d28e35340969d70bf4ebe710c1b9"
	    "d630d66ebc", "kiosk, a time before 1970, weight 1000, psu");
	response_free(r);
}

/* The SMS-like response with six demographics, typed (json 1) or as strings. */
static void
typed_fill(const struct survey *s, struct response *r, int json)
{
	static const char *const kv[][2] = { { "age", "42" },
		{ "disability", "true" }, { "education", "2.5" },
		{ "occupation", "null" },
		{ "residence", "0.10000000000000001" } };
	size_t i;

	response_clear(r);
	r->unit = xstrdup("HN.BD");
	r->channel = CHANNEL_SMS;
	r->has_time = 1;
	r->submitted_at = 1745391540;
	r->weight = 0.1;
	r->stratum = xstrdup("1");
	answer(s, r, "Q9_1", 3);
	response_respondent_add(r, "gender", "n\xe1\xbb\xaf /\"x\"");
	for (i = 0; i < sizeof kv / sizeof kv[0]; i++) {
		if (json)
			response_respondent_add_json(r, kv[i][0], kv[i][1]);
		else
			response_respondent_add(r, kv[i][0], kv[i][1]);
	}
}

/* The JSON API's demographics keep their JSON type in the hash. */
static void
test_typed(const struct survey *s)
{
	struct response *r = response_create(s), *c;
	char h[TOKEN_HASH_LEN + 1], *text;

	typed_fill(s, r, 1);
	hash_is(s, r, "8df8ef4a3a24b7d33b15d3002208ceb098f6cdac068edcf989c8f0"
	    "96a41a9ede", "typed demographics, weight 0.1");
	text = response_respondent_text(r);
	tap_ok(text != NULL && strcmp(text, "{\"gender\":\"n\xe1\xbb\xaf "
	    "/\\\"x\\\"\",\"age\":42,\"disability\":true,\"education\":2.5,"
	    "\"occupation\":null,\"residence\":0.10000000000000001}") == 0,
	    "typed respondent as stored: %s", text != NULL ? text : "(null)");
	free(text);

	c = response_copy(r);
	hash_is(s, c, "8df8ef4a3a24b7d33b15d3002208ceb098f6cdac068edcf989c8f0"
	    "96a41a9ede", "a copy keeps the types");
	response_free(c);

	/* The same values as strings are other content. */
	typed_fill(s, r, 0);
	response_hash(r, s, h);
	tap_ok(strcmp(h, "8df8ef4a3a24b7d33b15d3002208ceb098f6cdac068edcf98"
	    "9c8f096a41a9ede") != 0, "string demographics hash otherwise");
	response_free(r);
}

/* A pseudo-random number below k (a fixed sequence: the test repeats). */
static unsigned
rnd(unsigned *seed, unsigned k)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) % k;
}

/*
 * Random responses: the hash and answers text written directly
 * (response_store_texts) against those Jansson writes (response_hash,
 * response_answers_text), over weights with and without exponents, strings
 * with every kind of escape, UTF-8, no time, no stratum, typed respondents.
 */
static void
test_random(const struct survey *s)
{
	static const double weights[] = { 1, 1.5, 0.1, 2.0 / 3, 1e-5, 1e-300,
	    123.456, 1000, 1e20, 5e-324, 0.3 };
	static const char *strings[] = { "urban", "a \"q\" b", "back\\slash",
	    "tab\there", "nl\nx\r\f\b", "ctl\x01\x1f\x7f", "Huyện Bình Đà",
	    "sl/ash", "", "emoji \xf0\x9f\x98\x80" };
	static const char *typed[] = { "25", "-3", "1.5", "true", "false", "null",
	    "1e3", "0.10", "12345678901234567890" };
	char h1[TOKEN_HASH_LEN + 1], h2[TOKEN_HASH_LEN + 1];
	char *a1, *a2, *rd;
	int n, i, bad = 0, badtext = 0;
	unsigned seed = 12345;

	for (n = 0; n < 2000; n++) {
		struct response *r = response_create(s);

		r->unit = xstrdup(rnd(&seed, 3) == 0 ? strings[rnd(&seed, 10)] : "HN.BD");
		r->channel = (enum channel)rnd(&seed, 4);
		r->has_time = (int)rnd(&seed, 4) != 0;
		r->submitted_at = r->has_time ? (int64_t)rnd(&seed, 2000000000) -
		    (rnd(&seed, 5) == 0 ? 2000000000LL : 0) : 0;
		r->weight = weights[rnd(&seed, sizeof weights / sizeof weights[0])];
		if (rnd(&seed, 2))
			r->stratum = xstrdup(strings[rnd(&seed, 10)]);
		if (rnd(&seed, 2))
			r->psu = xstrdup(strings[rnd(&seed, 10)]);
		for (i = 0; i < s->nitems; i++)
			if (rnd(&seed, 3) != 0)
				r->answers[i] = s->items[i].scale->values[rnd(&seed,
				    (unsigned)s->items[i].scale->nvalues)];
		if (rnd(&seed, 3) == 0)
			response_respondent_add(r, "gender", strings[rnd(&seed, 10)]);
		if (rnd(&seed, 3) == 0)
			response_respondent_add_json(r, "age", typed[rnd(&seed, 9)]);
		response_hash(r, s, h1);
		response_store_texts(r, s, &a2, &rd, h2);
		a1 = response_answers_text(r, s);
		bad += strcmp(h1, h2) != 0;
		badtext += strcmp(a1, a2) != 0;
		free(a1);
		free(a2);
		free(rd);
		response_free(r);
	}
	tap_ok(bad == 0, "2000 random responses: the hash written directly is "
	    "Jansson's (%d differ)", bad);
	tap_ok(badtext == 0, "and so is the answers text (%d differ)", badtext);
}

/*
 * test_random again on a survey whose item codes need escaping in JSON and
 * whose scale has values of zero, one, two and three digits (the answers
 * writer has a shortcut for one digit).
 */
static void
test_codes(void)
{
	static const char text[] = "{\"code\": \"odd-codes\", \"version\": 1,"
	    " \"title\": {\"vi\": \"x\", \"en\": \"x\"}, \"intro\": {\"vi\":"
	    " \"x\", \"en\": \"x\"}, \"scales\": {\"S\": {\"values\": [0, 5, 10,"
	    " 100], \"satisfied_min\": 10, \"labels\": {\"vi\": [\"a\", \"b\","
	    " \"c\", \"d\"], \"en\": [\"a\", \"b\", \"c\", \"d\"]}}},"
	    " \"overall\": {\"code\": \"ALL\", \"title\": {\"vi\": \"x\","
	    " \"en\": \"x\"}, \"aggregate\": \"mean_items\", \"items\": ["
	    "{\"code\": \"Q\\\"1\", \"scale\": \"S\", \"text\": {\"vi\": \"x\","
	    " \"en\": \"x\"}}, {\"code\": \"Q\\\\2\", \"scale\": \"S\","
	    " \"text\": {\"vi\": \"x\", \"en\": \"x\"}}, {\"code\": \"Câu3\","
	    " \"scale\": \"S\", \"text\": {\"vi\": \"x\", \"en\": \"x\"}}]},"
	    " \"expectations\": []}";
	char *cause = NULL;
	struct survey *s = survey_create(text, sizeof text - 1, &cause);

	if (!tap_ok(s != NULL, "a survey with codes to escape: %s",
	    cause != NULL ? cause : "loaded")) {
		free(cause);
		return;
	}
	tap_ok(strcmp(s->items[0].json_key, "\"Q\\\"1\":") == 0 &&
	    s->items[0].json_key_len == 7, "an item's JSON key is escaped once, "
	    "at load");
	test_random(s);
	survey_free(s);
}

/* 64 pseudo-random bits (splitmix64: a fixed sequence). */
static uint64_t
rnd64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 if textbuf_json_real writes v as Jansson does. */
static int
real_differs(double v)
{
	struct textbuf t = { NULL, 0, 0 };
	json_t *j = json_real(v);
	char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	int differs;

	textbuf_json_real(&t, v);
	differs = want == NULL || strcmp(want, t.buf) != 0;
	if (differs)
		tap_diag("%.17g: Jansson %s, textbuf %s", v, want, t.buf);
	free(want);
	json_decref(j);
	textbuf_free(&t);
	return differs;
}

/*
 * Reals written without printf (textbuf_json_real's exact fast path) against
 * Jansson: random bit patterns over the whole range, log-uniform values where
 * the fast path works, ratios and percentages like the indices, whole
 * numbers, each power of ten and its neighbours, values half-way between two
 * 17-digit decimals.
 */
static void
test_reals(void)
{
	uint64_t st = 42, bits;
	double v;
	int i, k, bad = 0, n = 0;

	for (i = 0; i < 300000; i++, n++) {
		bits = rnd64(&st);
		memcpy(&v, &bits, sizeof v);
		if (isfinite(v))
			bad += real_differs(v);
	}
	for (i = 0; i < 300000; i++, n++) {
		v = pow(10, -8 + 26 * ((double)(rnd64(&st) >> 11) / 9007199254740992.0));
		bad += real_differs(rnd64(&st) & 1 ? v : -v);
	}
	for (i = 0; i < 300000; i++, n++) {
		uint64_t a = rnd64(&st) % 1000000, b = rnd64(&st) % 1000000 + 1;

		bad += real_differs(100.0 * (double)a / (double)b);
		bad += real_differs((double)a / (double)b);
		bad += real_differs((double)a);
		n += 2;
	}
	for (k = -9; k <= 18; k++) {
		v = pow(10, k);
		bad += real_differs(v) + real_differs(nextafter(v, 0)) +
		    real_differs(nextafter(v, INFINITY));
		/* 17 digits and a half: a tie in decimal, rarely in binary */
		bad += real_differs(1.00000000000000005 * v) +
		    real_differs(9.99999999999999995 * v);
		n += 5;
	}
	bad += real_differs(0.0) + real_differs(-0.0) + real_differs(1e-7) +
	    real_differs(1e17) + real_differs(99999999999999999.0) +
	    real_differs(0.1) + real_differs(2.0 / 3);
	n += 7;
	tap_ok(bad == 0, "%d reals: written without printf as Jansson writes "
	    "them (%d differ)", n, bad);
}

/* util_json_loadb_scratch: values kept past a parse stay valid; the area is reused once all are released. */
static void
test_scratch(void)
{
	static const char text[] = "{\"a\": [1, 2, \"x\"], \"b\": {\"c\": 3.5}}";
	static const char other[] = "{\"a\": [7, 2, \"y\"], \"b\": {\"d\": 9.25}}";
	json_error_t err;
	json_t *one, *kept, *two, *big;
	char *dumped, *s, *p;
	int i, same = 1;

	one = util_json_loadb_scratch(text, strlen(text), 0, &err);
	kept = json_incref(json_object_get(one, "b"));
	json_decref(one);
	for (i = 0; i < 200 && same; i++) {
		/* Later parses must not overwrite what is still held. */
		two = util_json_loadb_scratch(other, strlen(other), 0, &err);
		same = two != NULL && json_real_value(json_object_get(kept, "c")) == 3.5 &&
		    json_integer_value(json_array_get(json_object_get(two, "a"), 1)) == 2;
		json_decref(two);
	}
	dumped = json_dumps(kept, JSON_COMPACT);
	tap_ok(same && dumped != NULL && strcmp(dumped, "{\"c\":3.5}") == 0,
	    "scratch parses: a value kept past its parse is intact after 200 more (%s)",
	    dumped != NULL ? dumped : "?");
	free(dumped);
	json_decref(kept);

	/* A body larger than the area: the rest comes from malloc. */
	s = xmalloc(100000);
	p = s;
	*p++ = '[';
	for (i = 0; i < 20000; i++)
		p += sprintf(p, "%s\"v\"", i > 0 ? "," : "");
	strcpy(p, "]");
	big = util_json_loadb_scratch(s, strlen(s), 0, &err);
	tap_ok(big != NULL && json_array_size(big) == 20000 &&
	    strcmp(json_string_value(json_array_get(big, 19999)), "v") == 0,
	    "scratch parses: a tree larger than the area is whole");
	json_decref(big);
	free(s);
}

int
main(void)
{
	struct survey *s = survey_builtin_create("sipas-2023");

	if (!tap_ok(s != NULL, "the built-in survey sipas-2023"))
		return tap_done();
	test_full(s);
	test_minimal(s);
	test_typed(s);
	test_random(s);
	test_codes();
	test_reals();
	util_jansson_init();
	test_scratch();
	survey_free(s);
	return tap_done();
}
