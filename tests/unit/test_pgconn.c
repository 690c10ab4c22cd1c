/*
 * test_pgconn.c: common/pgconn.c's connection parameters: JIT off, ISO
 * dates and full reals first, PGOPTIONS after them, the conninfo as dbname
 * (expanded by libpq, so its own options win), the name, the NULL ends; a
 * PGOPTIONS too long to follow leaves the options empty, for libpq to read
 * PGOPTIONS itself, not cut.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sipas/pgconn.h"
#include "tap.h"

int
main(void)
{
	struct pgconn_params p;
	char big[600];

	unsetenv("PGOPTIONS");
	pgconn_params(&p, "host=/tmp dbname=x", "sipasd write");
	tap_ok(strcmp(p.keys[0], "options") == 0 &&
	    strcmp(p.values[0], "-c jit=off -c DateStyle=ISO "
	    "-c extra_float_digits=3") == 0,
	    "options: jit off, ISO dates, every digit of a real");
	tap_ok(strcmp(p.keys[1], "dbname") == 0 &&
	    strcmp(p.values[1], "host=/tmp dbname=x") == 0,
	    "then the conninfo, as dbname");
	tap_ok(strcmp(p.keys[2], "fallback_application_name") == 0 &&
	    strcmp(p.values[2], "sipasd write") == 0, "then the name");
	tap_ok(p.keys[3] == NULL && p.values[3] == NULL, "NULL-terminated");

	pgconn_params(&p, NULL, "sipasctl");
	tap_ok(strcmp(p.values[1], "") == 0, "no conninfo: the defaults");

	setenv("PGOPTIONS", "-c work_mem=64MB", 1);
	pgconn_params(&p, "", "sipasctl");
	tap_ok(strcmp(p.values[0], "-c jit=off -c DateStyle=ISO "
	    "-c extra_float_digits=3 -c work_mem=64MB") == 0,
	    "PGOPTIONS follows (and may turn jit back on)");

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	setenv("PGOPTIONS", big, 1);
	pgconn_params(&p, "", "sipasctl");
	tap_ok(strcmp(p.values[0], "") == 0,
	    "a PGOPTIONS too long to follow: empty, libpq reads it itself");
	return tap_done();
}
