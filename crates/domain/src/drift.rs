//! Drift between the connected sources (`GET /api/admin/drift`): people one source lists as
//! active whom another lists as inactive, or does not list at all. People are compared by
//! work email, the one key every source shares; a record without one cannot be compared and
//! is counted apart. No I/O: the app fetches each source's people first.

use std::collections::{BTreeMap, BTreeSet};

use crate::Email;

/// One source's people: who is active, who is known but inactive (a leaver, a suspended
/// account), and how many records had no email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub name: &'static str,
    /// Active people by email, with the name the source gives them.
    pub active: BTreeMap<Email, String>,
    pub inactive: BTreeSet<Email>,
    pub without_email: usize,
}

/// Whether the other source lists the person as inactive or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Inactive,
    Missing,
}

impl State {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Missing => "missing",
        }
    }
}

/// People active in `source` and `state` in `other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub source: &'static str,
    pub other: &'static str,
    pub state: State,
    /// Email and the name `source` gives, sorted by email.
    pub people: Vec<(Email, String)>,
}

impl Kind {
    /// `active_in_productive_missing_in_xero`.
    pub fn name(&self) -> String {
        format!(
            "active_in_{}_{}_in_{}",
            self.source.replace('-', "_"),
            self.state.as_str(),
            self.other.replace('-', "_")
        )
    }
}

/// Every ordered pair of sources, both states, in the order the sources are given (empty
/// kinds included, so a count of 0 is an answer too).
pub fn drift(sources: &[Source]) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for a in sources {
        for b in sources.iter().filter(|b| b.name != a.name) {
            let mut inactive = Vec::new();
            let mut missing = Vec::new();
            for (email, name) in &a.active {
                if b.active.contains_key(email) {
                    continue;
                }
                let entry = (email.clone(), name.clone());
                if b.inactive.contains(email) {
                    inactive.push(entry);
                } else {
                    missing.push(entry);
                }
            }
            for (state, people) in [(State::Inactive, inactive), (State::Missing, missing)] {
                kinds.push(Kind {
                    source: a.name,
                    other: b.name,
                    state,
                    people,
                });
            }
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Email {
        Email::parse(s).expect("email")
    }

    fn source(name: &'static str, active: &[&str], inactive: &[&str]) -> Source {
        Source {
            name,
            active: active.iter().map(|a| (e(a), a.to_uppercase())).collect(),
            inactive: inactive.iter().map(|a| e(a)).collect(),
            without_email: 0,
        }
    }

    #[test]
    fn a_leaver_in_one_source_and_a_stranger_in_another_are_each_one_kind() {
        let productive = source("productive", &["a@x.test", "b@x.test", "c@x.test"], &[]);
        let xero = source("xero", &["a@x.test", "d@x.test"], &["b@x.test"]);
        let kinds = drift(&[productive, xero]);
        let count = |name: &str| {
            kinds
                .iter()
                .find(|k| k.name() == name)
                .map(|k| {
                    k.people
                        .iter()
                        .map(|(e, _)| e.as_str().to_owned())
                        .collect::<Vec<_>>()
                })
                .expect("kind")
        };
        assert_eq!(kinds.len(), 4, "two ordered pairs × two states");
        assert_eq!(count("active_in_productive_inactive_in_xero"), ["b@x.test"]);
        assert_eq!(count("active_in_productive_missing_in_xero"), ["c@x.test"]);
        assert_eq!(count("active_in_xero_missing_in_productive"), ["d@x.test"]);
        assert!(count("active_in_xero_inactive_in_productive").is_empty());
    }

    #[test]
    fn hyphens_in_source_names_become_underscores_in_kinds() {
        let kinds = drift(&[
            source("google-workspace", &["a@x.test"], &[]),
            source("remote", &[], &[]),
        ]);
        assert_eq!(
            kinds[1].name(),
            "active_in_google_workspace_missing_in_remote"
        );
        assert_eq!(kinds[1].people.len(), 1);
    }
}
