-- Postgres is the source of truth for every job; Redis only carries job ids.
CREATE TABLE jobs (
    id                uuid PRIMARY KEY,            -- UUIDv7: time-ordered, so `ORDER BY id DESC` is newest first
    kind              text NOT NULL CHECK (kind IN ('analysis', 'training')),
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input             jsonb NOT NULL,
    symbol            text,                        -- copied from input for filtering
    idempotency_key   text UNIQUE,
    request_hash      text,                        -- sha256 of the canonical request, for Idempotency-Key reuse checks
    attempts          integer NOT NULL DEFAULT 0,  -- claims so far (incremented by every claim)
    max_attempts      integer NOT NULL,
    progress          jsonb NOT NULL DEFAULT '{"percent": 0, "stage": "queued", "message": "waiting for a worker"}',
    result            jsonb,
    error             text,
    artifacts         jsonb NOT NULL DEFAULT '[]',
    worker_id         text,
    lease_expires_at  timestamptz,
    cancel_requested  boolean NOT NULL DEFAULT false,
    run_after         timestamptz NOT NULL DEFAULT now(), -- retry backoff: not dispatched before this
    enqueued_at       timestamptz,                 -- last push to Redis; NULL = must be pushed
    queue_task_id     text,                        -- apalis task id of the last push (to check it is still in Redis)
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Listing: newest first with optional filters.
CREATE INDEX jobs_kind_status_id ON jobs (kind, status, id DESC);
CREATE INDEX jobs_status_id ON jobs (status, id DESC);
CREATE INDEX jobs_symbol_id ON jobs (symbol, id DESC) WHERE symbol IS NOT NULL;
-- Dispatcher: queued jobs that still need a push, oldest first.
CREATE INDEX jobs_dispatch ON jobs (kind, id) WHERE status = 'queued' AND enqueued_at IS NULL;
-- Sweeper: queued jobs whose push may be stale, running jobs whose lease may have expired.
CREATE INDEX jobs_queued_enqueued ON jobs (enqueued_at) WHERE status = 'queued' AND enqueued_at IS NOT NULL;
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE status = 'running';
