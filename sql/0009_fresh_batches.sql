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
-- one row each, still fresh (agg_fresh_flatten): the changed and deleted
-- responses themselves are then found in agg_pending. Inserts take no lock,
-- so a response may be committed, with its agg_fresh row, between that
-- flatten and the statement that queues its month again: every such
-- statement therefore leaves out the ids agg_fresh holds in its own
-- snapshot (they stay there, to be folded once), so that no response is
-- ever queued in both tables.
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
		SELECT DISTINCT ON (u.id) u.id, g.survey, u.submitted_at, true
		FROM gone g, unnest(g.ids, g.times) AS u (id, submitted_at)
		ORDER BY u.id, u.submitted_at DESC
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

-- The requeues of 0008_pending_time.sql, leaving out the responses that
-- wait in agg_fresh (see above).
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
		WHERE r.id NOT IN (SELECT unnest(f.ids) FROM agg_fresh f
			WHERE f.survey IN (SELECT survey FROM k))
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
			WHERE survey = NEW.code AND id NOT IN (SELECT unnest(f.ids)
				FROM agg_fresh f WHERE f.survey = NEW.code)
			ON CONFLICT (id) DO UPDATE SET fresh = false;
	END IF;
	RETURN NULL;
END
$$;
