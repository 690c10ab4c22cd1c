/*
 * formdata.c: what the citizen pages (channels/form.c, kiosk.c) and the
 * dashboard (present/dashboard.c) share: the fields of an
 * application/x-www-form-urlencoded body or query, the page's language and
 * the optional demographic choices.
 *
 * Owns no state. Must not reply, render or know about surveys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

#include "daemon/formdata.h"
#include "daemon/request.h"
#include "sipas/util.h"

/* The demographics the form asks: also the dashboard's filters. */
const struct form_choice form_genders[] = {
	{ "f", "Nữ", "Female" },
	{ "m", "Nam", "Male" },
	{ "o", "Khác", "Other" },
	{ NULL, NULL, NULL },
}, form_ages[] = {
	{ "18-24", "18–24 tuổi", "18–24" },
	{ "25-34", "25–34 tuổi", "25–34" },
	{ "35-49", "35–49 tuổi", "35–49" },
	{ "50-64", "50–64 tuổi", "50–64" },
	{ "65+", "Từ 65 tuổi", "65 or older" },
	{ NULL, NULL, NULL },
};

/* Decode one urlencoded component (+ is a space). */
char *
form_decode(const char *s, size_t len, int strict, size_t *outlen)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%' && i + 2 < len &&
		    (hi = util_hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = util_hexval((unsigned char)s[i + 2])) >= 0) {
			if (strict && hi == 0 && lo == 0)
				break; /* an encoded NUL */
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '%' && strict)
			break;
		else
			out[n++] = s[i];
	}
	if (i < len) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return out;
}

/* Parse a urlencoded body. */
struct form_fields *
form_fields_parse(const char *text, size_t len)
{
	struct form_fields *f = xcalloc(1, sizeof *f);
	const char *p = text, *end = text + len, *amp, *eq;
	char *k, *v;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p) {
			eq = memchr(p, '=', (size_t)(amp - p));
			k = form_decode(p, (size_t)((eq != NULL ? eq : amp) -
			    p), 1, NULL);
			v = eq != NULL ? form_decode(eq + 1,
			    (size_t)(amp - eq - 1), 1, NULL) : xstrdup("");
			if (k == NULL || v == NULL || f->n >= 1000) {
				free(k);
				free(v);
				form_fields_free(f);
				return NULL;
			}
			f->keys = xreallocarray(f->keys, (size_t)f->n + 1,
			    sizeof *f->keys);
			f->values = xreallocarray(f->values, (size_t)f->n + 1,
			    sizeof *f->values);
			f->keys[f->n] = k;
			f->values[f->n] = v;
			f->n++;
		}
		p = amp + 1;
	}
	return f;
}

/* Free parsed fields; NULL-safe. */
void
form_fields_free(struct form_fields *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->keys[i]);
		free(f->values[i]);
	}
	free(f->keys);
	free(f->values);
	free(f);
}

/* The last value of key. */
const char *
form_fields_get(const struct form_fields *f, const char *key)
{
	int i;

	if (f == NULL)
		return NULL;
	for (i = f->n - 1; i >= 0; i--) {
		if (strcmp(f->keys[i], key) == 0)
			return f->values[i];
	}
	return NULL;
}

/* "vi" or "en" for a language range of Accept-Language, else NULL. */
static const char *
form_lang_range(const char *s, size_t len)
{
	if (len >= 2 && strncasecmp(s, "vi", 2) == 0 && (len == 2 || s[2] == '-'))
		return "vi";
	if (len >= 2 && strncasecmp(s, "en", 2) == 0 && (len == 2 || s[2] == '-'))
		return "en";
	return NULL;
}

/* "vi" or "en" when v names one, else NULL. */
static const char *
form_lang_known(const char *v)
{
	if (v != NULL && strcmp(v, "vi") == 0)
		return "vi";
	if (v != NULL && strcmp(v, "en") == 0)
		return "en";
	return NULL;
}

/*
 * The language of a reply: the fields' lang= (dflt unless vi or en), else
 * the query's lang=vi or lang=en, else (when accept) the best of vi and en
 * in Accept-Language, else dflt.
 */
static const char *
form_lang_pick(const struct request *r, const struct form_fields *f,
    int accept, const char *dflt)
{
	struct form_fields *q;
	const char *v, *h, *p, *lang = NULL, *best = NULL;
	size_t n;
	double qv, bestq = 0;

	if ((v = form_fields_get(f, "lang")) != NULL)
		return (lang = form_lang_known(v)) != NULL ? lang : dflt;
	if (r->query != NULL && (q = form_fields_parse(r->query,
	    strlen(r->query))) != NULL) {
		lang = form_lang_known(form_fields_get(q, "lang"));
		form_fields_free(q);
		if (lang != NULL)
			return lang;
	}
	if (!accept)
		return dflt;
	h = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Accept-Language");
	/* "vi-VN,vi;q=0.9,en;q=0.8": ranges by comma, each with its q. */
	for (p = h; p != NULL && *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		lang = form_lang_range(p, strcspn(p, ";, \t") < n ?
		    strcspn(p, ";, \t") : n);
		qv = 1;
		if ((v = memchr(p, ';', n)) != NULL && (v = strstr(v, "q=")) !=
		    NULL && v < p + n)
			qv = strtod(v + 2, NULL);
		if (lang != NULL && qv > bestq) {
			best = lang;
			bestq = qv;
		}
	}
	return best != NULL ? best : dflt;
}

/* A page's language: lang= of the fields or the query, else Vietnamese. */
const char *
form_lang(const struct request *r, const struct form_fields *f)
{
	return form_lang_pick(r, f, 0, "vi");
}

/* The API reply's language: lang=, then Accept-Language, then English. */
const char *
form_lang_api(const struct request *r)
{
	return form_lang_pick(r, NULL, 1, "en");
}

/* The demographic fields a respondent filter may name, with their values. */
static const struct {
	const char *key;
	const struct form_choice *choices;
	const char *why;
} form_respondent_fields[] = {
	{ "gender", form_genders, "gender must be f, m or o" },
	{ "age_band", form_ages,
	    "age_band must be 18-24, 25-34, 35-49, 50-64 or 65+" },
};

/* Check a respondent filter pair against the form's demographics. */
int
form_respondent_check(const char *key, const char *value, const char **why)
{
	const struct form_choice *c;
	size_t i;

	for (i = 0; i < sizeof form_respondent_fields /
	    sizeof form_respondent_fields[0]; i++) {
		if (strcmp(form_respondent_fields[i].key, key) != 0)
			continue;
		for (c = form_respondent_fields[i].choices; c->value != NULL;
		    c++) {
			if (strcmp(c->value, value) == 0)
				return 0;
		}
		*why = form_respondent_fields[i].why;
		return -1;
	}
	*why = "only the demographic fields gender and age_band may filter "
	    "(never free text)";
	return -1;
}
