-- Sign-in for the web UI and personal API tokens (API.md "Authentication"): filled in by the
-- sign-in issue, laid down now so the schema covers the whole contract. Secrets are never
-- stored: a session id, an API token and a sign-in state are kept as SHA-256 hashes, and
-- the PKCE verifier is sealed by the vault.

-- OIDC sign-in requests in flight. Unlike oauth_states there is no user yet: who signs in
-- is only known from the verified id token, and they must already be a user.
CREATE TABLE sign_in_requests (
    state_hash       TEXT PRIMARY KEY CHECK (length(state_hash) = 64),
    nonce_hash       TEXT NOT NULL CHECK (length(nonce_hash) = 64),
    verifier_sealed  {{bytes}} NOT NULL,
    -- a path inside the UI to return to, never an absolute URL (no open redirects)
    return_to        TEXT NOT NULL CHECK (length(return_to) <= 1000 AND substr(return_to, 1, 1) = '/'),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    consumed_at      TIMESTAMPTZ
);
CREATE INDEX sign_in_requests_by_expiry ON sign_in_requests (expires_at);

-- Browser sessions (the cookie holds the id; the row holds its hash).
CREATE TABLE sessions (
    session_hash  TEXT PRIMARY KEY CHECK (length(session_hash) = 64),
    user_id       UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Personal API tokens: named, expiring, revocable; shown once at creation.
CREATE TABLE api_tokens (
    token_id      UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    token_hash    TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    UNIQUE (user_id, name)
);
