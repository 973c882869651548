//! The suites that need a live MongoDB-compatible server, found through `MONGODB_URI`
//! (see `streamdoc_tests::live`: without it they fail under CI and are skipped
//! otherwise). One test binary, so that the driver is linked once.

mod concurrency;
mod differential;
mod emmett;
mod executor;
mod health;
mod long_streams;
mod parity;
mod proxy;
mod round_trips;
mod subscriptions;
