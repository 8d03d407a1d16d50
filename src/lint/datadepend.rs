//! `data_depend` (MF101, MF102, MF103, MF104, MY101, LT101): changes that may fail depending on the
//! data already in the table. Warnings.
//!
//! Atlas replays a file statement by statement and diffs the schema after
//! each one, so an index made unique shows as a modified index (MF102)
//! only when one statement drops it and adds it back under the same name
//! (MySQL's `ALTER TABLE t DROP INDEX i, ADD UNIQUE INDEX i (...)`). A
//! `DROP INDEX i` and a `CREATE UNIQUE INDEX i` in two statements are two
//! diffs, a dropped index and an added unique one: MF101, as in Atlas.
//! Neither is reported when the file also drops a unique index of the
//! table whose parts cover the new index's (a unique index rebuilt or
//! renamed).

use super::model::{index_column, Col, Index, IndexKind};
use super::{bare, key, Ctx, Diag};
use crate::lex::Dialect;
use crate::text::go_quote;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, IndexColumn, Statement, TableConstraint,
};

const NAME: &str = "data_depend";

/// Reports unique indexes and non-nullable columns without default on
/// tables that existed before the file.
pub(super) fn check(cx: &Ctx, s: &Statement, out: &mut Vec<Diag>) {
    match s {
        Statement::CreateIndex(ci) if ci.unique => {
            let t = key(&ci.table_name);
            if cx.existing(&t) {
                let name = cx.model.created_index_name(ci);
                unique(cx, &t, &bare(&ci.table_name), &name, &ci.columns, out);
            }
        }
        Statement::AlterTable(at) => {
            let t = key(&at.name);
            if cx.dialect == Dialect::Sqlite {
                lt101(cx, &t, at, out);
            }
            if !cx.existing(&t) {
                return;
            }
            // Indexes this statement drops: one it adds back under the
            // same name is modified, not added.
            let dropped: Vec<String> = at
                .operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::DropIndex { name } | AlterTableOperation::DropConstraint { name, .. } => {
                        Some(name.value.to_lowercase())
                    }
                    _ => None,
                })
                .collect();
            for op in &at.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint: TableConstraint::Unique(u), .. } => {
                        let table = bare(&at.name);
                        let name = u.index_name.as_ref().or(u.name.as_ref()).map_or_else(
                            || cx.model.index_name(&table, IndexKind::Unique, &u.columns),
                            |n| n.value.clone(),
                        );
                        let k = name.to_lowercase();
                        if !dropped.contains(&k) {
                            unique(cx, &t, &table, &name, &u.columns, out);
                        } else if !cx.model.index(&t, &k).is_some_and(|i| i.unique)
                            && !cx.model.index_added_here(&t, &k)
                        {
                            mf102(&name, &table, out);
                        }
                    }
                    // MySQL fills such columns with the type's zero value:
                    // Atlas reports MY101 there instead.
                    AlterTableOperation::AddColumn { column_def, .. }
                        if cx.dialect == Dialect::Mysql && not_null_without_default(column_def) =>
                    {
                        my101(column_def, &bare(&at.name), out);
                    }
                    AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetNotNull }
                        if !cx.model.added_here(&t, &column_name.value.to_lowercase())
                            && cx.model.column(&t, &column_name.value.to_lowercase()).is_none_or(|c| c.nullable) =>
                    {
                        mf104(&column_name.value, out);
                    }
                    AlterTableOperation::ModifyColumn { col_name: c, options, .. }
                    | AlterTableOperation::ChangeColumn { old_name: c, options, .. }
                        if !cx.model.added_here(&t, &c.value.to_lowercase())
                            && cx.model.column(&t, &c.value.to_lowercase()).is_some_and(|c| c.nullable)
                            && !Col::of(options).nullable =>
                    {
                        mf104(&c.value, out);
                    }
                    AlterTableOperation::AddColumn { column_def, .. }
                        if cx.dialect != Dialect::Mysql && not_null_without_default(column_def) =>
                    {
                        out.push(Diag::warn(
                            "MF103",
                            NAME,
                            format!(
                                "Adding a non-nullable {} column {} will fail in case table {} is not empty",
                                go_quote(&type_name(column_def)),
                                go_quote(&column_def.name.value),
                                go_quote(&bare(&at.name))
                            ),
                            "give the column a DEFAULT, or add it nullable, backfill it and then set NOT NULL",
                        ));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// MF102 for index `index` of `table` made unique. An index the files do
/// not show (created before the directory) is taken to be non-unique.
fn mf102(index: &str, table: &str, out: &mut Vec<Diag>) {
    out.push(Diag::warn(
        "MF102",
        NAME,
        format!(
            "Modifying an index {} on table {} might fail in case of duplicate entries",
            go_quote(index),
            go_quote(table)
        ),
        "look for duplicates first (GROUP BY the index's columns HAVING count(*) > 1) and remove them in an earlier migration",
    ));
}

/// MF104 for column `c` made non-nullable.
fn mf104(c: &str, out: &mut Vec<Diag>) {
    out.push(Diag::warn(
        "MF104",
        NAME,
        format!("Modifying nullable column {} to non-nullable might fail in case it contains NULL values", go_quote(c)),
        "backfill the NULL values first (UPDATE ... WHERE col IS NULL) in an earlier statement",
    ));
}

/// MY101 for a non-nullable column without default added to an existing
/// MySQL table, when its type's zero value is known (numeric and string
/// types; other types are not reported).
fn my101(c: &ColumnDef, table: &str, out: &mut Vec<Diag>) {
    if c.options.iter().any(|o| matches!(o.option, ColumnOption::DialectSpecific(_))) {
        return; // AUTO_INCREMENT fills the rows.
    }
    let ty = type_name(c);
    let zero = match ty.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal" | "dec" | "numeric"
        | "fixed" | "float" | "double" | "real" | "bit" | "bool" | "boolean" => "0",
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "binary" | "varbinary" | "tinyblob"
        | "blob" | "mediumblob" | "longblob" => "\"\"",
        _ => return,
    };
    out.push(Diag::warn(
        "MY101",
        NAME,
        format!(
            "Adding a non-nullable {} column {} on table {} without a default value implicitly sets existing rows with {zero}",
            go_quote(&ty),
            go_quote(&c.name.value),
            go_quote(table)
        ),
        "give the column an explicit DEFAULT, or add it nullable, backfill it and then make it NOT NULL",
    ));
}

/// LT101 (SQLite): at `ALTER TABLE new RENAME TO old` where `old` was
/// dropped earlier in the file (the table-copy pattern SQLite needs to
/// change a column), each column nullable in the old table that is NOT
/// NULL without default in the new one.
fn lt101(cx: &Ctx, t: &str, at: &sqlparser::ast::AlterTable, out: &mut Vec<Diag>) {
    let Some(new) = cx.model.table(t) else { return };
    for op in &at.operations {
        let AlterTableOperation::RenameTable { table_name } = op else { continue };
        let Some(old) = cx.model.dropped_here(&key(super::model::rename_target(table_name))) else { continue };
        for col in &new.order {
            let Some(c) = new.cols.get(col) else { continue };
            if !c.nullable && !c.default && old.cols.get(col).is_some_and(|o| o.nullable) {
                out.push(Diag::warn(
                    "LT101",
                    NAME,
                    format!(
                        "Modifying nullable column {} to non-nullable without default value might fail in case it contains NULL values",
                        go_quote(&c.name)
                    ),
                    "fill the NULL values in the INSERT ... SELECT (e.g. coalesce(col, <value>)) or give the column a DEFAULT",
                ));
            }
        }
    }
}

/// MF101 for a unique index on `columns` of table `t`, unless every column
/// was added by this file or the file drops a unique index of `t` that
/// covers it (Atlas's test: no more parts than the new index, and each
/// part of the new one is among them or a column added by the file).
fn unique(cx: &Ctx, t: &str, table: &str, index: &str, columns: &[IndexColumn], out: &mut Vec<Diag>) {
    let parts = Index::of(true, columns).parts;
    let covered = cx.dropped_indexes.iter().filter_map(|i| cx.model.dropped_index(t, i)).any(|d| {
        d.unique
            && d.parts.len() <= parts.len()
            && parts.iter().all(|p| d.parts.contains(p) || cx.model.added_here(t, p))
    });
    if covered {
        return;
    }
    let existing: Vec<String> = columns
        .iter()
        .filter_map(|c| index_column(c).map(|i| i.value.clone()))
        .filter(|c| !cx.model.added_here(t, &c.to_lowercase()))
        .collect();
    let which = match existing.as_slice() {
        [] => return,
        [one] => format!("column {} contains", go_quote(one)),
        many => {
            format!("columns {} contain", many.iter().map(|c| go_quote(c)).collect::<Vec<_>>().join(", "))
        }
    };
    out.push(Diag::warn(
        "MF101",
        NAME,
        format!(
            "Adding a unique index {} on table {} might fail in case {which} duplicate entries",
            go_quote(index),
            go_quote(table)
        ),
        "look for duplicates first (GROUP BY the columns HAVING count(*) > 1) and remove them in an earlier migration",
    ));
}

/// Whether a new column is NOT NULL (or a primary key) with no default and
/// no generated value (identity, generated, serial types).
fn not_null_without_default(c: &ColumnDef) -> bool {
    let not_null = c.options.iter().any(|o| matches!(o.option, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
    let filled = c.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::Default(_)
                | ColumnOption::Generated { .. }
                | ColumnOption::Identity(_)
                | ColumnOption::Materialized(_)
                | ColumnOption::Alias(_)
        )
    });
    not_null && !filled && !is_serial(c)
}

/// The column's type name as Atlas prints it: lowercase, without modifiers
/// (`varchar(255)` → `varchar`).
pub(super) fn type_name(c: &ColumnDef) -> String {
    let t = c.data_type.to_string().to_lowercase();
    t.split('(').next().unwrap_or_default().trim().to_string()
}

/// Whether the column's type is one of PostgreSQL's serial types (an
/// implicit `nextval` default).
pub(super) fn is_serial(c: &ColumnDef) -> bool {
    matches!(type_name(c).as_str(), "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8")
}
