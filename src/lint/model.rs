//! The schema model the analyzers consult: which tables exist, their
//! columns and their foreign keys, as the files' statements leave them.
//! Names are matched by their last part, lowercase: `app.users` and
//! `users` are the same table, and two schemas' tables of the same name are
//! one table to the model (a known limit of this first version).

use super::{bare, key, schema_of};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, Expr, ObjectName, ObjectType, RenameTableNameKind,
    SchemaName, Statement, TableConstraint,
};
use std::collections::{HashMap, HashSet};

/// A table as far as the files tell.
#[derive(Clone, Debug, Default)]
pub(super) struct Table {
    /// The schema it was created in, when qualified.
    pub(super) schema: Option<String>,
    /// Foreign keys by name key: their columns (keys).
    pub(super) fks: HashMap<String, Vec<String>>,
    /// Columns by name key, as far as the files define them.
    pub(super) cols: HashMap<String, Col>,
    /// The keys of the columns of `CREATE TABLE`, in order.
    pub(super) order: Vec<String>,
}

/// What the model knows of a column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Col {
    /// Its name as written (set by the model; empty from [`Col::of`]).
    pub(super) name: String,
    /// Whether it accepts NULL.
    pub(super) nullable: bool,
    /// Whether it has a default (or a generated value).
    pub(super) default: bool,
}

impl Col {
    /// The column a definition's options describe.
    pub(super) fn of(options: &[ColumnOption]) -> Col {
        let nullable = !options.iter().any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
        let default = options.iter().any(|o| {
            matches!(
                o,
                ColumnOption::Default(_)
                    | ColumnOption::Generated { .. }
                    | ColumnOption::Identity(_)
                    | ColumnOption::Materialized(_)
                    | ColumnOption::Alias(_)
                    | ColumnOption::DialectSpecific(_)
            )
        });
        Col { name: String::new(), nullable, default }
    }
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
    /// Tables dropped by the current file, as they were.
    dropped_here: HashMap<String, Table>,
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
        self.dropped_here.clear();
    }

    /// The column `c` of table `t`, when the files define it.
    pub(super) fn column(&self, t: &str, c: &str) -> Option<Col> {
        self.tables.get(t).and_then(|t| t.cols.get(c)).cloned()
    }

    /// Table `k` as it was before the current file dropped it.
    pub(super) fn dropped_here(&self, k: &str) -> Option<&Table> {
        self.dropped_here.get(k)
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
                let mut t = Table { schema: schema_of(&ct.name), ..Table::default() };
                for c in &ct.columns {
                    let opts: Vec<ColumnOption> = c.options.iter().map(|o| o.option.clone()).collect();
                    let k = c.name.value.to_lowercase();
                    t.cols.insert(k.clone(), Col { name: c.name.value.clone(), ..Col::of(&opts) });
                    t.order.push(k);
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
                    if let TableConstraint::PrimaryKey(pk) = c {
                        for ic in &pk.columns {
                            if let Expr::Identifier(i) = &ic.column.expr {
                                if let Some(col) = t.cols.get_mut(&i.value.to_lowercase()) {
                                    col.nullable = false;
                                }
                            }
                        }
                    }
                }
                self.tables.insert(k.clone(), t);
                self.created_here.insert(k);
            }
            Statement::Drop { object_type: ObjectType::Table, names, .. } => {
                for n in names {
                    let k = key(n);
                    if let Some(t) = self.tables.remove(&k) {
                        self.dropped_here.insert(k.clone(), t);
                    }
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
                            let c = column_def.name.value.to_lowercase();
                            let opts: Vec<ColumnOption> = column_def.options.iter().map(|o| o.option.clone()).collect();
                            self.set_col(&k, &c, Some(Col { name: column_def.name.value.clone(), ..Col::of(&opts) }));
                            self.added_here.insert((k.clone(), c));
                        }
                        AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                            let old = (k.clone(), old_column_name.value.to_lowercase());
                            let new = new_column_name.value.to_lowercase();
                            let col = self.column(&k, &old.1).map(|c| Col { name: new_column_name.value.clone(), ..c });
                            self.set_col(&k, &old.1, None);
                            self.set_col(&k, &new, col);
                            if self.added_here.remove(&old) {
                                self.added_here.insert((k.clone(), new));
                            }
                        }
                        AlterTableOperation::ModifyColumn { col_name, options, .. } => {
                            let col = Col { name: col_name.value.clone(), ..Col::of(options) };
                            self.set_col(&k, &col_name.value.to_lowercase(), Some(col));
                        }
                        AlterTableOperation::ChangeColumn { old_name, new_name, options, .. } => {
                            self.set_col(&k, &old_name.value.to_lowercase(), None);
                            let col = Col { name: new_name.value.clone(), ..Col::of(options) };
                            self.set_col(&k, &new_name.value.to_lowercase(), Some(col));
                        }
                        AlterTableOperation::AlterColumn { column_name, op } => {
                            let c = column_name.value.to_lowercase();
                            if let Some(mut col) = self.column(&k, &c) {
                                match op {
                                    AlterColumnOperation::SetNotNull => col.nullable = false,
                                    AlterColumnOperation::DropNotNull => col.nullable = true,
                                    AlterColumnOperation::SetDefault { .. } => col.default = true,
                                    AlterColumnOperation::DropDefault => col.default = false,
                                    _ => {}
                                }
                                self.set_col(&k, &c, Some(col));
                            }
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                self.set_col(&k, &c.value.to_lowercase(), None);
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

    /// Sets (or forgets) what is known of column `c` of a known table `t`.
    fn set_col(&mut self, t: &str, c: &str, col: Option<Col>) {
        if let Some(t) = self.tables.get_mut(t) {
            match col {
                Some(col) => t.cols.insert(c.to_string(), col),
                None => t.cols.remove(c),
            };
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
