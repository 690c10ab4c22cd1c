/*
 * sms.h: the SMS channel's pure core (docs/interfaces.md, "SMS grammar"):
 * the grammar
 * `<KEYWORD> <UNIT> <ANSWERS> [comment]`, the dialogue's one-answer replies,
 * the reply texts (one SMS each), Twilio's request signature and the keyed
 * hash of phone numbers. No I/O, no event loop, no database: the gateway
 * adapters in daemon/ call this and decide what to store and send.
 *
 * Text comes in as bytes that should be UTF-8 (Kannel's mo-recode turns
 * UCS-2 into UTF-8; sms_text_from_ucs2 does it otherwise); invalid bytes,
 * NULs and control characters are tolerated and never crash or read past
 * len. Keyword and unit are matched after folding: Vietnamese letters (NFC or
 * NFD) and a few other Latin letters lose their diacritics, đ becomes d,
 * full-width forms become ASCII, case is ignored.
 *
 * Tokens: the keyword ends at a space, comma, dot or dash; the unit ends at a
 * space or comma (unit codes such as BN-TP-VN keep their dashes and dots; a
 * trailing dot or dash is dropped). Answers are runs of ASCII digits separated
 * by any mix of spaces, commas, dots and dashes (and their full-width and
 * Unicode forms); a single run of digits is read one digit per answer
 * ("compact") when the survey has more than one SMS item and every value of
 * their scales is one digit. The first token after the unit that is not all
 * digits starts the comment, which runs to the end of the text. Nothing but
 * `<KEYWORD> <UNIT>` starts a dialogue.
 *
 * Every reply is at most SMS_GSM7_MAX GSM-7 septets (SMS_CODING_GSM7:
 * Vietnamese without diacritics, ASCII) or at most SMS_UCS2_MAX UTF-16 code
 * units (SMS_CODING_UCS2: with diacritics, UTF-8 text for Kannel's
 * X-Kannel-Coding: 2), always fits in SMS_REPLY_SIZE bytes and is always
 * NUL-terminated. Variable parts (unit names, question texts, echoed input,
 * keyword lists) are cut to fit, with an ellipsis.
 */
#ifndef SIPAS_SMS_H
#define SIPAS_SMS_H

#include <stddef.h>

struct response;
struct survey;

#define SMS_GSM7_MAX 160     /* septets in one GSM-7 SMS */
#define SMS_UCS2_MAX 70	     /* UTF-16 code units in one UCS-2 SMS */
#define SMS_REPLY_SIZE 320   /* bytes for any reply with its NUL */
#define SMS_KEYWORD_SIZE 17  /* a keyword of at most 16 folded characters */
#define SMS_UNIT_SIZE 65     /* a unit code of at most 64 bytes */
#define SMS_ANSWERS_MAX 32   /* surveys with more SMS items are not matched */
#define SMS_COMMENT_SIZE 501 /* a comment of at most 500 bytes of UTF-8 */
#define SMS_TOKEN_SIZE 17    /* an echoed token: 16 bytes */
#define SMS_SIGNATURE_SIZE 29 /* a Base64 HMAC-SHA1 with its NUL */
#define SMS_PHONE_SIZE 33    /* a normalized phone number with its NUL */
#define SMS_PHONE_HASH_SIZE 65 /* hex HMAC-SHA256 with its NUL */

enum sms_kind {
	SMS_ANSWERS,	    /* a complete set of answers */
	SMS_DIALOGUE_START, /* <KEYWORD> <UNIT> alone */
	SMS_ERROR,	    /* see error */
};

enum sms_error {
	SMS_ERR_NONE,
	SMS_ERR_EMPTY,	      /* nothing but spaces, separators or controls */
	SMS_ERR_KEYWORD,      /* token is no survey's keyword */
	SMS_ERR_UNIT_MISSING, /* the keyword alone */
	SMS_ERR_UNIT_UNKNOWN, /* the resolver does not know unit */
	SMS_ERR_COUNT,	      /* nanswers values where survey->nsms are needed */
	SMS_ERR_RANGE,	      /* answer error_index (token) is not on its scale */
};

/*
 * A parse result: a value, no pointers to free. survey is borrowed from the
 * array given to the parser. Folded strings are upper-case ASCII.
 */
struct sms_parse {
	enum sms_kind kind;
	enum sms_error error;		/* SMS_ERR_NONE unless kind is SMS_ERROR */
	const struct survey *survey;	/* the keyword's survey; NULL before it is known */
	char keyword[SMS_KEYWORD_SIZE]; /* the first token, folded (cut at 16) */
	char unit[SMS_UNIT_SIZE];	/* the resolver's code, else the token folded */
	int answers[SMS_ANSWERS_MAX];	/* answers[i] is for survey->sms_items[i] */
	int nanswers;			/* answers given (for SMS_ERR_COUNT: counted) */
	int compact;			/* 1 if read from one run of digits */
	int dialogue_item;		/* sms_dialogue_parse: the SMS item asked; else -1 */
	int error_index;		/* SMS_ERR_RANGE: SMS item position (0-based) */
	char token[SMS_TOKEN_SIZE];	/* SMS_ERR_KEYWORD, _RANGE: the token (cut) */
	char comment[SMS_COMMENT_SIZE]; /* original text, trimmed, valid UTF-8; "" */
	int comment_truncated;		/* 1 if the comment was cut */
};

/*
 * The caller's unit catalogue: find returns the stored code of the unit whose
 * code folds (sms_text_fold with SMS_FOLD_UPPER) to folded, or NULL. The
 * parser asks for the whole unit token first, then (so that "BL01.5.4.4.5.3"
 * works) for its prefixes ending before a dot or dash that is followed by a
 * digit, longest first.
 */
struct sms_units {
	const char *(*find)(void *arg, const char *folded);
	void *arg;
};

/*
 * Parse one message against surveys (those with a keyword and 1 to
 * SMS_ANSWERS_MAX SMS items; on a duplicate keyword the first wins). With
 * units NULL the unit is not checked: out->unit is the folded token and the
 * caller must look it up. 0 for SMS_ANSWERS and SMS_DIALOGUE_START, -1 for
 * SMS_ERROR; out is always filled.
 */
int sms_message_parse(const char *text, size_t len,
    const struct survey *const *surveys, int nsurveys,
    const struct sms_units *units, struct sms_parse *out);
/*
 * Parse a reply to dialogue question item (an SMS item position): exactly one
 * number on the item's scale, optionally followed by a comment. 0 with
 * answers[0] and nanswers 1, or -1 with SMS_ERR_EMPTY, _COUNT or _RANGE.
 */
int sms_dialogue_parse(const char *text, size_t len,
    const struct survey *, int item, struct sms_parse *out);
/* A stable outcome name for the raw log: answers, dialogue, empty, ... */
const char *sms_parse_outcome(const struct sms_parse *);
/* A new response (CHANNEL_SMS, out->unit, the answers) from SMS_ANSWERS. */
struct response *sms_parse_response_create(const struct sms_parse *);

#define SMS_FOLD_UPPER 0x1 /* also upper-case */
/*
 * Fold UTF-8 to printable ASCII as the parser does: diacritics dropped,
 * full-width forms and odd spaces to ASCII, controls to spaces, anything
 * else to '?'. Writes at most size - 1 bytes and a NUL; returns the folded
 * length (which may exceed size - 1, as snprintf).
 */
size_t sms_text_fold(const char *text, size_t len, char *out, size_t size,
    int flags);
/*
 * UCS-2/UTF-16 big-endian (what Kannel sends for coding 2 without mo-recode)
 * to UTF-8; unpaired surrogates and an odd last byte become U+FFFD. Returns
 * an owned string and its length in *outlen.
 */
char *sms_text_from_ucs2(const unsigned char *data, size_t len, size_t *outlen);

/* GSM-7 septets of UTF-8 s (extension characters count 2); -1 if not GSM-7. */
int sms_gsm7_length(const char *s);
/* UTF-16 code units of UTF-8 s; -1 if s is not valid UTF-8. */
int sms_ucs2_length(const char *s);

enum sms_coding {
	SMS_CODING_GSM7, /* Vietnamese without diacritics, <= 160 septets */
	SMS_CODING_UCS2, /* with diacritics, <= 70 UTF-16 units */
};

/* Thank-you naming the unit (its display name, or the code if name is NULL). */
void sms_reply_thanks(enum sms_coding, const char *unit_name,
    char out[SMS_REPLY_SIZE]);
/*
 * What was wrong with p (kind SMS_ERROR) and the right format. surveys are
 * the ones given to the parser: the keyword list for SMS_ERR_EMPTY and
 * SMS_ERR_KEYWORD. A dialogue_item >= 0 gives the dialogue's retry prompt.
 */
void sms_reply_error(enum sms_coding, const struct sms_parse *p,
    const struct survey *const *surveys, int nsurveys,
    char out[SMS_REPLY_SIZE]);
/* For callers that check the unit themselves: unit (as typed) is unknown. */
void sms_reply_unit_unknown(enum sms_coding, const struct survey *,
    const char *unit, char out[SMS_REPLY_SIZE]);
/*
 * The number already answered for unit (its name or code) in this period
 * (day, week, month, quarter, year) and may not answer again until the next.
 */
void sms_reply_limit(enum sms_coding, const char *unit_name,
    const char *period, char out[SMS_REPLY_SIZE]);
/* Dialogue: ask SMS item item (0-based) of nsms, its text and its scale. */
void sms_reply_question(enum sms_coding, const struct survey *, int item,
    char out[SMS_REPLY_SIZE]);

/* One form field of a gateway's request. */
struct sms_param {
	const char *name;
	const char *value;
};

/*
 * Twilio's X-Twilio-Signature: Base64 HMAC-SHA1 keyed by auth_token over url
 * followed by every name and value, sorted by name then value (bytewise,
 * exact duplicates once, as Twilio's own validators). params is not
 * reordered. 0, or -1 with *cause.
 */
int sms_twilio_signature(const char *auth_token, const char *url,
    const struct sms_param *params, int nparams,
    char out[SMS_SIGNATURE_SIZE], char **cause);
/* 1 if two signatures are equal; constant time for equal lengths. */
int sms_signature_equal(const char *a, const char *b);

/*
 * One form for a phone number: separators dropped, 00 to +; Vietnamese
 * 0xxxxxxxxx, 84xxxxxxxxx and +840xxxxxxxxx to +84xxxxxxxxx; other
 * international numbers +digits; short codes as digits; alphanumeric
 * senders upper-cased. 0, or -1 with *cause (empty, too long, bad char).
 */
int sms_phone_normalize(const char *phone, char out[SMS_PHONE_SIZE],
    char **cause);
/* Hex HMAC-SHA256 keyed by secret of the normalized number; 0, or -1 with *cause. */
int sms_phone_hash(const char *secret, const char *phone,
    char out[SMS_PHONE_HASH_SIZE], char **cause);
/* The normalized number masked for logs: +84*****678; never the full number. */
void sms_phone_mask(const char *phone, char out[SMS_PHONE_SIZE]);
/*
 * A number citizens can text (sipasd.conf's sms_number, the poster's): an
 * optional leading +, 3 to 20 digits, spaces, dots or dashes between them.
 * 0, or -1 with *cause.
 */
int sms_number_check(const char *number, char **cause);

#endif
