#![doc = include_str!("../README.md")]

mod context;
mod error;
mod key;
mod ring;
mod sealed;

pub use context::Context;
pub use error::{Error, ParseKeyIdError};
pub use key::{KeyId, SecretBytes, SecretKey};
pub use ring::KeyRing;
pub use sealed::Sealed;
pub use secrecy::{ExposeSecret, SecretString};
