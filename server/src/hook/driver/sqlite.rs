//! SQLite targets through sqlx, as Atlas's SQLite driver behaves: foreign
//! keys off (go-sqlite3's default), the revisions table in `main`, Atlas's
//! clean check, the database's own error messages.

use super::{Conn, HookError, HookErrorKind};
use crate::hook::targets::{Location, Target};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};
use strata::lex::Dialect;
use strata::plan::clean::sqlite_not_clean;
use strata::plan::revision::{render_hash_list, REVISIONS_TABLE};
use strata::plan::{Revision, RevisionSql};

/// One connection to a SQLite target.
pub struct SqliteConn {
    conn: SqliteConnection,
    sql: RevisionSql,
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
        let Location::Sqlite { path } = &target.location else {
            return Err(HookError::new(HookErrorKind::Connect, format!("target {:?} is not SQLite", target.name())));
        };
        if read_only && !path.exists() {
            return Ok(None);
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(!read_only)
            .read_only(read_only)
            .foreign_keys(false);
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
        Ok(Some(SqliteConn { conn, sql }))
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
