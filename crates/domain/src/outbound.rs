//! Outgoing URLs that users supply (webhook targets and the like): what Roster may call.
//!
//! Owns the rules without the network: [`OutboundUrl::parse`] accepts only an `https` URL
//! with a host and no user name or password, at most [`MAX_URL_CHARS`] long, whose host is
//! neither a non-public IP address ([`non_public`]) nor a name that only means something
//! inside a network (`localhost`, `*.internal`, `*.local`, a name without a dot, a cloud
//! metadata name). The operator's [`AllowList`] lifts the host checks, never the others.
//!
//! This module never resolves a name: a name that passes here may still point at a private
//! address. Callers go through `roster_providers::outbound::check_outbound_url`, which
//! resolves the host and applies [`non_public`] to every address it answers.
//!
//! Other spellings of an address are caught because the `url` crate parses an https host
//! the way browsers do: `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` all become the IPv4
//! address `127.0.0.1`, and percent-encoded or full-width names are decoded and mapped
//! (`local%68ost` is `localhost`) before anything here looks at them.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::FieldError;

/// The longest URL accepted, before and after normalization.
pub const MAX_URL_CHARS: usize = 2_048;

/// An https URL that passed every check that needs no network: the normalized form, which
/// is the value to store.
///
/// Its `Debug` shows the origin only: the path and query of a webhook URL are often its
/// secret. It has no `Display`; [`OutboundUrl::as_str`] is the full URL.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundUrl {
    url: Url,
    /// The host was on the operator's allow-list: its addresses are not checked.
    allow_listed: bool,
}

impl OutboundUrl {
    /// Checks and normalizes `raw` (trimmed; a trailing dot after the host name dropped).
    /// Errors name `field` and say why in plain words.
    pub fn parse(field: &str, raw: &str, allow: &AllowList) -> Result<Self, FieldError> {
        let refuse = |m: String| FieldError::new(field, m);
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(refuse("must not be empty".into()));
        }
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(refuse(too_long()));
        }
        // The parser would silently drop tabs and newlines inside the URL; refuse instead.
        if raw.chars().any(char::is_control) {
            return Err(refuse("must not contain control characters".into()));
        }
        let mut url = Url::parse(raw).map_err(|e| refuse(format!("is not a valid URL ({e})")))?;
        if url.scheme() != "https" {
            return Err(refuse("must be an https URL".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("must not contain a user name or password".into()));
        }
        let mut host = url
            .host()
            .map(|h| h.to_owned())
            .ok_or_else(|| refuse("must have a host".into()))?;
        if let Host::Domain(name) = &mut host {
            let normalized = normalize_name(name).ok_or_else(|| refuse(bad_name()))?;
            if normalized != name {
                let normalized = normalized.to_owned();
                url.set_host(Some(&normalized))
                    .map_err(|e| refuse(format!("is not a valid URL ({e})")))?;
                *name = normalized;
            }
        }
        if url.as_str().len() > MAX_URL_CHARS {
            return Err(refuse(too_long()));
        }
        let allow_listed = allow.contains_host(&host);
        if !allow_listed {
            let refusal = match &host {
                Host::Domain(name) => non_public_name(name),
                Host::Ipv4(ip) => non_public(IpAddr::V4(*ip)).map(|c| format!("{ip} is {c}")),
                Host::Ipv6(ip) => non_public(IpAddr::V6(*ip)).map(|c| format!("{ip} is {c}")),
            };
            if let Some(why) = refusal {
                return Err(refuse(format!("must point to a public host: {why}")));
            }
        }
        Ok(Self { url, allow_listed })
    }

    /// The full, normalized URL.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host as written in the URL: a name, a dotted IPv4 address or `[v6]`.
    pub fn host_str(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// The address when the host is an IP address rather than a name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.url.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// The port to connect to (443 unless the URL names another).
    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }

    /// Whether the operator allow-listed the host, so its addresses are not checked.
    pub fn is_allow_listed(&self) -> bool {
        self.allow_listed
    }
}

impl fmt::Debug for OutboundUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OutboundUrl({}/…)",
            self.url.origin().ascii_serialization()
        )
    }
}

fn too_long() -> String {
    // MAX_URL_CHARS, written for people; a test holds the two together.
    "must be at most 2,048 characters".into()
}

fn bad_name() -> String {
    "is not a valid URL (the host name has an empty label)".into()
}

/// Drops one trailing dot (`example.com.` is `example.com`); `None` if a label is empty.
fn normalize_name(name: &str) -> Option<&str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    (!name.is_empty() && name.split('.').all(|l| !l.is_empty())).then_some(name)
}

/// Names of cloud instance-metadata services: they hand out the machine's credentials.
const METADATA_NAMES: &[&str] = &["metadata", "metadata.google.internal"];

/// Why a host name (lowercase, no trailing dot) is not a public one, in plain words.
fn non_public_name(name: &str) -> Option<String> {
    let under = |suffix: &str| name == suffix || name.ends_with(&format!(".{suffix}"));
    let why = if METADATA_NAMES.contains(&name) {
        format!("{name} is a cloud metadata endpoint")
    } else if under("localhost") {
        format!("{name} is a loopback name (localhost)")
    } else if under("internal") {
        format!("{name} is an internal name (.internal)")
    } else if under("local") || under("localdomain") || under("home.arpa") {
        format!("{name} is a local network name")
    } else if !name.contains('.') {
        format!("{name} is a host name without a dot, which only a local network resolves")
    } else if looks_numeric(name) {
        // The url crate turns every such host into an address; this guards the resolver
        // against a name it would read as one anyway (`getaddrinfo` accepts `0x7f.1`).
        format!("{name} looks like an IP address written another way")
    } else {
        return None;
    };
    Some(why)
}

/// A last label of digits, or `0x` and hex digits, makes a name an IPv4 address to WHATWG.
fn looks_numeric(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    last.chars().all(|c| c.is_ascii_digit())
        || hex.is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The kind of address Roster does not call. `Display` is plain words ("a loopback address").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonPublic {
    Loopback,
    /// RFC 1918 (and the deprecated IPv6 site-local fec0::/10).
    Private,
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    /// 100.64.0.0/10, RFC 6598.
    CarrierGradeNat,
    Multicast,
    Unspecified,
    Broadcast,
    Documentation,
    Benchmarking,
    /// Reserved or special-purpose ranges that are not routed on the internet.
    Reserved,
    /// An instance-metadata service (it hands out the machine's cloud credentials).
    CloudMetadata,
    /// 2001::/32: tunnels to an IPv4 host we cannot see.
    Teredo,
}

impl fmt::Display for NonPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private network address",
            Self::LinkLocal => "a link-local address",
            Self::UniqueLocal => "a unique local (private) IPv6 address",
            Self::CarrierGradeNat => "a shared carrier-grade NAT address",
            Self::Multicast => "a multicast address",
            Self::Unspecified => "an unspecified address",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved address",
            Self::CloudMetadata => "a cloud metadata endpoint",
            Self::Teredo => "a Teredo tunnel address",
        })
    }
}

/// IPv4 ranges that are not public, most specific first (the first match names the class).
const V4_RANGES: &[([u8; 4], u8, NonPublic)] = &[
    ([169, 254, 169, 254], 32, NonPublic::CloudMetadata),
    // Azure's WireServer, reachable from every Azure VM and handing out its configuration.
    ([168, 63, 129, 16], 32, NonPublic::CloudMetadata),
    ([255, 255, 255, 255], 32, NonPublic::Broadcast),
    ([0, 0, 0, 0], 8, NonPublic::Unspecified),
    ([10, 0, 0, 0], 8, NonPublic::Private),
    ([100, 64, 0, 0], 10, NonPublic::CarrierGradeNat),
    ([127, 0, 0, 0], 8, NonPublic::Loopback),
    ([169, 254, 0, 0], 16, NonPublic::LinkLocal),
    ([172, 16, 0, 0], 12, NonPublic::Private),
    // IETF protocol assignments (192.0.0.0/24) and the retired 6to4 relay anycast.
    ([192, 0, 0, 0], 24, NonPublic::Reserved),
    ([192, 88, 99, 0], 24, NonPublic::Reserved),
    ([192, 0, 2, 0], 24, NonPublic::Documentation),
    ([192, 168, 0, 0], 16, NonPublic::Private),
    ([198, 18, 0, 0], 15, NonPublic::Benchmarking),
    ([198, 51, 100, 0], 24, NonPublic::Documentation),
    ([203, 0, 113, 0], 24, NonPublic::Documentation),
    ([224, 0, 0, 0], 4, NonPublic::Multicast),
    ([240, 0, 0, 0], 4, NonPublic::Reserved),
];

/// IPv6 ranges that are not public, most specific first. Checked after the forms that embed
/// an IPv4 address; anything outside global unicast 2000::/3 is reserved.
const V6_RANGES: &[(u128, u8, NonPublic)] = &[
    (
        0xfd00_0ec2_0000_0000_0000_0000_0000_0254,
        128,
        NonPublic::CloudMetadata,
    ),
    // Local-use NAT64 (RFC 8215): translates into a network of the operator's choosing.
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        NonPublic::Reserved,
    ),
    (
        0x0100_0000_0000_0000_0000_0000_0000_0000,
        64,
        NonPublic::Reserved,
    ),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        32,
        NonPublic::Teredo,
    ),
    (
        0x2001_0002_0000_0000_0000_0000_0000_0000,
        48,
        NonPublic::Benchmarking,
    ),
    (
        0x2001_0db8_0000_0000_0000_0000_0000_0000,
        32,
        NonPublic::Documentation,
    ),
    // ORCHID and ORCHIDv2: identifiers, not routable.
    (
        0x2001_0010_0000_0000_0000_0000_0000_0000,
        28,
        NonPublic::Reserved,
    ),
    (
        0x2001_0020_0000_0000_0000_0000_0000_0000,
        28,
        NonPublic::Reserved,
    ),
    (
        0x3fff_0000_0000_0000_0000_0000_0000_0000,
        20,
        NonPublic::Documentation,
    ),
    (
        0xfc00_0000_0000_0000_0000_0000_0000_0000,
        7,
        NonPublic::UniqueLocal,
    ),
    (
        0xfe80_0000_0000_0000_0000_0000_0000_0000,
        10,
        NonPublic::LinkLocal,
    ),
    (
        0xfec0_0000_0000_0000_0000_0000_0000_0000,
        10,
        NonPublic::Private,
    ),
    (
        0xff00_0000_0000_0000_0000_0000_0000_0000,
        8,
        NonPublic::Multicast,
    ),
];

/// Why `ip` is not a public address, or `None` when Roster may call it. An IPv6 address that
/// carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by the IPv4 inside.
pub fn non_public(ip: IpAddr) -> Option<NonPublic> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<NonPublic> {
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(net, len, _)| prefix_matches32(bits, u32::from_be_bytes(*net), *len))
        .map(|(_, _, class)| *class)
}

fn non_public_v6(ip: Ipv6Addr) -> Option<NonPublic> {
    let bits = u128::from(ip);
    if bits == 0 {
        return Some(NonPublic::Unspecified);
    }
    if bits == 1 {
        return Some(NonPublic::Loopback);
    }
    if let Some(v4) = embedded_v4(bits) {
        return non_public_v4(v4);
    }
    if let Some((_, _, class)) = V6_RANGES
        .iter()
        .find(|(net, len, _)| prefix_matches128(bits, *net, *len))
    {
        return Some(*class);
    }
    // Only 2000::/3 is global unicast; the rest is unassigned or special.
    (!prefix_matches128(bits, 0x2000 << 112, 3)).then_some(NonPublic::Reserved)
}

/// The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96),
/// NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address: a connection to it reaches that one.
fn embedded_v4(bits: u128) -> Option<Ipv4Addr> {
    let low32 = Ipv4Addr::from(bits as u32);
    if prefix_matches128(bits, 0xffff << 32, 96)
        || prefix_matches128(bits, 0, 96)
        || prefix_matches128(bits, 0x0064_ff9b << 96, 96)
    {
        return Some(low32);
    }
    if prefix_matches128(bits, 0x2002 << 112, 16) {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

fn prefix_matches32(bits: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_matches128(bits: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

/// Hosts the operator lets users point Roster at whatever their addresses
/// (`ROSTER_OUTBOUND_ALLOW_HOSTS`): exact host names, compared after the same normalization
/// as a URL's host. Being listed lifts the address and name checks only; https is still
/// required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(BTreeSet<String>);

impl AllowList {
    /// Parses host names (`hooks.internal`, `10.0.0.5`, `[fd00::5]` or `fd00::5`). No scheme,
    /// port, path or wildcard: a wildcard would let a user pick any name below it.
    pub fn parse<S: AsRef<str>>(
        field: &str,
        hosts: impl IntoIterator<Item = S>,
    ) -> Result<Self, FieldError> {
        let mut set = BTreeSet::new();
        for raw in hosts {
            let raw = raw.as_ref().trim();
            let refuse = |m: &str| FieldError::new(field, format!("{raw:?} {m}"));
            if raw.is_empty() {
                continue;
            }
            let host = if let Ok(v6) = raw.parse::<Ipv6Addr>() {
                Host::Ipv6(v6)
            } else {
                if raw.contains(['/', '@', '*', '?', '#', '\\'])
                    || raw.chars().any(char::is_whitespace)
                {
                    return Err(refuse(
                        "must be a host name alone, without scheme, path or wildcard",
                    ));
                }
                let bracketed = raw.starts_with('[') && raw.ends_with(']');
                if raw.contains(':') && !bracketed {
                    return Err(refuse("must be a host name without a port"));
                }
                let url = Url::parse(&format!("https://{raw}/"))
                    .map_err(|_| refuse("is not a valid host name"))?;
                match url.host() {
                    Some(Host::Domain(name)) => Host::Domain(
                        normalize_name(name)
                            .ok_or_else(|| refuse("is not a valid host name"))?
                            .to_owned(),
                    ),
                    Some(Host::Ipv4(ip)) => Host::Ipv4(ip),
                    Some(Host::Ipv6(ip)) => Host::Ipv6(ip),
                    None => return Err(refuse("is not a valid host name")),
                }
            };
            set.insert(host.to_string());
        }
        Ok(Self(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalized host names, sorted.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    fn contains_host(&self, host: &Host<String>) -> bool {
        self.0.contains(&host.to_string())
    }
}

#[cfg(test)]
mod tests;
