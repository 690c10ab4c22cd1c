/*
 * test_util.c: common/util.c's Content-Disposition of a download, table
 * driven: a name with quotes, backslashes, control bytes, spaces, header
 * separators, UTF-8 and bytes that are not UTF-8 always gives one header
 * line whose quoted filename holds only A-Z a-z 0-9 . _ - and whose
 * filename* percent-encodes the name exactly. Then util_hexval, the hex
 * digit of every percent decoder.
 */
#include "config.h"

#include <string.h>

#include "sipas/util.h"
#include "tap.h"

/* 1 if every byte of the quoted filename is A-Z a-z 0-9 . _ - */
static int
plain_safe(const char *h)
{
	const char *p = strstr(h, "filename=\"");

	if (p == NULL)
		return 0;
	for (p += 10; *p != '"'; p++) {
		if (*p == '\0' || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789._-", *p) == NULL)
			return 0;
	}
	return 1;
}

/* 1 if h is one line of printable ASCII. */
static int
header_printable(const char *h)
{
	for (; *h != '\0'; h++) {
		if ((unsigned char)*h < 0x20 || (unsigned char)*h > 0x7e)
			return 0;
	}
	return 1;
}

int
main(void)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "sipas-2023_P01_2025-01-01.csv",
		  "attachment; filename=\"sipas-2023_P01_2025-01-01.csv\"; "
		  "filename*=UTF-8''sipas-2023_P01_2025-01-01.csv" },
		{ "sipas-2023_BN-Q\"V_2025-01-01.csv",
		  "attachment; filename=\"sipas-2023_BN-Q_V_2025-01-01.csv\"; "
		  "filename*=UTF-8''sipas-2023_BN-Q%22V_2025-01-01.csv" },
		{ "a\\\"; filename=evil.exe",
		  "attachment; filename=\"a____filename_evil.exe\"; "
		  "filename*=UTF-8''a%5C%22%3B%20filename%3Devil.exe" },
		{ "x\r\nSet-Cookie: a=b.csv",
		  "attachment; filename=\"x__Set-Cookie__a_b.csv\"; "
		  "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db.csv" },
		{ "Hà Nội.pdf",
		  "attachment; filename=\"H___N___i.pdf\"; "
		  "filename*=UTF-8''H%C3%A0%20N%E1%BB%99i.pdf" },
		{ "bad\xff\xfe.csv", "attachment; filename=\"bad__.csv\"" },
		{ "../../etc/passwd", "attachment; filename=\".._.._etc_passwd\"; "
		  "filename*=UTF-8''..%2F..%2Fetc%2Fpasswd" },
		{ "%41'*", "attachment; filename=\"_41__\"; filename*=UTF-8''%2541%27%2A" },
		{ "", "attachment; filename=\"download\"" },
	};
	size_t i;
	char *h;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		h = util_content_disposition(cases[i].name);
		if (!tap_ok(strcmp(h, cases[i].want) == 0 && plain_safe(h) &&
		    header_printable(h), "Content-Disposition of case %zu: %s", i, h))
			tap_diag("want %s", cases[i].want);
		free(h);
	}
	tap_ok(util_hexval('0') == 0 && util_hexval('9') == 9 &&
	    util_hexval('a') == 10 && util_hexval('F') == 15,
	    "util_hexval: digits and both cases of a-f");
	tap_ok(util_hexval('g') == -1 && util_hexval('/') == -1 &&
	    util_hexval(':') == -1 && util_hexval('@') == -1 &&
	    util_hexval('G') == -1 && util_hexval('%') == -1,
	    "util_hexval: -1 next to the ranges");
	return tap_done();
}
