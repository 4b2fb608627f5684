//! The records of the sample company: people, squads, super funds and the company itself, with
//! the lookups the fakes and the demo use. Plain data; generation lives in `generate`.

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Where a person sits in the hierarchy. The sample always has all five.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Ceo,
    Head,
    Manager,
    Lead,
    Staff,
}

/// Employment basis as payroll holds it (`TaxDeclaration.EmploymentBasis` in Xero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleBasis {
    FullTime,
    PartTime,
    Casual,
    /// Payroll-only contractors paid through Xero.
    NonEmployee,
}

impl SampleBasis {
    /// The Xero wire value.
    pub const fn xero_code(self) -> &'static str {
        match self {
            Self::FullTime => "FULLTIME",
            Self::PartTime => "PARTTIME",
            Self::Casual => "CASUAL",
            Self::NonEmployee => "NONEMPLOYEE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleAddress {
    pub line1: String,
    pub line2: Option<String>,
    /// Suburb.
    pub city: String,
    /// Xero's `State` enum: `NSW`, `VIC`, ...
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SampleBankAccount {
    pub statement_text: String,
    pub account_name: String,
    pub bsb: String,
    pub account_number: String,
    /// True for the account that takes the remainder of the pay.
    pub remainder: bool,
    /// Fixed amount for a non-remainder account.
    pub amount: Option<f64>,
}

impl Eq for SampleBankAccount {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSuperMembership {
    pub membership_id: Uuid,
    /// Index into [`SampleCompany::super_funds`].
    pub fund: usize,
    /// The member number the fund gave the employee (Xero's `EmployeeNumber`).
    pub member_number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuperFundKind {
    Regulated,
    SelfManaged,
}

impl SuperFundKind {
    pub const fn xero_code(self) -> &'static str {
        match self {
            Self::Regulated => "REGULATED",
            Self::SelfManaged => "SMSF",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSuperFund {
    pub id: Uuid,
    pub kind: SuperFundKind,
    pub name: String,
    pub abn: String,
    /// Regulated funds only.
    pub usi: Option<String>,
    /// Self-managed funds only: where contributions go.
    pub bsb: Option<String>,
    pub account_number: Option<String>,
    pub account_name: Option<String>,
    pub electronic_service_address: Option<String>,
    pub employer_number: Option<String>,
}

/// A squad is a Productive team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSquad {
    pub index: usize,
    pub name: String,
    /// Numeric string, as Productive writes ids.
    pub productive_team_id: String,
    /// The lead whose squad this is; tiny companies have squads without one.
    pub lead: Option<usize>,
    /// Indexes of the people whose `squad` is this one, ascending.
    pub members: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplePerson {
    /// Position in [`SampleCompany::people`].
    pub index: usize,
    /// Legal names, as payroll (Xero) and Google hold them.
    pub first_name: String,
    pub middle_names: Option<String>,
    pub last_name: String,
    /// The name used at work ("Bob" for Robert), if different.
    pub preferred_name: Option<String>,
    /// Names as typed into Productive: the preferred name, sometimes with accents dropped.
    pub productive_first_name: String,
    pub productive_last_name: String,
    /// The work email, identical in Productive, Xero and Google. `None` for some payroll-only
    /// contractors; others have an address at their own (`.test`) business.
    pub email: Option<String>,
    pub title: String,
    pub department: String,
    pub level: Level,
    /// Index of the manager in [`SampleCompany::people`].
    pub manager: Option<usize>,
    /// Index into [`SampleCompany::squads`].
    pub squad: Option<usize>,
    pub start_date: NaiveDate,
    pub termination_date: Option<NaiveDate>,
    /// Xero `TerminationReason` code for leavers.
    pub termination_reason: Option<&'static str>,
    pub basis: SampleBasis,
    /// Xero gender code: `M`, `F`, `N` (not stated) or `I`.
    pub gender: &'static str,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    /// Australian home address; `None` for EOR staff abroad.
    pub home_address: Option<SampleAddress>,
    pub bank_accounts: Vec<SampleBankAccount>,
    pub super_membership: Option<SampleSuperMembership>,
    /// ISO alpha-2 country of work.
    pub country_code: &'static str,
    pub is_active: bool,
    pub is_leaver: bool,
    /// Paid through Xero as a contractor; in no other provider.
    pub is_contractor: bool,
    /// May impersonate for the Google Directory (domain-wide delegation subject).
    pub is_google_admin: bool,
    pub productive_id: Option<String>,
    pub xero_employee_id: Option<Uuid>,
    pub google_id: Option<String>,
    pub slack_user_id: Option<String>,
    pub remote_employment_id: Option<String>,
    pub linkedin_url: Option<String>,
    /// Last change in the providers' records (Xero `UpdatedDateUTC`, Productive `updated_at`).
    pub updated_at: DateTime<Utc>,
}

impl SamplePerson {
    /// Legal full name without middle names.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The name colleagues use: preferred first name and family name.
    pub fn display_name(&self) -> String {
        format!(
            "{} {}",
            self.preferred_name.as_deref().unwrap_or(&self.first_name),
            self.last_name
        )
    }

    /// Paid through Remote (EOR), so absent from Xero.
    pub fn is_remote(&self) -> bool {
        self.remote_employment_id.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleCompany {
    pub seed: u64,
    pub name: String,
    /// `<word>.example`: never a routable domain.
    pub domain: String,
    pub productive_org_id: String,
    pub xero_tenant_id: Uuid,
    pub google_customer_id: String,
    pub slack_team_id: String,
    pub remote_company_id: String,
    pub people: Vec<SamplePerson>,
    pub squads: Vec<SampleSquad>,
    pub super_funds: Vec<SampleSuperFund>,
}

impl SampleCompany {
    /// The person at the top of the tree (index 0).
    pub fn ceo(&self) -> &SamplePerson {
        &self.people[0]
    }

    /// A Workspace admin who may be the delegated `sub` for Directory calls.
    pub fn google_admin(&self) -> &SamplePerson {
        self.people
            .iter()
            .find(|p| p.is_google_admin)
            .unwrap_or(&self.people[0])
    }

    /// Case-insensitive lookup by work email.
    pub fn person_by_email(&self, email: &str) -> Option<&SamplePerson> {
        self.people.iter().find(|p| {
            p.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }

    /// Direct reports of `manager`, ascending by index.
    pub fn reports_of(&self, manager: usize) -> impl Iterator<Item = &SamplePerson> {
        self.people
            .iter()
            .filter(move |p| p.manager == Some(manager))
    }

    /// Every manager cycle, each as the indexes on it starting from its smallest.
    pub fn manager_cycles(&self) -> Vec<Vec<usize>> {
        let mut cycles = Vec::new();
        // 0 = unvisited, 1 = on the current walk, 2 = done.
        let mut state = vec![0u8; self.people.len()];
        for start in 0..self.people.len() {
            let mut walk = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match state[i] {
                    0 => {
                        state[i] = 1;
                        walk.push(i);
                        at = self.people[i].manager;
                    }
                    1 => {
                        if let Some(pos) = walk.iter().position(|&w| w == i) {
                            let mut cycle = walk[pos..].to_vec();
                            let min = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, v)| **v)
                                .map_or(0, |(p, _)| p);
                            cycle.rotate_left(min);
                            cycles.push(cycle);
                        }
                        break;
                    }
                    _ => break,
                }
            }
            for i in walk {
                state[i] = 2;
            }
        }
        cycles
    }

    /// Number of levels in the tree under the CEO (the CEO alone is depth 1).
    pub fn depth(&self) -> usize {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.people.len()];
        for p in &self.people {
            if let Some(m) = p.manager {
                children[m].push(p.index);
            }
        }
        let mut deepest = 0;
        let mut queue = VecDeque::from([(0usize, 1usize)]);
        let mut seen = vec![false; self.people.len()];
        while let Some((i, d)) = queue.pop_front() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            deepest = deepest.max(d);
            queue.extend(children[i].iter().map(|&c| (c, d + 1)));
        }
        deepest
    }
}
