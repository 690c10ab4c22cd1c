-- 0005_partitions.sql: responses partitioned by year (docs/scale.md).
--
-- responses becomes a table partitioned by RANGE (submitted_at), one
-- partition per calendar year (UTC) from 2010 to 2040 plus a default one, so
-- a year can be archived with DETACH PARTITION or dropped whole instead of
-- row by row. PostgreSQL wants the partition key in every unique constraint,
-- so the idempotency key (survey, source_id) moves to response_keys, written
-- by the same statement as the response (include/sipas/sql_insert.h); the
-- primary key becomes (id, submitted_at), ids still come from one sequence.
-- sms_messages.response_id stays a plain column (a foreign key to a
-- partitioned table must name the whole key).

CREATE TABLE response_keys (
	survey        text NOT NULL,
	source_id     text NOT NULL,
	response_id   bigint NOT NULL,
	content_hash  text NOT NULL,
	PRIMARY KEY (survey, source_id)
);

ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_response_id_fkey;

ALTER TABLE responses RENAME TO responses_unpartitioned;
DROP TRIGGER responses_agg_insert ON responses_unpartitioned;
DROP TRIGGER responses_agg_delete ON responses_unpartitioned;
DROP TRIGGER responses_agg_update ON responses_unpartitioned;

CREATE TABLE responses (
	id            bigint NOT NULL DEFAULT nextval('responses_id_seq'),
	survey        text NOT NULL REFERENCES surveys (code),
	unit          text NOT NULL REFERENCES units (code),
	source_id     text,
	submitted_at  timestamptz NOT NULL,
	received_at   timestamptz NOT NULL DEFAULT now(),
	channel       text NOT NULL CHECK (channel IN ('paper', 'web', 'sms', 'kiosk')),
	weight        double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
	stratum       text,
	psu           text,
	answers       jsonb NOT NULL,
	respondent    jsonb,
	content_hash  text NOT NULL,
	PRIMARY KEY (id, submitted_at)
) PARTITION BY RANGE (submitted_at);

DO $$
DECLARE
	y integer;
BEGIN
	FOR y IN 2010..2040 LOOP
		EXECUTE format('CREATE TABLE responses_y%s PARTITION OF responses'
			' FOR VALUES FROM (%L) TO (%L)', y,
			y || '-01-01 00:00:00+00', (y + 1) || '-01-01 00:00:00+00');
	END LOOP;
END
$$;
CREATE TABLE responses_default PARTITION OF responses DEFAULT;

INSERT INTO responses SELECT * FROM responses_unpartitioned;
INSERT INTO response_keys (survey, source_id, response_id, content_hash)
	SELECT survey, source_id, id, content_hash FROM responses_unpartitioned
	WHERE source_id IS NOT NULL;
ALTER SEQUENCE responses_id_seq OWNED BY responses.id;
DROP TABLE responses_unpartitioned;

CREATE INDEX responses_survey_unit_time_idx ON responses (survey, unit, submitted_at);

CREATE TRIGGER responses_agg_insert AFTER INSERT ON responses
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_inserted();
CREATE TRIGGER responses_agg_delete AFTER DELETE ON responses
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_changed();
CREATE TRIGGER responses_agg_update AFTER UPDATE ON responses
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_changed();

-- A deleted response frees its id: the same id may be stored again.
CREATE FUNCTION response_keys_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM response_keys k USING old_rows o
		WHERE k.survey = o.survey AND k.source_id = o.source_id
		AND k.response_id = o.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER responses_keys_delete AFTER DELETE ON responses
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION response_keys_deleted();
