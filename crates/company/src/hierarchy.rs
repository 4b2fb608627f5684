//! The shape of the tree: how many people sit at each level, and who reports to whom in which
//! department, title and squad.

use rand::Rng;
use rand::rngs::StdRng;

use crate::words::DEPARTMENTS;
use crate::{Level, SamplePerson};

/// How many people sit at each level; contractors come last.
pub(crate) struct Shape {
    pub(crate) heads: usize,
    pub(crate) managers: usize,
    pub(crate) leads: usize,
    pub(crate) staff: usize,
}

impl Shape {
    pub(crate) fn of(size: usize) -> Self {
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

    pub(crate) fn level(&self, index: usize) -> Level {
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
    pub(crate) const FIRST_HEAD: usize = 1;

    pub(crate) fn first_manager(&self) -> usize {
        1 + self.heads
    }
    pub(crate) fn first_lead(&self) -> usize {
        self.first_manager() + self.managers
    }
    pub(crate) fn first_staff(&self) -> usize {
        self.first_lead() + self.leads
    }
    pub(crate) fn first_contractor(&self) -> usize {
        self.first_staff() + self.staff
    }
}

/// Sets managers, departments, titles and squads from the shape; heads of department are
/// spread round-robin so every manager has at least one report.
pub(crate) fn link_hierarchy(
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
