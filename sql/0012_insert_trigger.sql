-- 0012_insert_trigger.sql: one statement trigger for an insert into
-- responses, and the reference check without row locks.
--
-- A batch of responses ran two statement triggers, each a PL/pgSQL call of
-- its own: the reference check of 0011_reference_checks.sql and the queue
-- of 0009_fresh_batches.sql. On responses itself they are now one trigger,
-- responses_insert, running responses_refs_check('queue'): the check, then
-- the batch into agg_fresh. The partitions keep their responses_refs_insert
-- (a check only: a statement on a partition was never queued).
--
-- The check locked every survey and unit a statement named FOR KEY SHARE
-- so that a concurrent delete of one could not slip between the check and
-- the commit. Each lock wrote the row and a WAL record, about a third of
-- the triggers' time for a batch. In a READ COMMITTED transaction, where
-- sipasd and sipasctl write, the check now takes a transaction-level
-- advisory lock in shared mode for each survey and unit named (keyed by
-- the hash of its code: in memory, no WAL), and a delete of a survey or
-- unit, or a change of its code, takes that one in exclusive mode before
-- it looks for responses (responses_refs_kept, which already refuses to
-- run in any other isolation level). So a delete waits for the inserts
-- and updates under way that name it and then sees what they committed,
-- and one that starts while the delete is under way waits for it and then
-- looks with a snapshot taken after it. The promises of 0011 hold as they
-- were; a delete holds back the writes that name what it deletes (and,
-- rarely, those naming another code of the same hash) until it commits.
--
-- In REPEATABLE READ or SERIALIZABLE the snapshot is the transaction's, so
-- a lock taken later would not make a committed delete visible: there the
-- check locks the rows FOR KEY SHARE as before (a row deleted meanwhile is
-- a serialization failure, as with a foreign key).

CREATE OR REPLACE FUNCTION responses_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing text;
	rc boolean := current_setting('transaction_isolation') = 'read committed';
BEGIN
	IF rc THEN
		-- One lock per survey and unit named (by an update: newly named),
		-- the keys of responses_refs_kept: two int4 keys, apart from the
		-- folder's one-bigint locks. Each statement after this one takes
		-- a new snapshot.
		IF TG_OP = 'INSERT' THEN
			PERFORM pg_advisory_xact_lock_shared(k.class, k.code)
				FROM (SELECT hashtext('sipas-refs-survey') AS class,
						hashtext(survey) AS code FROM new_rows
					UNION SELECT hashtext('sipas-refs-unit'),
						hashtext(unit) FROM new_rows
					ORDER BY 1, 2) k;
		ELSE
			PERFORM pg_advisory_xact_lock_shared(k.class, k.code)
				FROM ((SELECT hashtext('sipas-refs-survey') AS class,
						hashtext(survey) AS code FROM new_rows
					UNION SELECT hashtext('sipas-refs-unit'),
						hashtext(unit) FROM new_rows)
					EXCEPT (SELECT hashtext('sipas-refs-survey'),
						hashtext(survey) FROM old_rows
					UNION SELECT hashtext('sipas-refs-unit'),
						hashtext(unit) FROM old_rows)
					ORDER BY 1, 2) k;
		END IF;
		IF TG_OP = 'INSERT' THEN
			SELECT min(n.survey) INTO missing
				FROM (SELECT DISTINCT survey FROM new_rows) n
				WHERE NOT EXISTS (SELECT 1 FROM surveys s
					WHERE s.code = n.survey);
		ELSE
			SELECT min(n.survey) INTO missing
				FROM (SELECT survey FROM new_rows
					EXCEPT SELECT survey FROM old_rows) n
				WHERE NOT EXISTS (SELECT 1 FROM surveys s
					WHERE s.code = n.survey);
		END IF;
	ELSIF TG_OP = 'INSERT' THEN
		WITH n AS (SELECT DISTINCT survey FROM new_rows),
		l AS MATERIALIZED (SELECT code FROM surveys
			WHERE code IN (SELECT survey FROM n) FOR KEY SHARE)
		SELECT min(survey) INTO missing FROM n
			WHERE survey NOT IN (SELECT code FROM l);
	ELSE
		WITH n AS (SELECT survey FROM new_rows
			EXCEPT SELECT survey FROM old_rows),
		l AS MATERIALIZED (SELECT code FROM surveys
			WHERE code IN (SELECT survey FROM n) FOR KEY SHARE)
		SELECT min(survey) INTO missing FROM n
			WHERE survey NOT IN (SELECT code FROM l);
	END IF;
	IF missing IS NOT NULL THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('survey %L does not exist', missing),
			HINT = 'store the survey first (sipasctl survey)';
	END IF;
	IF rc THEN
		IF TG_OP = 'INSERT' THEN
			SELECT min(n.unit) INTO missing
				FROM (SELECT DISTINCT unit FROM new_rows) n
				WHERE NOT EXISTS (SELECT 1 FROM units u
					WHERE u.code = n.unit);
		ELSE
			SELECT min(n.unit) INTO missing
				FROM (SELECT unit FROM new_rows
					EXCEPT SELECT unit FROM old_rows) n
				WHERE NOT EXISTS (SELECT 1 FROM units u
					WHERE u.code = n.unit);
		END IF;
	ELSIF TG_OP = 'INSERT' THEN
		WITH n AS (SELECT DISTINCT unit FROM new_rows),
		l AS MATERIALIZED (SELECT code FROM units
			WHERE code IN (SELECT unit FROM n) FOR KEY SHARE)
		SELECT min(unit) INTO missing FROM n
			WHERE unit NOT IN (SELECT code FROM l);
	ELSE
		WITH n AS (SELECT unit FROM new_rows
			EXCEPT SELECT unit FROM old_rows),
		l AS MATERIALIZED (SELECT code FROM units
			WHERE code IN (SELECT unit FROM n) FOR KEY SHARE)
		SELECT min(unit) INTO missing FROM n
			WHERE unit NOT IN (SELECT code FROM l);
	END IF;
	IF missing IS NOT NULL THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('unit %L does not exist', missing),
			HINT = 'add the unit first (sipasctl unit)';
	END IF;
	-- On responses itself: the inserted batch waits in agg_fresh for the
	-- folder (agg_responses_inserted of 0009_fresh_batches.sql).
	IF TG_OP = 'INSERT' AND TG_NARGS > 0 AND TG_ARGV[0] = 'queue' THEN
		INSERT INTO agg_fresh (survey, ids, times)
			SELECT survey, array_agg(id ORDER BY id),
				array_agg(submitted_at ORDER BY id)
			FROM new_rows GROUP BY survey;
	END IF;
	RETURN NULL;
END
$$;

DROP TRIGGER responses_agg_insert ON responses;
DROP TRIGGER responses_refs_insert ON responses;
CREATE TRIGGER responses_insert AFTER INSERT ON responses
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_check('queue');

DROP FUNCTION agg_responses_inserted();

CREATE OR REPLACE FUNCTION responses_refs_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	used boolean;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.code = OLD.code THEN
		RETURN NULL;
	END IF;
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE serialization_failure USING
			MESSAGE = format('a %s can be deleted or get another code only '
				'in a READ COMMITTED transaction', TG_TABLE_NAME),
			HINT = 'retry it without REPEATABLE READ or SERIALIZABLE';
	END IF;
	-- Wait for the writes under way that name this survey or unit
	-- (responses_refs_check) and hold back those to come; the next
	-- statement sees what they committed.
	PERFORM pg_advisory_xact_lock(hashtext('sipas-refs-' || TG_ARGV[0]),
		hashtext(OLD.code));
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM responses WHERE %I = $1)',
		TG_ARGV[0]) INTO used USING OLD.code;
	IF used THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('%s %L is named by stored responses',
				TG_ARGV[0], OLD.code),
			HINT = 'responses keep their survey and unit';
	END IF;
	RETURN NULL;
END
$$;
