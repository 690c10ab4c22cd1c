-- 0004_aggregates.sql: incremental aggregates (docs/scale.md).
--
-- agg_states holds, per (survey, unit, Vietnam month, channel), the
-- sufficient statistics of every response folded so far, and per (survey,
-- unit, month) a roll-up of every channel (channel '*'): a state of
-- analysis/state.c (the per-stratum sums and cross products, the named
-- PSUs' totals, distributions, distinct weights). Indices for a range of
-- whole months merge states; the days at either end of a range and the
-- responses not yet folded are read raw. Results are the same as from the
-- rows (tests/unit/test_fixtures, tests/integration/aggregates.sh).
--
-- agg_pending lists the responses not yet folded. A trigger fills it on every
-- insert, whoever inserts (sipasd, sipasctl import, psql); sipasd's folder
-- (daemon/store/aggregator.c) or `sipasctl aggregate` takes rows from it and
-- updates the states in one transaction, so a response is in exactly one of
-- the two.
-- A response deleted or changed after folding makes its month's state stale:
-- the trigger drops that state and queues the month's remaining responses
-- again. A survey whose definition changes has all its states rebuilt.

-- The Vietnam (UTC+7, no daylight saving) month of a time.
CREATE FUNCTION sipas_vn_month(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT date_trunc('month', (t AT TIME ZONE 'UTC') + interval '7 hours')::date
$$;

CREATE TABLE agg_pending (
	id      bigint PRIMARY KEY,
	survey  text NOT NULL
);
CREATE INDEX agg_pending_survey_idx ON agg_pending (survey, id);

CREATE SEQUENCE agg_stamp_seq;

CREATE TABLE agg_states (
	survey      text NOT NULL REFERENCES surveys (code),
	unit        text NOT NULL REFERENCES units (code),
	month       date NOT NULL,
	channel     text NOT NULL,
	rows        bigint NOT NULL,
	state       bytea NOT NULL,
	stamp       bigint NOT NULL DEFAULT nextval('agg_stamp_seq'),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (survey, month, unit, channel)
);
-- States are dense binary numbers: compressing them gains little and costs
-- time on every read.
ALTER TABLE agg_states ALTER COLUMN state SET STORAGE EXTERNAL;

CREATE FUNCTION agg_responses_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agg_pending (id, survey)
		SELECT id, survey FROM new_rows
		ON CONFLICT (id) DO NOTHING;
	RETURN NULL;
END
$$;

CREATE TRIGGER responses_agg_insert AFTER INSERT ON responses
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_inserted();

-- Deleted or changed responses: drop the states of their months and queue
-- what remains of those months (the changed rows themselves included).
-- Each takes the folders' lock of the surveys concerned first (see
-- include/sipas/sql_agg.h): a fold running at the same time would otherwise
-- write back states that still hold the changed rows after this trigger
-- dropped them. Statements after the lock see what that fold committed.
CREATE FUNCTION agg_lock_surveys(surveys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	s text;
BEGIN
	FOREACH s IN ARRAY (SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest(surveys) x)
	LOOP
		PERFORM pg_advisory_xact_lock(hashtext('sipas-aggregate:' || s));
	END LOOP;
END
$$;

CREATE FUNCTION agg_responses_changed() RETURNS trigger
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
	INSERT INTO agg_pending (id, survey)
		SELECT r.id, r.survey FROM responses r JOIN k g
			ON r.survey = g.survey AND r.unit = g.unit
			AND r.submitted_at >= ((g.month::text || ' 00:00:00+07')::timestamptz)
			AND r.submitted_at < (((g.month + interval '1 month')::date::text
				|| ' 00:00:00+07')::timestamptz)
		ON CONFLICT (id) DO NOTHING;
	IF TG_OP = 'DELETE' THEN
		DELETE FROM agg_pending p WHERE p.id = ANY (changed);
	ELSE
		INSERT INTO agg_pending (id, survey)
			SELECT id, survey FROM new_rows WHERE id = ANY (changed)
			ON CONFLICT (id) DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER responses_agg_delete AFTER DELETE ON responses
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_changed();
CREATE TRIGGER responses_agg_update AFTER UPDATE ON responses
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION agg_responses_changed();

CREATE FUNCTION agg_survey_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.definition IS DISTINCT FROM OLD.definition THEN
		PERFORM agg_lock_surveys(ARRAY[NEW.code]);
		DELETE FROM agg_states WHERE survey = NEW.code;
		INSERT INTO agg_pending (id, survey)
			SELECT id, survey FROM responses WHERE survey = NEW.code
			ON CONFLICT (id) DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER surveys_agg_update AFTER UPDATE ON surveys
	FOR EACH ROW EXECUTE FUNCTION agg_survey_changed();

-- Whatever is stored already is folded by the first run of the folder.
INSERT INTO agg_pending (id, survey) SELECT id, survey FROM responses;
