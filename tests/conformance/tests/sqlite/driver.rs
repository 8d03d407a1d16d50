//! A SQLite driver for the strata core over rusqlite, behaving like Atlas's
//! SQLite driver (`sql/sqlite/driver.go`) where the conformance cases can
//! see it:
//!
//! * the revisions table is created, read and written with the core's
//!   [`RevisionSql`] (upsert binds in [`REVISION_COLUMNS`] order);
//! * the clean check gives Atlas's reasons (`CheckClean`, the core's
//!   `strata::plan::clean`);
//! * transactions are Atlas's `OpenTx`: with foreign keys on, they are
//!   turned off before `BEGIN`, `PRAGMA foreign_key_check` runs at the
//!   start and again before `COMMIT`, and new violations fail the commit
//!   with `sql/sqlite: foreign key mismatch: [...]` (then roll back); the
//!   pragma is turned back on afterwards.
//!
//! [`Driver::run`] is the loop every strata driver has: `next()`, do it,
//! `record(outcome, now)`.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use std::time::{SystemTime, UNIX_EPOCH};
use strata::lex::Dialect;
use strata::plan::clean::sqlite_not_clean;
use strata::plan::fk::{sqlite_fk_mismatch, FkViolation};
use strata::plan::revision::{parse_hash_list, render_hash_list, REVISIONS_TABLE, REVISION_COLUMNS};
use strata::plan::{Executor, Outcome, Revision, RevisionSql, RevisionType, Step, Timestamp};

/// The current time, nanoseconds since the Unix epoch.
pub fn now() -> Timestamp {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The text of a rusqlite error as the database reported it (what
/// go-sqlite3's `Error()` gives: `sqlite3_errmsg`).
pub fn db_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(err, msg) => msg.clone().unwrap_or_else(|| err.to_string()),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// Go's `%q` for the short identifiers used in messages (ASCII escapes as
/// Go writes them; printable Unicode kept).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An open transaction, as Atlas's SQLite `OpenTx` keeps it.
#[derive(Debug)]
struct Tx {
    /// Foreign keys were on (and were turned off for the transaction).
    fk_on: bool,
    /// Violations present when the transaction started.
    before: Vec<FkViolation>,
}

/// The driver: one connection, and the transaction state.
pub struct Driver<'c> {
    /// The connection.
    pub conn: &'c Connection,
    sql: RevisionSql,
    tx: Option<Tx>,
    /// Every statement the executor sent, for failure messages.
    pub log: Vec<String>,
}

impl<'c> Driver<'c> {
    /// A driver on `conn`.
    pub fn new(conn: &'c Connection) -> Result<Driver<'c>, String> {
        let sql = RevisionSql::for_dialect(Dialect::Sqlite).ok_or("no revision SQL for SQLite")?;
        Ok(Driver { conn, sql, tx: None, log: Vec::new() })
    }

    /// Runs one statement (or a batch) and returns the database's message
    /// on failure.
    pub fn exec(&self, sql: &str) -> Result<(), String> {
        self.conn.execute_batch(sql).map_err(|e| db_message(&e))
    }

    /// Whether `atlas_schema_revisions` exists.
    pub fn revisions_table_exists(&self) -> Result<bool, String> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [REVISIONS_TABLE],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| db_message(&e))
    }

    /// Creates the revisions table if it does not exist (Atlas's ent
    /// auto-migration).
    pub fn migrate_revisions_table(&self) -> Result<(), String> {
        self.exec(self.sql.create_table)
    }

    /// Reads every revision, ordered by version.
    pub fn read_revisions(&self) -> Result<Vec<Revision>, String> {
        let mut stmt = self.conn.prepare(self.sql.select).map_err(|e| db_message(&e))?;
        let mut rows = stmt.query([]).map_err(|e| db_message(&e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| db_message(&e))? {
            let mut v = Vec::with_capacity(REVISION_COLUMNS.len());
            for i in 0..REVISION_COLUMNS.len() {
                v.push(row.get::<_, SqlValue>(i).map_err(|e| db_message(&e))?);
            }
            out.push(revision_from_row(&v)?);
        }
        Ok(out)
    }

    /// Reads the revisions if the table exists, else none.
    pub fn read_revisions_if_any(&self) -> Result<Vec<Revision>, String> {
        if self.revisions_table_exists()? {
            self.read_revisions()
        } else {
            Ok(Vec::new())
        }
    }

    /// Atlas's upsert of one revision.
    pub fn upsert(&self, r: &Revision) -> Result<(), String> {
        let hashes = render_hash_list(r.partial_hashes.as_deref());
        let params: [SqlValue; 12] = [
            SqlValue::Text(r.version.clone()),
            SqlValue::Text(r.description.clone()),
            SqlValue::Integer(i64::try_from(r.kind.0).map_err(|_| "type out of range")?),
            SqlValue::Integer(i64::try_from(r.applied).map_err(|_| "applied out of range")?),
            SqlValue::Integer(i64::try_from(r.total).map_err(|_| "total out of range")?),
            SqlValue::Text(r.executed_at.clone()),
            SqlValue::Integer(r.execution_time),
            SqlValue::Text(r.error.clone()),
            SqlValue::Text(r.error_stmt.clone()),
            SqlValue::Text(r.hash.clone()),
            hashes.map_or(SqlValue::Null, SqlValue::Text),
            SqlValue::Text(r.operator_version.clone()),
        ];
        self.conn
            .execute(self.sql.upsert, rusqlite::params_from_iter(params.iter()))
            .map(|_| ())
            .map_err(|e| db_message(&e))
    }

    /// Deletes one revision (`migrate set`).
    pub fn delete(&self, version: &str) -> Result<(), String> {
        self.conn.execute(self.sql.delete, [version]).map(|_| ()).map_err(|e| db_message(&e))
    }

    /// Atlas's SQLite `CheckClean`, ignoring the revisions table: `None`
    /// when clean, else the reason (the core's [`sqlite_not_clean`]).
    pub fn not_clean(&self) -> Result<Option<String>, String> {
        let schemas = self.query_strings("SELECT `name` FROM pragma_database_list() WHERE `name` <> 'temp'")?;
        let tables = self.query_strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%'",
        )?;
        Ok(sqlite_not_clean(&schemas, &tables))
    }

    /// The first column of every row of `sql`, as text.
    pub fn query_strings(&self, sql: &str) -> Result<Vec<String>, String> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| db_message(&e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| db_message(&e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| db_message(&e))
    }

    fn violations(&self) -> Result<Vec<FkViolation>, String> {
        let wrap = |e: rusqlite::Error| format!("sql/sqlite: querying 'foreign_key_check' pragma: {}", db_message(&e));
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check").map_err(wrap)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FkViolation {
                    table: r.get(0)?,
                    row: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    parent: r.get(2)?,
                    index: r.get(3)?,
                })
            })
            .map_err(wrap)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(wrap)
    }

    fn enable_fk(&self, on: bool, res: Result<(), String>) -> Result<(), String> {
        if !on {
            return res;
        }
        match (self.exec("PRAGMA foreign_keys = on"), res) {
            (Ok(()), r) => r,
            (Err(e2), Ok(())) => Err(format!("sql/sqlite: set 'foreign_keys = on': {e2}")),
            (Err(e2), Err(e)) => Err(format!("sql/sqlite: set 'foreign_keys = on': {e2}: {e}")),
        }
    }

    /// Atlas's SQLite `OpenTx`.
    pub fn begin(&mut self) -> Result<(), String> {
        if self.tx.is_some() {
            return Err("driver: a transaction is already open".into());
        }
        let on: bool = self
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
            .map(|n| n != 0)
            .map_err(|e| format!("sql/sqlite: querying 'foreign_keys' pragma: {}", db_message(&e)))?;
        if on {
            self.exec("PRAGMA foreign_keys = off").map_err(|e| format!("sql/sqlite: set 'foreign_keys = off': {e}"))?;
        }
        self.exec("BEGIN")?;
        let before = if on { self.violations()? } else { Vec::new() };
        self.tx = Some(Tx { fk_on: on, before });
        Ok(())
    }

    /// Atlas's SQLite commit: the foreign-key check, then `COMMIT`.
    pub fn commit(&mut self) -> Result<(), String> {
        let Some(tx) = self.tx.take() else { return Err("driver: no transaction to commit".into()) };
        if tx.fk_on {
            match self.violations() {
                Err(e) => {
                    let e = match self.exec("ROLLBACK") {
                        Ok(()) => e,
                        Err(e2) => format!("{e2}: {e}"),
                    };
                    return self.enable_fk(true, Err(e));
                }
                Ok(after) => {
                    if let Some(mut e) = sqlite_fk_mismatch(&tx.before, &after) {
                        if let Err(e2) = self.exec("ROLLBACK") {
                            e = format!("{e2}: {e}");
                        }
                        return self.enable_fk(true, Err(e));
                    }
                }
            }
        }
        let res = self.exec("COMMIT");
        self.enable_fk(tx.fk_on, res)
    }

    /// Atlas's SQLite rollback; a no-op when no transaction is open (the
    /// commit already rolled back).
    pub fn rollback(&mut self) -> Result<(), String> {
        let Some(tx) = self.tx.take() else { return Ok(()) };
        let res = self.exec("ROLLBACK");
        self.enable_fk(tx.fk_on, res)
    }

    /// Closes an open transaction the way closing Atlas's client does
    /// (SQLite rolls back an unfinished transaction).
    pub fn close(&mut self) -> Result<(), String> {
        self.rollback()
    }

    /// Does one executor step.
    pub fn step(&mut self, step: Step<'_>) -> Outcome {
        let res = match step {
            Step::Begin => {
                self.log.push("BEGIN".into());
                self.begin()
            }
            Step::Execute { sql, .. } => {
                self.log.push(sql.to_string());
                self.exec(sql)
            }
            Step::WriteRevision(r) => {
                self.log.push(format!("-- write revision {} ({}/{})", r.version, r.applied, r.total));
                self.upsert(r)
            }
            Step::Commit => {
                self.log.push("COMMIT".into());
                self.commit()
            }
            Step::Rollback => {
                self.log.push("ROLLBACK".into());
                self.rollback()
            }
            Step::Done => Ok(()),
        };
        match res {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Err(e),
        }
    }

    /// The driver loop: `next()`, do it, `record(outcome, now)`.
    pub fn run(&mut self, ex: &mut Executor) -> Result<(), String> {
        for _ in 0..1_000_000 {
            let step = ex.next();
            if step == Step::Done {
                return Ok(());
            }
            let outcome = self.step(step);
            ex.record(outcome, now());
        }
        Err("the executor did not reach Done within 1000000 steps".into())
    }
}

fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Null => String::new(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => f.to_string(),
        SqlValue::Text(s) => s.clone(),
        SqlValue::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn int(v: &SqlValue, col: &str) -> Result<i64, String> {
    match v {
        SqlValue::Null => Ok(0),
        SqlValue::Integer(i) => Ok(*i),
        SqlValue::Text(s) => s.trim().parse().map_err(|_| format!("column {col}: {s:?} is not an integer")),
        other => Err(format!("column {col}: unexpected {other:?}")),
    }
}

fn uint(v: &SqlValue, col: &str) -> Result<u64, String> {
    u64::try_from(int(v, col)?).map_err(|_| format!("column {col} is negative"))
}

/// A revision from the twelve columns of [`RevisionSql::select`].
fn revision_from_row(v: &[SqlValue]) -> Result<Revision, String> {
    Ok(Revision {
        version: text(&v[0]),
        description: text(&v[1]),
        kind: RevisionType(uint(&v[2], "type")?),
        applied: uint(&v[3], "applied")?,
        total: uint(&v[4], "total")?,
        executed_at: text(&v[5]),
        execution_time: int(&v[6], "execution_time")?,
        error: text(&v[7]),
        error_stmt: text(&v[8]),
        hash: text(&v[9]),
        partial_hashes: match &v[10] {
            SqlValue::Null => None,
            other => parse_hash_list(&text(other))?,
        },
        operator_version: text(&v[11]),
    })
}
