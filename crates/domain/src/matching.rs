//! The one matcher: how sure Roster is that a record of one source (a user, a Productive
//! person, a Xero employee) is the same human as a record of another, and when that is sure
//! enough to link them without asking.
//!
//! Owns name normalisation, the three confidences and the auto-link rule (ADR 0019). It must
//! never do I/O or know where a record came from: callers hand it names and emails.

use std::collections::HashMap;
use std::hash::Hash;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::Email;

/// The score at and above which a match may be linked without a human (the contract's
/// "exactly one candidate scoring ≥ 80").
pub const AUTO_LINK_SCORE: u8 = 80;

/// How a candidate matched, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// The same email address, case-insensitively.
    ExactEmail,
    /// The same full name once normalised.
    ExactName,
    /// The same first name or the same family name, not both.
    PartialName,
}

impl Confidence {
    pub const fn score(self) -> u8 {
        match self {
            Self::ExactEmail => 100,
            Self::ExactName => 80,
            Self::PartialName => 40,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ExactEmail => "exact_email",
            Self::ExactName => "exact_name",
            Self::PartialName => "partial_name",
        }
    }
}

/// A name reduced to what identifies it: lower case, accents folded, whitespace collapsed,
/// words in "first … last" order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NameKey {
    words: Vec<String>,
}

impl NameKey {
    /// From one display string. "Last, First" (one comma) is read as "First Last".
    pub fn from_display(raw: &str) -> Self {
        let ordered = match raw.split_once(',') {
            Some((last, first)) if !first.contains(',') => format!("{first} {last}"),
            _ => raw.to_owned(),
        };
        Self {
            words: words(&ordered),
        }
    }

    /// From a first and a last name field. A first field that holds "Last, First" and an
    /// empty last field is a display string.
    pub fn from_parts(first: &str, last: &str) -> Self {
        if last.trim().is_empty() {
            return Self::from_display(first);
        }
        Self {
            words: words(&format!("{first} {last}")),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The normalised full name, words joined by one space.
    pub fn as_text(&self) -> String {
        self.words.join(" ")
    }

    fn first(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }

    /// The family name: the last word (a single word is a first name only).
    fn last(&self) -> Option<&str> {
        if self.words.len() < 2 {
            return None;
        }
        self.words.last().map(String::as_str)
    }
}

/// Lower case, accents removed by canonical decomposition (é → e + ◌́, the mark dropped),
/// anything that is not a letter or a digit treated as a space (hyphens and apostrophes
/// included: "Jean-Luc" and "Jean Luc" are one name), split into words.
pub fn normalize(raw: &str) -> String {
    words(raw).join(" ")
}

fn words(raw: &str) -> Vec<String> {
    let folded: String = raw
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    // Full case folding: "ß" upper-cases to "SS", so both spellings must meet at "ss".
    let folded = folded.replace('ß', "ss");
    folded.split_whitespace().map(str::to_owned).collect()
}

/// One side of a comparison: a normalised name and an email.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub name: NameKey,
    pub email: Option<Email>,
}

impl Identity {
    pub fn new(name: NameKey, email: Option<Email>) -> Self {
        Self { name, email }
    }
}

/// How `a` and `b` match, if at all. Symmetric.
pub fn score(a: &Identity, b: &Identity) -> Option<Confidence> {
    if let (Some(x), Some(y)) = (&a.email, &b.email)
        && x.as_str().eq_ignore_ascii_case(y.as_str())
    {
        return Some(Confidence::ExactEmail);
    }
    if a.name.is_empty() || b.name.is_empty() {
        return None;
    }
    if a.name == b.name {
        return Some(Confidence::ExactName);
    }
    let same_first = a.name.first().is_some() && a.name.first() == b.name.first();
    let same_last = a.name.last().is_some() && a.name.last() == b.name.last();
    (same_first || same_last).then_some(Confidence::PartialName)
}

/// A candidate that matched, with how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<K> {
    pub key: K,
    pub confidence: Confidence,
}

impl<K> Match<K> {
    pub const fn score(&self) -> u8 {
        self.confidence.score()
    }
}

/// Every candidate that matches `subject`, best first; ties keep the candidates' order
/// (callers pass them sorted by name, then id, so the answer is stable).
pub fn rank<K: Clone>(subject: &Identity, candidates: &[(K, Identity)]) -> Vec<Match<K>> {
    let mut out: Vec<Match<K>> = candidates
        .iter()
        .filter_map(|(key, who)| {
            score(subject, who).map(|confidence| Match {
                key: key.clone(),
                confidence,
            })
        })
        .collect();
    out.sort_by_key(|m| m.confidence);
    out
}

/// The auto-link rule: the one candidate scoring at least [`AUTO_LINK_SCORE`], or none when
/// there is none or more than one (two people called "Sam Lee" are for a human to tell apart).
pub fn auto_link<K>(matches: &[Match<K>]) -> Option<&K> {
    let mut sure = matches.iter().filter(|m| m.score() >= AUTO_LINK_SCORE);
    match (sure.next(), sure.next()) {
        (Some(only), None) => Some(&only.key),
        _ => None,
    }
}

/// Bulk auto-linking (a directory sync): for each subject, its auto-link candidate, keeping
/// only pairs where that candidate is claimed by exactly one subject. A candidate two
/// subjects both match surely is linked to neither. Pairs come out in the subjects' order.
pub fn plan_auto_links<S: Clone, K: Clone + Eq + Hash>(
    subjects: &[(S, Identity)],
    candidates: &[(K, Identity)],
) -> Vec<(S, K)> {
    let chosen: Vec<(S, K)> = subjects
        .iter()
        .filter_map(|(s, who)| {
            let ranked = rank(who, candidates);
            auto_link(&ranked).map(|k| (s.clone(), k.clone()))
        })
        .collect();
    let mut claims: HashMap<&K, usize> = HashMap::new();
    for (_, k) in &chosen {
        *claims.entry(k).or_default() += 1;
    }
    let unique: Vec<bool> = chosen.iter().map(|(_, k)| claims[k] == 1).collect();
    chosen
        .into_iter()
        .zip(unique)
        .filter_map(|(pair, keep)| keep.then_some(pair))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn who(name: &str, email: Option<&str>) -> Identity {
        Identity::new(
            NameKey::from_display(name),
            email.map(|e| Email::parse(e).unwrap()),
        )
    }

    #[test]
    fn names_normalise_for_case_accents_whitespace_and_order() {
        for (raw, want) in [
            ("Zoë Ñúñez", "zoe nunez"),
            ("  ANNA   maria\tSMITH ", "anna maria smith"),
            ("Smith, John", "john smith"),
            ("O'Brien, Seán", "sean o brien"),
            ("Jean-Luc Picard", "jean luc picard"),
            ("Ｊｏｈｎ", "john"),
            ("Strauß", "strauss"),
            ("", ""),
        ] {
            assert_eq!(NameKey::from_display(raw).as_text(), want, "{raw:?}");
        }
        assert_eq!(
            NameKey::from_parts("Zoë", "Núñez"),
            NameKey::from_display("Nunez, Zoe")
        );
        assert_eq!(
            NameKey::from_parts("Nunez, Zoe", ""),
            NameKey::from_display("Zoe Nunez")
        );
    }

    #[test]
    fn scores_read_like_the_contract() {
        for (a, b, want) in [
            (
                who("Ada Lovelace", Some("ada@x.test")),
                who("Someone Else", Some("ADA@x.test")),
                Some((Confidence::ExactEmail, 100)),
            ),
            (
                who("Ada Lovelace", Some("ada@x.test")),
                who("Lovelace, Ada", Some("countess@y.test")),
                Some((Confidence::ExactName, 80)),
            ),
            (
                who("Zoë Núñez", None),
                who("zoe  NUNEZ", None),
                Some((Confidence::ExactName, 80)),
            ),
            (
                who("Ada Lovelace", None),
                who("Ada Byron", None),
                Some((Confidence::PartialName, 40)),
            ),
            (
                who("Ada Lovelace", None),
                who("Augusta Lovelace", None),
                Some((Confidence::PartialName, 40)),
            ),
            (
                who("Ada Mary Lovelace", None),
                who("Ada Lovelace", None),
                Some((Confidence::PartialName, 40)),
            ),
            (who("Ada Lovelace", None), who("Grace Hopper", None), None),
            (
                who("Ada", None),
                who("Ada Hopper", None),
                Some((Confidence::PartialName, 40)),
            ),
            (who("", Some("a@x.test")), who("", Some("b@x.test")), None),
        ] {
            let got = score(&a, &b).map(|c| (c, c.score()));
            assert_eq!(got, want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn auto_link_needs_exactly_one_candidate_at_80_or_more() {
        let m = |k: u8, c: Confidence| Match {
            key: k,
            confidence: c,
        };
        for (matches, want) in [
            (vec![m(1, Confidence::ExactEmail)], Some(1)),
            (vec![m(1, Confidence::ExactName)], Some(1)),
            (vec![m(1, Confidence::PartialName)], None),
            (
                vec![m(1, Confidence::ExactName), m(2, Confidence::PartialName)],
                Some(1),
            ),
            (
                vec![m(1, Confidence::ExactEmail), m(2, Confidence::ExactName)],
                None,
            ),
            (vec![], None),
        ] {
            assert_eq!(auto_link(&matches).copied(), want, "{matches:?}");
        }
    }

    #[test]
    fn ranking_puts_the_strongest_first() {
        let candidates = vec![
            (1, who("Ada Byron", None)),
            (2, who("Grace Hopper", None)),
            (3, who("Someone", Some("ada@x.test"))),
            (4, who("Lovelace, Ada", None)),
        ];
        let ranked = rank(&who("Ada Lovelace", Some("ada@x.test")), &candidates);
        let keys: Vec<(i32, u8)> = ranked.iter().map(|m| (m.key, m.score())).collect();
        assert_eq!(keys, [(3, 100), (4, 80), (1, 40)]);
    }

    #[test]
    fn a_candidate_two_subjects_claim_goes_to_neither() {
        let subjects = vec![
            ("p1", who("Sam Lee", None)),
            ("p2", who("Lee, Sam", None)),
            ("p3", who("Kim Wu", Some("kim@x.test"))),
        ];
        let candidates = vec![
            ("e1", who("Sam Lee", None)),
            ("e2", who("Kimberly Wu", Some("kim@x.test"))),
        ];
        assert_eq!(plan_auto_links(&subjects, &candidates), [("p3", "e2")]);
    }

    fn name() -> impl Strategy<Value = String> {
        prop::collection::vec("[A-Za-zÀ-ÿ' -]{0,8}", 0..4).prop_map(|w| w.join(" "))
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(raw in name()) {
            let once = normalize(&raw);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn case_spacing_and_comma_order_never_change_the_key(first in "[A-Za-zÀ-ÿ]{1,8}", last in "[A-Za-zÀ-ÿ]{1,8}") {
            let plain = NameKey::from_parts(&first, &last);
            prop_assert_eq!(&NameKey::from_display(&format!("  {}   {} ", first.to_uppercase(), last.to_lowercase())), &plain);
            prop_assert_eq!(&NameKey::from_display(&format!("{last}, {first}")), &plain);
        }

        #[test]
        fn scoring_is_symmetric_and_a_name_matches_itself(a in name(), b in name()) {
            let (x, y) = (who(&a, None), who(&b, None));
            prop_assert_eq!(score(&x, &y), score(&y, &x));
            if !x.name.is_empty() {
                prop_assert_eq!(score(&x, &x), Some(Confidence::ExactName));
            }
        }

        #[test]
        fn auto_links_never_reuse_a_candidate(names in prop::collection::vec(name(), 0..8), others in prop::collection::vec(name(), 0..8)) {
            let subjects: Vec<(usize, Identity)> = names.iter().enumerate().map(|(i, n)| (i, who(n, None))).collect();
            let candidates: Vec<(usize, Identity)> = others.iter().enumerate().map(|(i, n)| (i, who(n, None))).collect();
            let pairs = plan_auto_links(&subjects, &candidates);
            let mut used: Vec<usize> = pairs.iter().map(|(_, k)| *k).collect();
            used.sort_unstable();
            used.dedup();
            prop_assert_eq!(used.len(), pairs.len());
            for (s, k) in &pairs {
                prop_assert!(score(&subjects[*s].1, &candidates[*k].1).is_some_and(|c| c.score() >= AUTO_LINK_SCORE));
            }
        }
    }
}
