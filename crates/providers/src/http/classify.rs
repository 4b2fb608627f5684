//! Reading answers: the [`Response`] a call gets back, the [`Verdict`] a provider's
//! classifier gives it, the classification most providers share, and parsing a JSON body
//! into a wire type without letting provider data into the error.

use bytes::Bytes;
use http::HeaderMap;
use roster_domain::Provider;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind};

/// A provider's reading of one answer.
#[derive(Debug)]
pub(crate) enum Verdict {
    Success,
    /// Final: do not retry.
    Fail(ErrorKind),
    /// Throttled: wait (`Retry-After`, else backoff) and retry.
    RateLimited,
    /// May succeed if repeated (5xx); retried for idempotent calls only.
    Transient(ErrorKind),
    /// Never reached the provider; safe to retry whatever the call.
    NotSent(ErrorKind),
}

pub(crate) type Classifier = fn(&Response) -> Verdict;

/// One answer, read in full.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when it is JSON; classifiers read error bodies through this.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The classification most providers share: 2xx succeeds, 429 waits, 5xx is transient,
/// 401 means the credential is dead, any other 4xx is final. `detail` pulls a short,
/// provider-specific message out of an error body.
pub(crate) fn classify_common(resp: &Response, detail: fn(&Response) -> String) -> Verdict {
    match resp.status {
        s if (200..300).contains(&s) => Verdict::Success,
        429 => Verdict::RateLimited,
        401 => Verdict::Fail(ErrorKind::NeedsReauth {
            detail: detail(resp),
        }),
        s if s >= 500 => Verdict::Transient(ErrorKind::Upstream {
            detail: detail(resp),
        }),
        _ => Verdict::Fail(ErrorKind::Upstream {
            detail: detail(resp),
        }),
    }
}

/// Parses a JSON body into a wire type; a mismatch names the JSON path of the field
/// (`Employees[3].DateOfBirth`) and never panics. Values quoted in serde's message are cut:
/// they are provider data (a birth date, a name) that has no place in a log line.
pub(crate) fn parse_json<T: DeserializeOwned>(
    provider: Provider,
    operation: &'static str,
    resp: &Response,
) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(&resp.body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(body)".to_owned()
        } else {
            path
        };
        let message = without_quoted_values(&e.into_inner().to_string());
        Error::malformed(provider, operation, field, message).with_status(resp.status)
    })
}

/// Drops serde_json's " at line L column C" (the path already says where) and cuts the
/// provider's values from the message: serde quotes strings in `"…"` and other values in
/// `` `…` `` (an account number sent as a number: "invalid type: integer `12345678`").
/// What follows ", expected" is Roster's own vocabulary (variant names) and stays.
fn without_quoted_values(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or("invalid value");
    // Field names are the provider's vocabulary, not its data.
    if ["missing field ", "unknown field ", "duplicate field "]
        .iter()
        .any(|p| message.starts_with(p))
    {
        return message.to_owned();
    }
    let (head, tail) = match message.find(", expected") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    let mut out = String::with_capacity(message.len());
    let mut inside: Option<char> = None;
    for c in head.chars() {
        match inside {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                inside = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                inside = Some(c);
            }
            None => out.push(c),
        }
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_keep_the_shape_and_drop_the_values() {
        for (message, want) in [
            (
                "invalid type: integer `12345678`, expected a string at line 1 column 20",
                "invalid type: integer `…`, expected a string",
            ),
            (
                "invalid value: string \"1990-13-45\", expected a date",
                "invalid value: string \"…\", expected a date",
            ),
            (
                "unknown variant `SECRETCODE`, expected one of `FULLTIME`, `PARTTIME`",
                "unknown variant `…`, expected one of `FULLTIME`, `PARTTIME`",
            ),
            ("missing field `EmployeeID`", "missing field `EmployeeID`"),
        ] {
            assert_eq!(without_quoted_values(message), want, "{message}");
        }
    }
}
