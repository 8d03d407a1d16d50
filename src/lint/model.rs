//! The schema model the analyzers consult: which tables exist, their
//! columns, indexes and foreign keys, as the files' statements leave them.
//! Names are matched by their last part, lowercase: `app.users` and
//! `users` are the same table, and two schemas' tables of the same name are
//! one table to the model (a known limit of this first version).

use super::{bare, key, schema_of};
use crate::lex::Dialect;
use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, Expr,
    GeneratedAs, GeneratedExpressionMode, Ident, IndexColumn, ObjectName, ObjectType, RenameTableNameKind, SchemaName,
    Statement, TableConstraint,
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
    /// Indexes by name key: `CREATE INDEX`, unique and primary-key
    /// constraints, MySQL's `INDEX`/`KEY` (unnamed ones under the name the
    /// database gives them, see [`default_index_name`]).
    pub(super) indexes: HashMap<String, Index>,
}

/// What the model knows of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Index {
    /// Whether it is unique (primary keys are).
    pub(super) unique: bool,
    /// Its parts: a column's key, or an expression's text, lowercase.
    pub(super) parts: Vec<String>,
}

impl Index {
    /// An index on `columns`.
    pub(super) fn of(unique: bool, columns: &[IndexColumn]) -> Index {
        Index { unique, parts: columns.iter().map(part).collect() }
    }
}

/// How a database names an index it is not given a name for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IndexKind {
    /// `CREATE INDEX`, MySQL's `INDEX`/`KEY`.
    Plain,
    /// A unique index or constraint.
    Unique,
    /// The primary key.
    Primary,
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
    /// Whether it is a virtual generated column (computed when read, so
    /// dropping it loses no data).
    pub(super) virtual_: bool,
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
        let virtual_ = options.iter().any(|o| {
            matches!(
                o,
                ColumnOption::Generated { generation_expr: Some(_), generated_as, generation_expr_mode, .. }
                    if *generated_as != GeneratedAs::ExpStored
                        && *generation_expr_mode != Some(GeneratedExpressionMode::Stored)
            )
        });
        Col { name: String::new(), nullable, default, virtual_ }
    }
}

/// Tables across files, and what the current file created.
#[derive(Debug, Default)]
pub(super) struct Model {
    /// The dialect, for the names of unnamed indexes.
    dialect: Dialect,
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
    /// Indexes added by the current file: (table, index) keys.
    indexes_here: HashSet<(String, String)>,
    /// Indexes the current file dropped, as they were, with their table:
    /// by index key.
    dropped_indexes_here: HashMap<String, (String, Index)>,
    /// Foreign keys added by the current file: (table, constraint) keys.
    fks_here: HashSet<(String, String)>,
}

impl Model {
    /// An empty model for `dialect`.
    pub(super) fn new(dialect: Dialect) -> Model {
        Model { dialect, ..Model::default() }
    }

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
        self.indexes_here.clear();
        self.dropped_indexes_here.clear();
        self.fks_here.clear();
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

    /// The index `i` of table `t`, when known.
    pub(super) fn index(&self, t: &str, i: &str) -> Option<&Index> {
        self.tables.get(t).and_then(|t| t.indexes.get(i))
    }

    /// Whether the current file added index `i` to table `t`.
    pub(super) fn index_added_here(&self, t: &str, i: &str) -> bool {
        self.indexes_here.contains(&(t.to_string(), i.to_string()))
    }

    /// Index `i` of table `t` as the current file drops it: as it was when
    /// dropped, or, when the drop is still to come, as it is now.
    pub(super) fn dropped_index(&self, t: &str, i: &str) -> Option<&Index> {
        match self.dropped_indexes_here.get(i) {
            Some((table, index)) if table == t => Some(index),
            _ => self.index(t, i),
        }
    }

    /// Whether the current file added foreign key `fk` to table `t`.
    pub(super) fn fk_added_here(&self, t: &str, fk: &str) -> bool {
        self.fks_here.contains(&(t.to_string(), fk.to_string()))
    }

    /// The name of the index a `CREATE INDEX` creates: as written, or as
    /// the database names it (PostgreSQL ends even a unique one in `_idx`:
    /// `_key` is for constraints).
    pub(super) fn created_index_name(&self, ci: &CreateIndex) -> String {
        ci.name.as_ref().map_or_else(|| self.index_name(&bare(&ci.table_name), IndexKind::Plain, &ci.columns), bare)
    }

    /// The name the database gives an unnamed index of table `table` (as
    /// written) on `columns`; see [`default_index_name`].
    pub(super) fn index_name(&self, table: &str, kind: IndexKind, columns: &[IndexColumn]) -> String {
        default_index_name(self.dialect, table, kind, columns)
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
                    for (name, index) in self.column_indexes(&ct.name, c) {
                        t.indexes.insert(name, index);
                    }
                }
                for c in &ct.constraints {
                    add_fk(&mut t, &ct.name, c);
                    if let Some((name, index)) = self.constraint_index(&ct.name, c) {
                        t.indexes.insert(name, index);
                    }
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
            Statement::Drop { object_type: ObjectType::Index, names, table, .. } => {
                for n in names {
                    let i = key(n);
                    let t = match table {
                        Some(t) => Some(key(t)),
                        None => self.tables.iter().find(|(_, t)| t.indexes.contains_key(&i)).map(|(k, _)| k.clone()),
                    };
                    if let Some(t) = t {
                        self.drop_index(&t, &i);
                    }
                }
            }
            Statement::AlterIndex { name, operation: AlterIndexOperation::RenameIndex { index_name } } => {
                let (from, to) = (key(name), key(index_name));
                for (k, t) in &mut self.tables {
                    if let Some(index) = t.indexes.remove(&from) {
                        t.indexes.insert(to.clone(), index);
                        if self.indexes_here.remove(&(k.clone(), from.clone())) {
                            self.indexes_here.insert((k.clone(), to.clone()));
                        }
                    }
                }
            }
            Statement::CreateIndex(ci) => {
                let t = key(&ci.table_name);
                let name = self.created_index_name(ci).to_lowercase();
                self.add_index(&t, name, Index::of(ci.unique, &ci.columns));
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
                            for (name, index) in self.column_indexes(&at.name, column_def) {
                                self.add_index(&k, name, index);
                            }
                        }
                        AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                            let old = (k.clone(), old_column_name.value.to_lowercase());
                            let new = new_column_name.value.to_lowercase();
                            let col = self.column(&k, &old.1).map(|c| Col { name: new_column_name.value.clone(), ..c });
                            self.set_col(&k, &old.1, None);
                            self.set_col(&k, &new, col);
                            if let Some(t) = self.tables.get_mut(&k) {
                                for p in t.indexes.values_mut().flat_map(|i| i.parts.iter_mut()) {
                                    if *p == old.1 {
                                        p.clone_from(&new);
                                    }
                                }
                            }
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
                                let c = c.value.to_lowercase();
                                self.set_col(&k, &c, None);
                                // The column's indexes go with it.
                                if let Some(t) = self.tables.get_mut(&k) {
                                    t.indexes.retain(|_, i| !i.parts.contains(&c));
                                }
                            }
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            if let Some(t) = self.tables.get_mut(&k) {
                                if let Some(fk) = add_fk(t, &at.name, constraint) {
                                    self.fks_here.insert((k.clone(), fk));
                                }
                            }
                            if let Some((name, index)) = self.constraint_index(&at.name, constraint) {
                                self.add_index(&k, name, index);
                            }
                        }
                        AlterTableOperation::DropConstraint { name, .. }
                        | AlterTableOperation::DropForeignKey { name, .. } => {
                            let n = name.value.to_lowercase();
                            if let Some(t) = self.tables.get_mut(&k) {
                                t.fks.remove(&n);
                            }
                            self.fks_here.remove(&(k.clone(), n.clone()));
                            // PostgreSQL: a unique or primary-key constraint is its index.
                            self.drop_index(&k, &n);
                        }
                        AlterTableOperation::DropIndex { name } => self.drop_index(&k, &name.value.to_lowercase()),
                        AlterTableOperation::DropPrimaryKey { .. } => {
                            let pk = self.index_name(&bare(&at.name), IndexKind::Primary, &[]).to_lowercase();
                            self.drop_index(&k, &pk);
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
        for name in t.indexes.keys() {
            if self.indexes_here.remove(&(from.to_string(), name.clone())) {
                self.indexes_here.insert((to.to_string(), name.clone()));
            }
        }
        self.tables.insert(to.to_string(), t);
        if self.created_here.remove(from) {
            self.created_here.insert(to.to_string());
        }
    }

    /// Index `name` is added to table `t` by the current file. A table no
    /// file creates is known from then on by this index alone.
    fn add_index(&mut self, t: &str, name: String, index: Index) {
        self.indexes_here.insert((t.to_string(), name.clone()));
        self.tables.entry(t.to_string()).or_default().indexes.insert(name, index);
    }

    /// Index `i` of table `t` is dropped by the current file.
    fn drop_index(&mut self, t: &str, i: &str) {
        if let Some(index) = self.tables.get_mut(t).and_then(|table| table.indexes.remove(i)) {
            self.dropped_indexes_here.insert(i.to_string(), (t.to_string(), index));
        }
        self.indexes_here.remove(&(t.to_string(), i.to_string()));
    }

    /// The indexes a column definition's `UNIQUE` and `PRIMARY KEY` create
    /// on table `table`: (name key, index).
    fn column_indexes(&self, table: &ObjectName, c: &ColumnDef) -> Vec<(String, Index)> {
        let parts = [IndexColumn::from(c.name.clone())];
        c.options
            .iter()
            .filter_map(|o| {
                let kind = match o.option {
                    ColumnOption::Unique(_) => IndexKind::Unique,
                    ColumnOption::PrimaryKey(_) => IndexKind::Primary,
                    _ => return None,
                };
                let name = match (&o.name, kind, self.dialect) {
                    (_, IndexKind::Primary, Dialect::Mysql) | (None, _, _) => {
                        self.index_name(&bare(table), kind, &parts).to_lowercase()
                    }
                    (Some(n), _, _) => n.value.to_lowercase(),
                };
                Some((name, Index::of(true, &parts)))
            })
            .collect()
    }

    /// The index a table constraint creates on table `table`, if any:
    /// (name key, index).
    fn constraint_index(&self, table: &ObjectName, c: &TableConstraint) -> Option<(String, Index)> {
        let (name, kind, columns) = match c {
            TableConstraint::Unique(u) => (u.index_name.as_ref().or(u.name.as_ref()), IndexKind::Unique, &u.columns),
            TableConstraint::PrimaryKey(pk) => {
                let name = if self.dialect == Dialect::Mysql { None } else { pk.name.as_ref() };
                (name, IndexKind::Primary, &pk.columns)
            }
            TableConstraint::Index(i) => (i.name.as_ref(), IndexKind::Plain, &i.columns),
            _ => return None,
        };
        let name =
            name.map_or_else(|| self.index_name(&bare(table), kind, columns), |n| n.value.clone()).to_lowercase();
        Some((name, Index::of(kind != IndexKind::Plain, columns)))
    }
}

/// The column an index part names, if it is a column (not an expression).
pub(super) fn index_column(c: &IndexColumn) -> Option<&Ident> {
    match &c.column.expr {
        Expr::Identifier(i) => Some(i),
        Expr::CompoundIdentifier(is) => is.last(),
        _ => None,
    }
}

/// An index part: a column's key, or an expression's text, lowercase.
fn part(c: &IndexColumn) -> String {
    index_column(c).map_or_else(|| c.column.expr.to_string(), |i| i.value.clone()).to_lowercase()
}

/// The name a database gives an index of `table` (its last name part as
/// written) created without one. PostgreSQL: `<table>_<columns>_idx`,
/// `_key` for a unique constraint, `<table>_pkey` (an expression counts as
/// `expr`); MySQL: the first column's name, `PRIMARY` for the primary
/// key; the other dialects follow PostgreSQL. Not modelled: the suffixes
/// that avoid a name already taken, and PostgreSQL's 63-byte limit.
pub(super) fn default_index_name(dialect: Dialect, table: &str, kind: IndexKind, columns: &[IndexColumn]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| index_column(c).map_or("expr", |i| i.value.as_str())).collect();
    match (dialect, kind) {
        (Dialect::Mysql, IndexKind::Primary) => "PRIMARY".to_string(),
        (Dialect::Mysql, _) => names.first().map_or_else(String::new, |n| n.to_string()),
        (_, IndexKind::Primary) => format!("{table}_pkey"),
        (_, IndexKind::Unique) => format!("{table}_{}_key", names.join("_")),
        (_, IndexKind::Plain) => format!("{table}_{}_idx", names.join("_")),
    }
}

/// The new name in `RENAME TO`/`RENAME AS`.
pub(super) fn rename_target(k: &RenameTableNameKind) -> &ObjectName {
    match k {
        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
    }
}

/// Records `c` on `t` when it is a foreign key, and returns its name key.
fn add_fk(t: &mut Table, table: &ObjectName, c: &TableConstraint) -> Option<String> {
    let TableConstraint::ForeignKey(fk) = c else { return None };
    let cols: Vec<String> = fk.columns.iter().map(|i| i.value.to_lowercase()).collect();
    let name = fk.name.as_ref().map_or_else(|| default_fk_name(table, &cols), |n| n.value.to_lowercase());
    t.fks.insert(name.clone(), cols);
    Some(name)
}

/// PostgreSQL's name for an unnamed foreign key: `<table>_<columns>_fkey`.
fn default_fk_name(table: &ObjectName, cols: &[String]) -> String {
    format!("{}_{}_fkey", bare(table), cols.join("_")).to_lowercase()
}
