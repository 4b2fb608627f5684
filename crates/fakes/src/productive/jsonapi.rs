//! JSON:API plumbing shared by every Productive listing: the query (`filter[…]`, `page[…]`,
//! `include`, `sort`) validated as Productive validates it, the page with its `meta` and
//! `links`, relationships, and Productive's timestamps.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ProductiveState, error};
use crate::serve::pairs;

/// `filter[x]=v` or `filter[x][op]=v`, with comma-separated values meaning "any of".
struct Filter {
    name: String,
    negate: bool,
    values: Vec<String>,
}

/// Query parameters of a list call, validated.
pub(super) struct ListQuery {
    filters: Vec<Filter>,
    page: usize,
    size: usize,
    pub(super) include_manager: bool,
    pub(super) sort: Option<(String, bool)>,
    raw: Vec<(String, String)>,
}

pub(super) fn parse_list(
    query: Option<&str>,
    allowed_filters: &[&str],
    allowed_sorts: &[&str],
    allow_manager: bool,
) -> Result<ListQuery, Response> {
    let raw = pairs(query.unwrap_or_default());
    let mut q = ListQuery {
        filters: Vec::new(),
        page: 1,
        size: DEFAULT_PAGE_SIZE,
        include_manager: false,
        sort: None,
        raw: raw.clone(),
    };
    for (key, value) in &raw {
        if let Some(rest) = key.strip_prefix("filter[") {
            let (name, op) = match rest.split_once("][") {
                Some((name, op)) => (name, op.trim_end_matches(']')),
                None => (rest.trim_end_matches(']'), "eq"),
            };
            if !allowed_filters.contains(&name) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "Unsupported Filter",
                    &format!("Filter '{name}' is not supported on this endpoint"),
                ));
            }
            let negate = match op {
                "eq" => false,
                "not_eq" => true,
                other => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Unsupported Filter",
                        &format!(
                            "Operator '{other}' is not supported for filter '{name}' by the fake"
                        ),
                    ));
                }
            };
            q.filters.push(Filter {
                name: name.to_owned(),
                negate,
                values: value.split(',').map(|v| v.trim().to_owned()).collect(),
            });
        } else if key == "page[number]" || key == "page[size]" {
            let n: usize = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    &format!("Invalid value '{value}' for {key}"),
                )
            })?;
            if key == "page[number]" {
                q.page = n;
            } else {
                // Productive caps page[size] at max_page_size.
                q.size = n.min(MAX_PAGE_SIZE);
            }
        } else if key == "include" {
            for path in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if allow_manager && path == "manager" {
                    q.include_manager = true;
                } else {
                    // JSON:API 1.0 §Inclusion of Related Resources: an unknown path is a 400.
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Bad Request",
                        &format!("Relationship '{path}' cannot be included"),
                    ));
                }
            }
        } else if key == "sort" {
            let (field, descending) = value
                .strip_prefix('-')
                .map_or((value.as_str(), false), |f| (f, true));
            if !allowed_sorts.contains(&field) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    &format!("Sort '{field}' is not supported on this endpoint"),
                ));
            }
            q.sort = Some((field.to_owned(), descending));
        }
    }
    Ok(q)
}

impl ListQuery {
    /// Whether a record passes every field filter (`query`, the full-text filter, aside).
    pub(super) fn matches(&self, value_of: impl Fn(&str) -> Option<String>) -> bool {
        self.filters.iter().filter(|f| f.name != "query").all(|f| {
            let actual = value_of(&f.name);
            let hit = f
                .values
                .iter()
                .any(|v| actual.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(v)));
            hit != f.negate
        })
    }

    /// Whether a record passes every `query` (full-text) filter.
    pub(super) fn text_matches(&self, contains: impl Fn(&str) -> bool) -> bool {
        self.filters
            .iter()
            .filter(|f| f.name == "query")
            .all(|f| f.values.iter().any(|v| contains(v)) != f.negate)
    }

    /// The page of `items`, with JSON:API `meta` and `links` for all of them.
    pub(super) fn page<T>(&self, state: &ProductiveState, path: &str, items: Vec<T>) -> Page<T> {
        let total = items.len();
        let total_pages = total.div_ceil(self.size);
        let meta = json!({
            "current_page": self.page,
            "total_pages": total_pages,
            "total_count": total,
            "page_size": self.size,
            "max_page_size": MAX_PAGE_SIZE,
        });
        let link = |page: usize| {
            let mut params: Vec<(String, String)> = self
                .raw
                .iter()
                .filter(|(k, _)| k != "page[number]" && k != "page[size]")
                .cloned()
                .collect();
            params.push(("page[number]".into(), page.to_string()));
            params.push(("page[size]".into(), self.size.to_string()));
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            format!("{}/{path}?{query}", state.api_url)
        };
        let mut links = Map::new();
        links.insert("first".into(), json!(link(1)));
        links.insert("last".into(), json!(link(total_pages.max(1))));
        if self.page < total_pages {
            links.insert("next".into(), json!(link(self.page + 1)));
        }
        if self.page > 1 {
            links.insert("prev".into(), json!(link(self.page - 1)));
        }
        let rows = items
            .into_iter()
            .skip((self.page - 1).saturating_mul(self.size))
            .take(self.size)
            .collect();
        Page {
            rows,
            meta,
            links: Value::Object(links),
        }
    }
}

/// One page of a listing: its records, not yet rendered, and the listing's `meta` and `links`.
pub(super) struct Page<T> {
    pub(super) rows: Vec<T>,
    meta: Value,
    links: Value,
}

impl<T> Page<T> {
    /// The JSON:API document `{"data","meta","links"}`, rendering only this page's records.
    pub(super) fn document(self, render: impl FnMut(T) -> Value) -> Value {
        let mut document = Map::new();
        document.insert(
            "data".into(),
            Value::Array(self.rows.into_iter().map(render).collect()),
        );
        document.insert("meta".into(), self.meta);
        document.insert("links".into(), self.links);
        Value::Object(document)
    }
}

/// Productive's timestamps: ISO-8601 with milliseconds and the organization's offset.
/// The sample company is in Sydney; AEDT (+11:00) is used all year for simplicity.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(11 * 3600) {
        Some(sydney) => at
            .with_timezone(&sydney)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
        None => at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    }
}

pub(super) fn midnight(d: chrono::NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

pub(super) fn relationship(kind: &str, id: Option<&str>) -> Value {
    json!({ "data": id.map(|id| json!({ "type": kind, "id": id })) })
}

pub(super) fn not_included() -> Value {
    json!({ "meta": { "included": false } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_carry_milliseconds_and_an_offset() {
        let at = DateTime::from_timestamp(1_772_442_000, 0).unwrap_or_default();
        assert_eq!(timestamp(at), "2026-03-02T20:00:00.000+11:00");
    }
}
