//! Bounded text fields. The contract caps a text field at 1,000 characters (a credential at
//! 4,096, a service-account key at 64 KiB); a longer value is a 422 naming the field.

use crate::FieldError;

pub const MAX_TEXT_CHARS: usize = 1_000;
pub const MAX_CREDENTIAL_CHARS: usize = 4_096;
pub const MAX_SERVICE_ACCOUNT_KEY_BYTES: usize = 64 * 1024;

/// Trims and checks a free-text value: non-empty when `required`, at most `max` characters,
/// no control characters except tab and newline.
pub fn bounded(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Like [`bounded`] but also refuses an empty value.
pub fn required(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = bounded(field, raw, max)?;
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits() {
        for (raw, ok) in [
            ("Melbourne", true),
            ("  padded  ", true),
            (&"x".repeat(1000) as &str, true),
            (&"x".repeat(1001) as &str, false),
            ("bell\u{7}", false),
            ("two\nlines", true),
        ] {
            assert_eq!(
                bounded("location", raw, MAX_TEXT_CHARS).is_ok(),
                ok,
                "{raw:?}"
            );
        }
        assert_eq!(required("name", "   ", 10).unwrap_err().field, "name");
    }
}
