//! `incompatible` (BC101, BC102): renames that break clients still using
//! the old name. Warnings.

use super::model::rename_target;
use super::{bare, key, Ctx, Diag};
use crate::text::go_quote;
use sqlparser::ast::{AlterTableOperation, ObjectName, Statement};

const NAME: &str = "incompatible";

/// Reports renamed tables and columns of tables that existed before the file.
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    match s {
        Statement::AlterTable(at) => {
            let t = key(&at.name);
            if cx.model.created_here(&t) {
                return;
            }
            for op in &at.operations {
                match op {
                    AlterTableOperation::RenameTable { table_name } => {
                        rename_table(cx, &at.name, rename_target(table_name), out);
                    }
                    // MySQL's CHANGE renames when the names differ.
                    AlterTableOperation::RenameColumn { old_column_name: old, new_column_name: new }
                    | AlterTableOperation::ChangeColumn { old_name: old, new_name: new, .. } => {
                        let o = old.value.to_lowercase();
                        // As in Atlas, adding a column of the old name back
                        // (from this statement on) keeps old clients working.
                        let added_back =
                            cx.added_columns.iter().any(|(i, at, c)| *i >= cx.index && *at == t && *c == o);
                        if old.value == new.value || cx.model.added_here(&t, &o) || added_back {
                            continue;
                        }
                        out.push(Diag::warn(
                            "BC102",
                            NAME,
                            format!("Renaming column {} to {}", go_quote(&old.value), go_quote(&new.value)),
                            "add the new column and keep writing both until no client reads the old one, then drop it",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Statement::RenameTable(rs) => {
            for r in rs {
                if !cx.model.created_here(&key(&r.old_name)) {
                    rename_table(cx, &r.old_name, &r.new_name, out);
                }
            }
        }
        _ => {}
    }
}

/// BC101, unless a view with the old name is created later in the file.
fn rename_table(cx: &Ctx, from: &ObjectName, to: &ObjectName, out: &mut Vec<Diag>) {
    let old = key(from);
    if cx.views.iter().any(|(i, v)| *i > cx.index && *v == old) {
        return;
    }
    out.push(Diag::warn(
        "BC101",
        NAME,
        format!("Renaming table {} to {}", go_quote(&bare(from)), go_quote(&bare(to))),
        "keep the old name working for old clients: CREATE VIEW <old> AS SELECT * FROM <new> in the same file",
    ));
}
