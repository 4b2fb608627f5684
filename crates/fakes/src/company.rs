//! The sample company every fake serves: one deterministic cast of people, squads and super
//! funds, seen differently by each provider.
//!
//! Owns generation only. It must never read a clock, the environment or a global random
//! source: the same `(seed, size)` gives the same company, byte for byte, on every machine.
//! Dates are relative to [`REFERENCE_DATE`], not to "today".
//!
//! The mess is deliberate, because real tenants look like this: nicknames and dropped accents
//! differ between payroll and Productive, payroll-only contractors exist only in Xero, EOR
//! staff exist everywhere but Xero, leavers linger as terminated/deactivated/suspended records,
//! and exactly one manager cycle exists.

mod words;

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use words::{
    COMPANIES, DEPARTMENTS, FAMILY, FEMININE, MASCULINE, NEUTRAL, NICKNAMES, REMOTE_COUNTRIES,
    SQUADS, STREETS, SUBURBS, SUPER_FUNDS,
};

/// The day the sample data is "as of": start dates, terminations and update times lie before it.
/// One day before `ManualClock::default()` so that a default clock sees a settled company.
pub const REFERENCE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 3, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Smallest company the generator makes; smaller requests are raised to it so that every
/// structural promise (levels, squads, a cycle, a leaver, a contractor) holds.
pub const MIN_SIZE: usize = 10;

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

/// How many people sit at each level; contractors come last.
struct Shape {
    heads: usize,
    managers: usize,
    leads: usize,
    staff: usize,
}

impl Shape {
    fn of(size: usize) -> Self {
        // At least two payroll-only contractors once there is room for them beside the tree.
        let contractors = if size < 20 {
            1
        } else {
            (size * 3 / 100).max(2)
        };
        let members = size - contractors;
        // About one head per twelve people, managers and leads so that spans stay between
        // two and eight for demo sizes; every upper person gets at least one report.
        // A company of ten to thirteen has one head, which leaves the staff needed for a
        // leaver, an EOR hire and the two-person cycle beside the five levels.
        let heads = members.div_ceil(12).clamp(1, DEPARTMENTS.len());
        let managers = heads.max(members / 10);
        let leads = managers.max(members / 5);
        let staff = members - 1 - heads - managers - leads;
        Self {
            heads,
            managers,
            leads,
            staff,
        }
    }

    fn level(&self, index: usize) -> Level {
        let mut bound = 1;
        for (count, level) in [
            (self.heads, Level::Head),
            (self.managers, Level::Manager),
            (self.leads, Level::Lead),
            (self.staff, Level::Staff),
        ] {
            if index == 0 {
                return Level::Ceo;
            }
            if index < bound + count {
                return level;
            }
            bound += count;
        }
        Level::Staff
    }

    /// The CEO is index 0; heads follow.
    const FIRST_HEAD: usize = 1;

    fn first_manager(&self) -> usize {
        1 + self.heads
    }
    fn first_lead(&self) -> usize {
        self.first_manager() + self.managers
    }
    fn first_staff(&self) -> usize {
        self.first_lead() + self.leads
    }
    fn first_contractor(&self) -> usize {
        self.first_staff() + self.staff
    }
}

impl SampleCompany {
    /// Generates a company of `size` people (raised to [`MIN_SIZE`]) from `seed`.
    pub fn generate(seed: u64, size: usize) -> Self {
        let size = size.max(MIN_SIZE);
        let mut rng = StdRng::seed_from_u64(seed);
        let word = COMPANIES[rng.gen_range(0..COMPANIES.len())];
        let domain = format!("{}.example", word.to_lowercase());
        let shape = Shape::of(size);

        let super_funds = generate_super_funds(&mut rng);
        let squad_count = shape.leads.max(5);
        let roles = assign_roles(&shape, &mut rng);

        let mut ids = IdSource::new(&mut rng);
        let mut emails = EmailBook::default();
        let mut people = Vec::with_capacity(size);
        for index in 0..size {
            let level = shape.level(index);
            let contractor = index >= shape.first_contractor();
            let role = roles.get(&index).copied().unwrap_or(Role::Ordinary);
            let person = generate_person(
                &mut rng,
                &mut ids,
                &mut emails,
                &PersonPlan {
                    index,
                    level,
                    contractor,
                    // One payroll record without an email, whatever the seed: matching must
                    // cope with it at every size.
                    without_email: index == shape.first_contractor(),
                    role,
                    domain: &domain,
                    funds: &super_funds,
                },
            );
            people.push(person);
        }
        link_hierarchy(&shape, &mut people, squad_count, &mut rng);
        close_manager_cycle(&roles, &mut people);

        let mut squads: Vec<SampleSquad> = (0..squad_count)
            .map(|index| SampleSquad {
                index,
                name: squad_name(index),
                productive_team_id: ids.next_team_id(&mut rng),
                lead: (index < shape.leads).then_some(shape.first_lead() + index),
                members: Vec::new(),
            })
            .collect();
        for person in &people {
            if let Some(squad) = person.squad {
                squads[squad].members.push(person.index);
            }
        }

        let xero_tenant_id = random_uuid(&mut rng);
        Self {
            seed,
            name: format!("{word} Pty Ltd"),
            domain,
            productive_org_id: rng.gen_range(20_000..29_999).to_string(),
            xero_tenant_id,
            google_customer_id: format!("C0{}", base36(rng.gen_range(0..36u64.pow(7)), 7)),
            slack_team_id: format!("T0{}", base36(rng.gen_range(0..36u64.pow(8)), 8)),
            remote_company_id: random_uuid(&mut rng).to_string(),
            people,
            squads,
            super_funds,
        }
    }

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

/// Special parts a person plays in the mess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Ordinary,
    Leaver,
    Remote { country: usize },
    RemoteLeaver { country: usize },
    Cycle,
    Floater,
}

/// Picks leavers, EOR staff, squadless floaters and the cycle from the staff and leads.
fn assign_roles(shape: &Shape, rng: &mut StdRng) -> HashMap<usize, Role> {
    let mut roles = HashMap::new();
    let members = shape.first_contractor();
    if shape.leads >= 4 {
        let size = if rng.gen_bool(0.5) { 3 } else { 2 };
        let start = rng.gen_range(0..shape.leads - size + 1);
        for i in 0..size {
            roles.insert(shape.first_lead() + start + i, Role::Cycle);
        }
    }
    let mut staff: Vec<usize> = (shape.first_staff()..shape.first_contractor()).collect();
    staff.shuffle(rng);
    let mut staff = staff.into_iter();
    if shape.leads < 4 {
        for i in staff.by_ref().take(2) {
            roles.insert(i, Role::Cycle);
        }
    }
    let leavers = (members * 5 / 100).clamp(1, shape.staff / 2);
    let remote = (members * 8 / 100).max(1);
    let floaters = members * 2 / 100;
    for i in staff.by_ref().take(leavers) {
        roles.insert(i, Role::Leaver);
    }
    for i in staff.by_ref().take(remote) {
        roles.insert(
            i,
            Role::Remote {
                country: rng.gen_range(0..REMOTE_COUNTRIES.len()),
            },
        );
    }
    for i in staff.by_ref().take(1) {
        roles.insert(
            i,
            Role::RemoteLeaver {
                country: rng.gen_range(0..REMOTE_COUNTRIES.len()),
            },
        );
    }
    for i in staff.take(floaters) {
        roles.insert(i, Role::Floater);
    }
    roles
}

struct PersonPlan<'a> {
    index: usize,
    level: Level,
    contractor: bool,
    without_email: bool,
    role: Role,
    domain: &'a str,
    funds: &'a [SampleSuperFund],
}

fn generate_person(
    rng: &mut StdRng,
    ids: &mut IdSource,
    emails: &mut EmailBook,
    plan: &PersonPlan<'_>,
) -> SamplePerson {
    let &PersonPlan {
        index,
        level,
        contractor,
        without_email,
        role,
        domain,
        funds,
    } = plan;
    let gender = match rng.gen_range(0..100) {
        0..48 => "F",
        48..96 => "M",
        96..98 => "N",
        _ => "I",
    };
    let given = match gender {
        "F" => FEMININE,
        "M" => MASCULINE,
        _ => NEUTRAL,
    };
    let (first, first_ascii) = given[rng.gen_range(0..given.len())];
    let (last, last_ascii) = FAMILY[rng.gen_range(0..FAMILY.len())];
    let middle_names = rng
        .gen_bool(0.25)
        .then(|| given[rng.gen_range(0..given.len())].0.to_owned());
    let nickname = NICKNAMES
        .iter()
        .find(|(legal, _)| *legal == first)
        .map(|(_, nick)| *nick);
    let preferred_name = nickname.filter(|_| rng.gen_bool(0.6)).map(str::to_owned);

    // Productive shows the name people go by; about half of accented names lost their
    // accents when typed in, which is what breaks naive name matching.
    let drop_accents = rng.gen_bool(0.5);
    let shown_first = preferred_name.as_deref().unwrap_or(first);
    let (productive_first_name, productive_last_name) = if drop_accents {
        (fold_accents(shown_first), fold_accents(last))
    } else {
        (shown_first.to_owned(), last.to_owned())
    };

    let (remote_country, leaver) = match role {
        Role::Remote { country } => (Some(country), false),
        Role::RemoteLeaver { country } => (Some(country), true),
        Role::Leaver => (None, true),
        _ => (None, false),
    };

    let email = if contractor {
        // Draw even when the answer is forced, so the rest of the company stays the same.
        (rng.gen_bool(0.5) && !without_email)
            .then(|| emails.claim(first_ascii, &format!("{last_ascii}consulting.test")))
    } else {
        let local_first = match &preferred_name {
            Some(nick) if rng.gen_bool(0.5) => nick.to_lowercase(),
            _ => first_ascii.to_owned(),
        };
        Some(emails.claim(&format!("{local_first}.{last_ascii}"), domain))
    };

    let (department, title) = match level {
        Level::Ceo => ("Executive", "Chief Executive Officer"),
        _ => ("", ""),
    };
    let age_range = match level {
        Level::Ceo => 42..62,
        Level::Head => 35..60,
        Level::Manager => 30..58,
        Level::Lead => 26..55,
        Level::Staff => 21..50,
    };
    let age_days = rng.gen_range(age_range) * 365 + rng.gen_range(0..365);
    let date_of_birth = REFERENCE_DATE - Days::new(age_days);
    let tenure_days = match level {
        Level::Ceo => rng.gen_range(3000..4400),
        _ => rng.gen_range(30..4000),
    };
    let start_date = REFERENCE_DATE - Days::new(tenure_days);
    let termination_date = leaver.then(|| {
        let worked = rng.gen_range(1..tenure_days.max(2));
        start_date + Days::new(worked)
    });
    let termination_reason = leaver.then(|| ["V", "V", "V", "R", "F", "C"][rng.gen_range(0..6)]);

    let basis = if contractor {
        SampleBasis::NonEmployee
    } else if level == Level::Staff {
        match rng.gen_range(0..100) {
            0..70 => SampleBasis::FullTime,
            70..88 => SampleBasis::PartTime,
            _ => SampleBasis::Casual,
        }
    } else {
        SampleBasis::FullTime
    };

    let abroad = remote_country.is_some();
    let (suburb, state, postcode) = SUBURBS[rng.gen_range(0..SUBURBS.len())];
    let home_address = (!abroad).then(|| SampleAddress {
        line1: format!(
            "{} {}",
            rng.gen_range(1..240),
            STREETS[rng.gen_range(0..STREETS.len())]
        ),
        line2: rng
            .gen_bool(0.15)
            .then(|| format!("Unit {}", rng.gen_range(1..40))),
        city: suburb.to_owned(),
        region: state.to_owned(),
        postal_code: postcode.to_owned(),
        country: "AUSTRALIA".to_owned(),
    });
    // 02 5550 xxxx and 0491 570 xxx sit in ranges the Australian regulator reserves for fiction.
    let phone =
        (!abroad && rng.gen_bool(0.6)).then(|| format!("02 5550 {:04}", rng.gen_range(0..10_000)));
    let mobile = rng.gen_bool(0.9).then(|| {
        format!(
            "0491 57{} {:03}",
            rng.gen_range(0..2),
            rng.gen_range(0..1000)
        )
    });
    let legal_name = format!("{first} {last}");
    let bank_accounts = if abroad {
        Vec::new()
    } else {
        bank_accounts_for(&legal_name, rng)
    };
    let super_membership =
        (!abroad && !contractor && rng.gen_bool(0.95)).then(|| SampleSuperMembership {
            membership_id: random_uuid(rng),
            fund: if rng.gen_bool(0.02) {
                funds.len() - 1
            } else {
                rng.gen_range(0..funds.len() - 1)
            },
            member_number: rng.gen_range(10_000_000..99_999_999u32).to_string(),
        });

    let member = !contractor;
    let linkedin_url = (member && rng.gen_bool(0.7)).then(|| {
        format!(
            "https://www.linkedin.com/in/{first_ascii}-{last_ascii}-{:06x}",
            rng.gen_range(0..0xff_ffffu32)
        )
    });
    let updated_days = rng.gen_range(0..400u64).min(tenure_days);
    let updated_at = (REFERENCE_DATE - Days::new(updated_days))
        .and_time(NaiveTime::MIN)
        .and_utc()
        + TimeDelta::seconds(rng.gen_range(0..86_400));

    SamplePerson {
        index,
        first_name: first.to_owned(),
        middle_names,
        last_name: last.to_owned(),
        preferred_name,
        productive_first_name,
        productive_last_name,
        email,
        title: title.to_owned(),
        department: department.to_owned(),
        level,
        manager: None,
        squad: None,
        start_date,
        termination_date,
        termination_reason,
        basis,
        gender,
        date_of_birth,
        phone,
        mobile,
        home_address,
        bank_accounts,
        super_membership,
        country_code: remote_country.map_or("AU", |c| REMOTE_COUNTRIES[c].0),
        is_active: !leaver,
        is_leaver: leaver,
        is_contractor: contractor,
        is_google_admin: false,
        productive_id: member.then(|| ids.next_productive_id(rng)),
        xero_employee_id: (!abroad).then(|| random_uuid(rng)),
        google_id: member.then(|| google_id(index, rng)),
        slack_user_id: member.then(|| {
            format!(
                "U0{}",
                base36((index as u64 * 48_271 + 1_234_567) % 36u64.pow(7), 7)
            )
        }),
        remote_employment_id: abroad.then(|| random_uuid(rng).to_string()),
        linkedin_url,
        updated_at,
    }
}

fn bank_accounts_for(name: &str, rng: &mut StdRng) -> Vec<SampleBankAccount> {
    let bsb_prefix = ["062", "032", "083", "013", "733"][rng.gen_range(0..5)];
    let account = |remainder: bool, amount: Option<f64>, rng: &mut StdRng| SampleBankAccount {
        statement_text: "Salary".to_owned(),
        account_name: name.to_owned(),
        bsb: format!("{bsb_prefix}{:03}", rng.gen_range(0..1000)),
        account_number: rng.gen_range(10_000_000..999_999_999u32).to_string(),
        remainder,
        amount,
    };
    if rng.gen_bool(0.06) {
        let fixed = f64::from(rng.gen_range(1..10u32) * 50);
        vec![account(false, Some(fixed), rng), account(true, None, rng)]
    } else {
        vec![account(true, None, rng)]
    }
}

/// Sets managers, departments, titles and squads from the shape; heads of department are
/// spread round-robin so every manager has at least one report.
fn link_hierarchy(
    shape: &Shape,
    people: &mut [SamplePerson],
    squad_count: usize,
    rng: &mut StdRng,
) {
    for i in 0..shape.heads {
        let p = &mut people[Shape::FIRST_HEAD + i];
        let (dept, ..) = DEPARTMENTS[i % DEPARTMENTS.len()];
        p.manager = Some(0);
        dept.clone_into(&mut p.department);
        p.title = format!("Head of {dept}");
        // The first two heads (Engineering, People) administer Google Workspace with the CEO.
        p.is_google_admin = i < 2;
    }
    people[0].is_google_admin = true;
    for i in 0..shape.managers {
        let at = shape.first_manager() + i;
        let manager = Shape::FIRST_HEAD + i % shape.heads;
        set_under(people, at, manager, |d| d.1.to_owned());
    }
    for i in 0..shape.leads {
        let at = shape.first_lead() + i;
        let manager = shape.first_manager() + i % shape.managers;
        set_under(people, at, manager, |d| d.2.to_owned());
        people[at].squad = Some(i);
    }
    let spare_squads = squad_count - shape.leads;
    for i in 0..shape.staff {
        let at = shape.first_staff() + i;
        let lead = shape.first_lead() + i % shape.leads;
        set_under(people, at, lead, |d| {
            d.3[rng.gen_range(0..d.3.len())].to_owned()
        });
        // Small companies have more squads than leads: the first staff fill the spare ones.
        people[at].squad = Some(if i < spare_squads {
            shape.leads + i
        } else {
            i % shape.leads
        });
    }
    for p in people.iter_mut() {
        if p.is_contractor {
            "Contractors".clone_into(&mut p.department);
            "Contractor".clone_into(&mut p.title);
        }
    }
}

type Department = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// Puts `at` under `manager`, in the manager's department, with the title `title` picks.
fn set_under(
    people: &mut [SamplePerson],
    at: usize,
    manager: usize,
    title: impl FnOnce(&Department) -> String,
) {
    let dept_name = people[manager].department.clone();
    let p = &mut people[at];
    p.manager = Some(manager);
    p.title = title(department(&dept_name));
    p.department = dept_name;
}

fn department(name: &str) -> &'static Department {
    DEPARTMENTS
        .iter()
        .find(|d| d.0 == name)
        .unwrap_or(&DEPARTMENTS[0])
}

/// Applies the cycle and floater roles once the tree exists.
fn close_manager_cycle(roles: &HashMap<usize, Role>, people: &mut [SamplePerson]) {
    let mut cycle: Vec<usize> = roles
        .iter()
        .filter(|(_, r)| **r == Role::Cycle)
        .map(|(i, _)| *i)
        .collect();
    cycle.sort_unstable();
    for (k, &at) in cycle.iter().enumerate() {
        people[at].manager = Some(cycle[(k + 1) % cycle.len()]);
    }
    for (&i, role) in roles {
        if *role == Role::Floater {
            people[i].squad = None;
        }
    }
}

fn generate_super_funds(rng: &mut StdRng) -> Vec<SampleSuperFund> {
    let mut funds: Vec<SampleSuperFund> = SUPER_FUNDS
        .iter()
        .map(|(name, usi)| SampleSuperFund {
            id: random_uuid(rng),
            kind: SuperFundKind::Regulated,
            name: (*name).to_owned(),
            abn: usi[..11].to_owned(),
            usi: Some((*usi).to_owned()),
            bsb: None,
            account_number: None,
            account_name: None,
            electronic_service_address: None,
            employer_number: rng
                .gen_bool(0.5)
                .then(|| rng.gen_range(100_000..999_999u32).to_string()),
        })
        .collect();
    let (family, _) = FAMILY[rng.gen_range(0..FAMILY.len())];
    let name = format!("{family} Family Super Fund");
    funds.push(SampleSuperFund {
        id: random_uuid(rng),
        kind: SuperFundKind::SelfManaged,
        abn: rng.gen_range(10_000_000_000..99_999_999_999u64).to_string(),
        usi: None,
        bsb: Some(format!("062{:03}", rng.gen_range(0..1000))),
        account_number: Some(rng.gen_range(10_000_000..99_999_999u32).to_string()),
        account_name: Some(name.clone()),
        electronic_service_address: Some("SMSFDATAFLOW".to_owned()),
        employer_number: None,
        name,
    });
    funds
}

fn squad_name(index: usize) -> String {
    let base = SQUADS[index % SQUADS.len()];
    match index / SQUADS.len() {
        0 => base.to_owned(),
        round => format!("{base} {}", round + 1),
    }
}

/// Unique work emails: the second `jo.smith` becomes `jo.smith2`.
#[derive(Default)]
struct EmailBook {
    taken: HashMap<String, u32>,
}

impl EmailBook {
    fn claim(&mut self, local: &str, domain: &str) -> String {
        let local: String = local
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let n = self.taken.entry(format!("{local}@{domain}")).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("{local}@{domain}")
        } else {
            format!("{local}{n}@{domain}")
        }
    }
}

/// Ids that must be unique and ascending where the provider's are.
struct IdSource {
    productive: u64,
    team: u64,
}

impl IdSource {
    fn new(rng: &mut StdRng) -> Self {
        Self {
            productive: rng.gen_range(100_000..200_000),
            team: rng.gen_range(400..900),
        }
    }
    fn next_productive_id(&mut self, rng: &mut StdRng) -> String {
        self.productive += rng.gen_range(1..8);
        self.productive.to_string()
    }
    fn next_team_id(&mut self, rng: &mut StdRng) -> String {
        self.team += rng.gen_range(1..4);
        self.team.to_string()
    }
}

/// 21 digits like Google's, unique by construction: the index sits in the high digits.
fn google_id(index: usize, rng: &mut StdRng) -> String {
    let low: u128 = rng.gen_range(0..100_000_000_000_000);
    format!("1{:020}", index as u128 * 100_000_000_000_000 + low)
}

pub(crate) fn random_uuid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

fn base36(mut v: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Drops diacritics from the letters the word lists use ("Nguyễn" → "Nguyen").
pub(crate) fn fold_accents(s: &str) -> String {
    const FOLD: &[(&str, &str)] = &[
        ("àáâãäåāăąạảấầẩẫậắằẳẵặ", "a"),
        ("ÀÁÂÃÄÅĀĂĄ", "A"),
        ("çćč", "c"),
        ("ÇĆČ", "C"),
        ("èéêëēėęěẹẻẽếềểễệ", "e"),
        ("ÈÉÊËĒĖĘĚ", "E"),
        ("ìíîïīįıịỉ", "i"),
        ("ÌÍÎÏİ", "I"),
        ("ñń", "n"),
        ("ÑŃ", "N"),
        ("òóôõöøōọỏốồổỗộớờởỡợơ", "o"),
        ("ÒÓÔÕÖØŌ", "O"),
        ("ùúûüūůưụủứừửữự", "u"),
        ("ÙÚÛÜŪ", "U"),
        ("ýÿỳ", "y"),
        ("śšş", "s"),
        ("ŚŠŞ", "S"),
        ("ł", "l"),
        ("Ł", "L"),
        ("ğ", "g"),
        ("žźż", "z"),
        ("ŽŹŻ", "Z"),
        ("đð", "d"),
        ("Đ", "D"),
        ("þ", "th"),
        ("Þ", "Th"),
        ("æ", "ae"),
    ];
    if s.is_ascii() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match FOLD.iter().find(|(from, _)| from.contains(c)) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn same_seed_and_size_give_identical_companies() {
        assert_eq!(
            SampleCompany::generate(7, 60),
            SampleCompany::generate(7, 60)
        );
        assert_ne!(
            SampleCompany::generate(7, 60),
            SampleCompany::generate(8, 60)
        );
    }

    #[test]
    fn every_size_has_four_levels_five_squads_and_one_cycle() {
        for size in [10, 11, 25, 60, 61, 250, 2_000] {
            let c = SampleCompany::generate(42, size);
            assert_eq!(c.people.len(), size, "size {size}");
            assert!(c.squads.len() >= 5, "squads at {size}");
            let cycles = c.manager_cycles();
            assert_eq!(cycles.len(), 1, "cycles at {size}: {cycles:?}");
            assert!((2..=3).contains(&cycles[0].len()), "cycle length at {size}");
            if size >= 25 {
                assert!(c.depth() >= 4, "depth {} at {size}", c.depth());
            }
            for level in [
                Level::Ceo,
                Level::Head,
                Level::Manager,
                Level::Lead,
                Level::Staff,
            ] {
                assert!(
                    c.people.iter().any(|p| p.level == level),
                    "{level:?} at {size}"
                );
            }
        }
    }

    #[test]
    fn demo_company_has_the_promised_mess() {
        let c = SampleCompany::generate(1, 60);
        assert!(
            c.people.iter().any(|p| p.is_contractor
                && p.xero_employee_id.is_some()
                && p.productive_id.is_none())
        );
        assert!(
            c.people.iter().any(|p| p.email.is_none()),
            "someone has no email"
        );
        assert!(
            c.people
                .iter()
                .any(|p| p.is_leaver && p.termination_date.is_some())
        );
        assert!(
            c.people
                .iter()
                .any(|p| p.is_remote() && p.xero_employee_id.is_none())
        );
        assert!(
            c.people
                .iter()
                .any(|p| p.productive_first_name != p.first_name),
            "a name differs between providers"
        );
        assert_eq!(c.depth(), 5);
        assert!(c.domain.ends_with(".example"));
    }

    #[test]
    fn every_size_from_the_smallest_has_all_the_mess() {
        for size in (MIN_SIZE..=40).chain([60, 100, 250]) {
            for seed in [1, 2, 7] {
                let c = SampleCompany::generate(seed, size);
                let case = format!("seed {seed}, size {size}");
                assert_eq!(c.people.len(), size, "{case}");
                assert!(c.depth() >= 4, "{case}: depth {}", c.depth());
                assert_eq!(c.manager_cycles().len(), 1, "{case}: one cycle");
                assert!(
                    c.people.iter().any(|p| p.email.is_none()),
                    "{case}: no email"
                );
                assert!(c.people.iter().any(|p| p.is_leaver), "{case}: leaver");
                assert!(c.people.iter().any(SamplePerson::is_remote), "{case}: EOR");
                assert!(
                    c.people
                        .iter()
                        .any(|p| p.is_contractor && p.productive_id.is_none()),
                    "{case}: payroll only"
                );
                assert!(c.squads.len() >= 2, "{case}: squads");
            }
        }
    }

    #[test]
    fn work_emails_are_unique_and_on_the_company_domain() {
        let c = SampleCompany::generate(3, 5_000);
        let mut seen = HashSet::new();
        for p in c.people.iter().filter(|p| !p.is_contractor) {
            let email = p.email.as_deref().unwrap_or_default();
            assert!(email.ends_with(&format!("@{}", c.domain)), "{email}");
            assert!(email.is_ascii(), "{email}");
            assert!(seen.insert(email.to_owned()), "duplicate {email}");
        }
    }

    #[test]
    fn provider_ids_are_unique() {
        let c = SampleCompany::generate(9, 3_000);
        let count = |f: &dyn Fn(&SamplePerson) -> Option<String>| {
            let all: Vec<String> = c.people.iter().filter_map(f).collect();
            let set: HashSet<&String> = all.iter().collect();
            (all.len(), set.len())
        };
        for (name, (all, unique)) in [
            ("productive", count(&|p| p.productive_id.clone())),
            ("google", count(&|p| p.google_id.clone())),
            ("slack", count(&|p| p.slack_user_id.clone())),
            (
                "xero",
                count(&|p| p.xero_employee_id.map(|u| u.to_string())),
            ),
        ] {
            assert_eq!(all, unique, "{name}");
        }
    }

    #[test]
    fn folding_accents_keeps_plain_letters() {
        for (from, to) in [
            ("Nguyễn", "Nguyen"),
            ("Łukasz", "Lukasz"),
            ("Þórsdóttir", "Thorsdottir"),
            ("Smith", "Smith"),
        ] {
            assert_eq!(fold_accents(from), to);
        }
    }
}
