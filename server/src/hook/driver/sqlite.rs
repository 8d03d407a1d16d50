//! SQLite targets through sqlx, as Atlas's SQLite driver behaves: foreign
//! keys off (go-sqlite3's default) unless the URL has `_fk=1`, then
//! Atlas's check around each transaction ([`strata::plan::fk`]); the
//! revisions table in `main`, Atlas's clean check, the database's own
//! error messages.

use super::{Conn, HookError, HookErrorKind};
use crate::hook::targets::{Location, Target};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};
use strata::lex::Dialect;
use strata::plan::clean::sqlite_not_clean;
use strata::plan::fk::{sqlite_fk_mismatch, FkViolation};
use strata::plan::revision::{render_hash_list, REVISIONS_TABLE};
use strata::plan::{Revision, RevisionSql};

/// One connection to a SQLite target.
pub struct SqliteConn {
    conn: SqliteConnection,
    sql: RevisionSql,
    /// The open transaction turned foreign keys off, with these
    /// violations already present (Atlas's `OpenTx`).
    fk_tx: Option<Vec<FkViolation>>,
    /// A transaction is open.
    in_tx: bool,
}

/// The database's message of a sqlx error (what go-sqlite3 reports:
/// `sqlite3_errmsg`).
pub fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

impl SqliteConn {
    /// Opens the target; read-only for a dry run, which gets `None` when
    /// the file does not exist (nothing is created).
    pub async fn connect(target: &Target, read_only: bool) -> Result<Option<SqliteConn>, HookError> {
        let Location::Sqlite { path, foreign_keys } = &target.location else {
            return Err(HookError::new(HookErrorKind::Connect, format!("target {:?} is not SQLite", target.name())));
        };
        if read_only && !path.exists() {
            return Ok(None);
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(!read_only)
            .read_only(read_only)
            .foreign_keys(*foreign_keys);
        let conn = SqliteConnection::connect_with(&opts).await.map_err(|e| {
            HookError::new(
                HookErrorKind::Connect,
                format!(
                    "target {:?}: cannot open the SQLite database {}: {}; check the path in {} and the server's permissions",
                    target.name(),
                    path.display(),
                    message(&e),
                    target.source()
                ),
            )
        })?;
        let sql = RevisionSql::for_dialect(Dialect::Sqlite).ok_or_else(|| {
            HookError::new(HookErrorKind::Database, "the core has no revisions SQL for SQLite".into())
        })?;
        Ok(Some(SqliteConn { conn, sql, fk_tx: None, in_tx: false }))
    }

    /// `PRAGMA foreign_key_check`, as Atlas reads it.
    async fn violations(&mut self) -> Result<Vec<FkViolation>, String> {
        let wrap = |e: sqlx::Error| format!("sql/sqlite: querying 'foreign_key_check' pragma: {}", message(&e));
        let rows = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut self.conn).await.map_err(wrap)?;
        rows.iter()
            .map(|r| {
                Ok(FkViolation {
                    table: r.try_get_unchecked(0).map_err(wrap)?,
                    row: r.try_get_unchecked::<Option<i64>, _>(1).map_err(wrap)?.unwrap_or(0),
                    parent: r.try_get_unchecked(2).map_err(wrap)?,
                    index: r.try_get_unchecked(3).map_err(wrap)?,
                })
            })
            .collect()
    }

    /// Ends a transaction with `sql` (`COMMIT`, `ROLLBACK`) and, if it
    /// turned foreign keys off, turns them back on.
    async fn end(&mut self, sql: &str, fk_off: bool, res: Result<(), String>) -> Result<(), String> {
        let res = match (res, self.exec(sql).await) {
            (Ok(()), r) => r,
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(e2)) => Err(format!("{e2}: {e}")),
        };
        if !fk_off {
            return res;
        }
        match (self.exec("PRAGMA foreign_keys = on").await, res) {
            (Ok(()), r) => r,
            (Err(e2), Ok(())) => Err(format!("sql/sqlite: set 'foreign_keys = on': {e2}")),
            (Err(e2), Err(e)) => Err(format!("sql/sqlite: set 'foreign_keys = on': {e2}: {e}")),
        }
    }

    async fn strings(&mut self, sql: &'static str) -> Result<Vec<String>, String> {
        let rows = sqlx::query(sql).fetch_all(&mut self.conn).await.map_err(|e| message(&e))?;
        rows.iter().map(|r| r.try_get_unchecked::<String, _>(0).map_err(|e| message(&e))).collect()
    }
}

fn row_to_revision(r: &SqliteRow) -> Result<Revision, String> {
    super::revision_from_row(
        |i| r.try_get_unchecked::<Option<String>, _>(i).map(Option::unwrap_or_default).map_err(|e| message(&e)),
        |i| r.try_get_unchecked::<Option<i64>, _>(i).map(Option::unwrap_or_default).map_err(|e| message(&e)),
    )
}

impl Conn for SqliteConn {
    async fn exec(&mut self, sql: &str) -> Result<(), String> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut self.conn).await.map(|_| ()).map_err(|e| message(&e))
    }

    /// Atlas's SQLite `OpenTx`: with foreign keys on, turns them off for
    /// the transaction and notes the violations already there.
    async fn begin(&mut self) -> Result<(), String> {
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| format!("sql/sqlite: querying 'foreign_keys' pragma: {}", message(&e)))?;
        if on != 0 {
            self.exec("PRAGMA foreign_keys = off")
                .await
                .map_err(|e| format!("sql/sqlite: set 'foreign_keys = off': {e}"))?;
        }
        self.exec("BEGIN").await?;
        self.in_tx = true;
        self.fk_tx = if on != 0 { Some(self.violations().await?) } else { None };
        Ok(())
    }

    /// Atlas's SQLite commit: fails (and rolls back) if the transaction
    /// added foreign-key violations.
    async fn commit(&mut self) -> Result<(), String> {
        let Some(before) = self.fk_tx.take() else {
            // A failed COMMIT leaves the transaction open for the rollback.
            let r = self.exec("COMMIT").await;
            self.in_tx = r.is_err();
            return r;
        };
        // Either way the transaction ends here (rolled back on a mismatch).
        self.in_tx = false;
        match self.violations().await {
            Err(e) => self.end("ROLLBACK", true, Err(e)).await,
            Ok(after) => match sqlite_fk_mismatch(&before, &after) {
                Some(e) => self.end("ROLLBACK", true, Err(e)).await,
                None => self.end("COMMIT", true, Ok(())).await,
            },
        }
    }

    /// A no-op when no transaction is open (a failed commit rolled back).
    async fn rollback(&mut self) -> Result<(), String> {
        if !std::mem::take(&mut self.in_tx) {
            return Ok(());
        }
        let fk_off = self.fk_tx.take().is_some();
        self.end("ROLLBACK", fk_off, Ok(())).await
    }

    async fn upsert(&mut self, r: &Revision) -> Result<(), String> {
        super::bind_revision(
            sqlx::query(self.sql.upsert),
            r,
            r.executed_at.as_str(),
            render_hash_list(r.partial_hashes.as_deref()),
        )?
        .execute(&mut self.conn)
        .await
        .map(|_| ())
        .map_err(|e| message(&e))
    }

    async fn create_revisions_table(&mut self) -> Result<(), String> {
        let sql = self.sql.create_table;
        self.exec(sql).await
    }

    async fn revisions(&mut self) -> Result<(Vec<Revision>, bool), String> {
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(REVISIONS_TABLE)
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| message(&e))?;
        if exists == 0 {
            return Ok((Vec::new(), true));
        }
        let rows = sqlx::query(self.sql.select).fetch_all(&mut self.conn).await.map_err(|e| message(&e))?;
        Ok((rows.iter().map(row_to_revision).collect::<Result<_, _>>()?, false))
    }

    async fn not_clean(&mut self) -> Result<Option<String>, String> {
        let schemas = self.strings("SELECT `name` FROM pragma_database_list() WHERE `name` <> 'temp'").await?;
        let tables = self
            .strings(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%'",
            )
            .await?;
        let mut tables = tables;
        // Before the table exists (a dry run, a preview), count it as the
        // real run will have it: created first, then checked.
        if !tables.iter().any(|t| t == REVISIONS_TABLE) {
            tables.push(REVISIONS_TABLE.to_string());
        }
        Ok(sqlite_not_clean(&schemas, &tables))
    }
}

/// A SQLite file that does not exist yet, for a dry run: an empty, clean
/// database with no revisions table. Nothing can be written to it.
pub struct Missing;

impl Conn for Missing {
    async fn exec(&mut self, _: &str) -> Result<(), String> {
        Err("a dry run writes nothing".into())
    }

    async fn upsert(&mut self, _: &Revision) -> Result<(), String> {
        Err("a dry run writes nothing".into())
    }

    async fn create_revisions_table(&mut self) -> Result<(), String> {
        Err("a dry run writes nothing".into())
    }

    async fn revisions(&mut self) -> Result<(Vec<Revision>, bool), String> {
        Ok((Vec::new(), true))
    }

    async fn not_clean(&mut self) -> Result<Option<String>, String> {
        Ok(None)
    }
}
