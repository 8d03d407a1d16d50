//! The request bodies of the hook: what a client sends to
//! `POST /hook/v1/targets/{t}/plan` and `…/apply`, and what the server
//! reads from them (both sides use these types, so the JSON cannot drift).

use crate::plan::{ExecOrder, PlanError, PlanOptions, TxMode};
use serde::{Deserialize, Serialize};

/// Atlas's `migrate apply` options as they travel in a request: the flag
/// values as text, every one optional. [`Options::plan_options`] checks
/// them and gives the core's [`PlanOptions`].
///
/// JSON: `{"baseline": "…", "allowDirty": false, "execOrder": "linear",
/// "toVersion": "…", "amount": 1, "txMode": "file"}`; an unknown field is
/// refused (there is no way to pass a database URL).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// `--baseline V`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// `--allow-dirty`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_dirty: bool,
    /// `--exec-order` (`linear`, `linear-skip`, `non-linear`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_order: Option<String>,
    /// Apply up to and including this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<String>,
    /// Apply at most this many pending files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    /// `--tx-mode` (`file`, `all`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_mode: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An option of a request that cannot be planned with: the server answers
/// it as a 400 `invalid-option`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The option's JSON name (`execOrder`, `amount`, …).
    pub option: &'static str,
    /// What is wrong, naming the option (`options.amount is 0`).
    pub message: String,
    /// What to send instead.
    pub hint: String,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptionError {}

impl Options {
    /// The core's options, or the first option that is wrong: an unknown
    /// `execOrder` or `txMode`, an empty `baseline` or `toVersion`, an
    /// `amount` of 0.
    pub fn plan_options(self) -> Result<PlanOptions, OptionError> {
        let bad = |option: &'static str, e: PlanError| OptionError {
            option,
            message: format!("options.{option}: {e}"),
            hint: e.hint(),
        };
        let exec_order = match self.exec_order.as_deref() {
            None => ExecOrder::default(),
            Some(s) => ExecOrder::parse(s).map_err(|e| bad("execOrder", e))?,
        };
        let tx_mode = match self.tx_mode.as_deref() {
            None => TxMode::default(),
            Some(s) => TxMode::parse(s).map_err(|e| bad("txMode", e))?,
        };
        for (option, v) in [("baseline", &self.baseline), ("toVersion", &self.to_version)] {
            if v.as_deref() == Some("") {
                return Err(OptionError {
                    option,
                    message: format!("options.{option} is empty"),
                    hint: format!("give a migration version (e.g. \"20240101000000\"), or leave {option} out"),
                });
            }
        }
        if self.amount == Some(0) {
            return Err(OptionError {
                option: "amount",
                message: "options.amount is 0".into(),
                hint: "give the number of pending files to run (at least 1), or leave amount out for all of them"
                    .into(),
            });
        }
        Ok(PlanOptions {
            baseline: self.baseline,
            allow_dirty: self.allow_dirty,
            exec_order,
            to_version: self.to_version,
            amount: self.amount,
            tx_mode,
        })
    }
}

/// The body of `POST /hook/v1/targets/{t}/plan`: directory `dir` at `tag`
/// or at `version` (exactly one of them), planned with `options`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanRequest {
    /// The directory's name in the registry.
    pub dir: String,
    /// A tag of it (`latest`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A version digest (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Atlas's apply options.
    #[serde(default)]
    pub options: Options,
}

/// The body of `POST /hook/v1/targets/{t}/apply`: run the plan of version
/// `version` of `dir` whose digest is `plan_digest` (the one previewed with
/// the same `options`), or only compute it (`dry_run`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplyRequest {
    /// The directory's name in the registry.
    pub dir: String,
    /// The version digest (`sha256:…`) the plan was computed for.
    pub version: String,
    /// The previewed plan's digest (`sha256:…`).
    pub plan_digest: String,
    /// Atlas's apply options, the same as for the preview.
    #[serde(default)]
    pub options: Options,
    /// Compute and report; execute and write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A target of the hook, as `GET /hook/v1/targets` lists it: its name and
/// dialect, never its URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The target's name.
    pub name: String,
    /// Its SQL dialect.
    pub dialect: crate::lex::Dialect,
}
