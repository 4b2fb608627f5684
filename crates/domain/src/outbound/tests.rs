//! The outbound rules, by table and by property: no network.

use super::*;
use proptest::prelude::*;

fn parse(raw: &str) -> Result<OutboundUrl, FieldError> {
    OutboundUrl::parse("webhook_url", raw, &AllowList::default())
}

#[test]
fn refused_urls_say_why_in_plain_words() {
    for (raw, needle) in [
        // Scheme, userinfo, host, length, syntax.
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("HTTP://2130706433/", "https"),
        (
            "https://user:pass@hooks.example.com/",
            "user name or password",
        ),
        ("https://user@hooks.example.com/", "user name or password"),
        ("https://:pass@hooks.example.com/", "user name or password"),
        ("https://", "not a valid URL"),
        ("https:///x", "without a dot"),
        ("hooks.example.com/x", "not a valid URL"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://exa\tmple.com/", "control characters"),
        ("", "must not be empty"),
        ("https://a..b.com/", "empty label"),
        ("https://example.com../", "empty label"),
        // IPv4 classes.
        ("https://127.0.0.1/", "loopback"),
        ("https://127.255.1.2:8443/x", "loopback"),
        ("https://10.1.2.3/", "private network"),
        ("https://172.16.0.1/", "private network"),
        ("https://172.31.255.255/", "private network"),
        ("https://192.168.1.1/", "private network"),
        ("https://169.254.10.1/", "link-local"),
        ("https://100.64.0.1/", "carrier-grade NAT"),
        ("https://100.127.255.254/", "carrier-grade NAT"),
        ("https://224.0.0.1/", "multicast"),
        ("https://239.255.255.250/", "multicast"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://0.1.2.3/", "unspecified"),
        ("https://255.255.255.255/", "broadcast"),
        ("https://192.0.2.1/", "documentation"),
        ("https://198.51.100.7/", "documentation"),
        ("https://203.0.113.9/", "documentation"),
        ("https://198.18.0.1/", "benchmarking"),
        ("https://198.19.255.1/", "benchmarking"),
        ("https://240.0.0.1/", "reserved"),
        ("https://192.0.0.170/", "reserved"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "cloud metadata",
        ),
        ("https://168.63.129.16/", "cloud metadata"),
        // Other spellings of 127.0.0.1 and 169.254.169.254.
        ("https://2130706433/", "loopback"),
        ("https://0177.0.0.1/", "loopback"),
        ("https://0x7f.0.0.1/", "loopback"),
        ("https://0x7f000001/", "loopback"),
        ("https://017700000001/", "loopback"),
        ("https://127.1/", "loopback"),
        ("https://127.0.1/", "loopback"),
        ("https://127.0.0.1./", "loopback"),
        ("https://2852039166/", "cloud metadata"),
        ("https://0xa9.0xfe.0xa9.0xfe/", "cloud metadata"),
        ("https://%31%32%37.0.0.1/", "loopback"),
        // IPv6 classes and forms.
        ("https://[::1]/", "loopback"),
        ("https://[0:0:0:0:0:0:0:1]/", "loopback"),
        ("https://[::]/", "unspecified"),
        ("https://[fe80::1]/", "link-local"),
        ("https://[febf::1]/", "link-local"),
        ("https://[fc00::1]/", "unique local"),
        ("https://[fd12:3456::1]/", "unique local"),
        ("https://[fec0::1]/", "private network"),
        ("https://[ff02::1]/", "multicast"),
        ("https://[2001:db8::1]/", "documentation"),
        ("https://[3fff::1]/", "documentation"),
        ("https://[2001:2::1]/", "benchmarking"),
        ("https://[2001::1]/", "Teredo"),
        ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:7f00:1]/", "loopback"),
        ("https://[::ffff:10.0.0.1]/", "private network"),
        ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("https://[::127.0.0.1]/", "loopback"),
        ("https://[::192.168.0.1]/", "private network"),
        ("https://[64:ff9b::127.0.0.1]/", "loopback"),
        ("https://[64:ff9b::a9fe:a9fe]/", "cloud metadata"),
        ("https://[64:ff9b:1::1]/", "reserved"),
        ("https://[2002:7f00:1::1]/", "loopback"),
        ("https://[2002:c0a8:101::]/", "private network"),
        ("https://[100::1]/", "reserved"),
        ("https://[2001:10::1]/", "reserved"),
        ("https://[4000::1]/", "reserved"),
        // Names.
        ("https://localhost/", "loopback name"),
        ("https://LOCALHOST./", "loopback name"),
        ("https://api.localhost/", "loopback name"),
        ("https://local%68ost/", "loopback name"),
        (
            "https://\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}/",
            "loopback name",
        ),
        ("https://db.internal/", "internal name"),
        (
            "https://metadata.google.internal/computeMetadata/v1/",
            "cloud metadata",
        ),
        ("https://metadata/", "cloud metadata"),
        ("https://printer.local/", "local network name"),
        ("https://nas.home.arpa/", "local network name"),
        ("https://intranet/", "without a dot"),
    ] {
        let err = parse(raw).expect_err(raw);
        assert_eq!(err.field, "webhook_url", "{raw}");
        assert!(
            err.message.contains(needle),
            "{raw}: {:?} lacks {needle:?}",
            err.message
        );
    }
}

#[test]
fn a_url_longer_than_2048_characters_is_refused() {
    let at_limit = format!(
        "https://hooks.example.com/{}",
        "a".repeat(MAX_URL_CHARS - 26)
    );
    assert_eq!(at_limit.len(), MAX_URL_CHARS);
    assert!(parse(&at_limit).is_ok());
    let over = format!("{at_limit}a");
    assert_eq!(
        parse(&over).unwrap_err().message,
        "must be at most 2,048 characters"
    );
    // Percent-encoding can lengthen a URL: the normalized form is measured too.
    let grows = format!("https://hooks.example.com/{}", "<".repeat(1_000));
    assert_eq!(
        parse(&grows).unwrap_err().message,
        "must be at most 2,048 characters"
    );
}

#[test]
fn public_https_urls_are_accepted_and_normalized() {
    for (raw, stored) in [
        ("https://hooks.example.com/x", "https://hooks.example.com/x"),
        (
            "  HTTPS://Hooks.Example.COM./x?a=1  ",
            "https://hooks.example.com/x?a=1",
        ),
        (
            "https://hooks.example.com:8443/x",
            "https://hooks.example.com:8443/x",
        ),
        (
            "https://hooks.example.com:443/x",
            "https://hooks.example.com/x",
        ),
        ("https://93.184.215.14/", "https://93.184.215.14/"),
        ("https://1572394766/", "https://93.184.215.14/"),
        (
            "https://[2606:4700:4700::1111]/",
            "https://[2606:4700:4700::1111]/",
        ),
        ("https://[::ffff:8.8.8.8]/", "https://[::ffff:808:808]/"),
        ("https://[2002:808:808::1]/", "https://[2002:808:808::1]/"),
        (
            "https://xn--bcher-kva.example/",
            "https://xn--bcher-kva.example/",
        ),
        (
            "https://b\u{fc}cher.example/",
            "https://xn--bcher-kva.example/",
        ),
        // A name that merely starts like an internal one is public.
        (
            "https://localhost.example.com/",
            "https://localhost.example.com/",
        ),
        (
            "https://internal.example.com/",
            "https://internal.example.com/",
        ),
    ] {
        let url = parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(url.as_str(), stored, "{raw}");
        assert!(!url.is_allow_listed());
    }
}

#[test]
fn the_parts_a_caller_connects_with() {
    let name = parse("https://hooks.example.com/x").unwrap();
    assert_eq!(
        (name.host_str(), name.port(), name.ip()),
        ("hooks.example.com", 443, None)
    );
    let v6 = parse("https://[2606:4700::1]:8443/").unwrap();
    assert_eq!(v6.port(), 8443);
    assert_eq!(v6.ip(), Some("2606:4700::1".parse().unwrap()));
}

#[test]
fn debug_shows_the_origin_only() {
    let url = parse("https://hooks.example.com/services/T0/B0/canary-secret?token=canary").unwrap();
    let dbg = format!("{url:?}");
    assert_eq!(dbg, "OutboundUrl(https://hooks.example.com/…)");
}

#[test]
fn the_allow_list_lifts_host_checks_for_its_hosts_only() {
    let allow = AllowList::parse(
        "outbound_allow_hosts",
        [
            "Hooks.Internal.",
            "10.0.0.5",
            "fd00::5",
            "[::1]",
            "localhost",
            "",
        ],
    )
    .unwrap();
    assert_eq!(
        allow.hosts().collect::<Vec<_>>(),
        [
            "10.0.0.5",
            "[::1]",
            "[fd00::5]",
            "hooks.internal",
            "localhost"
        ]
    );
    for raw in [
        "https://hooks.internal/x",
        "https://HOOKS.internal./x",
        "https://10.0.0.5/",
        "https://0x0a000005/",
        "https://[fd00::5]:8443/",
        "https://[::1]/",
        "https://localhost:9000/",
    ] {
        let url = OutboundUrl::parse("f", raw, &allow).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert!(url.is_allow_listed(), "{raw}");
    }
    for (raw, needle) in [
        ("http://hooks.internal/x", "https"),
        ("https://u:p@hooks.internal/x", "user name"),
        ("https://other.internal/", "internal name"),
        ("https://api.localhost/", "loopback name"),
        ("https://10.0.0.6/", "private network"),
        ("https://127.0.0.1/", "loopback"),
    ] {
        let err = OutboundUrl::parse("f", raw, &allow).expect_err(raw);
        assert!(err.message.contains(needle), "{raw}: {}", err.message);
    }
}

#[test]
fn allow_list_entries_are_bare_host_names() {
    for bad in [
        "https://hooks.internal",
        "hooks.internal:443",
        "*.internal",
        "hooks.internal/x",
        "user@hooks.internal",
        "a b",
        "a..b",
    ] {
        let err = AllowList::parse("outbound_allow_hosts", [bad]).expect_err(bad);
        assert_eq!(err.field, "outbound_allow_hosts");
        assert!(err.message.contains(bad), "{}", err.message);
    }
}

#[test]
fn a_numeric_looking_name_is_refused_even_if_the_parser_left_it_a_name() {
    assert!(non_public_name("foo.0x7f").is_some());
    assert!(non_public_name("a.b.1234").is_some());
    assert!(non_public_name("hooks.example.com").is_none());
    assert!(non_public_name("0x.example.com").is_none());
}

#[test]
fn embedded_ipv4_in_a_public_range_is_public() {
    for ip in [
        "::ffff:1.1.1.1",
        "64:ff9b::101:101",
        "2002:101:101::1",
        "2a00:1450::1",
    ] {
        assert_eq!(non_public(ip.parse().unwrap()), None, "{ip}");
    }
}

/// Refused IPv4 ranges with the word their refusal names.
const REFUSED_V4: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "unspecified"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

/// One number written in decimal, octal (`0` prefix) or hex (`0x` prefix).
fn spell(n: u32, radix: u8) -> String {
    match radix {
        0 => n.to_string(),
        1 => format!("0{n:o}"),
        _ => format!("0x{n:x}"),
    }
}

/// `ip` as 1 to 4 dot-separated numbers (the last one takes the remaining bytes), each in
/// its own radix: every form `inet_aton` and the WHATWG host parser read as that address.
fn spelled(ip: Ipv4Addr, parts: usize, radixes: [u8; 4]) -> String {
    let o = ip.octets();
    let tail = |from: usize| {
        o[from..]
            .iter()
            .fold(0_u32, |acc, b| acc << 8 | u32::from(*b))
    };
    let numbers: Vec<u32> = match parts {
        1 => vec![tail(0)],
        2 => vec![u32::from(o[0]), tail(1)],
        3 => vec![u32::from(o[0]), u32::from(o[1]), tail(2)],
        _ => o.iter().map(|b| u32::from(*b)).collect(),
    };
    numbers
        .iter()
        .zip(radixes)
        .map(|(n, r)| spell(*n, r))
        .collect::<Vec<_>>()
        .join(".")
}

proptest! {
    #[test]
    fn a_refused_ipv4_is_refused_however_it_is_spelled(
        range in 0..REFUSED_V4.len(),
        host_bits in any::<u32>(),
        parts in 1_usize..=4,
        radixes in any::<[u8; 4]>().prop_map(|r| r.map(|x| x % 3)),
        trailing_dot in any::<bool>(),
    ) {
        let (net, len, needle) = REFUSED_V4[range];
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        let ip = Ipv4Addr::from(u32::from_be_bytes(net) & mask | host_bits & !mask);
        let dot = if trailing_dot { "." } else { "" };
        let raw = format!("https://{}{dot}/hook", spelled(ip, parts, radixes));
        let err = parse(&raw).expect_err(&raw);
        prop_assert!(err.message.contains(needle), "{} ({}): {}", raw, ip, err.message);
    }

    #[test]
    fn a_public_ipv4_is_accepted_however_it_is_spelled(
        low in any::<[u8; 3]>(),
        parts in 1_usize..=4,
        radixes in any::<[u8; 4]>().prop_map(|r| r.map(|x| x % 3)),
    ) {
        // 8.0.0.0/8 is public unicast throughout.
        let ip = Ipv4Addr::new(8, low[0], low[1], low[2]);
        let raw = format!("https://{}/hook", spelled(ip, parts, radixes));
        let url = parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
        prop_assert_eq!(url.ip(), Some(IpAddr::V4(ip)));
    }
}
