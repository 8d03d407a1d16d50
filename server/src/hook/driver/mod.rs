//! Applies a plan to a target: one loop around the core's
//! [`Executor`], over a connection per dialect ([`sqlite`], [`postgres`]).
//!
//! [`apply`] does, on one connection and under the lock:
//! 1. connect (a dry run opens SQLite read-only);
//! 2. take Atlas's lock (see `lock.rs`), waiting up to the target's
//!    `lock_timeout`;
//! 3. on PostgreSQL, Atlas's "ambiguous revision table" check; unless
//!    dry run: create the revisions table as Atlas does (on
//!    PostgreSQL, in its schema: the `revisions_schema` option, else the
//!    URL's `search_path`, else `atlas_schema_revisions`, as Atlas picks it);
//! 4. read the state: the revisions, and when there are none Atlas's
//!    not-clean check ([`strata::plan::clean`]);
//! 5. plan with the core; refuse if the digest is not the one the client
//!    previewed ([`ApplyOptions::expect_digest`]), before anything runs;
//! 6. run the executor's steps: `Begin`/`Commit`/`Rollback` as SQL,
//!    `Execute` as the statement's text, `WriteRevision` as the core's
//!    upsert; send [`Event`]s as it goes;
//! 7. release the lock.
//!
//! A dry run does 1, 2, 4 and 5 and writes nothing to the target (Atlas's
//! dry run creates the revisions table; strata's does not).

pub mod postgres;
pub mod sqlite;

use super::events::{Event, PlannedFileInfo};
use super::targets::{Target, TargetDialect};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use strata::dir::Directory;
use strata::plan::{
    plan, DbState, ExecOptions, Executor, Outcome, Plan, PlanError, PlanOptions, Revision, Step, Timestamp,
};
use strata::report::ApplyReport;

/// How to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Atlas's `migrate apply` options (baseline, allow-dirty, exec order,
    /// to-version, amount, tx mode).
    pub plan: PlanOptions,
    /// Compute and report; execute and write nothing.
    pub dry_run: bool,
    /// The digest of the plan the client previewed: the apply is refused,
    /// with nothing executed, if the plan under the lock differs.
    pub expect_digest: Option<String>,
    /// Written to `operator_version` (default `strata <version>`).
    pub operator_version: String,
    /// SQLite: the directory of Atlas's lock file (default: the system's
    /// temp directory, Atlas's `os.TempDir()`). Tests use their own.
    pub lock_dir: Option<PathBuf>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            plan: PlanOptions::default(),
            dry_run: false,
            expect_digest: None,
            operator_version: strata::report::GENERATOR.to_string(),
            lock_dir: None,
        }
    }
}

/// What kind of refusal a [`HookError`] is (for the HTTP layer's codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookErrorKind {
    /// The target cannot be reached or opened.
    Connect,
    /// Another session holds the lock.
    LockHeld,
    /// Reading or preparing the target failed.
    Database,
    /// The core refused to plan (Atlas's planning errors).
    Plan,
    /// The plan differs from the one the client previewed.
    StalePlan,
    /// The directory was split for another dialect than the target's.
    Dialect,
    /// PostgreSQL: the revisions table could be in two schemas (Atlas's
    /// "ambiguous revision table"); the target must say which.
    AmbiguousRevisions,
}

/// A refusal: nothing was executed on the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookError {
    /// What kind.
    pub kind: HookErrorKind,
    /// What happened, where, and what to do.
    pub message: String,
    /// The core's planning error, for [`HookErrorKind::Plan`].
    pub plan_error: Option<PlanError>,
    /// The digest of the plan computed under the lock, for
    /// [`HookErrorKind::StalePlan`].
    pub digest: Option<String>,
}

impl HookError {
    fn new(kind: HookErrorKind, message: String) -> HookError {
        HookError { kind, message, plan_error: None, digest: None }
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HookError {}

/// Why a run stopped, and its statement: the core's protocol types.
pub use strata::hook::{Failure, StatementRef};

/// The result of an apply that ran (successfully or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The plan that ran.
    pub plan: Plan,
    /// The core's report (its `error` is set when the run failed).
    pub report: ApplyReport,
    /// Why it stopped, when it failed.
    pub failure: Option<Failure>,
}

/// A database connection, as the shared loop needs it. Errors are the
/// database's messages.
pub(crate) trait Conn: Send {
    /// Runs one statement with no parameters.
    async fn exec(&mut self, sql: &str) -> Result<(), String>;
    /// Opens a transaction (the executor's `Begin`).
    async fn begin(&mut self) -> Result<(), String> {
        self.exec("BEGIN").await
    }
    /// Commits it (the executor's `Commit`).
    async fn commit(&mut self) -> Result<(), String> {
        self.exec("COMMIT").await
    }
    /// Rolls it back (the executor's `Rollback`).
    async fn rollback(&mut self) -> Result<(), String> {
        self.exec("ROLLBACK").await
    }
    /// Atlas's upsert of one revision row.
    async fn upsert(&mut self, r: &Revision) -> Result<(), String>;
    /// Runs one step of the executor.
    async fn step(&mut self, step: Step<'_>) -> Result<(), String> {
        match step {
            Step::Begin => self.begin().await,
            Step::Commit => self.commit().await,
            Step::Rollback => self.rollback().await,
            Step::WriteRevision(r) => self.upsert(r).await,
            Step::Execute { sql, .. } => self.exec(sql).await,
            Step::Done => Ok(()),
        }
    }
    /// The SQL of `step` when it may go out later, ahead of the next
    /// step's in the same round trip (`in_tx`: a transaction is open);
    /// `None`: it runs alone, now. See [`Conn::run_after`].
    fn ahead(&self, _step: Step<'_>, _in_tx: bool) -> Option<String> {
        None
    }
    /// Runs the SQL of the steps sent ahead (`ahead`), then `step`, in
    /// order, and stops at the first error: `Err((i, message))` when
    /// `ahead[i]` failed (`i == ahead.len()`: `step`), and nothing after it
    /// ran.
    async fn run_after(&mut self, ahead: &[String], step: Step<'_>) -> Result<(), (usize, String)> {
        for (i, sql) in ahead.iter().enumerate() {
            self.exec(sql).await.map_err(|e| (i, e))?;
        }
        self.step(step).await.map_err(|e| (ahead.len(), e))
    }
    /// Creates the revisions table (and its schema) if missing.
    async fn create_revisions_table(&mut self) -> Result<(), String>;
    /// The revisions (none when the table is missing) and whether the
    /// table is missing.
    async fn revisions(&mut self) -> Result<(Vec<Revision>, bool), String>;
    /// Atlas's not-clean reason, ignoring the revisions table.
    async fn not_clean(&mut self) -> Result<Option<String>, String>;
}

/// Binds `r` to the core's upsert in `REVISION_COLUMNS` order;
/// `executed_at` and `hashes` are the dialect's forms of those two columns.
fn bind_revision<'q, DB, T, J>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    r: &Revision,
    executed_at: T,
    hashes: Option<J>,
) -> Result<sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>, String>
where
    DB: sqlx::Database,
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    T: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<J>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let int = |n: u64, col: &str| i64::try_from(n).map_err(|_| format!("revision column {col} out of range: {n}"));
    Ok(q.bind(r.version.as_str())
        .bind(r.description.as_str())
        .bind(int(r.kind.0, "type")?)
        .bind(int(r.applied, "applied")?)
        .bind(int(r.total, "total")?)
        .bind(executed_at)
        .bind(r.execution_time)
        .bind(r.error.as_str())
        .bind(r.error_stmt.as_str())
        .bind(r.hash.as_str())
        .bind(hashes)
        .bind(r.operator_version.as_str()))
}

/// A revision from the twelve columns of the core's `select`, in
/// `REVISION_COLUMNS` order, read as text (`executed_at` as RFC 3339,
/// `partial_hashes` as JSON text, NULL as empty) or as integers.
fn revision_from_row(
    text: impl Fn(usize) -> Result<String, String>,
    int: impl Fn(usize) -> Result<i64, String>,
) -> Result<Revision, String> {
    let uint = |i: usize, col: &str| -> Result<u64, String> {
        u64::try_from(int(i)?).map_err(|_| format!("revision column {col} is negative"))
    };
    Ok(Revision {
        version: text(0)?,
        description: text(1)?,
        kind: strata::plan::RevisionType(uint(2, "type")?),
        applied: uint(3, "applied")?,
        total: uint(4, "total")?,
        executed_at: text(5)?,
        execution_time: int(6)?,
        error: text(7)?,
        error_stmt: text(8)?,
        hash: text(9)?,
        partial_hashes: strata::plan::revision::parse_hash_list(&text(10)?)?,
        operator_version: text(11)?,
    })
}

/// The current time, nanoseconds since the Unix epoch.
fn now() -> Timestamp {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn db_error(target: &Target, what: &str, e: String) -> HookError {
    HookError::new(
        HookErrorKind::Database,
        format!(
            "target {:?} ({}): {what}: {e}; check the database and the target's permissions",
            target.name(),
            target.redacted_url()
        ),
    )
}

/// Reads the target's state without the lock and without writing
/// anything (for a preview: the revisions table is not created).
pub async fn read_state(target: &Target) -> Result<DbState, HookError> {
    match target.dialect() {
        TargetDialect::Sqlite => {
            let Some(mut c) = sqlite::SqliteConn::connect(target, true).await? else {
                return Ok(DbState { table_missing: true, ..DbState::default() });
            };
            state(&mut c, target).await
        }
        TargetDialect::Postgres => {
            let mut c = postgres::PgConn::connect(target).await?;
            let s = match c.check_revisions_location(target).await {
                Ok(()) => state(&mut c, target).await,
                Err(e) => Err(e),
            };
            c.close().await;
            s
        }
    }
}

async fn state<C: Conn>(c: &mut C, target: &Target) -> Result<DbState, HookError> {
    let (revisions, table_missing) = c.revisions().await.map_err(|e| db_error(target, "reading revisions", e))?;
    let not_clean = if revisions.is_empty() {
        c.not_clean().await.map_err(|e| db_error(target, "checking whether the database is clean", e))?
    } else {
        None
    };
    Ok(DbState { revisions, not_clean, table_missing })
}

/// Applies `dir` (split with the target's dialect:
/// [`TargetDialect::lex`]) to `target`, sending progress to `on_event`.
///
/// `Err` is a refusal with nothing executed: the target cannot be reached,
/// the lock is held past the timeout, the core refuses to plan, or the plan
/// is not the one previewed. A run that fails part-way is `Ok`, with the
/// report's error and [`Applied::failure`] set.
pub async fn apply(
    target: &Target,
    dir: &Directory,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<Applied, HookError> {
    if dir.dialect() != target.dialect().lex() {
        return Err(HookError::new(
            HookErrorKind::Dialect,
            format!(
                "the directory was split as {:?} but target {:?} is {}; build it with DirOptions {{ dialect: target.dialect().lex(), .. }}",
                dir.dialect(),
                target.name(),
                target.dialect().as_str()
            ),
        ));
    }
    match target.dialect() {
        TargetDialect::Sqlite => {
            let lock_dir = opts.lock_dir.clone().unwrap_or_else(std::env::temp_dir);
            // Atlas takes the lock before it opens anything.
            let lock = super::lock::LockFile::acquire(&lock_dir, target.lock_timeout()).await.map_err(|e| match e {
                super::lock::LockFileError::Held { path, by_atlas_file } => HookError::new(
                    HookErrorKind::LockHeld,
                    format!(
                        "target {:?}: acquiring database lock: sql/sqlite: lock on \"{}\" already taken (lock file {}, held by {}); waited {:?}. Try again when the other apply has finished, or raise lock_timeout",
                        target.name(),
                        super::lock::LOCK_NAME,
                        path.display(),
                        if by_atlas_file { "Atlas or a strata process that stopped" } else { "another strata apply" },
                        target.lock_timeout()
                    ),
                ),
                super::lock::LockFileError::Io(e) => {
                    HookError::new(HookErrorKind::Database, format!("target {:?}: acquiring database lock: {e}", target.name()))
                }
            })?;
            let res = match sqlite::SqliteConn::connect(target, opts.dry_run).await {
                Err(e) => Err(e),
                // A dry run on a file that does not exist yet: an empty database.
                Ok(None) => run(&mut sqlite::Missing, target, dir, opts, on_event).await,
                Ok(Some(mut c)) => run(&mut c, target, dir, opts, on_event).await,
            };
            let released = lock.release();
            match (res, released) {
                (Ok(a), Err(e)) => {
                    tracing::warn!(target = target.name(), "{e}");
                    Ok(a)
                }
                (r, _) => r,
            }
        }
        TargetDialect::Postgres => {
            let mut c = postgres::PgConn::connect(target).await?;
            let res = match c.lock(target).await {
                Ok(()) => {
                    let r = match c.check_revisions_location(target).await {
                        Ok(()) => run(&mut c, target, dir, opts, on_event).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = c.unlock().await {
                        tracing::warn!(target = target.name(), "releasing the advisory lock: {e}");
                    }
                    r
                }
                Err(e) => Err(e),
            };
            c.close().await;
            res
        }
    }
}

/// The shared loop: prepare, read, plan, execute.
async fn run<C: Conn>(
    c: &mut C,
    target: &Target,
    dir: &Directory,
    opts: &ApplyOptions,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<Applied, HookError> {
    if !opts.dry_run {
        c.create_revisions_table().await.map_err(|e| db_error(target, "creating the revisions table", e))?;
    }
    let st = state(c, target).await?;
    let plan = plan(dir, &st, &opts.plan).map_err(|e| HookError {
        kind: HookErrorKind::Plan,
        message: format!("target {:?}: {e}. {}", target.name(), e.hint()),
        plan_error: Some(e),
        digest: None,
    })?;
    if let Some(want) = &opts.expect_digest {
        if *want != plan.digest {
            let mut e = HookError::new(
                HookErrorKind::StalePlan,
                format!(
                    "target {:?}: the plan changed since it was previewed (previewed {want}, now {}): the database or the directory moved on; nothing was executed. Preview again and apply the new plan",
                    target.name(),
                    plan.digest
                ),
            );
            e.digest = Some(plan.digest.clone());
            return Err(e);
        }
    }
    let mut out = Outbox::new(on_event);
    out.push(Event::Planned {
        target: target.name().to_string(),
        digest: plan.digest.clone(),
        dry_run: opts.dry_run,
        current: plan.current.clone(),
        to_version: plan.target.clone(),
        files: plan
            .files
            .iter()
            .map(|f| PlannedFileInfo {
                name: f.name.clone(),
                version: f.version.clone(),
                statements: f.statements.len(),
                skip: f.skip,
                tx_mode: f.tx_mode.as_str().to_string(),
            })
            .collect(),
        statements: plan.statement_count(),
    });
    out.flush();
    let exec = ExecOptions { operator_version: opts.operator_version.clone(), dry_run: opts.dry_run };
    let began = now();
    let mut ex = Executor::new(plan.clone(), exec.clone(), began);
    // Every outcome recorded, to rebuild the executor when a step sent
    // ahead turns out to have failed.
    let mut log: Vec<(Outcome, Timestamp)> = Vec::new();
    let mut tr = Track { current: None, failed: None, last_err: None, done: None, in_tx: false };
    // Steps recorded as done whose SQL goes out with the next step's.
    let mut ahead: Vec<Ahead> = Vec::new();
    let mut ahead_sql: Vec<String> = Vec::new();
    loop {
        // A dry run's report lists the files, but nothing starts.
        let started = if opts.dry_run { 0 } else { ex.report().applied.len() };
        if tr.current.map_or(started > 0, |(i, _)| started > i + 1) {
            if let Some(e) = tr.done.take() {
                out.push(e);
            }
            if let Some((i, t)) = tr.current {
                out.push(Event::FileDone { file: plan.files[i].name.clone(), duration_ns: nanos(t) });
            }
            let i = started - 1;
            let f = &plan.files[i];
            out.push(Event::FileStarted {
                file: f.name.clone(),
                version: f.version.clone(),
                statements: f.pending_statements().len(),
                skip: f.skip,
            });
            tr.current = Some((i, Instant::now()));
        }
        let step = ex.next();
        if ex.error().is_none() {
            if let Some(sql) = c.ahead(step, tr.in_tx) {
                let version = match step {
                    Step::WriteRevision(r) => Some(r.version.clone()),
                    _ => None,
                };
                ahead.push(Ahead { log: log.len(), events: out.mark(), track: tr.clone(), version });
                ahead_sql.push(sql);
                out.hold();
                tr.settle(&mut out, &plan, None, &Ok(()), 0);
                let at = now();
                ex.record(Outcome::Ok, at);
                log.push((Outcome::Ok, at));
                continue;
            }
        }
        let (done, begin, end_tx) =
            (step == Step::Done, step == Step::Begin, matches!(step, Step::Commit | Step::Rollback));
        if done && ahead.is_empty() {
            break;
        }
        let executed = match step {
            Step::Execute { file, statement, .. } => Some((file, statement)),
            _ => None,
        };
        let t = Instant::now();
        // Inside a transaction, a file's revision row written before its
        // next statement is overwritten by the row written after that
        // statement, or rolled back with the transaction if it fails: no
        // other session can ever see it, so it is not sent. The file's last
        // row goes out with the next step that is not one of its statements
        // (COMMIT, or the next file's under tx mode all).
        if tr.in_tx {
            if let Step::Execute { file, .. } = step {
                let v = plan.files[file].version.as_str();
                let mut i = 0;
                while i < ahead.len() {
                    if ahead[i].version.as_deref() == Some(v) {
                        ahead.remove(i);
                        ahead_sql.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
        }
        let res = out.while_running(c.run_after(&ahead_sql, step)).await;
        let took = nanos(t);
        let replayed = matches!(res, Err((i, _)) if i < ahead.len());
        let (outcome, executed) = match res {
            Ok(()) => (Ok(()), executed),
            Err((i, e)) if i < ahead.len() => {
                // A step sent ahead failed, and nothing after it ran: back
                // to where the run stood before it, as if it had run alone.
                let a = ahead.swap_remove(i);
                log.truncate(a.log);
                ex = Executor::new(plan.clone(), exec.clone(), began);
                for (o, at) in &log {
                    ex.record(o.clone(), *at);
                }
                out.truncate(a.events);
                tr = a.track;
                (Err(e), None)
            }
            Err((_, e)) => (Err(e), executed),
        };
        ahead.clear();
        ahead_sql.clear();
        out.release();
        if !replayed {
            if done {
                // Only the steps sent ahead were left to send.
                continue;
            }
            tr.in_tx = (tr.in_tx || (begin && outcome.is_ok())) && !end_tx;
        }
        tr.settle(&mut out, &plan, executed, &outcome, took);
        let at = now();
        let o = outcome.map_or_else(Outcome::Err, |()| Outcome::Ok);
        ex.record(o.clone(), at);
        log.push((o, at));
    }
    let Track { current, failed, last_err, mut done, .. } = tr;
    if let Some(e) = done.take() {
        out.push(e);
    }
    let failure = ex.error().map(|error| failure(&plan, ex.report(), failed, last_err, error));
    if let (Some((i, t)), None) = (current, &failure) {
        out.push(Event::FileDone { file: plan.files[i].name.clone(), duration_ns: nanos(t) });
    }
    if let Some(f) = &failure {
        out.push(Event::Error(f.clone()));
    }
    let report = ex.into_report();
    out.push(Event::Finished { report: Box::new(report.clone()) });
    out.flush();
    Ok(Applied { plan, report, failure })
}

/// What the loop knows besides the executor (saved with each step sent
/// ahead, to go back to).
#[derive(Clone)]
struct Track {
    /// The file started last (index into the plan and the report), and when.
    current: Option<(usize, Instant)>,
    /// The statement that failed, and the database's message.
    failed: Option<(usize, usize, String)>,
    /// The last error of a step that was not a statement.
    last_err: Option<String>,
    /// A statement's `statementDone`, held until the step after it (Atlas's
    /// revision row for it) has run: a client that sees the event knows the
    /// row was written, so after a crash the run resumes after it.
    done: Option<Event>,
    /// Whether a transaction is open.
    in_tx: bool,
}

impl Track {
    /// Takes the outcome of a step (`executed`: the statement it ran).
    fn settle(
        &mut self,
        out: &mut Outbox<'_>,
        plan: &Plan,
        executed: Option<(usize, usize)>,
        outcome: &Result<(), String>,
        took: u64,
    ) {
        if let Some(e) = self.done.take() {
            out.push(e);
        }
        match (outcome, executed) {
            (Ok(()), Some((f, s))) => {
                let st = &plan.files[f].statements[s];
                self.done = Some(Event::StatementDone {
                    file: plan.files[f].name.clone(),
                    statement: s + 1,
                    line: st.line,
                    duration_ns: took,
                });
            }
            (Err(e), Some((f, s))) => self.failed = Some((f, s, e.clone())),
            (Err(e), None) => self.last_err = Some(e.clone()),
            (Ok(()), None) => {}
        }
    }
}

/// A step sent ahead: recorded as done at once, its SQL sent in one round
/// trip with the next step's ([`Conn::ahead`]: on PostgreSQL, the revision
/// writes inside a transaction). If it fails, nothing after it
/// runs, and the run goes back to where it stood before it: the executor
/// replays [`Ahead::log`] outcomes, the events after [`Ahead::events`] are
/// dropped unseen.
struct Ahead {
    /// Outcomes recorded before it.
    log: usize,
    /// Events before it.
    events: usize,
    track: Track,
    /// The version whose revision row it writes, if it is a revision write.
    version: Option<String>,
}

/// How long progress events may be held to go out together. One event a
/// statement, sent alone, costs a wake-up of the HTTP task, a write and a
/// read by the client for each: far more than the line itself.
const EVENT_BATCH: Duration = Duration::from_millis(10);

/// The events of a run, passed on in order, in batches: an event is held
/// at most [`EVENT_BATCH`], also while a long statement runs, or until the
/// steps sent ahead before it have run ([`Outbox::hold`]).
struct Outbox<'a> {
    on_event: &'a mut (dyn FnMut(&Event) + Send),
    held: Vec<Event>,
    /// Events passed on so far.
    passed: usize,
    /// Events from this one on wait for steps sent ahead.
    unsure: Option<usize>,
    /// When the oldest held event is due.
    due: Option<tokio::time::Instant>,
}

impl<'a> Outbox<'a> {
    fn new(on_event: &'a mut (dyn FnMut(&Event) + Send)) -> Self {
        Outbox { on_event, held: Vec::new(), passed: 0, unsure: None, due: None }
    }

    fn push(&mut self, e: Event) {
        if self.due.is_none() && self.unsure.is_none() {
            self.due = Some(tokio::time::Instant::now() + EVENT_BATCH);
        }
        self.held.push(e);
    }

    /// The number of events so far.
    fn mark(&self) -> usize {
        self.passed + self.held.len()
    }

    /// Holds the events from here on until [`Outbox::release`].
    fn hold(&mut self) {
        if self.unsure.is_none() {
            self.unsure = Some(self.mark());
        }
    }

    /// The steps sent ahead have run: their events may go.
    fn release(&mut self) {
        self.unsure = None;
        if !self.held.is_empty() && self.due.is_none() {
            self.due = Some(tokio::time::Instant::now() + EVENT_BATCH);
        }
    }

    /// Drops the held events from `mark` on (never one passed on).
    fn truncate(&mut self, mark: usize) {
        self.held.truncate(mark.saturating_sub(self.passed));
    }

    /// Passes on every held event that may go.
    fn flush(&mut self) {
        let n = self.unsure.map_or(self.held.len(), |u| u.saturating_sub(self.passed).min(self.held.len()));
        for e in self.held.drain(..n) {
            (self.on_event)(&e);
        }
        self.passed += n;
        self.due = None;
    }

    /// Awaits `step`, passing the held events on when they are due.
    async fn while_running<T>(&mut self, step: impl std::future::Future<Output = T>) -> T {
        let mut step = std::pin::pin!(step);
        loop {
            let Some(due) = self.due else { return step.await };
            if due <= tokio::time::Instant::now() {
                self.flush();
                continue;
            }
            tokio::select! {
                biased;
                r = &mut step => return r,
                () = tokio::time::sleep_until(due) => self.flush(),
            }
        }
    }
}

fn nanos(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Names the file and statement a run stopped at.
fn failure(
    plan: &Plan,
    report: &ApplyReport,
    failed: Option<(usize, usize, String)>,
    last_err: Option<String>,
    error: &str,
) -> Failure {
    if let Some((f, s, message)) = failed {
        let file = &plan.files[f];
        let st = &file.statements[s];
        return Failure {
            file: Some(file.name.clone()),
            statement: Some(StatementRef { index: s + 1, line: st.line, pos: st.pos, text: st.text.clone() }),
            message,
            error: error.to_string(),
        };
    }
    // An error Atlas raises when it reaches a file (history changed, a bad
    // txmode header) names that file, not the last one that started.
    let file = match plan.first_error() {
        Some((f, e)) if error.contains(&e.to_string()) => Some(f.name.clone()),
        _ => report.applied.last().map(|a| a.name.clone()),
    };
    Failure { file, statement: None, message: last_err.unwrap_or_else(|| error.to_string()), error: error.to_string() }
}
