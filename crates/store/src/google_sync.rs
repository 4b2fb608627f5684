//! The Google directory sync's reads and bulk writes (the plan comes from
//! `roster_domain::google_sync`). Users are global (one per email) and join organizations by
//! membership, so the sync reads users by email across organizations and writes memberships
//! only in its own.

use chrono::{DateTime, Utc};
use roster_domain::google_sync::{KnownUser, Plan};
use roster_domain::{Email, UserId};
use uuid::Uuid;

use crate::batch::{self, Arg, BATCH_ROWS};
use crate::error::{corrupt, on_unique};
use crate::{OrgTx, Result};

#[derive(sqlx::FromRow)]
struct KnownRow {
    user_id: Uuid,
    email: String,
    name: String,
    picture_url: Option<String>,
    job_title: Option<String>,
    member: bool,
}

impl OrgTx<'_> {
    /// The users with these emails, and whether each belongs to this organization.
    pub async fn users_by_email(&mut self, emails: &[Email]) -> Result<Vec<KnownUser>> {
        let mut out = Vec::with_capacity(emails.len());
        for chunk in emails.chunks(BATCH_ROWS) {
            let sql = format!(
                "SELECT u.user_id, u.email, u.name, u.picture_url, u.job_title,
                    (m.org_id IS NOT NULL) AS member
                 FROM users u
                 LEFT JOIN memberships m ON m.user_id = u.user_id AND m.org_id = $1
                 WHERE u.email IN ({})",
                batch::list(chunk.len(), 2, 1)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid())];
            args.extend(chunk.iter().map(|e| Arg::Text(e.as_str().to_owned())));
            let rows: Vec<KnownRow> = batch::fetch_all(&mut self.tx.inner, &sql, &args).await?;
            for r in rows {
                out.push(KnownUser {
                    id: UserId::from_uuid(r.user_id),
                    email: Email::parse(&r.email).map_err(|e| corrupt("user email", e))?,
                    name: r.name,
                    picture_url: r.picture_url,
                    job_title: r.job_title,
                    member: r.member,
                });
            }
        }
        Ok(out)
    }

    /// Applies a Google sync plan; returns how many statements it ran.
    pub async fn apply_google_plan(&mut self, plan: &Plan, now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for chunk in plan.create.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO users (user_id, email, name, picture_url, job_title, default_org_id,
                    created_at, updated_at) VALUES {}",
                batch::values("(?, ?, ?, ?, ?, $1, $2, $2)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for u in chunk {
                args.extend([
                    Arg::Uuid(u.id.as_uuid()),
                    Arg::Text(u.email.as_str().to_owned()),
                    Arg::Text(u.name.clone()),
                    Arg::OptText(u.picture_url.clone()),
                    Arg::OptText(u.job_title.clone()),
                ]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique("a user with this email already exists"))?;
            n += 1;
        }
        let joining: Vec<UserId> = plan
            .create
            .iter()
            .map(|u| u.id)
            .chain(plan.join.iter().copied())
            .collect();
        for chunk in joining.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO memberships (org_id, user_id, access_level, created_at, updated_at)
                 VALUES {}",
                batch::values("($1, ?, 'employee', $2, $2)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            args.extend(chunk.iter().map(|u| Arg::Uuid(u.as_uuid())));
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique("the user already belongs to this organization"))?;
            n += 1;
        }
        for chunk in plan.update.chunks(BATCH_ROWS) {
            // Joined to a `VALUES` list: one key lookup a row (see `set_by_id` in
            // `people_sync.rs` for why not `CASE`).
            let sql = format!(
                "UPDATE users SET name = v.column2, picture_url = v.column3,
                    job_title = v.column4, updated_at = $2
                 FROM (VALUES {}) AS v
                 WHERE users.user_id = v.column1
                   AND users.user_id IN (SELECT user_id FROM memberships WHERE org_id = $1)",
                batch::values("(?, ?, ?, ?)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for u in chunk {
                args.extend([
                    Arg::Uuid(u.id.as_uuid()),
                    Arg::Text(u.name.clone()),
                    Arg::OptText(u.picture_url.clone()),
                    Arg::OptText(u.job_title.clone()),
                ]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args).await?;
            n += 1;
        }
        n += self.link_users(&plan.links, now).await?;
        Ok(n)
    }
}
