//! The generator: draws every person, squad and super fund from one seeded `StdRng`, in a
//! fixed order, so the same `(seed, size)` always gives the same company.

use chrono::{Days, NaiveTime, TimeDelta};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use uuid::Uuid;

use crate::hierarchy::{Shape, link_hierarchy};
use crate::mess::{Role, assign_roles, close_manager_cycle, fold_accents};
use crate::words::{
    COMPANIES, FAMILY, FEMININE, MASCULINE, NEUTRAL, NICKNAMES, REMOTE_COUNTRIES, SQUADS, STREETS,
    SUBURBS, SUPER_FUNDS,
};
use crate::{
    Level, MIN_SIZE, REFERENCE_DATE, SampleAddress, SampleBankAccount, SampleBasis, SampleCompany,
    SamplePerson, SampleSquad, SampleSuperFund, SampleSuperMembership, SuperFundKind,
};

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

fn random_uuid(rng: &mut impl Rng) -> Uuid {
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
