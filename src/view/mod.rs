//! The web viewer's views, sans-IO: its URLs ([`Route`]) and each page as
//! escaped HTML, built from what the registry and the hook answer. The
//! wasm adapter (`wasm::viewer`, wasm32 only) fetches the data, calls
//! these renderers and mounts their output; natively they are plain
//! functions from data to `String`, tested with hostile input.
//!
//! Every text that comes from a registry, a directory, a database or a
//! report goes through [`crate::report::html_escape`], and every link is
//! a [`Route::path`] of percent-encoded segments: no input can open a
//! tag, leave an attribute, or make a link with a scheme.

mod lint;
mod pages;
mod progress;
mod route;
mod run;

pub use lint::{lint_body, lint_section, LintFinding, LintFindings, LintSeverity, LintState};
pub use pages::{
    deployment_page, diff_page, dir_page, dirs_page, error_html, history_page, loading_html, local_page,
    not_found_html, plan_page, sign_in_html, tag_history_page, targets_page, version_page, VersionPage,
};
pub use progress::{ApplyProgress, ProgressState};
pub use route::{encode_segment, Route};
pub use run::apply_links;

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
#[cfg(test)]
mod tests;
