//! `pg_locking` (PG101, PG103, PG301, PG302, PG303, PG305, PG306, PG901):
//! PostgreSQL DDL that holds strong locks on a table that already has
//! rows, or that PostgreSQL refuses in a transaction. Warnings, for the
//! `postgres` dialect only.
//!
//! Codes follow the numbering of Atlas's commercial PostgreSQL analyzers
//! (spec §7.4) where one fits; PG9xx is strata's own range. Tables created
//! by the same file are empty and unseen by others, so only tables that
//! existed before the file are reported (except PG103, which fails anyway).

use super::datadepend::is_serial;
use super::model::rename_target;
use super::{bare, key, Ctx, Diag};
use crate::text::go_quote;
use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ColumnOption, Statement, TableConstraint};

const NAME: &str = "pg_locking";

/// Functions PostgreSQL marks volatile that are common in defaults: such a
/// default is evaluated per row, so `ADD COLUMN` rewrites the table. `now()`
/// and `CURRENT_TIMESTAMP` are stable: evaluated once, no rewrite.
const VOLATILE: [&str; 9] = [
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "uuidv7",
];

/// Reports locking DDL.
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    match s {
        Statement::CreateIndex(ci) => {
            let table = bare(&ci.table_name);
            let index = cx.model.created_index_name(ci);
            if ci.concurrently && cx.in_tx {
                out.push(Diag::warn(
                    "PG103",
                    NAME,
                    format!(
                        "Creating index {} CONCURRENTLY inside a transaction fails: PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction block",
                        go_quote(&index)
                    ),
                    "add '-- atlas:txmode none' to the file's header, followed by a blank line",
                ));
            } else if !ci.concurrently && cx.existing(&key(&ci.table_name)) {
                out.push(Diag::warn(
                    "PG101",
                    NAME,
                    format!(
                        "Creating index {} on table {} without CONCURRENTLY blocks writes to the table until the index is built",
                        go_quote(&index),
                        go_quote(&table)
                    ),
                    "use CREATE INDEX CONCURRENTLY, in a file with '-- atlas:txmode none'",
                ));
            }
        }
        Statement::AlterTable(at) => {
            if !cx.existing(&key(&at.name)) {
                return;
            }
            let table = go_quote(&bare(&at.name));
            for op in &at.operations {
                match op {
                    AlterTableOperation::AddColumn { column_def: c, .. } => {
                        let default = c.options.iter().find_map(|o| match &o.option {
                            ColumnOption::Default(e) => Some(e.to_string()),
                            _ => None,
                        });
                        let volatile = match default {
                            Some(d) if is_volatile(&d) => d,
                            None if is_serial(c) => format!("the {} type's nextval()", c.data_type),
                            _ => continue,
                        };
                        out.push(Diag::warn(
                            "PG302",
                            NAME,
                            format!(
                                "Adding column {} to table {table} with a volatile default ({volatile}) rewrites the table under an ACCESS EXCLUSIVE lock",
                                go_quote(&c.name.value)
                            ),
                            "add the column without a default (or with a constant one), then backfill it in batches and set the default after",
                        ));
                    }
                    AlterTableOperation::AlterColumn { column_name, op } => match op {
                        AlterColumnOperation::SetDataType { .. } => out.push(Diag::warn(
                            "PG301",
                            NAME,
                            format!(
                                "Changing the type of column {} on table {table} may rewrite the table and its indexes under an ACCESS EXCLUSIVE lock",
                                go_quote(&column_name.value)
                            ),
                            "add a column of the new type, backfill it in batches, and switch clients to it",
                        )),
                        AlterColumnOperation::SetNotNull => out.push(Diag::warn(
                            "PG303",
                            NAME,
                            format!(
                                "Setting column {} on table {table} to NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
                                go_quote(&column_name.value)
                            ),
                            "first add CHECK (column IS NOT NULL) NOT VALID and VALIDATE it; SET NOT NULL then skips the scan",
                        )),
                        _ => {}
                    },
                    AlterTableOperation::AddConstraint { constraint, not_valid: false } => {
                        let (code, kind, name) = match constraint {
                            TableConstraint::Check(c) => ("PG305", "CHECK", c.name.as_ref()),
                            TableConstraint::ForeignKey(c) => ("PG306", "FOREIGN KEY", c.name.as_ref()),
                            _ => continue,
                        };
                        let name = name.map(|n| format!(" {}", go_quote(&n.value))).unwrap_or_default();
                        out.push(Diag::warn(
                            code,
                            NAME,
                            format!(
                                "Adding {kind} constraint{name} on table {table} without NOT VALID scans the whole table while holding a lock that blocks writes"
                            ),
                            "add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate statement",
                        ));
                    }
                    AlterTableOperation::RenameTable { table_name } => out.push(rename(format!(
                        "Renaming table {table} to {}",
                        go_quote(&bare(rename_target(table_name)))
                    ))),
                    AlterTableOperation::RenameColumn { old_column_name, new_column_name } => out.push(rename(format!(
                        "Renaming column {} on table {table} to {}",
                        go_quote(&old_column_name.value),
                        go_quote(&new_column_name.value)
                    ))),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// PG901 for a rename described by `what`.
fn rename(what: String) -> Diag {
    Diag::warn(
        "PG901",
        NAME,
        format!("{what} waits for an ACCESS EXCLUSIVE lock, queueing every query on the table behind it, and breaks queries still using the old name"),
        "run it with a short lock_timeout (SET lock_timeout = '2s') and deploy clients that use the new name first",
    )
}

/// Whether a default expression calls a volatile function.
fn is_volatile(expr: &str) -> bool {
    let e = expr.to_lowercase();
    VOLATILE.iter().any(|f| {
        e.match_indices(f).any(|(i, _)| {
            let before_ok = e[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = e[i + f.len()..].trim_start();
            before_ok && after.starts_with('(')
        })
    })
}
