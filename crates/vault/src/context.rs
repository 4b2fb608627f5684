//! Additional authenticated data: where a sealed value lives. Owns the byte encoding of a
//! context. Must never be secret itself (it is shown in `Debug`) and must stay unambiguous:
//! two different contexts must never encode to the same bytes.

use std::fmt;

/// Binds a sealed value to where it is stored, e.g.
/// `Context::new("connection", org_id, "xero")`. Opening it under any other context fails,
/// so a ciphertext copied to another row, org or field is useless there.
///
/// The parts are public identifiers (table, org id, row id, field), never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Context {
    parts: Vec<String>,
}

impl Context {
    /// A context of three parts: what kind of record, whose (usually the org id), and which
    /// one or which field.
    pub fn new(kind: impl fmt::Display, owner: impl fmt::Display, name: impl fmt::Display) -> Self {
        Self {
            parts: vec![kind.to_string(), owner.to_string(), name.to_string()],
        }
    }

    /// The same context narrowed by one more part (a row id, a field name).
    #[must_use]
    pub fn with(mut self, part: impl fmt::Display) -> Self {
        self.parts.push(part.to_string());
        self
    }

    /// Appends the encoding: each part as a big-endian u64 byte length, then its bytes.
    /// Length prefixes keep it injective: ("ab", "c") and ("a", "bc") encode differently.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        for part in &self.parts {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(context: &Context) -> Vec<u8> {
        let mut out = Vec::new();
        context.encode_into(&mut out);
        out
    }

    #[test]
    fn shifting_text_between_parts_changes_the_encoding() {
        let pairs = [
            (Context::new("ab", "c", "d"), Context::new("a", "bc", "d")),
            (
                Context::new("a", "b", "c"),
                Context::new("a", "b", "c").with(""),
            ),
            (
                Context::new("a", "b", "cd"),
                Context::new("a", "b", "c").with("d"),
            ),
        ];
        for (left, right) in pairs {
            assert_ne!(encoded(&left), encoded(&right), "{left:?} vs {right:?}");
        }
    }
}
