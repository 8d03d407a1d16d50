//! `atlas-apply`: the core-level cases, which need no database
//! (`executor-cases.json`, `render-cases.json`). They run natively and in
//! headless Chromium.
//!
//! The execute cases drive the core's [`Executor`] against [`Double`], a
//! scripted in-memory database double (upstream runs the same cases on a
//! mock driver): a revisions store with Atlas's upsert, a log of the
//! statements executed, and injectable failures. The database cases (real
//! SQLite) are in `tests/atlas_apply_sqlite.rs`, natively only.

use crate::{listing, try_file};
use serde_json::Value;
use strata::dir::{DirOptions, Directory};
use strata::lex::Dialect;
use strata::plan::{
    plan, DbState, ExecOptions, ExecOrder, Executor, Outcome, Plan, PlanError, PlanOptions, Revision, RevisionType,
    Step, Timestamp, TxMode,
};
use strata::report::{
    apply_text, set_text, AppliedFile, AppliedStatement, ApplyReport, FileRef, RevisionChange, SetReport, StmtError,
};

/// `sql/migrate: no pending migration files`: the core returns an empty
/// plan instead.
pub const NO_PENDING: &str = "sql/migrate: no pending migration files";

/// A fixed start time for the core-level cases (2024-01-01T00:00:00Z):
/// their outcome must not depend on the clock.
pub const T0: Timestamp = 1_704_067_200_000_000_000;

/// The result of one group of checks: how many cases ran, which were
/// skipped (with the reason) and the mismatches.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Cases run.
    pub run: usize,
    /// `(case, reason)` for each case not run.
    pub skipped: Vec<(String, String)>,
    /// One entry per mismatch.
    pub failures: Vec<String>,
}

impl Outcomes {
    /// The `(n, failures)` pair [`crate::assert_clean`] takes; skipped cases
    /// are printed.
    pub fn into_pair(self) -> (usize, Vec<String>) {
        for (case, why) in &self.skipped {
            println!("skipped: {case}: {why}");
        }
        (self.run, self.failures)
    }
}

/// A mismatch, with the expected and actual values as fenced blocks.
pub fn mismatch(label: &str, what: &str, expected: &str, actual: &str) -> String {
    format!("{label}: {what}\nexpected:\n```\n{expected}\n```\nactual:\n```\n{actual}\n```")
}

fn json(path: &str) -> Result<Value, String> {
    let bytes = try_file(path).ok_or_else(|| format!("corpus file {path} missing"))?;
    serde_json::from_slice(bytes).map_err(|e| format!("{path}: {e}"))
}

/// The corpus file at `path`, or `None` with the reason recorded in `out`.
fn corpus(path: &str, out: &mut Outcomes) -> Option<Value> {
    json(path).map_err(|e| out.failures.push(e)).ok()
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// A revision from a case's JSON (missing fields are zero values).
pub fn revision_from(v: &Value) -> Result<Revision, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("bad revision {v}: {e}"))
}

/// Compares the fields `want` gives (`*_derived` markers ignored) with
/// `got`; `partial_hashes` is compared as a list or `null`.
pub fn compare_revision(label: &str, want: &Value, got: &Revision, failures: &mut Vec<String>) {
    let Some(obj) = want.as_object() else {
        failures.push(format!("{label}: expected revision is not an object: {want}"));
        return;
    };
    for (k, w) in obj {
        let g: Value = match k.as_str() {
            "version" => got.version.clone().into(),
            "description" => got.description.clone().into(),
            "type" => got.kind.0.into(),
            "applied" => got.applied.into(),
            "total" => got.total.into(),
            "error" => got.error.clone().into(),
            "error_stmt" => got.error_stmt.clone().into(),
            "hash" => got.hash.clone().into(),
            "operator_version" => got.operator_version.clone().into(),
            "partial_hashes" => match &got.partial_hashes {
                None => Value::Null,
                Some(v) => v.clone().into(),
            },
            k if k.ends_with("_derived") => continue,
            other => {
                failures.push(format!("{label}: unknown revision field {other:?} in the expectation"));
                continue;
            }
        };
        if &g != w {
            failures.push(mismatch(
                label,
                &format!("revision {:?} field {k}", got.version),
                &w.to_string(),
                &g.to_string(),
            ));
        }
    }
}

/// Compares a whole revisions table (row count, then each row's given
/// fields).
pub fn compare_revisions(label: &str, want: &Value, got: &[Revision], failures: &mut Vec<String>) {
    let Some(want) = want.as_array() else {
        failures.push(format!("{label}: expected revisions are not a list: {want}"));
        return;
    };
    let versions = |v: Vec<String>| v.join(", ");
    if want.len() != got.len() {
        failures.push(mismatch(
            label,
            "revisions (versions)",
            &versions(want.iter().map(|w| s(w, "version").unwrap_or("?").to_string()).collect()),
            &versions(got.iter().map(|r| r.version.clone()).collect()),
        ));
        return;
    }
    for (w, g) in want.iter().zip(got) {
        compare_revision(label, w, g, failures);
    }
}

/// A directory of `executor-cases.json`: a folder name under
/// `executor-dirs/`, or inline files whose `atlas.sum` the test wrote.
pub fn executor_dir(spec: &Value) -> Result<Directory, String> {
    let opts = DirOptions { dialect: Dialect::Generic, ..Default::default() };
    if let Some(name) = spec.as_str() {
        let entries = listing(&format!("atlas-apply/executor-dirs/{name}"));
        if entries.is_empty() {
            return Err(format!("executor-dirs/{name} is missing from the corpus"));
        }
        return Directory::with_options(entries, opts).map_err(|e| format!("executor-dirs/{name}: {e}"));
    }
    let files = spec.get("files").and_then(Value::as_array).ok_or_else(|| format!("bad dir spec {spec}"))?;
    let mut entries = Vec::new();
    for f in files {
        let (Some(name), Some(content)) = (s(f, "name"), s(f, "content")) else {
            return Err(format!("bad file in dir spec: {f}"));
        };
        entries.push((name.to_string(), content.as_bytes().to_vec()));
    }
    let sum = Directory::with_options(entries.clone(), opts).map_err(|e| e.to_string())?.checksum().render();
    entries.push(("atlas.sum".to_string(), sum.into_bytes()));
    Directory::with_options(entries, opts).map_err(|e| e.to_string())
}

fn exec_order(v: Option<&str>) -> Result<ExecOrder, String> {
    match v {
        None => Ok(ExecOrder::Linear),
        Some(v) => ExecOrder::parse(v).map_err(|e| e.to_string()),
    }
}

/// A deterministic clock: every reading is 1ms after the previous one.
#[derive(Debug, Clone, Copy)]
pub struct Clock(pub Timestamp);

impl Clock {
    /// The next reading.
    pub fn tick(&mut self) -> Timestamp {
        self.0 += 1_000_000;
        self.0
    }
}

/// A predicate on revision writes, for injected write failures.
pub type WritePredicate = fn(&Revision) -> bool;

/// The scripted database double: a revisions store, a statement log and
/// injectable failures. Transactions snapshot the store at `Begin` and
/// restore it at `Rollback`.
#[derive(Debug, Default, Clone)]
pub struct Double {
    /// The revisions table, in insertion order (upstream's mock store).
    pub store: Vec<Revision>,
    /// The statements executed successfully.
    pub executed: Vec<String>,
    /// Calls to Execute so far.
    pub exec_calls: usize,
    /// Fail the n-th Execute call (1-based) with this message.
    pub fail_exec: Option<(usize, String)>,
    /// Fail every revision write matching the predicate with this message.
    pub fail_write: Option<(WritePredicate, String)>,
    /// The store as it was at `Begin`.
    snapshot: Option<Vec<Revision>>,
    /// Every step, for failure messages: `begin`, `exec <sql>`, `write <v>`, ...
    pub steps: Vec<String>,
}

impl Double {
    /// A double holding `store`.
    pub fn with_store(store: Vec<Revision>) -> Double {
        Double { store, ..Double::default() }
    }

    /// Atlas's upsert: insert, or update every column except `version`,
    /// `description` and `executed_at`.
    pub fn upsert(&mut self, r: &Revision) {
        match self.store.iter_mut().find(|x| x.version == r.version) {
            Some(x) => x.update_from(r),
            None => self.store.push(r.clone()),
        }
    }

    /// Does one step.
    pub fn step(&mut self, step: Step<'_>) -> Outcome {
        match step {
            Step::Begin => {
                self.steps.push("begin".into());
                if self.snapshot.is_some() {
                    return Outcome::Err("double: transaction already open".into());
                }
                self.snapshot = Some(self.store.clone());
                Outcome::Ok
            }
            Step::Execute { sql, .. } => {
                self.steps.push(format!("exec {sql}"));
                self.exec_calls += 1;
                if let Some((n, msg)) = &self.fail_exec {
                    if *n == self.exec_calls {
                        return Outcome::Err(msg.clone());
                    }
                }
                self.executed.push(sql.to_string());
                Outcome::Ok
            }
            Step::WriteRevision(r) => {
                self.steps.push(format!("write {} applied={} total={}", r.version, r.applied, r.total));
                if let Some((pred, msg)) = &self.fail_write {
                    if pred(r) {
                        return Outcome::Err(msg.clone());
                    }
                }
                self.upsert(r);
                Outcome::Ok
            }
            Step::Commit => {
                self.steps.push("commit".into());
                match self.snapshot.take() {
                    Some(_) => Outcome::Ok,
                    None => Outcome::Err("double: no transaction to commit".into()),
                }
            }
            Step::Rollback => {
                self.steps.push("rollback".into());
                if let Some(s) = self.snapshot.take() {
                    self.store = s;
                }
                Outcome::Ok
            }
            Step::Done => Outcome::Ok,
        }
    }

    /// Runs the executor to the end; `Err` if it does not finish.
    pub fn run(&mut self, ex: &mut Executor, clock: &mut Clock) -> Result<(), String> {
        for _ in 0..100_000 {
            let step = ex.next();
            if step == Step::Done {
                return Ok(());
            }
            let outcome = self.step(step);
            ex.record(outcome, clock.tick());
        }
        Err("the executor did not reach Done within 100000 steps".into())
    }

    /// Whether a transaction is still open.
    pub fn in_tx(&self) -> bool {
        self.snapshot.is_some()
    }
}

/// The plan options of a pending case.
fn pending_options(c: &Value) -> Result<PlanOptions, String> {
    let o = c.get("options").cloned().unwrap_or(Value::Null);
    Ok(PlanOptions {
        baseline: s(&o, "baseline").map(str::to_string),
        allow_dirty: o.get("allow_dirty").and_then(Value::as_bool).unwrap_or(false),
        exec_order: exec_order(s(&o, "exec_order"))?,
        ..PlanOptions::default()
    })
}

fn revisions_of(c: &Value) -> Result<Vec<Revision>, String> {
    c.get("revisions").and_then(Value::as_array).map_or(Ok(Vec::new()), |a| a.iter().map(revision_from).collect())
}

/// The database state of a pending case (`db_clean: false`: the driver
/// says `found table`, as upstream's mock does).
fn pending_state(c: &Value) -> Result<DbState, String> {
    Ok(DbState {
        revisions: revisions_of(c)?,
        not_clean: match c.get("db_clean").and_then(Value::as_bool) {
            Some(false) => Some("found table".into()),
            _ => None,
        },
        ..DbState::default()
    })
}

fn names(plan: &Plan) -> Vec<String> {
    plan.files.iter().map(|f| f.name.clone()).collect()
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|x| x.as_str().unwrap_or("?").to_string()).collect()).unwrap_or_default()
}

/// Runs `plan` on a double holding `store`, with no transaction, as
/// upstream's unit tests drive the executor.
fn execute(plan: Plan, double: &mut Double, operator: &str) -> Result<(Executor, Option<String>), String> {
    let mut clock = Clock(T0);
    let mut ex = Executor::new(plan, ExecOptions { operator_version: operator.into(), dry_run: false }, clock.0);
    double.run(&mut ex, &mut clock)?;
    let err = ex.error().map(str::to_string);
    Ok((ex, err))
}

/// The 18 pending cases: pending files or the exact error, and the
/// baseline row written.
pub fn check_pending_cases() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    for c in data["pending_cases"].as_array().into_iter().flatten() {
        out.run += 1;
        let label = format!(
            "executor-cases.json pending_cases {} (line {})",
            s(c, "name").unwrap_or("?"),
            c["source_line"].as_u64().unwrap_or(0)
        );
        if let Err(e) = check_pending_case(&label, c, &mut out.failures) {
            out.failures.push(format!("{label}: {e}"));
        }
    }
    out
}

fn check_pending_case(label: &str, c: &Value, failures: &mut Vec<String>) -> Result<(), String> {
    let dir = executor_dir(&c["dir"])?;
    let state = pending_state(c)?;
    let opts = pending_options(c)?;
    let expect = &c["expect"];
    let got = plan(&dir, &state, &opts);
    let want_err = s(expect, "error");
    let plan = match (got, want_err) {
        (Ok(p), Some(NO_PENDING)) => {
            if !p.files.is_empty() {
                failures.push(mismatch(
                    label,
                    "pending files",
                    "(none: no pending migration files)",
                    &names(&p).join(", "),
                ));
            }
            p
        }
        (Ok(p), Some(w)) => {
            failures.push(mismatch(label, "planning error", w, &format!("no error; pending {:?}", names(&p))));
            return Ok(());
        }
        (Err(e), w) => {
            let got = e.to_string();
            match w {
                Some(w) if w == got => {
                    if let Some(ooo) = expect.get("out_of_order") {
                        match &e {
                            PlanError::NonLinear { out_of_order, .. } if *out_of_order == str_list(ooo) => {}
                            other => failures.push(mismatch(
                                label,
                                "out-of-order files",
                                &ooo.to_string(),
                                &format!("{other:?}"),
                            )),
                        }
                    }
                }
                _ => failures.push(mismatch(
                    label,
                    "planning result",
                    &w.map_or_else(|| format!("pending {}", expect["pending"]), str::to_string),
                    &got,
                )),
            }
            return Ok(());
        }
        (Ok(p), None) => {
            let want = str_list(&expect["pending"]);
            if names(&p) != want {
                failures.push(mismatch(label, "pending files", &want.join(", "), &names(&p).join(", ")));
            }
            p
        }
    };
    if let Some(want) = expect.get("revisions_after") {
        // The baseline row is written by the executor, first.
        let mut double = Double::with_store(state.revisions.clone());
        let (_, err) = execute(plan, &mut double, "op")?;
        if let Some(e) = err {
            failures.push(mismatch(label, "executor error", "(none)", &e));
        }
        // Running the plan also runs the pending files: compare the
        // baseline row (the first one written).
        let baseline: Vec<Revision> =
            double.store.iter().filter(|r| r.kind == RevisionType::BASELINE).cloned().collect();
        compare_revisions(label, want, &baseline, failures);
    }
    Ok(())
}

/// The plan digests of every pending case that plans: `(case, digest)`.
pub fn plan_digests() -> Result<Vec<(String, String)>, String> {
    let data = json("atlas-apply/executor-cases.json")?;
    let mut out = Vec::new();
    for c in data["pending_cases"].as_array().into_iter().flatten() {
        let name = s(c, "name").unwrap_or("?").to_string();
        let dir = executor_dir(&c["dir"])?;
        if let Ok(p) = plan(&dir, &pending_state(c)?, &pending_options(c)?) {
            out.push((name, p.digest));
        }
    }
    Ok(out)
}

/// The golden digests file, checked in beside this crate.
pub const GOLDEN_DIGESTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/golden/plan-digests.txt"));

/// Renders digests as the golden file's text: `<case> <digest>` lines.
pub fn render_digests(d: &[(String, String)]) -> String {
    let mut s = String::from(concat!(
        "# Plan digests of atlas-apply executor-cases.json pending_cases, generated natively and asserted\n",
        "# natively and in wasm. Regenerate with\n",
        "# STRATA_BLESS=1 cargo test -p strata-conformance --test suite apply_plan_digests_golden\n",
    ));
    for (n, d) in d {
        s.push_str(&format!("{n} {d}\n"));
    }
    s
}

/// Compares the computed digests with [`GOLDEN_DIGESTS`].
pub fn check_digests_golden() -> Outcomes {
    let mut out = Outcomes::default();
    let got = match plan_digests() {
        Ok(d) => d,
        Err(e) => {
            out.failures.push(e);
            return out;
        }
    };
    let want: Vec<(String, String)> = GOLDEN_DIGESTS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    out.run = got.len();
    if got != want {
        out.failures.push(mismatch(
            "golden/plan-digests.txt",
            "plan digests (regenerate natively with STRATA_BLESS=1 if the digest definition changed on purpose)",
            &render_digests(&want),
            &render_digests(&got),
        ));
    }
    out
}

/// Digest stability: the same inputs give the same digest, and changing a
/// revision, an option or a file changes it.
pub fn check_digest_stability() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    for c in data["pending_cases"].as_array().into_iter().flatten() {
        let label = format!("digest of pending case {}", s(c, "name").unwrap_or("?"));
        let r = (|| -> Result<(), String> {
            let dir = executor_dir(&c["dir"])?;
            let state = pending_state(c)?;
            let opts = pending_options(c)?;
            let (Ok(a), Ok(b)) = (plan(&dir, &state, &opts), plan(&dir, &state, &opts)) else { return Ok(()) };
            out.run += 1;
            if a.digest != b.digest {
                out.failures.push(mismatch(&label, "digest of the same inputs", &a.digest, &b.digest));
            }
            if !a.digest.starts_with("sha256:") || a.digest.len() != 71 {
                out.failures.push(format!("{label}: digest {:?} is not sha256:<64 hex>", a.digest));
            }
            let mut o2 = opts.clone();
            o2.tx_mode = if opts.tx_mode == TxMode::All { TxMode::None } else { TxMode::All };
            if let Ok(p) = plan(&dir, &state, &o2) {
                if p.digest == a.digest {
                    out.failures.push(format!("{label}: changing --tx-mode did not change the digest"));
                }
            }
            if let Some(last) = state.revisions.last() {
                let mut s2 = state.clone();
                let n = s2.revisions.len();
                s2.revisions[n - 1].hash = format!("{}x", last.hash);
                if let Ok(p) = plan(&dir, &s2, &opts) {
                    if p.digest == a.digest {
                        out.failures.push(format!("{label}: changing a revision's hash did not change the digest"));
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            out.failures.push(format!("{label}: {e}"));
        }
    }
    out
}

/// The constructor cases that apply to the core: baseline together with
/// allow-dirty. The others (no driver, no directory, no revision storage)
/// cannot be built with the Rust API and are reported as skipped.
pub fn check_constructor_cases() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    for (i, c) in data["constructor_cases"].as_array().into_iter().flatten().enumerate() {
        let given = &c["given"];
        let label = format!("executor-cases.json constructor_cases[{i}] ({})", s(c, "error").unwrap_or("?"));
        let Some(baseline) = s(given, "baseline") else {
            out.skipped.push((
                label,
                "a Go nil driver/dir/revision store cannot be expressed with the Rust API (plan() takes all of them by reference)".into(),
            ));
            continue;
        };
        out.run += 1;
        let opts = PlanOptions {
            baseline: Some(baseline.into()),
            allow_dirty: given.get("allow_dirty").and_then(Value::as_bool).unwrap_or(false),
            ..PlanOptions::default()
        };
        let dir = match executor_dir(&Value::String("sub".into())) {
            Ok(d) => d,
            Err(e) => {
                out.failures.push(format!("{label}: {e}"));
                continue;
            }
        };
        let want = s(c, "error").unwrap_or("");
        match plan(&dir, &DbState::default(), &opts) {
            Err(e) if e.to_string() == want => {}
            Err(e) => out.failures.push(mismatch(&label, "error", want, &e.to_string())),
            Ok(p) => out.failures.push(mismatch(&label, "error", want, &format!("a plan of {:?}", names(&p)))),
        }
    }
    out
}

/// `revision_type_text`: the text of each revision type.
pub fn check_revision_type_text() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    for c in data["revision_type_text"]["cases"].as_array().into_iter().flatten() {
        out.run += 1;
        let t = c["type"].as_u64().unwrap_or(u64::MAX);
        let want = s(c, "text").unwrap_or("");
        let got = RevisionType(t).text();
        if got != want {
            out.failures.push(mismatch(&format!("revision_type_text type {t}"), "text", want, &got));
        }
        if RevisionType::from_text(want) != Some(RevisionType(t)) {
            out.failures.push(format!("revision_type_text type {t}: from_text({want:?}) does not give it back"));
        }
    }
    out
}

/// One executor invocation of the execute cases.
enum Op {
    ExecuteN(u64),
    ExecuteTo(String),
}

fn op_of(v: &Value) -> Result<Op, String> {
    match s(v, "op") {
        Some("execute_n") => Ok(Op::ExecuteN(v["n"].as_u64().unwrap_or(0))),
        Some("execute_to") => Ok(Op::ExecuteTo(s(v, "version").unwrap_or("").to_string())),
        other => Err(format!("unknown executor op {other:?}")),
    }
}

/// What one executor invocation did.
struct Run {
    plan: Option<Plan>,
    report: Option<ApplyReport>,
    error: Option<String>,
    plan_error: Option<PlanError>,
}

/// Atlas's `ExecuteN(n)` / `ExecuteTo(v)` on the double: plan (no
/// transaction, as upstream's unit test runs the executor), then execute.
fn run_op(dir: &Directory, double: &mut Double, op: &Op) -> Result<Run, String> {
    let mut opts = PlanOptions { tx_mode: TxMode::None, ..PlanOptions::default() };
    match op {
        Op::ExecuteN(n) => opts.amount = (*n > 0).then_some(*n),
        Op::ExecuteTo(v) => opts.to_version = Some(v.clone()),
    }
    let state = DbState { revisions: double.store.clone(), ..DbState::default() };
    match plan(dir, &state, &opts) {
        Err(e) => Ok(Run { plan: None, report: None, error: Some(e.to_string()), plan_error: Some(e) }),
        Ok(p) if p.files.is_empty() => {
            // Atlas writes a baseline row while planning, then finds nothing
            // to do; the core's executor writes it and is done.
            let (_, error) = execute(p.clone(), double, "op")?;
            Ok(Run {
                plan: Some(p),
                report: None,
                error: Some(error.unwrap_or_else(|| NO_PENDING.into())),
                plan_error: None,
            })
        }
        Ok(p) => {
            let (ex, error) = execute(p.clone(), double, "op")?;
            Ok(Run { plan: Some(p), report: Some(ex.report().clone()), error, plan_error: None })
        }
    }
}

/// The log events upstream's logger saw, rebuilt from the report: objects
/// as in `execute_sequence` (`execution`/`file`/`stmt`/`done`).
fn log_events(dir: &Directory, run: &Run) -> Vec<Value> {
    let mut ev = Vec::new();
    let (Some(p), Some(r)) = (&run.plan, &run.report) else { return ev };
    ev.push(serde_json::json!({
        "event": "execution",
        "to": r.target.clone().unwrap_or_default(),
        "files": r.pending.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
    }));
    for a in &r.applied {
        ev.push(serde_json::json!({"event": "file"}));
        let pf = p.files.iter().find(|f| f.name == a.name);
        let lexed = dir.file(&a.name).and_then(|f| f.statements(dir.dialect()).ok());
        for (j, st) in a.statements.iter().enumerate() {
            let idx = a.skipped + j;
            let pos = pf.and_then(|f| f.statements.get(idx)).map(|x| x.pos);
            let comments: Vec<String> = lexed
                .as_ref()
                .and_then(|l| l.get(idx))
                .map(|x| x.comments.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default();
            ev.push(serde_json::json!({"event": "stmt", "sql": st.text, "pos": pos, "comments": comments}));
        }
        if let Some(e) = &a.error {
            ev.push(serde_json::json!({"event": "error", "text": e.text}));
        }
    }
    if r.applied.is_empty() {
        if let Some(e) = &r.error {
            ev.push(serde_json::json!({"event": "error", "text": e}));
        }
    }
    if run.error.is_none() && r.end.is_some() {
        ev.push(serde_json::json!({"event": "done"}));
    }
    ev
}

/// The short form of [`log_events`] used by `execute_cases`:
/// `execution`, `file`, `stmt`, `error(<text>)`, `done`.
fn log_words(dir: &Directory, run: &Run) -> Vec<String> {
    log_events(dir, run)
        .iter()
        .map(|e| match s(e, "event") {
            Some("error") => format!("error({})", s(e, "text").unwrap_or("")),
            Some(w) => w.to_string(),
            None => "?".into(),
        })
        .collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Checks an `expect` object of the execute cases against a run.
fn check_expect(label: &str, dir: &Directory, double: &Double, run: &Run, expect: &Value, failures: &mut Vec<String>) {
    let err = run.error.as_deref();
    let steps = || double.steps.join("\n");
    if expect.get("ok").and_then(Value::as_bool) == Some(true) && err.is_some() {
        failures.push(mismatch(label, "result", "ok", err.unwrap_or("")));
    }
    for key in ["error", "error_derived"] {
        if let Some(w) = s(expect, key) {
            // The core validates the directory the way the CLI does (no
            // `sql/migrate: validate migration directory: ` wrapper, which
            // only Atlas's library adds).
            let ok = err == Some(w)
                || (key == "error_derived"
                    && w.strip_prefix("sql/migrate: validate migration directory: ").is_some_and(|b| err == Some(b)));
            if !ok {
                failures.push(mismatch(label, key, w, err.unwrap_or("(no error)")));
            }
        }
    }
    if let Some(w) = s(expect, "error_contains") {
        if !err.is_some_and(|e| e.contains(w)) {
            failures.push(mismatch(label, "error (contains)", w, err.unwrap_or("(no error)")));
        }
    }
    if let Some(w) = s(expect, "unwrapped_error") {
        if !err.is_some_and(|e| e.ends_with(&format!(": {w}"))) {
            failures.push(mismatch(label, "wrapped database error", w, err.unwrap_or("(no error)")));
        }
    }
    if let Some(kind) = s(expect, "error_kind") {
        let ok = match kind {
            "ErrNoPendingFiles" => err == Some(NO_PENDING),
            "HistoryChangedError" => err.is_some_and(|e| e.starts_with("sql/migrate: history changed:")),
            "ErrChecksumMismatch" => {
                matches!(&run.plan_error, Some(PlanError::Checksum { message, .. }) if message == "checksum mismatch")
            }
            other => {
                failures.push(format!("{label}: unknown error_kind {other:?}"));
                true
            }
        };
        if !ok {
            failures.push(mismatch(label, "error kind", kind, &format!("{err:?} / {:?}", run.plan_error)));
        }
    }
    if let Some(w) = expect.get("executed") {
        let want = str_list(w);
        if want != double.executed {
            failures.push(mismatch(label, "executed statements", &want.join("\n"), &double.executed.join("\n")));
        }
    }
    if let Some(w) = expect.get("revisions") {
        let before = failures.len();
        compare_revisions(label, w, &double.store, failures);
        if failures.len() > before {
            failures.push(format!("{label}: the double's steps were:\n```\n{}\n```", steps()));
        }
    }
    if let Some(w) = expect.get("last_revision") {
        match double.store.last() {
            Some(r) => compare_revision(&format!("{label} last revision"), w, r, failures),
            None => failures.push(mismatch(label, "last revision", &w.to_string(), "(no revisions)")),
        }
    }
    if let Some(w) = expect.get("revision_1") {
        match double.store.iter().find(|r| r.version == "1") {
            Some(r) => compare_revision(&format!("{label} revision 1"), w, r, failures),
            None => failures.push(mismatch(label, "revision 1", &w.to_string(), "(missing)")),
        }
    }
    if let Some(w) = expect.get("pending") {
        let got = run.plan.as_ref().map(names).unwrap_or_default();
        if str_list(w) != got {
            failures.push(mismatch(label, "pending files", &str_list(w).join(", "), &got.join(", ")));
        }
    }
    if let Some(w) = expect.get("log") {
        let arr = w.as_array().cloned().unwrap_or_default();
        if arr.iter().all(Value::is_string) {
            let want = str_list(w);
            let got = log_words(dir, run);
            if want != got {
                failures.push(mismatch(label, "log events", &want.join("\n"), &got.join("\n")));
            }
        } else {
            let got = Value::Array(log_events(dir, run));
            if &got != w {
                failures.push(mismatch(label, "log events", &pretty(w), &pretty(&got)));
            }
        }
    }
}

/// Reads upstream's prose description of a fresh mock driver: `fresh`, or
/// `fresh, fails its 2nd ExecContext call with "msg"`.
fn driver_from(desc: &str) -> Result<Double, String> {
    let mut d = Double::default();
    if let Some(rest) = desc.split_once("fails its ").map(|x| x.1) {
        let (ord, rest) = rest.split_once(' ').ok_or_else(|| format!("cannot read driver {desc:?}"))?;
        let n: usize = ord
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .map_err(|_| format!("cannot read the call number in {desc:?}"))?;
        let msg = rest.split('"').nth(1).ok_or_else(|| format!("cannot read the message in {desc:?}"))?;
        d.fail_exec = Some((n, msg.to_string()));
    } else if !desc.starts_with("fresh") {
        return Err(format!("cannot read driver {desc:?}"));
    }
    Ok(d)
}

/// The 21 operations of `execute_sequence`, in order, on one store.
pub fn check_execute_sequence() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    let seq = &data["execute_sequence"];
    let dir = match executor_dir(&seq["dir"]) {
        Ok(d) => d,
        Err(e) => {
            out.failures.push(format!("execute_sequence: {e}"));
            return out;
        }
    };
    let mut double = Double::default();
    let mut saved_hashes: Option<Vec<String>> = None;
    for op in seq["ops"].as_array().into_iter().flatten() {
        out.run += 1;
        let line = op["line"].as_u64().unwrap_or(0);
        let label = format!("execute_sequence line {line} ({})", s(op, "op").unwrap_or("?"));
        let r = (|| -> Result<(), String> {
            match s(op, "op") {
                Some("reset") => {
                    let mut d = driver_from(s(op, "driver").unwrap_or("fresh"))?;
                    d.store = op["revisions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(revision_from)
                        .collect::<Result<_, _>>()?;
                    double = d;
                }
                Some("tamper") => {
                    let desc = s(op, "describe").unwrap_or("");
                    let rev = double
                        .store
                        .iter_mut()
                        .find(|r| r.version == "3")
                        .ok_or_else(|| "no revision 3 to tamper with".to_string())?;
                    if desc.starts_with("restore") {
                        rev.partial_hashes = saved_hashes.take();
                        let store = std::mem::take(&mut double.store);
                        double = driver_from("fresh")?;
                        double.store = store;
                    } else {
                        let hashes =
                            rev.partial_hashes.clone().ok_or_else(|| "revision 3 has no partial hashes".to_string())?;
                        saved_hashes = Some(hashes.clone());
                        let mut h = hashes;
                        let first =
                            h.first().cloned().ok_or_else(|| "revision 3 has no partial hash #1".to_string())?;
                        h[0] = format!("{first}{first}");
                        rev.partial_hashes = Some(h);
                    }
                }
                Some("pending") => {
                    let state = DbState { revisions: double.store.clone(), ..DbState::default() };
                    let run = match plan(&dir, &state, &PlanOptions::default()) {
                        Ok(p) => Run {
                            error: p.files.is_empty().then(|| NO_PENDING.into()),
                            plan: Some(p),
                            report: None,
                            plan_error: None,
                        },
                        Err(e) => Run { plan: None, report: None, error: Some(e.to_string()), plan_error: Some(e) },
                    };
                    check_expect(&label, &dir, &double, &run, &op["expect"], &mut out.failures);
                }
                Some(_) => {
                    let run = run_op(&dir, &mut double, &op_of(op)?)?;
                    check_expect(&label, &dir, &double, &run, &op["expect"], &mut out.failures);
                }
                None => return Err("op without a name".into()),
            }
            Ok(())
        })();
        if let Err(e) = r {
            out.failures.push(format!("{label}: {e}"));
        }
    }
    out
}

fn write_predicate(desc: &str) -> Result<(WritePredicate, String), String> {
    let msg = desc.split('"').nth(1).ok_or_else(|| format!("cannot read the message in {desc:?}"))?.to_string();
    let pred: WritePredicate = if desc.contains("applied == 0") {
        |r| r.applied == 0
    } else if desc.contains("applied == total") {
        |r| r.applied == r.total
    } else {
        return Err(format!("cannot read the store failure {desc:?}"));
    };
    Ok((pred, msg))
}

/// The 4 `execute_cases`: revision write failures, a retry that clears the
/// stored error, an invalid directory.
pub fn check_execute_cases() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/executor-cases.json", &mut out) else { return out };
    for c in data["execute_cases"].as_array().into_iter().flatten() {
        out.run += 1;
        let label =
            format!("execute_cases {} (lines {})", s(c, "name").unwrap_or("?"), s(c, "source_lines").unwrap_or("?"));
        let r = (|| -> Result<(), String> {
            let dir = executor_dir(&c["dir"])?;
            let mut double = Double::with_store(revisions_of(c)?);
            if let Some(desc) = s(c, "store") {
                double.fail_write = Some(write_predicate(desc)?);
            }
            let ops: Vec<Value> = match &c["op"] {
                Value::Array(a) => a.clone(),
                v => vec![v.clone()],
            };
            let expects: Vec<Value> = match &c["expect"] {
                Value::Array(a) => a.clone(),
                v => vec![v.clone()],
            };
            if ops.len() != expects.len() {
                return Err(format!("{} ops but {} expectations", ops.len(), expects.len()));
            }
            for (i, (op, expect)) in ops.iter().zip(&expects).enumerate() {
                let run = run_op(&dir, &mut double, &op_of(op)?)?;
                check_expect(&format!("{label} op {i}"), &dir, &double, &run, expect, &mut out.failures);
            }
            Ok(())
        })();
        if let Err(e) = r {
            out.failures.push(format!("{label}: {e}"));
        }
    }
    out
}

const MS: i64 = 1_000_000;

fn ms(v: &Value, k: &str) -> Option<Timestamp> {
    v.get(k).and_then(Value::as_i64).map(|m| T0 + m * MS)
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    s(v, k).filter(|x| !x.is_empty()).map(str::to_string)
}

/// Builds an [`ApplyReport`] from a render case's model.
fn report_from(m: &Value) -> Result<ApplyReport, String> {
    let mut r = ApplyReport {
        start: ms(m, "start_ms").ok_or("no start_ms")?,
        end: ms(m, "end_ms"),
        current: opt_str(m, "current"),
        target: opt_str(m, "target"),
        error: opt_str(m, "error"),
        ..ApplyReport::default()
    };
    for p in m["pending"].as_array().into_iter().flatten() {
        r.pending.push(FileRef {
            name: s(p, "name").unwrap_or("").into(),
            version: s(p, "version").unwrap_or("").into(),
            description: s(p, "description").unwrap_or("").into(),
        });
    }
    for a in m["applied"].as_array().into_iter().flatten() {
        let start = ms(a, "start_ms").ok_or("applied file without start_ms")?;
        r.applied.push(AppliedFile {
            name: s(a, "file").unwrap_or("").into(),
            version: s(a, "version").unwrap_or("").into(),
            description: s(a, "description").unwrap_or("").into(),
            start,
            end: ms(a, "end_ms"),
            skipped: 0,
            statements: str_list(&a["applied"])
                .into_iter()
                .map(|text| AppliedStatement { text, start, end: None })
                .collect(),
            error: a.get("error").map(|e| StmtError {
                stmt: s(e, "stmt").unwrap_or("").into(),
                text: s(e, "text").unwrap_or("").into(),
            }),
        });
    }
    Ok(r)
}

/// `render-cases.json` `migrate_apply`: the text of each report model.
pub fn check_render_apply() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/render-cases.json", &mut out) else { return out };
    for c in data["migrate_apply"]["cases"].as_array().into_iter().flatten() {
        let label = format!(
            "render-cases.json migrate_apply {} (lines {})",
            s(c, "name").unwrap_or("?"),
            s(c, "source_lines").unwrap_or("?")
        );
        let m = &c["report"];
        if m["applied"].as_array().into_iter().flatten().any(|a| a.get("checks").is_some()) {
            out.skipped.push((
                label,
                "uses pre-migration checks, a commercial Atlas feature the OSS executor never emits; ApplyReport has no checks".into(),
            ));
            continue;
        }
        out.run += 1;
        match report_from(m) {
            Err(e) => out.failures.push(format!("{label}: {e}")),
            Ok(r) => {
                let got = apply_text(&r);
                let want = s(c, "expected").unwrap_or("");
                if got != want {
                    out.failures.push(mismatch(&label, "apply text", want, &got));
                }
            }
        }
    }
    out
}

/// `render-cases.json` `migrate_set`: the text of each set report.
pub fn check_render_set() -> Outcomes {
    let mut out = Outcomes::default();
    let Some(data) = corpus("atlas-apply/render-cases.json", &mut out) else { return out };
    for c in data["migrate_set"]["cases"].as_array().into_iter().flatten() {
        out.run += 1;
        let label = format!(
            "render-cases.json migrate_set {} (lines {})",
            s(c, "name").unwrap_or("?"),
            s(c, "source_lines").unwrap_or("?")
        );
        let report = SetReport {
            current: opt_str(c, "current"),
            changes: c["revisions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| RevisionChange {
                    op: s(r, "op").unwrap_or("").into(),
                    version: s(r, "version").unwrap_or("").into(),
                    description: s(r, "description").unwrap_or("").into(),
                })
                .collect(),
        };
        let got = set_text(&report);
        let want = s(c, "expected").unwrap_or("");
        if got != want {
            out.failures.push(mismatch(&label, "set text", want, &got));
        }
    }
    out
}

/// The `--format` / `--log` Go templates the core cases pass to `migrate
/// apply`, evaluated the way Go's `text/template` would over Atlas's
/// `MigrateApply` (the report). Other templates are refused.
pub fn apply_template(tpl: &str, r: &ApplyReport) -> Result<String, String> {
    let norm: String = tpl.split_whitespace().collect::<Vec<_>>().join(" ");
    match norm.as_str() {
        "{{ len .Applied }}" => Ok(r.applied.len().to_string()),
        "{{ range .Applied }}{{ .Version }}{{ end }}" => Ok(r.applied.iter().map(|f| f.version.as_str()).collect()),
        "{{ range .Applied }}{{ println .Version }}{{ end }}" => {
            Ok(r.applied.iter().map(|f| format!("{}\n", f.version)).collect())
        }
        "{{ .Error }}" => Ok(r.error.clone().unwrap_or_default()),
        _ => Err(format!("harness: Go template {tpl:?} is not emulated")),
    }
}

/// A `check_db` step's table-list checks, over the tables the database
/// lists (sorted): `expect_tables` (ignoring the step's `--exclude` ones)
/// and `tables_exactly`. Returns whether `key` was one of them.
pub fn check_table_list(
    label: &str,
    step: &Value,
    key: &str,
    want: &Value,
    tables: &[String],
    failures: &mut Vec<String>,
) -> bool {
    let mut wanted: Vec<&str> = want.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    wanted.sort_unstable();
    let (what, got): (&str, Vec<&str>) = match key {
        "expect_tables" => {
            let argv: Vec<&str> = step["argv"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let excluded: Vec<&str> = argv.windows(2).filter(|p| p[0] == "--exclude").map(|p| p[1]).collect();
            (
                "tables (excluding --exclude ones)",
                tables.iter().map(String::as_str).filter(|t| !excluded.contains(t)).collect(),
            )
        }
        "tables_exactly" => ("tables", tables.iter().map(String::as_str).collect()),
        _ => return false,
    };
    if got != wanted {
        failures.push(mismatch(label, what, &wanted.join(", "), &got.join(", ")));
    }
    true
}
