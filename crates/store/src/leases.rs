//! Leases: at most one holder of a named claim per organization, across every server
//! instance on the same database. A claim expires, so a crashed holder never blocks forever.

use chrono::{DateTime, Duration, Utc};

use crate::{OrgTx, Result};

impl OrgTx<'_> {
    /// Takes the lease if it is free, expired, or already ours; true when we hold it now.
    /// One statement, so two instances racing cannot both win.
    pub async fn acquire_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool> {
        let won: Option<String> = scalar!(
            self.tx,
            fetch_optional,
            String,
            "INSERT INTO leases (org_id, name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org_id, name) DO UPDATE
                SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder
             RETURNING holder",
            self.org.as_uuid(),
            name,
            holder,
            now,
            now + ttl
        )?;
        Ok(won.as_deref() == Some(holder))
    }

    /// Gives the lease up if we hold it.
    pub async fn release_lease(&mut self, name: &str, holder: &str) -> Result<()> {
        execute!(
            self.tx,
            "DELETE FROM leases WHERE org_id = $1 AND name = $2 AND holder = $3",
            self.org.as_uuid(),
            name,
            holder
        )?;
        Ok(())
    }
}

impl OrgTx<'_> {
    /// Extends the lease if we still hold it; false when it expired or another took it.
    /// Inside a transaction the row stays locked until commit, so a sync that checks this
    /// just before committing cannot overlap a newer holder (PostgreSQL blocks the other
    /// `acquire_lease` on the row; SQLite has one writer).
    pub async fn renew_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool> {
        let n = execute!(
            self.tx,
            "UPDATE leases SET expires_at = $4
             WHERE org_id = $1 AND name = $2 AND holder = $3 AND expires_at > $5",
            self.org.as_uuid(),
            name,
            holder,
            now + ttl,
            now
        )?;
        Ok(n == 1)
    }
}
