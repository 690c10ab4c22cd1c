/*
 * sql_export.h: the selection of an export of stored responses, shared by
 * GET /api/v1/export (daemon/store/store.c) and sipasctl export (ctl/ctl_db.c) so both
 * export the same rows: survey $1, unit $2's subtree (NULL: all), Vietnam
 * days $3..$4 inclusive (NULL: open), channel $5 (NULL: any).
 */
#ifndef SIPAS_SQL_EXPORT_H
#define SIPAS_SQL_EXPORT_H

#define SQL_EXPORT_WHERE \
	" FROM responses r WHERE r.survey = $1" \
	" AND ($2::text IS NULL OR r.unit IN (WITH RECURSIVE sub (code) AS (" \
	"  SELECT code FROM units WHERE code = $2" \
	"  UNION SELECT u.code FROM units u JOIN sub ON u.parent = sub.code)" \
	"  SELECT code FROM sub))" \
	" AND ($3::date IS NULL OR r.submitted_at >=" \
	"  ($3::date::text || ' 00:00:00+07')::timestamptz)" \
	" AND ($4::date IS NULL OR r.submitted_at <" \
	"  (($4::date + 1)::text || ' 00:00:00+07')::timestamptz)" \
	" AND ($5::text IS NULL OR r.channel = $5)"

#endif
