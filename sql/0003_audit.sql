-- 0003_audit.sql: the audit log is append-only.
--
-- Rows are only ever inserted: an UPDATE, DELETE or TRUNCATE of audit_log
-- fails with SQLSTATE 55000 whoever runs it, so neither a bug in sipas nor an
-- operator's slip can rewrite what was recorded. (A superuser can still drop
-- the trigger; that, too, is visible in PostgreSQL's own log.)

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
		USING ERRCODE = '55000';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
