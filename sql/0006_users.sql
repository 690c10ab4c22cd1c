-- 0006_users.sql: accounts for people, beside the API tokens of machines.
--
-- A person signs in to the dashboard with a login and a password. Only an
-- Argon2id hash of the password is stored, in its encoded form
-- ($argon2id$v=19$m=...,t=...,p=...$salt$hash), which carries its own salt
-- and parameters, so the parameters can be raised later without a new
-- column. unit is the scope (NULL: every unit), as for tokens. A disabled
-- account cannot sign in and its sessions end; rows are never deleted, so
-- the audit log's actors stay meaningful.

CREATE TABLE users (
	id                   bigserial PRIMARY KEY,
	login                text NOT NULL UNIQUE
	    CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
	display_name         text NOT NULL DEFAULT '',
	role                 text NOT NULL
	    CHECK (role IN ('viewer', 'uploader', 'admin')),
	unit                 text REFERENCES units (code),
	password_hash        text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
	disabled_at          timestamptz,
	created_at           timestamptz NOT NULL DEFAULT now(),
	password_changed_at  timestamptz NOT NULL DEFAULT now()
);
