//! `migrate status` (spec §6.12) and `migrate set` (spec §6.9).

use super::{pending, DbState, PlanError, PlanOptions, Revision, RevisionType};
use crate::dir::{Directory, MigrationFile};
use crate::report::{FileRef, RevisionChange, SetReport};
use serde::{Deserialize, Serialize};

/// Where a database stands against a directory (Atlas's `MigrateStatus`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `OK` (nothing pending) or `PENDING`.
    pub status: String,
    /// The files the database could run: every file once a revision
    /// exists, else the pending ones.
    pub available: Vec<FileRef>,
    /// The files that would run, in order.
    pub pending: Vec<FileRef>,
    /// Files added below the last applied version (`--exec-order linear`
    /// refuses them).
    pub out_of_order: Vec<FileRef>,
    /// The revisions read.
    pub applied: Vec<Revision>,
    /// The current version, or `No migration applied yet`.
    pub current: String,
    /// The next version, `Already at latest version`, or empty (unknown).
    pub next: String,
    /// Statements applied of a partially applied last file.
    pub count: u64,
    /// Statements that file has now (0 unless it is partial).
    pub total: u64,
    /// The error of the last attempt, or the out-of-order message.
    pub error: String,
    /// The statement that failed in the last attempt.
    pub sql: String,
    /// No revision exists and the next file is a checkpoint.
    pub from_checkpoint: bool,
}

fn refs<'a>(files: impl IntoIterator<Item = &'a MigrationFile>) -> Vec<FileRef> {
    files.into_iter().map(FileRef::of).collect()
}

/// Computes `atlas migrate status` for `dir` against `state`.
///
/// With [`DbState::table_missing`] the revisions table does not exist:
/// every file from the last checkpoint is pending and the clean check is
/// skipped. Otherwise pending files are computed with default options; a
/// file added out of order is reported in [`Status::out_of_order`], not as
/// an error.
pub fn status(dir: &Directory, state: &DbState) -> Result<Status, PlanError> {
    let state = &*super::without_cloud_row(state);
    dir.verify(None).map_err(|e| PlanError::from_sum(&e))?;
    let files = dir.files();
    let checkpoints = dir.checkpoints();
    let mut rep = Status::default();
    if state.table_missing {
        let from = checkpoints.iter().rposition(|&c| c).unwrap_or(0);
        rep.available = refs(&files[from..]);
        rep.pending = rep.available.clone();
    } else {
        rep.applied.clone_from(&state.revisions);
        match pending(dir, files.len(), checkpoints, state, &PlanOptions::default()) {
            Ok(p) => rep.pending = refs(p.files.iter().map(|&i| &files[i])),
            Err(PlanError::NonLinear { out_of_order, pending }) => {
                let by_name = |names: &[String]| names.iter().filter_map(|n| dir.file(n)).map(FileRef::of).collect();
                rep.error =
                    PlanError::NonLinear { out_of_order: out_of_order.clone(), pending: pending.clone() }.to_string();
                rep.status = "PENDING".into();
                rep.pending = by_name(&pending);
                rep.out_of_order = by_name(&out_of_order);
                rep.current = rep.applied.last().map(|r| r.version.clone()).unwrap_or_default();
                return Ok(rep);
            }
            Err(e) => return Err(e),
        }
        rep.available = if rep.applied.is_empty() { rep.pending.clone() } else { refs(files) };
    }
    rep.current = if rep.pending.len() == rep.available.len() {
        "No migration applied yet".into()
    } else {
        rep.applied.last().map(|r| r.version.clone()).unwrap_or_default()
    };
    if rep.pending.is_empty() {
        rep.status = "OK".into();
        rep.next = "Already at latest version".into();
    } else {
        rep.status = "PENDING".into();
        rep.next = rep.pending[0].version.clone();
    }
    rep.from_checkpoint = rep.applied.is_empty()
        && rep
            .pending
            .first()
            .is_some_and(|f| f.version == rep.next && dir.file(&f.name).is_some_and(MigrationFile::is_checkpoint));
    if let Some(last) = rep.applied.last() {
        if !last.kind.is_resolved() && last.applied < last.total {
            rep.sql = last.error_stmt.replace('\n', " ");
            rep.error = last.error.replace('\n', " ");
            rep.count = last.applied;
            let Some(f) = rep.available.iter().rev().find(|f| f.version == last.version) else {
                return Err(PlanError::StatusFileNotFound { version: last.version.clone() });
            };
            let file =
                dir.file(&f.name).ok_or_else(|| PlanError::StatusFileNotFound { version: last.version.clone() })?;
            let stmts = file.statements(dir.dialect()).map_err(|e| PlanError::Scan {
                file: f.name.clone(),
                message: e.to_string(),
                line: e.position().map(|p| p.0),
            })?;
            rep.total = stmts.len() as u64;
        }
    }
    Ok(rep)
}

/// What `atlas migrate set [version]` changes: rows to delete and rows to
/// write, in one transaction, and the report it prints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlan {
    /// Versions whose rows are deleted.
    pub delete: Vec<String>,
    /// Rows to upsert (executed_at and operator_version left for the
    /// driver to fill, as for the executor's writes).
    pub write: Vec<Revision>,
    /// What the command prints.
    pub report: SetReport,
}

/// Plans `atlas migrate set [version]` against `revisions` (spec §6.9).
/// `version` is the argument; `None` syncs to the directory's last file
/// (and deletes every row when the directory is empty).
pub fn set(dir: &Directory, revisions: &[Revision], version: Option<&str>) -> Result<SetPlan, PlanError> {
    let revisions: Vec<&Revision> =
        revisions.iter().filter(|r| r.version != super::revision::CLOUD_IDENTIFIER_VERSION).collect();
    let sum = dir.computed_sum();
    dir.verify(None).map_err(|e| PlanError::from_sum(&e))?;
    let files = dir.files();
    let version = match version {
        None if !revisions.is_empty() => files.last().map(|f| f.version().to_string()).unwrap_or_default(),
        None => return Err(PlanError::SetNeedsVersion),
        Some(v) => {
            if !files.iter().any(|f| f.version() == v) {
                return Err(PlanError::SetVersionNotFound { version: v.to_string() });
            }
            v.to_string()
        }
    };
    let mut out = SetPlan::default();
    let mut kept = Vec::new();
    for &r in &revisions {
        if r.version.as_str() > version.as_str() {
            out.report.changes.push(RevisionChange::removed(r));
            out.delete.push(r.version.clone());
        } else {
            let mut r = r.clone();
            if r.version == version && (!r.error.is_empty() || r.total != r.applied) {
                out.report.changes.push(RevisionChange::set(&r));
                r.kind = RevisionType(RevisionType::EXECUTE.0 | RevisionType::RESOLVED.0);
                out.write.push(r.clone());
            }
            kept.push(r);
        }
    }
    let last = kept.last().map(|r| r.version.clone());
    let mut added = Vec::new();
    for f in files {
        let v = f.version();
        match &last {
            None if v > version.as_str() => break,
            None => added.push(f),
            Some(l) if version.as_str() > l.as_str() => {
                if v <= l.as_str() {
                    continue;
                }
                if v > version.as_str() {
                    break;
                }
                added.push(f);
            }
            Some(_) => break,
        }
    }
    for f in added {
        let r = Revision {
            version: f.version().to_string(),
            description: f.description().to_string(),
            kind: RevisionType::RESOLVED,
            hash: sum.hash_of(f.name()).unwrap_or_default().to_string(),
            ..Revision::default()
        };
        out.report.changes.push(RevisionChange::set(&r));
        kept.push(r.clone());
        out.write.push(r);
    }
    kept.sort_by(|a, b| a.version.cmp(&b.version));
    out.report.current = kept.last().map(|r| r.version.clone());
    Ok(out)
}
