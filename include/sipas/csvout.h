/*
 * csvout.h: the one CSV writer: RFC 4180 fields into a growable row buffer,
 * and the responses CSV (docs/interfaces.md) as sipasctl export and
 * GET /api/v1/export write it, so that both give the same bytes.
 *
 * A caller builds a row (or several) into a struct csvout and hands the bytes
 * on (csvout_write to a FILE, or data/len to an evbuffer), then clears it:
 * memory is that of the rows not yet handed on.
 *
 * A spreadsheet opening the file must not run what a citizen typed: a text
 * field that starts with =, +, -, @, tab or CR (after any number of ')
 * gets one ' in front (csvout_field), so that it is text, not a formula;
 * numbers go through csvout_number as they are (a negative number stays a
 * number). The CSV reader (csvin.c) takes that one ' off again, so that a
 * file exported and uploaded again holds the same responses.
 */
#ifndef SIPAS_CSVOUT_H
#define SIPAS_CSVOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct survey;

struct csvout {
	char *data;	 /* the bytes so far, not NUL-terminated */
	size_t len;
	size_t size;
	const char *eol; /* "\r\n" (RFC 4180) or "\n" */
	int nfields;	 /* fields in the row being built */
};

/* An empty buffer whose rows end with eol (a literal). */
void csvout_init(struct csvout *, const char *eol);
/* Free the bytes; the struct may be initialised again. */
void csvout_free(struct csvout *);
/* Forget the bytes (after handing them on), keep the memory. */
void csvout_clear(struct csvout *);
/* One text field, after a comma unless it is the row's first; a ' in front
 * when csvout_text_risky; quoted when it holds a comma, a quote, CR or LF;
 * NULL is an empty field. */
void csvout_field(struct csvout *, const char *);
/* One number field (text the caller formatted from a number), as it is. */
void csvout_number(struct csvout *, const char *);
/*
 * 1 if a spreadsheet could take text s for a formula: s starts, after any
 * number of ', with =, +, -, @, tab or CR. Such text is written with one '
 * in front (CSV and XLSX), and a reader takes off one ' when the rest is
 * risky by this test.
 */
int csvout_text_risky(const char *s);
/* End the row. */
void csvout_row_end(struct csvout *);
/* Write the bytes to f and clear them: 0, or -1 (errno set) on a write error. */
int csvout_write(struct csvout *, FILE *);

/* One stored response, as its columns come from the database (borrowed). */
struct csvout_response {
	const char *id;	      /* the source's id, or NULL */
	const char *unit;
	int64_t submitted_at; /* Unix seconds */
	const char *channel;
	double weight;
	const char *stratum;  /* or NULL */
	const char *psu;      /* or NULL */
	const char *answers;  /* JSON object text */
	const char *respondent; /* JSON object text, or NULL */
};

/*
 * The header row of a responses CSV of survey s: id, unit, submitted_at,
 * channel, weight, stratum, psu, one column per item, then
 * respondent.<key> for each of the nkeys demographic keys (sorted by the
 * caller).
 */
void csvout_responses_header(struct csvout *, const struct survey *s,
    char *const *keys, size_t nkeys);
/*
 * One data row under that header: the time in Vietnam time (+07:00), the
 * weight in the shortest of %.15g and %.17g that reads back exactly, each
 * answer and demographic as its JSON scalar's text (empty when absent).
 */
void csvout_responses_row(struct csvout *, const struct survey *s,
    char *const *keys, size_t nkeys, const struct csvout_response *);

#endif
