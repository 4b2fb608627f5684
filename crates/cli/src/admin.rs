//! `roster admin …`: operator tasks that call the same operations as the API.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use roster_domain::{AccessLevel, Email, Slug};
use roster_vault::SecretKey;

use crate::config::Config;
use crate::wiring;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user and make them a member of an organization (created on first use).
    CreateUser {
        /// The user's email (their sign-in identity).
        #[arg(long)]
        email: String,
        /// Full name as shown in Roster.
        #[arg(long)]
        name: String,
        /// executive, head, manager, lead or employee.
        #[arg(long, value_name = "LEVEL")]
        access_level: String,
        /// The organization's slug; without it, the only organization (or a new `default`).
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
    },
    /// Print a bearer token for a user on stdout, and nothing else.
    IssueToken {
        /// The email of an existing user.
        #[arg(long)]
        email: String,
        /// How long the token works: 90s, 30m, 8h, 7d.
        #[arg(long, default_value = "8h")]
        ttl: String,
    },
    /// Print a new random secret key (base64 of 32 bytes) for ROSTER_SECRET_KEY; the same
    /// as `roster keys generate`.
    GenerateKey,
}

#[expect(clippy::print_stdout, reason = "the command's output is its result")]
pub async fn run(cmd: AdminCommand, config: &Config) -> Result<()> {
    match cmd {
        AdminCommand::GenerateKey => crate::keys::generate(),
        AdminCommand::CreateUser {
            email,
            name,
            access_level,
            org,
        } => {
            let email = Email::parse(&email).map_err(|e| anyhow!("--email {}", e.message))?;
            let level: AccessLevel = access_level
                .parse()
                .map_err(|e: roster_domain::FieldError| anyhow!("--access-level {}", e.message))?;
            let org = org
                .map(|raw| Slug::parse("--org", &raw))
                .transpose()
                .map_err(|e| anyhow!("{} {}", e.field, e.message))?;
            let store = wiring::connect(config).await?;
            wiring::require_schema(&store, config).await?;
            // Creating a user needs no key; an ephemeral one keeps `App` whole.
            let keys = roster_vault::KeyRing::new(vec![SecretKey::generate()])?;
            let app = wiring::app(store, keys, config)?;
            let (user, org) = app
                .create_user(&email, &name, level, org.as_ref(), None)
                .await
                .map_err(describe)?;
            eprintln!(
                "created {} ({}) as {level} in {} ({})",
                user.email, user.id, org.slug, org.id
            );
        }
        AdminCommand::IssueToken { email, ttl } => {
            let email = Email::parse(&email).map_err(|e| anyhow!("--email {}", e.message))?;
            let ttl = roster_domain::duration::parse("--ttl", &ttl)
                .map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
            let keys = wiring::key_ring(config)?;
            let store = wiring::connect(config).await?;
            wiring::require_schema(&store, config).await?;
            let app = wiring::app(store, keys, config)?;
            let token = app
                .issue_token_for(&email, ttl)
                .await
                .map_err(|e| match e {
                    roster_app::Error::Store(roster_store::Error::NotFound(_)) => {
                        anyhow!("no user with email {email}")
                    }
                    other => describe(other),
                })?;
            println!("{}", token.token);
        }
    }
    Ok(())
}

/// An operation's error as a sentence for the terminal.
fn describe(e: roster_app::Error) -> anyhow::Error {
    match e {
        roster_app::Error::Invalid(errors) => anyhow!(
            "{}",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow!("{other}"),
    }
}
