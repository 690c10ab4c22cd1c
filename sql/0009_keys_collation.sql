-- 0009_keys_collation.sql: the idempotency keys compared byte by byte.
--
-- response_keys is probed and extended for every stored response (the
-- claim of its source id, sql_insert.h). Its survey and source id now use
-- the "C" collation: codes and ids are compared as bytes without going
-- through the locale. Equality is unchanged, and under C.UTF-8, which
-- scripts/pg.sh sets up, so is the order (code point order).

ALTER TABLE response_keys
	ALTER COLUMN survey TYPE text COLLATE "C",
	ALTER COLUMN source_id TYPE text COLLATE "C";
