/*
 * tap.h: a minimal Test Anything Protocol producer for the unit tests, read by
 * automake's tap-driver.sh. Header-only; one test program = one plan.
 */
#ifndef SIPAS_TAP_H
#define SIPAS_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n;
static int tap_failed;

/* Record one check; prints "ok N - name" or "not ok N - name". */
static inline int __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

/* A check that does not apply here: "ok N - name # SKIP". */
static inline void __attribute__((format(printf, 1, 2)))
tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP\n");
}

/* A diagnostic line. */
static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Two doubles within tol, or both NAN. */
static inline int
tap_close(double a, double b, double tol)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= tol;
}

/* Print the plan at the end and exit with the failure status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

#endif
