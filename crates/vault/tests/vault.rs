//! The vault through its public API: sealing, opening, rotation, and what must never leak.

use std::fmt::Write as _;

use proptest::prelude::*;
use roster_vault::{Context, Error, ExposeSecret, KeyId, KeyRing, Sealed, SecretKey, SecretString};

const CANARY: &str = "canary-7f3e-bank-account-DE89370400440532013000";

#[expect(
    clippy::unwrap_used,
    reason = "a test helper; callers pass distinct keys, and a panic fails the test"
)]
fn ring_of(keys: &[&SecretKey]) -> KeyRing {
    KeyRing::new(keys.iter().map(|key| (*key).clone()).collect()).unwrap()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn connection(org: &str) -> Context {
    Context::new("connection", org, "xero")
}

#[test]
fn sealed_bytes_and_strings_open_to_what_went_in() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let ctx = connection("org-1");
    for plaintext in [&b""[..], b"x", CANARY.as_bytes(), &[0_u8, 255, 10, 13][..]] {
        let sealed = ring.encrypt(plaintext, &ctx);
        let stored = Sealed::from_bytes(&sealed.to_bytes()).unwrap();
        assert_eq!(stored, sealed);
        assert_eq!(stored.key_id(), ring.primary_id());
        let opened = ring.decrypt(&stored, &ctx).unwrap();
        assert_eq!(opened.expose_secret(), plaintext, "{plaintext:?}");
    }
    let secret = SecretString::from(CANARY);
    let opened = ring
        .decrypt_str(&ring.encrypt_str(&secret, &ctx), &ctx)
        .unwrap();
    assert_eq!(opened.expose_secret(), CANARY);
}

#[test]
fn sealing_the_same_plaintext_twice_gives_different_bytes() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let ctx = connection("org-1");
    let first = ring.encrypt(CANARY.as_bytes(), &ctx);
    let second = ring.encrypt(CANARY.as_bytes(), &ctx);
    assert_ne!(first.as_bytes(), second.as_bytes());
    assert_eq!(first.key_id(), second.key_id());
}

#[test]
fn a_value_opened_under_another_context_fails() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let sealed = ring.encrypt(CANARY.as_bytes(), &connection("org-1"));
    for other in [
        connection("org-2"),
        Context::new("token", "org-1", "xero"),
        Context::new("connection", "org-1", "google"),
        connection("org-1").with("refresh_token"),
        Context::new("connectionorg-1", "", "xero"),
    ] {
        assert_eq!(
            ring.decrypt(&sealed, &other).unwrap_err(),
            Error::Decrypt,
            "{other:?}"
        );
    }
}

#[test]
fn every_single_byte_change_is_refused() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let ctx = connection("org-1");
    let bytes = ring.encrypt(CANARY.as_bytes(), &ctx).into_bytes();
    for at in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        let opened = Sealed::from_bytes(&tampered).and_then(|sealed| ring.decrypt(&sealed, &ctx));
        let expected = match at {
            0 => Error::Malformed,
            1..=8 => Error::UnknownKey(Sealed::from_bytes(&tampered).unwrap().key_id()),
            _ => Error::Decrypt,
        };
        assert_eq!(opened.unwrap_err(), expected, "byte {at}");
    }
}

#[test]
fn every_truncation_is_refused() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let ctx = connection("org-1");
    let bytes = ring.encrypt(CANARY.as_bytes(), &ctx).into_bytes();
    for len in 0..bytes.len() {
        let opened =
            Sealed::from_bytes(&bytes[..len]).and_then(|sealed| ring.decrypt(&sealed, &ctx));
        assert!(opened.is_err(), "{len} of {} bytes", bytes.len());
    }
}

#[test]
fn a_string_opened_from_non_utf8_bytes_is_malformed() {
    let ring = ring_of(&[&SecretKey::generate()]);
    let ctx = connection("org-1");
    let sealed = ring.encrypt(&[0xff, 0xfe], &ctx);
    assert_eq!(
        ring.decrypt_str(&sealed, &ctx).unwrap_err(),
        Error::Malformed
    );
}

#[test]
fn rotation_keeps_old_values_readable_until_rewrapped() {
    let old = SecretKey::generate();
    let new = SecretKey::generate();
    let ctx = connection("org-1");
    let before = ring_of(&[&old]).encrypt(CANARY.as_bytes(), &ctx);

    // The new key goes first; the old one stays for reading.
    let rotated = ring_of(&[&new, &old]);
    assert_eq!(rotated.primary_id(), new.id());
    assert_eq!(rotated.ids(), vec![new.id(), old.id()]);
    assert_eq!(
        rotated.decrypt(&before, &ctx).unwrap().expose_secret(),
        CANARY.as_bytes()
    );
    assert!(rotated.needs_rewrap(&before));
    assert!(!rotated.needs_rewrap(&rotated.encrypt(b"fresh", &ctx)));

    let after = rotated.rewrap(&before, &ctx).unwrap();
    assert_eq!(after.key_id(), new.id());
    assert!(!rotated.needs_rewrap(&after));
    assert_eq!(
        rotated.decrypt(&after, &ctx).unwrap().expose_secret(),
        CANARY.as_bytes()
    );
    assert_eq!(
        rotated.rewrap(&before, &connection("org-2")).unwrap_err(),
        Error::Decrypt
    );

    // Once everything is rewrapped the old key can go; anything missed names it.
    let retired = ring_of(&[&new]);
    assert_eq!(
        retired.decrypt(&after, &ctx).unwrap().expose_secret(),
        CANARY.as_bytes()
    );
    assert_eq!(
        retired.decrypt(&before, &ctx).unwrap_err(),
        Error::UnknownKey(old.id())
    );
}

#[test]
fn a_value_from_a_key_not_in_the_ring_is_an_unknown_key() {
    let stranger = SecretKey::generate();
    let ctx = connection("org-1");
    let sealed = ring_of(&[&stranger]).encrypt(CANARY.as_bytes(), &ctx);
    let ring = ring_of(&[&SecretKey::generate(), &SecretKey::generate()]);
    let err = ring.decrypt(&sealed, &ctx).unwrap_err();
    assert_eq!(err, Error::UnknownKey(stranger.id()));
    assert!(
        err.to_string().contains(&stranger.id().to_string()),
        "{err}"
    );
}

#[test]
fn a_key_prints_parses_and_keeps_its_id() {
    let key = SecretKey::generate();
    let text = key.to_base64();
    assert_eq!(text.expose_secret().len(), 44);
    let parsed = SecretKey::parse(text.expose_secret()).unwrap();
    assert_eq!(parsed.id(), key.id());
    assert_ne!(SecretKey::generate().id(), key.id());
}

#[test]
fn key_list_errors_name_the_position_and_never_the_value() {
    let good = SecretKey::generate().to_base64();
    let good = good.expose_secret();
    let short = &good[..20];
    let cases: [(Vec<&str>, Error); 5] = [
        (vec![], Error::NoKey),
        (
            vec![good, CANARY],
            Error::BadKey {
                index: 1,
                reason: "",
            },
        ),
        (vec![good, good], Error::DuplicateKey { index: 1 }),
        (
            vec![good, short],
            Error::BadKey {
                index: 1,
                reason: "",
            },
        ),
        (
            vec!["", good],
            Error::BadKey {
                index: 0,
                reason: "",
            },
        ),
    ];
    for (items, expected) in cases {
        let err = KeyRing::parse_list(&items).unwrap_err();
        let shown = err.to_string();
        match (&err, &expected) {
            (Error::BadKey { index, .. }, Error::BadKey { index: want, .. }) => {
                assert_eq!(index, want, "{items:?}");
                assert!(shown.contains(&format!("key {want} ")), "{shown}");
            }
            _ => assert_eq!(err, expected, "{items:?}"),
        }
        for item in items.iter().filter(|item| item.len() > 3) {
            assert!(
                !shown.contains(*item) && !format!("{err:?}").contains(*item),
                "{shown}"
            );
        }
    }
    let not_base64 = format!("{CANARY}!");
    for (item, why) in [(not_base64.as_str(), "not base64"), (short, "wrong length")] {
        let Error::BadKey { reason, .. } = KeyRing::parse_list(&[item]).unwrap_err() else {
            panic!("{item:?} should be a bad key");
        };
        assert!(reason.starts_with(why), "{item:?}: {reason}");
    }
}

#[test]
fn the_same_key_twice_is_refused() {
    let key = SecretKey::generate();
    let other = SecretKey::generate();
    let err = KeyRing::new(vec![other, key.clone(), key]).unwrap_err();
    assert_eq!(err, Error::DuplicateKey { index: 2 });
    assert_eq!(KeyRing::new(Vec::new()).unwrap_err(), Error::NoKey);
}

#[test]
fn derived_keys_follow_the_ring_and_differ_by_purpose() {
    let old = SecretKey::generate();
    let new = SecretKey::generate();
    let ring = ring_of(&[&new, &old]);
    let sessions = ring.derive(b"sessions");
    let ids: Vec<KeyId> = sessions.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ring.ids());
    assert!(
        sessions
            .iter()
            .all(|(_, key)| key.expose_secret().len() == 32)
    );
    assert_ne!(sessions[0].1.expose_secret(), sessions[1].1.expose_secret());
    // Stable across restarts: the same key and info give the same derived key.
    let again = ring_of(&[&old]).derive(b"sessions");
    assert_eq!(again[0].1.expose_secret(), sessions[1].1.expose_secret());
    assert_ne!(
        ring.derive(b"csrf")[0].1.expose_secret(),
        sessions[0].1.expose_secret()
    );
}

#[test]
fn key_ids_serialize_as_their_hex_text() {
    let id = SecretKey::generate().id();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{id}\""));
    assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), id);
    assert!(serde_json::from_str::<KeyId>("\"not-a-key-id\"").is_err());
}

#[test]
fn no_debug_or_display_shows_a_key_or_a_plaintext() {
    let bytes: Vec<u8> = (0..32_u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let hex = to_hex(&bytes);
    let as_list = format!("{bytes:?}");
    let key_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    };
    let key = SecretKey::parse(&key_b64).unwrap();
    let ring = KeyRing::parse_list(&[key_b64.as_str()]).unwrap();
    let ctx = connection("org-1");
    let sealed = ring.encrypt(CANARY.as_bytes(), &ctx);
    let opened = ring.decrypt(&sealed, &ctx).unwrap();
    let opened_str = ring
        .decrypt_str(&ring.encrypt_str(&CANARY.into(), &ctx), &ctx)
        .unwrap();
    let derived = ring.derive(b"sessions");
    let derived_hex = to_hex(derived[0].1.expose_secret());
    let errors = [
        KeyRing::parse_list(&[key_b64.as_str(), CANARY]).unwrap_err(),
        KeyRing::parse_list(&[&key_b64[..30]]).unwrap_err(),
        KeyRing::parse_list(&[key_b64.as_str(), key_b64.as_str()]).unwrap_err(),
        ring.decrypt(&sealed, &connection("org-2")).unwrap_err(),
        ring.decrypt(
            &ring_of(&[&SecretKey::generate()]).encrypt(b"x", &ctx),
            &ctx,
        )
        .unwrap_err(),
        Sealed::from_bytes(CANARY.as_bytes()).unwrap_err(),
        Error::NoKey,
    ];

    let mut shown = vec![
        format!("{key:?}"),
        format!("{key:#?}"),
        format!("{ring:?}"),
        format!("{ring:#?}"),
        format!("{sealed:?}"),
        format!("{opened:?}"),
        format!("{opened_str:?}"),
        format!("{derived:?}"),
        format!("{ctx:?}"),
    ];
    for err in &errors {
        shown.push(format!("{err}"));
        shown.push(format!("{err:?}"));
    }
    assert_eq!(format!("{key:?}"), "[redacted]");
    assert_eq!(format!("{opened:?}"), "[redacted]");
    let unpadded = key_b64.trim_end_matches('=');
    for text in &shown {
        for secret in [
            CANARY,
            unpadded,
            &hex,
            &as_list,
            &derived_hex,
            &hex.to_uppercase(),
        ] {
            assert!(!text.contains(secret), "{text:?} shows {secret:?}");
        }
    }
}

fn any_context() -> impl Strategy<Value = Context> {
    (
        "[a-z_]{0,12}",
        ".{0,40}",
        ".{0,12}",
        proptest::option::of(".{0,12}"),
    )
        .prop_map(|(kind, owner, name, extra)| {
            let ctx = Context::new(kind, owner, name);
            match extra {
                Some(part) => ctx.with(part),
                None => ctx,
            }
        })
}

proptest! {
    #[test]
    fn random_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let ring = ring_of(&[&SecretKey::generate()]);
        let ctx = connection("org-1");
        if let Ok(sealed) = Sealed::from_bytes(&bytes) {
            prop_assert!(ring.decrypt(&sealed, &ctx).is_err());
        }
    }

    #[test]
    fn random_bytes_under_a_real_key_id_never_open(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        // With a valid header the bytes reach the cipher, not just the key lookup.
        let ring = ring_of(&[&SecretKey::generate()]);
        let mut bytes = ring.encrypt(b"", &connection("org-1")).as_bytes()[..9].to_vec();
        bytes.extend_from_slice(&body);
        let opened = Sealed::from_bytes(&bytes).and_then(|sealed| ring.decrypt(&sealed, &connection("org-1")));
        prop_assert!(opened.is_err());
    }

    #[test]
    fn anything_sealed_opens_under_its_context_only(
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        ctx in any_context(),
        other in any_context(),
    ) {
        let ring = ring_of(&[&SecretKey::generate()]);
        let sealed = ring.encrypt(&plaintext, &ctx);
        let stored = Sealed::from_bytes(&sealed.to_bytes()).unwrap();
        let opened = ring.decrypt(&stored, &ctx).unwrap();
        prop_assert_eq!(opened.expose_secret(), plaintext.as_slice());
        if other != ctx {
            prop_assert_eq!(ring.decrypt(&stored, &other).unwrap_err(), Error::Decrypt);
        }
    }
}
