-- 0010_answers_json.sql: responses.answers becomes json (the text as
-- written) instead of jsonb.
--
-- Nothing in the database looks inside the answers: every reader (the
-- folder, the indices, the reports, the export) takes them as text and
-- parses them itself. As jsonb, every stored response paid for a parse into
-- the binary form (each number through numeric input, the keys sorted) and
-- was stored at about twice the size of its text; json only checks the
-- syntax and keeps the text. The ->> operator and json_object_keys still
-- work in psql.
--
-- This rewrites every partition of responses once. A year detached from
-- responses before this upgrade keeps jsonb: convert it the same way before
-- attaching it back (ALTER TABLE responses_yNNNN ALTER COLUMN answers TYPE
-- json).

ALTER TABLE responses ALTER COLUMN answers TYPE json USING answers::json;

-- json has no equality operator: an update is compared on the answers'
-- text. A text that changes only in its spacing counts as a change and
-- queues its month again, which costs a fold and changes no figure.
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
			o.stratum, o.psu, o.answers::text)
			IS DISTINCT FROM (n.survey, n.unit, n.submitted_at, n.channel,
			n.weight, n.stratum, n.psu, n.answers::text);
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
