//! The one gate every user-supplied outgoing URL passes before Roster calls it (a webhook
//! target, for one): [`check_outbound_url`].
//!
//! Owns the part of the check that needs the network: it applies the rules of
//! [`roster_domain::outbound`] (https, no user name or password, a public host), then
//! resolves a host name through a [`Resolve`] and refuses the URL if the name does not
//! resolve or if **any** address it answers is not public (a name of ours that points at
//! 10.0.0.7 is refused like 10.0.0.7 itself). A host on the operator's allow-list
//! (`ROSTER_OUTBOUND_ALLOW_HOSTS`) is still resolved but its addresses are not judged.
//! This module never calls the URL and never caches an answer.
//!
//! # Connect only to what was checked
//!
//! A check is only good for the addresses it saw: the name's owner can answer the next lookup
//! with 127.0.0.1 (DNS rebinding). So a caller must either connect only to the checked
//! addresses, or run the check again right before each call. [`CheckedUrl::pin`] does the
//! first for reqwest: it makes the client resolve the host to [`CheckedUrl::addrs`] only
//! (`ClientBuilder::resolve_to_addrs`), follow no redirect (a public host could redirect to
//! a private one) and use no proxy (which would resolve the name itself):
//!
//! ```rust,ignore
//! let checked = check_outbound_url(&body.webhook_url, "webhook_url", allow, &SystemResolver).await?;
//! store(checked.url().as_str());                                // the normalized URL
//! // … at call time, from the stored string:
//! let checked = check_outbound_url(&stored, "webhook_url", allow, &SystemResolver).await?;
//! let client = checked.pin(reqwest::Client::builder().timeout(t)).build()?;
//! client.post(checked.url().as_str()).json(&event).send().await?;
//! ```

use std::fmt;
use std::io;
use std::net::SocketAddr;

use futures::future::BoxFuture;
use roster_domain::FieldError;
use roster_domain::outbound::{AllowList, OutboundUrl, non_public};

/// Answers the addresses of a host name. [`SystemResolver`] in production; a table in tests.
pub trait Resolve: Send + Sync + fmt::Debug {
    /// The addresses `host` resolves to, each with `port`.
    fn lookup<'a>(&'a self, host: &'a str, port: u16)
    -> BoxFuture<'a, io::Result<Vec<SocketAddr>>>;
}

/// The system's resolver (`getaddrinfo`, through tokio's `lookup_host`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// A URL that passed every check, with the addresses it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    url: OutboundUrl,
    addrs: Vec<SocketAddr>,
}

impl CheckedUrl {
    /// The validated, normalized URL: the value to store.
    pub fn url(&self) -> &OutboundUrl {
        &self.url
    }

    pub fn into_url(self) -> OutboundUrl {
        self.url
    }

    /// The addresses the host resolved to (the literal address for an IP host), each with
    /// the URL's port. Never empty.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Makes a client connect to [`Self::addrs`] only, with no redirects and no proxy (see
    /// the module documentation). Settings made on the builder afterwards must not undo these.
    pub fn pin(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let builder = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if self.url.ip().is_some() {
            // An address host is never looked up.
            builder
        } else {
            builder.resolve_to_addrs(self.url.host_str(), &self.addrs)
        }
    }
}

/// Checks a user-supplied outgoing URL: the rules of [`OutboundUrl::parse`], then every
/// address its host resolves to (see the module documentation). Errors name `field` and say
/// why in plain words, without the URL's path or query and without the resolved addresses.
pub async fn check_outbound_url(
    raw: &str,
    field: &str,
    allow: &AllowList,
    resolver: &(impl Resolve + ?Sized),
) -> Result<CheckedUrl, FieldError> {
    let url = OutboundUrl::parse(field, raw, allow)?;
    let port = url.port();
    let addrs = if let Some(ip) = url.ip() {
        vec![SocketAddr::new(ip, port)]
    } else {
        let host = url.host_str();
        let unresolved =
            || FieldError::new(field, format!("{host} does not resolve to an address"));
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for addr in resolver
            .lookup(host, port)
            .await
            .map_err(|_| unresolved())?
        {
            let addr = SocketAddr::new(addr.ip(), port);
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(unresolved());
        }
        if !url.is_allow_listed() {
            if let Some(class) = addrs.iter().find_map(|a| non_public(a.ip())) {
                return Err(FieldError::new(
                    field,
                    format!("must point to a public host: {host} resolves to {class}"),
                ));
            }
        }
        addrs
    };
    Ok(CheckedUrl { url, addrs })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::IpAddr;
    use std::sync::Mutex;

    use super::*;

    /// A resolver that answers from a table and records what it was asked.
    #[derive(Debug, Default)]
    struct TableResolver {
        answers: HashMap<&'static str, Vec<&'static str>>,
        asked: Mutex<Vec<String>>,
    }

    impl TableResolver {
        fn new(answers: &[(&'static str, &[&'static str])]) -> Self {
            Self {
                answers: answers.iter().map(|(h, a)| (*h, a.to_vec())).collect(),
                asked: Mutex::default(),
            }
        }
    }

    impl Resolve for TableResolver {
        fn lookup<'a>(
            &'a self,
            host: &'a str,
            port: u16,
        ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
            self.asked.lock().unwrap().push(host.to_owned());
            let answer = self.answers.get(host).map(|ips| {
                ips.iter()
                    // The port a resolver reports is not trusted: the URL's is used.
                    .map(|ip| SocketAddr::new(ip.parse::<IpAddr>().unwrap(), port + 1))
                    .collect()
            });
            Box::pin(async move {
                answer.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host"))
            })
        }
    }

    fn resolver() -> TableResolver {
        TableResolver::new(&[
            (
                "hooks.example.com",
                &["93.184.215.14", "2606:2800:21f:cb07::1"],
            ),
            ("private.example.com", &["10.0.0.7"]),
            ("mixed.example.com", &["93.184.215.14", "192.168.1.2"]),
            ("mixed6.example.com", &["2606:2800:21f:cb07::1", "::1"]),
            ("mapped.example.com", &["::ffff:127.0.0.1"]),
            ("meta.example.com", &["169.254.169.254"]),
            ("cgnat.example.com", &["100.100.100.200"]),
            ("empty.example.com", &[]),
            ("hooks.corp.example", &["10.0.0.5"]),
        ])
    }

    fn allow() -> AllowList {
        AllowList::parse("outbound_allow_hosts", ["hooks.corp.example"]).unwrap()
    }

    #[tokio::test]
    async fn public_urls_are_accepted_with_the_addresses_they_were_checked_against() {
        for (raw, stored, addrs, looked_up) in [
            (
                "https://hooks.example.com/x",
                "https://hooks.example.com/x",
                &["93.184.215.14:443", "[2606:2800:21f:cb07::1]:443"][..],
                &["hooks.example.com"][..],
            ),
            (
                "https://Hooks.Example.com.:8443/x?k=v",
                "https://hooks.example.com:8443/x?k=v",
                &["93.184.215.14:8443", "[2606:2800:21f:cb07::1]:8443"],
                &["hooks.example.com"],
            ),
            (
                "https://93.184.215.14/",
                "https://93.184.215.14/",
                &["93.184.215.14:443"],
                &[],
            ),
            (
                "https://[2606:4700::1111]:8443/",
                "https://[2606:4700::1111]:8443/",
                &["[2606:4700::1111]:8443"],
                &[],
            ),
            (
                "https://hooks.corp.example/alerts",
                "https://hooks.corp.example/alerts",
                &["10.0.0.5:443"],
                &["hooks.corp.example"],
            ),
        ] {
            let resolver = resolver();
            let checked = check_outbound_url(raw, "webhook_url", &allow(), &resolver)
                .await
                .unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(checked.url().as_str(), stored, "{raw}");
            let expected: Vec<SocketAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
            assert_eq!(checked.addrs(), expected, "{raw}");
            assert_eq!(*resolver.asked.lock().unwrap(), looked_up, "{raw}");
        }
    }

    #[tokio::test]
    async fn a_url_is_refused_if_any_address_is_not_public_or_none_comes_back() {
        for (raw, needle, looked_up) in [
            (
                "https://private.example.com/x",
                "private.example.com resolves to a private network address",
                true,
            ),
            (
                "https://mixed.example.com/x",
                "resolves to a private network address",
                true,
            ),
            (
                "https://mixed6.example.com/x",
                "resolves to a loopback address",
                true,
            ),
            (
                "https://mapped.example.com/x",
                "resolves to a loopback address",
                true,
            ),
            (
                "https://meta.example.com/x",
                "resolves to a cloud metadata endpoint",
                true,
            ),
            (
                "https://cgnat.example.com/x",
                "resolves to a shared carrier-grade NAT address",
                true,
            ),
            (
                "https://nowhere.example.com/x",
                "nowhere.example.com does not resolve",
                true,
            ),
            (
                "https://empty.example.com/x",
                "empty.example.com does not resolve",
                true,
            ),
            // Refused before any lookup.
            ("http://hooks.example.com/x", "must be an https URL", false),
            ("http://hooks.corp.example/x", "must be an https URL", false),
            (
                "https://user:pass@hooks.example.com/x",
                "user name or password",
                false,
            ),
            ("https://localhost/x", "loopback name", false),
            ("https://10.0.0.5/x", "private network address", false),
            ("https://[::ffff:169.254.169.254]/", "cloud metadata", false),
            ("https://2130706433/", "loopback address", false),
        ] {
            let resolver = resolver();
            let err = check_outbound_url(raw, "webhook_url", &allow(), &resolver)
                .await
                .expect_err(raw);
            assert_eq!(err.field, "webhook_url");
            assert!(err.message.contains(needle), "{raw}: {}", err.message);
            assert_eq!(
                !resolver.asked.lock().unwrap().is_empty(),
                looked_up,
                "{raw}"
            );
            // The resolved addresses stay private: they would map the operator's network.
            for hidden in [
                "10.0.0.7",
                "192.168.1.2",
                "169.254.169.254",
                "100.100.100.200",
            ] {
                assert!(
                    raw.contains(hidden) || !err.message.contains(hidden),
                    "{raw}: {}",
                    err.message
                );
            }
        }
    }

    #[tokio::test]
    async fn the_system_resolver_answers_an_allow_listed_localhost() {
        let allow = AllowList::parse("outbound_allow_hosts", ["localhost"]).unwrap();
        let checked = check_outbound_url("https://localhost:9/", "f", &allow, &SystemResolver)
            .await
            .unwrap();
        assert!(!checked.addrs().is_empty());
        for addr in checked.addrs() {
            assert!(addr.ip().is_loopback(), "{addr}");
            assert_eq!(addr.port(), 9);
        }
    }

    #[tokio::test]
    async fn a_pinned_client_connects_to_the_checked_address_only() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // The name resolves nowhere in DNS: only the pin can lead the client to the listener.
        let resolver = TableResolver::new(&[("pinned.roster.invalid", &["127.0.0.1"])]);
        let allow = AllowList::parse("f", ["pinned.roster.invalid"]).unwrap();
        let raw = format!("https://pinned.roster.invalid:{port}/hook");
        let checked = check_outbound_url(&raw, "f", &allow, &resolver)
            .await
            .unwrap();
        let client = checked.pin(reqwest::Client::builder()).build().unwrap();
        let call = client.post(checked.url().as_str()).send();
        tokio::select! {
            biased;
            accepted = listener.accept() => {
                // The TLS handshake waits on us; dropping the socket ends the call.
                drop(accepted.unwrap());
            }
            answer = call => panic!("the call ended without reaching the pinned address: {answer:?}"),
        }
    }
}
