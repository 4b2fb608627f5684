-- One canary per key of the vault's ring: a fixed value sealed under that key when it is the
-- newest. It records which keys this database has used even before any secret is stored, so
-- `serve` refuses a ROSTER_SECRET_KEY that lacks one of them (a redeploy with the wrong key)
-- instead of starting and failing later, and it proves at start-up that the key still opens
-- what it sealed. `roster keys rotate` retires the canaries of keys nothing uses any more.
CREATE TABLE key_canaries (
    key_id      TEXT PRIMARY KEY CHECK (length(key_id) = 16),
    sealed      {{bytes}} NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
