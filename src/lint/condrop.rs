//! `condrop` (CD101): dropped foreign keys. Warnings.
//!
//! A foreign key is known by MySQL's `DROP FOREIGN KEY`, or by name when an
//! earlier statement created it (PostgreSQL's `DROP CONSTRAINT` names any
//! kind of constraint). As in Atlas, dropping it together with all of its
//! columns is not reported.

use super::{dropped_columns, key, Ctx, Diag};
use crate::text::go_quote;
use sqlparser::ast::{AlterTableOperation, Statement};

const NAME: &str = "condrop";

/// Reports foreign keys dropped without their columns.
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
        let columns = table.and_then(|t| t.fks.get(&name.value.to_lowercase()));
        if !certain && columns.is_none() {
            continue;
        }
        if columns.is_some_and(|cs| !cs.is_empty() && cs.iter().all(|c| dropped_columns.contains(c))) {
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
