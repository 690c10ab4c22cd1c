-- 0009_fresh_batches.sql: newly inserted responses are queued for the
-- folder as one row per inserting statement and survey, not one row each.
--
-- Until now the insert trigger wrote a row of agg_pending per response (a
-- heap tuple and two index entries, written by the inserting transaction)
-- and the fold deleted it again (another index scan and a dead tuple for
-- vacuum): per stored response, about as much work as storing a second
-- small row. agg_fresh holds instead, per statement that inserted responses
-- and per survey, the ids and submitted_at of those responses as two
-- arrays in the same order. Every response in agg_fresh is fresh in the
-- sense of 0008_pending_time.sql: as it was inserted, never queued again.
--
-- agg_pending keeps everything else: responses queued again because a
-- neighbour changed or was deleted, because the response itself changed,
-- because the survey's definition changed, or by a rebuild. Before any of
-- those requeues, the surveys concerned are locked for folding
-- (agg_lock_surveys) and their agg_fresh rows are moved into agg_pending,
-- one row each, still fresh (agg_fresh_flatten): a response is then queued
-- in at most one place, and the requeue's ON CONFLICT sees it and clears
-- the flag of those it queues again because of a change.
--
-- agg_queue is every queued response, whichever table holds it: what the
-- indices and reports read raw for the months whose states are not up to
-- date.

CREATE TABLE agg_fresh (
	id      bigserial PRIMARY KEY,
	survey  text NOT NULL,
	ids     bigint[] NOT NULL,
	times   timestamptz[] NOT NULL,
	CHECK (cardinality(ids) = cardinality(times) AND cardinality(ids) > 0)
);
CREATE INDEX agg_fresh_survey_idx ON agg_fresh (survey, id);

CREATE VIEW agg_queue AS
	SELECT id, survey, submitted_at, fresh FROM agg_pending
	UNION ALL
	SELECT u.id, f.survey, u.submitted_at, true AS fresh
		FROM agg_fresh f,
		unnest(f.ids, f.times) AS u (id, submitted_at);

-- Move the fresh batches of the given surveys into agg_pending, one row
-- per response, fresh unless agg_pending already held the id. Called with
-- the surveys' fold lock held.
CREATE FUNCTION agg_fresh_flatten(surveys text[]) RETURNS void
LANGUAGE sql AS $$
	WITH gone AS (
		DELETE FROM agg_fresh WHERE survey = ANY (surveys)
		RETURNING survey, ids, times)
	INSERT INTO agg_pending (id, survey, submitted_at, fresh)
		SELECT u.id, g.survey, u.submitted_at, true
		FROM gone g, unnest(g.ids, g.times) AS u (id, submitted_at)
		ON CONFLICT (id) DO UPDATE
		SET submitted_at = EXCLUDED.submitted_at, fresh = false;
$$;

-- Every path that queues responses again takes the fold lock through this
-- function first: it now also flattens the surveys' fresh batches.
CREATE OR REPLACE FUNCTION agg_lock_surveys(surveys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	s text;
	locked text[];
BEGIN
	SELECT array_agg(DISTINCT x ORDER BY x) INTO locked FROM unnest(surveys) x;
	IF locked IS NULL THEN
		RETURN;
	END IF;
	FOREACH s IN ARRAY locked
	LOOP
		PERFORM pg_advisory_xact_lock(hashtext('sipas-aggregate:' || s));
	END LOOP;
	PERFORM agg_fresh_flatten(locked);
END
$$;

CREATE OR REPLACE FUNCTION agg_responses_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agg_fresh (survey, ids, times)
		SELECT survey, array_agg(id ORDER BY id),
			array_agg(submitted_at ORDER BY id)
		FROM new_rows GROUP BY survey;
	RETURN NULL;
END
$$;
