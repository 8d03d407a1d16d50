//! strata-server: the registry (and later the deployment hook) over HTTP.
//!
//! * [`http`]: the registry API of `docs/protocol.md` (routes, auth,
//!   limits, CORS, metrics);
//! * [`store`]: metadata in SQLite or PostgreSQL, blobs on disk or in S3;
//! * [`cli`]: `strata-server serve` and `strata-server token …`.

pub mod cli;
pub mod hook;
pub mod http;
pub mod logs;
pub mod remote;
pub mod store;
