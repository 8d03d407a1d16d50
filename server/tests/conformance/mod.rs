//! The `atlas-apply` conformance cases (`../shared/conformance/atlas-apply`,
//! or `$STRATA_CONFORMANCE/atlas-apply`) run through the deployment hook:
//! one real `strata-server` per case with a targets file naming one target
//! per database (and schema, and revisions schema) the case's commands use.
//!
//! * `atlas migrate hash`: the core computes `atlas.sum` and it is compared
//!   with the case's `expected/` file.
//! * `atlas migrate apply`: the directory as it is now is pushed to the
//!   registry (tag `latest`), planned with `POST /hook/v1/targets/{t}/plan`
//!   and applied with `POST …/apply` and that plan's digest; the `finished`
//!   event's report is rendered with the core's Atlas text renderer. A
//!   refusal (a JSON error) is exit code 1 with `Error: <message>` on
//!   stderr, the message being the core's (`planError`) or the server's
//!   without its `target "t": ` prefix.
//! * `atlas migrate status`: `GET …/revisions` is the core's `DbState`;
//!   the core's status of the case's directory is rendered as Atlas does.
//! * `fs`, `sql`, `reset_db`, `init_revisions_table`, `write_revision` and
//!   `check_db` act on the scratch copy and on the databases directly
//!   (sqlx), never through the hook.
//!
//! Every `expect` matcher and `derived` field is compared as the core's
//! SQLite harness does (`tests/conformance/tests/sqlite/case.rs`), except
//! where the hook differs from Atlas on purpose: [`DIFFERENCES`] lists those
//! steps with the documented reason, and the run prints each assertion it
//! skipped.

use crate::common::{self, Server};
use crate::matchers::{check, matches_derived, DURATION};
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata::dir::{DirOptions, Directory};
use strata::hook::{ApplyRequest, Options, PlanRequest};
use strata::lex::Dialect;
use strata::plan::revision::render_hash_list;
use strata::plan::{status, DbState, Revision, RevisionSql};
use strata::registry::{BlobDigest, Manifest};
use strata::report::{apply_text, status_text, ApplyReport};
use strata_conformance::apply::{
    apply_template, check_table_list, compare_revision, compare_revisions, mismatch, revision_from,
};

/// Where the corpus is: `$STRATA_CONFORMANCE`, else `../shared/conformance`
/// beside the checkout (as `tests/conformance/build.rs` finds it).
pub fn corpus_root() -> PathBuf {
    match std::env::var_os("STRATA_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"),
    }
}

/// A step whose Atlas behaviour the hook does not reproduce on purpose.
pub struct Difference {
    /// The case.
    pub case: &'static str,
    /// The step's upstream line.
    pub line: u64,
    /// The last argument of the step, when two steps share a line.
    pub last_arg: &'static str,
    /// What is not compared: `exit_code`, the streams `stdout`, `stderr`,
    /// `output` (their `expect` matchers and `derived` texts), `error` (the
    /// returned error), `revisions` (`derived.revisions_after`).
    pub skip: &'static [&'static str],
    /// Why, with where it is documented.
    pub why: &'static str,
}

const TX_MODE_LATE: &str = "an unknown txMode is refused when planning (docs/protocol.md, plan: 400 invalid-option) \
     before anything is printed; Atlas validates --tx-mode late, after printing the header (corpus README, \
     discrepancy 3)";

/// Every comparison of a step.
const EVERYTHING: &[&str] = &["exit_code", "stdout", "stderr", "output", "error", "revisions"];

/// The steps the hook answers differently from Atlas, by design, and what
/// of each is not compared (a `check_db` step listed here is not run).
pub const DIFFERENCES: &[Difference] = &[
    Difference {
        case: "sqlite-go-apply-basics",
        line: 128,
        last_arg: "",
        skip: EVERYTHING,
        why: "a folder without atlas.sum is pushed with the computed sum (the core's registry client, \
              Manifest::of: `the one it carries, or the computed one if it has none`), so there is no \
              `checksum file not found` and the version applies",
    },
    Difference {
        case: "sqlite-go-apply-basics",
        line: 162,
        last_arg: "",
        skip: &["output", "error"],
        why: "the lock is held by another process (Atlas's lock file in the server's TMPDIR): the hook answers \
              423 lock-held after the target's lock_timeout (docs/protocol.md, apply), not Atlas's \
              `acquiring database lock: …`",
    },
    Difference {
        case: "sqlite-go-apply-basics",
        line: 172,
        last_arg: "-1",
        skip: &["error"],
        why: "an amount below 1 is refused by the request check (docs/protocol.md, plan: 400 invalid-option for \
              amount 0); -1 is no JSON u64 (400 invalid-json), not Atlas's `cannot apply '-1' migration files`",
    },
    Difference {
        case: "sqlite-go-apply-basics",
        line: 172,
        last_arg: "0",
        skip: &["error"],
        why: "an amount below 1 is refused by the request check (docs/protocol.md, plan: 400 invalid-option for \
              amount 0), not Atlas's `cannot apply '0' migration files`",
    },
    Difference { case: "sqlite-ts-migrate-apply", line: 49, last_arg: "", skip: &["stdout"], why: TX_MODE_LATE },
    Difference { case: "postgres-ts-migrate-apply", line: 50, last_arg: "", skip: &["stdout"], why: TX_MODE_LATE },
    Difference {
        case: "postgres-go-revisions-schema-bc",
        line: 259,
        last_arg: "",
        skip: &["output"],
        why: "an ambiguous revisions table is refused with 409 ambiguous-revisions and the server's explanation \
              (docs/protocol.md, apply: `set the target's revisions_schema`), not Atlas's text on stdout",
    },
];

fn difference(case: &str, line: u64, argv: &[String]) -> Option<&'static Difference> {
    DIFFERENCES.iter().find(|d| {
        d.case == case && d.line == line && (d.last_arg.is_empty() || argv.last().is_some_and(|a| a == d.last_arg))
    })
}

/// What a run of all cases found.
#[derive(Debug, Default)]
pub struct Summary {
    /// `(case, driver, steps run, duration)`.
    pub ran: Vec<(String, String, usize, Duration)>,
    /// `migrate apply` / `migrate status` steps run through the hook, by
    /// driver.
    pub hook_steps: BTreeMap<String, usize>,
    /// `(case, reason)` for each case not run.
    pub skipped: Vec<(String, String)>,
    /// Steps or assertions not run, with the reason.
    pub skipped_steps: Vec<String>,
    /// One entry per mismatch.
    pub failures: Vec<String>,
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn argv_of(step: &Value) -> Vec<String> {
    step["argv"].as_array().into_iter().flatten().map(|a| a.as_str().unwrap_or("").to_string()).collect()
}

/// Runs every `sqlite-*` and `postgres-*` case of scope `core` (the
/// PostgreSQL ones only with `pg_admin`, an admin URL).
pub async fn run_all(root: &Path, pg_admin: Option<&str>) -> Summary {
    let apply_root = root.join("atlas-apply");
    let mut sum = Summary::default();
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&apply_root) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("case.json").is_file()).collect(),
        Err(e) => {
            sum.failures.push(format!("cannot read {}: {e}", apply_root.display()));
            return sum;
        }
    };
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let case: Value = match std::fs::read(dir.join("case.json"))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                sum.failures.push(format!("{name}/case.json: {e}"));
                continue;
            }
        };
        let driver = s(&case, "driver").unwrap_or("?").to_string();
        let scope = s(&case, "scope").unwrap_or("?");
        let skip = match (driver.as_str(), scope) {
            (_, "project-config") => Some("scope project-config: needs atlas.hcl evaluation (env, variables)".into()),
            (_, "go-template-format") => {
                Some("scope go-template-format: a user-supplied Go text/template over the report".into())
            }
            ("mysql", _) => Some("MySQL targets are not supported by the hook yet".into()),
            ("postgres", _) if pg_admin.is_none() => {
                Some("STRATA_TEST_METADATA is not set: no PostgreSQL server to run it on".into())
            }
            ("sqlite" | "postgres", "core") => None,
            _ => {
                sum.failures.push(format!("{name}: unknown driver/scope {driver}/{scope}"));
                continue;
            }
        };
        let skip = skip.or_else(|| {
            case["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|st| argv_of(st).get(1).is_some_and(|c| c == "set"))
                .then(|| "uses `atlas migrate set`, which the hook does not have (later steps depend on it)".into())
        });
        if let Some(why) = skip {
            sum.skipped.push((name, why));
            continue;
        }
        let started = Instant::now();
        let mut run = CaseRun::new(&name, &dir, &case, pg_admin).await;
        let steps = match &mut run {
            Ok(r) => r.run(&mut sum).await,
            Err(e) => {
                sum.failures.push(format!("{name}: setting up: {e}"));
                0
            }
        };
        sum.ran.push((name, driver, steps, started.elapsed()));
    }
    sum
}

/// A database of a case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Db {
    /// A SQLite file in the scratch folder.
    Sqlite(String),
    /// A PostgreSQL database of the case (its key), possibly bound to a schema.
    Pg { db: String, schema: Option<String> },
}

/// What an `atlas` step names: a database and a revisions schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TargetSpec {
    db: Db,
    revisions_schema: Option<String>,
}

/// A parsed command line (`migrate <sub> …`).
#[derive(Debug, Default)]
struct Cmd {
    sub: String,
    flags: HashMap<String, String>,
    positional: Vec<String>,
}

impl Cmd {
    fn get(&self, k: &str) -> Option<&str> {
        self.flags.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn parse(argv: &[String], vars: &HashMap<String, String>) -> Result<Cmd, String> {
        let argv: Vec<String> = argv
            .iter()
            .map(|a| if a == "$db" { vars.get("db").cloned().unwrap_or_else(|| a.clone()) } else { a.clone() })
            .collect();
        if argv.first().map(String::as_str) != Some("migrate") {
            return Err(format!("not a migrate command: {argv:?}"));
        }
        let mut c = Cmd { sub: argv.get(1).cloned().unwrap_or_default(), ..Cmd::default() };
        let mut i = 2;
        while i < argv.len() {
            let a = &argv[i];
            i += 1;
            if a == "--" {
                c.positional.extend(argv[i..].iter().cloned());
                break;
            }
            let name = match (a.strip_prefix("--"), a.strip_prefix('-')) {
                (Some(long), _) => long.to_string(),
                (None, Some("u")) => "url".into(),
                (None, Some("c")) => "config".into(),
                _ => {
                    c.positional.push(a.clone());
                    continue;
                }
            };
            if let Some((n, v)) = name.split_once('=') {
                c.flags.insert(n.into(), v.into());
            } else if matches!(name.as_str(), "dry-run" | "allow-dirty" | "force") {
                c.flags.insert(name, "true".into());
            } else {
                let v = argv.get(i).cloned().ok_or_else(|| format!("flag needs an argument: --{name}"))?;
                i += 1;
                c.flags.insert(name, v);
            }
        }
        Ok(c)
    }
}

/// A command's outcome, as Atlas's CLI would print it.
#[derive(Debug, Default)]
struct Outcome {
    stdout: String,
    stderr: String,
    error: Option<String>,
    exit_code: i32,
}

impl Outcome {
    fn failed(stdout: String, error: String, silenced: bool) -> Outcome {
        let stderr = if silenced { String::new() } else { format!("Error: {error}\n") };
        Outcome { stdout, stderr, error: Some(error), exit_code: 1 }
    }

    fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A case being run: its scratch folder, databases, server and targets.
struct CaseRun<'a> {
    name: &'a str,
    case_dir: &'a Path,
    case: &'a Value,
    driver: String,
    vars: HashMap<String, String>,
    work: tempfile::TempDir,
    /// Target name of each spec.
    targets: BTreeMap<TargetSpec, String>,
    /// PostgreSQL database URL of each database key.
    pg_dbs: BTreeMap<String, String>,
    /// Which database each step `db` key stands for.
    db_keys: HashMap<String, Db>,
    server: Option<Server>,
    token: String,
}

impl<'a> CaseRun<'a> {
    async fn new(name: &'a str, case_dir: &'a Path, case: &'a Value, pg_admin: Option<&str>) -> Result<Self, String> {
        let work =
            tempfile::Builder::new().prefix(&format!("strata-hook-{name}-")).tempdir().map_err(|e| e.to_string())?;
        copy_dir(case_dir, work.path())?;
        let vars: HashMap<String, String> = case["vars"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default();
        let driver = s(case, "driver").unwrap_or("?").to_string();
        let mut run = CaseRun {
            name,
            case_dir,
            case,
            driver,
            vars,
            work,
            targets: BTreeMap::new(),
            pg_dbs: BTreeMap::new(),
            db_keys: HashMap::new(),
            server: None,
            token: String::new(),
        };
        // Scan the steps: each database and target the commands name.
        for st in case["steps"].as_array().into_iter().flatten() {
            if s(st, "op") != Some("atlas") {
                continue;
            }
            let Ok(cmd) = Cmd::parse(&argv_of(st), &run.vars) else { continue };
            let Some(url) = cmd.get("url") else { continue };
            let db = run.resolve_url(url)?;
            if let Some(k) = s(st, "db") {
                run.db_keys.entry(k.to_string()).or_insert_with(|| db.clone());
            }
            if matches!(cmd.sub.as_str(), "apply" | "status") {
                let spec = run.spec(db, &cmd);
                let n = run.targets.len();
                run.targets.entry(spec).or_insert_with(|| format!("t{n}"));
            }
        }
        // PostgreSQL: a fresh database per database key; the testscript
        // harness creates the script's schemas first.
        if run.driver == "postgres" {
            let admin = pg_admin.ok_or("no PostgreSQL admin URL")?;
            let mut keys: Vec<String> = run
                .targets
                .keys()
                .filter_map(|t| match &t.db {
                    Db::Pg { db, .. } => Some(db.clone()),
                    Db::Sqlite(_) => None,
                })
                .collect();
            keys.extend(run.db_keys.values().filter_map(|d| match d {
                Db::Pg { db, .. } => Some(db.clone()),
                Db::Sqlite(_) => None,
            }));
            keys.sort();
            keys.dedup();
            for k in keys {
                run.pg_dbs.insert(k, common::fresh_database(admin).await);
            }
            if let Some(schema) = run.vars.get("db").cloned() {
                run.pg_exec(
                    &Db::Pg { db: "test".into(), schema: None },
                    &[
                        format!("CREATE SCHEMA {}", quote_pg(&schema)),
                        format!("CREATE SCHEMA {}", quote_pg(&format!("{schema}_dev"))),
                    ],
                )
                .await?;
            }
        }
        run.start_server().await?;
        Ok(run)
    }

    fn resolve_url(&self, u: &str) -> Result<Db, String> {
        let inner = |p: &str| u.strip_prefix(p).and_then(|r| r.strip_suffix('}'));
        match self.driver.as_str() {
            "sqlite" => {
                if u == "URL" {
                    Ok(Db::Sqlite("atlas.sqlite".into()))
                } else if let Some(x) = inner("{url:") {
                    Ok(Db::Sqlite(format!("{x}.db")))
                } else if let Some(x) = inner("{mem:") {
                    // A target cannot be in memory (targets.rs refuses it);
                    // the case's in-memory database lives for the whole
                    // case, as a file does.
                    Ok(Db::Sqlite(format!("mem-{x}.db")))
                } else {
                    Err(format!("unsupported SQLite --url {u:?}"))
                }
            }
            _ => {
                if u == "URL" {
                    Ok(Db::Pg { db: "test".into(), schema: self.vars.get("db").cloned() })
                } else if let Some(x) = inner("{pg:") {
                    Ok(match x.split_once('/') {
                        Some((db, schema)) => Db::Pg { db: db.into(), schema: Some(schema.into()) },
                        None => Db::Pg { db: x.into(), schema: None },
                    })
                } else {
                    Err(format!("unsupported PostgreSQL --url {u:?}"))
                }
            }
        }
    }

    fn spec(&self, db: Db, cmd: &Cmd) -> TargetSpec {
        // SQLite keeps its revisions in `main`, the only schema it accepts.
        let revisions_schema = match &db {
            Db::Sqlite(_) => None,
            Db::Pg { .. } => cmd.get("revisions-schema").map(str::to_string),
        };
        TargetSpec { db, revisions_schema }
    }

    fn dialect(&self) -> Dialect {
        if self.driver == "postgres" {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        }
    }

    fn sqlite_path(&self, file: &str) -> PathBuf {
        self.work.path().join(file)
    }

    fn pg_url(&self, db: &Db) -> Result<String, String> {
        let Db::Pg { db, schema } = db else { return Err("not a PostgreSQL database".into()) };
        let base = self.pg_dbs.get(db).ok_or_else(|| format!("no database for key {db:?}"))?;
        let mut u = url::Url::parse(base).map_err(|e| e.to_string())?;
        if let Some(s) = schema {
            u.query_pairs_mut().append_pair("search_path", s);
        }
        Ok(u.to_string())
    }

    async fn start_server(&mut self) -> Result<(), String> {
        let mut toml = String::new();
        for (spec, name) in &self.targets {
            let url = match &spec.db {
                // Foreign keys on (`_fk=1`) as in the case's URLs, except
                // the unnamed in-memory database (`{mem:}`).
                Db::Sqlite(f) => {
                    format!("sqlite://{}{}", self.sqlite_path(f).display(), if f == "mem-.db" { "" } else { "?_fk=1" })
                }
                pg => self.pg_url(pg)?,
            };
            toml += &format!("[targets.{name}]\nurl = {url:?}\nlock_timeout = \"1s\"\n");
            if let Some(r) = &spec.revisions_schema {
                toml += &format!("revisions_schema = {r:?}\n");
            }
            toml.push('\n');
        }
        let file = self.work.path().join("targets.toml");
        std::fs::write(&file, toml).map_err(|e| e.to_string())?;
        // Atlas's SQLite lock file goes to the server's TMPDIR: the case's.
        let tmp = self.work.path().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let server = Server::start_with_env(
            &["--targets", file.to_str().ok_or("path")?],
            &[("TMPDIR", tmp.to_str().ok_or("path")?)],
        )
        .await;
        self.token = server.token("read,push,deploy");
        self.server = Some(server);
        Ok(())
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("server started")
    }

    fn db_of(&self, st: &Value) -> Db {
        match s(st, "db") {
            // A PostgreSQL `db` key is the whole database (`atlas schema
            // clean --url {pg:DB}`, `tables_exactly` over every schema).
            Some(k) if self.driver == "postgres" => Db::Pg { db: k.into(), schema: None },
            Some(k) => self.db_keys.get(k).cloned().unwrap_or_else(|| Db::Sqlite(format!("{k}.db"))),
            None => match self.driver.as_str() {
                "sqlite" => Db::Sqlite("atlas.sqlite".into()),
                _ => Db::Pg { db: "test".into(), schema: self.vars.get("db").cloned() },
            },
        }
    }

    /// Runs the steps; returns how many ran.
    async fn run(&mut self, sum: &mut Summary) -> usize {
        let steps: Vec<Value> = self.case["steps"].as_array().cloned().unwrap_or_default();
        let mut n = 0;
        for st in &steps {
            let line = st["line"].as_u64().unwrap_or(0);
            let op = s(st, "op").unwrap_or("?");
            let argv = argv_of(st);
            let label = match op {
                "atlas" => format!("{} line {line} `atlas {}`", self.name, argv.join(" ")),
                _ => format!("{} line {line} ({op})", self.name),
            };
            n += 1;
            let r = match op {
                "atlas" => self.atlas(&label, st, &argv, sum).await,
                "fs" => fs_step(self.work.path(), st),
                "reset_db" => self.reset_db(st).await,
                "sql" => {
                    let stmts: Vec<String> = st["statements"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| x.as_str().unwrap_or("").into())
                        .collect();
                    self.exec(&self.db_of(st), &stmts).await
                }
                "init_revisions_table" => self.init_revisions(&self.db_of(st)).await,
                "write_revision" => self.write_revision(&self.db_of(st), &st["revision"]).await,
                "check_db" => match difference(self.name, line, &argv) {
                    Some(d) => {
                        sum.skipped_steps.push(format!("{label}: not run: {}", d.why));
                        Ok(())
                    }
                    None => self.check_db(&label, st, &mut sum.failures).await,
                },
                other => Err(format!("unknown op {other:?}")),
            };
            if let Err(e) = r {
                sum.failures.push(format!("{label}: {e}"));
            }
        }
        if let Some(mut server) = self.server.take() {
            server.kill();
        }
        n
    }

    async fn atlas(&mut self, label: &str, st: &Value, argv: &[String], sum: &mut Summary) -> Result<(), String> {
        let line = st["line"].as_u64().unwrap_or(0);
        let cmd = Cmd::parse(argv, &self.vars)?;
        let difference = difference(self.name, line, argv);
        let (out, spec) = match cmd.sub.as_str() {
            "hash" => {
                let dir = self.dir_path(&cmd);
                let d = read_dir(&dir, self.dialect())?;
                std::fs::write(dir.join("atlas.sum"), d.checksum().render()).map_err(|e| e.to_string())?;
                (Outcome::default(), None)
            }
            "apply" | "status" => {
                let Some(url) = cmd.get("url") else {
                    sum.skipped_steps.push(format!(
                        "{label}: no --url: Atlas's own flag check; a hook target is configured on the server"
                    ));
                    return Ok(());
                };
                let spec = self.spec(self.resolve_url(url)?, &cmd);
                let target = self.targets.get(&spec).cloned().ok_or("no target for the step")?;
                *sum.hook_steps.entry(self.driver.clone()).or_default() += 1;
                let out = if cmd.sub == "apply" {
                    let lock_held = s(st, "precondition").is_some_and(|p| p.contains("Lock") || p.contains("lock"));
                    self.apply(&cmd, &target, lock_held).await?
                } else {
                    self.status(&cmd, &target).await?
                };
                (out, Some(target))
            }
            other => return Err(format!("migrate {other} is not run through the hook")),
        };
        let expect = &st["expect"];
        let compared = |what: &str| difference.is_none_or(|d| !d.skip.contains(&what));
        let main_name = if self.name.contains("-go-") { "output" } else { "stdout" };
        if let Some(code) = expect["exit_code"].as_i64().filter(|_| compared("exit_code")) {
            if i64::from(out.exit_code) != code {
                sum.failures.push(mismatch(
                    label,
                    "exit code",
                    &code.to_string(),
                    &format!("{}\n(output:\n{})", out.exit_code, out.combined()),
                ));
            }
        }
        for (path, want) in expect["files"].as_object().into_iter().flatten() {
            let want_path = self.case_dir.join(want.as_str().unwrap_or(""));
            match (std::fs::read(self.work.path().join(path)), std::fs::read(&want_path)) {
                (Ok(g), Ok(w)) if g == w => {}
                (g, w) => sum.failures.push(mismatch(
                    label,
                    &format!("file {path}"),
                    &w.map(|w| String::from_utf8_lossy(&w).into_owned()).unwrap_or_else(|e| e.to_string()),
                    &g.map(|g| String::from_utf8_lossy(&g).into_owned()).unwrap_or_else(|e| e.to_string()),
                )),
            }
        }
        if let Some(d) = difference {
            sum.skipped_steps.push(format!(
                "{label}: {} not compared: {} (the hook: exit {}, {})",
                d.skip.join(", "),
                d.why,
                out.exit_code,
                out.error.as_deref().unwrap_or("no error").lines().next().unwrap_or("")
            ));
        }
        let combined = out.combined();
        for (key, text) in [("stdout", &out.stdout), ("stderr", &out.stderr), ("output", &combined)] {
            if !compared(key) {
                continue;
            }
            for m in expect[key].as_array().into_iter().flatten() {
                if let Some(f) = check(label, key, m, text) {
                    sum.failures.push(f);
                }
            }
        }
        if let Some(e) = expect.get("error").filter(|_| compared("error")) {
            let want = s(e, "text").or(s(e, "message")).unwrap_or("");
            if out.error.as_deref() != Some(want) {
                sum.failures.push(mismatch(
                    label,
                    &format!("returned error ({})", s(e, "type").unwrap_or("?")),
                    want,
                    out.error.as_deref().unwrap_or("(no error)"),
                ));
            }
        }
        let Some(derived) = st.get("derived").and_then(Value::as_object) else { return Ok(()) };
        let main_stream = if self.name.contains("-go-") { &combined } else { &out.stdout };
        let mut revisions: Option<Vec<Revision>> = None;
        for (k, w) in derived {
            let what = match k.as_str() {
                "exit_code" | "error" => k.as_str(),
                "stdout_text" => "stdout",
                "stderr_text" => "stderr",
                "output_text" | "output_text_shape" => "output",
                k if k.starts_with("revisions_after") => "revisions",
                _ => main_name,
            };
            if !compared(what) {
                continue;
            }
            match k.as_str() {
                "exit_code" => {
                    if w.as_i64() != Some(i64::from(out.exit_code)) {
                        sum.failures.push(mismatch(
                            label,
                            "derived exit code",
                            &w.to_string(),
                            &out.exit_code.to_string(),
                        ));
                    }
                }
                "error" => {
                    let want = w.as_str().unwrap_or("?");
                    if !out.error.as_deref().is_some_and(|e| matches_placeholders(want, e).unwrap_or(false)) {
                        sum.failures.push(mismatch(
                            label,
                            "derived error",
                            want,
                            out.error.as_deref().unwrap_or("(no error)"),
                        ));
                    }
                }
                "output_text" | "output_text_shape" | "stdout_text" | "stderr_text" => {
                    let got = match k.as_str() {
                        "stdout_text" => &out.stdout,
                        "stderr_text" => &out.stderr,
                        _ => &combined,
                    };
                    let want = w.as_str().unwrap_or("");
                    match matches_placeholders(want, got) {
                        Ok(true) => {}
                        Ok(false) => sum.failures.push(mismatch(
                            label,
                            &format!("derived {k} (<duration> = any Go duration)"),
                            want,
                            got,
                        )),
                        Err(e) => sum.failures.push(format!("{label}: derived {k}: {e}")),
                    }
                }
                "header" | "stdout_header" => {
                    let first = main_stream.lines().next().unwrap_or("");
                    if Some(first) != w.as_str() {
                        sum.failures.push(mismatch(label, &format!("derived {k}"), w.as_str().unwrap_or("?"), first));
                    }
                }
                "summary_lines" | "stdout_summary_lines" | "file_3_error_line" | "printed_statements" => {
                    let lines: Vec<String> = match w {
                        Value::String(x) => vec![x.clone()],
                        v => v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or("").to_string()).collect(),
                    };
                    for l in lines {
                        let l = if k == "printed_statements" { format!("    -> {l}") } else { l };
                        if !main_stream.lines().any(|x| x == l) {
                            sum.failures.push(mismatch(label, &format!("derived {k}: a line"), &l, main_stream));
                        }
                    }
                }
                "revisions_after" | "revisions_after_last" => {
                    let Some(target) = &spec else {
                        sum.failures.push(format!("{label}: derived {k} but the step has no target"));
                        continue;
                    };
                    if revisions.is_none() {
                        revisions = Some(self.revisions(target).await.map(|st| st.revisions)?);
                    }
                    let revs = revisions.as_deref().unwrap_or_default();
                    let w = &server_texts(label, w, revs, &mut sum.failures);
                    if k == "revisions_after" {
                        compare_revisions(&format!("{label} revisions after"), w, revs, &mut sum.failures);
                    } else {
                        match revs.last() {
                            Some(r) => {
                                compare_revision(&format!("{label} last revision after"), w, r, &mut sum.failures)
                            }
                            None => sum.failures.push(mismatch(label, "last revision after", &w.to_string(), "(none)")),
                        }
                    }
                }
                "verification"
                | "why"
                | "note"
                | "placeholder_note"
                | "db_after"
                | "rows_note"
                | "why_col_3_is_printed"
                | "stream"
                | "error_message" => {}
                other => sum.failures.push(format!("{label}: unknown derived field {other:?} (not checked)")),
            }
        }
        Ok(())
    }

    /// The folder `--dir` names (default `file://migrations`).
    fn dir_path(&self, cmd: &Cmd) -> PathBuf {
        let url = cmd.get("dir").unwrap_or("file://migrations");
        self.work.path().join(url.trim_start_matches("file://"))
    }

    /// `atlas migrate apply` through the hook.
    async fn apply(&self, cmd: &Cmd, target: &str, lock_held: bool) -> Result<Outcome, String> {
        let silenced = cmd.get("format").or(cmd.get("log")).is_some();
        let mut options = Options {
            baseline: cmd.get("baseline").map(str::to_string),
            allow_dirty: cmd.flags.contains_key("allow-dirty"),
            exec_order: cmd.get("exec-order").map(str::to_string),
            tx_mode: cmd.get("tx-mode").map(str::to_string),
            ..Options::default()
        };
        let mut raw_amount = None;
        if let Some(a) = cmd.positional.first() {
            match a.parse::<u64>() {
                Ok(n) => options.amount = Some(n),
                // Not a u64: sent as it is, for the server to refuse.
                Err(_) => raw_amount = Some(a.clone()),
            }
        }
        // The directory as it is now becomes `latest`.
        let dir_path = self.dir_path(cmd);
        let dir_name = dir_path.file_name().and_then(|n| n.to_str()).unwrap_or("migrations").to_string();
        if let Err(e) = self.push(&dir_path, &dir_name).await {
            return Ok(Outcome::failed(String::new(), e, silenced));
        }
        let mut plan_body = serde_json::to_value(PlanRequest {
            dir: dir_name.clone(),
            tag: Some("latest".into()),
            version: None,
            options: options.clone(),
        })
        .map_err(|e| e.to_string())?;
        if let Some(a) = &raw_amount {
            plan_body["options"]["amount"] = a.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(a));
        }
        let r = self.post(&format!("/hook/v1/targets/{target}/plan"), &plan_body).await?;
        if r.status != 200 {
            return Ok(Outcome::failed(String::new(), refusal(target, &r), silenced));
        }
        let plan = r.json();
        let body = ApplyRequest {
            dir: dir_name,
            version: s(&plan, "version").unwrap_or("").into(),
            plan_digest: plan["plan"]["digest"].as_str().unwrap_or("").into(),
            options,
            dry_run: cmd.flags.contains_key("dry-run"),
        };
        // Atlas's lock held by another process: its lock file, with an
        // expiry an hour ahead, in the server's TMPDIR (SQLite).
        let lock = self.work.path().join("tmp/atlas_migrate_execute.lock");
        if lock_held {
            let expires =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
            std::fs::write(&lock, (expires.as_nanos() + 3_600_000_000_000).to_string()).map_err(|e| e.to_string())?;
        }
        let r = self.post(&format!("/hook/v1/targets/{target}/apply"), &body).await?;
        if lock_held {
            std::fs::remove_file(&lock).map_err(|e| e.to_string())?;
        }
        if r.status != 200 {
            return Ok(Outcome::failed(String::new(), refusal(target, &r), silenced));
        }
        let text = r.text();
        let finished = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|e| e["type"] == "finished")
            .ok_or_else(|| format!("no finished event in:\n{text}"))?;
        let report: ApplyReport =
            serde_json::from_value(finished["report"].clone()).map_err(|e| format!("finished report: {e}"))?;
        let stdout = match cmd.get("format").or(cmd.get("log")) {
            Some(tpl) => apply_template(tpl, &report)?,
            None => apply_text(&report),
        };
        Ok(match &report.error {
            Some(e) => Outcome::failed(stdout, e.clone(), silenced),
            None => Outcome { stdout, ..Outcome::default() },
        })
    }

    /// `POST path` with `body` as JSON and the case's token.
    async fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<common::Resp, String> {
        let body = serde_json::to_value(body).map_err(|e| e.to_string())?;
        Ok(self.server().post_json(path, Some(&self.token), &body).await)
    }

    /// Pushes the folder as a version of `name` and tags it `latest`; the
    /// registry's refusal as an error.
    async fn push(&self, path: &Path, name: &str) -> Result<(), String> {
        let server = self.server();
        // As the core's registry client pushes (`prepare_push`): a folder
        // with an atlas.sum must verify; one without gets the computed sum.
        let dir = read_dir(path, self.dialect())?;
        let manifest = Manifest::of(&dir);
        if dir.sum_file().is_some() {
            dir.verify(None).map_err(|e| e.to_string())?;
        }
        for f in dir.files() {
            let r = server
                .put(&format!("/v1/dirs/{name}/blobs/{}", BlobDigest::of(f.bytes())), Some(&self.token), f.bytes())
                .await;
            if !(200..300).contains(&r.status) {
                return Err(message_of(&r));
            }
        }
        let r = self.post(&format!("/v1/dirs/{name}/versions"), &manifest).await?;
        if !(200..300).contains(&r.status) {
            return Err(message_of(&r));
        }
        let r = server.put_tag(&self.token, name, "latest", &manifest.digest(), &[]).await;
        if r.status != 200 {
            return Err(format!("tag: {}", r.text()));
        }
        Ok(())
    }

    async fn revisions(&self, target: &str) -> Result<DbState, String> {
        let r = self.server().get(&format!("/hook/v1/targets/{target}/revisions"), Some(&self.token)).await;
        if r.status != 200 {
            return Err(format!("GET revisions of {target}: {} {}", r.status, r.text()));
        }
        serde_json::from_value(r.json()).map_err(|e| format!("revisions of {target}: {e}"))
    }

    /// `atlas migrate status`: the hook's revisions, the core's status of
    /// the local directory.
    async fn status(&self, cmd: &Cmd, target: &str) -> Result<Outcome, String> {
        let dir = read_dir(&self.dir_path(cmd), self.dialect())?;
        let r = self.server().get(&format!("/hook/v1/targets/{target}/revisions"), Some(&self.token)).await;
        if r.status != 200 {
            return Ok(Outcome::failed(String::new(), refusal(target, &r), false));
        }
        let state: DbState = serde_json::from_value(r.json()).map_err(|e| e.to_string())?;
        Ok(match status(&dir, &state) {
            Ok(st) => Outcome { stdout: status_text(&st), ..Outcome::default() },
            Err(e) => Outcome::failed(String::new(), e.to_string(), false),
        })
    }

    async fn exec(&self, db: &Db, stmts: &[String]) -> Result<(), String> {
        match db {
            Db::Sqlite(f) => {
                let mut c = sqlite(&self.sqlite_path(f)).await?;
                for q in stmts {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(q.clone())).execute(&mut c).await.map_err(|e| e.to_string())?;
                }
                c.close().await.map_err(|e| e.to_string())
            }
            pg => self.pg_exec(pg, stmts).await,
        }
    }

    async fn pg_exec(&self, db: &Db, stmts: &[String]) -> Result<(), String> {
        let mut c = sqlx::PgConnection::connect(&self.pg_url(&unbound(db))?).await.map_err(|e| e.to_string())?;
        for q in stmts {
            sqlx::raw_sql(sqlx::AssertSqlSafe(q.clone())).execute(&mut c).await.map_err(|e| format!("{q}: {e}"))?;
        }
        c.close().await.map_err(|e| e.to_string())
    }

    async fn reset_db(&self, st: &Value) -> Result<(), String> {
        let db = self.db_of(st);
        match &db {
            Db::Sqlite(f) => {
                let mut c = sqlite(&self.sqlite_path(f)).await?;
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(&mut c)
                .await
                .map_err(|e| e.to_string())?;
                for t in tables {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS `{}`", t.replace('`', "``"))))
                        .execute(&mut c)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                c.close().await.map_err(|e| e.to_string())
            }
            Db::Pg { schema: Some(schema), .. } => {
                // The testscript's clearSchema.
                self.pg_exec(
                    &db,
                    &[
                        format!("DROP SCHEMA {} CASCADE", quote_pg(schema)),
                        format!("CREATE SCHEMA {}", quote_pg(schema)),
                    ],
                )
                .await
            }
            Db::Pg { schema: None, .. } => {
                // `atlas schema clean` on the whole database: every schema
                // (public included) is dropped.
                let schemas = self.pg_strings(&db, USER_SCHEMAS).await?;
                let stmts: Vec<String> =
                    schemas.iter().map(|x| format!("DROP SCHEMA {} CASCADE", quote_pg(x))).collect();
                self.pg_exec(&db, &stmts).await
            }
        }
    }

    async fn pg_strings(&self, db: &Db, q: &str) -> Result<Vec<String>, String> {
        let mut c = sqlx::PgConnection::connect(&self.pg_url(&unbound(db))?).await.map_err(|e| e.to_string())?;
        let v =
            sqlx::query_scalar(sqlx::AssertSqlSafe(q.to_string())).fetch_all(&mut c).await.map_err(|e| e.to_string());
        let _ = c.close().await;
        v
    }

    /// [`psql_describe`]'s facts of table `schema.table`, from the catalog.
    async fn describe(&self, db: &Db, schema: &str, table: &str) -> Result<Vec<String>, String> {
        let (schema_lit, table_lit) = (schema.replace('\'', "''"), table.replace('\'', "''"));
        let mut out = vec![format!("Table \"{schema}.{table}\"")];
        out.extend(
            self.pg_strings(db, &format!(
                "SELECT concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod), \
                 CASE WHEN a.attcollation <> t.typcollation THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END, \
                 CASE WHEN a.attnotnull THEN 'not null' END, \
                 CASE a.attidentity WHEN 'd' THEN 'generated by default as identity' WHEN 'a' THEN 'generated always as identity' \
                 ELSE pg_get_expr(d.adbin, d.adrelid) END)::text \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE n.nspname = '{schema_lit}' AND c.relname = '{table_lit}' AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum"
            ))
            .await?,
        );
        let mut indexes = self
            .pg_strings(db, &format!(
                "SELECT concat_ws(' ', '\"' || i.relname || '\"', CASE WHEN x.indisprimary THEN 'PRIMARY KEY' \
                 WHEN x.indisunique THEN 'UNIQUE' END)::text \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema_lit}' AND c.relname = '{table_lit}'"
            ))
            .await?;
        indexes.sort();
        out.extend(indexes);
        Ok(out)
    }

    async fn init_revisions(&self, db: &Db) -> Result<(), String> {
        let sql = RevisionSql::for_dialect(self.dialect()).ok_or("no revisions SQL")?;
        self.exec(db, &[sql.create_table.to_string()]).await
    }

    async fn write_revision(&self, db: &Db, v: &Value) -> Result<(), String> {
        let Db::Sqlite(f) = db else { return Err("write_revision is only used by SQLite cases".into()) };
        let r = revision_from(v)?;
        let sql = RevisionSql::for_dialect(Dialect::Sqlite).ok_or("no revisions SQL")?;
        let mut c = sqlite(&self.sqlite_path(f)).await?;
        sqlx::query(sql.upsert)
            .bind(&r.version)
            .bind(&r.description)
            .bind(r.kind.0 as i64)
            .bind(r.applied as i64)
            .bind(r.total as i64)
            .bind(&r.executed_at)
            .bind(r.execution_time)
            .bind(&r.error)
            .bind(&r.error_stmt)
            .bind(&r.hash)
            .bind(render_hash_list(r.partial_hashes.as_deref()))
            .bind(&r.operator_version)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        c.close().await.map_err(|e| e.to_string())
    }

    /// The tables of `db`: SQLite's; PostgreSQL's in the bound schema, or
    /// `schema.table` over every user schema for a whole database.
    async fn tables(&self, db: &Db) -> Result<Vec<String>, String> {
        let mut t: Vec<String> = match db {
            Db::Sqlite(f) => {
                let mut c = sqlite(&self.sqlite_path(f)).await?;
                let v = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(&mut c)
                .await
                .map_err(|e| e.to_string())?;
                let _ = c.close().await;
                v
            }
            Db::Pg { schema: Some(s), .. } => {
                self.pg_strings(db, &format!(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = '{}'",
                    s.replace('\'', "''")
                ))
                .await?
            }
            Db::Pg { schema: None, .. } => {
                self.pg_strings(db, "SELECT (table_schema || '.' || table_name)::text FROM information_schema.tables \
                     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')")
                    .await?
            }
        };
        t.sort();
        Ok(t)
    }

    async fn check_db(&self, label: &str, st: &Value, failures: &mut Vec<String>) -> Result<(), String> {
        let db = self.db_of(st);
        let tables = self.tables(&db).await?;
        let obj = st.as_object().ok_or("check_db step is not an object")?;
        let via_inspect = s(st, "via").is_some_and(|v| v.starts_with("atlas schema inspect"));
        for (k, w) in obj {
            match k.as_str() {
                "tables" if !via_inspect => {
                    let want = std::fs::read_to_string(
                        self.case_dir.join(s(st, "expected_file").ok_or("tables without expected_file")?),
                    )
                    .map_err(|e| format!("expected_file: {e}"))?;
                    for t in w.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        match &db {
                            Db::Sqlite(f) => {
                                let mut c = sqlite(&self.sqlite_path(f)).await?;
                                let got: Option<String> = sqlx::query_scalar(
                                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                                )
                                .bind(t)
                                .fetch_optional(&mut c)
                                .await
                                .map_err(|e| e.to_string())?;
                                let _ = c.close().await;
                                let got = got.unwrap_or_else(|| "(table missing)".into());
                                if got.trim() != want.trim() {
                                    failures.push(mismatch(
                                        label,
                                        &format!("definition of table {t}"),
                                        want.trim(),
                                        got.trim(),
                                    ));
                                }
                            }
                            Db::Pg { schema, .. } => {
                                // The expectation is `psql \d` output; without
                                // psql, the same facts from the catalog: the
                                // title, each column (name, type, not null,
                                // default) and each index (name, primary or
                                // unique). The index methods and columns
                                // after `, btree` are not compared.
                                let schema = schema.clone().unwrap_or_else(|| "public".into());
                                let got = self.describe(&db, &schema, t).await?;
                                let want = psql_describe(&want);
                                if got != want {
                                    failures.push(mismatch(
                                        label,
                                        &format!(
                                            "table {schema}.{t} (psql \\d: title, columns, index names and kinds)"
                                        ),
                                        &want.join("\n"),
                                        &got.join("\n"),
                                    ));
                                }
                            }
                        }
                    }
                }
                "expect_tables" | "tables_exactly" => {
                    check_table_list(label, st, k, w, &tables, failures);
                }
                "query" => {
                    let Db::Sqlite(f) = &db else { return Err("query checks are SQLite's".into()) };
                    let q = w.as_str().unwrap_or("");
                    let mut c = sqlite(&self.sqlite_path(f)).await?;
                    let got: Result<i64, String> = sqlx::query_scalar(sqlx::AssertSqlSafe(q.to_string()))
                        .fetch_one(&mut c)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = c.close().await;
                    match (got, st.get("equals").and_then(Value::as_i64)) {
                        (Ok(g), Some(e)) if g == e => {}
                        (g, e) => {
                            failures.push(mismatch(label, &format!("query {q}"), &format!("{e:?}"), &format!("{g:?}")))
                        }
                    }
                }
                "table_exists" => {
                    let t = w.as_str().unwrap_or("");
                    let exists = match &db {
                        Db::Pg { .. } if t.contains('.') => {
                            let (schema, table) = t.split_once('.').unwrap_or_default();
                            !self
                                .pg_strings(&db, &format!(
                                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = '{}' AND table_name = '{}'",
                                    schema.replace('\'', "''"),
                                    table.replace('\'', "''")
                                ))
                                .await?
                                .is_empty()
                        }
                        _ => tables.iter().any(|x| x == t),
                    };
                    if !exists {
                        failures.push(mismatch(label, "table exists", t, &tables.join(", ")));
                    }
                }
                "column_absent" => {
                    let Db::Sqlite(f) = &db else { return Err("column_absent checks are SQLite's".into()) };
                    for (t, cols) in w.as_object().into_iter().flatten() {
                        let cols: Vec<&str> = match cols {
                            Value::String(c) => vec![c.as_str()],
                            v => v.as_array().into_iter().flatten().filter_map(Value::as_str).collect(),
                        };
                        let mut c = sqlite(&self.sqlite_path(f)).await?;
                        let have: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
                            .bind(t)
                            .fetch_all(&mut c)
                            .await
                            .map_err(|e| e.to_string())?;
                        let _ = c.close().await;
                        for col in cols {
                            if have.iter().any(|h| h == col) {
                                failures.push(mismatch(
                                    label,
                                    &format!("column {t}.{col} absent"),
                                    "absent",
                                    &have.join(", "),
                                ));
                            }
                        }
                    }
                }
                "revisions_count" => {
                    let Db::Sqlite(f) = &db else { return Err("revisions_count checks are SQLite's".into()) };
                    let mut c = sqlite(&self.sqlite_path(f)).await?;
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_schema_revisions")
                        .fetch_one(&mut c)
                        .await
                        .map_err(|e| e.to_string())?;
                    let _ = c.close().await;
                    if w.as_i64() != Some(n) {
                        failures.push(mismatch(label, "revisions count", &w.to_string(), &n.to_string()));
                    }
                }
                "schema_absent" => {
                    let schema = w.as_str().unwrap_or("");
                    let found = self
                        .pg_strings(
                            &db,
                            &format!(
                                "SELECT nspname::text FROM pg_namespace WHERE nspname = '{}'",
                                schema.replace('\'', "''")
                            ),
                        )
                        .await?;
                    if !found.is_empty() {
                        failures.push(mismatch(label, "schema absent", schema, "present"));
                    }
                }
                "op"
                | "line"
                | "db"
                | "what"
                | "compare"
                | "via"
                | "argv"
                | "note"
                | "cmp_line"
                | "expected_file"
                | "expected_file_compare"
                | "upstream_expected_output"
                | "revisions_count_line"
                | "equals" => {}
                "tables" => {}
                other => failures.push(format!("{label}: unknown check_db field {other:?}")),
            }
        }
        Ok(())
    }
}

/// `<postgres error text>` in a `derived` text: the database's message,
/// which upstream does not pin (corpus README, "Which cases need a
/// server"); `<postgres error text: X>` is one that contains `X`.
const SERVER_TEXT: &str = r"<postgres error text(?:: ([^>]*))?>";

/// [`matches_derived`], with [`SERVER_TEXT`] placeholders matching the
/// rest of their line.
fn matches_placeholders(expected: &str, actual: &str) -> Result<bool, String> {
    let placeholder = regex::Regex::new(SERVER_TEXT).map_err(|e| e.to_string())?;
    if !placeholder.is_match(expected) {
        return matches_derived(expected, actual);
    }
    let literal =
        |t: &str| t.split("<duration>").map(regex::escape).collect::<Vec<_>>().join(&format!("(?:{DURATION})"));
    let mut pattern = String::from("^");
    let mut at = 0;
    for c in placeholder.captures_iter(expected) {
        let m = c.get(0).ok_or("no match")?;
        pattern += &literal(&expected[at..m.start()]);
        match c.get(1) {
            Some(x) => pattern += &format!("[^\n]*{}[^\n]*", regex::escape(x.as_str())),
            None => pattern += "[^\n]+",
        }
        at = m.end();
    }
    pattern += &literal(&expected[at..]);
    pattern.push('$');
    Ok(regex::Regex::new(&pattern).map_err(|e| e.to_string())?.is_match(actual))
}

/// Checks the revision fields of `want` that hold a [`SERVER_TEXT`]
/// placeholder and returns `want` without them, for [`compare_revisions`].
fn server_texts(label: &str, want: &Value, got: &[Revision], failures: &mut Vec<String>) -> Value {
    let check_one = |w: &Value, g: Option<&Revision>, failures: &mut Vec<String>| -> Value {
        let mut w = w.clone();
        let Some(obj) = w.as_object_mut() else { return w };
        for field in ["error", "error_stmt"] {
            let Some(text) = obj.get(field).and_then(Value::as_str).map(str::to_string) else { continue };
            if !text.contains("<postgres error text") {
                continue;
            }
            obj.remove(field);
            let actual = g.map(|g| if field == "error" { g.error.as_str() } else { g.error_stmt.as_str() });
            if !actual.is_some_and(|a| matches_placeholders(&text, a).unwrap_or(false)) {
                failures.push(mismatch(label, &format!("revision field {field}"), &text, actual.unwrap_or("(none)")));
            }
        }
        w
    };
    match want {
        Value::Array(ws) => {
            Value::Array(ws.iter().enumerate().map(|(i, w)| check_one(w, got.get(i), failures)).collect())
        }
        w => check_one(w, got.last(), failures),
    }
}

/// The non-system schemas of a PostgreSQL database.
const USER_SCHEMAS: &str = "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1";

/// The same database, not bound to a schema.
fn unbound(db: &Db) -> Db {
    match db {
        Db::Pg { db, .. } => Db::Pg { db: db.clone(), schema: None },
        other => other.clone(),
    }
}

fn quote_pg(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// What [`CaseRun::describe`] compares of a `psql \d` table listing: the
/// title, one line per column (its cells joined by spaces, collation
/// included), one per index (its name and kind, before `, btree`), indexes
/// sorted.
fn psql_describe(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![lines.first().map_or("", |l| l.trim()).to_string()];
    out.extend(
        lines
            .iter()
            .skip_while(|l| !l.starts_with("--"))
            .skip(1)
            .take_while(|l| l.contains('|'))
            .map(|l| l.split('|').map(str::trim).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" ")),
    );
    let mut indexes: Vec<String> = lines
        .iter()
        .skip_while(|l| l.trim() != "Indexes:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim().split(", ").next().unwrap_or("").to_string())
        .collect();
    indexes.sort();
    out.extend(indexes);
    out
}

async fn sqlite(path: &Path) -> Result<sqlx::SqliteConnection, String> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true).foreign_keys(false);
    sqlx::SqliteConnection::connect_with(&opts).await.map_err(|e| format!("open {}: {e}", path.display()))
}

/// A JSON error answer as Atlas would print it: the core's plan error, or
/// the server's message without its `target "t": ` prefix.
fn refusal(target: &str, r: &common::Resp) -> String {
    let j: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    if let Some(m) = j["planError"]["message"].as_str() {
        return m.to_string();
    }
    // The server names the target or the option first; Atlas's words follow.
    let m = message_of(r);
    let m = m.strip_prefix(&format!("target {target:?}: ")).unwrap_or(&m);
    match m.split_once(": ") {
        Some((option, rest)) if option.starts_with("options.") && !option.contains(' ') => rest.to_string(),
        _ => m.to_string(),
    }
}

fn message_of(r: &common::Resp) -> String {
    let j: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    j["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("{} {}", r.status, r.text()))
}

/// The migration directory at `path`, split in `dialect`.
fn read_dir(path: &Path, dialect: Dialect) -> Result<Directory, String> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(path).map_err(|e| format!("read {}: {e}", path.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_file() {
            let name = p.file_name().and_then(|n| n.to_str()).ok_or("non-UTF-8 file name")?.to_string();
            entries.push((name, std::fs::read(&p).map_err(|e| e.to_string())?));
        }
    }
    entries.sort();
    Directory::with_options(entries, DirOptions { dialect, ..Default::default() }).map_err(|e| e.to_string())
}

/// Copies a case folder (read-only in the corpus) to a writable place.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("mkdir {}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        let dest = to.join(p.file_name().ok_or("bad file name")?);
        if p.is_dir() {
            copy_dir(&p, &dest)?;
        } else {
            let bytes = std::fs::read(&p).map_err(|e| format!("read {}: {e}", p.display()))?;
            std::fs::write(&dest, bytes).map_err(|e| format!("write {}: {e}", dest.display()))?;
        }
    }
    Ok(())
}

/// An `fs` step on the scratch copy.
fn fs_step(work: &Path, st: &Value) -> Result<(), String> {
    let p = |k: &str| s(st, k).map(|x| work.join(x)).ok_or_else(|| format!("fs step without {k}"));
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    match s(st, "action") {
        Some("copy") => std::fs::copy(p("from")?, p("to")?).map(drop).map_err(io("copy")),
        Some("move") => std::fs::rename(p("from")?, p("to")?).map_err(io("move")),
        Some("remove") => std::fs::remove_file(p("path")?).map_err(io("remove")),
        Some("write") => {
            std::fs::copy(p("content_file")?, p("path")?).map_err(io("write"))?;
            for (path, content) in st["also_write"].as_object().into_iter().flatten() {
                std::fs::copy(work.join(content.as_str().unwrap_or("")), work.join(path)).map_err(io("also_write"))?;
            }
            Ok(())
        }
        Some("copy_dir") => copy_dir(&p("from")?, &p("to")?),
        Some("replace_dir") => {
            let to = p("to")?;
            std::fs::remove_dir_all(&to).map_err(io("replace_dir"))?;
            copy_dir(&p("from")?, &to)
        }
        other => Err(format!("unknown fs action {other:?}")),
    }
}
