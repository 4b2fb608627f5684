//! Placeholder until the fakes land.
fn main() {}
