//! The core registry client's transport over reqwest (owned by the client
//! work: see `strata::registry::client`).
