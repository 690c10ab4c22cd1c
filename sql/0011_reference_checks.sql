-- 0011_reference_checks.sql: the survey and unit a response names are
-- checked once per statement instead of once per row.
--
-- The two foreign keys of responses ran two lookups for every inserted row
-- (each a query of its own, with its row lock), about a fifth of the CPU
-- of storing a batch. They are replaced by statement-level triggers that
-- keep the same promises, by SQLSTATE 23503 (foreign_key_violation):
--
-- * an insert or update of responses naming a survey or unit that does not
--   exist fails as a whole. The check locks each distinct survey and unit
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

CREATE OR REPLACE FUNCTION responses_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing text;
BEGIN
	PERFORM 1 FROM surveys s
		WHERE s.code IN (SELECT DISTINCT survey FROM new_rows)
		FOR KEY SHARE OF s;
	SELECT n.survey INTO missing FROM (SELECT DISTINCT survey FROM new_rows) n
		WHERE NOT EXISTS (SELECT 1 FROM surveys s WHERE s.code = n.survey)
		LIMIT 1;
	IF FOUND THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('survey %L does not exist', missing),
			HINT = 'store the survey first (sipasctl survey)';
	END IF;
	PERFORM 1 FROM units u
		WHERE u.code IN (SELECT DISTINCT unit FROM new_rows)
		FOR KEY SHARE OF u;
	SELECT n.unit INTO missing FROM (SELECT DISTINCT unit FROM new_rows) n
		WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.code = n.unit)
		LIMIT 1;
	IF FOUND THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('unit %L does not exist', missing),
			HINT = 'add the unit first (sipasctl unit)';
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER responses_refs_insert AFTER INSERT ON responses
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_check();
CREATE TRIGGER responses_refs_update AFTER UPDATE ON responses
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_check();

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
