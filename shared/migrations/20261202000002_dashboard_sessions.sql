-- Browser sessions of the dashboard: a key is typed once, the browser then holds an opaque
-- token in an HttpOnly cookie. Only the token's SHA-256 is stored (like keys' secrets); each
-- session has its own CSRF token, sent back on every request that changes state.
CREATE TABLE dashboard_sessions (
    token_sha256 bytea PRIMARY KEY,
    key_id       text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expires_at ON dashboard_sessions (expires_at);
