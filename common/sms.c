/*
 * sms.c: the SMS channel's pure core: folding Vietnamese text to ASCII, the
 * grammar (docs/interfaces.md, "SMS grammar"), the dialogue's one-answer
 * replies, the
 * reply texts in GSM-7 and UCS-2, Twilio's request signature and the phone
 * number's keyed hash and mask.
 *
 * Owns the SMS grammar and every reply text. Must not do I/O, log, keep
 * state between calls, or know about gateways, HTTP, the event loop or the
 * database: daemon/ adapts gateways to these functions and decides what to
 * store. Input is untrusted bytes; every loop is bounded by len and every
 * output by its buffer.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipas/hmac.h"
#include "sipas/response.h"
#include "sipas/sms.h"
#include "sipas/survey.h"
#include "sipas/util.h"

/* A byte that is not valid UTF-8 (one is consumed). */
#define SMS_CP_INVALID UTF8_INVALID

/* What a character is to the grammar. */
enum sms_class {
	SMS_C_CHAR,   /* part of a word; folded to an ASCII character */
	SMS_C_SPACE,  /* spaces of every kind and control characters */
	SMS_C_PUNCT,  /* comma, dot, dash in any of their forms */
	SMS_C_IGNORE, /* combining marks, zero-width and bidi controls */
};

/*
 * The letters folded to ASCII: every Vietnamese letter with a diacritic in
 * NFC (the decomposed forms fold by dropping their combining marks), đ, and
 * a few other Latin letters that turn up in names.
 */
static const struct {
	char ascii;
	const char *letters;
} sms_fold_letters[] = {
	{ 'a', "àáảãạăằắẳẵặâầấẩẫậäåā" },
	{ 'A', "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÄÅĀ" },
	{ 'e', "èéẻẽẹêềếểễệëē" },
	{ 'E', "ÈÉẺẼẸÊỀẾỂỄỆËĒ" },
	{ 'i', "ìíỉĩịîïī" },
	{ 'I', "ÌÍỈĨỊÎÏĪ" },
	{ 'o', "òóỏõọôồốổỗộơờớởỡợöøō" },
	{ 'O', "ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÖØŌ" },
	{ 'u', "ùúủũụưừứửữựûüū" },
	{ 'U', "ÙÚỦŨỤƯỪỨỬỮỰÛÜŪ" },
	{ 'y', "ỳýỷỹỵÿ" },
	{ 'Y', "ỲÝỶỸỴŸ" },
	{ 'd', "đð" },
	{ 'D', "ĐÐ" },
	{ 'c', "ç" },
	{ 'C', "Ç" },
	{ 'n', "ñ" },
	{ 'N', "Ñ" },
};

/* GSM 03.38: the non-ASCII characters of the basic table, and the extension table. */
static const char sms_gsm7_basic[] = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
static const char sms_gsm7_ascii_ext[] = "^{}\\[~]|\f";

/* Encode cp as UTF-8 into buf; returns the number of bytes (1 to 4). */
static size_t
sms_utf8_put(uint32_t cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* 1 if cp occurs in the UTF-8 string set. */
static int
sms_utf8_member(uint32_t cp, const char *set)
{
	const unsigned char *p = (const unsigned char *)set;
	const unsigned char *end = p + strlen(set);

	while (p < end) {
		if (utf8_next(&p, end) == cp)
			return 1;
	}
	return 0;
}

/* The ASCII letter cp folds to, or 0. */
static char
sms_fold_letter(uint32_t cp)
{
	size_t i;

	if (cp < 0xc0 || cp > 0x1fff)
		return 0;
	for (i = 0; i < sizeof sms_fold_letters / sizeof sms_fold_letters[0]; i++) {
		if (sms_utf8_member(cp, sms_fold_letters[i].letters))
			return sms_fold_letters[i].ascii;
	}
	return 0;
}

/* 1 if cp is a combining mark (NFD diacritics and their kin). */
static int
sms_is_combining(uint32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036f) ||
	    (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
	    (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f);
}

/* 1 if cp has no width and no meaning here: zero-width, bidi, BOM, selectors. */
static int
sms_is_invisible(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x034f || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff || (cp >= 0xfe00 && cp <= 0xfe0f);
}

/* 1 if cp is a space other than ASCII's. */
static int
sms_is_space(uint32_t cp)
{
	return cp == 0x00a0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

/* The class of cp and the ASCII character it folds to (CHAR and PUNCT). */
static enum sms_class
sms_char_class(uint32_t cp, char *ascii)
{
	char c;

	*ascii = ' ';
	if (cp == SMS_CP_INVALID) {
		*ascii = '?';
		return SMS_C_CHAR;
	}
	if (cp >= 0xff01 && cp <= 0xff5e) /* full-width ASCII */
		cp -= 0xfee0;
	if (cp < 0x80) {
		if (cp <= 0x20 || cp == 0x7f)
			return SMS_C_SPACE;
		*ascii = (char)cp;
		if (cp == ',' || cp == '.' || cp == '-')
			return SMS_C_PUNCT;
		return SMS_C_CHAR;
	}
	if (cp <= 0x9f || sms_is_space(cp))
		return SMS_C_SPACE;
	if (sms_is_combining(cp) || sms_is_invisible(cp))
		return SMS_C_IGNORE;
	switch (cp) {
	case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
	case 0x2015: case 0x2212: case 0xfe58: case 0xfe63:
		*ascii = '-';
		return SMS_C_PUNCT;
	case 0x3001: case 0xfe50: case 0xff64: case 0x060c:
		*ascii = ',';
		return SMS_C_PUNCT;
	case 0x3002: case 0xfe52: case 0xff61: case 0x2024: case 0x2026:
		*ascii = '.';
		return SMS_C_PUNCT;
	}
	if ((c = sms_fold_letter(cp)) != 0) {
		*ascii = c;
		return SMS_C_CHAR;
	}
	*ascii = '?';
	return SMS_C_CHAR;
}

/* Fold UTF-8 to printable ASCII (see sms.h). */
size_t
sms_text_fold(const char *text, size_t len, char *out, size_t size, int flags)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + len;
	size_t n = 0;
	char c;

	while (p < end) {
		if (sms_char_class(utf8_next(&p, end), &c) == SMS_C_IGNORE)
			continue;
		if (flags & SMS_FOLD_UPPER)
			c = (char)toupper((unsigned char)c);
		if (size > 0 && n < size - 1)
			out[n] = c;
		n++;
	}
	if (size > 0)
		out[n < size - 1 ? n : size - 1] = '\0';
	return n;
}

/* UTF-16BE to UTF-8 (see sms.h). */
char *
sms_text_from_ucs2(const unsigned char *data, size_t len, size_t *outlen)
{
	char *out = xmalloc(len / 2 * 3 + 4);
	size_t i = 0, n = 0;
	uint32_t u, lo;

	while (i + 1 < len) {
		u = (uint32_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < len) {
			lo = (uint32_t)data[i] << 8 | data[i + 1];
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (u >= 0xd800 && u <= 0xdfff)
			u = 0xfffd;
		n += sms_utf8_put(u, out + n);
	}
	if (i < len)
		n += sms_utf8_put(0xfffd, out + n);
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return out;
}

/* GSM-7 septets of s, or -1. */
int
sms_gsm7_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	uint32_t cp;
	int n = 0;

	while (p < end) {
		cp = utf8_next(&p, end);
		if (cp == '\n' || cp == '\r')
			n++;
		else if (cp == '\f' || (cp < 0x80 && cp != 0 &&
		    strchr(sms_gsm7_ascii_ext, (int)cp) != NULL))
			n += 2;
		else if (cp >= 0x20 && cp < 0x7f && cp != '`')
			n++;
		else if (cp == 0x20ac) /* the euro sign, in the extension table */
			n += 2;
		else if (cp >= 0x80 && cp != SMS_CP_INVALID &&
		    sms_utf8_member(cp, sms_gsm7_basic))
			n++;
		else
			return -1;
	}
	return n;
}

/* UTF-16 code units of s, or -1. */
int
sms_ucs2_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	uint32_t cp;
	int n = 0;

	while (p < end) {
		if ((cp = utf8_next(&p, end)) == SMS_CP_INVALID)
			return -1;
		n += cp > 0xffff ? 2 : 1;
	}
	return n;
}

/* ------------------------------------------------------------------------
 * The grammar.
 */

/* A cursor over the message's bytes. */
struct sms_scan {
	const unsigned char *p;
	const unsigned char *end;
};

/* A word as read: its folded text (cut to fit), extent and kind. */
struct sms_word {
	char text[SMS_UNIT_SIZE];
	size_t len;			   /* folded length, may exceed the buffer */
	const unsigned char *start;	   /* first byte */
	const unsigned char *after[SMS_UNIT_SIZE]; /* byte after folded char i */
	int digits;			   /* 1 if every character is an ASCII digit */
};

/* Skip spaces, separators and invisible characters. */
static void
sms_scan_skip(struct sms_scan *s)
{
	const unsigned char *q;
	char c;

	while (s->p < s->end) {
		q = s->p;
		if (sms_char_class(utf8_next(&q, s->end), &c) == SMS_C_CHAR)
			return;
		s->p = q;
	}
}

/*
 * Read a word at the cursor (which is on a CHAR) up to a space or a
 * separator; with keep_dots, dots and dashes belong to the word. Folded to
 * upper case.
 */
static void
sms_scan_word(struct sms_scan *s, int keep_dots, struct sms_word *w)
{
	const unsigned char *q;
	enum sms_class k;
	char c;

	w->len = 0;
	w->start = s->p;
	w->digits = 1;
	while (s->p < s->end) {
		q = s->p;
		k = sms_char_class(utf8_next(&q, s->end), &c);
		if (k == SMS_C_SPACE)
			break;
		if (k == SMS_C_PUNCT && (!keep_dots || c == ','))
			break;
		s->p = q;
		if (k == SMS_C_IGNORE)
			continue;
		if (c < '0' || c > '9')
			w->digits = 0;
		if (w->len < sizeof w->text - 1) {
			w->text[w->len] = (char)toupper((unsigned char)c);
			w->after[w->len] = q;
		}
		w->len++;
	}
	w->text[w->len < sizeof w->text - 1 ? w->len : sizeof w->text - 1] = '\0';
}

/*
 * The value of a word of digits; -1 if it has more than nine, or if it is
 * longer than w->text holds (its digits past the buffer are unknown).
 */
static int
sms_word_value(const struct sms_word *w)
{
	const char *t = w->text;
	size_t n = w->len;
	int v = 0;

	if (n > sizeof w->text - 1)
		return -1;

	while (n > 1 && *t == '0') { /* leading zeros */
		t++;
		n--;
	}
	if (n > 9)
		return -1;
	while (n-- > 0)
		v = v * 10 + (*t++ - '0');
	return v;
}

/* Copy at most size - 1 bytes of s (whole UTF-8 characters) with a NUL. */
static void
sms_copy(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* The comment: the original text from start, controls as spaces, trimmed, cut. */
static void
sms_comment_set(struct sms_parse *out, const unsigned char *start,
    const unsigned char *end)
{
	const unsigned char *p = start, *q;
	size_t n = 0, keep = 0, k;
	char buf[4], c;
	uint32_t cp;
	enum sms_class cls;

	while (p < end) {
		q = p;
		cp = utf8_next(&q, end);
		cls = sms_char_class(cp, &c);
		if (cp == SMS_CP_INVALID)
			k = sms_utf8_put(0xfffd, buf);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			k = sms_utf8_put(' ', buf);
		else {
			k = (size_t)(q - p);
			memcpy(buf, p, k);
		}
		if (n + k > SMS_COMMENT_SIZE - 1) {
			out->comment_truncated = 1;
			break;
		}
		memcpy(out->comment + n, buf, k);
		n += k;
		if (cls != SMS_C_SPACE) /* combining marks stay with their letter */
			keep = n;
		p = q;
	}
	out->comment[keep] = '\0';
}

/* The comment, if a word of text (not digits) begins at the cursor. */
static void
sms_scan_comment(struct sms_scan *s, const struct sms_word *w,
    struct sms_parse *out)
{
	sms_comment_set(out, w->start, s->end);
	s->p = s->end;
}

/* A survey the grammar can serve, its folded keyword in kw. */
static int
sms_survey_usable(const struct survey *sv, char kw[SMS_KEYWORD_SIZE])
{
	size_t n, i;

	if (sv == NULL || sv->sms_keyword == NULL || sv->nsms < 1 ||
	    sv->nsms > SMS_ANSWERS_MAX || sv->sms_items == NULL)
		return 0;
	n = sms_text_fold(sv->sms_keyword, strlen(sv->sms_keyword), kw,
	    SMS_KEYWORD_SIZE, SMS_FOLD_UPPER);
	if (n == 0 || n >= SMS_KEYWORD_SIZE)
		return 0;
	for (i = 0; i < n; i++) {
		if (kw[i] == ' ' || kw[i] == ',' || kw[i] == '.' || kw[i] == '-')
			return 0;
	}
	return 1;
}

/* The scale of SMS item i of sv. */
static const struct scale *
sms_item_scale(const struct survey *sv, int i)
{
	ASSERT(i >= 0 && i < sv->nsms);
	return sv->items[sv->sms_items[i]].scale;
}

/* 1 if every value of every SMS item's scale is one digit. */
static int
sms_survey_single_digit(const struct survey *sv)
{
	const struct scale *sc;
	int i, j;

	for (i = 0; i < sv->nsms; i++) {
		sc = sms_item_scale(sv, i);
		for (j = 0; j < sc->nvalues; j++) {
			if (sc->values[j] < 0 || sc->values[j] > 9)
				return 0;
		}
	}
	return 1;
}

/* Start a parse result. */
static void
sms_parse_init(struct sms_parse *out)
{
	memset(out, 0, sizeof *out);
	out->kind = SMS_ERROR;
	out->error = SMS_ERR_NONE;
	out->dialogue_item = -1;
	out->error_index = -1;
}

/* Mark out as failed with error; returns -1. */
static int
sms_parse_fail(struct sms_parse *out, enum sms_error error)
{
	out->kind = SMS_ERROR;
	out->error = error;
	return -1;
}

/*
 * Resolve the unit word with the caller's catalogue: the whole word, else
 * the longest prefix that ends before a dot or dash followed by a digit (the
 * answers run into the code: BL01.5.4.4.5.3). 0 with out->unit and the
 * cursor after the unit, or -1.
 */
static int
sms_unit_resolve(const struct sms_units *units, struct sms_word *w,
    struct sms_scan *s, struct sms_parse *out)
{
	const char *code;
	char save;
	size_t n;

	if (w->len >= sizeof w->text)
		return -1;
	if ((code = units->find(units->arg, w->text)) != NULL)
		goto found;
	for (n = w->len - 1; n > 0; n--) { /* w->text[n]: the separator */
		if ((w->text[n] != '.' && w->text[n] != '-') ||
		    w->text[n - 1] == '.' || w->text[n - 1] == '-' ||
		    w->text[n + 1] < '0' || w->text[n + 1] > '9')
			continue;
		save = w->text[n];
		w->text[n] = '\0';
		code = units->find(units->arg, w->text);
		w->text[n] = save;
		if (code != NULL) {
			s->p = w->after[n - 1];
			goto found;
		}
	}
	return -1;
found:
	if (strlen(code) >= sizeof out->unit)
		return -1;
	sms_copy(out->unit, sizeof out->unit, code);
	return 0;
}

/* Parse one message (see sms.h). */
int
sms_message_parse(const char *text, size_t len,
    const struct survey *const *surveys, int nsurveys,
    const struct sms_units *units, struct sms_parse *out)
{
	struct sms_scan s;
	struct sms_word w;
	const struct survey *sv = NULL;
	char kw[SMS_KEYWORD_SIZE], tokens[SMS_ANSWERS_MAX][SMS_TOKEN_SIZE];
	char first[SMS_UNIT_SIZE];
	size_t first_len = 0;
	int i, n = 0, values[SMS_ANSWERS_MAX];
	const struct scale *sc;

	sms_parse_init(out);
	s.p = (const unsigned char *)text;
	s.end = s.p + (text == NULL ? 0 : len);

	/* The keyword. */
	sms_scan_skip(&s);
	if (s.p == s.end)
		return sms_parse_fail(out, SMS_ERR_EMPTY);
	sms_scan_word(&s, 0, &w);
	sms_copy(out->keyword, sizeof out->keyword, w.text);
	sms_copy(out->token, sizeof out->token, w.text);
	for (i = 0; i < nsurveys && w.len < SMS_KEYWORD_SIZE; i++) {
		if (sms_survey_usable(surveys[i], kw) && strcmp(kw, w.text) == 0) {
			sv = surveys[i];
			break;
		}
	}
	if (sv == NULL)
		return sms_parse_fail(out, SMS_ERR_KEYWORD);
	out->survey = sv;
	out->token[0] = '\0';

	/* The unit: up to a space or a comma, a trailing dot or dash dropped. */
	sms_scan_skip(&s);
	if (s.p == s.end)
		return sms_parse_fail(out, SMS_ERR_UNIT_MISSING);
	sms_scan_word(&s, 1, &w);
	while (w.len > 0 && w.len < sizeof w.text &&
	    (w.text[w.len - 1] == '.' || w.text[w.len - 1] == '-')) {
		w.text[--w.len] = '\0';
		if (w.len > 0)
			s.p = w.after[w.len - 1];
	}
	sms_copy(out->unit, sizeof out->unit, w.text);
	if (w.len >= sizeof w.text)
		return sms_parse_fail(out, SMS_ERR_UNIT_UNKNOWN);
	if (units != NULL && units->find != NULL &&
	    sms_unit_resolve(units, &w, &s, out) != 0)
		return sms_parse_fail(out, SMS_ERR_UNIT_UNKNOWN);

	/* The answers, up to the first word that is not digits. */
	for (;;) {
		sms_scan_skip(&s);
		if (s.p == s.end)
			break;
		sms_scan_word(&s, 0, &w);
		if (!w.digits) {
			sms_scan_comment(&s, &w, out);
			break;
		}
		if (n == 0) {
			memcpy(first, w.text, sizeof first);
			first_len = w.len;
		}
		if (n < SMS_ANSWERS_MAX) {
			values[n] = sms_word_value(&w);
			sms_copy(tokens[n], sizeof tokens[n], w.text);
		}
		n++;
	}
	if (n == 0 && out->comment[0] == '\0') {
		out->kind = SMS_DIALOGUE_START;
		return 0;
	}

	/* One run of digits, one digit per answer. */
	if (n == 1 && sv->nsms > 1 && first_len > 1 &&
	    sms_survey_single_digit(sv)) {
		size_t k;

		/* first holds SMS_UNIT_SIZE - 1 >= SMS_ANSWERS_MAX digits. */
		out->compact = 1;
		for (k = 0; k < first_len && k < SMS_ANSWERS_MAX; k++) {
			values[k] = first[k] - '0';
			tokens[k][0] = first[k];
			tokens[k][1] = '\0';
		}
		n = first_len > 999999 ? 999999 : (int)first_len;
	}
	out->nanswers = n;
	if (n != sv->nsms)
		return sms_parse_fail(out, SMS_ERR_COUNT);
	for (i = 0; i < n; i++) {
		sc = sms_item_scale(sv, i);
		if (values[i] < 0 || !scale_has(sc, values[i])) {
			out->error_index = i;
			sms_copy(out->token, sizeof out->token, tokens[i]);
			return sms_parse_fail(out, SMS_ERR_RANGE);
		}
		out->answers[i] = values[i];
	}
	out->kind = SMS_ANSWERS;
	return 0;
}

/* Parse a dialogue reply (see sms.h). */
int
sms_dialogue_parse(const char *text, size_t len, const struct survey *sv,
    int item, struct sms_parse *out)
{
	struct sms_scan s;
	struct sms_word w;
	int n = 0, v = -1;

	ASSERT(sv != NULL && item >= 0 && item < sv->nsms);
	sms_parse_init(out);
	out->survey = sv;
	out->dialogue_item = item;
	s.p = (const unsigned char *)text;
	s.end = s.p + (text == NULL ? 0 : len);

	for (;;) {
		sms_scan_skip(&s);
		if (s.p == s.end)
			break;
		sms_scan_word(&s, 0, &w);
		if (!w.digits) {
			sms_scan_comment(&s, &w, out);
			break;
		}
		if (n++ == 0) {
			v = sms_word_value(&w);
			sms_copy(out->token, sizeof out->token, w.text);
		}
	}
	out->nanswers = n;
	if (n == 0 && out->comment[0] == '\0')
		return sms_parse_fail(out, SMS_ERR_EMPTY);
	if (n != 1)
		return sms_parse_fail(out, SMS_ERR_COUNT);
	if (v < 0 || !scale_has(sms_item_scale(sv, item), v)) {
		out->error_index = item;
		return sms_parse_fail(out, SMS_ERR_RANGE);
	}
	out->token[0] = '\0';
	out->answers[0] = v;
	out->kind = SMS_ANSWERS;
	return 0;
}

/* The outcome's stable name, for the raw message log. */
const char *
sms_parse_outcome(const struct sms_parse *p)
{
	switch (p->kind) {
	case SMS_ANSWERS:
		return p->dialogue_item >= 0 ? "dialogue-answer" : "answers";
	case SMS_DIALOGUE_START:
		return "dialogue-start";
	case SMS_ERROR:
		break;
	}
	switch (p->error) {
	case SMS_ERR_NONE:
		break;
	case SMS_ERR_EMPTY:
		return "empty";
	case SMS_ERR_KEYWORD:
		return "unknown-keyword";
	case SMS_ERR_UNIT_MISSING:
		return "missing-unit";
	case SMS_ERR_UNIT_UNKNOWN:
		return "unknown-unit";
	case SMS_ERR_COUNT:
		return "answer-count";
	case SMS_ERR_RANGE:
		return "answer-range";
	}
	return "error";
}

/* A response for the full set of answers in p. */
struct response *
sms_parse_response_create(const struct sms_parse *p)
{
	const struct survey *sv = p->survey;
	struct response *r;
	int i;

	ASSERT(p->kind == SMS_ANSWERS && p->dialogue_item < 0 && sv != NULL);
	ASSERT(p->nanswers == sv->nsms);
	r = response_create(sv);
	r->unit = xstrdup(p->unit);
	r->channel = CHANNEL_SMS;
	for (i = 0; i < sv->nsms; i++)
		r->answers[sv->sms_items[i]] = p->answers[i];
	return r;
}

/* ------------------------------------------------------------------------
 * Replies. Texts are written once, in Vietnamese with diacritics, and
 * folded for GSM-7. A reply is built from fixed parts, which always fit,
 * and variable parts, which are cut to what the parts after them leave.
 */

/* A reply being built. */
struct sms_reply {
	enum sms_coding coding;
	char *out;  /* SMS_REPLY_SIZE bytes */
	size_t len; /* bytes used */
	int used;   /* septets or UTF-16 units used */
	int max;    /* SMS_GSM7_MAX or SMS_UCS2_MAX */
};

/* One character of reply: its bytes in buf (*n), its cost; 0 if dropped. */
static int
sms_reply_char(enum sms_coding coding, uint32_t cp, char buf[4], size_t *n)
{
	char c;

	*n = 0;
	if (coding == SMS_CODING_GSM7) {
		switch (sms_char_class(cp, &c)) {
		case SMS_C_IGNORE:
			return 0;
		case SMS_C_SPACE:
			c = ' ';
			break;
		default:
			break;
		}
		if (c == '`')
			c = '\'';
		buf[0] = c;
		*n = 1;
		return strchr(sms_gsm7_ascii_ext, c) != NULL ? 2 : 1;
	}
	if (sms_is_invisible(cp))
		return 0;
	if (cp == SMS_CP_INVALID || cp > 0xffff)
		cp = '?';
	else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    sms_is_space(cp))
		cp = ' ';
	*n = sms_utf8_put(cp, buf);
	return 1;
}

/* The cost of s in coding. */
static int
sms_reply_cost(enum sms_coding coding, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	char buf[4];
	size_t n;
	int cost = 0;

	while (p < end)
		cost += sms_reply_char(coding, utf8_next(&p, end), buf, &n);
	return cost;
}

/* Start an empty reply into out. */
static void
sms_reply_init(struct sms_reply *r, enum sms_coding coding, char *out)
{
	r->coding = coding;
	r->out = out;
	r->len = 0;
	r->used = 0;
	r->max = coding == SMS_CODING_UCS2 ? SMS_UCS2_MAX : SMS_GSM7_MAX;
	out[0] = '\0';
}

/*
 * Append s while the cost stays within limit; 1 if all of it fit. A base
 * letter whose combining marks do not fit goes too.
 */
static int
sms_reply_put(struct sms_reply *r, const char *s, int limit)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	size_t n, base_len = r->len;
	int cost, base_used = r->used;
	uint32_t cp;
	char buf[4];

	if (limit > r->max)
		limit = r->max;
	while (p < end) {
		cp = utf8_next(&p, end);
		cost = sms_reply_char(r->coding, cp, buf, &n);
		if (r->used + cost > limit || r->len + n >= SMS_REPLY_SIZE) {
			if (sms_is_combining(cp)) {
				r->len = base_len;
				r->used = base_used;
			}
			r->out[r->len] = '\0';
			return 0;
		}
		if (!sms_is_combining(cp)) {
			base_len = r->len;
			base_used = r->used;
		}
		memcpy(r->out + r->len, buf, n);
		r->len += n;
		r->used += cost;
	}
	r->out[r->len] = '\0';
	return 1;
}

/* Append a fixed part. */
static void
sms_reply_add(struct sms_reply *r, const char *s)
{
	sms_reply_put(r, s, r->max);
}

/* Append a formatted fixed part. */
static void __attribute__((format(printf, 2, 3)))
sms_reply_addf(struct sms_reply *r, const char *fmt, ...)
{
	char buf[SMS_REPLY_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sms_reply_add(r, buf);
}

/*
 * Append a variable part, cut with an ellipsis to leave reserve for what
 * follows; 1 if it was cut.
 */
static int
sms_reply_fit(struct sms_reply *r, const char *s, int reserve)
{
	const char *ellipsis = r->coding == SMS_CODING_UCS2 ? "…" : "...";
	int limit = r->max - reserve, ecost;
	size_t start = r->len, sp;

	if (r->used + sms_reply_cost(r->coding, s) <= limit) {
		sms_reply_add(r, s);
		return 0;
	}
	ecost = sms_reply_cost(r->coding, ellipsis);
	if (r->used + ecost > limit)
		return 1;
	sms_reply_put(r, s, limit - ecost);
	/* Back to the last space: a word, not a long run such as digits. */
	for (sp = r->len; sp > start && r->out[sp - 1] != ' '; sp--)
		;
	if (sp > start && sp - start > (r->len - start) / 2 &&
	    r->len - sp <= 16) {
		r->used -= sms_reply_cost(r->coding, r->out + sp);
		r->len = sp;
		r->out[sp] = '\0';
	}
	while (r->len > start && (r->out[r->len - 1] == ' ' ||
	    r->out[r->len - 1] == ',' || r->out[r->len - 1] == '.')) {
		r->len--;
		r->used--;
	}
	r->out[r->len] = '\0';
	sms_reply_put(r, ellipsis, limit);
	return 1;
}

/*
 * Append variable s, then fixed tail, cutting s so that tail fits; a tail's
 * leading full stop goes after an ellipsis.
 */
static void
sms_reply_fit_tail(struct sms_reply *r, const char *s, const char *tail)
{
	if (sms_reply_fit(r, s, sms_reply_cost(r->coding, tail)) &&
	    tail[0] == '.')
		tail++;
	sms_reply_add(r, tail);
}

/* Echo what the sender typed: folded for GSM-7, at most max characters. */
static void
sms_echo_text(enum sms_coding coding, const char *text, int max, char *buf,
    size_t size)
{
	struct sms_reply r;
	char tmp[SMS_REPLY_SIZE];

	ASSERT(size >= SMS_REPLY_SIZE && max < SMS_UCS2_MAX);
	sms_reply_init(&r, coding, tmp);
	r.max = max;
	sms_reply_fit(&r, text, 0);
	memcpy(buf, tmp, r.len + 1);
}

/* The allowed values of sc as text: "1-5" if contiguous, else "0,1,3". */
static void
sms_scale_text(const struct scale *sc, char *buf, size_t size)
{
	size_t n = 0;
	int i, r;

	buf[0] = '\0';
	if (sc->nvalues == 0)
		return;
	if (sc->values[sc->nvalues - 1] - sc->values[0] == sc->nvalues - 1) {
		if (sc->nvalues == 1)
			snprintf(buf, size, "%d", sc->values[0]);
		else
			snprintf(buf, size, "%d-%d", sc->values[0],
			    sc->values[sc->nvalues - 1]);
		return;
	}
	for (i = 0; i < sc->nvalues; i++) {
		r = snprintf(buf + n, size - n, "%s%d", i ? "," : "",
		    sc->values[i]);
		if (r < 0 || (size_t)r >= size - n) {
			buf[n] = '\0';
			return;
		}
		n += r;
	}
}

/* 1 if sc's values are contiguous. */
static int
sms_scale_contiguous(const struct scale *sc)
{
	return sc->nvalues > 0 &&
	    sc->values[sc->nvalues - 1] - sc->values[0] == sc->nvalues - 1;
}

/* The common scale of sv's SMS items (same values), or NULL. */
static const struct scale *
sms_survey_scale(const struct survey *sv)
{
	const struct scale *sc = sms_item_scale(sv, 0), *o;
	int i;

	for (i = 1; i < sv->nsms; i++) {
		o = sms_item_scale(sv, i);
		if (o != sc && (o->nvalues != sc->nvalues ||
		    memcmp(o->values, sc->values,
		    sc->nvalues * sizeof *sc->values) != 0))
			return NULL;
	}
	return sc;
}

/*
 * What the answers must be: "5 số từ 1 đến 5", "3 số trong 0,1,3", or with
 * different scales "3 số (câu 1: 1-5, câu 2: 0-1, ...)"; short: "5 số".
 */
static void
sms_need_text(const struct survey *sv, int brief, char *buf, size_t size)
{
	const struct scale *sc = sms_survey_scale(sv);
	char range[48];
	size_t n;
	int i;

	if (brief) {
		snprintf(buf, size, "%d số", sv->nsms);
		return;
	}
	if (sc != NULL) {
		sms_scale_text(sc, range, sizeof range);
		if (sms_scale_contiguous(sc) && sc->nvalues > 1)
			snprintf(buf, size, "%d số từ %d đến %d", sv->nsms,
			    sc->values[0], sc->values[sc->nvalues - 1]);
		else
			snprintf(buf, size, "%d số trong %s", sv->nsms, range);
		return;
	}
	n = (size_t)snprintf(buf, size, "%d số (", sv->nsms);
	for (i = 0; i < sv->nsms && n < size; i++) {
		sms_scale_text(sms_item_scale(sv, i), range, sizeof range);
		n += (size_t)snprintf(buf + n, size - n, "%scâu %d: %s",
		    i ? ", " : "", i + 1, range);
	}
	if (n < size)
		snprintf(buf + n, size - n, ")");
}

/*
 * An example message for sv: keyword, unit (or a placeholder when NULL or
 * long) and plausible answers (5 4 4 5 3 on a 1-5 scale), run together when
 * compact and every value is one digit.
 */
static void
sms_example_text(const struct survey *sv, const char *unit, int compact,
    char *buf, size_t size)
{
	static const int pattern[] = { 0, 1, 1, 0, 2 };
	const struct scale *sc;
	size_t n;
	int i, k, sep;

	if (unit == NULL || *unit == '\0' || strlen(unit) > 20)
		unit = "<mã đơn vị>";
	n = (size_t)snprintf(buf, size, "%s %s", sv->sms_keyword, unit);
	sep = !(compact && sms_survey_single_digit(sv));
	for (i = 0; i < sv->nsms && n < size; i++) {
		sc = sms_item_scale(sv, i);
		k = sc->nvalues - 1 - pattern[i % 5];
		if (k < 0)
			k = 0;
		n += (size_t)snprintf(buf + n, size - n, "%s%d",
		    sep || i == 0 ? " " : "", sc->nvalues ? sc->values[k] : 0);
	}
}

/* The keywords of the usable surveys, "HL, KS, MC", each once. */
static void
sms_keyword_list(const struct survey *const *surveys, int nsurveys,
    char *buf, size_t size)
{
	char kw[SMS_KEYWORD_SIZE], prev[SMS_KEYWORD_SIZE];
	size_t n = 0;
	int i, j, dup;

	buf[0] = '\0';
	for (i = 0; i < nsurveys && n < size; i++) {
		if (!sms_survey_usable(surveys[i], kw))
			continue;
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = sms_survey_usable(surveys[j], prev) &&
			    strcmp(prev, kw) == 0;
		if (!dup)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
			    n ? ", " : "", surveys[i]->sms_keyword);
	}
}

/* The first usable survey, for examples; NULL if none. */
static const struct survey *
sms_survey_first(const struct survey *const *surveys, int nsurveys)
{
	char kw[SMS_KEYWORD_SIZE];
	int i;

	for (i = 0; i < nsurveys; i++) {
		if (sms_survey_usable(surveys[i], kw))
			return surveys[i];
	}
	return NULL;
}

/* Thank-you (see sms.h). */
void
sms_reply_thanks(enum sms_coding coding, const char *unit_name,
    char out[SMS_REPLY_SIZE])
{
	struct sms_reply r;
	int ucs2 = coding == SMS_CODING_UCS2;

	sms_reply_init(&r, coding, out);
	if (unit_name == NULL || *unit_name == '\0') {
		sms_reply_add(&r, ucs2 ? "Cảm ơn ông/bà đã trả lời khảo sát!" :
		    "Cảm ơn ông/bà đã trả lời khảo sát. "
		    "Ý kiến của ông/bà đã được ghi nhận.");
		return;
	}
	sms_reply_add(&r, "Cảm ơn ông/bà đã đánh giá ");
	sms_reply_fit_tail(&r, unit_name, ucs2 ? ". Đã ghi nhận!" :
	    ". Ý kiến của ông/bà đã được ghi nhận.");
}

/* The sender already answered for this unit in this period (see sms.h). */
void
sms_reply_limit(enum sms_coding coding, const char *unit_name,
    const char *period, char out[SMS_REPLY_SIZE])
{
	static const char *const names[][2] = {
		{ "day", "hôm nay" }, { "week", "tuần này" },
		{ "month", "tháng này" }, { "quarter", "quý này" },
		{ "year", "năm nay" },
	};
	const char *when = "kỳ này";
	char tail[SMS_REPLY_SIZE];
	struct sms_reply r;
	size_t i;

	for (i = 0; period != NULL && i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(names[i][0], period) == 0)
			when = names[i][1];
	}
	sms_reply_init(&r, coding, out);
	if (coding == SMS_CODING_UCS2) {
		sms_reply_add(&r, "Số này đã đánh giá ");
		snprintf(tail, sizeof tail, " %s. Cảm ơn!", when);
	} else {
		sms_reply_add(&r, "So dien thoai nay da danh gia ");
		snprintf(tail, sizeof tail, " trong %s. Moi so chi gui 1 danh gia cho "
		    "moi don vi moi %s. Cam on ong/ba!", when,
		    period != NULL && strcmp(period, "day") == 0 ? "ngay" :
		    period != NULL && strcmp(period, "week") == 0 ? "tuan" :
		    period != NULL && strcmp(period, "quarter") == 0 ? "quy" :
		    period != NULL && strcmp(period, "year") == 0 ? "nam" :
		    "thang");
	}
	sms_reply_fit_tail(&r, unit_name != NULL ? unit_name : "", tail);
}

/* The question of SMS item i: "Câu 2/5: text. Trả lời ..." */
static void
sms_reply_question_add(struct sms_reply *r, const struct survey *sv, int i)
{
	const struct item *it = &sv->items[sv->sms_items[i]];
	const struct scale *sc = it->scale;
	const char *text = it->text_vi != NULL ? it->text_vi : it->code;
	char range[48], tail[SMS_REPLY_SIZE], last;
	int lo = 0, hi = sc->nvalues - 1, room, cut;

	sms_scale_text(sc, range, sizeof range);
	sms_reply_addf(r, "Câu %d/%d: ", i + 1, sv->nsms);
	if (r->coding == SMS_CODING_UCS2)
		snprintf(tail, sizeof tail, " Trả lời %s", range);
	else if (sms_scale_contiguous(sc) && hi > lo) {
		snprintf(tail, sizeof tail, " Trả lời một số từ %d (%s) đến %d (%s)",
		    sc->values[lo], sc->labels_vi ? sc->labels_vi[lo] : "",
		    sc->values[hi], sc->labels_vi ? sc->labels_vi[hi] : "");
		/* Labels only if the question text keeps 60 characters. */
		room = r->max - r->used - sms_reply_cost(r->coding, tail);
		if (sc->labels_vi == NULL ||
		    (room < 60 && room < sms_reply_cost(r->coding, text) + 1))
			snprintf(tail, sizeof tail, " Trả lời một số từ %d đến %d",
			    sc->values[lo], sc->values[hi]);
	} else
		snprintf(tail, sizeof tail, " Trả lời một số trong %s", range);
	cut = sms_reply_fit(r, text, sms_reply_cost(r->coding, tail) + 1);
	last = r->len > 0 ? r->out[r->len - 1] : ' ';
	if (!cut && last != '.' && last != '?' && last != '!')
		sms_reply_add(r, ".");
	sms_reply_add(r, tail);
}

/* Dialogue question (see sms.h). */
void
sms_reply_question(enum sms_coding coding, const struct survey *sv, int item,
    char out[SMS_REPLY_SIZE])
{
	struct sms_reply r;

	ASSERT(sv != NULL && item >= 0 && item < sv->nsms);
	sms_reply_init(&r, coding, out);
	sms_reply_question_add(&r, sv, item);
}

/* "Không có đơn vị mã "X". ..." */
static void
sms_reply_unit_add(struct sms_reply *r, const struct survey *sv,
    const char *unit)
{
	char echo[SMS_REPLY_SIZE], ex[SMS_REPLY_SIZE];
	int ucs2 = r->coding == SMS_CODING_UCS2;

	sms_echo_text(r->coding, unit, ucs2 ? 12 : 20, echo, sizeof echo);
	sms_reply_addf(r, ucs2 ? "Không có đơn vị \"%s\". Soạn: " :
	    "Không có đơn vị mã \"%s\". Xem mã trên giấy hẹn, soạn: ", echo);
	sms_example_text(sv, NULL, ucs2, ex, sizeof ex);
	sms_reply_fit(r, ex, 0);
}

/* Unknown unit (see sms.h). */
void
sms_reply_unit_unknown(enum sms_coding coding, const struct survey *sv,
    const char *unit, char out[SMS_REPLY_SIZE])
{
	struct sms_reply r;

	ASSERT(sv != NULL && sv->nsms > 0);
	sms_reply_init(&r, coding, out);
	sms_reply_unit_add(&r, sv, unit != NULL ? unit : "");
}

/* A dialogue reply that was not one number on the scale. */
static void
sms_reply_dialogue_error(struct sms_reply *r, const struct sms_parse *p)
{
	const struct survey *sv = p->survey;
	char echo[SMS_TOKEN_SIZE];

	switch (p->error) {
	case SMS_ERR_RANGE:
		sms_text_fold(p->token, strlen(p->token), echo, 11, 0);
		sms_reply_addf(r, "\"%s\" không hợp lệ. ", echo);
		break;
	case SMS_ERR_COUNT:
		if (p->nanswers == 0)
			sms_reply_add(r, "Chưa có số trả lời. ");
		else
			sms_reply_addf(r, "Chỉ gửi 1 số, nhận được %d. ",
			    p->nanswers > 99 ? 99 : p->nanswers);
		break;
	default:
		sms_reply_add(r, "Chưa có câu trả lời. ");
		break;
	}
	sms_reply_question_add(r, sv, p->dialogue_item);
}

/* Error reply (see sms.h). */
void
sms_reply_error(enum sms_coding coding, const struct sms_parse *p,
    const struct survey *const *surveys, int nsurveys,
    char out[SMS_REPLY_SIZE])
{
	const struct survey *sv = p->survey;
	char ex[SMS_REPLY_SIZE], list[SMS_REPLY_SIZE], need[SMS_REPLY_SIZE];
	char echo[SMS_TOKEN_SIZE], range[48], tail[2 * SMS_REPLY_SIZE];
	int ucs2 = coding == SMS_CODING_UCS2;
	struct sms_reply r;

	sms_reply_init(&r, coding, out);
	if (p->dialogue_item >= 0 && sv != NULL) {
		sms_reply_dialogue_error(&r, p);
		return;
	}
	if (sv == NULL)
		sv = sms_survey_first(surveys, nsurveys);
	sms_keyword_list(surveys, nsurveys, list, sizeof list);
	if (sv == NULL) {
		sms_reply_add(&r, p->error == SMS_ERR_EMPTY ? "Tin nhắn trống. " : "");
		sms_reply_add(&r, "Hiện không nhận khảo sát qua SMS.");
		return;
	}

	switch (p->error) {
	case SMS_ERR_NONE:
	case SMS_ERR_EMPTY:
		sms_example_text(sv, NULL, ucs2, ex, sizeof ex);
		if (ucs2) {
			sms_reply_add(&r, "Tin nhắn trống. Soạn: ");
			sms_reply_fit(&r, ex, 0);
			snprintf(tail, sizeof tail, ". Từ khóa: %s", list);
			sms_reply_fit(&r, tail, 0);
			break;
		}
		sms_reply_add(&r, "Tin nhắn trống. Soạn: <từ khóa> <mã đơn vị> "
		    "<các số trả lời>, ví dụ: ");
		sms_reply_fit_tail(&r, ex, ". Từ khóa: ");
		sms_reply_fit(&r, list, 0);
		break;
	case SMS_ERR_KEYWORD:
		sms_text_fold(p->token, strlen(p->token), echo, ucs2 ? 11 : 17, 0);
		if (ucs2) {
			sms_reply_addf(&r, "Sai từ khóa \"%s\". Dùng: ", echo);
			sms_reply_fit(&r, list, 0);
			break;
		}
		sms_reply_addf(&r, "Từ khóa \"%s\" không đúng. Soạn: <từ khóa> "
		    "<mã đơn vị> <các số trả lời>. Từ khóa: ", echo);
		sms_example_text(sv, NULL, 0, ex, sizeof ex);
		snprintf(tail, sizeof tail, ". Ví dụ: %s", ex);
		/* The list first; the example if it still fits. */
		sms_reply_fit(&r, list, 0);
		if (r.used + sms_reply_cost(coding, tail) <= r.max)
			sms_reply_add(&r, tail);
		break;
	case SMS_ERR_UNIT_MISSING:
		sms_example_text(sv, NULL, ucs2, ex, sizeof ex);
		sms_reply_add(&r, "Thiếu mã đơn vị. Soạn: ");
		if (ucs2) {
			sms_reply_fit(&r, ex, 0);
			break;
		}
		sms_need_text(sv, 0, need, sizeof need);
		sms_reply_fit(&r, ex, 0);
		snprintf(tail, sizeof tail, " (%s). Mã đơn vị in trên giấy hẹn.", need);
		if (r.used + sms_reply_cost(coding, tail) <= r.max)
			sms_reply_add(&r, tail);
		break;
	case SMS_ERR_UNIT_UNKNOWN:
		sms_reply_unit_add(&r, sv, p->unit);
		break;
	case SMS_ERR_COUNT:
		/* The count is what matters: the ranges go if the example needs room. */
		sms_example_text(sv, p->unit, ucs2, ex, sizeof ex);
		snprintf(tail, sizeof tail, ", nhận được %d. Soạn: ",
		    p->nanswers > 999 ? 999 : p->nanswers);
		sms_reply_add(&r, ucs2 ? "Cần " : "Sai số câu trả lời: cần ");
		sms_need_text(sv, 0, need, sizeof need);
		if (r.used + sms_reply_cost(coding, need) +
		    sms_reply_cost(coding, tail) + sms_reply_cost(coding, ex) >
		    r.max)
			sms_need_text(sv, 1, need, sizeof need);
		sms_reply_add(&r, need);
		sms_reply_add(&r, tail);
		sms_reply_fit(&r, ex, 0);
		if (!ucs2 && r.used + 24 <= r.max)
			sms_reply_add(&r, ". Góp ý ghi sau các số.");
		break;
	case SMS_ERR_RANGE:
		ASSERT(p->error_index >= 0 && p->error_index < sv->nsms);
		sms_scale_text(sms_item_scale(sv, p->error_index), range,
		    sizeof range);
		sms_text_fold(p->token, strlen(p->token), echo, ucs2 ? 11 : 17, 0);
		sms_example_text(sv, p->unit, ucs2, ex, sizeof ex);
		sms_reply_addf(&r, "Câu %d: %s không hợp lệ, chọn ",
		    p->error_index + 1, echo);
		sms_reply_fit_tail(&r, range, ". Soạn lại: ");
		sms_reply_fit(&r, ex, 0);
		break;
	}
}

/* ------------------------------------------------------------------------
 * Gateways' signatures and phone numbers.
 */

/* qsort: parameters by name, then value, bytewise. */
static int
sms_param_cmp(const void *a, const void *b)
{
	const struct sms_param *pa = *(const struct sms_param *const *)a;
	const struct sms_param *pb = *(const struct sms_param *const *)b;
	int c;

	if ((c = strcmp(pa->name, pb->name)) != 0)
		return c;
	return strcmp(pa->value != NULL ? pa->value : "",
	    pb->value != NULL ? pb->value : "");
}

/* Twilio's signature (see sms.h). */
int
sms_twilio_signature(const char *auth_token, const char *url,
    const struct sms_param *params, int nparams,
    char out[SMS_SIGNATURE_SIZE], char **cause)
{
	const struct sms_param **sorted = NULL;
	const char *v;
	char *msg = NULL;
	size_t len, n;
	int i, rc = -1;

	if (auth_token == NULL || *auth_token == '\0') {
		*cause = xstrdup("no Twilio auth token");
		return -1;
	}
	len = strlen(url) + 1;
	if (nparams > 0)
		sorted = xreallocarray(NULL, nparams, sizeof *sorted);
	for (i = 0; i < nparams; i++) {
		ASSERT(params[i].name != NULL);
		sorted[i] = &params[i];
		len += strlen(params[i].name) +
		    (params[i].value ? strlen(params[i].value) : 0);
	}
	if (nparams > 1)
		qsort(sorted, nparams, sizeof *sorted, sms_param_cmp);
	msg = xmalloc(len);
	n = strlen(url);
	memcpy(msg, url, n);
	for (i = 0; i < nparams; i++) {
		if (i > 0 && sms_param_cmp(&sorted[i - 1], &sorted[i]) == 0)
			continue;
		v = sorted[i]->value != NULL ? sorted[i]->value : "";
		memcpy(msg + n, sorted[i]->name, strlen(sorted[i]->name));
		n += strlen(sorted[i]->name);
		memcpy(msg + n, v, strlen(v));
		n += strlen(v);
	}
	ASSERT(n < len);
	if (hmac_sha1_base64(auth_token, strlen(auth_token), msg, n, out,
	    cause) != 0)
		goto out;
	rc = 0;
out:
	free(msg);
	free(sorted);
	return rc;
}

/* Constant-time signature comparison. */
int
sms_signature_equal(const char *a, const char *b)
{
	return hmac_equal(a, b);
}

/* One form for a phone number (see sms.h). */
int
sms_phone_normalize(const char *phone, char out[SMS_PHONE_SIZE], char **cause)
{
	char buf[SMS_PHONE_SIZE - 3]; /* room for +84 in out */
	const char *d = buf;
	size_t n = 0;
	int plus = 0, alpha = 0;
	unsigned char c;

	for (; phone != NULL && *phone != '\0'; phone++) {
		c = (unsigned char)*phone;
		if (c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' ||
		    c == ')')
			continue;
		if (c == '+' && n == 0 && !plus) {
			plus = 1;
			continue;
		}
		if (isalpha(c)) {
			alpha = 1;
			c = (unsigned char)toupper(c);
		} else if (!isdigit(c)) {
			*cause = xstrdup("phone number has a character that is "
			    "not a digit, a letter or a separator");
			return -1;
		}
		if (n >= sizeof buf - 1) {
			*cause = xstrdup("phone number too long");
			return -1;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (n == 0) {
		*cause = xstrdup("empty phone number");
		return -1;
	}
	if (alpha) { /* an alphanumeric sender id */
		if (plus) {
			*cause = xstrdup("phone number has a + and letters");
			return -1;
		}
		memcpy(out, buf, n + 1);
		return 0;
	}
	if (!plus && n > 2 && buf[0] == '0' && buf[1] == '0') {
		plus = 1;
		d += 2;
		n -= 2;
	}
	if (plus && strncmp(d, "840", 3) == 0 && (n == 12 || n == 13))
		snprintf(out, SMS_PHONE_SIZE, "+84%s", d + 3);
	else if (plus)
		snprintf(out, SMS_PHONE_SIZE, "+%s", d);
	else if (strncmp(d, "84", 2) == 0 && (n == 11 || n == 12))
		snprintf(out, SMS_PHONE_SIZE, "+%s", d);
	else if (d[0] == '0' && (n == 10 || n == 11))
		snprintf(out, SMS_PHONE_SIZE, "+84%s", d + 1);
	else
		snprintf(out, SMS_PHONE_SIZE, "%s", d);
	return 0;
}

/* Keyed hash of a phone number (see sms.h). */
int
sms_phone_hash(const char *secret, const char *phone,
    char out[SMS_PHONE_HASH_SIZE], char **cause)
{
	char norm[SMS_PHONE_SIZE];

	if (secret == NULL || *secret == '\0') {
		*cause = xstrdup("no secret for the phone number hash");
		return -1;
	}
	if (sms_phone_normalize(phone, norm, cause) != 0)
		return -1;
	return hmac_sha256_hex(secret, strlen(secret), norm, strlen(norm), out,
	    cause);
}

/* A phone number for logs (see sms.h). */
void
sms_phone_mask(const char *phone, char out[SMS_PHONE_SIZE])
{
	char norm[SMS_PHONE_SIZE], *cause = NULL;
	size_t n;

	if (sms_phone_normalize(phone, norm, &cause) != 0) {
		free(cause);
		snprintf(out, SMS_PHONE_SIZE, "***");
		return;
	}
	n = strlen(norm);
	if (n >= 8)
		snprintf(out, SMS_PHONE_SIZE, "%.3s*****%s", norm, norm + n - 3);
	else if (n >= 4)
		snprintf(out, SMS_PHONE_SIZE, "***%s", norm + n - 2);
	else
		snprintf(out, SMS_PHONE_SIZE, "***");
}

/* A number citizens can text (see sms.h). */
int
sms_number_check(const char *number, char **cause)
{
	const char *p = number;
	int digits = 0;

	if (*p == '+')
		p++;
	for (; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if ((*p != ' ' && *p != '.' && *p != '-') || digits == 0) {
			xasprintf(cause, "'%s' is not a phone number (digits, an "
			    "optional leading +, spaces, dots or dashes)", number);
			return -1;
		}
	}
	if (digits < 3 || digits > 20) {
		xasprintf(cause, "'%s' is not a phone number (3 to 20 digits)",
		    number);
		return -1;
	}
	return 0;
}
