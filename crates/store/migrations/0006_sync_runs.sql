-- What each sync run did, for `GET /api/admin/sync-runs`: who started it (NULL: the server
-- itself, a background refresh), counts and field coverage as JSON objects, and warnings
-- (a JSON array of sentences). `detail` keeps the failure in plain words.
ALTER TABLE sync_runs ADD COLUMN actor_user_id UUID;
ALTER TABLE sync_runs ADD COLUMN counts TEXT;
ALTER TABLE sync_runs ADD COLUMN coverage TEXT;
ALTER TABLE sync_runs ADD COLUMN warnings TEXT;
-- Newest first, by id (UUIDv7 ids are time-ordered), for cursor paging.
CREATE INDEX sync_runs_by_id ON sync_runs (org_id, run_id);
