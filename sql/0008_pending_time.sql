-- 0008_pending_time.sql: agg_pending keeps each queued response's
-- submitted_at beside its id. responses is partitioned by that time
-- (0005_partitions.sql) and its primary key is (id, submitted_at): looked up
-- by id alone, a pending response costs one index probe in every yearly
-- partition; with the time too, the executor prunes the lookup to the one
-- partition that holds it. The triggers and every statement that queues a
-- response now give its time; a response whose time changes while it waits
-- has its queued time changed with it.
--
-- fresh is true for a row the insert trigger queued and nothing queued
-- again since: the response is still exactly as it was inserted. sipasd
-- keeps the responses it has just stored in memory and folds a fresh one
-- from there instead of reading it back; any other queuing (a changed or
-- deleted neighbour, an update, a changed survey definition) clears it, and
-- the response is then read from the table.

ALTER TABLE agg_pending ADD COLUMN submitted_at timestamptz;
ALTER TABLE agg_pending ADD COLUMN fresh boolean NOT NULL DEFAULT false;
UPDATE agg_pending p SET submitted_at = r.submitted_at
	FROM responses r WHERE r.id = p.id;
-- An id whose response is gone has nothing left to fold.
DELETE FROM agg_pending WHERE submitted_at IS NULL;
ALTER TABLE agg_pending ALTER COLUMN submitted_at SET NOT NULL;

CREATE OR REPLACE FUNCTION agg_responses_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agg_pending (id, survey, submitted_at, fresh)
		SELECT id, survey, submitted_at, true FROM new_rows
		ON CONFLICT (id) DO UPDATE
		SET submitted_at = EXCLUDED.submitted_at, fresh = false;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION agg_responses_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	changed bigint[];
BEGIN
	-- An update that leaves everything the statistics read alone (a purged
	-- comment in respondent) changes no state.
	IF TG_OP = 'UPDATE' THEN
		SELECT array_agg(o.id) INTO changed
		FROM old_rows o JOIN new_rows n ON n.id = o.id
		WHERE (o.survey, o.unit, o.submitted_at, o.channel, o.weight,
			o.stratum, o.psu, o.answers)
			IS DISTINCT FROM (n.survey, n.unit, n.submitted_at, n.channel,
			n.weight, n.stratum, n.psu, n.answers);
	ELSE
		SELECT array_agg(id) INTO changed FROM old_rows;
	END IF;
	IF changed IS NULL THEN
		RETURN NULL;
	END IF;
	PERFORM agg_lock_surveys(ARRAY(SELECT survey FROM old_rows
		WHERE id = ANY (changed)));
	-- Every state of the months concerned goes (the roll-up '*' holds all
	-- channels), and every response left in them is queued again.
	WITH k AS (
		SELECT DISTINCT survey, unit, sipas_vn_month(submitted_at) AS month
			FROM old_rows WHERE id = ANY (changed)),
	gone AS (
		DELETE FROM agg_states s USING k
		WHERE s.survey = k.survey AND s.unit = k.unit AND s.month = k.month)
	INSERT INTO agg_pending (id, survey, submitted_at)
		SELECT r.id, r.survey, r.submitted_at FROM responses r JOIN k g
			ON r.survey = g.survey AND r.unit = g.unit
			AND r.submitted_at >= ((g.month::text || ' 00:00:00+07')::timestamptz)
			AND r.submitted_at < (((g.month + interval '1 month')::date::text
				|| ' 00:00:00+07')::timestamptz)
		ON CONFLICT (id) DO UPDATE
		SET submitted_at = EXCLUDED.submitted_at, fresh = false;
	IF TG_OP = 'DELETE' THEN
		DELETE FROM agg_pending p WHERE p.id = ANY (changed);
	ELSE
		INSERT INTO agg_pending (id, survey, submitted_at)
			SELECT id, survey, submitted_at FROM new_rows
			WHERE id = ANY (changed)
			ON CONFLICT (id) DO UPDATE
			SET survey = EXCLUDED.survey, submitted_at = EXCLUDED.submitted_at,
				fresh = false;
	END IF;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION agg_survey_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.definition IS DISTINCT FROM OLD.definition THEN
		PERFORM agg_lock_surveys(ARRAY[NEW.code]);
		DELETE FROM agg_states WHERE survey = NEW.code;
		INSERT INTO agg_pending (id, survey, submitted_at)
			SELECT id, survey, submitted_at FROM responses
			WHERE survey = NEW.code
			ON CONFLICT (id) DO UPDATE SET fresh = false;
	END IF;
	RETURN NULL;
END
$$;
