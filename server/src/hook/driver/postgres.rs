//! PostgreSQL targets through sqlx, as Atlas's PostgreSQL driver (with
//! lib/pq) behaves:
//!
//! * statements run with the simple query protocol, as sent;
//! * the revisions table lives where Atlas puts it: the target's
//!   `revisions_schema`, else the URL's `search_path` (a "schema-bound"
//!   connection, which also sets the session's `search_path`), else the
//!   schema `atlas_schema_revisions`, created if missing. The core's SQL
//!   names the table unqualified; here it is qualified with that schema;
//! * errors are lib/pq's text (v1.12, Atlas's): `pq: <message>[ at column
//!   C | at position L:C] (<SQLSTATE>)`;
//! * the lock is the session advisory lock on this same connection.

use super::{Conn, HookError, HookErrorKind};
use crate::hook::lock::{backoff, PG_LOCK_ID};
use crate::hook::targets::{Location, Target};
use futures_util::StreamExt;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgConnection, PgDatabaseError, PgErrorPosition, PgRow, PgTypeInfo,
    PgValueFormat, PgValueRef,
};
use sqlx::{Connection, Postgres, Row, ValueRef};
use std::str::FromStr;
use std::time::Instant;
use strata::lex::Dialect;
use strata::plan::clean::{postgres_not_clean, SchemaTables};
use strata::plan::revision::{render_hash_list, REVISIONS_TABLE};
use strata::plan::{Revision, RevisionSql, Step};

/// Atlas's default schema for the revisions table of a connection that is
/// not schema-bound.
pub const DEFAULT_REVISIONS_SCHEMA: &str = "atlas_schema_revisions";

/// The core's revisions SQL with the table qualified by its schema.
#[derive(Clone, Debug)]
struct QualifiedSql {
    create_table: String,
    select: String,
    upsert: String,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl QualifiedSql {
    fn new(schema: &str) -> Result<QualifiedSql, String> {
        let sql = RevisionSql::for_dialect(Dialect::Postgres).ok_or("the core has no revisions SQL for PostgreSQL")?;
        let table = quote_ident(REVISIONS_TABLE);
        let qualified = format!("{}.{table}", quote_ident(schema));
        let q = |s: &str| -> Result<String, String> {
            match s.matches(&table).count() {
                1 => Ok(s.replacen(&table, &qualified, 1)),
                n => Err(format!("the core's revisions SQL names the table {n} times, expected once: {s}")),
            }
        };
        Ok(QualifiedSql { create_table: q(sql.create_table)?, select: q(sql.select)?, upsert: q(sql.upsert)? })
    }
}

/// One connection to a PostgreSQL target.
pub struct PgConn {
    conn: PgConnection,
    sql: QualifiedSql,
    /// The URL's `search_path`, if any.
    bound: Option<String>,
    /// Where the revisions table is.
    revisions_schema: String,
    locked: bool,
    /// Whether the session has the upsert as [`PREPARED_UPSERT`].
    prepared: bool,
}

/// lib/pq's text of a database error (v1.12, which Atlas uses), else
/// sqlx's: `pq: <message>[ at column C | at position L:C] (<SQLSTATE>)`,
/// the position only for a statement sent as is (`query`).
pub fn message(e: &sqlx::Error) -> String {
    message_for(e, None, 0)
}

/// The error's position in the query string (1-based characters).
fn position(e: &sqlx::Error) -> Option<usize> {
    let sqlx::Error::Database(d) = e else { return None };
    match d.try_downcast_ref::<PgDatabaseError>()?.position() {
        Some(PgErrorPosition::Original(pos)) => Some(pos),
        _ => None,
    }
}

/// `message` for `query`, sent after `offset` characters of other SQL
/// (the error's position counts those too).
fn message_for(e: &sqlx::Error, query: Option<&str>, offset: usize) -> String {
    let sqlx::Error::Database(d) = e else { return e.to_string() };
    let mut msg = d.message().to_string();
    let pos = position(e).and_then(|p| p.checked_sub(offset)).filter(|&p| p > 0);
    if let (Some(q), Some(pos)) = (query.filter(|q| !q.is_empty()), pos) {
        // lib/pq's posToLine: `pos` counts characters, lines end with "\n".
        let lines: Vec<&str> = q.split('\n').collect();
        let (mut line, mut col, mut read) = (0usize, 0usize, 0usize);
        for l in &lines {
            line += 1;
            let ll = l.chars().count() + 1;
            if read + ll >= pos {
                col = pos.saturating_sub(read).max(1);
                break;
            }
            read += ll;
        }
        if lines.len() == 1 {
            msg.push_str(&format!(" at column {col}"));
        } else {
            msg.push_str(&format!(" at position {line}:{col}"));
        }
    }
    match d.code() {
        Some(code) if !code.is_empty() => format!("pq: {msg} ({code})"),
        _ => format!("pq: {msg}"),
    }
}

/// A string literal, the same whatever `standard_conforming_strings` says.
fn literal(s: &str) -> String {
    format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// The session's name of the core's upsert, for the writes sent ahead.
const PREPARED_UPSERT: &str = "strata_revision_upsert";

/// `timestamptz` in binary: microseconds since 2000-01-01 UTC.
struct Timestamptz(i64);

const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl sqlx::Type<Postgres> for Timestamptz {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(1184))
    }
}

impl sqlx::Encode<'_, Postgres> for Timestamptz {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend(&self.0.to_be_bytes());
        Ok(IsNull::No)
    }
}

/// `jsonb` in binary: version 1 and the JSON text.
struct Jsonb(String);

impl sqlx::Type<Postgres> for Jsonb {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(3802))
    }
}

impl sqlx::Encode<'_, Postgres> for Jsonb {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.push(1);
        buf.extend(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// The `executed_at` text the core writes (RFC 3339) as a `timestamptz`.
fn timestamptz(s: &str) -> Result<Timestamptz, String> {
    let ns = strata::report::parse_rfc3339(s).ok_or_else(|| format!("executed_at {s:?} is not an RFC 3339 time"))?;
    Ok(Timestamptz(ns.div_euclid(1000) - PG_EPOCH_MICROS))
}

/// A `timestamptz` or `jsonb` column as text: RFC 3339 for a time, the
/// JSON text for `jsonb`.
fn raw_text(v: PgValueRef<'_>, i: usize) -> Result<Option<String>, String> {
    let col = if i == 5 { "executed_at" } else { "partial_hashes" };
    if v.is_null() {
        return Ok(None);
    }
    let bad = |e: BoxDynError| format!("revision column {col}: {e}");
    match v.format() {
        PgValueFormat::Text => Ok(Some(v.as_str().map_err(bad)?.to_string())),
        PgValueFormat::Binary => {
            let b = v.as_bytes().map_err(bad)?;
            match i {
                5 => {
                    let micros = <[u8; 8]>::try_from(b)
                        .map(i64::from_be_bytes)
                        .map_err(|_| format!("revision column {col}: {} bytes, expected 8", b.len()))?;
                    let ns = micros.saturating_add(PG_EPOCH_MICROS).saturating_mul(1000);
                    Ok(Some(strata::report::rfc3339(ns)))
                }
                _ => match b.split_first() {
                    Some((1, json)) => Ok(Some(String::from_utf8_lossy(json).into_owned())),
                    _ => Ok(Some(String::from_utf8_lossy(b).into_owned())),
                },
            }
        }
    }
}

fn row_to_revision(r: &PgRow) -> Result<Revision, String> {
    super::revision_from_row(
        |i| match i {
            5 | 10 => Ok(raw_text(r.try_get_raw(i).map_err(|e| message(&e))?, i)?.unwrap_or_default()),
            _ => r.try_get::<Option<String>, _>(i).map(Option::unwrap_or_default).map_err(|e| message(&e)),
        },
        |i| r.try_get::<i64, _>(i).map_err(|e| message(&e)),
    )
}

impl PgConn {
    /// Connects to the target.
    pub async fn connect(target: &Target) -> Result<PgConn, HookError> {
        let Location::Postgres { url, search_path } = &target.location else {
            return Err(HookError::new(
                HookErrorKind::Connect,
                format!("target {:?} is not PostgreSQL", target.name()),
            ));
        };
        let fail = |what: String| {
            HookError::new(
                HookErrorKind::Connect,
                format!(
                    "target {:?} ({}): {what}; check that the database is up and the URL in {}",
                    target.name(),
                    target.redacted_url(),
                    target.source()
                ),
            )
        };
        let mut opts = PgConnectOptions::from_str(url).map_err(|e| fail(format!("invalid URL: {e}")))?;
        if let Some(sp) = search_path {
            opts = opts.options([("search_path", sp.as_str())]);
        }
        let conn =
            PgConnection::connect_with(&opts).await.map_err(|e| fail(format!("cannot connect: {}", message(&e))))?;
        let revisions_schema = target
            .revisions_schema()
            .map(str::to_string)
            .or_else(|| search_path.clone())
            .unwrap_or_else(|| DEFAULT_REVISIONS_SCHEMA.to_string());
        let sql = QualifiedSql::new(&revisions_schema).map_err(|e| HookError::new(HookErrorKind::Database, e))?;
        Ok(PgConn { conn, sql, bound: search_path.clone(), revisions_schema, locked: false, prepared: false })
    }

    /// Takes Atlas's advisory lock, polling until the target's timeout.
    pub async fn lock(&mut self, target: &Target) -> Result<(), HookError> {
        let start = Instant::now();
        let mut inter = 25;
        loop {
            let got: Option<bool> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(PG_LOCK_ID)
                .fetch_one(&mut self.conn)
                .await
                .map_err(|e| {
                    HookError::new(
                        HookErrorKind::Database,
                        format!("target {:?}: acquiring database lock: {}", target.name(), message(&e)),
                    )
                })?;
            if got == Some(true) {
                self.locked = true;
                return Ok(());
            }
            if start.elapsed() > target.lock_timeout() {
                return Err(HookError::new(
                    HookErrorKind::LockHeld,
                    format!(
                        "target {:?}: acquiring database lock: sql/schema: lock is held by other session (advisory lock {PG_LOCK_ID}, Atlas's atlas_migrate_execute); waited {:?}. Try again when the other apply has finished, or raise lock_timeout",
                        target.name(),
                        target.lock_timeout()
                    ),
                ));
            }
            tokio::time::sleep(backoff(&mut inter)).await;
        }
    }

    /// Releases the advisory lock.
    pub async fn unlock(&mut self) -> Result<(), String> {
        if !self.locked {
            return Ok(());
        }
        let released: Option<bool> = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK_ID)
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| message(&e))?;
        self.locked = false;
        match released {
            Some(true) => Ok(()),
            _ => Err(format!("sql/postgres: failed releasing lock {PG_LOCK_ID}")),
        }
    }

    /// Closes the connection (which also ends the session's locks).
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }

    /// Atlas's revisions-schema check (spec §5.1): a schema-bound URL with
    /// no `revisions_schema` whose schema has no revisions table, while the
    /// old default schema `atlas_schema_revisions` has one, is ambiguous.
    pub async fn check_revisions_location(&mut self, target: &Target) -> Result<(), HookError> {
        let Some(bound) = self.bound.clone() else { return Ok(()) };
        if target.revisions_schema().is_some() {
            return Ok(());
        }
        let fail = |e: String| {
            HookError::new(
                HookErrorKind::Database,
                format!("target {:?}: locating the revisions table: {e}", target.name()),
            )
        };
        if self.table_exists_in(&bound).await.map_err(fail)?
            || !self.table_exists_in(DEFAULT_REVISIONS_SCHEMA).await.map_err(fail)?
        {
            return Ok(());
        }
        Err(HookError::new(
            HookErrorKind::AmbiguousRevisions,
            format!(
                "target {:?}: ambiguous revision table: the URL is bound to schema {bound:?}, which has no revisions table, but schema \"{DEFAULT_REVISIONS_SCHEMA}\" has one (Atlas's old default). Set revisions_schema = \"{DEFAULT_REVISIONS_SCHEMA}\" on the target to continue with it, revisions_schema = \"{bound}\" to start a new one, or drop the unused schema",
                target.name()
            ),
        ))
    }

    /// The core's upsert of `r` as a simple query: `EXECUTE` of
    /// [`PREPARED_UPSERT`] with the same values [`Conn::upsert`] binds (the
    /// time to the microsecond, `partial_hashes` as `jsonb`).
    fn upsert_text(&self, r: &Revision) -> Result<String, String> {
        let int = |n: u64, col: &str| {
            i64::try_from(n).map(|n| n.to_string()).map_err(|_| format!("revision column {col} out of range: {n}"))
        };
        let Timestamptz(micros) = timestamptz(&r.executed_at)?;
        let ns =
            micros.checked_add(PG_EPOCH_MICROS).and_then(|m| m.checked_mul(1000)).ok_or("executed_at out of range")?;
        let executed_at = format!("{}::timestamptz", literal(&strata::report::rfc3339(ns)));
        let hashes = render_hash_list(r.partial_hashes.as_deref())
            .map_or_else(|| "NULL".to_string(), |h| format!("{}::jsonb", literal(&h)));
        // In `REVISION_COLUMNS` order, as `bind_revision` binds them.
        let values = [
            literal(&r.version),
            literal(&r.description),
            int(r.kind.0, "type")?,
            int(r.applied, "applied")?,
            int(r.total, "total")?,
            executed_at,
            r.execution_time.to_string(),
            literal(&r.error),
            literal(&r.error_stmt),
            literal(&r.hash),
            hashes,
            literal(&r.operator_version),
        ];
        Ok(format!("EXECUTE {PREPARED_UPSERT}({})", values.join(", ")))
    }

    async fn table_exists(&mut self) -> Result<bool, String> {
        let schema = self.revisions_schema.clone();
        self.table_exists_in(&schema).await
    }

    async fn table_exists_in(&mut self, schema: &str) -> Result<bool, String> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2)",
        )
        .bind(schema)
        .bind(REVISIONS_TABLE)
        .fetch_one(&mut self.conn)
        .await
        .map_err(|e| message(&e))
    }
}

/// Atlas's realm inspection: schemas not owned by the system or an
/// extension (`schemasQuery`).
const SCHEMAS: &str = "SELECT nspname::text FROM pg_catalog.pg_namespace ns \
    LEFT JOIN pg_catalog.pg_depend AS dep ON dep.classid = 'pg_catalog.pg_namespace'::regclass::oid AND dep.objid = ns.oid AND dep.deptype = 'e' \
    WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast', 'crdb_internal', 'pg_extension') \
    AND nspname NOT LIKE 'pg_%temp_%' AND dep.objid IS NULL ORDER BY nspname";

/// Atlas's base tables (`tablesQuery`): not partitions, not owned by an
/// extension.
const TABLES: &str = "SELECT t1.table_schema::text, t1.table_name::text FROM information_schema.tables AS t1 \
    JOIN pg_catalog.pg_namespace AS t2 ON t2.nspname = t1.table_schema \
    JOIN pg_catalog.pg_class AS t3 ON t3.relnamespace = t2.oid AND t3.relname = t1.table_name \
    LEFT JOIN pg_catalog.pg_depend AS t5 ON t5.classid = 'pg_catalog.pg_class'::regclass::oid AND t5.objid = t3.oid AND t5.deptype = 'e' \
    WHERE t1.table_type = 'BASE TABLE' AND NOT COALESCE(t3.relispartition, false) AND t5.objid IS NULL \
    ORDER BY t1.table_schema, t1.table_name";

impl Conn for PgConn {
    async fn exec(&mut self, sql: &str) -> Result<(), String> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(|e| message_for(&e, Some(sql), 0))
    }

    async fn upsert(&mut self, r: &Revision) -> Result<(), String> {
        super::bind_revision(
            sqlx::query(sqlx::AssertSqlSafe(self.sql.upsert.as_str())),
            r,
            timestamptz(&r.executed_at)?,
            render_hash_list(r.partial_hashes.as_deref()).map(Jsonb),
        )?
        .execute(&mut self.conn)
        .await
        .map(|_| ())
        .map_err(|e| message(&e))
    }

    /// The revision writes inside a transaction: a failing one aborts the
    /// transaction, so nothing sent after it in the same message runs
    /// (PostgreSQL skips the rest of a query string after an error), and
    /// nothing it did stays.
    fn ahead(&self, step: Step<'_>, in_tx: bool) -> Option<String> {
        match step {
            Step::WriteRevision(r) if in_tx && self.prepared => self.upsert_text(r).ok(),
            _ => None,
        }
    }

    /// One simple query: the SQL sent ahead, then the step's statement
    /// (or `COMMIT`, `ROLLBACK`), one round trip instead of one each. A
    /// statement's error position is counted from its own start.
    async fn run_after(&mut self, ahead: &[String], step: Step<'_>) -> Result<(), (usize, String)> {
        if ahead.is_empty() {
            return self.step(step).await.map_err(|e| (0, e));
        }
        let last = match step {
            Step::Execute { sql, .. } => Some(sql),
            Step::Commit => Some("COMMIT"),
            Step::Rollback => Some("ROLLBACK"),
            Step::Begin | Step::WriteRevision(_) | Step::Done => None,
        };
        let mut sql = String::new();
        for a in ahead {
            sql.push_str(a);
            sql.push_str(";\n");
        }
        let offset = sql.chars().count();
        sql.push_str(last.unwrap_or_default());
        let mut ran = 0;
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str())).execute_many(&mut self.conn);
        while let Some(r) = results.next().await {
            match r {
                Ok(_) => ran += 1,
                // PostgreSQL parses the whole string before it runs any of
                // it: a syntax error in the statement is the statement's.
                // Nothing ran, and the transaction is aborted as it would be
                // after the statement failed alone (what ran before it in the
                // transaction is rolled back all the same).
                Err(e) if ran == 0 && position(&e).is_some_and(|p| p > offset) => {
                    return Err((ahead.len(), message_for(&e, last, offset)))
                }
                Err(e) if ran < ahead.len() => return Err((ran, message(&e))),
                Err(e) => return Err((ahead.len(), message_for(&e, last, offset))),
            }
        }
        drop(results);
        match (last, step) {
            (None, Step::Begin | Step::WriteRevision(_)) => self.step(step).await.map_err(|e| (ahead.len(), e)),
            _ => Ok(()),
        }
    }

    async fn create_revisions_table(&mut self) -> Result<(), String> {
        // Only what is missing, as Atlas does: a deploy user without CREATE
        // on the schema can use an existing table (`IF NOT EXISTS` alone
        // would still check the privilege).
        if !self.table_exists().await? {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)")
                    .bind(&self.revisions_schema)
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(|e| message(&e))?;
            if !exists {
                let schema = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&self.revisions_schema));
                self.exec(&schema).await?;
            }
            let create = self.sql.create_table.clone();
            self.exec(&create).await?;
        }
        // For the writes sent ahead (`ahead`); without it, each goes alone.
        let prepare = format!("PREPARE {PREPARED_UPSERT} AS {}", self.sql.upsert);
        self.prepared = self.exec(&prepare).await.is_ok();
        Ok(())
    }

    async fn revisions(&mut self) -> Result<(Vec<Revision>, bool), String> {
        if !self.table_exists().await? {
            return Ok((Vec::new(), true));
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.sql.select.as_str()))
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| message(&e))?;
        Ok((rows.iter().map(row_to_revision).collect::<Result<_, _>>()?, false))
    }

    async fn not_clean(&mut self) -> Result<Option<String>, String> {
        let names: Vec<String> =
            sqlx::query_scalar(SCHEMAS).fetch_all(&mut self.conn).await.map_err(|e| message(&e))?;
        let tables: Vec<(String, String)> =
            sqlx::query_as(TABLES).fetch_all(&mut self.conn).await.map_err(|e| message(&e))?;
        let mut schemas: Vec<SchemaTables> = names
            .into_iter()
            .map(|name| {
                let tables = tables.iter().filter(|(s, _)| *s == name).map(|(_, t)| t.clone()).collect();
                SchemaTables { name, tables }
            })
            .collect();
        // Before the revisions table exists (a dry run), count it as the
        // real run will have it: created first, in its schema.
        match schemas.iter_mut().find(|s| s.name == self.revisions_schema) {
            Some(s) if !s.tables.iter().any(|t| t == REVISIONS_TABLE) => {
                let i = s.tables.partition_point(|t| t.as_str() < REVISIONS_TABLE);
                s.tables.insert(i, REVISIONS_TABLE.to_string());
            }
            Some(_) => {}
            None if self.bound.is_none() || self.bound.as_deref() == Some(self.revisions_schema.as_str()) => {
                let i = schemas.partition_point(|s| s.name.as_str() < self.revisions_schema.as_str());
                schemas.insert(
                    i,
                    SchemaTables { name: self.revisions_schema.clone(), tables: vec![REVISIONS_TABLE.to_string()] },
                );
            }
            None => {}
        }
        Ok(postgres_not_clean(self.bound.as_deref(), &self.revisions_schema, &schemas))
    }
}
