-- 0002_sms.sql: the SMS channel (docs/sms.md).
--
-- sms_messages keeps every incoming SMS raw, whatever became of it; the
-- sender only as a keyed hash (HMAC-SHA256 with sipasd's sms_phone_secret)
-- and a masked form for people. (gateway, external_id) makes a gateway's
-- retry of the same message idempotent: it is stored once and gets the same
-- reply. sms_dialogues holds the one open dialogue per sender; sms_quota
-- the one response per sender, survey, unit and period.

CREATE TABLE sms_messages (
	id             bigserial PRIMARY KEY,
	gateway        text NOT NULL CHECK (gateway IN ('kannel', 'twilio', 'external')),
	external_id    text,
	sender_hash    text NOT NULL,
	sender_masked  text NOT NULL,
	recipient      text,
	text           text NOT NULL,
	sent_at        timestamptz,
	received_at    timestamptz NOT NULL DEFAULT now(),
	outcome        text NOT NULL DEFAULT 'pending',
	survey         text,
	unit           text,
	comment        text,
	reply          text,
	response_id    bigint REFERENCES responses (id),
	replied_at     timestamptz,
	UNIQUE (gateway, external_id)
);
CREATE INDEX sms_messages_sender_idx ON sms_messages (sender_hash, received_at);

CREATE TABLE sms_dialogues (
	sender_hash  text PRIMARY KEY,
	survey       text NOT NULL,
	unit         text NOT NULL,
	answers      integer[] NOT NULL DEFAULT '{}',
	started_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);

CREATE TABLE sms_quota (
	sender_hash  text NOT NULL,
	survey       text NOT NULL,
	unit         text NOT NULL,
	period       text NOT NULL,
	message_id   bigint NOT NULL REFERENCES sms_messages (id),
	at           timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (sender_hash, survey, unit, period)
);
