/*
 * sql_insert.h: the one statement that stores a response, shared by sipasd's
 * batched writes (daemon/store.c) and sipasctl import (ctl/import.c) so both
 * decide "inserted", "duplicate" or "conflict" the same way.
 *
 * Parameters: $1 survey, $2 unit, $3 source id (or NULL), $4 submitted_at
 * (Unix seconds), $5 channel, $6 weight, $7 stratum, $8 psu, $9 answers
 * (JSON), $10 respondent (JSON), $11 content hash. A row inserted earlier in
 * the same transaction is visible to the later statement, so two copies in
 * one batch are told apart too.
 */
#ifndef SIPAS_SQL_INSERT_H
#define SIPAS_SQL_INSERT_H

#define SQL_RESPONSE_INSERT \
    "WITH ins AS (" \
    " INSERT INTO responses (survey, unit, source_id, submitted_at, channel," \
    "  weight, stratum, psu, answers, respondent, content_hash)" \
    " VALUES ($1, $2, $3, to_timestamp($4::double precision), $5," \
    "  $6::double precision, $7, $8, $9::jsonb, $10::jsonb, $11)" \
    " ON CONFLICT (survey, source_id) DO NOTHING RETURNING id)" \
    " SELECT 'inserted', id FROM ins" \
    " UNION ALL" \
    " SELECT CASE WHEN r.content_hash = $11 THEN 'duplicate' ELSE 'conflict'" \
    "  END, r.id FROM responses r" \
    " WHERE $3::text IS NOT NULL AND r.survey = $1 AND r.source_id = $3" \
    "  AND NOT EXISTS (SELECT 1 FROM ins)"

#endif
