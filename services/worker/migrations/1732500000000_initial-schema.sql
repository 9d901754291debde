-- Up Migration

-- Versions come from one sequence shared by all keys, so a key that is
-- deleted and created again never reuses an old version: an If-Match taken
-- before the delete cannot match the new row (no ABA).
CREATE SEQUENCE kv_version_seq;

CREATE TABLE kv (
  -- "C" collation: byte order, so keyset pagination and prefix scans are
  -- stable across locales and can use the primary-key index.
  key text COLLATE "C" PRIMARY KEY,
  value jsonb NOT NULL,
  version bigint NOT NULL DEFAULT nextval('kv_version_seq'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE counters (
  name text COLLATE "C" PRIMARY KEY,
  value bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per Idempotency-Key: the request it was first used for and the
-- response it got. A repeat with the same fingerprint replays the response.
CREATE TABLE idempotency_keys (
  key text COLLATE "C" PRIMARY KEY,
  fingerprint text NOT NULL,
  status_code integer NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE counters;
DROP TABLE kv;
DROP SEQUENCE kv_version_seq;
