-- Access control: API keys, who owns and touched each job, and what quotas count.

-- A key is `tf_<id>_<secret>`: `id` finds the row, only a SHA-256 of the secret is stored (the
-- secret is 256 random bits, so a fast hash is enough; it is compared in constant time).
CREATE TABLE api_keys (
    id            text PRIMARY KEY,               -- public part of the key, e.g. 'k7f3a9c2e1'
    owner         text NOT NULL,                  -- who the key's jobs belong to (several keys may share one)
    secret_sha256 bytea NOT NULL,
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['submit', 'read', 'admin']),
    -- Per-key quota overrides: a missing field is the default, null is unlimited.
    quotas        jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (owner);

ALTER TABLE jobs
    ADD COLUMN owner          text,               -- NULL: submitted while AUTH_MODE=disabled
    ADD COLUMN submitted_by   text,               -- api_keys.id (no foreign key: keys may be deleted, the record stays)
    ADD COLUMN cancelled_by   text,
    ADD COLUMN retried_by     text,
    ADD COLUMN shared         boolean NOT NULL DEFAULT false,  -- a trained model every owner's analyses may use
    ADD COLUMN training_flops double precision;   -- budget estimate of a training job, for the daily quota

-- Idempotency keys are per owner and live 24 h: the global unique constraint goes.
ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency_key_key;
CREATE UNIQUE INDEX jobs_owner_idempotency_key ON jobs (COALESCE(owner, ''), idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Listing one owner's jobs, and counting what a quota counts.
CREATE INDEX jobs_owner_id ON jobs (owner, id DESC);
CREATE INDEX jobs_owner_active ON jobs (owner) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_owner_training ON jobs (owner, created_at) WHERE kind = 'training';
