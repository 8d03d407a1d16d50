//! Lint: Atlas's open-source analyzers and PostgreSQL locking checks over
//! sqlparser's AST (cargo feature `lint`).
//!
//! [`lint`] reads a [`Directory`] in order. Files named in `new_files` are
//! analysed; the others only feed a small schema model (table names, their
//! columns, indexes and foreign keys) so that the analyzers know which tables
//! already exist when a new file runs. A table that no file of the directory
//! creates is assumed to exist already (it predates the directory).
//!
//! Statements are split by the core's splitter ([`MigrationFile::statements`],
//! identical to Atlas's), never by sqlparser; each statement is then parsed
//! with sqlparser's dialect for the directory's [`Dialect`]. A statement
//! sqlparser cannot parse is reported in [`LintReport::unparsed`] as a
//! warning and the run goes on; a file that cannot be split is one finding.
//!
//! Unlike Atlas, strata does not replay the files on a dev database: the
//! analyzers read the SQL, so what they know of the schema is what the
//! files say.
//!
//! Codes:
//!
//! | code | analyzer | what |
//! |---|---|---|
//! | DS101 | `destructive` | `DROP SCHEMA` (error) |
//! | DS102 | `destructive` | `DROP TABLE`, unless the table was created in the same file or its schema is dropped there (error) |
//! | DS103 | `destructive` | `DROP COLUMN`, unless the column (or table) was added in the same file or is a virtual generated column (error) |
//! | MF101 | `data_depend` | a unique index or constraint on columns of an existing table, unless the file drops a unique index of the table covering the same columns (a rebuild) |
//! | MF102 | `data_depend` | an existing non-unique index made unique: dropped and added back `UNIQUE` under the same name in one statement (MySQL's `ALTER TABLE t DROP INDEX i, ADD UNIQUE INDEX i (...)`); in two statements it is MF101, as in Atlas, which diffs after each statement |
//! | MF103 | `data_depend` | a `NOT NULL` column without default added to an existing table (not MySQL: Atlas reports MY101 there) |
//! | MF104 | `data_depend` | a nullable column of an existing table made `NOT NULL`: PostgreSQL's `SET NOT NULL` (unless the files show it already NOT NULL; PG303 too), MySQL's `MODIFY`/`CHANGE` when the files show the column nullable |
//! | MY101 | `data_depend` | MySQL: a `NOT NULL` column without default (nor `AUTO_INCREMENT`) added to an existing table; numeric (`0`) and string (`""`) types only |
//! | MY102 | `inline_references` | MySQL: a column defined with inline `REFERENCES`, which MySQL ignores (warning, never an error) |
//! | LT101 | `data_depend` | SQLite's table copy (`ALTER TABLE new RENAME TO t` after `DROP TABLE t` in the file) making a column nullable in the old `t` `NOT NULL` without default |
//! | BC101 | `incompatible` | a table renamed, unless a view with the old name is created later in the file |
//! | BC102 | `incompatible` | a column renamed (`RENAME COLUMN`, MySQL's `CHANGE` to another name), unless the file adds a column of the old name back |
//! | CD101 | `condrop` | a foreign key dropped (MySQL's `DROP FOREIGN KEY`, or `DROP CONSTRAINT` of a foreign key the files created), unless the statement drops one of its columns or the file added it |
//! | PG101 | `pg_locking` | `CREATE INDEX` without `CONCURRENTLY` on an existing table |
//! | PG103 | `pg_locking` | `CREATE INDEX CONCURRENTLY` in a file that runs in a transaction (no `-- atlas:txmode none`) |
//! | PG301 | `pg_locking` | a column's type changed on an existing table |
//! | PG302 | `pg_locking` | a column added to an existing table with a volatile default (or a serial type) |
//! | PG303 | `pg_locking` | `SET NOT NULL` on an existing table |
//! | PG305 | `pg_locking` | a `CHECK` constraint added to an existing table without `NOT VALID` |
//! | PG306 | `pg_locking` | a `FOREIGN KEY` added to an existing table without `NOT VALID` |
//! | PG901 | `pg_locking` | a table or column of an existing table renamed |
//! | ST001 | `parse` | a statement sqlparser cannot parse (in [`LintReport::unparsed`]) |
//! | ST002 | `split` | a file that cannot be split into statements (error) |
//!
//! Unnamed indexes go by the name their database gives them
//! (PostgreSQL's `<table>_<columns>_idx`/`_key`, MySQL's first column).
//!
//! The DS, MF, MY, LT, BC and CD codes and their texts are Atlas's (spec §7.3); the
//! PG1xx and PG3xx codes follow the numbering of Atlas's commercial
//! PostgreSQL analyzers (spec §7.4) with strata's own texts; PG9xx and ST
//! codes are strata's own. The `pg_locking` checks run for the `postgres`
//! dialect only.
//!
//! `-- atlas:nolint [codes or analyzer names]` is honoured as Atlas does
//! (spec §7.2): a bare `atlas:nolint` file header skips the file; header
//! arguments apply to every statement of the file; statement directives
//! add to them; a finding is dropped when the statement's list is exactly
//! one empty rule (bare), or names its code or its analyzer.
//!
//! ```
//! use strata::dir::Directory;
//! use strata::lex::Dialect;
//!
//! let dir = Directory::new([
//!     ("1_init.sql", b"CREATE TABLE users (id int, name text);\n".to_vec()),
//!     ("2_drop.sql", b"ALTER TABLE users DROP COLUMN name;\n".to_vec()),
//! ])?;
//! let report = strata::lint::lint(&dir, &["2_drop.sql"], Dialect::Postgres);
//! assert_eq!(report.findings[0].code, "DS103");
//! assert_eq!(report.findings[0].message, r#"Dropping non-virtual column "name""#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::dir::{Directory, MigrationFile};
use crate::lex::{Dialect, Stmt};
use crate::plan::{tx_mode_for, TxMode};
use serde::Serialize;
use sqlparser::ast::{AlterTable, AlterTableOperation, Ident, ObjectName, ObjectType, Statement};
use sqlparser::parser::{Parser, ParserError};

mod condrop;
mod datadepend;
mod destructive;
mod incompatible;
mod inlineref;
mod model;
mod pglock;
pub(crate) mod render;
#[cfg(test)]
mod tests;

use model::Model;

/// How serious a finding is. As in Atlas, destructive changes are errors by
/// default and the other analyzers warn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The change loses data (or the file cannot be read): fail the check.
    Error,
    /// The change may fail, lock, or break clients: review it.
    Warning,
}

/// One diagnostic about one statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable code, e.g. `DS102` (see the module docs).
    pub code: String,
    /// The analyzer that reported it, e.g. `destructive`; `atlas:nolint`
    /// accepts it as well as the code.
    pub analyzer: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The migration file.
    pub file: String,
    /// The 1-based line of the statement in the file (for an unparsable
    /// statement, the line sqlparser stopped at).
    pub line: usize,
    /// The statement's text.
    pub statement: String,
    /// What is wrong: Atlas's text for Atlas's codes.
    pub message: String,
    /// One line: how to fix it, or how to proceed safely.
    pub hint: String,
}

/// What [`lint`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// The analyzers' findings, in file and line order.
    pub findings: Vec<Finding>,
    /// Statements sqlparser could not parse (code `ST001`, warnings): they
    /// were not analysed, and the run went on.
    pub unparsed: Vec<Finding>,
}

impl LintReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

/// A diagnostic before it is placed: what an analyzer reports.
pub(crate) struct Diag {
    code: &'static str,
    analyzer: &'static str,
    severity: Severity,
    message: String,
    hint: String,
}

impl Diag {
    /// A warning.
    fn warn(code: &'static str, analyzer: &'static str, message: String, hint: &str) -> Diag {
        Diag { code, analyzer, severity: Severity::Warning, message, hint: hint.to_string() }
    }

    /// An error.
    fn error(code: &'static str, analyzer: &'static str, message: String, hint: &str) -> Diag {
        Diag { code, analyzer, severity: Severity::Error, message, hint: hint.to_string() }
    }
}

/// What the analyzers see besides the statement: the dialect, the file's
/// transaction mode, the schema model and what this file did so far.
pub(crate) struct Ctx {
    dialect: Dialect,
    /// Whether the file runs inside a transaction (its tx mode is not `none`).
    in_tx: bool,
    model: Model,
    /// Schemas this file drops (any statement): their tables' drops are not
    /// reported separately (DS102).
    dropped_schemas: Vec<String>,
    /// Views this file creates: (statement index, name key).
    views: Vec<(usize, String)>,
    /// Indexes this file drops (any statement), by name key.
    dropped_indexes: Vec<String>,
    /// Columns this file adds: (statement index, table key, column key).
    added_columns: Vec<(usize, String, String)>,
    /// The index of the statement being analysed in its file.
    index: usize,
}

impl Ctx {
    /// Whether table `key` existed before this file: created by an earlier
    /// file, or by no file of the directory.
    fn existing(&self, key: &str) -> bool {
        self.model.existing(key)
    }
}

/// The lookup key of a table (or schema) name: its last part, lowercase.
fn key(name: &ObjectName) -> String {
    bare(name).to_lowercase()
}

/// The last part of a name as written, without quotes: what Atlas prints.
fn bare(name: &ObjectName) -> String {
    name.0.last().and_then(|p| p.as_ident()).map_or_else(|| name.to_string(), |i| i.value.clone())
}

/// The schema part of a qualified name (`s.t` → `s`), lowercase.
fn schema_of(name: &ObjectName) -> Option<String> {
    let n = name.0.len();
    if n < 2 {
        return None;
    }
    name.0.get(n - 2).and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase())
}

/// The columns an `ALTER TABLE` drops, in order.
fn dropped_columns(at: &AlterTable) -> impl Iterator<Item = &Ident> {
    at.operations
        .iter()
        .filter_map(|op| match op {
            AlterTableOperation::DropColumn { column_names, .. } => Some(column_names),
            _ => None,
        })
        .flatten()
}

/// Go's `%q` of each name, joined as Atlas lists them: `"a"`, `"a" and "b"`,
/// `"a", "b" and "c"`.
fn and_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| crate::text::go_quote(n)).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// sqlparser's dialect for ours.
fn parser_dialect(d: Dialect) -> Box<dyn sqlparser::dialect::Dialect> {
    use sqlparser::dialect as sd;
    match d {
        Dialect::Generic => Box::new(sd::GenericDialect {}),
        Dialect::Mysql => Box::new(sd::MySqlDialect {}),
        Dialect::Postgres => Box::new(sd::PostgreSqlDialect {}),
        Dialect::Sqlite => Box::new(sd::SQLiteDialect {}),
        Dialect::Sqlserver => Box::new(sd::MsSqlDialect {}),
    }
}

/// Whether a statement may change the schema, by its first word: only
/// these are parsed for the model (`CREATE`, `ALTER`, `DROP`, `RENAME`).
/// Data statements, the bulk of large files, are parsed only in the files
/// being analysed.
fn may_change_schema(text: &str) -> bool {
    let word = text.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    ["CREATE", "ALTER", "DROP", "RENAME"].iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// What a file does that its statements' analyzers look ahead at:
/// schemas and indexes it drops, views it creates, columns it adds.
#[derive(Default)]
struct FileFacts {
    dropped_schemas: Vec<String>,
    /// (statement index, view key).
    views: Vec<(usize, String)>,
    dropped_indexes: Vec<String>,
    /// (statement index, table key, column).
    added_columns: Vec<(usize, String, String)>,
}

impl FileFacts {
    /// Notes what statement `i` of the file does.
    fn note(&mut self, i: usize, s: &Statement) {
        match s {
            Statement::Drop { object_type: ObjectType::Schema, names, .. } => {
                self.dropped_schemas.extend(names.iter().map(key));
            }
            Statement::Drop { object_type: ObjectType::Index, names, .. } => {
                self.dropped_indexes.extend(names.iter().map(key));
            }
            Statement::AlterTable(at) => {
                for op in &at.operations {
                    match op {
                        AlterTableOperation::DropIndex { name } | AlterTableOperation::DropConstraint { name, .. } => {
                            self.dropped_indexes.push(name.value.to_lowercase());
                        }
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            let c = column_def.name.value.to_lowercase();
                            self.added_columns.push((i, key(&at.name), c));
                        }
                        _ => {}
                    }
                }
            }
            Statement::CreateView(v) => self.views.push((i, key(&v.name))),
            _ => {}
        }
    }
}

/// Lints the files `new_files` of `dir` (by name; names not in the
/// directory are ignored). The files before them are the existing schema.
/// Never fails: what cannot be split or parsed becomes a finding.
///
/// Memory stays proportional to the directory's text, not to its ASTs
/// (kilobytes a statement): each statement is parsed, used and dropped,
/// once for the model of which tables the directory creates (schema
/// changes only) and once in order for the analyzers.
pub fn lint(dir: &Directory, new_files: &[&str], dialect: Dialect) -> LintReport {
    let pd = parser_dialect(dialect);
    let parse = |text: &str| Parser::parse_sql(&*pd, text);
    let new_files: std::collections::HashSet<&str> = new_files.iter().copied().collect();
    let files: Vec<(&MigrationFile, Result<Vec<Stmt<'_>>, crate::dir::DirError>)> =
        dir.files().iter().map(|f| (f, f.statements(dialect))).collect();
    // First pass: which tables each file creates (a table no file creates
    // predates the directory), and what the analysed files do further on.
    let mut model = Model::new(dialect);
    let mut facts: Vec<FileFacts> = Vec::with_capacity(files.len());
    for (f, stmts) in &files {
        let analyse = new_files.contains(f.name());
        let mut ff = FileFacts::default();
        for (i, st) in stmts.iter().flatten().enumerate().filter(|(_, st)| may_change_schema(st.text)) {
            for s in parse(st.text).iter().flatten() {
                model.note_created(s);
                if analyse {
                    ff.note(i, s);
                }
            }
        }
        facts.push(ff);
    }
    let mut cx = Ctx {
        dialect,
        in_tx: true,
        model,
        dropped_schemas: Vec::new(),
        views: Vec::new(),
        dropped_indexes: Vec::new(),
        added_columns: Vec::new(),
        index: 0,
    };
    let mut report = LintReport::default();
    for ((f, stmts), ff) in files.iter().zip(facts) {
        cx.model.start_file();
        let analyse = new_files.contains(f.name());
        let file_nolint = f.directive("nolint");
        // A bare `atlas:nolint` header (and only one) skips the file.
        let skip = file_nolint.len() == 1 && file_nolint[0].is_empty();
        let stmts = match stmts {
            Ok(s) => s,
            Err(e) => {
                if analyse && !skip {
                    let (line, column) = e.position().unwrap_or((1, 1));
                    report.findings.push(Finding {
                        code: "ST002".into(),
                        analyzer: "split",
                        severity: Severity::Error,
                        file: f.name().to_string(),
                        line,
                        statement: String::new(),
                        message: format!("cannot split the file into statements at line {line}, column {column}: {e}"),
                        hint: e.hint(),
                    });
                }
                continue;
            }
        };
        let check = analyse && !skip;
        if check {
            cx.in_tx = !matches!(tx_mode_for(f, TxMode::File), Ok(TxMode::None));
            cx.dropped_schemas = ff.dropped_schemas;
            cx.views = ff.views;
            cx.dropped_indexes = ff.dropped_indexes;
            cx.added_columns = ff.added_columns;
        }
        let file_rules: Vec<String> = file_nolint.iter().flat_map(|d| d.split(' ')).map(str::to_string).collect();
        for (i, st) in stmts.iter().enumerate() {
            cx.index = i;
            // Outside the analysed files only schema changes matter (the model).
            if !check && !may_change_schema(st.text) {
                continue;
            }
            let statements = match parse(st.text) {
                Ok(a) => a,
                Err(e) => {
                    if check {
                        let rules = rules_for(&file_rules, st);
                        let u = unparsed(f, st, &e, dialect);
                        if !suppressed(&rules, &u.code, u.analyzer) {
                            report.unparsed.push(u);
                        }
                    }
                    continue;
                }
            };
            for s in &statements {
                if check {
                    let mut diags = Vec::new();
                    destructive::check(&cx, s, &mut diags);
                    datadepend::check(&cx, s, &mut diags);
                    incompatible::check(&cx, s, &mut diags);
                    condrop::check(&cx, s, &mut diags);
                    inlineref::check(&cx, s, &mut diags);
                    if dialect == Dialect::Postgres {
                        pglock::check(&cx, s, &mut diags);
                    }
                    if !diags.is_empty() {
                        let rules = rules_for(&file_rules, st);
                        for d in diags.into_iter().filter(|d| !suppressed(&rules, d.code, d.analyzer)) {
                            report.findings.push(Finding {
                                code: d.code.to_string(),
                                analyzer: d.analyzer,
                                severity: d.severity,
                                file: f.name().to_string(),
                                line: st.line,
                                statement: st.text.to_string(),
                                message: d.message,
                                hint: d.hint,
                            });
                        }
                    }
                }
                cx.model.apply(s);
            }
        }
    }
    report
}

/// The nolint rules of a statement: the file header's, then its own
/// (each directive's arguments split on single spaces, as Atlas does).
fn rules_for(file_rules: &[String], stmt: &Stmt<'_>) -> Vec<String> {
    let mut rules = file_rules.to_vec();
    for d in stmt.directive("nolint") {
        rules.extend(d.split(' ').map(str::to_string));
    }
    rules
}

/// Whether `rules` drop a finding of `code` by `analyzer` (spec §7.2).
fn suppressed(rules: &[String], code: &str, analyzer: &str) -> bool {
    matches!(rules, [only] if only.is_empty()) || rules.iter().any(|r| r == code || r == analyzer)
}

/// The ST001 warning for a statement sqlparser could not parse, with the
/// position of the error in the file.
fn unparsed(f: &MigrationFile, stmt: &Stmt<'_>, e: &ParserError, dialect: Dialect) -> Finding {
    let text = e.to_string();
    let text = text.strip_prefix("sql parser error: ").unwrap_or(&text);
    // sqlparser ends its messages with " at Line: L, Column: C", relative to
    // the statement: turn that into the file's line and column.
    let (what, line, column) = match text.rsplit_once(" at Line: ").and_then(|(what, pos)| {
        let (l, c) = pos.split_once(", Column: ")?;
        Some((what, l.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?))
    }) {
        Some((what, l, c)) if l >= 1 => {
            let line = stmt.line + l - 1;
            let column = if l == 1 { start_column(f.bytes(), stmt.start) + c.saturating_sub(1) } else { c };
            (what.to_string(), line, Some(column))
        }
        _ => (text.to_string(), stmt.line, None),
    };
    let at = column.map_or_else(|| format!("line {line}"), |c| format!("line {line}, column {c}"));
    Finding {
        code: "ST001".into(),
        analyzer: "parse",
        severity: Severity::Warning,
        file: f.name().to_string(),
        line,
        statement: stmt.text.to_string(),
        message: format!("Statement not analysed: sqlparser ({dialect}) cannot parse it at {at}: {what}"),
        hint: format!(
            "check the statement's {dialect} syntax; if it is valid, review it by hand (or add '-- atlas:nolint ST001' above it)"
        ),
    }
}

/// The 1-based column of byte `offset` in `bytes`.
fn start_column(bytes: &[u8], offset: usize) -> usize {
    let before = bytes.get(..offset).unwrap_or(bytes);
    offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1
}
