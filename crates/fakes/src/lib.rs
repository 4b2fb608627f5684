#![doc = include_str!("../README.md")]

pub mod company;
pub mod faults;
mod keys;
mod serve;
pub mod google;
pub mod productive;
pub mod slack;
pub mod xero;

pub use company::{SampleCompany, SamplePerson, SampleSquad};
pub use faults::{CallLog, Fault};
