#![doc = include_str!("../README.md")]

pub mod company;
pub mod faults;
pub mod google;
mod keys;
pub mod productive;
mod serve;
pub mod remote;
pub mod scrapin;
pub mod slack;
pub mod xero;

pub use company::{SampleCompany, SamplePerson, SampleSquad};
pub use faults::{CallLog, Fault};
