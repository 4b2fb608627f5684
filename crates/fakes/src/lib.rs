#![doc = include_str!("../README.md")]

pub mod company;

pub use company::{SampleCompany, SamplePerson, SampleSquad};
