//! MY102 (MySQL): a column defined with an inline `REFERENCES`, which MySQL
//! parses and ignores (no foreign key is created). A warning, never an
//! error, as in Atlas. Atlas's analyzer has no name: strata calls it
//! `inline_references` for `atlas:nolint`.

use super::{bare, Ctx, Diag};
use crate::lex::Dialect;
use crate::text::go_quote;
use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, Statement};

const NAME: &str = "inline_references";

/// Reports inline `REFERENCES` in `CREATE TABLE` and `ADD COLUMN` (MySQL).
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    if cx.dialect != Dialect::Mysql {
        return;
    }
    match s {
        Statement::CreateTable(ct) => {
            let table = bare(&ct.name);
            ct.columns.iter().for_each(|c| report(c, &table, out));
        }
        Statement::AlterTable(at) => {
            let table = bare(&at.name);
            for op in &at.operations {
                if let AlterTableOperation::AddColumn { column_def, .. } = op {
                    report(column_def, &table, out);
                }
            }
        }
        _ => {}
    }
}

fn report(c: &ColumnDef, table: &str, out: &mut Vec<Diag>) {
    if c.options.iter().any(|o| matches!(o.option, ColumnOption::ForeignKey(_))) {
        out.push(Diag::warn(
            "MY102",
            NAME,
            format!(
                "Defining column {} on table {} with inline REFERENCES is ignored by MySQL",
                go_quote(&c.name.value),
                go_quote(table)
            ),
            "declare the foreign key as a table constraint: FOREIGN KEY (col) REFERENCES other (id)",
        ));
    }
}
