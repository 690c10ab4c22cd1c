-- 0009_statement_checks.sql: the units and surveys of responses checked
-- once per statement instead of once per row, and the idempotency keys
-- compared byte by byte.
--
-- A foreign key checks every inserted row on its own: a lookup and a row
-- lock of its unit, another of its survey. For a batch of responses that is
-- two queries a row, where the batch names a handful of units and one
-- survey. The same promise is now kept per statement: after an INSERT or
-- UPDATE of responses, the distinct units and surveys of its rows are
-- locked FOR KEY SHARE (as the foreign keys locked them, so that a
-- concurrent DELETE waits) and one that does not exist fails the statement
-- with foreign_key_violation (23503), as before. The other direction stays
-- too: a unit or survey that a response names cannot be deleted, have its
-- code changed or be truncated away.
--
-- response_keys is probed and extended for every stored response; its
-- survey and source id now use the "C" collation. Codes and ids are then
-- compared as bytes without going through the locale; under C.UTF-8, which
-- scripts/pg.sh sets up, the order is the same (code point order).

DO $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
		WHERE conrelid = 'responses'::regclass AND contype = 'f'
		AND confrelid IN ('units'::regclass, 'surveys'::regclass)
	LOOP
		EXECUTE format('ALTER TABLE responses DROP CONSTRAINT %I',
			c.conname);
	END LOOP;
END
$$;

CREATE FUNCTION responses_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing text;
BEGIN
	PERFORM 1 FROM units u
		WHERE u.code IN (SELECT DISTINCT unit FROM new_rows)
		FOR KEY SHARE OF u;
	SELECT n.unit INTO missing FROM (SELECT DISTINCT unit FROM new_rows) n
		WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.code = n.unit)
		LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'responses: unit % is not in units', missing
			USING ERRCODE = 'foreign_key_violation',
			COLUMN = 'unit', TABLE = 'responses';
	END IF;
	PERFORM 1 FROM surveys s
		WHERE s.code IN (SELECT DISTINCT survey FROM new_rows)
		FOR KEY SHARE OF s;
	SELECT n.survey INTO missing FROM (SELECT DISTINCT survey FROM new_rows) n
		WHERE NOT EXISTS (SELECT 1 FROM surveys s WHERE s.code = n.survey)
		LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'responses: survey % is not in surveys', missing
			USING ERRCODE = 'foreign_key_violation',
			COLUMN = 'survey', TABLE = 'responses';
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

-- A unit or survey still named by a response stays. The row is locked
-- before a BEFORE trigger runs, so a DELETE waits for a transaction that
-- holds it FOR KEY SHARE and then sees that transaction's responses.
CREATE FUNCTION responses_refs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	used boolean;
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		IF EXISTS (SELECT 1 FROM responses) THEN
			RAISE EXCEPTION '%: responses name its rows', TG_TABLE_NAME
				USING ERRCODE = 'foreign_key_violation';
		END IF;
		RETURN NULL;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.code = OLD.code THEN
		RETURN NEW;
	END IF;
	IF TG_TABLE_NAME = 'units' THEN
		used := EXISTS (SELECT 1 FROM responses WHERE unit = OLD.code);
	ELSE
		used := EXISTS (SELECT 1 FROM responses WHERE survey = OLD.code);
	END IF;
	IF used THEN
		RAISE EXCEPTION '%: % is still named by responses', TG_TABLE_NAME,
			OLD.code USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER units_responses_guard BEFORE DELETE OR UPDATE OF code ON units
	FOR EACH ROW EXECUTE FUNCTION responses_refs_guard();
CREATE TRIGGER units_responses_truncate BEFORE TRUNCATE ON units
	FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_guard();
CREATE TRIGGER surveys_responses_guard BEFORE DELETE OR UPDATE OF code
	ON surveys FOR EACH ROW EXECUTE FUNCTION responses_refs_guard();
CREATE TRIGGER surveys_responses_truncate BEFORE TRUNCATE ON surveys
	FOR EACH STATEMENT EXECUTE FUNCTION responses_refs_guard();

ALTER TABLE response_keys
	ALTER COLUMN survey TYPE text COLLATE "C",
	ALTER COLUMN source_id TYPE text COLLATE "C";
