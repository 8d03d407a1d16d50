//! The metadata database: one pool of `sqlx::Any` connections to SQLite or
//! PostgreSQL, its schema (created and upgraded at open), and the write
//! transactions.
//!
//! Every query is written once, with `$N` placeholders, which both drivers
//! bind. Where the dialects differ (column types of the schema, row locks)
//! the difference is a fragment spliced into the one text.

use super::StoreError;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction};
use std::time::Duration;

/// Which database the metadata lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The metadata database.
pub(crate) struct Db {
    /// Reads (and, on PostgreSQL, writes too).
    read: AnyPool,
    /// Writes. On SQLite a single connection, so that the writers of one
    /// process queue here instead of spinning on the file lock; other
    /// processes are waited for by SQLite's busy timeout.
    write: AnyPool,
    pub(crate) backend: Backend,
}

/// How long SQLite waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// How many times a transaction that lost a race (a serialization failure,
/// a deadlock, a locked SQLite file) is run again.
pub(crate) const MAX_ATTEMPTS: u32 = 20;

impl Db {
    pub(crate) async fn open(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError(format!(
                "metadata URL {:?} is neither sqlite://PATH nor postgres://...: \
                 use sqlite://PATH for an embedded database or a PostgreSQL URL",
                redact(url)
            )));
        };
        let db = match backend {
            Backend::Postgres => {
                // One attempt first: the pool would retry a refused
                // connection until its acquire timeout.
                let probe = tokio::time::timeout(Duration::from_secs(30), AnyConnection::connect(url))
                    .await
                    .unwrap_or(Err(sqlx::Error::PoolTimedOut))
                    .map_err(|e| open_error(url, e))?;
                let _ = probe.close().await;
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect(url)
                    .await
                    .map_err(|e| open_error(url, e))?;
                Db { read: pool.clone(), write: pool, backend }
            }
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                if !memory {
                    create_parent(&url)?;
                }
                let options = |max: u32| {
                    let mut o = AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(300))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                conn.execute(sqlx::AssertSqlSafe(format!(
                                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                                )))
                                .await?;
                                Ok(())
                            })
                        });
                    if memory {
                        // The database lives as long as its one connection.
                        o = o.min_connections(1).idle_timeout(None).max_lifetime(None);
                    }
                    o
                };
                let write = options(1).connect(&url).await.map_err(|e| open_error(&url, e))?;
                if !memory {
                    set_wal(&write).await.map_err(|e| open_error(&url, e))?;
                }
                let read = if memory {
                    write.clone()
                } else {
                    options(8).connect(&url).await.map_err(|e| open_error(&url, e))?
                };
                Db { read, write, backend }
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for single-statement writes.
    pub(crate) fn write_pool(&self) -> &AnyPool {
        &self.write
    }

    /// Begins a write transaction. On SQLite it takes the write lock first
    /// (`BEGIN IMMEDIATE`), so that a transaction that reads then writes
    /// never fails to upgrade its lock; on PostgreSQL rows are locked by
    /// the statements (`FOR UPDATE`, conditional updates).
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// `SELECT ... FOR UPDATE` where the database knows it (SQLite's
    /// `BEGIN IMMEDIATE` already holds the only write lock).
    pub(crate) fn for_update(&self, select: &'static str) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(match self.backend {
            Backend::Sqlite => select.to_string(),
            Backend::Postgres => format!("{select} FOR UPDATE"),
        })
    }

    pub(crate) async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Creates or upgrades the schema, once, whatever the number of
    /// replicas opening the database at the same time.
    async fn migrate(&self) -> Result<(), StoreError> {
        let fail = |e: sqlx::Error| StoreError(format!("metadata database: creating or upgrading the schema: {e}"));
        let mut tx = self.begin().await.map_err(fail)?;
        if self.backend == Backend::Postgres {
            // Replicas starting together take turns.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SCHEMA_LOCK).execute(&mut *tx).await.map_err(fail)?;
        }
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS strata_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        let current: Option<i64> = sqlx::query("SELECT MAX(version) FROM strata_schema")
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(fail)?;
        let current = current.unwrap_or(0);
        let latest = MIGRATIONS.len() as i64;
        if current > latest {
            return Err(StoreError(format!(
                "metadata database: its schema is version {current}, newer than this server's {latest}: \
                 run a strata-server at least as new as the one that upgraded it"
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(self.dialect(m))).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query("INSERT INTO strata_schema (version) VALUES ($1)")
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    /// A schema text in this database's dialect.
    fn dialect(&self, text: &str) -> String {
        let (seq, key) = match self.backend {
            Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
            // Names sort bytewise, as on SQLite, whatever the locale.
            Backend::Postgres => ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "TEXT COLLATE \"C\""),
        };
        text.replace("{seq}", seq).replace("{name}", key)
    }
}

/// The advisory lock PostgreSQL replicas take while migrating.
const SCHEMA_LOCK: i64 = 0x7374_7261_7461; // "strata"

/// The schema's version.
#[cfg(test)]
pub(crate) const MIGRATION_COUNT: usize = MIGRATIONS.len();

/// The schema, one entry per version; never edit an entry, append one.
/// `{seq}` is an auto-increment primary key, `{name}` a text compared
/// bytewise. Times are Unix nanoseconds.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE dirs (
    name {name} PRIMARY KEY,
    created BIGINT NOT NULL
);
CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created BIGINT NOT NULL
);
CREATE TABLE dir_blobs (
    dir {name} NOT NULL,
    digest TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (dir, digest)
);
CREATE TABLE versions (
    seq {seq},
    dir {name} NOT NULL,
    digest TEXT NOT NULL,
    manifest TEXT NOT NULL,
    files BIGINT NOT NULL,
    size BIGINT NOT NULL,
    created BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (dir, digest)
);
CREATE INDEX versions_dir_seq ON versions (dir, seq);
CREATE TABLE tags (
    dir {name} NOT NULL,
    name {name} NOT NULL,
    version TEXT NOT NULL,
    updated BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (dir, name)
);
CREATE TABLE tag_history (
    seq {seq},
    dir {name} NOT NULL,
    tag {name} NOT NULL,
    version TEXT NOT NULL,
    previous TEXT,
    moved_at BIGINT NOT NULL,
    moved_by TEXT NOT NULL
);
CREATE INDEX tag_history_tag_seq ON tag_history (dir, tag, seq);
CREATE TABLE deployments (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    dir {name} NOT NULL,
    target {name} NOT NULL,
    version TEXT,
    status TEXT NOT NULL,
    plan_digest TEXT,
    started BIGINT,
    finished BIGINT,
    error TEXT,
    created BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX deployments_dir_seq ON deployments (dir, seq);
CREATE INDEX deployments_target_seq ON deployments (target, seq);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    dirs TEXT NOT NULL,
    created BIGINT NOT NULL,
    revoked BIGINT
);
",
    "
ALTER TABLE tokens ADD COLUMN targets TEXT NOT NULL DEFAULT '[]';
",
];

/// `sqlite://PATH` as sqlx wants it: the file is created if missing.
fn sqlite_url(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Creates the directory of an SQLite file.
fn create_parent(url: &str) -> Result<(), StoreError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            StoreError(format!(
                "metadata database {}: cannot create its directory {}: {e}: check the path and its permissions",
                path.display(),
                dir.display()
            ))
        }),
        _ => Ok(()),
    }
}

/// Switches the SQLite file to write-ahead logging (readers never block
/// the writer). The mode is stored in the file, so this is done once; a
/// second process opening at the same time may find the file busy for a
/// moment, so it tries again.
async fn set_wal(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut attempt = 0;
    loop {
        let r: Result<String, sqlx::Error> =
            sqlx::query("PRAGMA journal_mode = WAL").fetch_one(pool).await.and_then(|r| r.try_get(0));
        match r {
            Ok(_) => return Ok(()),
            Err(e) if attempt < MAX_ATTEMPTS && is_transient(&e) => {
                attempt += 1;
                backoff(attempt).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether a transaction failed only because it raced another one, so
/// that running it again will do.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else { return false };
    let Some(code) = db.code() else { return false };
    match code.as_ref() {
        // serialization_failure, deadlock_detected
        "40001" | "40P01" => true,
        // SQLITE_BUSY and SQLITE_LOCKED with their extended codes
        c => c.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)),
    }
}

/// Waits a little longer at each attempt before running a transaction
/// again.
pub(crate) async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(10)) * 5)).await;
}

fn open_error(url: &str, e: sqlx::Error) -> StoreError {
    StoreError(format!(
        "metadata database {}: cannot connect: {e}: check the URL, that the server runs and the credentials",
        redact(url)
    ))
}

/// A storage or database URL with any password (user info or a
/// `password=` parameter) replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        // Not a URL we can take apart: show only its scheme.
        return match url.split_once(':') {
            Some((scheme, _)) if url.contains('@') || url.contains("password") => format!("{scheme}:***"),
            _ => url.to_string(),
        };
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// Reads a column, naming it if the row does not hold what the schema says.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(name).map_err(|e| StoreError(format!("metadata database: reading column {name}: {e}")))
}
