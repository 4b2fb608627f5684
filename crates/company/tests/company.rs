//! Properties of the generated company: determinism, structure at every size, and the mess it
//! promises.

use std::collections::HashSet;

use roster_company::{Level, MIN_SIZE, SampleCompany, SamplePerson, fold_accents};

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
        c.people
            .iter()
            .any(|p| p.is_contractor && p.xero_employee_id.is_some() && p.productive_id.is_none())
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

#[test]
fn a_hundred_thousand_people_keep_every_promise() {
    // How fast it generates is measured by the benches, not asserted here: machines are shared.
    let company = SampleCompany::generate(11, 100_000);
    assert_eq!(company.people.len(), 100_000);
    assert!(company.depth() >= 4);
    assert_eq!(company.manager_cycles().len(), 1);
    assert!(company.squads.len() >= 5);
    let emails: HashSet<&str> = company
        .people
        .iter()
        .filter_map(|p| p.email.as_deref())
        .collect();
    assert_eq!(
        emails.len(),
        company.people.iter().filter(|p| p.email.is_some()).count(),
        "emails are unique"
    );
    assert_eq!(
        company,
        SampleCompany::generate(11, 100_000),
        "deterministic at scale too"
    );
}
