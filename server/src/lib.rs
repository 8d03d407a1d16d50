//! strata-server: the registry (and later the deployment hook) over HTTP.

pub mod store;
pub mod remote;
