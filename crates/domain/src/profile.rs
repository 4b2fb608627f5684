//! Which sections of a person's profile a viewer may see, and why: one pure function over
//! the viewer, the subject, the subject's reporting line and the permission matrix. It never
//! reads anything: the app gives it the facts and opens only the sections it allows.
//!
//! The contract's rules ("Profile sections"):
//! - `employment`: every level holding `view:people`.
//! - `contact` and `demographics`: executive; head for anyone in their reporting subtree;
//!   manager for direct reports; everyone for themselves.
//! - `financial` and `xero_mapping`: executive only.
//! - A retired person has no profile (404), whoever asks.
//!
//! The reporting line is the subject's chain of managers as stored (cycles included), so a
//! head sees the contact details of everyone whose chain of managers reaches them.

use crate::AccessLevel;
use crate::PersonId;
use crate::permissions::{Matrix, Permission};

/// A section of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Employment,
    Contact,
    Demographics,
    Financial,
    XeroMapping,
}

impl Section {
    pub const ALL: &'static [Self] = &[
        Self::Employment,
        Self::Contact,
        Self::Demographics,
        Self::Financial,
        Self::XeroMapping,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Employment => "employment",
            Self::Contact => "contact",
            Self::Demographics => "demographics",
            Self::Financial => "financial",
            Self::XeroMapping => "xero_mapping",
        }
    }

    /// Whether reading it is recorded in the audit log (the contract names these three).
    pub const fn is_audited(self) -> bool {
        matches!(self, Self::Contact | Self::Demographics | Self::Financial)
    }
}

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub level: AccessLevel,
    /// The viewer's own person in this organization, when linked.
    pub person: Option<PersonId>,
}

/// Who is looked at, with their reporting line.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: PersonId,
    pub retired: bool,
    /// Their direct manager.
    pub manager: Option<PersonId>,
    /// Everyone above them: their manager, that person's manager, and so on (any order).
    pub managers_above: &'a [PersonId],
}

/// How the viewer stands to the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Yourself,
    DirectReport,
    /// Below the viewer, further down than a direct report.
    InSubtree,
    Outside,
}

/// Where the viewer stands: the closest relation wins.
pub fn relation(viewer: &Viewer, subject: &Subject<'_>) -> Relation {
    let Some(me) = viewer.person else {
        return Relation::Outside;
    };
    if me == subject.id {
        Relation::Yourself
    } else if subject.manager == Some(me) {
        Relation::DirectReport
    } else if subject.managers_above.contains(&me) {
        Relation::InSubtree
    } else {
        Relation::Outside
    }
}

/// One section the viewer may see, with the reason in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visible {
    pub section: Section,
    pub because: &'static str,
}

/// There is no profile to show (a retired person: hidden like an unknown id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such person")]
pub struct NoProfile;

/// The sections `viewer` may see of `subject`, in [`Section::ALL`] order.
pub fn visible_sections(
    viewer: &Viewer,
    subject: &Subject<'_>,
    matrix: &Matrix,
) -> Result<Vec<Visible>, NoProfile> {
    if subject.retired {
        return Err(NoProfile);
    }
    if !matrix.allows(viewer.level, Permission::VIEW_PEOPLE) {
        return Ok(Vec::new());
    }
    let rel = relation(viewer, subject);
    let executive = viewer.level == AccessLevel::Executive;
    let personal: Option<&'static str> = match (executive, rel, viewer.level) {
        (_, Relation::Yourself, _) => Some("this is your own profile"),
        (true, _, _) => Some("you are an executive"),
        (_, Relation::DirectReport, AccessLevel::Head | AccessLevel::Manager) => {
            Some("you are their manager")
        }
        (_, Relation::InSubtree, AccessLevel::Head) => Some("they are in your reporting line"),
        _ => None,
    };
    let mut out = vec![Visible {
        section: Section::Employment,
        because: if rel == Relation::Yourself {
            "this is your own profile"
        } else {
            "everyone who can view people sees employment details"
        },
    }];
    if let Some(because) = personal {
        out.push(Visible {
            section: Section::Contact,
            because,
        });
        out.push(Visible {
            section: Section::Demographics,
            because,
        });
    }
    if executive {
        for section in [Section::Financial, Section::XeroMapping] {
            out.push(Visible {
                section,
                because: "only executives see this, and you are an executive",
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::permissions::{Grant, Rights, Tool};

    fn id(n: u128) -> PersonId {
        PersonId::from_uuid(Uuid::from_u128(n))
    }

    /// The reporting line of the table: 1 ← 2 ← 3 ← 4 (1 at the top); 9 elsewhere.
    const ME: u128 = 2;

    fn shown(level: AccessLevel, viewer_person: Option<u128>, case: &str) -> String {
        let chain: Vec<PersonId>;
        let subject = match case {
            "self" => Subject {
                id: id(2),
                retired: false,
                manager: Some(id(1)),
                managers_above: {
                    chain = vec![id(1)];
                    &chain
                },
            },
            "direct report" | "no user" => Subject {
                id: id(3),
                retired: false,
                manager: Some(id(2)),
                managers_above: {
                    chain = vec![id(2), id(1)];
                    &chain
                },
            },
            "deeper" => Subject {
                id: id(4),
                retired: false,
                manager: Some(id(3)),
                managers_above: {
                    chain = vec![id(3), id(2), id(1)];
                    &chain
                },
            },
            "outside" => Subject {
                id: id(9),
                retired: false,
                manager: Some(id(1)),
                managers_above: {
                    chain = vec![id(1)];
                    &chain
                },
            },
            "retired" => Subject {
                id: id(3),
                retired: true,
                manager: Some(id(2)),
                managers_above: {
                    chain = vec![id(2), id(1)];
                    &chain
                },
            },
            _ => unreachable!("{case}"),
        };
        let viewer = Viewer {
            level,
            person: viewer_person.map(id),
        };
        match visible_sections(&viewer, &subject, &Matrix::with_overrides([])) {
            Err(NoProfile) => "404".to_owned(),
            Ok(v) => v
                .iter()
                .map(|s| match s.section {
                    Section::Employment => "E",
                    Section::Contact => "C",
                    Section::Demographics => "D",
                    Section::Financial => "F",
                    Section::XeroMapping => "X",
                })
                .collect(),
        }
    }

    /// Every access level × relation. "no user": the subject has no linked user (the rules
    /// do not depend on it). The viewer is person 2 unless the row says they have none.
    #[test]
    fn sections_by_level_and_relation() {
        use AccessLevel::{Employee, Executive, Head, Lead, Manager};
        let cases = [
            "self",
            "direct report",
            "deeper",
            "outside",
            "no user",
            "retired",
        ];
        let table: [(AccessLevel, [&str; 6]); 5] = [
            (
                Executive,
                ["ECDFX", "ECDFX", "ECDFX", "ECDFX", "ECDFX", "404"],
            ),
            (Head, ["ECD", "ECD", "ECD", "E", "ECD", "404"]),
            (Manager, ["ECD", "ECD", "E", "E", "ECD", "404"]),
            (Lead, ["ECD", "E", "E", "E", "E", "404"]),
            (Employee, ["ECD", "E", "E", "E", "E", "404"]),
        ];
        for (level, want) in table {
            for (case, want) in cases.iter().zip(want) {
                assert_eq!(shown(level, Some(ME), case), want, "{level} viewing {case}");
            }
            // A viewer with no person of their own is related to nobody.
            let unlinked = if level == Executive { "ECDFX" } else { "E" };
            for case in ["direct report", "deeper", "outside"] {
                assert_eq!(
                    shown(level, None, case),
                    unlinked,
                    "unlinked {level}, {case}"
                );
            }
        }
    }

    #[test]
    fn every_visible_section_says_why_in_plain_words() {
        let chain = [id(2), id(1)];
        let subject = Subject {
            id: id(3),
            retired: false,
            manager: Some(id(2)),
            managers_above: &chain,
        };
        let viewer = Viewer {
            level: AccessLevel::Manager,
            person: Some(id(2)),
        };
        let v = visible_sections(&viewer, &subject, &Matrix::with_overrides([])).unwrap();
        assert_eq!(v[1].because, "you are their manager");
        assert!(v.iter().all(|s| !s.because.is_empty()));
    }

    #[test]
    fn a_level_without_view_people_sees_no_section() {
        let matrix = Matrix::with_overrides([Grant {
            tool: Tool::People,
            level: AccessLevel::Employee,
            rights: Rights::default(),
        }]);
        let subject = Subject {
            id: id(2),
            retired: false,
            manager: None,
            managers_above: &[],
        };
        let viewer = Viewer {
            level: AccessLevel::Employee,
            person: Some(id(2)),
        };
        assert_eq!(visible_sections(&viewer, &subject, &matrix), Ok(vec![]));
    }
}
