/*
 * pgconn.h: the parameters sipasd and sipasctl give libpq when they connect
 * (PQconnectStartParams / PQconnectdbParams with expand_dbname = 1), so both
 * connect the same way.
 *
 * - JIT compilation is off (jit is on by default from PostgreSQL 12): the
 *   fold's and the reports' statements are estimated dear enough to be
 *   compiled, and compiling them cost far more than it saved.
 * - Options from PGOPTIONS follow these (a PGOPTIONS too long to follow is
 *   used alone), and options in the conninfo replace them all, so an
 *   operator can still set them otherwise (options in a service file no
 *   longer apply: libpq lets a service fill only what was not given).
 * - Dates are read as ISO text and reals with every digit (DateStyle ISO,
 *   extra_float_digits 3), whatever the server's defaults: sipas parses
 *   both, and a fold compares months written by PostgreSQL with its own.
 * - The connection names itself (fallback_application_name) unless the
 *   conninfo names it, so pg_stat_activity tells sipasd's writes, reads and
 *   fold, and sipasctl, apart.
 */
#ifndef SIPAS_PGCONN_H
#define SIPAS_PGCONN_H

struct pgconn_params {
	const char *keys[4];	/* NULL-terminated */
	const char *values[4];
	char options[512];
};

/* Fill p for conninfo (a connection string or URI; "" for the defaults). */
void pgconn_params(struct pgconn_params *p, const char *conninfo,
    const char *appname);

#endif
