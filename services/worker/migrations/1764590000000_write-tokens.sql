-- Up Migration

-- One row per write a balancer forwarded with a Flotilla-Write-Token and
-- that changed something: the answer it got, so that a retry of the same
-- client request (the balancer retries a PUT or DELETE on another worker
-- when the first gave no answer) replays it instead of applying it again.
-- The row is written by the same statement as the change, so both commit or
-- neither does. A write that changed nothing (404, 412) leaves no row: run
-- again, it answers what is true at that moment, which is just as correct.
CREATE TABLE write_tokens (
  token uuid PRIMARY KEY,
  status smallint NOT NULL,
  -- PUT: the version written and when (the replayed ETag and body).
  version bigint,
  updated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Rows arrive in time order and live minutes: a BRIN index finds the
-- expired ones for a fraction of what a B-tree costs on every insert.
CREATE INDEX write_tokens_created_at_idx ON write_tokens USING brin (created_at);

-- Down Migration
DROP TABLE write_tokens;
