#![doc = include_str!("../README.md")]

mod generate;
mod hierarchy;
mod mess;
mod records;
mod words;

use chrono::NaiveDate;

pub use mess::fold_accents;
pub use records::{
    Level, SampleAddress, SampleBankAccount, SampleBasis, SampleCompany, SamplePerson, SampleSquad,
    SampleSuperFund, SampleSuperMembership, SuperFundKind,
};

/// The day the sample data is "as of": start dates, terminations and update times lie before it.
/// One day before `ManualClock::default()` so that a default clock sees a settled company.
pub const REFERENCE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 3, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Smallest company the generator makes; smaller requests are raised to it so that every
/// structural promise (levels, squads, a cycle, a leaver, a contractor) holds.
pub const MIN_SIZE: usize = 10;
