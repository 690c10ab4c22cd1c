-- 0001_init.sql: the first schema of sipas.
--
-- Applied by `sipasctl init` inside one transaction, which also records the
-- version in schema_version; sipasd refuses to start on a version it does not
-- know. Never edit a migration that has shipped: add 0002_*.sql instead.

CREATE TABLE schema_version (
	version     integer PRIMARY KEY,
	name        text NOT NULL,
	applied_at  timestamptz NOT NULL DEFAULT now()
);

-- The administrative tree: province, department, district, commune, desk.
CREATE TABLE units (
	code        text PRIMARY KEY CHECK (code <> ''),
	name        text NOT NULL,
	level       text NOT NULL,
	parent      text REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (parent IS NULL OR parent <> code)
);
CREATE INDEX units_parent_idx ON units (parent);

-- Survey definitions (docs/interfaces.md, "Survey definition"), one row per
-- code.
CREATE TABLE surveys (
	code        text PRIMARY KEY,
	version     integer NOT NULL,
	definition  jsonb NOT NULL,
	builtin     boolean NOT NULL DEFAULT false,
	loaded_at   timestamptz NOT NULL DEFAULT now()
);

-- One stored response. answers and respondent are kept as received; the
-- content hash (SHA-256 of the canonical content, id excluded) decides
-- whether a replay of the same source id is the same response (200) or
-- another one (409).
CREATE TABLE responses (
	id            bigserial PRIMARY KEY,
	survey        text NOT NULL REFERENCES surveys (code),
	unit          text NOT NULL REFERENCES units (code),
	source_id     text,
	submitted_at  timestamptz NOT NULL,
	received_at   timestamptz NOT NULL DEFAULT now(),
	channel       text NOT NULL CHECK (channel IN ('paper', 'web', 'sms', 'kiosk')),
	weight        double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
	stratum       text,
	psu           text,
	answers       jsonb NOT NULL,
	respondent    jsonb,
	content_hash  text NOT NULL,
	UNIQUE (survey, source_id)
);
CREATE INDEX responses_survey_unit_time_idx ON responses (survey, unit, submitted_at);

-- API tokens: only the SHA-256 of the secret is stored.
CREATE TABLE tokens (
	id          bigserial PRIMARY KEY,
	name        text NOT NULL DEFAULT '',
	hash        text NOT NULL UNIQUE,
	role        text NOT NULL CHECK (role IN ('collector', 'uploader', 'viewer', 'admin')),
	unit        text REFERENCES units (code),
	created_at  timestamptz NOT NULL DEFAULT now(),
	revoked_at  timestamptz
);

-- Who changed what, for operators.
CREATE TABLE audit_log (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL DEFAULT now(),
	actor       text NOT NULL,
	action      text NOT NULL,
	detail      jsonb
);
