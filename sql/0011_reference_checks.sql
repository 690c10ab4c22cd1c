-- 0011_reference_checks.sql: the survey and unit a response names are
-- checked once per statement instead of once per row.
--
-- The two foreign keys of responses ran two lookups for every inserted row
-- (each a query of its own, with its row lock), about a fifth of the CPU
-- of storing a batch. They are replaced by statement-level triggers that
-- keep the same promises, by SQLSTATE 23503 (foreign_key_violation):
--
-- * an insert or update of responses (or of one of its partitions) naming
--   a survey or unit that does not exist fails as a whole. The check locks each distinct survey and unit
--   the statement names FOR KEY SHARE, as a foreign key does, so that a
--   concurrent delete of one of them either waits for this transaction or
--   makes the check fail;
-- * a delete of a survey or unit, or a change of its code, fails while a
--   response names it. This check runs after the rows are deleted (after
--   waiting for the inserts that locked them) and reads the committed
--   responses, so it is only sound in a READ COMMITTED transaction: in any
--   other, such a delete or change is refused (40001, retry it in READ
--   COMMITTED).
--
-- A year detached from responses before this upgrade keeps its own copies
-- of the foreign keys; they do no harm once it is attached again.

DO $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
		WHERE conrelid = 'responses'::regclass AND contype = 'f'
		AND confrelid IN ('surveys'::regclass, 'units'::regclass)
	LOOP
		EXECUTE format('ALTER TABLE responses DROP CONSTRAINT %I',
			c.conname);
	END LOOP;
END
$$;

-- Each check locks and looks in one statement (one snapshot): a survey or
-- unit committed between a separate lock and look would pass unlocked. An
-- update checks only what its rows name that they did not name before (a
-- foreign key skips rows whose key did not change), so that purging a text
-- does not lock every unit of the purged rows.
CREATE OR REPLACE FUNCTION responses_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing text;
BEGIN
	IF TG_OP = 'INSERT' THEN
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
	IF TG_OP = 'INSERT' THEN
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
	RETURN NULL;
END
$$;

-- On responses and on each of its partitions: a statement-level trigger of
-- a partitioned table fires only for statements on that table, and one of a
-- partition only for statements on the partition itself, so a row is
-- checked once whichever table a statement names. (A partition added later
-- needs the two triggers too: docs/scale.md.)
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN SELECT 'responses'::regclass UNION ALL
		SELECT inhrelid::regclass FROM pg_inherits
		WHERE inhparent = 'responses'::regclass
	LOOP
		EXECUTE format('CREATE TRIGGER responses_refs_insert AFTER INSERT '
			'ON %s REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
			'EXECUTE FUNCTION responses_refs_check()', t);
		EXECUTE format('CREATE TRIGGER responses_refs_update AFTER UPDATE '
			'ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
			'FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_check()', t);
	END LOOP;
END
$$;

-- A survey or unit (TG_ARGV[0]: the column of responses that names it) that
-- goes away or changes its code while a response names it.
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

CREATE TRIGGER surveys_refs_kept AFTER DELETE OR UPDATE OF code ON surveys
	FOR EACH ROW EXECUTE FUNCTION responses_refs_kept('survey');
CREATE TRIGGER units_refs_kept AFTER DELETE OR UPDATE OF code ON units
	FOR EACH ROW EXECUTE FUNCTION responses_refs_kept('unit');
