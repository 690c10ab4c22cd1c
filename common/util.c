/*
 * util.c: allocation that never fails silently, file reading, Jansson hooks.
 * Owns nothing global but the Jansson allocator setting and its scratch area.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

#include <jansson.h>

#include "sipas/util.h"

/* Report a broken invariant and abort. */
void
assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
	abort();
}

/* Out of memory: fatal. */
static void __attribute__((noreturn))
util_oom(size_t size)
{
	fprintf(stderr, "out of memory (%zu bytes)\n", size);
	abort();
}

/* malloc that never returns NULL. */
void *
xmalloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		util_oom(size);
	return p;
}

/* calloc that never returns NULL. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		util_oom(n * size);
	return p;
}

/* reallocarray that never returns NULL and checks the product. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		util_oom(SIZE_MAX);
	q = realloc(p, n * size == 0 ? 1 : n * size);
	if (q == NULL)
		util_oom(n * size);
	return q;
}

/* strdup that never returns NULL. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* strndup that never returns NULL. */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* asprintf that never fails. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		util_oom(strlen(fmt));
	return n;
}

/*
 * A scratch area for the values of one parse (util_json_loadb_scratch): a
 * request body's tree is dozens of small allocations that all die together
 * a moment later. Bumped while a parse runs on the thread that set Jansson
 * up (util_scratch_on is that thread's own); reused only when every value
 * in it has been released, so a value kept longer stays valid (the area is
 * then bumped on, and parses fall back to malloc once it is full). Each
 * value has a 16-byte header holding its size. Under AddressSanitizer the
 * unused parts and each released value are poisoned, so a use after
 * release is still reported.
 */
#define UTIL_SCRATCH_SIZE 65536
#define UTIL_SCRATCH_HEAD 16

static _Alignas(16) unsigned char util_scratch[UTIL_SCRATCH_SIZE];
static size_t util_scratch_used;
static long util_scratch_live; /* its values not yet released */
static _Thread_local int util_scratch_on; /* a scratch parse runs on this thread */
static pthread_t util_scratch_owner;

#if defined(__SANITIZE_ADDRESS__)
#define UTIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UTIL_ASAN 1
#endif
#endif
#ifdef UTIL_ASAN
#include <sanitizer/asan_interface.h>
#define UTIL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UTIL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define UTIL_POISON(p, n) ((void)(p), (void)(n))
#define UTIL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Jansson's allocator: the scratch area during a scratch parse, else xmalloc. */
static void *
util_json_malloc(size_t size)
{
	size_t n = UTIL_SCRATCH_HEAD + ((size + 15) & ~(size_t)15);
	unsigned char *p;

	if (util_scratch_on && n > size &&
	    UTIL_SCRATCH_SIZE - util_scratch_used >= n) {
		p = util_scratch + util_scratch_used;
		util_scratch_used += n;
		util_scratch_live++;
		UTIL_UNPOISON(p, UTIL_SCRATCH_HEAD + size);
		memcpy(p, &size, sizeof size);
		return p + UTIL_SCRATCH_HEAD;
	}
	return xmalloc(size);
}

/* Jansson's free: a value of the scratch area is only counted off. */
static void
util_json_free(void *p)
{
	unsigned char *c = p;
	size_t size;

	if (c >= util_scratch && c < util_scratch + UTIL_SCRATCH_SIZE) {
		memcpy(&size, c - UTIL_SCRATCH_HEAD, sizeof size);
		UTIL_POISON(c - UTIL_SCRATCH_HEAD, UTIL_SCRATCH_HEAD + size);
		util_scratch_live--;
		ASSERT(util_scratch_live >= 0);
		if (util_scratch_live == 0) {
			util_scratch_used = 0;
			UTIL_POISON(util_scratch, UTIL_SCRATCH_SIZE);
		}
		return;
	}
	free(p);
}

/* Route Jansson's allocations through xmalloc; the caller's thread owns the scratch area. */
void
util_jansson_init(void)
{
	util_scratch_owner = pthread_self();
	UTIL_POISON(util_scratch, UTIL_SCRATCH_SIZE);
	json_set_alloc_funcs(util_json_malloc, util_json_free);
}

/*
 * json_loadb whose values live in the scratch area while it has room: for a
 * tree released (json_decref) soon after, by the thread of util_jansson_init.
 * Strings that Jansson hands out to be freed by the caller (json_dumps) are
 * never made here.
 */
json_t *
util_json_loadb_scratch(const char *text, size_t len, size_t flags,
    json_error_t *err)
{
	json_t *j;

	if (!pthread_equal(pthread_self(), util_scratch_owner))
		return json_loadb(text, len, flags, err);
	util_scratch_on = 1;
	j = json_loadb(text, len, flags, err);
	util_scratch_on = 0;
	return j;
}

/* Read a whole file into a NUL-terminated buffer. */
char *
util_file_read(const char *path, size_t *lenp, char **cause)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

/*
 * Decode one UTF-8 code point at *pp (< end) and advance past it; for a byte
 * that does not start a well-formed sequence (overlong forms, surrogates and
 * code points past U+10FFFF included) UTF8_INVALID, advancing by one byte.
 */
uint32_t
utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t cp, min;
	int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 1;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 2;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 3;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		goto bad;
	if (end - p <= n)
		goto bad;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*pp = p + n + 1;
	return cp;
bad:
	*pp = p + 1;
	return UTF8_INVALID;
}

/* The wall clock in seconds. */
double
util_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The value of a hex digit, or -1. */
int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 if s[0..len) is well-formed UTF-8 without a NUL. */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	uint32_t cp;

	while (p < end) {
		if ((cp = utf8_next(&p, end)) == UTF8_INVALID || cp == 0)
			return 0;
	}
	return 1;
}

/* len bytes from getrandom, retried on EINTR and short reads. */
int
util_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(p + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* 1 for the bytes a file name may carry as they are: A-Z a-z 0-9 . _ - */
static int
util_name_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* An attachment's header: a plain ASCII name and the exact one encoded. */
char *
util_content_disposition(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(name), i;
	char *plain, *enc, *q, *out;
	unsigned char c;

	if (len == 0)
		return xstrdup("attachment; filename=\"download\"");
	plain = xmalloc(len + 1);
	enc = q = xmalloc(3 * len + 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		plain[i] = util_name_safe(c) ? (char)c : '_';
		if (util_name_safe(c))
			*q++ = (char)c;
		else {
			*q++ = '%';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 15];
		}
	}
	plain[len] = *q = '\0';
	if (utf8_valid(name, len))
		xasprintf(&out, "attachment; filename=\"%s\"; "
		    "filename*=UTF-8''%s", plain, enc);
	else
		xasprintf(&out, "attachment; filename=\"%s\"", plain);
	free(plain);
	free(enc);
	return out;
}

/* Text for a manual page: roff must not read it as requests or escapes. */
void
util_roff_puts(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* Days in month m (1-12) of year y. */
int
util_month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	ASSERT(m >= 1 && m <= 12);
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* A number for people: no sign on a value that rounds to zero ("-0.00"). */
char *
util_number_format(double v, int decimals, int sign, int comma, char *buf, size_t len)
{
	char *p;

	ASSERT(len >= 32 && decimals >= 0 && decimals <= 6);
	if (!isfinite(v)) {
		snprintf(buf, len, "–");
		return buf;
	}
	snprintf(buf, len, sign ? "%+.*f" : "%.*f", decimals, v);
	if ((buf[0] == '-' || buf[0] == '+') && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	if (comma && (p = strchr(buf, '.')) != NULL)
		*p = ',';
	return buf;
}

/* Split YYYY-MM-DD; 0 when day is one. */
static int
util_day_split(const char *day, int *y, int *m, int *d)
{
	int n = 0;

	if (sscanf(day, "%4d-%2d-%2d%n", y, m, d, &n) != 3 || n != 10 || day[n] != '\0' ||
	    *m < 1 || *m > 12 || *d < 1 || *d > util_month_days(*y, *m))
		return -1;
	return 0;
}

static const char *const util_months_en[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	"Aug", "Sep", "Oct", "Nov", "Dec" };

/* A day as people read it: "04/12/2026" (vi), "4 Dec 2026" (en); other text as given. */
char *
util_day_text(const char *day, int en, char *buf, size_t len)
{
	int y, m, d;

	if (util_day_split(day, &y, &m, &d) != 0)
		snprintf(buf, len, "%s", day);
	else if (en)
		snprintf(buf, len, "%d %s %04d", d, util_months_en[m - 1], y);
	else
		snprintf(buf, len, "%02d/%02d/%04d", d, m, y);
	return buf;
}

/*
 * A period of whole days in words, as Vietnamese administration names it
 * ("Năm 2025", "6 tháng đầu năm 2025", "Quý I/2025", "Tháng 3/2025") or in
 * English ("2025", "H1 2025", "Q1 2025", "Mar 2025"); any other span as two
 * days ("01/01/2025 – 15/02/2025", "1 Jan 2025 – 15 Feb 2025").
 */
char *
util_period_text(const char *from, const char *to, int en, char *buf, size_t len)
{
	static const char *const roman[] = { "I", "II", "III", "IV" };
	int fy, fm, fd, ty, tm, td;
	char a[64], b[64];

	if (util_day_split(from, &fy, &fm, &fd) == 0 && util_day_split(to, &ty, &tm, &td) == 0 &&
	    fy == ty && fd == 1 && td == util_month_days(ty, tm)) {
		if (fm == 1 && tm == 12) {
			snprintf(buf, len, en ? "%04d" : "Năm %04d", fy);
			return buf;
		}
		if ((fm == 1 && tm == 6) || (fm == 7 && tm == 12)) {
			if (en)
				snprintf(buf, len, "H%d %04d", fm == 1 ? 1 : 2, fy);
			else
				snprintf(buf, len, "6 tháng %s năm %04d", fm == 1 ? "đầu" : "cuối", fy);
			return buf;
		}
		if (tm - fm == 2 && (fm - 1) % 3 == 0) {
			if (en)
				snprintf(buf, len, "Q%d %04d", (fm - 1) / 3 + 1, fy);
			else
				snprintf(buf, len, "Quý %s/%04d", roman[(fm - 1) / 3], fy);
			return buf;
		}
		if (tm == fm) {
			if (en)
				snprintf(buf, len, "%s %04d", util_months_en[fm - 1], fy);
			else
				snprintf(buf, len, "Tháng %d/%04d", fm, fy);
			return buf;
		}
	}
	snprintf(buf, len, "%s – %s", util_day_text(from, en, a, sizeof a),
	    util_day_text(to, en, b, sizeof b));
	return buf;
}
