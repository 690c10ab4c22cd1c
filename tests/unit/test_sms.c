/*
 * test_sms.c: the SMS channel's pure core (common/sms.c), table-driven from
 * tests/data/sms/ (tab-separated; # starts a comment line):
 *
 *   parse.tsv    MODE TEXT OUTCOME SURVEY UNIT N ANSWERS DETAIL COMMENT FLAGS:
 *                sms_message_parse with the unit catalogue (MODE r) or
 *                without (n), or sms_dialogue_parse (d:SURVEY:ITEM)
 *   replies.tsv  CODING MODE TEXT REPLY: the exact reply a message gets
 *                (modes as above), or sms_reply_question (q:SURVEY:ITEM),
 *                sms_reply_thanks (t, TEXT the unit name, - for none),
 *                sms_reply_unit_unknown (u:SURVEY, TEXT the unit)
 *   fold.tsv     TEXT FOLDED UPPER: sms_text_fold
 *   lengths.tsv  TEXT GSM7 UCS2: sms_gsm7_length, sms_ucs2_length
 *   twilio.tsv   TOKEN URL SIGNATURE MATCH NAME=VALUE...: sms_twilio_signature
 *   phones.tsv   PHONE NORMALIZED MASK GROUP, or PHONE - CAUSE: the phone
 *                number's form, mask and keyed hash (equal within a group)
 *   units.tsv    CODE NAME: the catalogue; *.survey.json: custom surveys
 *
 * In TEXT columns: \t \n \r \\ \0, \xHH (a byte), \u{HHHH} (a code point as
 * UTF-8), \*N{...} (N copies of ...), and - alone for the empty string.
 * Every reply any test produces is checked: at most 160 GSM-7 septets (ASCII
 * only) or at most 70 UTF-16 units, valid UTF-8, NUL-terminated.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "sipas/response.h"
#include "sipas/sms.h"
#include "sipas/survey.h"
#include "sipas/util.h"

#include "tap.h"

#define NSURVEYS 6
#define MAXFIELDS 32

/* The surveys every message is parsed against, in this order. */
static const struct survey *surveys[NSURVEYS];
static struct survey *owned[NSURVEYS];

/* The unit catalogue: codes, names and folded codes. */
static char **unit_codes, **unit_names, **unit_folded;
static int nunits;

/* Replies checked so far, and the bad ones. */
static int replies_checked, replies_bad;

/* Path of a file in tests/data (owned). */
static char *
data_path(const char *sub, const char *name)
{
	const char *dir = getenv("SIPAS_TEST_DATA");
	char *p;

	xasprintf(&p, "%s/%s%s", dir != NULL ? dir : "tests/data", sub, name);
	return p;
}

/* A file of tests/data/sms (owned); aborts the test if missing. */
static char *
data_read(const char *name, size_t *len)
{
	char *p = data_path("sms/", name), *cause = NULL, *text;

	if ((text = util_file_read(p, len, &cause)) == NULL) {
		printf("Bail out! %s: %s\n", p, cause);
		exit(1);
	}
	free(p);
	return text;
}

/* Append the UTF-8 of cp to buf at *n. */
static void
put_utf8(char *buf, size_t *n, uint32_t cp)
{
	if (cp < 0x80)
		buf[(*n)++] = (char)cp;
	else if (cp < 0x800) {
		buf[(*n)++] = (char)(0xc0 | cp >> 6);
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf[(*n)++] = (char)(0xe0 | cp >> 12);
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		buf[(*n)++] = (char)(0xf0 | cp >> 18);
		buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Decode the escapes of a table cell into an owned buffer of *lenp bytes. */
static char *
unescape(const char *s, size_t *lenp)
{
	size_t cap = 64, n = 0, k, rlen;
	char *out = xmalloc(cap), *rep, *end, *inner;
	const char *brace;
	long times;
	int depth;
	uint32_t cp;

	if (strcmp(s, "-") == 0)
		s = "";
	while (*s != '\0') {
		if (n + 8 > cap)
			out = xreallocarray(out, cap *= 2, 1);
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 't': out[n++] = '\t'; s++; break;
		case 'n': out[n++] = '\n'; s++; break;
		case 'r': out[n++] = '\r'; s++; break;
		case '0': out[n++] = '\0'; s++; break;
		case '\\': out[n++] = '\\'; s++; break;
		case 'x':
			ASSERT(util_hexval(s[1]) >= 0 &&
			    util_hexval(s[2]) >= 0);
			out[n++] = (char)(util_hexval(s[1]) * 16 +
			    util_hexval(s[2]));
			s += 3;
			break;
		case 'u':
			ASSERT(s[1] == '{');
			cp = (uint32_t)strtoul(s + 2, &end, 16);
			ASSERT(*end == '}');
			put_utf8(out, &n, cp);
			s = end + 1;
			break;
		case '*': /* \*N{...}: N copies of the unescaped ... */
			times = strtol(s + 1, &end, 10);
			ASSERT(*end == '{');
			for (depth = 0, brace = end; *brace != '\0'; brace++) {
				if (*brace == '{')
					depth++;
				else if (*brace == '}' && --depth == 0)
					break;
			}
			ASSERT(*brace == '}');
			inner = xstrndup(end + 1, (size_t)(brace - end - 1));
			rep = unescape(inner, &rlen);
			for (k = 0; k < (size_t)times; k++) {
				if (n + rlen + 8 > cap)
					out = xreallocarray(out, cap = (n + rlen) * 2 + 8, 1);
				memcpy(out + n, rep, rlen);
				n += rlen;
			}
			free(rep);
			free(inner);
			s = brace + 1;
			break;
		default:
			ASSERT(0 && "bad escape in a table");
		}
	}
	out[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return out;
}

/* s for a test name: controls (and bytes of invalid UTF-8) as \xHH, cut. */
static char *
printable(const char *s, size_t len)
{
	char *out = xmalloc(4 * 60 + 40);
	size_t i, n = 0;
	int utf8 = memchr(s, '\0', len) == NULL && sms_ucs2_length(s) >= 0;

	for (i = 0; i < len && n < 4 * 60; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8))
			n += (size_t)sprintf(out + n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	if (i < len)
		n += (size_t)sprintf(out + n, "...(%zu)", len);
	out[n] = '\0';
	return out;
}

/* Split a table file into lines of fields; calls fn for each data line. */
static void
table_each(const char *name, void (*fn)(char **f, int nf, int line))
{
	char *text = data_read(name, NULL), *line, *next, *f[MAXFIELDS];
	int nf, lineno = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		nf = 0;
		f[nf++] = line;
		while (nf < MAXFIELDS && (line = strchr(line, '\t')) != NULL) {
			*line++ = '\0';
			f[nf++] = line;
		}
		fn(f, nf, lineno);
	}
	free(text);
}

/* Check one reply: fits one SMS in its coding, valid, ASCII for GSM-7. */
static void
check_reply(enum sms_coding coding, const char *reply, const char *what)
{
	size_t i, len = strlen(reply);
	int n, ok = 1;

	replies_checked++;
	if (len == 0 || len >= SMS_REPLY_SIZE)
		ok = 0;
	if (coding == SMS_CODING_GSM7) {
		n = sms_gsm7_length(reply);
		for (i = 0; i < len; i++) {
			if ((unsigned char)reply[i] >= 0x80)
				ok = 0;
		}
		if (n < 1 || n > SMS_GSM7_MAX)
			ok = 0;
	} else {
		n = sms_ucs2_length(reply);
		if (n < 1 || n > SMS_UCS2_MAX)
			ok = 0;
	}
	if (!ok) {
		replies_bad++;
		tap_ok(0, "reply of %s fits one %s SMS: [%s] (%d)", what,
		    coding == SMS_CODING_GSM7 ? "GSM-7" : "UCS-2", reply, n);
	}
}

/* The catalogue's code for a folded code, or NULL (struct sms_units.find). */
static const char *
unit_find(void *arg, const char *folded)
{
	int i;

	(*(int *)arg)++;
	for (i = 0; i < nunits; i++) {
		if (strcmp(unit_folded[i], folded) == 0)
			return unit_codes[i];
	}
	return NULL;
}

/* The catalogue's name for a code, or NULL. */
static const char *
unit_name(const char *code)
{
	int i;

	for (i = 0; i < nunits; i++) {
		if (strcmp(unit_codes[i], code) == 0)
			return unit_names[i];
	}
	return NULL;
}

/* units.tsv: one catalogue line. */
static void
units_line(char **f, int nf, int line)
{
	size_t len = strlen(f[0]);

	ASSERT(nf == 2);
	unit_codes = xreallocarray(unit_codes, nunits + 1, sizeof *unit_codes);
	unit_names = xreallocarray(unit_names, nunits + 1, sizeof *unit_names);
	unit_folded = xreallocarray(unit_folded, nunits + 1, sizeof *unit_folded);
	unit_codes[nunits] = xstrdup(f[0]);
	unit_names[nunits] = xstrdup(f[1]);
	unit_folded[nunits] = xmalloc(len + 1);
	sms_text_fold(f[0], len, unit_folded[nunits], len + 1, SMS_FOLD_UPPER);
	nunits++;
}

/* A survey definition file (path relative to tests/data). */
static struct survey *
survey_load(const char *sub, const char *name)
{
	char *p = data_path(sub, name), *cause = NULL, *text;
	struct survey *s;
	size_t len;

	if ((text = util_file_read(p, &len, &cause)) == NULL ||
	    (s = survey_create(text, len, &cause)) == NULL) {
		printf("Bail out! %s: %s\n", p, cause);
		exit(1);
	}
	free(text);
	free(p);
	return s;
}

/* Load the surveys and the unit catalogue. */
static void
setup(void)
{
	int i;

	owned[0] = survey_builtin_create("sipas-2023");
	owned[1] = survey_builtin_create("sipas-2017");
	owned[2] = survey_builtin_create("onestop-tt01");
	owned[3] = survey_load("fixtures/", "custom-pooled.survey.json");
	owned[4] = survey_load("sms/", "mixed.survey.json");
	owned[5] = survey_load("sms/", "long.survey.json");
	for (i = 0; i < NSURVEYS; i++) {
		ASSERT(owned[i] != NULL);
		surveys[i] = owned[i];
	}
	table_each("units.tsv", units_line);
}

/* Free what setup loaded. */
static void
teardown(void)
{
	int i;

	for (i = 0; i < NSURVEYS; i++)
		survey_free(owned[i]);
	for (i = 0; i < nunits; i++) {
		free(unit_codes[i]);
		free(unit_names[i]);
		free(unit_folded[i]);
	}
	free(unit_codes);
	free(unit_names);
	free(unit_folded);
}

/* Survey by code among the test surveys, or NULL. */
static const struct survey *
survey_get(const char *code)
{
	int i;

	for (i = 0; i < NSURVEYS; i++) {
		if (strcmp(surveys[i]->code, code) == 0)
			return surveys[i];
	}
	return NULL;
}

/* Run a message in mode (r, n, d:SURVEY:ITEM); -1 for a bad mode. */
static int
run_mode(const char *mode, const char *text, size_t len, struct sms_parse *p)
{
	struct sms_units units;
	const struct survey *sv;
	char code[64];
	int item, calls = 0;

	units.find = unit_find;
	units.arg = &calls;
	if (strcmp(mode, "r") == 0)
		sms_message_parse(text, len, surveys, NSURVEYS, &units, p);
	else if (strcmp(mode, "n") == 0)
		sms_message_parse(text, len, surveys, NSURVEYS, NULL, p);
	else if (sscanf(mode, "d:%63[^:]:%d", code, &item) == 2 &&
	    (sv = survey_get(code)) != NULL && item >= 0 && item < sv->nsms)
		sms_dialogue_parse(text, len, sv, item, p);
	else
		return -1;
	return 0;
}

/* The reply a parse result gets, as the daemon would send it. */
static void
reply_for(enum sms_coding coding, const struct sms_parse *p, char *out)
{
	const char *name;

	if (p->kind == SMS_ERROR)
		sms_reply_error(coding, p, surveys, NSURVEYS, out);
	else if (p->kind == SMS_DIALOGUE_START)
		sms_reply_question(coding, p->survey, 0, out);
	else if (p->dialogue_item >= 0 && p->dialogue_item + 1 < p->survey->nsms)
		sms_reply_question(coding, p->survey, p->dialogue_item + 1, out);
	else {
		name = unit_name(p->unit);
		sms_reply_thanks(coding, name != NULL ? name : p->unit, out);
	}
}

/* The answers of p as "5,4,4,5,3", or "-". */
static void
answers_text(const struct sms_parse *p, char *buf, size_t size)
{
	size_t n = 0;
	int i;

	strcpy(buf, "-");
	if (p->kind != SMS_ANSWERS)
		return;
	for (i = 0; i < p->nanswers && i < SMS_ANSWERS_MAX && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%d", i ? "," : "",
		    p->answers[i]);
}

/* The detail of p: token for a keyword, INDEX:TOKEN for a range, else "-". */
static void
detail_text(const struct sms_parse *p, char *buf, size_t size)
{
	if (p->kind == SMS_ERROR && p->error == SMS_ERR_KEYWORD)
		snprintf(buf, size, "%s", p->token);
	else if (p->kind == SMS_ERROR && p->error == SMS_ERR_RANGE)
		snprintf(buf, size, "%d:%s", p->error_index, p->token);
	else
		snprintf(buf, size, "-");
}

/* The response of a full set of answers puts each answer on its item. */
static int
response_matches(const struct sms_parse *p)
{
	struct response *r = sms_parse_response_create(p);
	const struct survey *sv = p->survey;
	int i, j, ok = strcmp(r->unit, p->unit) == 0 &&
	    r->channel == CHANNEL_SMS && r->nanswers == sv->nitems;

	for (i = 0; ok && i < sv->nitems; i++) {
		int want = ANSWER_NONE;

		for (j = 0; j < sv->nsms; j++) {
			if (sv->sms_items[j] == i)
				want = p->answers[j];
		}
		ok = r->answers[i] == want;
	}
	response_free(r);
	return ok;
}

/* parse.tsv: one case. */
static void
parse_line(char **f, int nf, int line)
{
	struct sms_parse p;
	char *text, *comment, *name, answers[256], detail[64], flags[8];
	char reply[SMS_REPLY_SIZE], what[300];
	size_t len, clen;
	int ok, n;

	if (nf != 10) {
		tap_ok(0, "parse.tsv:%d has 10 fields (%d)", line, nf);
		return;
	}
	text = unescape(f[1], &len);
	comment = unescape(f[8], &clen);
	name = printable(text, len);
	if (run_mode(f[0], text, len, &p) != 0) {
		tap_ok(0, "parse.tsv:%d: bad mode %s", line, f[0]);
		goto out;
	}
	answers_text(&p, answers, sizeof answers);
	detail_text(&p, detail, sizeof detail);
	snprintf(flags, sizeof flags, "%s%s%s", p.compact ? "c" : "",
	    p.comment_truncated ? "t" : "",
	    !p.compact && !p.comment_truncated ? "-" : "");
	n = atoi(f[5]);
	ok = tap_ok(strcmp(sms_parse_outcome(&p), f[2]) == 0 &&
	    strcmp(p.survey ? p.survey->code : "-", f[3]) == 0 &&
	    strcmp(p.unit[0] ? p.unit : "-", f[4]) == 0 &&
	    p.nanswers == n && strcmp(answers, f[6]) == 0 &&
	    strcmp(detail, f[7]) == 0 && strcmp(p.comment, comment) == 0 &&
	    strlen(p.comment) == clen && strcmp(flags, f[9]) == 0,
	    "parse.tsv:%d %s [%s] -> %s", line, f[0], name, f[2]);
	if (!ok)
		tap_diag("got %s %s %s %d %s %s [%s] %s", sms_parse_outcome(&p),
		    p.survey ? p.survey->code : "-", p.unit[0] ? p.unit : "-",
		    p.nanswers, answers, detail, p.comment, flags);
	if (p.kind == SMS_ANSWERS && p.dialogue_item < 0)
		tap_ok(response_matches(&p), "parse.tsv:%d response answers "
		    "on their items", line);
	snprintf(what, sizeof what, "parse.tsv:%d", line);
	reply_for(SMS_CODING_GSM7, &p, reply);
	check_reply(SMS_CODING_GSM7, reply, what);
	reply_for(SMS_CODING_UCS2, &p, reply);
	check_reply(SMS_CODING_UCS2, reply, what);
out:
	free(name);
	free(comment);
	free(text);
}

/* replies.tsv: one exact reply. */
static void
replies_line(char **f, int nf, int line)
{
	enum sms_coding coding;
	struct sms_parse p;
	const struct survey *sv;
	char reply[SMS_REPLY_SIZE], code[64], *text, *want;
	size_t len;
	int item;

	if (nf != 4) {
		tap_ok(0, "replies.tsv:%d has 4 fields (%d)", line, nf);
		return;
	}
	coding = strcmp(f[0], "ucs2") == 0 ? SMS_CODING_UCS2 : SMS_CODING_GSM7;
	text = unescape(f[2], &len);
	want = unescape(f[3], NULL);
	memset(reply, 0, sizeof reply);
	if (sscanf(f[1], "q:%63[^:]:%d", code, &item) == 2 &&
	    (sv = survey_get(code)) != NULL)
		sms_reply_question(coding, sv, item, reply);
	else if (strcmp(f[1], "t") == 0)
		sms_reply_thanks(coding, strcmp(f[2], "-") == 0 ? NULL : text,
		    reply);
	else if (sscanf(f[1], "u:%63s", code) == 1 &&
	    (sv = survey_get(code)) != NULL)
		sms_reply_unit_unknown(coding, sv, text, reply);
	else if (run_mode(f[1], text, len, &p) == 0)
		reply_for(coding, &p, reply);
	else
		strcpy(reply, "(bad mode)");
	if (!tap_ok(strcmp(reply, want) == 0, "replies.tsv:%d %s %s [%s]",
	    line, f[0], f[1], f[2]))
		tap_diag("got  [%s]\n# want [%s]", reply, want);
	check_reply(coding, reply, "replies.tsv");
	free(want);
	free(text);
}

/* fold.tsv: one folding. */
static void
fold_line(char **f, int nf, int line)
{
	char *text, *want, out[512];
	size_t len, n;

	ASSERT(nf == 3);
	text = unescape(f[0], &len);
	want = unescape(f[1], NULL);
	n = sms_text_fold(text, len, out, sizeof out,
	    strcmp(f[2], "upper") == 0 ? SMS_FOLD_UPPER : 0);
	if (!tap_ok(strcmp(out, want) == 0 && n == strlen(want),
	    "fold.tsv:%d %s", line, f[0]))
		tap_diag("got [%s] (%zu)", out, n);
	free(want);
	free(text);
}

/* lengths.tsv: one string's lengths. */
static void
lengths_line(char **f, int nf, int line)
{
	char *text;
	int g, u;

	ASSERT(nf == 3);
	text = unescape(f[0], NULL);
	g = sms_gsm7_length(text);
	u = sms_ucs2_length(text);
	if (!tap_ok(g == atoi(f[1]) && u == atoi(f[2]), "lengths.tsv:%d [%s] "
	    "GSM-7 %s, UCS-2 %s", line, f[0], f[1], f[2]))
		tap_diag("got %d %d", g, u);
	free(text);
}

/* twilio.tsv: one signature. */
static void
twilio_line(char **f, int nf, int line)
{
	struct sms_param params[MAXFIELDS];
	char sig[SMS_SIGNATURE_SIZE], *cause = NULL, *eq;
	int i, n = 0, match;

	ASSERT(nf >= 4);
	for (i = 4; i < nf; i++) {
		ASSERT((eq = strchr(f[i], '=')) != NULL);
		*eq = '\0';
		params[n].name = f[i];
		params[n].value = eq + 1;
		n++;
	}
	if (sms_twilio_signature(f[0], f[1], params, n, sig, &cause) != 0) {
		tap_ok(0, "twilio.tsv:%d: %s", line, cause);
		free(cause);
		return;
	}
	match = sms_signature_equal(sig, f[2]);
	if (!tap_ok(match == atoi(f[3]), "twilio.tsv:%d %s %s", line,
	    match ? "matches" : "does not match", f[2]))
		tap_diag("computed %s", sig);
}

/* Hash of the first phone seen in each group of phones.tsv. */
static char group_hash[16][SMS_PHONE_HASH_SIZE];

/* phones.tsv: one number. */
static void
phones_line(char **f, int nf, int line)
{
	char norm[SMS_PHONE_SIZE], mask[SMS_PHONE_SIZE];
	char hash[SMS_PHONE_HASH_SIZE], *cause = NULL, *phone;
	int rc, g, i;

	ASSERT(nf >= 3);
	phone = unescape(f[0], NULL);
	rc = sms_phone_normalize(phone, norm, &cause);
	sms_phone_mask(phone, mask);
	if (strcmp(f[1], "-") == 0) {
		tap_ok(rc == -1 && cause != NULL && strstr(cause, f[2]) != NULL &&
		    strcmp(mask, "***") == 0, "phones.tsv:%d [%s] refused: %s",
		    line, f[0], cause ? cause : "(accepted)");
		free(cause);
		free(phone);
		return;
	}
	ASSERT(nf == 4);
	if (!tap_ok(rc == 0 && strcmp(norm, f[1]) == 0 &&
	    strcmp(mask, f[2]) == 0, "phones.tsv:%d [%s] is %s, masked %s",
	    line, f[0], f[1], f[2]))
		tap_diag("got %s %s %s", rc ? cause : norm, mask, "");
	free(cause);
	cause = NULL;
	g = atoi(f[3]);
	ASSERT(g >= 0 && g < 16);
	if (sms_phone_hash("test-secret", phone, hash, &cause) != 0) {
		tap_ok(0, "phones.tsv:%d hash: %s", line, cause);
		free(cause);
		free(phone);
		return;
	}
	if (group_hash[g][0] == '\0') {
		for (i = 0; i < 16; i++) { /* a new group: a new hash */
			if (group_hash[i][0] != '\0' &&
			    strcmp(group_hash[i], hash) == 0)
				tap_ok(0, "phones.tsv:%d group %d hash differs "
				    "from group %d", line, g, i);
		}
		memcpy(group_hash[g], hash, sizeof hash);
	} else
		tap_ok(strcmp(group_hash[g], hash) == 0, "phones.tsv:%d [%s] "
		    "hashes as group %d", line, f[0], g);
	free(phone);
}

/* The phone hash: a known value, the key matters, bad input and secret. */
static void
test_phone_hash(void)
{
	char hash[SMS_PHONE_HASH_SIZE], other[SMS_PHONE_HASH_SIZE];
	char *cause = NULL;

	/* printf '+84912345678' | openssl dgst -sha256 -hmac test-secret */
	tap_ok(sms_phone_hash("test-secret", "0912 345 678", hash, &cause) == 0 &&
	    strcmp(hash, "08a2adafa7464fe9a206e9fd4aabe1ec24f0caae2ee3e9f4e44c9258b230f1d8") == 0,
	    "phone hash: the openssl value for +84912345678 (%s)", hash);
	sms_phone_hash("another-secret", "0912345678", other, &cause);
	tap_ok(strcmp(hash, other) != 0, "phone hash depends on the secret");
	tap_ok(sms_phone_hash("", "0912345678", hash, &cause) == -1 &&
	    cause != NULL, "phone hash refuses an empty secret: %s", cause ? cause : "-");
	free(cause);
	cause = NULL;
	tap_ok(sms_phone_hash("s", "", hash, &cause) == -1 && cause != NULL,
	    "phone hash refuses an empty number: %s", cause ? cause : "-");
	free(cause);
}

/* UTF-16BE to UTF-8, and the parse of what Kannel sends for coding 2. */
static void
test_ucs2(void)
{
	/* "Hl Bl01 5 4 4 5 3 tốt" in UTF-16BE, then a lone surrogate, an odd byte */
	static const unsigned char be[] = {
		0, 'H', 0, 'l', 0, ' ', 0, 'B', 0, 'l', 0, '0', 0, '1', 0, ' ',
		0, '5', 0, ' ', 0, '4', 0, ' ', 0, '4', 0, ' ', 0, '5', 0, ' ',
		0, '3', 0, ' ', 0, 't', 0x1e, 0xd1, 0, 't',
	};
	static const unsigned char bad[] = { 0xd8, 0x3d, 0, 'x', 0xd8, 0x3d,
	    0xde, 0x00, 0x41 };
	struct sms_parse p;
	struct sms_units units;
	char *text;
	size_t len;
	int calls = 0;

	units.find = unit_find;
	units.arg = &calls;
	text = sms_text_from_ucs2(be, sizeof be, &len);
	tap_ok(strcmp(text, "Hl Bl01 5 4 4 5 3 t\xe1\xbb\x91t") == 0 &&
	    len == strlen(text), "UCS-2 to UTF-8: %s", text);
	tap_ok(sms_message_parse(text, len, surveys, NSURVEYS, &units, &p) == 0 &&
	    p.kind == SMS_ANSWERS && strcmp(p.unit, "BL01") == 0 &&
	    strcmp(p.comment, "t\xe1\xbb\x91t") == 0,
	    "UCS-2 message parses, comment kept with its diacritics");
	free(text);
	text = sms_text_from_ucs2(bad, sizeof bad, &len);
	tap_ok(strcmp(text, "\xef\xbf\xbdx\xf0\x9f\x98\x80\xef\xbf\xbd") == 0,
	    "UCS-2: lone surrogate and odd byte become U+FFFD, a pair one "
	    "code point");
	free(text);
}

/* Every question and dialogue error of every survey fits one SMS. */
static void
test_questions(void)
{
	static const char *const replies[] = { "", "7", "5 4", "xin chao", "99999999999" };
	enum sms_coding c;
	struct sms_parse p;
	char reply[SMS_REPLY_SIZE], what[128];
	int s, i, k, before = replies_bad;

	for (s = 0; s < NSURVEYS; s++) {
		for (i = 0; i < surveys[s]->nsms; i++) {
			for (c = SMS_CODING_GSM7; c <= SMS_CODING_UCS2; c++) {
				snprintf(what, sizeof what, "question %s/%d",
				    surveys[s]->code, i);
				sms_reply_question(c, surveys[s], i, reply);
				check_reply(c, reply, what);
				for (k = 0; k < 5; k++) {
					sms_dialogue_parse(replies[k],
					    strlen(replies[k]), surveys[s], i, &p);
					reply_for(c, &p, reply);
					check_reply(c, reply, what);
				}
				sms_reply_unit_unknown(c, surveys[s],
				    "KHONG-CO-DON-VI-NAY-DAU-MA-RAT-DAI-QUA", reply);
				check_reply(c, reply, what);
			}
		}
	}
	tap_ok(replies_bad == before, "every question, dialogue error and "
	    "unknown-unit reply of every survey fits one SMS");
}

/* Every error reply of the longest survey and the longest input fits. */
static void
test_worst_replies(void)
{
	const struct survey *sv = survey_get("long");
	enum sms_coding c;
	struct sms_parse p;
	char reply[SMS_REPLY_SIZE];
	int e, before = replies_bad;

	for (c = SMS_CODING_GSM7; c <= SMS_CODING_UCS2; c++) {
		for (e = SMS_ERR_EMPTY; e <= SMS_ERR_RANGE; e++) {
			memset(&p, 0, sizeof p);
			p.kind = SMS_ERROR;
			p.error = e;
			p.survey = e == SMS_ERR_EMPTY || e == SMS_ERR_KEYWORD ?
			    NULL : sv;
			p.dialogue_item = -1;
			p.error_index = SMS_ANSWERS_MAX - 1;
			p.nanswers = 1000000;
			memset(p.unit, 'W', sizeof p.unit - 1);
			memset(p.token, 'W', sizeof p.token - 1);
			sms_reply_error(c, &p, surveys, NSURVEYS, reply);
			check_reply(c, reply, "worst case");
			/* With no survey at all. */
			p.survey = NULL;
			sms_reply_error(c, &p, surveys, 0, reply);
			check_reply(c, reply, "no surveys");
		}
		sms_reply_thanks(c, "\xe1\xbb\xb0\xcc\x81\xe2\x80\x8b"
		    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
		    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
		    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
		    "[]{}^~|\\`\x01\xff\xf0\x9f\x98\x80", reply);
		check_reply(c, reply, "thanks, hostile name");
	}
	tap_ok(replies_bad == before, "worst-case replies fit one SMS");
}

/* A small deterministic generator (xorshift). */
static uint32_t
rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random messages built from grammar pieces and junk: invariants hold. */
static void
test_fuzz(void)
{
	static const char *const pieces[] = {
		"HL", "hl", "KS", "MC", "YT", "\xc4\x90G", "KHAOSATDAINHAT16",
		"BL01", "bn-tp-vn", "Q1.P2", "U001", " ", "  ", ",", ".", "-",
		"5", "4", "3", "10", "54453", "0", "\xe3\x80\x80", "\xcc\x81",
		"\xe1\xbb\x9d", "\xc4\x91", "\x00", "\x01", "\xff", "\xc3",
		"\xe2\x80\x8b", "cam on", "t\xe1\xbb\x91t", "\xef\xbc\x95",
		"\xf0\x9f\x98\x80", "\n", "\t", "\xed\xa0\x80", "99999999999",
	};
	const int npieces = sizeof pieces / sizeof pieces[0];
	struct sms_parse p;
	struct sms_units units;
	char text[600], reply[SMS_REPLY_SIZE];
	uint32_t seed = 20250423;
	int iter, k, n, bad = 0, calls = 0, before = replies_bad;
	size_t len, plen;
	enum sms_coding c;

	units.find = unit_find;
	units.arg = &calls;
	for (iter = 0; iter < 20000; iter++) {
		len = 0;
		n = (int)(rng_next(&seed) % 24);
		for (k = 0; k < n; k++) {
			const char *pc = pieces[rng_next(&seed) % npieces];

			plen = *pc == '\0' ? 1 : strlen(pc);
			if (rng_next(&seed) % 8 == 0) { /* a random byte */
				text[len++] = (char)(rng_next(&seed) & 0xff);
				continue;
			}
			if (len + plen < sizeof text) {
				memcpy(text + len, pc, plen);
				len += plen;
			}
		}
		if (iter % 2)
			sms_message_parse(text, len, surveys, NSURVEYS, &units, &p);
		else
			sms_message_parse(text, len, surveys, NSURVEYS, NULL, &p);
		if ((p.kind == SMS_ERROR) != (p.error != SMS_ERR_NONE) ||
		    sms_ucs2_length(p.comment) < 0 ||
		    strlen(p.comment) >= SMS_COMMENT_SIZE ||
		    (p.kind == SMS_ANSWERS && p.nanswers != p.survey->nsms))
			bad++;
		for (c = SMS_CODING_GSM7; c <= SMS_CODING_UCS2; c++) {
			reply_for(c, &p, reply);
			check_reply(c, reply, "fuzz");
		}
		if (p.survey != NULL) {
			sms_dialogue_parse(text, len, p.survey, 0, &p);
			reply_for(SMS_CODING_GSM7, &p, reply);
			check_reply(SMS_CODING_GSM7, reply, "fuzz dialogue");
		}
	}
	tap_ok(bad == 0, "20000 random messages: parse invariants hold (%d bad)",
	    bad);
	tap_ok(replies_bad == before, "20000 random messages: every reply fits");
}

/* A NULL text, a zero length, a length short of the NUL, no surveys. */
static void
test_null(void)
{
	struct sms_parse p;

	tap_ok(sms_message_parse(NULL, 0, surveys, NSURVEYS, NULL, &p) == -1 &&
	    p.error == SMS_ERR_EMPTY, "NULL text is an empty message");
	tap_ok(sms_message_parse("HL BL01 5", 0, surveys, NSURVEYS, NULL, &p) ==
	    -1 && p.error == SMS_ERR_EMPTY, "len bounds the text");
	tap_ok(sms_message_parse("HL BL01 54453", 9, surveys, NSURVEYS, NULL,
	    &p) == -1 && p.error == SMS_ERR_COUNT && p.nanswers == 1,
	    "len bounds the text, not the NUL");
	tap_ok(sms_message_parse("HL BL01 54453", 13, NULL, 0, NULL, &p) == -1 &&
	    p.error == SMS_ERR_KEYWORD, "no surveys: every keyword unknown");
}

/* Run everything. */
int
main(void)
{
	util_jansson_init();
	gsl_set_error_handler_off();
	setup();

	table_each("fold.tsv", fold_line);
	table_each("lengths.tsv", lengths_line);
	table_each("parse.tsv", parse_line);
	table_each("replies.tsv", replies_line);
	table_each("twilio.tsv", twilio_line);
	table_each("phones.tsv", phones_line);
	test_phone_hash();
	test_ucs2();
	test_null();
	test_questions();
	test_worst_replies();
	test_fuzz();
	tap_diag("%d replies checked, %d too long or invalid", replies_checked,
	    replies_bad);
	tap_ok(replies_checked > 0 && replies_bad == 0,
	    "all %d replies fit one SMS", replies_checked);

	teardown();
	return tap_done();
}
