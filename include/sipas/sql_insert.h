/*
 * sql_insert.h: the one statement that stores a batch of responses, shared by
 * sipasd's batched writes (daemon/store/store.c) and sipasctl import
 * (ctl/import.c) so both decide "inserted", "duplicate" or "conflict" the
 * same way.
 *
 * Parameters: one array per column, element i of each being row i (in
 * text or binary form, include/sipas/pgarray.h): $1 survey, $2 unit, $3
 * source id (or NULL), $4 submitted_at (Unix seconds), $5 channel, $6
 * weight, $7 stratum, $8 psu, $9 answers (JSON), $10 respondent (JSON or
 * NULL), $11 content hash. The result has one row per input row, in input
 * order: the outcome and the stored response's id. The outcome is NULL when the id was
 * claimed by another transaction that committed while this one waited for
 * it (its row is not in this statement's snapshot): retry the batch.
 *
 * responses is partitioned by year (sql/0005_partitions.sql), so the
 * idempotency key (survey, source id) lives in response_keys. Every row gets
 * an id from the sequence first (b). The first copy of each source id in the
 * batch claims its key with that id (k), keys taken in sorted order so that
 * two writers never wait on each other in a cycle. A row is inserted when it
 * has no source id or its claim succeeded (ins). Any other row is a later
 * copy of an id inserted by this batch, or of one stored before: it is a
 * duplicate when its content hash equals that response's, else a conflict.
 * One failing row (a constraint) fails the whole statement.
 *
 * One statement per batch also means one run of the statement-level insert
 * trigger that checks the surveys and units the rows name and queues them
 * for the aggregates (responses_insert, sql/0012_insert_trigger.sql).
 */
#ifndef SIPAS_SQL_INSERT_H
#define SIPAS_SQL_INSERT_H

#define SQL_RESPONSE_BATCH_NPARAMS 11
/* Parameter i (from 0) is a double precision[] ($4, $6), else a text[]. */
#define SQL_RESPONSE_BATCH_FLOAT(i) ((i) == 3 || (i) == 5)

/*
 * The arrays reach unnest through a subquery that is not flattened (OFFSET
 * 0), so the planner cannot see how long they are. The statement is
 * prepared once per connection; PostgreSQL makes a custom plan for each of
 * its first five executions and afterwards keeps the generic plan only if
 * its estimate is below the custom plans' average, each of which carries a
 * charge for its planning. With the arrays in sight, a custom plan for a
 * small batch looked cheaper all the same, so a connection whose first
 * batches were small (a quiet hour, a restart) planned every later batch
 * again: about 0.3 ms of the backend's CPU a batch, more than storing a
 * lone response costs. Hidden, every plan gets the same estimate, the
 * planning charge tips the balance, and the generic plan is kept from the
 * sixth batch on.
 */
#define SQL_RESPONSE_BATCH \
    "WITH b AS MATERIALIZED (" \
    " SELECT u.*, nextval('responses_id_seq') AS id" \
    " FROM (SELECT $1::text[] AS a1, $2::text[] AS a2, $3::text[] AS a3," \
    "  $4::double precision[] AS a4, $5::text[] AS a5," \
    "  $6::double precision[] AS a6, $7::text[] AS a7, $8::text[] AS a8," \
    "  $9::text[] AS a9, $10::text[] AS a10, $11::text[] AS a11 OFFSET 0) p," \
    " unnest(p.a1, p.a2, p.a3, p.a4, p.a5, p.a6, p.a7, p.a8, p.a9, p.a10," \
    "  p.a11)" \
    " WITH ORDINALITY AS u(survey, unit, source_id, at, channel, weight," \
    "  stratum, psu, answers, respondent, hash, n))," \
    SQL_RESPONSE_BATCH_FROM_B

/*
 * For a row of b that was not inserted: the response holding its source id,
 * as (id, hash), at most one row. A copy inserted by this batch comes first
 * (response_keys as this statement sees it does not hold the keys k just
 * claimed), else the key stored before. No row: the key was claimed by a
 * transaction this one waited for.
 *
 * Each lookup is a subquery under a CASE, so it runs only for the rows that
 * were not inserted, one index probe each. A join with response_keys instead
 * let the planner hash the whole table for every batch whenever its
 * statistics still said the table was small (a new database: the plan of
 * the prepared statement kept doing so as the table grew).
 */
#define SQL_RESPONSE_BATCH_OTHER \
    "SELECT f.id, f.content_hash AS hash FROM ins f" \
    " WHERE f.survey = b.survey AND f.source_id = b.source_id" \
    " UNION ALL SELECT rk.response_id, rk.content_hash FROM response_keys rk" \
    " WHERE rk.survey = b.survey AND rk.source_id = b.source_id" \
    " LIMIT 1"

/*
 * The statement after its first CTE: claims, inserts and outcomes, given b,
 * the batch (the columns named as above, n the row's position, id a new id
 * from responses_id_seq for each row).
 */
#define SQL_RESPONSE_BATCH_FROM_B \
    " k AS (" \
    " INSERT INTO response_keys (survey, source_id, response_id, content_hash)" \
    " SELECT DISTINCT ON (survey, source_id) survey, source_id, id, hash" \
    " FROM b WHERE source_id IS NOT NULL ORDER BY survey, source_id, n" \
    " ON CONFLICT (survey, source_id) DO NOTHING RETURNING response_id)," \
    " ins AS (" \
    " INSERT INTO responses (id, survey, unit, source_id, submitted_at," \
    "  channel, weight, stratum, psu, answers, respondent, content_hash)" \
    " SELECT id, survey, unit, source_id, to_timestamp(at), channel, weight," \
    "  stratum, psu, answers::json, respondent::jsonb, hash" \
    " FROM b WHERE source_id IS NULL OR id IN (SELECT response_id FROM k)" \
    " RETURNING id, survey, source_id, content_hash)" \
    " SELECT CASE WHEN i.id IS NOT NULL THEN 'inserted' ELSE (" \
    "  SELECT CASE WHEN o.hash = b.hash THEN 'duplicate' ELSE 'conflict' END" \
    "  FROM (" SQL_RESPONSE_BATCH_OTHER ") o) END," \
    " CASE WHEN i.id IS NOT NULL THEN i.id ELSE (" \
    "  SELECT o.id FROM (" SQL_RESPONSE_BATCH_OTHER ") o) END" \
    " FROM b LEFT JOIN ins i ON i.id = b.id" \
    " ORDER BY b.n"

#endif
