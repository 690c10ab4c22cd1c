/*
 * sql_insert.h: the one statement that stores a response, shared by sipasd's
 * batched writes (daemon/store/store.c) and sipasctl import (ctl/import.c) so both
 * decide "inserted", "duplicate" or "conflict" the same way.
 *
 * Parameters: $1 survey, $2 unit, $3 source id (or NULL), $4 submitted_at
 * (Unix seconds), $5 channel, $6 weight, $7 stratum, $8 psu, $9 answers
 * (JSON), $10 respondent (JSON), $11 content hash. A row inserted earlier in
 * the same transaction is visible to the later statement, so two copies in
 * one batch are told apart too.
 *
 * responses is partitioned by year (sql/0005_partitions.sql), so the
 * idempotency key (survey, source id) lives in response_keys: the key is
 * claimed first, with the response's id taken from the sequence, and the
 * response is inserted only if the claim succeeded (or there is no id).
 */
#ifndef SIPAS_SQL_INSERT_H
#define SIPAS_SQL_INSERT_H

#define SQL_RESPONSE_INSERT \
    "WITH k AS (" \
    " INSERT INTO response_keys (survey, source_id, response_id, content_hash)" \
    " SELECT $1, $3, nextval('responses_id_seq'), $11" \
    " WHERE $3::text IS NOT NULL" \
    " ON CONFLICT (survey, source_id) DO NOTHING RETURNING response_id)," \
    " ins AS (" \
    " INSERT INTO responses (id, survey, unit, source_id, submitted_at," \
    "  channel, weight, stratum, psu, answers, respondent, content_hash)" \
    " SELECT coalesce((SELECT response_id FROM k)," \
    "  nextval('responses_id_seq')), $1, $2, $3," \
    "  to_timestamp($4::double precision), $5, $6::double precision, $7, $8," \
    "  $9::jsonb, $10::jsonb, $11" \
    " WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM k)" \
    " RETURNING id)" \
    " SELECT 'inserted', id FROM ins" \
    " UNION ALL" \
    " SELECT CASE WHEN rk.content_hash = $11 THEN 'duplicate'" \
    "  ELSE 'conflict' END, rk.response_id FROM response_keys rk" \
    " WHERE $3::text IS NOT NULL AND rk.survey = $1 AND rk.source_id = $3" \
    "  AND NOT EXISTS (SELECT 1 FROM k)"

#endif
