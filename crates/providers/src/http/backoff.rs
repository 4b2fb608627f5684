//! Capped exponential backoff with jitter.
//!
//! A small function instead of a crate: the `backoff` crate is unmaintained
//! (RUSTSEC-2025-0012, https://rustsec.org/advisories/RUSTSEC-2025-0012), and the delay must go through our
//! [`crate::Sleeper`] anyway. "Equal jitter" (half fixed, half random) keeps retries from
//! many callers apart without ever retrying instantly.

use std::time::Duration;

use rand::Rng;

/// How long to wait before retry number `retry` (1 for the first retry):
/// `min(cap, base · 2^(retry-1))`, of which the upper half is random.
pub(crate) fn backoff_delay(
    retry: u32,
    base: Duration,
    cap: Duration,
    rng: &mut impl Rng,
) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let full = base.saturating_mul(factor).min(cap);
    let half = full / 2;
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
    half + Duration::from_micros(rng.gen_range(0..=spread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn delays_double_until_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        let mut rng = StdRng::seed_from_u64(7);
        for (retry, full_ms) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let d = backoff_delay(retry, base, cap, &mut rng);
            let full = Duration::from_millis(full_ms);
            assert!(
                d >= full / 2 && d <= full,
                "retry {retry}: {d:?} not in [{:?}, {full:?}]",
                full / 2
            );
        }
    }

    proptest! {
        #[test]
        fn delay_never_exceeds_the_cap(retry in 0u32..100, base_ms in 0u64..10_000, cap_ms in 0u64..100_000, seed: u64) {
            let mut rng = StdRng::seed_from_u64(seed);
            let cap = Duration::from_millis(cap_ms);
            let d = backoff_delay(retry, Duration::from_millis(base_ms), cap, &mut rng);
            prop_assert!(d <= cap);
        }
    }
}
