//! A person's payroll record as Roster keeps it, and the rules that fold a payroll
//! provider's record into it: which bank account and which super membership count, and how
//! an address becomes one line. Codes are already Roster's canonical values here (the
//! provider client maps them on the way in).
//!
//! Must never do I/O or see a provider's wire format.

use chrono::NaiveDate;

use crate::model::{Contact, Demographics, Employment, Financial};
use crate::{EmploymentBasis, EmploymentStatus};

/// Everything a payroll pull writes on a person. Location is not a payroll field and is
/// left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayrollRecord {
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub employment_status: Option<EmploymentStatus>,
    pub employment_basis: Option<EmploymentBasis>,
    pub contact: Contact,
    pub demographics: Demographics,
    /// Sealed by the vault before it is stored.
    pub financial: Financial,
}

impl PayrollRecord {
    /// The employment section this record implies, keeping `location`.
    pub fn employment(&self, location: Option<String>) -> Employment {
        Employment {
            start_date: self.start_date,
            end_date: self.end_date,
            employment_status: self.employment_status,
            employment_basis: self.employment_basis,
            location,
        }
    }
}

/// A bank account as a payroll lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BankAccount {
    pub account_name: Option<String>,
    pub bsb: Option<String>,
    pub account_number: Option<String>,
    /// Takes whatever the other accounts do not: the person's main account.
    pub remainder: bool,
}

/// The account the profile shows: the remainder account (where the salary lands), else
/// the first listed.
pub fn main_account(accounts: &[BankAccount]) -> Option<&BankAccount> {
    accounts
        .iter()
        .find(|a| a.remainder)
        .or_else(|| accounts.first())
}

/// An address on one line: the parts that are present, in postal order, joined by ", ".
pub fn address_line<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    let parts: Vec<&str> = parts
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, remainder: bool) -> BankAccount {
        BankAccount {
            account_name: Some(name.to_owned()),
            remainder,
            ..BankAccount::default()
        }
    }

    #[test]
    fn the_main_account_is_the_remainder_account() {
        for (accounts, want) in [
            (vec![account("a", false), account("b", true)], Some("b")),
            (vec![account("a", false), account("b", false)], Some("a")),
            (vec![], None),
        ] {
            let got = main_account(&accounts).and_then(|a| a.account_name.as_deref());
            assert_eq!(got, want, "{accounts:?}");
        }
    }

    #[test]
    fn addresses_skip_missing_parts() {
        for (parts, want) in [
            (
                vec![
                    Some("1 Main St"),
                    None,
                    Some("Carlton"),
                    Some("VIC"),
                    Some("3053"),
                ],
                Some("1 Main St, Carlton, VIC, 3053"),
            ),
            (vec![Some("  "), None], None),
        ] {
            assert_eq!(address_line(parts.clone()).as_deref(), want, "{parts:?}");
        }
    }
}
