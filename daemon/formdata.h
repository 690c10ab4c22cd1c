/*
 * formdata.h: urlencoded fields, the page language and the demographic
 * choices, shared by the citizen pages and the dashboard (formdata.c).
 */
#ifndef SIPAS_FORMDATA_H
#define SIPAS_FORMDATA_H

#include <stddef.h>

struct request;

/*
 * The optional demographics of the form, stored in respondent.gender and
 * respondent.age_band; each list ends with a NULL value.
 */
struct form_choice {
	const char *value;
	const char *vi;
	const char *en;
};
extern const struct form_choice form_genders[], form_ages[];
/*
 * 0 if respondent.key=value may filter the indices: key is one of the
 * demographics above and value one of its choices; -1 and *why if not (free
 * text such as a comment must never select a respondent).
 */
int form_respondent_check(const char *key, const char *value,
    const char **why);

/* The fields of an application/x-www-form-urlencoded body. */
struct form_fields {
	char **keys;
	char **values;
	int n;
};

/*
 * Decode one urlencoded component of len bytes (+ is a space) into a new
 * NUL-terminated string; *outlen, if not NULL, is its length. When strict,
 * a '%' without two hex digits after it or an encoded NUL makes it NULL;
 * when not, such a '%' stands for itself and a NUL is kept (count by
 * *outlen).
 */
char *form_decode(const char *s, size_t len, int strict, size_t *outlen);
/* Parse a urlencoded body (or query); NULL when malformed. */
struct form_fields *form_fields_parse(const char *text, size_t len);
void form_fields_free(struct form_fields *);
/* The (last) value of key, or NULL. */
const char *form_fields_get(const struct form_fields *, const char *key);

/* "en" when the query or the fields ask for lang=en, else "vi". */
const char *form_lang(const struct request *, const struct form_fields *);
/*
 * The language of an API reply: lang=vi or lang=en in the query, else the
 * first of vi and en in Accept-Language (by q-value, then order), else "en".
 */
const char *form_lang_api(const struct request *);

#endif
