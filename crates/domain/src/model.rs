//! Plain records the store returns and the operations pass around. No behaviour beyond
//! small derived facts; the rules live in their own modules.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    AccessLevel, Email, EmploymentBasis, EmploymentStatus, Gender, OrgId, PersonId, Slug, SquadId,
    UserId,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Someone who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
    pub default_org: Option<OrgId>,
    pub created_at: DateTime<Utc>,
}

/// A user's place in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org: OrgId,
    pub user: UserId,
    pub access_level: AccessLevel,
    pub onboarding_template_id: Option<String>,
    pub scorecard_template_id: Option<String>,
    pub review_template_id: Option<String>,
}

/// A user as the Admin API lists them: the membership plus the linked person's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUser {
    pub user: User,
    pub membership: Membership,
    pub person_id: Option<PersonId>,
    pub productive_id: Option<String>,
    pub xero_employee_id: Option<String>,
}

/// The employment section of a person's profile (every level may read it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Employment {
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub employment_status: Option<EmploymentStatus>,
    pub employment_basis: Option<EmploymentBasis>,
    pub location: Option<String>,
}

/// A person of an organization's directory, without the scoped sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub org: OrgId,
    pub user: Option<UserId>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub manager: Option<PersonId>,
    pub squad: Option<SquadId>,
    pub employment: Employment,
    pub gender: Option<Gender>,
    pub synced_at: Option<DateTime<Utc>>,
}

/// The contact section of a profile (executive; head over their subtree; manager over
/// direct reports; everyone over themselves).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact {
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub personal_email: Option<String>,
    pub home_address: Option<String>,
}

/// The demographics section of a profile (same audience as [`Contact`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Demographics {
    pub gender: Option<Gender>,
    pub date_of_birth: Option<NaiveDate>,
}

/// The financial section of a profile (executive only). Stored sealed by the vault as this
/// JSON document in `people.financial_sealed`, bound to the person's row, so it serializes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Financial {
    pub super_fund_name: Option<String>,
    /// `regulated` or `smsf`.
    pub super_fund_type: Option<String>,
    pub super_member_number: Option<String>,
    pub bank_account_name: Option<String>,
    pub bank_bsb: Option<String>,
    pub bank_account_number: Option<String>,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// One recorded write or sensitive read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: crate::EventId,
    pub org: OrgId,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    /// A JSON object; never a secret or a value that was read.
    pub detail: serde_json::Value,
    /// The request that made the change (its `x-request-id`), to find its log lines.
    pub request_id: Option<String>,
}

/// A squad (team); its `key` is the stable slug integrations are shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squad {
    pub id: SquadId,
    pub key: String,
    pub name: String,
    pub productive_team_id: Option<String>,
}

/// A squad key from a display name: its words, lower case with accents folded (as the
/// matcher folds names: "Équipe" → "equipe"), joined by dashes. Letters and digits of every
/// script are kept; everything else separates words.
pub fn squad_key(name: &str) -> String {
    crate::matching::normalize(name).replace(' ', "-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn squad_keys_are_slugs() {
        for (name, key) in [
            ("Platform", "platform"),
            ("Growth & Data", "growth-data"),
            ("  Ops  2 ", "ops-2"),
            ("Équipe Données", "equipe-donnees"),
            ("ÉQUIPE  données", "equipe-donnees"),
            ("Разработка", "разработка"),
            ("開発チーム", "開発チーム"),
            ("Straße", "strasse"),
            ("— !", ""),
        ] {
            assert_eq!(super::squad_key(name), key);
        }
    }

    proptest::proptest! {
        /// A squad keeps its key when only its name's case or spacing changes: letters
        /// upper or lower, whitespace runs longer or shorter, other kinds of space (tab,
        /// no-break, ideographic), leading or trailing space.
        #[test]
        fn squad_keys_ignore_case_and_spacing(
            words in proptest::collection::vec("[A-Za-z0-9]{1,8}", 1..5),
            gaps in proptest::collection::vec(proptest::sample::select(vec![" ", "  ", "\t", "\u{a0}", " \u{3000} "]), 6),
            upper in proptest::bool::ANY,
        ) {
            let plain = words.join(" ");
            let mut spaced = gaps[5].to_owned();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    spaced.push_str(gaps[i % 5]);
                }
                spaced.push_str(&if upper { w.to_uppercase() } else { w.to_lowercase() });
            }
            spaced.push_str(gaps[0]);
            proptest::prop_assert_eq!(super::squad_key(&plain), super::squad_key(&spaced));
            proptest::prop_assert!(!super::squad_key(&plain).is_empty());
        }
    }
}
