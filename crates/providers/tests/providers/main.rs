//! Every client against the in-process fakes of `roster-fakes`: one binary, a module per
//! provider. Time is a `ManualClock` the fakes share; waits go through a `ManualSleeper`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers stop at the first failure, like the tests"
)]

mod call_metrics;
mod google;
mod paging;
mod productive;
mod remote;
mod request_contract;
mod scrapin;
mod slack;
mod support;
mod xero;
