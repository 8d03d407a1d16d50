//! Property tests of planning and execution (spec §5, §6): the core's
//! [`Executor`] driven against an in-memory database double.
//!
//! The double ([`Db`]) keeps the revisions table (Atlas's upsert: `version`,
//! `description` and `executed_at` are kept on conflict), the statements
//! that took effect (the "schema state", one entry per statement), every
//! statement sent, and transactions as a snapshot of rows and schema state
//! taken at `Begin` and restored at `Rollback`. A statement text can be
//! made to fail.
//!
//! Directories are generated: 1 to 30 files with random fixed-width
//! versions, random descriptions, 0 to 6 statements each, some with an
//! `-- atlas:txmode none` header, and an `atlas.sum` computed by
//! [`SumFile::compute`]. Database states are produced by running the
//! executor: a random number of runs with random transaction modes,
//! amounts, target versions and failing statements, against the directory
//! as it was then (some files are only added afterwards, some of them below
//! the last applied version).
//!
//! Properties:
//! 1. `apply_to_completion`: planning and applying until nothing is pending
//!    (with random options) leaves exactly the rows Atlas's rules predict,
//!    each complete, and every statement took effect exactly once; each
//!    plan lists exactly the files a separate model of Atlas's `Pending`
//!    predicts.
//! 2. `resume_after_fix`: a statement fails in the middle of a file (tx mode
//!    none), the unapplied part is edited and `atlas.sum` regenerated, and a
//!    new plan resumes: every statement of the final files took effect
//!    exactly once, in order.
//! 3. `edited_history_is_refused`: editing an already applied statement of
//!    a partially applied file gives `history-changed` on that file, naming
//!    the first edited statement, and executing the plan runs nothing.
//! 4. `digest_identifies_inputs`: the digest is the same for the same
//!    inputs and changes with any planning-relevant field of a revision
//!    row, any byte of a file, any option and the dialect; it ignores
//!    `executed_at`, `execution_time` and `operator_version`.
//! 5. `digest_is_injective`: different inputs with look-alike encodings (a
//!    list of partial hashes against its items joined by `,`, `null`
//!    against `["null"]`, unset options against `""`) get different
//!    digests; the smallest cases are in `digest_collisions`.
//!
//! Beside them, `unsorted_revisions_are_searched_like_go` pins Atlas's
//! binary search over rows a database returned in another collation.
//!
//! Cases: proptest's default (256 per property; `PROPTEST_CASES` changes
//! it); about 5 s in a debug build.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use std::collections::BTreeMap;
use strata::dir::{DirOptions, Directory};
use strata::lex::Dialect;
use strata::plan::{
    plan, DbState, ExecOptions, ExecOrder, Executor, Outcome, Plan, PlanError, PlanOptions, Revision, RevisionType,
    Step, TxMode,
};
use strata::sum::SumFile;

// ---- generated directories ---------------------------------------------------

/// A generated migration file.
#[derive(Clone, Debug)]
struct FileSpec {
    version: String,
    description: String,
    /// `-- atlas:txmode none` header.
    none_header: bool,
    /// Only added to the directory after the history ran.
    late: bool,
    stmts: Vec<String>,
}

impl FileSpec {
    fn name(&self) -> String {
        if self.description.is_empty() {
            format!("{}.sql", self.version)
        } else {
            format!("{}_{}.sql", self.version, self.description)
        }
    }

    /// The content, and the byte offset of each statement in it.
    fn content(&self) -> (Vec<u8>, Vec<usize>) {
        let mut s = String::new();
        if self.none_header {
            s.push_str("-- atlas:txmode none\n\n");
        }
        let mut offsets = Vec::new();
        for st in &self.stmts {
            offsets.push(s.len());
            s.push_str(st);
            s.push('\n');
        }
        (s.into_bytes(), offsets)
    }

    /// The 1-based line statement `i` starts on.
    fn line_of(&self, i: usize) -> usize {
        let (bytes, offsets) = self.content();
        1 + bytes[..offsets[i]].iter().filter(|&&b| b == b'\n').count()
    }
}

/// A statement text, unique for (file, index, generation).
fn stmt_text(file: usize, k: usize, generation: u32, shape: u8) -> String {
    match shape % 3 {
        0 => format!("CREATE TABLE t{file}_{k}_g{generation} (id int);"),
        // A semicolon and a comment marker inside a string: not the end.
        1 => format!("INSERT INTO t{file} (id, note) VALUES ({k}, 'g{generation}; -- not the end');"),
        _ => format!("ALTER TABLE t{file}\n  ADD COLUMN c{k}_g{generation} int;"),
    }
}

const DESCRIPTIONS: &[&str] = &["", "init", "add_users", "x", "create_posts_table", "fix", "a_b_c"];

fn files_strategy(min_files: usize) -> impl Strategy<Value = Vec<FileSpec>> {
    (3u32..=14, min_files..=30usize)
        .prop_flat_map(|(width, n)| {
            let lo = 10u64.pow(width - 1);
            let hi = 10u64.pow(width);
            let file = (
                prop::sample::select(DESCRIPTIONS),
                prop::bool::weighted(0.25),
                prop::bool::weighted(0.2),
                prop::collection::vec(0u8..3, 0..=6),
            );
            (prop::collection::btree_set(lo..hi, n), prop::collection::vec(file, n))
        })
        .prop_map(|(versions, metas)| {
            versions
                .into_iter()
                .zip(metas)
                .enumerate()
                .map(|(i, (v, (d, none_header, late, shapes)))| FileSpec {
                    version: v.to_string(),
                    description: d.to_string(),
                    none_header,
                    late,
                    stmts: shapes.iter().enumerate().map(|(k, &s)| stmt_text(i, k, 0, s)).collect(),
                })
                .collect()
        })
}

fn dialect_strategy() -> impl Strategy<Value = Dialect> {
    prop::sample::select(&[Dialect::Generic, Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite][..])
}

/// The directory entries (with a fresh `atlas.sum`), in an order that does
/// not matter.
fn entries(files: &[&FileSpec]) -> Vec<(String, Vec<u8>)> {
    let mut e: Vec<(String, Vec<u8>)> = files.iter().map(|f| (f.name(), f.content().0)).collect();
    e.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let sum = SumFile::compute(e.iter().map(|(n, b)| (n.as_str(), b.as_slice()))).render();
    e.push(("atlas.sum".into(), sum.into_bytes()));
    e
}

fn directory_of(entries: Vec<(String, Vec<u8>)>, dialect: Dialect) -> Directory {
    Directory::with_options(entries, DirOptions { dialect, ..DirOptions::default() }).expect("a valid directory")
}

/// The whole directory, or only the files present before the late ones.
fn directory(files: &[FileSpec], dialect: Dialect, with_late: bool) -> Directory {
    let present: Vec<&FileSpec> = files.iter().filter(|f| with_late || !f.late).collect();
    directory_of(entries(&present), dialect)
}

// ---- the database double -------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct Db {
    rows: BTreeMap<String, Revision>,
    /// Statements that took effect: (version, text).
    schema: Vec<(String, String)>,
    /// Every statement sent, including failed and rolled back ones.
    sent: Vec<String>,
    /// Snapshot of `rows` and the length of `schema` at `Begin`.
    tx: Option<(BTreeMap<String, Revision>, usize)>,
    /// Executing this text fails.
    fail: Option<String>,
}

const DB_ERROR: &str = "pq: relation already exists";

impl Db {
    fn state(&self) -> DbState {
        DbState { revisions: self.rows.values().cloned().collect(), ..DbState::default() }
    }

    fn upsert(&mut self, r: &Revision) -> Outcome {
        match self.rows.get_mut(&r.version) {
            Some(row) => row.update_from(r),
            None => {
                self.rows.insert(r.version.clone(), r.clone());
            }
        }
        Outcome::Ok
    }

    /// Runs `p` to the end; returns the executor's error.
    fn apply(&mut self, p: Plan) -> Option<String> {
        let opts = ExecOptions { operator_version: "strata test".into(), dry_run: false };
        let mut now = 1_700_000_000_000_000_000;
        let mut ex = Executor::new(p, opts, now);
        for _ in 0..100_000 {
            now += 1_000_000;
            let outcome = match ex.next() {
                Step::Done => {
                    assert!(self.tx.is_none(), "the executor finished with a transaction open");
                    assert!(ex.is_done());
                    return ex.error().map(str::to_string);
                }
                Step::Begin => {
                    assert!(self.tx.is_none(), "Begin inside a transaction");
                    self.tx = Some((self.rows.clone(), self.schema.len()));
                    Outcome::Ok
                }
                Step::Commit => {
                    assert!(self.tx.take().is_some(), "Commit without a transaction");
                    Outcome::Ok
                }
                Step::Rollback => {
                    let (rows, n) = self.tx.take().expect("Rollback without a transaction");
                    self.rows = rows;
                    self.schema.truncate(n);
                    Outcome::Ok
                }
                Step::WriteRevision(r) => self.upsert(r),
                Step::Execute { file, statement, sql } => {
                    let f = &ex.plan().files[file];
                    assert_eq!(sql, f.statements[statement].text);
                    self.sent.push(sql.to_string());
                    if self.fail.as_deref() == Some(sql) {
                        Outcome::Err(DB_ERROR.into())
                    } else {
                        self.schema.push((f.version.clone(), sql.to_string()));
                        Outcome::Ok
                    }
                }
            };
            ex.record(outcome, now);
        }
        panic!("the executor did not finish in 100,000 steps");
    }

    /// The statements of `version` that took effect.
    fn effective(&self, version: &str) -> Vec<&str> {
        self.schema.iter().filter(|(v, _)| v == version).map(|(_, s)| s.as_str()).collect()
    }
}

/// The fields of a row that planning reads (all but `executed_at`,
/// `execution_time` and `operator_version`).
fn planning_fields(r: &Revision) -> impl PartialEq + std::fmt::Debug {
    (
        r.version.clone(),
        r.description.clone(),
        r.kind,
        r.applied,
        r.total,
        r.error.clone(),
        r.error_stmt.clone(),
        r.hash.clone(),
        r.partial_hashes.clone(),
    )
}

/// The schema state agrees with the rows: the statements of a file that
/// took effect are exactly the first `applied` of `stmts`, and none took
/// effect for a file without a row.
fn check_agreement(db: &Db, files: &[FileSpec]) -> Result<(), TestCaseError> {
    for f in files {
        let got = db.effective(&f.version);
        match db.rows.get(&f.version) {
            Some(row) => {
                let n = row.applied as usize;
                prop_assert!(n <= f.stmts.len(), "{}: applied {} of {}", f.name(), n, f.stmts.len());
                prop_assert_eq!(&got, &f.stmts[..n], "{}: schema state against applied = {}", f.name(), n);
                // Partial: one hash per applied statement (`null` before the
                // first one succeeded, as Atlas writes it).
                if row.is_partial() {
                    prop_assert_eq!(row.partial_hashes.as_ref().map_or(0, Vec::len), n, "{}", f.name());
                }
            }
            None => prop_assert!(got.is_empty(), "{}: statements took effect without a row: {:?}", f.name(), got),
        }
    }
    prop_assert_eq!(db.schema.len(), db.rows.values().map(|r| r.applied as usize).sum::<usize>());
    Ok(())
}

// ---- a model of Atlas's Pending (spec §6.2), over sets rather than indices ------

/// The pending files (indices into `files`, all present), or the files
/// added out of order under `--exec-order linear`.
fn model_pending(
    files: &[FileSpec],
    rows: &BTreeMap<String, Revision>,
    order: ExecOrder,
) -> Result<Vec<usize>, Vec<usize>> {
    let (Some(first), Some((last, last_row))) = (rows.keys().next(), rows.iter().next_back()) else {
        return Ok((0..files.len()).collect());
    };
    let (first, last) = (first.as_str(), last.as_str());
    let v = |i: usize| files[i].version.as_str();
    let normal: Vec<usize> =
        (0..files.len()).filter(|&i| v(i) > last || (v(i) == last && last_row.is_partial())).collect();
    let ooo: Vec<usize> =
        (0..files.len()).filter(|&i| !rows.contains_key(v(i)) && v(i) >= first && v(i) < last).collect();
    match order {
        ExecOrder::Linear if !ooo.is_empty() => Err(ooo),
        ExecOrder::Linear | ExecOrder::LinearSkip => Ok(normal),
        ExecOrder::NonLinear => Ok(ooo.into_iter().chain(normal).collect()),
    }
}

enum Expect {
    Files(Vec<usize>),
    NonLinear(Vec<usize>),
    VersionNotFound,
}

fn model_plan(files: &[FileSpec], rows: &BTreeMap<String, Revision>, opts: &PlanOptions) -> Expect {
    let mut pending = match model_pending(files, rows, opts.exec_order) {
        Ok(p) => p,
        Err(ooo) => return Expect::NonLinear(ooo),
    };
    if let (Some(to), false) = (&opts.to_version, pending.is_empty()) {
        match pending.iter().rposition(|&i| &files[i].version == to) {
            Some(k) => pending.truncate(k + 1),
            None => return Expect::VersionNotFound,
        }
    }
    if let Some(n) = opts.amount {
        pending.truncate(n as usize);
    }
    Expect::Files(pending)
}

fn names(files: &[FileSpec], idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| files[i].name()).collect()
}

// ---- random histories ------------------------------------------------------------

fn tx_strategy() -> impl Strategy<Value = TxMode> {
    prop::sample::select(&[TxMode::None, TxMode::File, TxMode::All][..])
}

fn order_strategy() -> impl Strategy<Value = ExecOrder> {
    prop::sample::select(&[ExecOrder::Linear, ExecOrder::LinearSkip, ExecOrder::NonLinear][..])
}

/// One `migrate apply` of the history.
#[derive(Clone, Debug)]
struct Run {
    tx: TxMode,
    amount: Option<u64>,
    /// A target version: a file of the directory at the time.
    to: Option<Index>,
    /// A statement that fails: (file, statement) among the files present.
    fail: Option<(Index, Index)>,
}

fn run_strategy() -> impl Strategy<Value = Run> {
    (
        tx_strategy(),
        prop::option::weighted(0.5, 1u64..=6),
        prop::option::weighted(0.3, any::<Index>()),
        prop::option::weighted(0.5, any::<(Index, Index)>()),
    )
        .prop_map(|(tx, amount, to, fail)| Run { tx, amount, to, fail })
}

fn options_strategy() -> impl Strategy<Value = (TxMode, ExecOrder, Option<u64>, Option<Index>)> {
    (
        tx_strategy(),
        order_strategy(),
        prop::option::weighted(0.4, 1u64..=8),
        prop::option::weighted(0.3, any::<Index>()),
    )
}

/// Runs the history against the directory without the late files. Errors
/// (planning refusals, failed statements, tx-mode conflicts) are part of
/// the history; the rows must agree with the schema state after each run.
fn run_history(db: &mut Db, files: &[FileSpec], dialect: Dialect, runs: &[Run]) -> Result<(), TestCaseError> {
    let early: Vec<FileSpec> = files.iter().filter(|f| !f.late).cloned().collect();
    if early.is_empty() {
        return Ok(());
    }
    let dir = directory(files, dialect, false);
    for r in runs {
        let opts = PlanOptions {
            tx_mode: r.tx,
            amount: r.amount,
            to_version: r.to.map(|i| early[i.index(early.len())].version.clone()),
            ..PlanOptions::default()
        };
        db.fail = r.fail.and_then(|(f, s)| {
            let f = &early[f.index(early.len())];
            (!f.stmts.is_empty()).then(|| f.stmts[s.index(f.stmts.len())].clone())
        });
        if let Ok(p) = plan(&dir, &db.state(), &opts) {
            db.apply(p);
        }
        db.fail = None;
        check_agreement(db, &early)?;
    }
    Ok(())
}

// ---- property 1 ----------------------------------------------------------------

fn apply_to_completion(
    files: Vec<FileSpec>,
    dialect: Dialect,
    history: Vec<Run>,
    (tx, order, amount, to): (TxMode, ExecOrder, Option<u64>, Option<Index>),
) -> Result<(), TestCaseError> {
    let mut db = Db::default();
    run_history(&mut db, &files, dialect, &history)?;
    // A row keeps the atlas.sum entry hash of its first write, and entry
    // hashes are cumulative: files added before a file change its hash.
    let early_sum = directory(&files, dialect, false).checksum();
    let history_rows: Vec<String> = db.rows.keys().cloned().collect();
    let dir = directory(&files, dialect, true);
    let sum = dir.checksum();

    // Files Atlas never applies from here: added below the first revision,
    // or out of order under linear-skip.
    let never: Vec<usize> = match (db.rows.keys().next(), db.rows.keys().next_back()) {
        (Some(first), Some(last)) => (0..files.len())
            .filter(|&i| {
                let v = files[i].version.as_str();
                !db.rows.contains_key(v)
                    && (v < first.as_str() || (order == ExecOrder::LinearSkip && v < last.as_str()))
            })
            .collect(),
        _ => Vec::new(),
    };

    let mut opts = PlanOptions {
        tx_mode: tx,
        exec_order: order,
        amount,
        to_version: to.map(|i| files[i.index(files.len())].version.clone()),
        ..PlanOptions::default()
    };
    let mut finished = false;
    for _ in 0..100 {
        let expect = model_plan(&files, &db.rows, &opts);
        let got = plan(&dir, &db.state(), &opts);
        let p = match (expect, got) {
            (Expect::NonLinear(ooo), Err(PlanError::NonLinear { out_of_order, .. })) => {
                prop_assert_eq!(out_of_order, names(&files, &ooo));
                opts.exec_order = ExecOrder::NonLinear;
                continue;
            }
            (Expect::VersionNotFound, Err(e @ PlanError::VersionNotFound { .. })) => {
                prop_assert_eq!(e.code(), "version-not-found");
                opts.to_version = None;
                continue;
            }
            (Expect::Files(want), Ok(p)) => {
                let got: Vec<String> = p.files.iter().map(|f| f.name.clone()).collect();
                prop_assert_eq!(got, names(&files, &want), "planned files");
                for (pf, &i) in p.files.iter().zip(&want) {
                    let texts: Vec<&str> = pf.statements.iter().map(|s| s.text.as_str()).collect();
                    prop_assert_eq!(&texts, &files[i].stmts, "{} statements", pf.name);
                    let skip = db.rows.get(&files[i].version).map_or(0, |r| r.applied as usize);
                    prop_assert_eq!(pf.skip, skip, "{} resumes after the applied statements", pf.name);
                    let (mode, error) = mode_of(&files[i], opts.tx_mode);
                    prop_assert_eq!(pf.tx_mode, mode, "{}", pf.name);
                    prop_assert_eq!(&pf.error, &error, "{}", pf.name);
                }
                p
            }
            (expect, got) => {
                let want = match expect {
                    Expect::Files(f) => format!("files {:?}", names(&files, &f)),
                    Expect::NonLinear(f) => format!("non-linear error for {:?}", names(&files, &f)),
                    Expect::VersionNotFound => "version-not-found".into(),
                };
                let got = got.map(|p| p.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
                return Err(TestCaseError::fail(format!("expected {want}, planned {got:?} with {opts:?}")));
            }
        };
        if p.is_empty() {
            if opts.amount.is_none() && opts.to_version.is_none() {
                finished = true;
                break;
            }
            opts.amount = None;
            opts.to_version = None;
            continue;
        }
        // Global tx mode all and a file with a txmode directive: Atlas
        // refuses when it reaches the file, and the whole run rolls back.
        let conflict = p.first_error().map(|(_, e)| e.to_string());
        let before = db.clone();
        let err = db.apply(p);
        match conflict {
            Some(want) => {
                prop_assert!(want.starts_with("cannot set txmode directive to \"none\" in "), "{}", want);
                prop_assert_eq!(err, Some(want));
                prop_assert_eq!(&db.rows, &before.rows, "tx mode all rolls everything back");
                prop_assert_eq!(&db.schema, &before.schema);
                opts.tx_mode = TxMode::File;
            }
            None => prop_assert_eq!(err, None),
        }
        check_agreement(&db, &files)?;
    }
    prop_assert!(finished, "still pending after 100 rounds");

    // One complete row per file, except those Atlas never applies.
    let applied: Vec<String> =
        (0..files.len()).filter(|i| !never.contains(i)).map(|i| files[i].version.clone()).collect();
    prop_assert_eq!(db.rows.keys().cloned().collect::<Vec<_>>(), applied);
    for f in &files {
        if let Some(r) = db.rows.get(&f.version) {
            prop_assert_eq!(r.applied as usize, f.stmts.len(), "{}", f.name());
            prop_assert_eq!(r.total as usize, f.stmts.len(), "{}", f.name());
            prop_assert_eq!(&r.partial_hashes, &None, "{}", f.name());
            prop_assert_eq!((r.error.as_str(), r.error_stmt.as_str()), ("", ""), "{}", f.name());
            prop_assert_eq!(r.kind, RevisionType::EXECUTE);
            prop_assert_eq!(&r.description, &f.description);
            let first_sum = if history_rows.contains(&f.version) { &early_sum } else { &sum };
            prop_assert_eq!(Some(r.hash.as_str()), first_sum.hash_of(&f.name()), "{}", f.name());
            prop_assert_eq!(db.effective(&f.version), f.stmts.iter().map(String::as_str).collect::<Vec<_>>());
        } else {
            prop_assert!(db.effective(&f.version).is_empty());
        }
    }
    // Planning again with the default options: nothing pending.
    let again = plan(&dir, &db.state(), &PlanOptions { exec_order: opts.exec_order, ..PlanOptions::default() });
    prop_assert!(again.map(|p| p.files.is_empty()).unwrap_or(false));
    Ok(())
}

// ---- properties 2 and 3: a failure in the middle of a file -----------------------

/// Runs `files` from an empty database, optionally `prefix` files first
/// (with `prefix_tx`), then a tx-mode-none run where statement `k` of file
/// `f` fails. Returns the database.
fn fail_in_file(
    files: &[FileSpec],
    dialect: Dialect,
    prefix: Option<(usize, TxMode)>,
    f: usize,
    k: usize,
) -> Result<Db, TestCaseError> {
    let dir = directory(files, dialect, true);
    let mut db = Db::default();
    if let Some((amount, tx)) = prefix {
        let mut opts = PlanOptions { tx_mode: tx, amount: Some(amount as u64), ..PlanOptions::default() };
        if tx == TxMode::All && files[..amount].iter().any(|f| f.none_header) {
            opts.tx_mode = TxMode::File;
        }
        let p = plan(&dir, &db.state(), &opts).expect("plan");
        prop_assert_eq!(db.apply(p), None);
        check_agreement(&db, files)?;
    }
    let failing = files[f].stmts[k].clone();
    db.fail = Some(failing.clone());
    let p = plan(&dir, &db.state(), &PlanOptions { tx_mode: TxMode::None, ..PlanOptions::default() }).expect("plan");
    let err = db.apply(p).expect("the run fails");
    db.fail = None;
    prop_assert!(err.starts_with("sql/migrate: executing statement \""), "{}", err);
    let suffix = format!("from version \"{}\": {DB_ERROR}", files[f].version);
    prop_assert!(err.ends_with(&suffix), "{}", err);
    check_agreement(&db, files)?;
    // Files before f complete, f partial at k, nothing after.
    let want: Vec<&str> = files[..f].iter().map(|x| x.version.as_str()).chain([files[f].version.as_str()]).collect();
    prop_assert_eq!(db.rows.keys().map(String::as_str).collect::<Vec<_>>(), want);
    let row = &db.rows[&files[f].version];
    prop_assert_eq!((row.applied as usize, row.total as usize), (k, files[f].stmts.len()));
    prop_assert_eq!(row.error.as_str(), DB_ERROR);
    prop_assert_eq!(&row.error_stmt, &failing);
    Ok(db)
}

/// The transaction mode and error a file is planned with under the global
/// `mode`: its `-- atlas:txmode none` directive wins, except against a
/// global `all`, which Atlas refuses when it reaches the file.
fn mode_of(f: &FileSpec, mode: TxMode) -> (TxMode, Option<PlanError>) {
    match (f.none_header, mode) {
        (true, TxMode::All) => (TxMode::All, Some(PlanError::TxModeConflict { file: f.name(), mode: "none".into() })),
        (true, _) => (TxMode::None, None),
        (false, m) => (m, None),
    }
}

/// Makes sure file `f` has at least `n` statements.
fn at_least(files: &mut [FileSpec], f: usize, n: usize) {
    while files[f].stmts.len() < n {
        let k = files[f].stmts.len();
        files[f].stmts.push(stmt_text(f, k, 0, k as u8));
    }
}

#[allow(clippy::too_many_arguments)]
fn resume_after_fix(
    mut files: Vec<FileSpec>,
    dialect: Dialect,
    f: Index,
    k: Index,
    prefix: Option<(Index, TxMode)>,
    tail: Option<Vec<u8>>,
    tx: TxMode,
    order: ExecOrder,
) -> Result<(), TestCaseError> {
    for x in &mut files {
        x.late = false;
    }
    let f = f.index(files.len());
    at_least(&mut files, f, 1);
    let n = files[f].stmts.len();
    let k = k.index(n);
    let prefix = prefix.filter(|_| f > 0).map(|(a, t)| (1 + a.index(f), t));
    let mut db = fail_in_file(&files, dialect, prefix, f, k)?;
    let failed = files[f].stmts[k].clone();

    // The fix: statements from k on are replaced (None: the same ones, the
    // failure was transient), and atlas.sum is regenerated.
    if let Some(shapes) = &tail {
        files[f].stmts.truncate(k);
        files[f].stmts.extend(shapes.iter().enumerate().map(|(j, &s)| stmt_text(f, k + j, 1, s)));
    }
    let fixed = files[f].stmts.len();
    let dir = directory(&files, dialect, true);
    let mut opts = PlanOptions { tx_mode: tx, exec_order: order, ..PlanOptions::default() };
    let p = plan(&dir, &db.state(), &opts).expect("plan");
    prop_assert_eq!(&p.files[0].name, &files[f].name());
    prop_assert_eq!(p.files[0].skip, k);
    prop_assert_eq!(&p.files[0].error, &mode_of(&files[f], tx).1);
    prop_assert_eq!(p.files.len(), files.len() - f);
    let before_resume = db.sent.len();
    let mut resumed_at = before_resume;
    let mut err = db.apply(p);
    if tx == TxMode::All && files[f..].iter().any(|x| x.none_header) {
        // Refused at the file with the directive, all rolled back: again
        // with one transaction per file.
        prop_assert!(err.as_deref().is_some_and(|e| e.starts_with("cannot set txmode directive")), "{:?}", err);
        opts.tx_mode = TxMode::File;
        resumed_at = db.sent.len();
        err = db.apply(plan(&dir, &db.state(), &opts).expect("plan"));
    }
    prop_assert_eq!(err, None);

    // Every statement of the final files took effect exactly once, in order.
    let want: Vec<&str> = files.iter().flat_map(|x| x.stmts.iter().map(String::as_str)).collect();
    let got: Vec<&str> = db.schema.iter().map(|(_, s)| s.as_str()).collect();
    prop_assert_eq!(got, want.clone());
    // Sent: the same, plus the failed attempt (and the statements of a
    // run that was rolled back).
    let at = files[..f].iter().map(|x| x.stmts.len()).sum::<usize>() + k;
    let mut sent_want = want[..at].to_vec();
    sent_want.push(&failed);
    prop_assert_eq!(&db.sent[..before_resume], &sent_want[..]);
    prop_assert_eq!(&db.sent[resumed_at..], &want[at..]);

    // The rows. Atlas reuses the partial row as is (spec §6.5 step 4), but
    // a completed file records total = applied, also when the fix changed
    // its statement count (Atlas keeps the old total there, and then fails
    // on that row forever).
    let _ = n;
    for (i, x) in files.iter().enumerate() {
        let r = &db.rows[&x.version];
        prop_assert_eq!(r.applied as usize, x.stmts.len(), "{}", x.name());
        prop_assert_eq!(&r.partial_hashes, &None);
        prop_assert_eq!(r.total, r.applied);
        if i == f {
            // The error is cleared by the first statement that succeeds.
            let cleared = fixed > k;
            prop_assert_eq!(r.error.is_empty(), cleared);
        } else {
            prop_assert_eq!(r.total as usize, x.stmts.len());
            prop_assert!(r.error.is_empty());
        }
    }
    // Planning again: nothing pending.
    let again = plan(&dir, &db.state(), &PlanOptions::default()).expect("plan");
    prop_assert!(again.files.is_empty(), "{:?}", again.files.iter().map(|x| &x.name).collect::<Vec<_>>());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn edited_history_is_refused(
    mut files: Vec<FileSpec>,
    dialect: Dialect,
    f: Index,
    k: Index,
    edits: Vec<(Index, u8)>,
    edit_tail: bool,
    tx: TxMode,
    amount: Option<u64>,
) -> Result<(), TestCaseError> {
    for x in &mut files {
        x.late = false;
    }
    let f = f.index(files.len());
    at_least(&mut files, f, 2);
    let n = files[f].stmts.len();
    let k = 1 + k.index(n - 1); // 1..n: at least one statement applied
    let mut db = fail_in_file(&files, dialect, None, f, k)?;

    // Edit applied statements (at least one), maybe the rest too.
    let mut first = usize::MAX;
    for (j, shape) in &edits {
        let j = j.index(k);
        files[f].stmts[j] = stmt_text(f, j, 2, *shape);
        first = first.min(j);
    }
    if edit_tail {
        for j in k..n {
            files[f].stmts[j] = stmt_text(f, j, 3, j as u8);
        }
    }
    let dir = directory(&files, dialect, true);
    let opts = PlanOptions { tx_mode: tx, amount, ..PlanOptions::default() };
    let p = plan(&dir, &db.state(), &opts).expect("plan");
    let name = files[f].name();
    prop_assert_eq!(&p.files[0].name, &name);
    let want = match mode_of(&files[f], tx).1 {
        // A global `all` against the file's directive: Atlas resolves the
        // mode before it reads the revision, so that error comes first.
        Some(conflict) => conflict,
        None => {
            let want = PlanError::HistoryChanged {
                file: name.clone(),
                statement: first + 1,
                line: Some(files[f].line_of(first)),
            };
            prop_assert_eq!(want.code(), "history-changed");
            let msg = format!("sql/migrate: history changed: statement {} from file \"{name}\" changed", first + 1);
            prop_assert_eq!(want.to_string(), msg);
            want
        }
    };
    prop_assert_eq!(p.files[0].error.as_ref(), Some(&want));
    prop_assert_eq!(p.first_error().map(|(pf, e)| (pf.name.clone(), e.clone())), Some((name, want.clone())));

    // Executing it runs nothing (nothing from the file, and it stops there),
    // and the rows keep every planning-relevant field.
    let before = db.clone();
    let err = db.apply(p);
    prop_assert_eq!(err, Some(want.to_string()));
    prop_assert_eq!(&db.sent, &before.sent, "statements were sent");
    prop_assert_eq!(&db.schema, &before.schema);
    let fields = |d: &Db| d.rows.values().map(planning_fields).collect::<Vec<_>>();
    prop_assert_eq!(fields(&db), fields(&before));
    Ok(())
}

// ---- property 4: the digest ------------------------------------------------------

/// A change to one planning-relevant field of a row.
fn mutate_row(r: &mut Revision, field: u8, seed: u64) {
    let s = |x: &str| format!("{x}{}", seed % 7);
    match field % 9 {
        0 => r.version.push(char::from(b'0' + (seed % 10) as u8)),
        1 => r.description = if r.description.is_empty() { s("d") } else { String::new() },
        2 => r.kind = RevisionType(r.kind.0 ^ (1 << (seed % 3))),
        3 => r.applied = if r.applied == 0 || seed % 2 == 0 { r.applied + 1 } else { r.applied - 1 },
        4 => r.total = if r.total == 0 || seed % 2 == 0 { r.total + 1 } else { r.total - 1 },
        5 => r.error = if r.error.is_empty() { s("e") } else { String::new() },
        6 => r.error_stmt = if r.error_stmt.is_empty() { s("SELECT ") } else { String::new() },
        7 => r.hash = if r.hash.is_empty() { s("h") } else { r.hash[1..].to_string() },
        _ => {
            r.partial_hashes = match (r.partial_hashes.take(), seed % 4) {
                (None, 0) => Some(Vec::new()),
                (None, _) => Some(vec![s("h1:")]),
                (Some(v), 0) if !v.is_empty() => None,
                (Some(mut v), 1) => {
                    v.push(s("h1:"));
                    Some(v)
                }
                (Some(mut v), _) if !v.is_empty() => {
                    let last = v.len() - 1;
                    v[last].push('x');
                    Some(v)
                }
                (Some(_), _) => None,
            }
        }
    }
}

/// A change to one option.
fn mutate_options(o: &mut PlanOptions, which: u8, seed: u64, versions: &[String]) {
    let pick = || versions[seed as usize % versions.len()].clone();
    match which % 6 {
        0 => o.baseline = if o.baseline.is_some() { None } else { Some(pick()) },
        1 => o.allow_dirty = !o.allow_dirty,
        2 => {
            let all = [ExecOrder::Linear, ExecOrder::LinearSkip, ExecOrder::NonLinear];
            let i = all.iter().position(|&x| x == o.exec_order).unwrap();
            o.exec_order = all[(i + 1 + seed as usize % 2) % 3];
        }
        3 => {
            o.to_version = match &o.to_version {
                Some(v) if seed % 2 == 0 || versions.len() == 1 => {
                    let _ = v;
                    None
                }
                Some(v) => Some(versions.iter().find(|w| *w != v).unwrap().clone()),
                None => Some(pick()),
            }
        }
        4 => o.amount = if o.amount.is_some() && seed % 2 == 0 { None } else { Some(o.amount.unwrap_or(0) + 1) },
        _ => {
            let all = [TxMode::None, TxMode::File, TxMode::All];
            let i = all.iter().position(|&x| x == o.tx_mode).unwrap();
            o.tx_mode = all[(i + 1 + seed as usize % 2) % 3];
        }
    }
}

#[derive(Clone, Debug)]
struct Mutations {
    row: (Index, u8, u64),
    ignored: (Index, u8),
    byte: (Index, Index, u8),
    option: (u8, u64),
    dialect: Dialect,
}

fn mutations_strategy() -> impl Strategy<Value = Mutations> {
    (
        any::<(Index, u8, u64)>(),
        any::<(Index, u8)>(),
        any::<(Index, Index, u8)>(),
        any::<(u8, u64)>(),
        dialect_strategy(),
    )
        .prop_map(|(row, ignored, byte, option, dialect)| Mutations { row, ignored, byte, option, dialect })
}

fn digest_identifies_inputs(
    files: Vec<FileSpec>,
    dialect: Dialect,
    history: Vec<Run>,
    (tx, order, amount, to): (TxMode, ExecOrder, Option<u64>, Option<Index>),
    m: Mutations,
) -> Result<(), TestCaseError> {
    let mut db = Db::default();
    run_history(&mut db, &files, dialect, &history)?;
    let all: Vec<&FileSpec> = files.iter().collect();
    let ents = entries(&all);
    let dir = directory_of(ents.clone(), dialect);
    let state = db.state();
    let versions: Vec<String> = files.iter().map(|f| f.version.clone()).collect();
    let opts = PlanOptions {
        tx_mode: tx,
        exec_order: order,
        amount,
        to_version: to.map(|i| versions[i.index(versions.len())].clone()),
        ..PlanOptions::default()
    };
    let p = match plan(&dir, &state, &opts) {
        Ok(p) => p,
        Err(e) => {
            // Refusals are deterministic too.
            prop_assert_eq!(plan(&dir, &state, &opts).err(), Some(e));
            return Ok(());
        }
    };
    prop_assert!(p.digest.starts_with("sha256:") && p.digest.len() == 71, "{}", p.digest);

    // Same inputs, rebuilt (entries in another order): the same plan.
    let mut rev = ents.clone();
    rev.reverse();
    let again = plan(&directory_of(rev, dialect), &state.clone(), &opts.clone()).expect("plan");
    prop_assert_eq!(&again, &p);

    // Fields planning does not read: the same digest.
    if !state.revisions.is_empty() {
        let mut s = state.clone();
        let r = &mut s.revisions[m.ignored.0.index(state.revisions.len())];
        match m.ignored.1 % 3 {
            0 => r.executed_at = "2001-02-03T04:05:06Z".into(),
            1 => r.execution_time += 1 + m.ignored.1 as i64,
            _ => r.operator_version = "Atlas CLI v0.30.0".into(),
        }
        prop_assert_eq!(plan(&dir, &s, &opts).expect("plan").digest, p.digest.clone());
    }

    // A planning-relevant field of a row.
    if !state.revisions.is_empty() {
        let mut s = state.clone();
        let (i, field, seed) = m.row;
        let i = i.index(s.revisions.len());
        let before = s.revisions[i].clone();
        mutate_row(&mut s.revisions[i], field, seed);
        prop_assert_ne!(planning_fields(&before), planning_fields(&s.revisions[i]));
        s.revisions.sort_by(|a, b| a.version.cmp(&b.version));
        match plan(&dir, &s, &opts) {
            Ok(q) => prop_assert_ne!(q.digest, p.digest.clone(), "row field {} changed: {:?}", field % 9, s.revisions),
            // Only the version and the counts can change what is pending.
            Err(e) => prop_assert!(matches!(field % 9, 0 | 3 | 4), "field {}: {}", field % 9, e),
        }
    }

    // One byte of one file (atlas.sum regenerated).
    {
        let (fi, bi, x) = m.byte;
        let mut e: Vec<(String, Vec<u8>)> = ents[..ents.len() - 1].to_vec();
        let fi = fi.index(e.len());
        if !e[fi].1.is_empty() {
            let bi = bi.index(e[fi].1.len());
            e[fi].1[bi] ^= x.max(1);
            let sum = SumFile::compute(e.iter().map(|(n, b)| (n.as_str(), b.as_slice()))).render();
            e.push(("atlas.sum".into(), sum.into_bytes()));
            let q = plan(&directory_of(e, dialect), &state, &opts).expect("plan after a byte changed");
            prop_assert_ne!(q.digest, p.digest.clone());
        }
    }

    // One option.
    {
        let mut o = opts.clone();
        mutate_options(&mut o, m.option.0, m.option.1, &versions);
        prop_assert_ne!(&o, &opts);
        if let Ok(q) = plan(&dir, &state, &o) {
            prop_assert_ne!(q.digest, p.digest.clone(), "options {:?} -> {:?}", opts, o);
        }
    }

    // The dialect.
    if m.dialect != dialect {
        let q = plan(&directory_of(ents.clone(), m.dialect), &state, &opts).expect("plan");
        prop_assert_ne!(q.digest, p.digest.clone());
    }
    Ok(())
}

/// Inputs that differ only in how the digest writes them: a list of
/// partial hashes against its items joined by `,`, `null` against a list
/// holding the text `null`, an empty list against a list of one empty
/// hash, and options or a not-clean reason unset against set to `""`.
#[derive(Clone, Copy, Debug)]
enum Collision {
    PartialNull,
    PartialJoined,
    PartialEmpty,
    BaselineEmpty,
    ToVersionEmpty,
    NotCleanEmpty,
}

fn collision_strategy() -> impl Strategy<Value = Collision> {
    prop::sample::select(
        &[
            Collision::PartialNull,
            Collision::PartialJoined,
            Collision::PartialEmpty,
            Collision::BaselineEmpty,
            Collision::ToVersionEmpty,
            Collision::NotCleanEmpty,
        ][..],
    )
}

/// Property 4 with edge-case encodings: any change of a row, the options
/// or the database state still changes the digest.
fn digest_is_injective(
    files: Vec<FileSpec>,
    dialect: Dialect,
    history: Vec<Run>,
    row: Index,
    c: Collision,
    allow_dirty: bool,
) -> Result<(), TestCaseError> {
    let mut db = Db::default();
    run_history(&mut db, &files, dialect, &history)?;
    let dir = directory(&files, dialect, true);
    let state = db.state();
    let opts = PlanOptions { allow_dirty, exec_order: ExecOrder::NonLinear, ..PlanOptions::default() };
    let Ok(p) = plan(&dir, &state, &opts) else { return Ok(()) };
    let (mut s, mut o) = (state.clone(), opts.clone());
    let n = s.revisions.len();
    let r = (n > 0).then(|| &mut s.revisions[row.index(n)]);
    match (c, r) {
        (Collision::PartialNull, Some(r)) if r.partial_hashes.is_none() => r.partial_hashes = Some(vec!["null".into()]),
        (Collision::PartialJoined, Some(r)) if r.partial_hashes.as_ref().is_some_and(|v| v.len() > 1) => {
            r.partial_hashes = r.partial_hashes.as_ref().map(|v| vec![v.join(",")]);
        }
        (Collision::PartialEmpty, Some(r)) => {
            r.partial_hashes = match r.partial_hashes {
                Some(ref v) if v.is_empty() => Some(vec![String::new()]),
                _ => Some(Vec::new()),
            };
            // Against the same row with an empty list.
            let mut t = state.clone();
            t.revisions[row.index(n)].partial_hashes =
                Some(if s.revisions[row.index(n)].partial_hashes.as_ref().unwrap().is_empty() {
                    vec![String::new()]
                } else {
                    Vec::new()
                });
            if let (Ok(a), Ok(b)) = (plan(&dir, &s, &o), plan(&dir, &t, &o)) {
                prop_assert_ne!(a.digest, b.digest, "{:?} against {:?}", s.revisions, t.revisions);
            }
            return Ok(());
        }
        (Collision::BaselineEmpty, _) => o.baseline = Some(String::new()),
        (Collision::ToVersionEmpty, _) => o.to_version = Some(String::new()),
        (Collision::NotCleanEmpty, _) => s.not_clean = Some(String::new()),
        _ => return Ok(()),
    }
    if let Ok(q) = plan(&dir, &s, &o) {
        prop_assert_ne!(q.digest, p.digest, "{:?}: {:?} / {:?} against {:?} / {:?}", c, s, o, state, opts);
    }
    Ok(())
}

/// The smallest cases of [`digest_is_injective`], one per collision. The
/// second is the one that matters: a runnable plan and a plan refused with
/// history-changed get the same digest.
#[test]
fn digest_collisions() {
    let files = [FileSpec {
        version: "1".into(),
        description: "a".into(),
        none_header: false,
        late: false,
        stmts: vec!["SELECT 1;".into(), "SELECT 2;".into(), "SELECT 3;".into()],
    }];
    let dir = directory(&files, Dialect::Generic, true);
    let opts = PlanOptions::default();
    let fresh = plan(&dir, &DbState::default(), &opts).unwrap();
    let h: Vec<String> = fresh.files[0].statements.iter().map(|s| s.hash.clone()).collect();
    let row = |partial: Option<Vec<String>>, applied| DbState {
        revisions: vec![Revision {
            version: "1".into(),
            description: "a".into(),
            kind: RevisionType::EXECUTE,
            applied,
            total: 3,
            hash: fresh.files[0].hash.clone(),
            partial_hashes: partial,
            ..Revision::default()
        }],
        ..DbState::default()
    };
    let mut same = Vec::new();
    let (runs, refused) = (row(Some(h[..2].to_vec()), 2), row(Some(vec![h[..2].join(",")]), 2));
    let (a, b) = (plan(&dir, &runs, &opts).unwrap(), plan(&dir, &refused, &opts).unwrap());
    assert_eq!(a.files[0].error, None);
    assert_eq!(b.files[0].error.as_ref().map(PlanError::code), Some("history-changed"));
    if a.digest == b.digest {
        same.push("partial_hashes [h1, h2] (runs statement 3) / [\"h1,h2\"] (history-changed)");
    }
    let s = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    for (what, a, b) in [
        ("partial_hashes null / [\"null\"]", row(None, 3), row(s(&["null"]), 3)),
        ("partial_hashes [] / [\"\"]", row(s(&[]), 3), row(s(&[""]), 3)),
    ] {
        if plan(&dir, &a, &opts).unwrap().digest == plan(&dir, &b, &opts).unwrap().digest {
            same.push(what);
        }
    }
    let applied = row(None, 3);
    let baseline = PlanOptions { baseline: Some(String::new()), ..PlanOptions::default() };
    if plan(&dir, &applied, &opts).unwrap().digest == plan(&dir, &applied, &baseline).unwrap().digest {
        same.push("baseline unset / \"\"");
    }
    let dirty = |r: Option<&str>| DbState { not_clean: r.map(String::from), ..DbState::default() };
    let allow = PlanOptions { allow_dirty: true, ..PlanOptions::default() };
    if plan(&dir, &dirty(None), &allow).unwrap().digest == plan(&dir, &dirty(Some("")), &allow).unwrap().digest {
        same.push("not_clean unset / \"\"");
    }
    assert!(same.is_empty(), "same digest for: {same:?}");
}

proptest! {
    // The default number of cases; failures are saved beside this file.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_apply_to_completion(
        files in files_strategy(1),
        dialect in dialect_strategy(),
        history in prop::collection::vec(run_strategy(), 0..=4),
        opts in options_strategy(),
    ) {
        apply_to_completion(files, dialect, history, opts)?;
    }

    #[test]
    fn prop_resume_after_fix(
        files in files_strategy(1),
        dialect in dialect_strategy(),
        f in any::<Index>(),
        k in any::<Index>(),
        prefix in prop::option::weighted(0.3, (any::<Index>(), tx_strategy())),
        tail in prop::option::weighted(0.8, prop::collection::vec(0u8..3, 0..=4)),
        tx in tx_strategy(),
        order in order_strategy(),
    ) {
        resume_after_fix(files, dialect, f, k, prefix, tail, tx, order)?;
    }

    #[test]
    fn prop_edited_history_is_refused(
        files in files_strategy(1),
        dialect in dialect_strategy(),
        f in any::<Index>(),
        k in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), 0u8..3), 1..=3),
        edit_tail in any::<bool>(),
        tx in tx_strategy(),
        amount in prop::option::weighted(0.3, 1u64..=3),
    ) {
        edited_history_is_refused(files, dialect, f, k, edits, edit_tail, tx, amount)?;
    }

    #[test]
    fn prop_digest_identifies_inputs(
        files in files_strategy(1),
        dialect in dialect_strategy(),
        history in prop::collection::vec(run_strategy(), 0..=3),
        opts in options_strategy(),
        m in mutations_strategy(),
    ) {
        digest_identifies_inputs(files, dialect, history, opts, m)?;
    }

    #[test]
        fn prop_digest_is_injective(
        files in files_strategy(1),
        dialect in dialect_strategy(),
        history in prop::collection::vec(run_strategy(), 0..=3),
        row in any::<Index>(),
        c in collision_strategy(),
        allow_dirty in any::<bool>(),
    ) {
        digest_is_injective(files, dialect, history, row, c, allow_dirty)?;
    }
}

/// Revisions the database did not return in bytewise order (its collation):
/// the out-of-order check searches them as Go's `slices.BinarySearchFunc`
/// does, probe for probe, so rows that exist can be missed, as in Atlas.
/// Revisions `1, 3, 2, 4`: the searches for `2` and `3` both end on the
/// wrong row.
#[test]
fn unsorted_revisions_are_searched_like_go() {
    let files: Vec<FileSpec> = (1..=5)
        .map(|i| FileSpec {
            version: i.to_string(),
            description: String::new(),
            none_header: false,
            late: false,
            stmts: vec![format!("SELECT {i};")],
        })
        .collect();
    let dir = directory(&files, Dialect::Generic, true);
    let row = |v: &str| Revision {
        version: v.into(),
        kind: RevisionType::EXECUTE,
        applied: 1,
        total: 1,
        ..Revision::default()
    };
    let state = DbState { revisions: ["1", "3", "2", "4"].map(row).to_vec(), ..DbState::default() };
    let e = plan(&dir, &state, &PlanOptions::default()).unwrap_err();
    assert_eq!(
        e,
        PlanError::NonLinear { out_of_order: vec!["2.sql".into(), "3.sql".into()], pending: vec!["5.sql".into()] }
    );
    let p = plan(&dir, &state, &PlanOptions { exec_order: ExecOrder::NonLinear, ..PlanOptions::default() }).unwrap();
    let names: Vec<&str> = p.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["2.sql", "3.sql", "5.sql"]);
    // Sorted, the same rows leave only 5 pending.
    let sorted = DbState { revisions: ["1", "2", "3", "4"].map(row).to_vec(), ..DbState::default() };
    let p = plan(&dir, &sorted, &PlanOptions::default()).unwrap();
    assert_eq!(p.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["5.sql"]);
}
