//! The deliberate mess, because real tenants look like this: leavers, EOR staff abroad,
//! squadless floaters, exactly one manager cycle, and names whose accents were dropped when
//! typed into another provider.

use std::collections::HashMap;

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::SamplePerson;
use crate::hierarchy::Shape;
use crate::words::REMOTE_COUNTRIES;

/// Special parts a person plays in the mess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Ordinary,
    Leaver,
    Remote { country: usize },
    RemoteLeaver { country: usize },
    Cycle,
    Floater,
}

/// Picks leavers, EOR staff, squadless floaters and the cycle from the staff and leads.
pub(crate) fn assign_roles(shape: &Shape, rng: &mut StdRng) -> HashMap<usize, Role> {
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

/// Applies the cycle and floater roles once the tree exists.
pub(crate) fn close_manager_cycle(roles: &HashMap<usize, Role>, people: &mut [SamplePerson]) {
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

/// Drops diacritics from the letters the word lists use ("Nguyễn" → "Nguyen").
pub fn fold_accents(s: &str) -> String {
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
