//! `condrop` (CD101): dropped foreign keys. Warnings.
//!
//! A foreign key is known by MySQL's `DROP FOREIGN KEY`, or by name when an
//! earlier statement created it (PostgreSQL's `DROP CONSTRAINT` names any
//! kind of constraint). As in Atlas, it is not reported when the same
//! statement drops one of its columns, nor when the file added it.

use super::{dropped_columns, key, Ctx, Diag};
use crate::text::go_quote;
use sqlparser::ast::{AlterTableOperation, Statement};

const NAME: &str = "condrop";

/// Reports foreign keys dropped without any of their columns.
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    let Statement::AlterTable(at) = s else { return };
    let t = key(&at.name);
    if cx.model.created_here(&t) {
        return;
    }
    let table = cx.model.table(&t);
    let dropped_columns: Vec<String> = dropped_columns(at).map(|c| c.value.to_lowercase()).collect();
    for op in &at.operations {
        let (name, certain) = match op {
            AlterTableOperation::DropForeignKey { name, .. } => (name, true),
            AlterTableOperation::DropConstraint { name, .. } => (name, false),
            _ => continue,
        };
        let fk = name.value.to_lowercase();
        let columns = table.and_then(|t| t.fks.get(&fk));
        if (!certain && columns.is_none()) || cx.model.fk_added_here(&t, &fk) {
            continue;
        }
        if columns.is_some_and(|cs| cs.iter().any(|c| dropped_columns.contains(c))) {
            continue;
        }
        out.push(Diag::warn(
            "CD101",
            NAME,
            format!("Dropping foreign-key constraint {}", go_quote(&name.value)),
            "make sure the application keeps the relationship consistent without it, or recreate the constraint",
        ));
    }
}
