//! The company every fake serves, shared by all six and changeable while they run: the demo's
//! control API (`crate::control`) makes someone leave, return or change manager, and every
//! fake shows the change on its next call.
//!
//! Owns the one copy and how it changes. It must never know a wire format, and a change
//! replaces the whole snapshot: a call that already took one finishes on it, so no response
//! mixes two versions of the company.

use std::sync::{Arc, PoisonError, RwLock};

use chrono::NaiveDate;
use roster_company::SampleCompany;

/// The company the fakes serve now. Cloning shares it.
#[derive(Debug, Clone)]
pub struct LiveCompany {
    /// As generated: for what no change touches (ids, names, the domain).
    first: Arc<SampleCompany>,
    now: Arc<RwLock<Arc<SampleCompany>>>,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeError {
    /// No one in the company has this work email.
    UnknownEmail(String),
    /// A person cannot be their own manager (a longer cycle is allowed).
    OwnManager,
}

impl From<Arc<SampleCompany>> for LiveCompany {
    fn from(company: Arc<SampleCompany>) -> Self {
        Self {
            now: Arc::new(RwLock::new(company.clone())),
            first: company,
        }
    }
}

impl From<SampleCompany> for LiveCompany {
    fn from(company: SampleCompany) -> Self {
        Arc::new(company).into()
    }
}

impl LiveCompany {
    /// The company as it is now; later changes do not touch the returned snapshot.
    pub fn current(&self) -> Arc<SampleCompany> {
        self.now
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The company as generated, for what never changes: its ids, name and domain (the
    /// people in it may have changed since; read them from [`current`](Self::current)).
    pub fn identity(&self) -> &SampleCompany {
        &self.first
    }

    /// The person with `email` leaves on `on`: inactive in Productive, terminated in payroll,
    /// suspended in Google.
    pub fn leave(&self, email: &str, on: NaiveDate) -> Result<(), ChangeError> {
        self.change(|company| {
            let i = index_of(company, email)?;
            let p = &mut company.people[i];
            p.is_leaver = true;
            p.is_active = false;
            p.termination_date = Some(on);
            p.termination_reason = Some("V");
            Ok(())
        })
    }

    /// Undoes [`leave`](Self::leave) (for a sample leaver too): active everywhere again.
    pub fn return_(&self, email: &str) -> Result<(), ChangeError> {
        self.change(|company| {
            let i = index_of(company, email)?;
            let p = &mut company.people[i];
            p.is_leaver = false;
            p.is_active = true;
            p.termination_date = None;
            p.termination_reason = None;
            Ok(())
        })
    }

    /// `email` now reports to `manager_email`. A cycle through others is allowed: the fakes
    /// serve what they are told, as a provider would.
    pub fn set_manager(&self, email: &str, manager_email: &str) -> Result<(), ChangeError> {
        self.change(|company| {
            let i = index_of(company, email)?;
            let m = index_of(company, manager_email)?;
            if i == m {
                return Err(ChangeError::OwnManager);
            }
            company.people[i].manager = Some(m);
            Ok(())
        })
    }

    fn change(
        &self,
        apply: impl FnOnce(&mut SampleCompany) -> Result<(), ChangeError>,
    ) -> Result<(), ChangeError> {
        let mut guard = self.now.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = SampleCompany::clone(&guard);
        apply(&mut next)?;
        *guard = Arc::new(next);
        Ok(())
    }
}

fn index_of(company: &SampleCompany, email: &str) -> Result<usize, ChangeError> {
    company
        .person_by_email(email)
        .map(|p| p.index)
        .ok_or_else(|| ChangeError::UnknownEmail(email.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_makes_a_new_snapshot_and_leaves_the_old_one_alone() {
        let live = LiveCompany::from(SampleCompany::generate(7, 30));
        let before = live.current();
        let who = before
            .people
            .iter()
            .find(|p| p.is_active && p.email.is_some())
            .unwrap();
        let email = who.email.clone().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        live.leave(&email, day).unwrap();
        let after = live.current();
        assert!(after.people[who.index].is_leaver);
        assert_eq!(after.people[who.index].termination_date, Some(day));
        assert!(
            !before.people[who.index].is_leaver,
            "old snapshot untouched"
        );
        live.return_(&email.to_uppercase()).unwrap();
        assert!(live.current().people[who.index].is_active);
        assert_eq!(
            live.leave("nobody@nowhere.test", day),
            Err(ChangeError::UnknownEmail("nobody@nowhere.test".into()))
        );
        assert_eq!(
            live.set_manager(&email, &email),
            Err(ChangeError::OwnManager)
        );
    }
}
