/*
 * sql_agg.h: the statements of the incremental aggregates
 * (sql/0004_aggregates.sql), shared by sipasd's folder (daemon/store/aggregator.c,
 * daemon/store/store_agg.c) and `sipasctl aggregate` (ctl/aggregate.c) so both fold
 * the same way.
 *
 * Each (unit, month) has a state per channel and a roll-up state of channel
 * '*' (aggfold.h). A fold is one transaction: SQL_AGG_LOCK (one folder per survey at a time:
 * the states are read, merged and written back), SQL_AGG_TAKE, then one
 * SQL_AGG_UPSERT per state it touched, then COMMIT. Every column of TAKE is
 * text or bytea, so it may be read in binary format.
 */
#ifndef SIPAS_SQL_AGG_H
#define SIPAS_SQL_AGG_H

/* $1 survey. */
#define SQL_AGG_LOCK \
    "SELECT pg_advisory_xact_lock(hashtext('sipas-aggregate:' || $1))"

/*
 * The pending responses a fold takes, as d (id, submitted_at, fresh): the
 * first $2 rows of survey $1 in agg_pending (lowest ids), and its first
 * fresh batches of agg_fresh (sql/0009_fresh_batches.sql) up to the one
 * that reaches $2 responses, each taken from its queue. Either queue gives
 * fewer only when it holds fewer, so a fold of fewer than $2 responses left
 * nothing of the survey behind.
 *
 * Each is deleted as one range of its (survey, id) index: every row of the
 * survey up to the last id taken. Deleting "id IN (the first $2)" instead
 * let the planner probe the queue once per taken id, and with statistics
 * taken while the queue was nearly empty (before a rebuild or a changed
 * survey queued everything) it probed through the (survey, id) index by id
 * alone: a whole index scan per response, hours for a million.
 */
#define SQL_AGG_TAKE_D \
    " dp AS (DELETE FROM agg_pending WHERE survey = $1 AND id <= (SELECT" \
    "  max(id) FROM (SELECT id FROM agg_pending WHERE survey = $1" \
    "  ORDER BY id LIMIT $2::bigint) f)" \
    "  RETURNING id, submitted_at, fresh)," \
    " df AS (DELETE FROM agg_fresh WHERE survey = $1 AND id <= (SELECT" \
    "  max(id) FROM (SELECT id, sum(cardinality(ids)) OVER (ORDER BY id)" \
    "  - cardinality(ids) AS before FROM agg_fresh WHERE survey = $1" \
    "  ORDER BY id LIMIT $2::bigint) f WHERE before < $2::bigint)" \
    "  RETURNING ids, times)," \
    " d AS (SELECT id, submitted_at, fresh FROM dp UNION ALL" \
    "  SELECT u.id, u.submitted_at, true FROM df," \
    "  unnest(df.ids, df.times) AS u (id, submitted_at))"

/*
 * $1 survey, $2 at most this many pending responses. Rows: kind 'S' (a
 * stored state: unit, month, channel, state) or 'R' (a response to fold:
 * unit, month, channel, weight, stratum, psu, answers).
 */
#define SQL_AGG_TAKE \
    "WITH" SQL_AGG_TAKE_D "," \
    " rows AS (" \
    " SELECT r.unit, sipas_vn_month(r.submitted_at) AS month, r.channel," \
    "  r.weight, r.stratum, r.psu, r.answers" \
    " FROM d CROSS JOIN LATERAL (SELECT * FROM responses x" \
    "  WHERE x.id = d.id AND x.submitted_at = d.submitted_at OFFSET 0) r" \
    " WHERE r.survey = $1)," \
    " keys AS (SELECT DISTINCT unit, month, channel FROM rows" \
    "  UNION SELECT DISTINCT unit, month, '*' FROM rows)" \
    " SELECT 'S', s.unit, s.month::text, s.channel, NULL, NULL, NULL, NULL," \
    "  s.state" \
    " FROM agg_states s JOIN keys k ON s.survey = $1 AND s.unit = k.unit" \
    "  AND s.month = k.month AND s.channel = k.channel" \
    " UNION ALL" \
    " SELECT 'R', unit, month::text, channel, weight::text, stratum, psu," \
    "  answers::text, NULL FROM rows"

/*
 * SQL_AGG_TAKE for a folder that holds some of the pending responses in
 * memory (sipasd: those it has just stored): $3 their ids (bigint[]), $4
 * their units, $5 their Vietnam months (date[]) and $6 their channels, one
 * element each. A taken response among them whose queue row is still fresh
 * (sql/0008_pending_time.sql) is not read: one row of kind 'K' lists the
 * ids of all of them (column 10, comma-separated; no such row when there is
 * none), and the states of their units and months come with the
 * others. Every other taken response comes as 'R', as in SQL_AGG_TAKE.
 * Months are written YYYY-MM-DD whatever the DateStyle, as the folder
 * writes those of the responses it holds: one state, one key.
 */
#define SQL_AGG_TAKE_KNOWN \
    "WITH" SQL_AGG_TAKE_D "," \
    " kn AS (SELECT * FROM unnest($3::bigint[], $4::text[], $5::date[]," \
    "  $6::text[]) AS k (id, unit, month, channel))," \
    " mem AS (SELECT kn.* FROM kn JOIN d ON d.id = kn.id AND d.fresh)," \
    " rows AS (" \
    " SELECT r.unit, sipas_vn_month(r.submitted_at) AS month, r.channel," \
    "  r.weight, r.stratum, r.psu, r.answers" \
    " FROM d CROSS JOIN LATERAL (SELECT * FROM responses x" \
    "  WHERE x.id = d.id AND x.submitted_at = d.submitted_at OFFSET 0) r" \
    " WHERE r.survey = $1 AND NOT (d.fresh AND d.id IN (SELECT id FROM kn)))," \
    " keys AS (SELECT unit, month, channel FROM rows" \
    "  UNION SELECT unit, month, '*' FROM rows" \
    "  UNION SELECT unit, month, channel FROM mem" \
    "  UNION SELECT unit, month, '*' FROM mem)" \
    " SELECT 'S', s.unit, to_char(s.month, 'YYYY-MM-DD'), s.channel, NULL," \
    "  NULL, NULL, NULL, s.state, NULL" \
    " FROM agg_states s JOIN keys k ON s.survey = $1 AND s.unit = k.unit" \
    "  AND s.month = k.month AND s.channel = k.channel" \
    " UNION ALL" \
    " SELECT 'R', unit, to_char(month, 'YYYY-MM-DD'), channel, weight::text," \
    "  stratum, psu, answers::text, NULL, NULL FROM rows" \
    " UNION ALL" \
    " SELECT 'K', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL," \
    "  string_agg(id::text, ',') FROM mem HAVING count(*) > 0"

/*
 * A condition on a response's id: it is not among those still waiting in
 * agg_fresh, in the batches of agg_fresh f that COND selects. Queueing a
 * response again in agg_pending leaves those out: they are folded once,
 * from agg_fresh (sql/0009_fresh_batches.sql).
 */
#define SQL_AGG_NOT_FRESH(COND) \
    " id NOT IN (SELECT unnest(f.ids) FROM agg_fresh f WHERE " COND ")"

/* $1 survey, $2 unit, $3 month (YYYY-MM-01), $4 channel, $5 rows, $6 state (bytea). */
#define SQL_AGG_UPSERT \
    "INSERT INTO agg_states (survey, unit, month, channel, rows, state)" \
    " VALUES ($1, $2, $3::date, $4, $5::bigint, $6::bytea)" \
    " ON CONFLICT (survey, month, unit, channel) DO UPDATE" \
    " SET rows = EXCLUDED.rows, state = EXCLUDED.state," \
    "  stamp = nextval('agg_stamp_seq'), updated_at = now()"

/*
 * $1 survey, $2 unit, $3 month, $4 channel: a state that could not be read
 * (another survey shape or machine): drop every state of its unit and month
 * (the roll-up holds every channel) and queue the month again. The
 * responses of the month still waiting in agg_fresh (not taken by this
 * fold) are left out: they stay there and are folded once, into the month
 * built again (sql/0009_fresh_batches.sql).
 */
#define SQL_AGG_REQUEUE \
    "WITH gone AS (DELETE FROM agg_states WHERE survey = $1 AND unit = $2" \
    "  AND month = $3::date AND $4::text IS NOT NULL)" \
    " INSERT INTO agg_pending (id, survey, submitted_at)" \
    " SELECT id, survey, submitted_at FROM responses" \
    " WHERE survey = $1 AND unit = $2" \
    "  AND submitted_at >= ($3::date::text || ' 00:00:00+07')::timestamptz" \
    "  AND submitted_at < (($3::date + interval '1 month')::date::text" \
    "   || ' 00:00:00+07')::timestamptz" \
    "  AND" SQL_AGG_NOT_FRESH("f.survey = $1") \
    " ON CONFLICT (id) DO NOTHING"

/*
 * A report's read (report_run.h), shared by sipasd's reports
 * (daemon/store/store_agg.c) and `sipasctl report`, from report_run_ranges:
 * $1 survey, $2 unit, $3 the first days of the whole months to read as
 * states (date[]), $4 and $5 the first and last instants of all the periods
 * ([$4, $5), timestamptz: they keep the planner to the partitions that may
 * hold them), and for SQL_AGG_REPORT_RAW also $6 and $7, the bounds
 * [lo, hi) of the other days, read raw (timestamptz[]). One snapshot gives
 * every committed response once: a response of a state month is in its
 * month's roll-up state or still pending, and the pending ones are read raw.
 * Rows: kind 'S' (child, month, rows, state) or 'R' (child, Vietnam day,
 * weight, stratum, psu, answers); child is the direct child of $2 the unit
 * lies under, NULL for $2 itself. Every column is text or bytea.
 * SQL_AGG_REPORT serves periods of whole months only (no raw range), and
 * spares the planner the raw branch. Uses SQL_SUBTREE: include
 * sipas/sql_subtree.h too.
 */
#define SQL_AGG_REPORT \
    SQL_SUBTREE("$2", "NULL::text") \
    " SELECT 'S', sub.child, s.month::text, s.rows::text, NULL, NULL, NULL," \
    "  NULL, s.state" \
    " FROM agg_states s JOIN sub ON s.unit = sub.code" \
    " WHERE s.survey = $1 AND s.channel = '*'" \
    " AND s.month = ANY ($3::date[])" \
    " UNION ALL" \
    " SELECT 'R', sub.child," \
    "  ((r.submitted_at AT TIME ZONE 'UTC') + interval '7 hours')::date::text," \
    "  NULL, r.weight::text, r.stratum, r.psu, r.answers::text, NULL" \
    " FROM agg_queue p JOIN responses r ON r.id = p.id" \
    "  AND r.submitted_at = p.submitted_at" \
    "  JOIN sub ON r.unit = sub.code" \
    " WHERE p.survey = $1 AND r.survey = $1" \
    " AND r.submitted_at >= $4::timestamptz AND r.submitted_at < $5::timestamptz" \
    " AND sipas_vn_month(r.submitted_at) = ANY ($3::date[])"

#define SQL_AGG_REPORT_RAW \
    SQL_AGG_REPORT \
    " UNION ALL" \
    " SELECT 'R', sub.child," \
    "  ((r.submitted_at AT TIME ZONE 'UTC') + interval '7 hours')::date::text," \
    "  NULL, r.weight::text, r.stratum, r.psu, r.answers::text, NULL" \
    " FROM unnest($6::timestamptz[], $7::timestamptz[]) AS g (lo, hi)" \
    "  JOIN responses r ON r.submitted_at >= g.lo AND r.submitted_at < g.hi" \
    "  JOIN sub ON r.unit = sub.code" \
    " WHERE r.survey = $1" \
    " AND r.submitted_at >= $4::timestamptz AND r.submitted_at < $5::timestamptz"

#endif
