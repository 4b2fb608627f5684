-- Roster's schema for the whole contract (API.md). One file for SQLite and PostgreSQL:
-- `{{bytes}}` becomes BYTEA or BLOB; everything else is common SQL. Ids are UUIDs (BLOB on
-- SQLite), times are UTC TIMESTAMPTZ (RFC 3339 text on SQLite), dates are DATE.
-- Every org-owned table leads its keys with org_id; composite foreign keys keep rows of one
-- organization from pointing at another's.

CREATE TABLE organizations (
    org_id      UUID PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 63),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    user_id         UUID PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    picture_url     TEXT,
    job_title       TEXT,
    default_org_id  UUID REFERENCES organizations (org_id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    org_id                  UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    user_id                 UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    access_level            TEXT NOT NULL
        CHECK (access_level IN ('executive', 'head', 'manager', 'lead', 'employee')),
    onboarding_template_id  TEXT,
    scorecard_template_id   TEXT,
    review_template_id      TEXT,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE squads (
    org_id              UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    squad_id            UUID NOT NULL PRIMARY KEY,
    squad_key           TEXT NOT NULL CHECK (length(squad_key) BETWEEN 1 AND 100),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    productive_team_id  TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, squad_id),
    UNIQUE (org_id, squad_key)
);

CREATE TABLE people (
    org_id              UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    person_id           UUID NOT NULL PRIMARY KEY,
    user_id             UUID REFERENCES users (user_id) ON DELETE SET NULL,
    first_name          TEXT NOT NULL CHECK (length(first_name) <= 1000),
    last_name           TEXT NOT NULL CHECK (length(last_name) <= 1000),
    email               TEXT CHECK (email = lower(email) AND length(email) <= 254),
    title               TEXT,
    avatar_url          TEXT,
    manager_id          UUID,
    squad_id            UUID,
    -- employment (every level may read)
    start_date          DATE,
    end_date            DATE,
    employment_status   TEXT CHECK (employment_status IN ('active', 'terminated', 'on_leave')),
    employment_basis    TEXT CHECK (employment_basis IN ('full_time', 'part_time', 'casual', 'contractor')),
    location            TEXT,
    -- contact and demographics (scoped by the reporting line)
    phone               TEXT,
    mobile              TEXT,
    personal_email      TEXT,
    home_address        TEXT,
    gender              TEXT CHECK (gender IN ('male', 'female', 'non-binary', 'not_stated')),
    date_of_birth       DATE,
    -- financial (executive only): bank and super details, sealed by the vault as one JSON
    -- document bound to this row, so a database dump alone does not reveal them.
    financial_sealed    {{bytes}},
    xero_synced_at      TIMESTAMPTZ,
    synced_at           TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    -- soft delete: a leaver is hidden from every list but their HR record is kept.
    removed_at          TIMESTAMPTZ,
    UNIQUE (org_id, person_id),
    UNIQUE (org_id, user_id),
    CHECK (manager_id IS NULL OR manager_id <> person_id),
    FOREIGN KEY (org_id, manager_id) REFERENCES people (org_id, person_id),
    FOREIGN KEY (org_id, squad_id) REFERENCES squads (org_id, squad_id)
);
CREATE UNIQUE INDEX people_email_per_org ON people (org_id, email)
    WHERE email IS NOT NULL AND removed_at IS NULL;
CREATE INDEX people_by_manager ON people (org_id, manager_id);

-- person ↔ provider ids. One id per provider per person, one person per id per organization.
CREATE TABLE external_ids (
    org_id       UUID NOT NULL,
    person_id    UUID NOT NULL,
    provider     TEXT NOT NULL CHECK (provider IN ('xero', 'productive', 'remote', 'google-workspace')),
    external_id  TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 1000),
    linked_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, provider, person_id),
    UNIQUE (org_id, provider, external_id),
    FOREIGN KEY (org_id, person_id) REFERENCES people (org_id, person_id) ON DELETE CASCADE
);

-- Organization-level credentials. The secret is sealed by the vault; `settings` holds the
-- non-secret configuration (channel id, calendar id, tenant id, environment, webhook URL).
CREATE TABLE connections (
    org_id            UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    provider          TEXT NOT NULL
        CHECK (provider IN ('xero', 'productive', 'google-workspace', 'slack', 'remote', 'scrapin')),
    org_name          TEXT,
    connected_by      UUID REFERENCES users (user_id) ON DELETE SET NULL,
    connected_at      TIMESTAMPTZ NOT NULL,
    token_expires_at  TIMESTAMPTZ,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'needs_reauth', 'error')),
    status_detail     TEXT,
    secret_sealed     {{bytes}} NOT NULL,
    settings          TEXT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, provider)
);

-- OAuth2 authorization requests in flight. The state is stored hashed, single use, with a
-- deadline; the PKCE verifier is sealed.
CREATE TABLE oauth_states (
    state_hash       TEXT PRIMARY KEY,
    org_id           UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    user_id          UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    purpose          TEXT NOT NULL CHECK (length(purpose) <= 200),
    verifier_sealed  {{bytes}} NOT NULL,
    extra            TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    consumed_at      TIMESTAMPTZ
);

-- Per-user OAuth2 accounts of the integration catalog, and their sharing with squads.
CREATE TABLE integration_accounts (
    org_id              UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    account_id          UUID NOT NULL PRIMARY KEY,
    user_id             UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    integration_slug    TEXT NOT NULL CHECK (length(integration_slug) BETWEEN 1 AND 100),
    account_identifier  TEXT NOT NULL CHECK (length(account_identifier) BETWEEN 1 AND 1000),
    base_url            TEXT,
    tokens_sealed       {{bytes}} NOT NULL,
    token_expires_at    TIMESTAMPTZ,
    status              TEXT NOT NULL CHECK (status IN ('ok', 'needs_reauth', 'error')),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, account_id),
    UNIQUE (org_id, user_id, integration_slug, account_identifier)
);

CREATE TABLE integration_account_actions (
    org_id       UUID NOT NULL,
    account_id   UUID NOT NULL,
    action_name  TEXT NOT NULL CHECK (length(action_name) BETWEEN 1 AND 100),
    granted_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, action_name),
    FOREIGN KEY (org_id, account_id) REFERENCES integration_accounts (org_id, account_id) ON DELETE CASCADE
);

CREATE TABLE integration_account_shares (
    org_id      UUID NOT NULL,
    account_id  UUID NOT NULL,
    squad_id    UUID NOT NULL,
    shared_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, squad_id),
    FOREIGN KEY (org_id, account_id) REFERENCES integration_accounts (org_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, squad_id) REFERENCES squads (org_id, squad_id) ON DELETE CASCADE
);

-- An organization's overrides of the default permission matrix.
CREATE TABLE permissions (
    org_id        UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    tool          TEXT NOT NULL CHECK (tool IN ('people', 'integrations')),
    access_level  TEXT NOT NULL
        CHECK (access_level IN ('executive', 'head', 'manager', 'lead', 'employee')),
    can_view      BOOLEAN NOT NULL,
    can_update    BOOLEAN NOT NULL,
    can_manage    BOOLEAN NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, tool, access_level),
    CHECK (access_level <> 'executive' OR (can_view AND can_update AND can_manage))
);

-- Cross-instance coordination: one holder per (organization, name) until expires_at.
CREATE TABLE leases (
    org_id       UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    holder       TEXT NOT NULL,
    acquired_at  TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE sync_runs (
    run_id       UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (org_id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    detail       TEXT
);
CREATE INDEX sync_runs_latest ON sync_runs (org_id, kind, status, finished_at);

-- Append-only (enforced by triggers in the dialect file). No foreign key on the actor: the
-- record of what a user did outlives the user.
CREATE TABLE audit_events (
    event_id       UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES organizations (org_id),
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  UUID,
    action         TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
    subject_type   TEXT NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 100),
    subject_id     TEXT,
    detail         TEXT NOT NULL,
    request_id     TEXT
);
CREATE INDEX audit_events_by_time ON audit_events (org_id, at, event_id);
