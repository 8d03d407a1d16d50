//! The schema model the analyzers consult: which tables exist, their
//! columns and their foreign keys, as the files' statements leave them.
//! Names are matched by their last part, lowercase: `app.users` and
//! `users` are the same table, and two schemas' tables of the same name are
//! one table to the model (a known limit of this first version).

use super::{bare, key, schema_of};
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ObjectName, ObjectType, RenameTableNameKind, SchemaName, Statement,
    TableConstraint,
};
use std::collections::{HashMap, HashSet};

/// A table as far as the files tell.
#[derive(Clone, Debug, Default)]
pub(super) struct Table {
    /// The schema it was created in, when qualified.
    pub(super) schema: Option<String>,
    /// Foreign keys by name key: their columns (keys).
    pub(super) fks: HashMap<String, Vec<String>>,
}

/// Tables across files, and what the current file created.
#[derive(Debug, Default)]
pub(super) struct Model {
    tables: HashMap<String, Table>,
    /// Every table some file creates (or renames something to).
    created_anywhere: HashSet<String>,
    /// Tables created by the current file.
    created_here: HashSet<String>,
    /// Columns added by the current file: (table, column) keys.
    added_here: HashSet<(String, String)>,
    /// Schemas created by the current file.
    schemas_here: HashSet<String>,
}

impl Model {
    /// First pass: remembers the tables a statement creates.
    pub(super) fn note_created(&mut self, s: &Statement) {
        match s {
            Statement::CreateTable(ct) => {
                self.created_anywhere.insert(key(&ct.name));
            }
            Statement::AlterTable(at) => {
                for op in &at.operations {
                    if let AlterTableOperation::RenameTable { table_name } = op {
                        self.created_anywhere.insert(key(rename_target(table_name)));
                    }
                }
            }
            Statement::RenameTable(rs) => {
                self.created_anywhere.extend(rs.iter().map(|r| key(&r.new_name)));
            }
            _ => {}
        }
    }

    /// A new file starts: nothing is created by it yet.
    pub(super) fn start_file(&mut self) {
        self.created_here.clear();
        self.added_here.clear();
        self.schemas_here.clear();
    }

    /// Whether table `k` existed before the current file.
    pub(super) fn existing(&self, k: &str) -> bool {
        !self.created_here.contains(k) && (self.tables.contains_key(k) || !self.created_anywhere.contains(k))
    }

    /// Whether the current file created table `k`.
    pub(super) fn created_here(&self, k: &str) -> bool {
        self.created_here.contains(k)
    }

    /// Whether the current file added column `c` to table `t`.
    pub(super) fn added_here(&self, t: &str, c: &str) -> bool {
        self.added_here.contains(&(t.to_string(), c.to_string()))
    }

    /// Whether the current file created schema `k`.
    pub(super) fn schema_created_here(&self, k: &str) -> bool {
        self.schemas_here.contains(k)
    }

    /// How many known tables schema `k` holds.
    pub(super) fn tables_in_schema(&self, k: &str) -> usize {
        self.tables.values().filter(|t| t.schema.as_deref() == Some(k)).count()
    }

    /// The table `k`, when known.
    pub(super) fn table(&self, k: &str) -> Option<&Table> {
        self.tables.get(k)
    }

    /// Applies a statement's effect on the schema.
    pub(super) fn apply(&mut self, s: &Statement) {
        match s {
            Statement::CreateTable(ct) => {
                let k = key(&ct.name);
                if ct.if_not_exists && self.tables.contains_key(&k) {
                    return;
                }
                let mut t = Table { schema: schema_of(&ct.name), fks: HashMap::new() };
                for c in &ct.columns {
                    for o in &c.options {
                        if let ColumnOption::ForeignKey(fk) = &o.option {
                            let name = o.name.as_ref().or(fk.name.as_ref()).map(|n| n.value.to_lowercase());
                            let cols = vec![c.name.value.to_lowercase()];
                            t.fks.insert(name.unwrap_or_else(|| default_fk_name(&ct.name, &cols)), cols);
                        }
                    }
                }
                for c in &ct.constraints {
                    add_fk(&mut t, &ct.name, c);
                }
                self.tables.insert(k.clone(), t);
                self.created_here.insert(k);
            }
            Statement::Drop { object_type: ObjectType::Table, names, .. } => {
                for n in names {
                    let k = key(n);
                    self.tables.remove(&k);
                    self.created_here.remove(&k);
                }
            }
            Statement::Drop { object_type: ObjectType::Schema, names, .. } => {
                for n in names {
                    let k = key(n);
                    self.tables.retain(|_, t| t.schema.as_deref() != Some(&k));
                    self.schemas_here.remove(&k);
                }
            }
            Statement::CreateSchema {
                schema_name: SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _),
                ..
            } => {
                self.schemas_here.insert(key(n));
            }
            Statement::AlterTable(at) => {
                let mut k = key(&at.name);
                for op in &at.operations {
                    match op {
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            self.added_here.insert((k.clone(), column_def.name.value.to_lowercase()));
                        }
                        AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                            let old = (k.clone(), old_column_name.value.to_lowercase());
                            if self.added_here.remove(&old) {
                                self.added_here.insert((k.clone(), new_column_name.value.to_lowercase()));
                            }
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            if let Some(t) = self.tables.get_mut(&k) {
                                add_fk(t, &at.name, constraint);
                            }
                        }
                        AlterTableOperation::DropConstraint { name, .. }
                        | AlterTableOperation::DropForeignKey { name, .. } => {
                            if let Some(t) = self.tables.get_mut(&k) {
                                t.fks.remove(&name.value.to_lowercase());
                            }
                        }
                        AlterTableOperation::RenameTable { table_name } => {
                            let to = key(rename_target(table_name));
                            self.rename(&k, &to);
                            k = to;
                        }
                        _ => {}
                    }
                }
            }
            Statement::RenameTable(rs) => {
                for r in rs {
                    self.rename(&key(&r.old_name), &key(&r.new_name));
                }
            }
            _ => {}
        }
    }

    /// Table `from` is now called `to`.
    fn rename(&mut self, from: &str, to: &str) {
        let t = self.tables.remove(from).unwrap_or_default();
        self.tables.insert(to.to_string(), t);
        if self.created_here.remove(from) {
            self.created_here.insert(to.to_string());
        }
    }
}

/// The new name in `RENAME TO`/`RENAME AS`.
pub(super) fn rename_target(k: &RenameTableNameKind) -> &ObjectName {
    match k {
        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
    }
}

/// Records `c` on `t` when it is a foreign key.
fn add_fk(t: &mut Table, table: &ObjectName, c: &TableConstraint) {
    if let TableConstraint::ForeignKey(fk) = c {
        let cols: Vec<String> = fk.columns.iter().map(|i| i.value.to_lowercase()).collect();
        let name = fk.name.as_ref().map_or_else(|| default_fk_name(table, &cols), |n| n.value.to_lowercase());
        t.fks.insert(name, cols);
    }
}

/// PostgreSQL's name for an unnamed foreign key: `<table>_<columns>_fkey`.
fn default_fk_name(table: &ObjectName, cols: &[String]) -> String {
    format!("{}_{}_fkey", bare(table), cols.join("_")).to_lowercase()
}
