//! # strata: the core of a schema registry for SQL migration directories
//!
//! This crate is the logic that strata runs everywhere: in browsers, in
//! Node and edge runtimes (compiled to WebAssembly), and natively in the
//! registry server. It reads migration directories in the layout made
//! popular by [Atlas](https://atlasgo.io): versioned `.sql` files plus an
//! `atlas.sum` integrity file, and behaves exactly as Atlas does.
//!
//! The crate does no I/O. File contents, times and responses are passed in;
//! results come out. That is what lets the same code run in every runtime.
//!
//! ```
//! use strata::dir::Directory;
//! use strata::lex::Dialect;
//!
//! let dir = Directory::new([
//!     ("20240101000000_init.sql", b"CREATE TABLE t1 (id int);\n".to_vec()),
//!     ("20240102000000_add_users.sql", b"CREATE TABLE users (id int);\n".to_vec()),
//! ])?;
//! let sum = dir.checksum().render();
//! assert!(sum.starts_with("h1:xeDrRQIDK2YEvFQq6iaVvzkqzkfeK25KWnUeyWxwaHI=\n"));
//! assert!(dir.verify(Some(sum.as_bytes())).is_ok());
//!
//! let stmts = dir.files()[0].statements(Dialect::Postgres)?;
//! assert_eq!(stmts[0].text, "CREATE TABLE t1 (id int);");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules:
//! * [`dir`]: the directory model: which files are migrations, their
//!   versions, descriptions and file-level directives.
//! * [`sum`]: `atlas.sum`, byte-identical to Atlas.
//! * [`lex`]: statement splitting, identical to Atlas's scanner.
//! * [`directive`]: `-- atlas:<name>` directive matching.
//! * `lint` (cargo feature `lint`): Atlas's lint analyzers and
//!   PostgreSQL locking checks over sqlparser's AST.
//! * `preview` (cargo feature `lint`): a pull request's directory against
//!   the registry's tag: new files, history rewritten, the sum, lint, and
//!   the plan on a target, as a Markdown comment, text or JSON.
//! * [`plan`]: pending files against a revisions table, the plan digest,
//!   the sans-IO executor, `status` and `set`, and the revisions table.
//! * [`registry`]: blob addresses and version manifests: what a registry
//!   accepts and how a fetched version is checked before use.
//! * [`report`]: the report document and its text, JSON and Markdown
//!   renderings.
//! * [`view`]: the web viewer's URLs and pages as escaped HTML.
//! * [`error`]: one flat error shape (code, message, file, line, hint) for
//!   the command line, the JavaScript API and the server.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod dir;
pub mod directive;
pub mod error;
pub mod hook;
mod json;
pub mod lex;
#[cfg(feature = "lint")]
pub mod lint;
pub mod plan;
#[cfg(feature = "lint")]
pub mod preview;
pub mod registry;
pub mod report;
pub mod sum;
#[cfg(test)]
mod test_util;
mod text;
pub mod view;

// The main module's JavaScript API; the lint module (wasm-lint/) builds
// this crate without the `js` feature, so its exports stay out of it.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
#[allow(unsafe_code)]
mod wasm;
// The plan-digest fixture of the wasm tests, checked natively too.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "wasm/parity.rs"]
mod wasm_parity;
