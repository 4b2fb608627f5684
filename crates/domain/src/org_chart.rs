//! The org chart: active people and their manager edges become a forest, drawn in memory
//! from one read. No I/O, and no recursion: a manager chain as long as the organization
//! (100,000 people) must neither overflow a stack nor hang.
//!
//! The rules (the contract's "People API"):
//! - A person without a manager, or whose manager is not among the active people given, or
//!   who is their own manager, is a root.
//! - Children and roots are sorted by full name, case-insensitively, ties by id.
//! - A manager cycle is broken where its member that sorts first (same order) is: that person
//!   becomes a root. The choice depends only on the cycle's members, not on the order people
//!   arrive in, so the chart is the same on every read. Everyone appears exactly once.
//! - Beyond the contract, each node counts its direct reports and everyone below it.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::PersonId;

/// What the chart needs of one active person.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub id: PersonId,
    pub manager: Option<PersonId>,
    pub full_name: &'a str,
}

/// A forest over the entries given to [`build`], by their index in that slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// Sorted by name (case-insensitively), then id.
    pub roots: Vec<usize>,
    /// Each entry's direct reports, sorted the same way.
    pub children: Vec<Vec<usize>>,
    /// Each entry's count of everyone below it.
    pub subtree_count: Vec<usize>,
    /// Entries that were made roots to break a manager cycle.
    pub cycle_breaks: Vec<usize>,
}

/// The sort key of the contract: full name case-insensitively, then id.
fn order(keys: &[(String, PersonId)], a: usize, b: usize) -> Ordering {
    keys[a].cmp(&keys[b])
}

/// Builds the chart. Entries with the same id twice are a caller's bug: the later one is
/// listed as a root of its own rather than dropped.
pub fn build(entries: &[Entry<'_>]) -> Chart {
    let n = entries.len();
    let keys: Vec<(String, PersonId)> = entries
        .iter()
        .map(|e| (e.full_name.to_lowercase(), e.id))
        .collect();
    let index: HashMap<PersonId, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i))
        .rev()
        .collect();
    let mut parent: Vec<Option<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            e.manager
                .and_then(|m| index.get(&m).copied())
                .filter(|&m| m != i)
        })
        .collect();

    // Cycles of the manager graph (each person has at most one manager, so every cycle is
    // a ring reached by following managers). 0 unvisited, 1 on the current walk, 2 done.
    let mut state = vec![0_u8; n];
    let mut cycle_breaks = Vec::new();
    let mut walk = Vec::new();
    for start in 0..n {
        let mut at = Some(start);
        walk.clear();
        while let Some(i) = at {
            match state[i] {
                0 => {
                    state[i] = 1;
                    walk.push(i);
                    at = parent[i];
                }
                1 => {
                    // `i` is on this walk: the walk from `i` onwards is a ring.
                    let from = walk.iter().position(|&w| w == i).unwrap_or(0);
                    let ring = &walk[from..];
                    let cut = ring
                        .iter()
                        .copied()
                        .min_by(|&a, &b| order(&keys, a, b))
                        .unwrap_or(i);
                    parent[cut] = None;
                    cycle_breaks.push(cut);
                    break;
                }
                _ => break,
            }
        }
        for &w in &walk {
            state[w] = 2;
        }
    }
    cycle_breaks.sort_by(|&a, &b| order(&keys, a, b));

    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    roots.sort_by(|&a, &b| order(&keys, a, b));
    for c in &mut children {
        c.sort_by(|&a, &b| order(&keys, a, b));
    }

    // Everyone below: children before parents, by a breadth-first order walked backwards.
    let mut bfs = Vec::with_capacity(n);
    bfs.extend_from_slice(&roots);
    let mut next = 0;
    while next < bfs.len() {
        let i = bfs[next];
        bfs.extend_from_slice(&children[i]);
        next += 1;
    }
    let mut subtree_count = vec![0_usize; n];
    for &i in bfs.iter().rev() {
        if let Some(p) = parent[i] {
            subtree_count[p] += subtree_count[i] + 1;
        }
    }
    Chart {
        roots,
        children,
        subtree_count,
        cycle_breaks,
    }
}

impl Chart {
    /// Every entry in the order the chart draws them (depth first, pre-order), with its
    /// depth; iterative, so any depth is safe.
    pub fn walk(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(self.children.len());
        let mut stack: Vec<(usize, usize)> = self.roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            out.push((i, depth));
            stack.extend(self.children[i].iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn id(n: u128) -> PersonId {
        PersonId::from_uuid(Uuid::from_u128(n))
    }

    fn names(people: &[(u128, Option<u128>, &str)], list: &[usize]) -> Vec<String> {
        list.iter().map(|&i| people[i].2.to_owned()).collect()
    }

    fn chart_of(people: &[(u128, Option<u128>, &str)]) -> Chart {
        let entries: Vec<Entry<'_>> = people
            .iter()
            .map(|(i, m, n)| Entry {
                id: id(*i),
                manager: m.map(id),
                full_name: n,
            })
            .collect();
        build(&entries)
    }

    #[test]
    fn roots_and_children_sort_by_name_case_insensitively_then_id() {
        let people = [
            (1, None, "bob Stone"),
            (2, None, "Alice Ng"),
            (3, Some(2), "zed Roe"),
            (4, Some(2), "Amy Lu"),
            (5, Some(99), "Carl Orphan"), // manager not active: a root
            (6, None, "alice ng"),
        ];
        let c = chart_of(&people);
        assert_eq!(
            names(&people, &c.roots),
            ["Alice Ng", "alice ng", "bob Stone", "Carl Orphan"],
            "ties by id: 2 before 6"
        );
        assert_eq!(names(&people, &c.children[1]), ["Amy Lu", "zed Roe"]);
        assert_eq!(c.subtree_count[1], 2);
        assert!(c.cycle_breaks.is_empty());
    }

    #[test]
    fn a_cycle_is_cut_at_its_first_member_by_name() {
        for (people, root) in [
            // Self-loop: a root, not a cycle to report.
            (vec![(1, Some(1), "Solo")], "Solo"),
            (vec![(1, Some(2), "Bea"), (2, Some(1), "Abe")], "Abe"),
            (
                vec![(1, Some(3), "Cy"), (2, Some(1), "Bo"), (3, Some(2), "Al")],
                "Al",
            ),
        ] {
            let c = chart_of(&people);
            assert_eq!(names(&people, &c.roots), [root], "{people:?}");
            assert_eq!(c.walk().len(), people.len(), "everyone once: {people:?}");
            assert_eq!(c.subtree_count[c.roots[0]], people.len() - 1);
        }
    }

    #[test]
    fn a_chain_as_deep_as_the_organization_does_not_recurse() {
        let n = 100_000_u128;
        let people: Vec<(u128, Option<u128>, String)> = (0..n)
            .map(|i| (i, i.checked_sub(1), format!("P {i}")))
            .collect();
        let entries: Vec<Entry<'_>> = people
            .iter()
            .map(|(i, m, name)| Entry {
                id: id(*i),
                manager: m.map(id),
                full_name: name,
            })
            .collect();
        let c = build(&entries);
        assert_eq!(c.roots, [0]);
        assert_eq!(c.subtree_count[0], 99_999);
        assert_eq!(c.walk().last(), Some(&(99_999, 99_999)));
    }

    proptest! {
        /// Any manager graph (cycles, self-loops, dangling managers, any order): everyone
        /// listed exactly once, counts add up, and the chart does not depend on input order.
        #[test]
        fn everyone_is_listed_exactly_once(
            managers in prop::collection::vec(prop::option::of(0_u128..40), 0..40),
            rotate in 0_usize..40,
        ) {
            let people: Vec<(u128, Option<u128>, String)> = managers
                .iter()
                .enumerate()
                .map(|(i, m)| (i as u128, *m, format!("N{}", i % 7)))
                .collect();
            let entries: Vec<Entry<'_>> = people
                .iter()
                .map(|(i, m, n)| Entry { id: id(*i), manager: m.map(id), full_name: n })
                .collect();
            let c = build(&entries);
            let walked = c.walk();
            prop_assert_eq!(walked.len(), entries.len());
            let seen: HashSet<usize> = walked.iter().map(|(i, _)| *i).collect();
            prop_assert_eq!(seen.len(), entries.len());
            let total: usize = c.roots.iter().map(|&r| c.subtree_count[r] + 1).sum();
            prop_assert_eq!(total, entries.len());
            for (i, kids) in c.children.iter().enumerate() {
                let below: usize = kids.iter().map(|&k| c.subtree_count[k] + 1).sum();
                prop_assert_eq!(c.subtree_count[i], below);
            }

            // The same people in another order draw the same chart (by id).
            let mut shuffled = entries.clone();
            if !shuffled.is_empty() {
                let k = rotate % shuffled.len();
                shuffled.rotate_left(k);
            }
            let d = build(&shuffled);
            let by_id = |chart: &Chart, es: &[Entry<'_>]| -> Vec<(PersonId, usize)> {
                chart.walk().iter().map(|&(i, depth)| (es[i].id, depth)).collect()
            };
            prop_assert_eq!(by_id(&c, &entries), by_id(&d, &shuffled));
        }
    }
}
