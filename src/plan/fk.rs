//! Atlas's SQLite foreign-key check around a transaction (its SQLite
//! driver's `OpenTx` and commit), as a pure function over what a driver
//! reads.
//!
//! When foreign keys are on (`_fk=1` in Atlas's URL), Atlas turns them off
//! for the transaction (`PRAGMA foreign_keys = off`, so that a migration
//! may rebuild tables), lists the violations of `PRAGMA foreign_key_check`
//! after `BEGIN`, and lists them again before `COMMIT`. If the migration
//! added violations, it rolls back and fails with the message of
//! [`sqlite_fk_mismatch`]; either way it turns foreign keys back on.

/// A row of SQLite's `PRAGMA foreign_key_check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FkViolation {
    /// The table holding the row.
    pub table: String,
    /// Its rowid (0 for a `WITHOUT ROWID` table, where SQLite gives NULL).
    pub row: i64,
    /// The table the foreign key refers to.
    pub parent: String,
    /// The foreign key's index in the table's list.
    pub index: i64,
}

/// Atlas's commit-time error for the violations of `after` that were not
/// in `before`, or `None` when the transaction added none.
///
/// ```
/// use strata::plan::fk::{sqlite_fk_mismatch, FkViolation};
/// let v = FkViolation { table: "friendships".into(), row: 4, parent: "users".into(), index: 1 };
/// assert_eq!(sqlite_fk_mismatch(&[], &[]), None);
/// assert_eq!(sqlite_fk_mismatch(&[v.clone()], &[v.clone()]), None);
/// assert_eq!(
///     sqlite_fk_mismatch(&[], &[v]).as_deref(),
///     Some("sql/sqlite: foreign key mismatch: [{tbl:friendships ref:users row:4 index:1}]")
/// );
/// ```
pub fn sqlite_fk_mismatch(before: &[FkViolation], after: &[FkViolation]) -> Option<String> {
    let new: Vec<String> = after
        .iter()
        .filter(|v| !before.contains(v))
        .map(|v| format!("{{tbl:{} ref:{} row:{} index:{}}}", v.table, v.parent, v.row, v.index))
        .collect();
    (!new.is_empty()).then(|| format!("sql/sqlite: foreign key mismatch: [{}]", new.join(" ")))
}
