//! The `where` and `order` clauses of Payroll AU v1 listings: a small lexer and evaluator for
//! the subset of Xero's C#-like filter language the fake supports, with Xero's own error
//! messages (`QueryParseException`) for everything else.
//!
//! Owns parsing and matching only; which rows are rendered, filtered and paged is `select` in
//! the parent module.

use std::cmp::Ordering;

use serde_json::Value;
use uuid::Uuid;

pub(super) fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn unknown_field(field: &str, type_name: &str, at: usize) -> String {
    format!("No property or field '{field}' exists in type '{type_name}' (at index {at})")
}

pub(super) fn parse_order(
    order: &str,
    type_name: &str,
    fields: &[&str],
) -> Result<Vec<(String, bool)>, String> {
    let mut keys = Vec::new();
    let mut at = 0;
    for part in order.split(',') {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        if !fields.contains(&field) {
            return Err(unknown_field(field, type_name, at));
        }
        let descending = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC" | "ASCENDING") => false,
            Some("DESC" | "DESCENDING") => true,
            Some(_) => {
                return Err(format!(
                    "',' or end of expression expected (at index {})",
                    at + part.len()
                ));
            }
        };
        keys.push((field.to_owned(), descending));
        at += part.len() + 1;
    }
    Ok(keys)
}

/// A `where` clause: comparisons joined by `&&`/`AND`, alternatives by `||`/`OR`. Xero
/// accepts a C#-like language (`Status=="ACTIVE"`, `EmployeeID==GUID("…")`); the fake
/// supports `==` and `!=` on strings, GUIDs and booleans and refuses the rest with the
/// same 400 a typo gets, so an unsupported clause fails loudly rather than filtering wrongly.
pub(super) struct Where {
    any_of: Vec<Vec<Comparison>>,
}

struct Comparison {
    field: String,
    equal: bool,
    value: Value,
}

impl Where {
    pub(super) fn parse(clause: &str, type_name: &str, fields: &[&str]) -> Result<Self, String> {
        let mut lexer = Lexer { src: clause, at: 0 };
        let mut any_of = vec![Vec::new()];
        loop {
            let start = lexer.skip_ws();
            let field = lexer
                .ident()
                .ok_or_else(|| format!("Expression expected (at index {start})"))?;
            if !fields.contains(&field.as_str()) {
                return Err(unknown_field(&field, type_name, start));
            }
            let at = lexer.skip_ws();
            let equal = if lexer.eat("==") {
                true
            } else if lexer.eat("!=") {
                false
            } else {
                return Err(format!("'==' or '!=' expected (at index {at})"));
            };
            let at = lexer.skip_ws();
            let value = lexer
                .literal()
                .ok_or_else(|| format!("Expression expected (at index {at})"))?;
            if let Some(last) = any_of.last_mut() {
                last.push(Comparison {
                    field,
                    equal,
                    value,
                });
            }
            let at = lexer.skip_ws();
            if lexer.at_end() {
                break;
            }
            if lexer.eat("&&") || lexer.eat_word("AND") {
                continue;
            }
            if lexer.eat("||") || lexer.eat_word("OR") {
                any_of.push(Vec::new());
                continue;
            }
            return Err(format!("Syntax error (at index {at})"));
        }
        Ok(Self { any_of })
    }

    pub(super) fn matches(&self, row: &Value) -> bool {
        self.any_of.iter().any(|all| {
            all.iter()
                .all(|c| (row.get(&c.field) == Some(&c.value)) == c.equal)
        })
    }
}

struct Lexer<'a> {
    src: &'a str,
    at: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.at..]
    }
    fn skip_ws(&mut self) -> usize {
        let trimmed = self.rest().trim_start();
        self.at = self.src.len() - trimmed.len();
        self.at
    }
    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }
    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, word: &str) -> bool {
        let rest = self.rest();
        // Compare bytes: the clause is caller input, and slicing the str at `word.len()`
        // could land inside a multi-byte character.
        let matched = rest
            .as_bytes()
            .get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()))
            && rest
                .as_bytes()
                .get(word.len())
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'(');
        if matched {
            self.at += word.len();
        }
        matched
    }
    fn ident(&mut self) -> Option<String> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        if len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        self.at += len;
        Some(rest[..len].to_owned())
    }
    fn quoted(&mut self) -> Option<String> {
        if !self.eat("\"") {
            return None;
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Some(out);
                }
                '\\' => out.push(chars.next()?.1),
                c => out.push(c),
            }
        }
        None
    }
    fn literal(&mut self) -> Option<Value> {
        if let Some(s) = self.quoted() {
            return Some(Value::from(s));
        }
        if self.eat_word("GUID") {
            self.skip_ws();
            if !self.eat("(") {
                return None;
            }
            self.skip_ws();
            let guid = self.quoted()?;
            self.skip_ws();
            if !self.eat(")") {
                return None;
            }
            return Uuid::parse_str(&guid)
                .ok()
                .map(|u| Value::from(u.to_string()));
        }
        match self.ident()?.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::xero::payroll::EMPLOYEE_FIELDS;

    #[test]
    fn where_clauses_parse_like_xero_or_fail_with_its_message() {
        let row = json!({"Status": "ACTIVE", "FirstName": "Ann", "EmployeeID": "4ff1e5cc-9835-40d5-bb18-09fdb118db9c"});
        for (clause, matches) in [
            (r#"Status=="ACTIVE""#, true),
            (r#"Status == "TERMINATED""#, false),
            (r#"Status!="TERMINATED" && FirstName=="Ann""#, true),
            (r#"Status=="TERMINATED" OR FirstName=="Ann""#, true),
            (
                r#"EmployeeID==GUID("4ff1e5cc-9835-40d5-bb18-09fdb118db9c")"#,
                true,
            ),
        ] {
            let w = Where::parse(clause, "Employee", EMPLOYEE_FIELDS)
                .unwrap_or_else(|e| panic!("{clause}: {e}"));
            assert_eq!(w.matches(&row), matches, "{clause}");
        }
        for (clause, message) in [
            (
                r#"hi=="x""#,
                "No property or field 'hi' exists in type 'Employee' (at index 0)",
            ),
            ("Status==", "Expression expected (at index 8)"),
            (r#"Status="ACTIVE""#, "'==' or '!=' expected (at index 6)"),
        ] {
            assert_eq!(
                Where::parse(clause, "Employee", EMPLOYEE_FIELDS)
                    .err()
                    .as_deref(),
                Some(message),
                "{clause}"
            );
        }
    }

    #[test]
    fn where_clauses_with_any_text_are_refused_without_panicking() {
        // Multi-byte characters right where a keyword would end used to split a char.
        for clause in [
            "Status==\"ACTIVE\" ABé",
            "Status==\"ACTIVE\" ANé",
            "Status==\"ACTIVE\" \u{1F600}\u{1F600}",
            "é",
            "Status==GUID(é",
            "\"",
        ] {
            assert!(
                Where::parse(clause, "Employee", EMPLOYEE_FIELDS).is_err(),
                "{clause}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_where_clause_parses_or_fails_without_panicking(clause in "\\PC{0,40}") {
            let _ = Where::parse(&clause, "Employee", EMPLOYEE_FIELDS);
        }
    }
}
