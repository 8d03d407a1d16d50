//! What the registry keeps about a deployment report: its status and
//! times, read from the report document so that every server and client
//! derives them the same way.

use super::RegistryError;
use crate::plan::Timestamp;
use crate::report::{Report, ReportBody};
use serde::{Deserialize, Serialize};

/// The status of a stored deployment report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentStatus {
    /// An apply that ran every pending statement.
    Succeeded,
    /// An apply that stopped on an error.
    Failed,
    /// An apply run dry: computed, nothing executed.
    DryRun,
    /// A plan: what would run.
    Planned,
    /// A status: where the target stood.
    Checked,
}

impl DeploymentStatus {
    /// Every status, in the order of the docs.
    pub const ALL: [DeploymentStatus; 5] = [
        DeploymentStatus::Succeeded,
        DeploymentStatus::Failed,
        DeploymentStatus::DryRun,
        DeploymentStatus::Planned,
        DeploymentStatus::Checked,
    ];

    /// The name used in the protocol (`succeeded`, `dry-run`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::DryRun => "dry-run",
            DeploymentStatus::Planned => "planned",
            DeploymentStatus::Checked => "checked",
        }
    }

    /// Parses a protocol name.
    pub fn parse(s: &str) -> Result<DeploymentStatus, RegistryError> {
        DeploymentStatus::ALL.into_iter().find(|d| d.as_str() == s).ok_or_else(|| {
            RegistryError::new(
                "invalid-status",
                format!("{s:?} is not a deployment status"),
                None,
                "use one of succeeded, failed, dry-run, planned, checked",
            )
        })
    }
}

/// The facts a registry indexes about a deployment report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSummary {
    /// Its status.
    pub status: DeploymentStatus,
    /// The plan digest (plans and applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    /// When the apply started (applies only), Unix nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    /// When it ended (applies only), Unix nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Timestamp>,
    /// The error an apply stopped on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DeploymentSummary {
    /// Reads the summary of a report document, checking its format and
    /// that it holds the report its kind names.
    pub fn of(report: &Report) -> Result<DeploymentSummary, RegistryError> {
        let body = report.body().map_err(|e| RegistryError::new(e.code, e.message, None, &e.hint))?;
        Ok(match body {
            ReportBody::Plan(p) => DeploymentSummary {
                status: DeploymentStatus::Planned,
                plan_digest: Some(p.digest.clone()),
                started: None,
                finished: None,
                error: None,
            },
            ReportBody::Status(_) => DeploymentSummary {
                status: DeploymentStatus::Checked,
                plan_digest: None,
                started: None,
                finished: None,
                error: None,
            },
            ReportBody::Apply(a) => DeploymentSummary {
                status: if a.failed() {
                    DeploymentStatus::Failed
                } else if a.dry_run {
                    DeploymentStatus::DryRun
                } else {
                    DeploymentStatus::Succeeded
                },
                plan_digest: Some(a.digest.clone()),
                started: Some(a.start),
                finished: a.end,
                error: a.error.clone(),
            },
        })
    }
}
