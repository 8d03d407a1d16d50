//! The executor: a sans-IO state machine that runs a [`Plan`].
//!
//! A driver is one loop:
//!
//! ```text
//! let mut ex = Executor::new(plan, options, now());
//! loop {
//!     let outcome = match ex.next() {
//!         Step::Begin => db.begin(),
//!         Step::Execute { sql, .. } => db.execute(sql),
//!         Step::WriteRevision(row) => db.upsert(RevisionSql::upsert, row),
//!         Step::Commit => db.commit(),
//!         Step::Rollback => db.rollback(),
//!         Step::Done => break,
//!     };
//!     ex.record(outcome, now());
//! }
//! let report = ex.into_report();
//! ```
//!
//! It follows Atlas's `migrate apply` step for step (spec §6.1, §6.5,
//! §6.6): the same transactions, the same revision writes at the same
//! moments (a "started" write, one after every statement, a final one),
//! the same rows after a failure in the middle of a file, the same errors.
//! Times come from the driver (`now`, nanoseconds since the Unix epoch);
//! the executor reads no clock.
//!
//! With [`ExecOptions::dry_run`] it asks for nothing: no transaction, no
//! statement, no revision write (unlike Atlas, whose dry run still writes a
//! baseline row). [`Executor::next`] answers [`Step::Done`] at once and the
//! report shows what a real run would have printed.

use super::{Plan, PlanError, Revision, TxMode};
use crate::report::{AppliedFile, AppliedStatement, ApplyReport, FileRef, StmtError};

/// A point in time: nanoseconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// How to execute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Written to `operator_version` of every row (e.g. `strata 0.1.0`).
    pub operator_version: String,
    /// Compute the report without touching the database.
    pub dry_run: bool,
}

/// What the driver must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Open a transaction.
    Begin,
    /// Run one statement of a planned file.
    Execute {
        /// Index into [`Plan::files`].
        file: usize,
        /// Index into that file's statements.
        statement: usize,
        /// The SQL to send.
        sql: &'a str,
    },
    /// Upsert this row into `atlas_schema_revisions` (in the open
    /// transaction, if any), with [`super::RevisionSql::upsert`].
    WriteRevision(&'a Revision),
    /// Commit the open transaction.
    Commit,
    /// Roll the open transaction back.
    Rollback,
    /// Nothing more to do: read [`Executor::report`] and [`Executor::error`].
    Done,
}

/// The result of a [`Step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Ok,
    /// It failed, with the database's message.
    Err(String),
}

/// Internal program counter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Write the baseline row (first step of a baseline plan).
    Baseline,
    /// About to start file `i`: resolve its mode, maybe begin.
    FileStart(usize),
    /// Begin of file `i` was asked.
    FileBegin(usize),
    /// The "started" write of file `i` was asked.
    Started(usize),
    /// Statement `s` of file `f` was asked.
    Exec(usize, usize),
    /// The write after statement `s` of file `f` was asked.
    Progress(usize, usize),
    /// The final (deferred) write of file `f` was asked; `failed` if the
    /// file already failed.
    Final(usize, bool),
    /// The per-file commit of file `i` was asked.
    FileCommit(usize),
    /// A rollback after an error was asked.
    Rollback,
    /// The closing commit (tx mode all, or a transaction left open).
    Commit,
    /// A rollback after a failed commit (its outcome does not matter).
    RollbackAfterCommit,
    Done,
}

/// Runs a [`Plan`]; see the module documentation.
#[derive(Clone, Debug)]
pub struct Executor {
    plan: Plan,
    options: ExecOptions,
    state: State,
    /// The revision row of the current file, as Atlas keeps it in memory.
    rev: Revision,
    /// Time of the previous write of `rev` (for `execution_time`).
    last_write: Timestamp,
    /// Whether a transaction is open.
    tx: bool,
    /// The error to return, once one happened.
    error: Option<String>,
    report: ApplyReport,
    /// The time of the latest [`Executor::record`].
    now: Timestamp,
}

impl Executor {
    /// An executor for `plan`, starting at `now`.
    pub fn new(plan: Plan, options: ExecOptions, now: Timestamp) -> Executor {
        let report = ApplyReport {
            digest: plan.digest.clone(),
            sum: plan.sum.clone(),
            dry_run: options.dry_run,
            pending: plan
                .files
                .iter()
                .map(|f| FileRef {
                    name: f.name.clone(),
                    version: f.version.clone(),
                    description: f.description.clone(),
                })
                .collect(),
            current: plan.current.clone(),
            target: plan.target.clone(),
            start: now,
            end: None,
            applied: Vec::new(),
            error: None,
        };
        let state = if plan.baseline.is_some() && !options.dry_run { State::Baseline } else { State::FileStart(0) };
        let mut ex = Executor {
            plan,
            options,
            state,
            rev: Revision::default(),
            last_write: now,
            tx: false,
            error: None,
            report,
            now,
        };
        if ex.state == State::Baseline {
            // Atlas's `writeRevision` stamps the baseline row too:
            // `executed_at` and `operator_version`.
            ex.rev = ex.plan.baseline.clone().unwrap_or_default();
            ex.write(now);
        } else {
            ex.advance();
        }
        ex.settle();
        ex
    }

    /// The plan being run.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The report so far; complete once [`Executor::next`] is [`Step::Done`].
    pub fn report(&self) -> &ApplyReport {
        &self.report
    }

    /// The report.
    pub fn into_report(self) -> ApplyReport {
        self.report
    }

    /// The error the run ended with (Atlas's text), if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next thing the driver must do. Calling it again without
    /// [`Executor::record`] returns the same step.
    pub fn next(&self) -> Step<'_> {
        match &self.state {
            State::Baseline => Step::WriteRevision(&self.rev),
            State::FileBegin(_) => Step::Begin,
            State::Started(_) | State::Progress(..) | State::Final(..) => Step::WriteRevision(&self.rev),
            State::Exec(f, s) => {
                Step::Execute { file: *f, statement: *s, sql: &self.plan.files[*f].statements[*s].text }
            }
            State::FileCommit(_) | State::Commit => Step::Commit,
            State::Rollback | State::RollbackAfterCommit => Step::Rollback,
            State::FileStart(_) | State::Done => Step::Done,
        }
    }

    /// Takes the result of the step [`Executor::next`] returned, at `now`.
    pub fn record(&mut self, outcome: Outcome, now: Timestamp) {
        self.now = now;
        self.step(outcome);
        self.settle();
    }

    /// In a dry run, answers the database steps itself: statements "run"
    /// and writes are dropped, each at once.
    fn settle(&mut self) {
        while self.options.dry_run
            && matches!(self.state, State::Started(_) | State::Exec(..) | State::Progress(..) | State::Final(..))
        {
            self.step(Outcome::Ok);
        }
        if self.state == State::Done {
            if let Some(e) = &self.error {
                self.report.error = Some(e.clone());
            }
        }
    }

    fn step(&mut self, outcome: Outcome) {
        let now = self.now;
        let err = match outcome {
            Outcome::Ok => None,
            Outcome::Err(e) => Some(e),
        };
        match std::mem::replace(&mut self.state, State::Done) {
            State::Baseline => match err {
                // Atlas writes the baseline row while planning: a failure
                // is a planning error, with no report.
                Some(e) => {
                    self.fail_unlogged(format!("sql/migrate: write revision: {e}"));
                    self.state = State::Done;
                }
                None => {
                    self.state = State::FileStart(0);
                    self.advance();
                }
            },
            State::FileBegin(i) => match err {
                Some(e) => {
                    self.fail_unlogged(e);
                    self.state = State::Done;
                }
                None => {
                    self.tx = true;
                    self.start_file(i);
                }
            },
            State::Started(i) => match err {
                Some(e) => {
                    self.fail_logged(format!("sql/migrate: write revision: {e}"), None);
                    self.rollback_or_done();
                }
                None => {
                    self.last_write = now;
                    self.after_started(i);
                }
            },
            State::Exec(f, s) => match err {
                Some(e) => {
                    let stmt = self.plan.files[f].statements[s].text.clone();
                    if let Some(st) = self.report.applied.last_mut().and_then(|a| a.statements.last_mut()) {
                        st.end = Some(now);
                    }
                    self.fail_logged(e.clone(), Some(stmt.clone()));
                    self.error = Some(format!(
                        "sql/migrate: executing statement {} from version {}: {e}",
                        crate::text::go_quote(&stmt),
                        crate::text::go_quote(&self.rev.version)
                    ));
                    self.rev.execution_time = now - self.last_write;
                    self.rev.error_stmt = stmt;
                    self.rev.error = e;
                    self.final_write(f, true);
                }
                None => {
                    if let Some(st) = self.report.applied.last_mut().and_then(|a| a.statements.last_mut()) {
                        st.end = Some(now);
                    }
                    let hash = self.plan.files[f].statements[s].hash.clone();
                    self.rev.partial_hashes.get_or_insert_with(Vec::new).push(hash);
                    self.rev.applied += 1;
                    if !self.rev.error.is_empty() {
                        self.rev.error.clear();
                        self.rev.error_stmt.clear();
                    }
                    self.write(now);
                    self.state = State::Progress(f, s);
                }
            },
            State::Progress(f, s) => match err {
                Some(e) => {
                    self.fail_logged(format!("sql/migrate: write revision: {e}"), None);
                    self.rollback_or_done();
                }
                None => {
                    self.last_write = now;
                    self.exec_from(f, s + 1);
                }
            },
            State::Final(f, failed) => {
                if let Some(e) = err {
                    let w = format!("sql/migrate: write revision: {e}");
                    self.error = Some(match self.error.take() {
                        Some(prev) => format!("{prev}\n{w}"),
                        None => w,
                    });
                }
                if failed || self.error.is_some() {
                    self.rollback_or_done();
                } else {
                    self.after_file(f);
                }
            }
            State::FileCommit(i) => match err {
                Some(e) => {
                    self.tx = false;
                    self.fail_unlogged(e);
                    self.state = State::RollbackAfterCommit;
                }
                None => {
                    self.tx = false;
                    self.state = State::FileStart(i + 1);
                    self.advance();
                }
            },
            State::Rollback => {
                self.tx = false;
                if let Some(e) = err {
                    let prev = self.error.take().unwrap_or_default();
                    self.error = Some(format!("{e}: {prev}"));
                }
                self.state = State::Done;
            }
            State::Commit => {
                self.tx = false;
                match err {
                    Some(e) => {
                        self.fail_unlogged(e);
                        self.state = State::RollbackAfterCommit;
                    }
                    None => self.log_done(now),
                }
            }
            State::RollbackAfterCommit => self.state = State::Done,
            s @ (State::FileStart(_) | State::Done) => self.state = s,
        }
    }

    /// Moves from `FileStart(i)` to the next step that needs the driver.
    fn advance(&mut self) {
        let State::FileStart(i) = self.state else { return };
        if i >= self.plan.files.len() {
            if self.tx {
                self.state = State::Commit;
            } else {
                let now = self.now;
                self.log_done(now);
            }
            return;
        }
        let file = &self.plan.files[i];
        // Atlas resolves the file's transaction mode first (`driverFor`).
        if let Some(
            e @ (PlanError::UnknownTxModeDirective { .. }
            | PlanError::MultipleTxModeDirectives { .. }
            | PlanError::TxModeAllInDirective { .. }
            | PlanError::TxModeConflict { .. }),
        ) = &file.error
        {
            let msg = e.to_string();
            self.fail_unlogged(msg);
            self.rollback_or_done();
            return;
        }
        if self.options.dry_run {
            self.start_file(i);
            return;
        }
        match file.tx_mode {
            TxMode::None => self.start_file(i),
            TxMode::File | TxMode::All if self.tx => {
                if file.tx_mode == TxMode::File {
                    // Atlas: "unexpected active transaction" (a file-mode
                    // directive after another one under --tx-mode none).
                    self.fail_unlogged("unexpected active transaction".into());
                    self.rollback_or_done();
                } else {
                    self.start_file(i);
                }
            }
            TxMode::File | TxMode::All => self.state = State::FileBegin(i),
        }
    }

    /// Atlas's `Executor.Execute` up to the "started" write.
    fn start_file(&mut self, i: usize) {
        let file = &self.plan.files[i];
        if let Some(e @ PlanError::Scan { .. }) = &file.error {
            let msg = e.to_string();
            self.fail_logged(msg, None);
            self.rollback_or_done();
            return;
        }
        self.rev = match &file.revision {
            Some(r) => r.clone(),
            None => Revision {
                version: file.version.clone(),
                description: file.description.clone(),
                kind: super::RevisionType::EXECUTE,
                total: file.statements.len() as u64,
                hash: file.hash.clone(),
                ..Revision::default()
            },
        };
        let now = self.now;
        self.write(now);
        self.state = State::Started(i);
    }

    /// After the "started" write: the history check, then the statements.
    fn after_started(&mut self, i: usize) {
        let file = &self.plan.files[i];
        if let Some(e @ PlanError::HistoryChanged { .. }) = &file.error {
            let msg = e.to_string();
            self.fail_logged(msg.clone(), None);
            self.error = Some(msg);
            self.final_write(i, true);
            return;
        }
        self.report.applied.push(AppliedFile {
            name: file.name.clone(),
            version: file.version.clone(),
            description: file.description.clone(),
            start: self.now,
            end: None,
            skipped: file.skip,
            statements: Vec::new(),
            error: None,
        });
        // Close the previous file's entry (Atlas sets it on the next "file" log).
        let n = self.report.applied.len();
        if n > 1 {
            self.report.applied[n - 2].end = Some(self.now);
        }
        self.exec_from(i, file.skip);
    }

    /// Asks for statement `s` of file `f`, or finishes the file.
    fn exec_from(&mut self, f: usize, s: usize) {
        let file = &self.plan.files[f];
        if s >= file.statements.len() {
            // A resumed file whose statement count changed since its first
            // attempt: Atlas keeps the old `total`, so the row stays
            // "partial" and every later run fails on it (Atlas panics). The
            // file is complete: record it so, for both tools.
            self.rev.total = self.rev.applied;
            self.rev.partial_hashes = None;
            self.rev.execution_time = self.now - self.last_write;
            self.final_write(f, false);
            return;
        }
        let text = file.statements[s].text.clone();
        let now = self.now;
        if let Some(a) = self.report.applied.last_mut() {
            a.statements.push(AppliedStatement { text, start: now, end: None });
        }
        self.state = State::Exec(f, s);
    }

    /// The deferred write at the end of Atlas's `Execute`.
    fn final_write(&mut self, f: usize, failed: bool) {
        let now = self.now;
        self.write(now);
        self.state = State::Final(f, failed);
    }

    /// After a file succeeded: the per-file commit, or the next file.
    fn after_file(&mut self, f: usize) {
        // Atlas commits per file only when the global mode is `file`.
        if self.tx && !self.options.dry_run && self.plan.options.tx_mode == TxMode::File {
            self.state = State::FileCommit(f);
        } else {
            self.state = State::FileStart(f + 1);
            self.advance();
        }
    }

    /// Prepares `rev` for a write at `now`.
    fn write(&mut self, now: Timestamp) {
        self.rev.executed_at = crate::report::rfc3339(now);
        self.rev.operator_version.clone_from(&self.options.operator_version);
    }

    /// An error Atlas logs (`LogError`): attached to the last started file,
    /// or to the report when none started.
    fn fail_logged(&mut self, text: String, stmt: Option<String>) {
        let now = self.now;
        self.error = Some(text.clone());
        match self.report.applied.last_mut() {
            Some(f) => {
                f.end = Some(now);
                self.report.end = Some(now);
                f.error = Some(StmtError { stmt: stmt.unwrap_or_default(), text });
            }
            None => {
                self.report.end = Some(now);
                self.report.error = Some(text);
            }
        }
    }

    /// An error Atlas returns without logging it: only the report's error.
    fn fail_unlogged(&mut self, text: String) {
        self.error = Some(text.clone());
        self.report.error = Some(text);
    }

    fn rollback_or_done(&mut self) {
        if self.tx && !self.options.dry_run {
            self.state = State::Rollback;
        } else {
            self.state = State::Done;
        }
    }

    fn log_done(&mut self, now: Timestamp) {
        if let Some(f) = self.report.applied.last_mut() {
            f.end = Some(now);
        }
        self.report.end = Some(now);
        self.state = State::Done;
    }
}
