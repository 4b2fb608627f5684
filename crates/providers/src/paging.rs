//! Guards for "fetch every page" loops.
//!
//! A sync trusts a listing to be complete, so a provider answer that would make a loop stop
//! early or never stop is a malformed answer, not an end of list: a page other than the one
//! asked for, a cursor handed back twice, a page identical to the one before, or more pages
//! than any company Roster serves could have. Each turns into [`Error::malformed`] naming the
//! field, and the whole listing fails (docs/api.md: a failed page aborts the sync).

use roster_domain::Provider;

use crate::error::Error;

/// No listing Roster makes needs more pages than this: 100,000 people at Xero's 100 a page is
/// 1,001 pages, and every other provider pages wider. Past it the provider is looping.
pub(crate) const MAX_PAGES: u32 = 10_000;

/// Watches one listing, page by page.
#[derive(Debug)]
pub(crate) struct PageGuard {
    provider: Provider,
    operation: &'static str,
    pages: u32,
    last_marker: Option<String>,
}

impl PageGuard {
    pub(crate) fn new(provider: Provider, operation: &'static str) -> Self {
        Self {
            provider,
            operation,
            pages: 0,
            last_marker: None,
        }
    }

    /// Counts one more page; past [`MAX_PAGES`] the listing is refused.
    pub(crate) fn next_page(&mut self) -> Result<u32, Error> {
        self.pages += 1;
        if self.pages > MAX_PAGES {
            return Err(self.malformed(
                "page",
                format!("the listing did not end after {MAX_PAGES} pages"),
            ));
        }
        Ok(self.pages)
    }

    /// A numbered page must say it is the page that was asked for.
    pub(crate) fn check_number(&self, field: &str, asked: u32, answered: u32) -> Result<(), Error> {
        if asked == answered {
            Ok(())
        } else {
            Err(self.malformed(
                field,
                format!("page {asked} was asked for and page {answered} came back"),
            ))
        }
    }

    /// Something that must change from one page to the next: a cursor, or the first row's
    /// id. Seeing the same marker twice in a row means the provider ignored the page asked for.
    pub(crate) fn check_advances(
        &mut self,
        field: &str,
        marker: Option<&str>,
    ) -> Result<(), Error> {
        let Some(marker) = marker else {
            return Ok(());
        };
        if self.last_marker.as_deref() == Some(marker) {
            return Err(self.malformed(
                field,
                format!("page {} repeats the page before it", self.pages),
            ));
        }
        self.last_marker = Some(marker.to_owned());
        Ok(())
    }

    fn malformed(&self, field: &str, message: String) -> Error {
        Error::malformed(self.provider, self.operation, field, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn guard() -> PageGuard {
        PageGuard::new(Provider::Xero, "xero.employees")
    }

    #[test]
    fn a_listing_that_never_ends_is_refused_after_the_cap() {
        let mut g = guard();
        for _ in 0..MAX_PAGES {
            g.next_page().unwrap();
        }
        let err = g.next_page().unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Malformed { ref field, .. } if field == "page"));
    }

    #[test]
    fn a_repeated_marker_is_refused_and_a_new_one_is_not() {
        let mut g = guard();
        for (marker, ok) in [
            (Some("a"), true),
            (Some("b"), true),
            (None, true),
            (Some("b"), false),
        ] {
            g.next_page().unwrap();
            assert_eq!(g.check_advances("cursor", marker).is_ok(), ok, "{marker:?}");
        }
    }

    #[test]
    fn another_page_number_than_asked_is_refused() {
        let g = guard();
        assert!(g.check_number("meta.current_page", 2, 2).is_ok());
        assert!(g.check_number("meta.current_page", 2, 1).is_err());
    }
}
