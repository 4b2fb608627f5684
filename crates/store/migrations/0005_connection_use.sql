-- When a connection last served a call successfully (`GET /api/admin/connections` shows it
-- beside the last error, so an executive can tell a dead credential from an idle one).
ALTER TABLE connections ADD COLUMN last_used_at TIMESTAMPTZ;
