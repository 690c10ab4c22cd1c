/*
 * test_pgarray.c: common/pgarray.c's array literals: elements quoted, with
 * their double quotes and backslashes escaped and nothing else touched (JSON
 * text, braces, commas, the word NULL, UTF-8), SQL NULL unquoted, the empty
 * array, and a reset reusing the buffer for a literal of its own. The
 * binary form byte for byte (array_send's format: header, then each
 * element's length and bytes, -1 for NULL), and its growth.
 */
#include "config.h"

#include <string.h>

#include "sipas/pgarray.h"
#include "tap.h"

/* The literal of n elements. */
static int
literal_is(const char *const *elems, int n, const char *want, const char *name)
{
	struct pgarray a;
	const char *got;
	int i, ok;

	memset(&a, 0, sizeof a);
	for (i = 0; i < n; i++)
		pgarray_add(&a, elems[i]);
	got = pgarray_text(&a);
	ok = tap_ok(strcmp(got, want) == 0, "%s", name);
	if (!ok)
		tap_diag("got %s, want %s", got, want);
	pgarray_free(&a);
	return ok;
}

/* The binary form is want (len bytes). */
static void
binary_is(struct pgarray *a, const char *want, int len, const char *name)
{
	const char *got;
	int n, i;

	got = pgarray_binary(a, &n);
	if (!tap_ok(n == len && memcmp(got, want, (size_t)len) == 0, "%s",
	    name)) {
		tap_diag("got %d bytes, want %d", n, len);
		for (i = 0; i < n && i < len; i++) {
			if (got[i] != want[i]) {
				tap_diag("first difference at byte %d", i);
				break;
			}
		}
	}
}

int
main(void)
{
	const char *plain[] = { "a", "b c" };
	const char *nulls[] = { NULL, "x", NULL };
	const char *json[] = { "{\"R1\": 3, \"note\": \"a \\\"q\\\" {x,y}\"}" };
	const char *odd[] = { "NULL", "", "},{", "Huyện Một\\" };
	struct pgarray a;
	char big[5000];
	int i;

	literal_is(NULL, 0, "{}", "no element: the empty array");
	literal_is(plain, 2, "{\"a\",\"b c\"}", "plain texts are quoted");
	literal_is(nulls, 3, "{NULL,\"x\",NULL}", "NULL elements are SQL NULL, unquoted");
	literal_is(json, 1,
	    "{\"{\\\"R1\\\": 3, \\\"note\\\": \\\"a \\\\\\\"q\\\\\\\" {x,y}\\\"}\"}",
	    "JSON text: quotes and backslashes escaped, braces and commas kept");
	literal_is(odd, 4, "{\"NULL\",\"\",\"},{\",\"Huyện Một\\\\\"}",
	    "the text NULL, an empty text, braces, UTF-8 and a trailing backslash");

	/* Growth past the first buffer, then a reset to a short literal. */
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memset(&a, 0, sizeof a);
	for (i = 0; i < 3; i++)
		pgarray_add(&a, big);
	tap_ok(strlen(pgarray_text(&a)) == 2 + 3 * (2 * (sizeof big - 1) + 2) + 2,
	    "three elements of 4,999 quotes: every quote escaped");
	pgarray_reset(&a);
	pgarray_add(&a, "z");
	tap_ok(strcmp(pgarray_text(&a), "{\"z\"}") == 0,
	    "a reset starts a new literal in the same buffer");
	pgarray_free(&a);

	/* Binary: one dimension, the NULL flag, the type, length, bound 1. */
	memset(&a, 0, sizeof a);
	pgarray_reset_binary(&a, PGARRAY_TEXT);
	pgarray_add_text(&a, "ab");
	pgarray_add_text(&a, NULL);
	pgarray_add_text(&a, "");
	binary_is(&a, "\0\0\0\1" "\0\0\0\1" "\0\0\0\x19" "\0\0\0\3" "\0\0\0\1"
	    "\0\0\0\2ab" "\xff\xff\xff\xff" "\0\0\0\0", 34,
	    "binary text[]: header, \"ab\", NULL (-1), the empty text");
	pgarray_reset_binary(&a, PGARRAY_FLOAT8);
	pgarray_add_float8(&a, 1.5);
	pgarray_add_float8(&a, -2.0);
	binary_is(&a, "\0\0\0\1" "\0\0\0\0" "\0\0\x02\xbd" "\0\0\0\2" "\0\0\0\1"
	    "\0\0\0\x08" "\x3f\xf8\0\0\0\0\0\0" "\0\0\0\x08"
	    "\xc0\0\0\0\0\0\0\0", 44,
	    "binary float8[]: no NULL, type 701, IEEE 754 bits high byte first");
	pgarray_reset_binary(&a, PGARRAY_TEXT);
	for (i = 0; i < 3; i++)
		pgarray_add_text(&a, big);
	{
		const char *got;
		int n;

		got = pgarray_binary(&a, &n);
		tap_ok(n == 20 + 3 * (4 + (int)(sizeof big - 1)) &&
		    memcmp(got + 20 + 4, big, sizeof big - 1) == 0,
		    "binary: three elements of 4,999 bytes, copied as they are");
	}
	pgarray_free(&a);
	return tap_done();
}
