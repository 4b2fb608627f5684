//! The rules about users and their memberships: what an update may carry, and who may change
//! an access level. Pure: the caller loads the membership and the executive count.

use serde::Deserialize;

use crate::dates::HrDate;
use crate::model::Membership;
use crate::patch::{nullable, present, present_fields};
use crate::text::BoundedText;
use crate::{AccessLevel, EmploymentBasis, EmploymentStatus, Error, Gender, UserId};

/// `PUT /api/admin/users/:id`: absent fields stay, `null` clears a nullable field, and an
/// empty text clears it too. An unknown field is refused: a misspelt `acess_level` must not
/// be silently ignored. Every value is valid by its type once this deserialized.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// Not nullable: a user always has a level.
    #[serde(default, deserialize_with = "present")]
    pub access_level: Option<AccessLevel>,
    #[serde(default, deserialize_with = "nullable")]
    pub onboarding_template_id: Option<Option<BoundedText>>,
    #[serde(default, deserialize_with = "nullable")]
    pub scorecard_template_id: Option<Option<BoundedText>>,
    #[serde(default, deserialize_with = "nullable")]
    pub review_template_id: Option<Option<BoundedText>>,
    #[serde(default, deserialize_with = "nullable")]
    pub employment_status: Option<Option<EmploymentStatus>>,
    #[serde(default, deserialize_with = "nullable")]
    pub employment_basis: Option<Option<EmploymentBasis>>,
    #[serde(default, deserialize_with = "nullable")]
    pub location: Option<Option<BoundedText>>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_date: Option<Option<HrDate>>,
    #[serde(default, deserialize_with = "nullable")]
    pub gender: Option<Option<Gender>>,
}

impl UserPatch {
    /// Whether it changes the linked person (the people table holds employment fields).
    pub const fn touches_person(&self) -> bool {
        self.employment_status.is_some()
            || self.employment_basis.is_some()
            || self.location.is_some()
            || self.start_date.is_some()
            || self.gender.is_some()
    }

    /// Names of the fields present, for the audit log (values are HR data: not logged).
    pub fn field_names(&self) -> Vec<&'static str> {
        present_fields([
            ("access_level", self.access_level.is_some()),
            (
                "onboarding_template_id",
                self.onboarding_template_id.is_some(),
            ),
            (
                "scorecard_template_id",
                self.scorecard_template_id.is_some(),
            ),
            ("review_template_id", self.review_template_id.is_some()),
            ("employment_status", self.employment_status.is_some()),
            ("employment_basis", self.employment_basis.is_some()),
            ("location", self.location.is_some()),
            ("start_date", self.start_date.is_some()),
            ("gender", self.gender.is_some()),
        ])
    }
}

/// A cleared-or-set text value as stored: `null` and `""` both clear.
pub fn stored_text(v: Option<BoundedText>) -> Option<String> {
    v.and_then(BoundedText::non_empty)
        .map(BoundedText::into_string)
}

/// Whether `actor` may change `target`'s level to `new_level`: the organization's last
/// executive may not lower their own level (nobody could then administer it).
pub fn check_last_executive(
    actor: UserId,
    target: &Membership,
    new_level: AccessLevel,
    executives: i64,
) -> Result<(), Error> {
    let lowers_self = actor == target.user
        && target.access_level == AccessLevel::Executive
        && new_level != AccessLevel::Executive;
    if lowers_self && executives <= 1 {
        Err(Error::LastExecutive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrgId;

    fn member(user: UserId, level: AccessLevel) -> Membership {
        Membership {
            org: OrgId::new(),
            user,
            access_level: level,
            onboarding_template_id: None,
            scorecard_template_id: None,
            review_template_id: None,
        }
    }

    #[test]
    fn last_executive_cannot_lower_themselves() {
        use AccessLevel::{Employee, Executive, Head};
        let me = UserId::new();
        let other = UserId::new();
        for (actor, target_level, new, execs, ok) in [
            (me, Executive, Head, 1, false),
            (me, Executive, Employee, 1, false),
            (me, Executive, Head, 0, false),
            (me, Executive, Head, 2, true),
            (me, Executive, Executive, 1, true),
            (other, Executive, Head, 1, true),
            (other, Executive, Head, 2, true),
            (me, Head, Executive, 1, true),
        ] {
            let target = member(me, target_level);
            assert_eq!(
                check_last_executive(actor, &target, new, execs).is_ok(),
                ok,
                "{target_level}→{new} with {execs} by {}",
                if actor == me { "self" } else { "another" }
            );
        }
    }

    #[test]
    fn a_patch_tells_absent_from_null_and_parses_its_values() {
        let p: UserPatch = serde_json::from_str(r#"{"location": null}"#).unwrap();
        assert_eq!(p.location, Some(None));
        assert_eq!(p.field_names(), ["location"]);
        assert!(p.touches_person());
        let p: UserPatch = serde_json::from_str("{}").unwrap();
        assert!(p.field_names().is_empty() && !p.touches_person());
        let p: UserPatch = serde_json::from_str(
            r#"{"onboarding_template_id": " t-1 ", "start_date": "2026-03-01"}"#,
        )
        .unwrap();
        assert_eq!(
            stored_text(p.onboarding_template_id.clone().flatten()).as_deref(),
            Some("t-1")
        );
        assert!(p.touches_person(), "start_date is a person field");
        for bad in [
            r#"{"access_level": null}"#,
            r#"{"access_level": "boss"}"#,
            r#"{"acess_level": "head"}"#,
            r#"{"start_date": "1850-01-01"}"#,
            r#"{"gender": "x"}"#,
        ] {
            assert!(serde_json::from_str::<UserPatch>(bad).is_err(), "{bad}");
        }
        let long = format!(r#"{{"location": "{}"}}"#, "x".repeat(1001));
        assert!(serde_json::from_str::<UserPatch>(&long).is_err());
    }

    #[test]
    fn each_employment_field_alone_touches_the_person() {
        for body in [
            r#"{"employment_status": "active"}"#,
            r#"{"employment_basis": "casual"}"#,
            r#"{"location": "Hobart"}"#,
            r#"{"start_date": null}"#,
            r#"{"gender": "female"}"#,
        ] {
            let p: UserPatch = serde_json::from_str(body).unwrap();
            assert!(p.touches_person(), "{body}");
        }
        for body in [
            r#"{"access_level": "head"}"#,
            r#"{"review_template_id": "r"}"#,
        ] {
            let p: UserPatch = serde_json::from_str(body).unwrap();
            assert!(!p.touches_person(), "{body}");
        }
    }

    #[test]
    fn an_empty_text_clears() {
        assert_eq!(
            stored_text(Some(BoundedText::parse("f", "  ").unwrap())),
            None
        );
        assert_eq!(stored_text(None), None);
    }
}
