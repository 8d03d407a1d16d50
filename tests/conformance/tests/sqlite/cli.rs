//! A small emulation of Atlas's CLI (`migrate apply|status|set|hash`) over
//! the strata core and the SQLite [`Driver`]: argv parsing, the order in
//! which `migrateApplyRun` and friends check things, and what goes to
//! stdout and stderr (`cmd/atlas/internal/cmdapi/migrate.go`).
//!
//! Only the CLI's own behaviours live here (flag parsing, amount errors,
//! the checksum help text, late `--tx-mode` validation, the lock, the
//! revisions schema). Planning, execution and every text come from the
//! core.

use super::driver::{go_quote, now, Driver};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use strata::dir::{DirOptions, Directory};
use strata::lex::Dialect;
use strata::plan::{plan, set, status, DbState, ExecOptions, ExecOrder, Executor, PlanOptions, Revision, TxMode};
use strata::report::{apply_text, set_text, status_text};
use strata::sum::SumError;
use strata_conformance::apply::apply_template;

/// What the harness writes into `operator_version`.
pub const OPERATOR: &str = "strata-conformance";

/// Where a command's output went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// The result of one command.
#[derive(Debug, Default)]
pub struct CmdResult {
    /// Writes, in order.
    pub writes: Vec<(Stream, String)>,
    /// The error returned (what follows `Error: `).
    pub error: Option<String>,
    /// 0 or 1.
    pub exit_code: i32,
    /// cobra's `SilenceErrors`: no `Error: ...` line.
    silenced: bool,
}

impl CmdResult {
    fn stream(&self, s: Option<Stream>) -> String {
        self.writes.iter().filter(|(w, _)| s.is_none_or(|s| s == *w)).map(|(_, t)| t.as_str()).collect()
    }

    /// Standard output.
    pub fn stdout(&self) -> String {
        self.stream(Some(Stream::Out))
    }

    /// Standard error.
    pub fn stderr(&self) -> String {
        self.stream(Some(Stream::Err))
    }

    /// Both, interleaved (Go tests run the command with one buffer).
    pub fn combined(&self) -> String {
        self.stream(None)
    }

    fn out(&mut self, s: impl Into<String>) {
        self.writes.push((Stream::Out, s.into()));
    }
}

/// A database of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbSpec {
    /// A file database (`?_fk=1`: foreign keys on).
    File {
        /// Its path.
        path: PathBuf,
        /// Foreign keys on.
        fk: bool,
    },
    /// An in-memory database, alive for the whole case.
    Mem {
        /// Its name (`{mem:X}`), possibly empty.
        name: String,
        /// Foreign keys on.
        fk: bool,
    },
}

/// A connection, owned (file databases are opened per command, as Atlas
/// opens a client per command) or borrowed (in-memory databases).
pub enum Handle<'a> {
    /// A connection opened for this command.
    Owned(Connection),
    /// The case's in-memory database.
    Borrowed(&'a Connection),
}

impl Handle<'_> {
    /// The connection.
    pub fn conn(&self) -> &Connection {
        match self {
            Handle::Owned(c) => c,
            Handle::Borrowed(c) => c,
        }
    }
}

/// The databases of a case.
#[derive(Default)]
pub struct Dbs {
    mems: HashMap<String, Connection>,
}

impl Dbs {
    /// Opens `spec`.
    pub fn open(&mut self, spec: &DbSpec) -> Result<Handle<'_>, String> {
        match spec {
            DbSpec::File { path, fk } => {
                let c = Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
                if *fk {
                    c.execute_batch("PRAGMA foreign_keys = on").map_err(|e| e.to_string())?;
                }
                Ok(Handle::Owned(c))
            }
            DbSpec::Mem { name, fk } => {
                if !self.mems.contains_key(name) {
                    let c = Connection::open_in_memory().map_err(|e| e.to_string())?;
                    if *fk {
                        c.execute_batch("PRAGMA foreign_keys = on").map_err(|e| e.to_string())?;
                    }
                    self.mems.insert(name.clone(), c);
                }
                self.mems.get(name).map(Handle::Borrowed).ok_or_else(|| "in-memory database vanished".into())
            }
        }
    }
}

/// What a case gives the CLI.
pub struct Env<'a> {
    /// The case's scratch folder (copied case).
    pub work: &'a Path,
    /// Its databases.
    pub dbs: &'a mut Dbs,
    /// `vars` of the case (`$db`).
    pub vars: &'a HashMap<String, String>,
    /// The step's precondition says the lock is held by someone else.
    pub lock_held: bool,
}

/// Resolves a `--url` placeholder.
pub fn resolve_url(work: &Path, u: &str) -> Result<DbSpec, String> {
    if u == "URL" {
        return Ok(DbSpec::File { path: work.join("atlas.sqlite"), fk: true });
    }
    if let Some(x) = u.strip_prefix("{url:").and_then(|r| r.strip_suffix('}')) {
        return Ok(DbSpec::File { path: work.join(format!("{x}.db")), fk: true });
    }
    if let Some(x) = u.strip_prefix("{mem:").and_then(|r| r.strip_suffix('}')) {
        return Ok(DbSpec::Mem { name: x.to_string(), fk: !x.is_empty() });
    }
    Err(format!("harness: unsupported --url {u:?} for SQLite"))
}

/// The parsed command line.
#[derive(Debug, Default)]
struct Args {
    flags: HashMap<String, String>,
    positional: Vec<String>,
}

impl Args {
    fn get(&self, k: &str) -> Option<&str> {
        self.flags.get(k).map(String::as_str)
    }

    fn bool(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v == "true")
    }
}

/// The flags of each command: (long name, short, takes a value).
fn flag_table(cmd: &str) -> &'static [(&'static str, Option<char>, bool)] {
    const GLOBAL: [(&str, Option<char>, bool); 3] =
        [("config", Some('c'), true), ("env", None, true), ("var", None, true)];
    match cmd {
        "apply" => &[
            ("url", Some('u'), true),
            ("dir", None, true),
            ("log", None, true),
            ("format", None, true),
            ("revisions-schema", None, true),
            ("dry-run", None, false),
            ("lock-timeout", None, true),
            ("baseline", None, true),
            ("tx-mode", None, true),
            ("exec-order", None, true),
            ("context", None, true),
            ("allow-dirty", None, false),
            GLOBAL[0],
            GLOBAL[1],
            GLOBAL[2],
        ],
        "status" => &[
            ("url", Some('u'), true),
            ("log", None, true),
            ("format", None, true),
            ("dir", None, true),
            ("dir-format", None, true),
            ("revisions-schema", None, true),
            GLOBAL[0],
            GLOBAL[1],
            GLOBAL[2],
        ],
        "set" => &[
            ("url", Some('u'), true),
            ("dir", None, true),
            ("dir-format", None, true),
            ("revisions-schema", None, true),
            GLOBAL[0],
            GLOBAL[1],
            GLOBAL[2],
        ],
        "hash" => {
            &[("dir", None, true), ("dir-format", None, true), ("force", None, false), GLOBAL[0], GLOBAL[1], GLOBAL[2]]
        }
        _ => &[],
    }
}

/// pflag-style parsing: `--name value`, `--name=value`, `-u value`, bool
/// flags without a value, `--` ends the flags; flags and arguments mix.
fn parse_args(cmd: &str, argv: &[String]) -> Result<Args, String> {
    let table = flag_table(cmd);
    let mut a = Args::default();
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        i += 1;
        if arg == "--" {
            a.positional.extend(argv[i..].iter().cloned());
            break;
        }
        let (name, inline) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().next().unwrap_or('-');
            let Some((n, ..)) = table.iter().find(|(_, s, _)| *s == Some(c)) else {
                return Err(format!("unknown shorthand flag: '{c}' in {arg}"));
            };
            let rest = &short[c.len_utf8()..];
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (n.to_string(), (!rest.is_empty()).then(|| rest.to_string()))
        } else {
            a.positional.push(arg.clone());
            continue;
        };
        let Some((_, _, takes)) = table.iter().find(|(n, ..)| *n == name) else {
            return Err(format!("unknown flag: --{name}"));
        };
        let value = match (inline, takes) {
            (Some(v), _) => v,
            (None, false) => "true".into(),
            (None, true) => {
                let v = argv.get(i).cloned().ok_or_else(|| format!("flag needs an argument: --{name}"))?;
                i += 1;
                v
            }
        };
        a.flags.insert(name, value);
    }
    Ok(a)
}

/// Go's `strconv.Atoi` error kind for `s`, or its value.
fn atoi(s: &str) -> Result<i64, &'static str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse::<i64>().map_err(|_| "value out of range")
}

/// Reads the migration directory of `--dir` (default `file://migrations`).
fn open_dir(env: &Env<'_>, a: &Args) -> Result<Directory, String> {
    let url = a.get("dir").unwrap_or("file://migrations");
    let rel = url.strip_prefix("file://").ok_or_else(|| format!("harness: unsupported --dir {url:?}"))?;
    let path = env.work.join(rel);
    let mut entries = Vec::new();
    let rd = std::fs::read_dir(&path).map_err(|e| format!("sql/migrate: stat {}: {e}", path.display()))?;
    for e in rd {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_file() {
            let name = p.file_name().and_then(|n| n.to_str()).ok_or("non-UTF-8 file name")?.to_string();
            entries.push((name, std::fs::read(&p).map_err(|e| e.to_string())?));
        }
    }
    entries.sort();
    Directory::with_options(entries, DirOptions { dialect: Dialect::Sqlite, ..Default::default() })
        .map_err(|e| e.to_string())
}

/// `migrate.Validate` plus `printChecksumError` (the help goes to stdout:
/// cobra's `OutOrStderr` is the command's out writer).
fn validate(dir: &Directory, res: &mut CmdResult) -> Result<(), String> {
    match dir.verify(None) {
        Ok(()) => Ok(()),
        Err(e) => {
            res.out("You have a checksum error in your migration directory.\n");
            if let SumError::Checksum(c) = &e {
                res.out(format!("\n\tL{}: {} was {}\n\n", c.line, c.file, c.reason.as_str()));
            }
            res.out("Please check your migration files and run 'atlas migrate hash' to re-hash the contents\n\n");
            Err(e.to_string())
        }
    }
}

/// Runs `atlas <argv>`.
pub fn run(env: &mut Env<'_>, argv: &[String]) -> CmdResult {
    let mut res = CmdResult::default();
    let argv: Vec<String> = argv
        .iter()
        .map(|a| if a == "$db" { env.vars.get("db").cloned().unwrap_or_else(|| a.clone()) } else { a.clone() })
        .collect();
    let outcome = match argv.first().map(String::as_str) {
        Some("migrate") => {
            let sub = argv.get(1).map(String::as_str).unwrap_or("");
            match parse_args(sub, argv.get(2..).unwrap_or(&[])) {
                Err(e) => Err(e),
                Ok(a) => match sub {
                    "apply" => apply(env, &a, &mut res),
                    "status" => status_cmd(env, &a, &mut res),
                    "set" => set_cmd(env, &a, &mut res),
                    "hash" => hash(env, &a),
                    other => Err(format!("harness: migrate {other} is not emulated")),
                },
            }
        }
        _ => Err(format!("harness: command {argv:?} is not emulated")),
    };
    if let Err(e) = outcome {
        if !res.silenced {
            res.writes.push((Stream::Err, format!("Error: {e}\n")));
        }
        res.error = Some(e);
        res.exit_code = 1;
    }
    res
}

fn project_flags(a: &Args) -> Result<(), String> {
    for f in ["config", "env", "var"] {
        if a.get(f).is_some() {
            return Err(format!("harness: --{f} needs atlas.hcl (project configuration), which is not emulated"));
        }
    }
    Ok(())
}

fn hash(env: &Env<'_>, a: &Args) -> Result<(), String> {
    project_flags(a)?;
    let dir = open_dir(env, a)?;
    let url = a.get("dir").unwrap_or("file://migrations");
    let path = env.work.join(url.trim_start_matches("file://")).join("atlas.sum");
    std::fs::write(&path, dir.checksum().render()).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Opens the database, takes the lock, checks `--revisions-schema` and
/// creates the revisions table, in `migrateApplyRun`'s order.
fn connect<'e>(env: &'e mut Env<'_>, a: &Args) -> Result<Handle<'e>, String> {
    let url = a.get("url").filter(|u| !u.is_empty()).ok_or_else(|| r#"required flag "url" not set"#.to_string())?;
    let spec = resolve_url(env.work, url)?;
    let lock_held = env.lock_held;
    let h = env.dbs.open(&spec)?;
    if lock_held {
        // The upstream test swaps in a driver whose Lock fails with "lockErr".
        return Err("acquiring database lock: lockErr".into());
    }
    if let Some(s) = a.get("revisions-schema").filter(|s| !s.is_empty() && *s != "main") {
        return Err(format!("cannot store revisions-table in a separate schema ({}) with SQLite driver", go_quote(s)));
    }
    Ok(h)
}

fn apply(env: &mut Env<'_>, a: &Args, res: &mut CmdResult) -> Result<(), String> {
    if a.positional.len() > 1 {
        return Err(format!("accepts at most 1 arg(s), received {}", a.positional.len()));
    }
    project_flags(a)?;
    if a.get("log").is_some() && a.get("format").is_some() {
        return Err(
            "if any flags in the group [log format] are set none of the others can be; [format log] were all set"
                .into(),
        );
    }
    let mut amount = None;
    if let Some(arg) = a.positional.first() {
        let n = atoi(arg).map_err(|why| {
            format!(
                "invalid amount argument {} ({why}). Omit the argument or pass a valid integer instead",
                go_quote(arg)
            )
        })?;
        if n < 1 {
            return Err(format!("cannot apply '{n}' migration files"));
        }
        amount = Some(n as u64);
    }
    let dir = open_dir(env, a)?;
    validate(&dir, res)?;
    let dry_run = a.bool("dry-run");
    let format = a.get("format").or(a.get("log")).map(str::to_string);
    let handle = connect(env, a)?;
    let mut drv = Driver::new(handle.conn())?;
    drv.migrate_revisions_table()?;
    let exec_order = match a.get("exec-order") {
        None | Some("") => ExecOrder::Linear,
        Some(v) => ExecOrder::parse(v).map_err(|e| e.to_string())?,
    };
    // `--tx-mode` is only looked at when a file is about to run (see below).
    let tx_flag = a.get("tx-mode").unwrap_or("file");
    let tx_mode = TxMode::parse(tx_flag).ok();
    let opts = PlanOptions {
        baseline: a.get("baseline").filter(|b| !b.is_empty()).map(str::to_string),
        allow_dirty: a.bool("allow-dirty"),
        exec_order,
        to_version: None,
        amount,
        tx_mode: tx_mode.unwrap_or(TxMode::File),
    };
    let state = DbState { revisions: drv.read_revisions()?, not_clean: drv.not_clean()?, ..DbState::default() };
    // Planning errors are returned before anything is printed.
    let p = plan(&dir, &state, &opts).map_err(|e| e.to_string())?;
    if dry_run {
        // Atlas writes the baseline row while planning, for real even in a
        // dry run; the core's executor leaves that to the driver.
        if let Some(b) = &p.baseline {
            let mut b = b.clone();
            b.executed_at = strata::report::rfc3339(now());
            b.operator_version = OPERATOR.into();
            drv.upsert(&b)?;
        }
    }
    let exec_opts = ExecOptions { operator_version: OPERATOR.into(), dry_run };
    let (report, error) = match tx_mode {
        None if !dry_run && !p.files.is_empty() => {
            // Atlas resolves the mode of each file when it is reached: the
            // first file without its own `atlas:txmode` directive fails.
            let first_plain =
                p.files.iter().position(|f| dir.file(&f.name).is_some_and(|df| df.directive("txmode").is_empty()));
            match first_plain {
                Some(0) => {
                    // Nothing runs; a baseline row was written by planning.
                    if let Some(b) = &p.baseline {
                        let mut b = b.clone();
                        b.executed_at = strata::report::rfc3339(now());
                        b.operator_version = OPERATOR.into();
                        drv.upsert(&b)?;
                    }
                    let ex = Executor::new(p, exec_opts, now());
                    let mut r = ex.report().clone();
                    let msg = format!("unknown tx-mode {}", go_quote(tx_flag));
                    // Returned without being logged: the end time is never set.
                    r.error = Some(msg.clone());
                    r.end = None;
                    (r, Some(msg))
                }
                None => {
                    // Every file has its own mode: the flag is never looked
                    // at. Atlas then never commits per file (the global mode
                    // is not "file") and commits once at the end, as the
                    // core does under a global `none`.
                    let p = plan(&dir, &state, &PlanOptions { tx_mode: TxMode::None, ..opts.clone() })
                        .map_err(|e| e.to_string())?;
                    let mut ex = Executor::new(p, exec_opts, now());
                    let r = drv.run(&mut ex);
                    drv.close()?;
                    r?;
                    (ex.report().clone(), ex.error().map(str::to_string))
                }
                Some(k) => {
                    return Err(format!(
                        "harness: an invalid --tx-mode reached only at pending file {k} (after files with their own \
                         txmode directive) is not emulated ({tx_flag:?})"
                    ))
                }
            }
        }
        _ => {
            let mut ex = Executor::new(p, exec_opts, now());
            let r = drv.run(&mut ex);
            drv.close()?;
            r?;
            (ex.report().clone(), ex.error().map(str::to_string))
        }
    };
    match &format {
        Some(tpl) => {
            res.out(apply_template(tpl, &report)?);
            // A custom format silences the "Error: ..." line.
            if error.is_some() {
                res.silenced = true;
            }
        }
        None => res.out(apply_text(&report)),
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn status_cmd(env: &mut Env<'_>, a: &Args, res: &mut CmdResult) -> Result<(), String> {
    project_flags(a)?;
    let dir = open_dir(env, a)?;
    validate(&dir, res)?;
    if a.get("format").is_some() || a.get("log").is_some() {
        return Err("harness: Go-template --format for migrate status is not emulated".into());
    }
    let url = a.get("url").filter(|u| !u.is_empty()).ok_or_else(|| r#"required flag "url" not set"#.to_string())?;
    let spec = resolve_url(env.work, url)?;
    let handle = env.dbs.open(&spec)?;
    if let Some(s) = a.get("revisions-schema").filter(|s| !s.is_empty() && *s != "main") {
        return Err(format!("cannot store revisions-table in a separate schema ({}) with SQLite driver", go_quote(s)));
    }
    let drv = Driver::new(handle.conn())?;
    let exists = drv.revisions_table_exists()?;
    let state = if exists {
        drv.migrate_revisions_table()?;
        DbState { revisions: drv.read_revisions()?, not_clean: drv.not_clean()?, table_missing: false }
    } else {
        DbState { revisions: Vec::new(), not_clean: None, table_missing: true }
    };
    let st = status(&dir, &state).map_err(|e| e.to_string())?;
    res.out(status_text(&st));
    Ok(())
}

fn set_cmd(env: &mut Env<'_>, a: &Args, res: &mut CmdResult) -> Result<(), String> {
    project_flags(a)?;
    let dir = open_dir(env, a)?;
    validate(&dir, res)?;
    let handle = connect(env, a)?;
    let mut drv = Driver::new(handle.conn())?;
    drv.migrate_revisions_table()?;
    drv.begin()?;
    let r = (|| -> Result<String, String> {
        let revs = drv.read_revisions()?;
        if a.positional.len() > 1 {
            return Err(format!("accepts 1 arg(s), received {}", a.positional.len()));
        }
        let sp = set(&dir, &revs, a.positional.first().map(String::as_str)).map_err(|e| e.to_string())?;
        for v in &sp.delete {
            drv.delete(v)?;
        }
        for r in &sp.write {
            let mut r: Revision = r.clone();
            r.executed_at = strata::report::rfc3339(now());
            r.operator_version = OPERATOR.into();
            drv.upsert(&r)?;
        }
        Ok(set_text(&sp.report))
    })();
    match r {
        Ok(text) => {
            drv.commit()?;
            res.out(text);
            Ok(())
        }
        Err(e) => Err(match drv.rollback() {
            Ok(()) => e,
            Err(e2) => format!("{e2}: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_and_arguments_mix() {
        let a = parse_args("apply", &argv(&["1", "--dir=file://d", "-u", "URL", "--dry-run", "--tx-mode", "none"]))
            .unwrap();
        assert_eq!(a.positional, ["1"]);
        assert_eq!(a.get("dir"), Some("file://d"));
        assert_eq!(a.get("url"), Some("URL"));
        assert!(a.bool("dry-run"));
        assert_eq!(a.get("tx-mode"), Some("none"));
        let a = parse_args("apply", &argv(&["--url", "URL", "--", "-1"])).unwrap();
        assert_eq!(a.positional, ["-1"]);
        assert_eq!(parse_args("apply", &argv(&["-1"])).unwrap_err(), "unknown shorthand flag: '1' in -1");
        assert_eq!(parse_args("set", &argv(&["--dry-run"])).unwrap_err(), "unknown flag: --dry-run");
        assert_eq!(parse_args("apply", &argv(&["--url"])).unwrap_err(), "flag needs an argument: --url");
    }

    #[test]
    fn amounts_parse_like_go_atoi() {
        assert_eq!(atoi("2"), Ok(2));
        assert_eq!(atoi("+3"), Ok(3));
        assert_eq!(atoi("-1"), Ok(-1));
        assert_eq!(atoi("x"), Err("invalid syntax"));
        assert_eq!(atoi(""), Err("invalid syntax"));
        assert_eq!(atoi("1.5"), Err("invalid syntax"));
        assert_eq!(atoi("99999999999999999999"), Err("value out of range"));
    }

    #[test]
    fn placeholders() {
        let w = Path::new("/w");
        assert_eq!(resolve_url(w, "URL").unwrap(), DbSpec::File { path: w.join("atlas.sqlite"), fk: true });
        assert_eq!(resolve_url(w, "{url:test}").unwrap(), DbSpec::File { path: w.join("test.db"), fk: true });
        assert_eq!(resolve_url(w, "{mem:}").unwrap(), DbSpec::Mem { name: String::new(), fk: false });
        assert_eq!(resolve_url(w, "{mem:txmode}").unwrap(), DbSpec::Mem { name: "txmode".into(), fk: true });
        assert!(resolve_url(w, "{pg:db}").is_err());
    }

    /// A foreign-key violation introduced inside a transaction fails the
    /// commit with Atlas's text and is rolled back; an older one is not
    /// reported.
    #[test]
    fn sqlite_commit_checks_new_foreign_key_violations() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys = on; CREATE TABLE p (id integer PRIMARY KEY); \
             CREATE TABLE c (pid integer REFERENCES p (id)); \
             PRAGMA foreign_keys = off; INSERT INTO c VALUES (7); PRAGMA foreign_keys = on;",
        )
        .unwrap();
        let mut d = Driver::new(&c).unwrap();
        d.begin().unwrap();
        d.exec("INSERT INTO c VALUES (8)").unwrap();
        assert_eq!(d.commit().unwrap_err(), "sql/sqlite: foreign key mismatch: [{tbl:c ref:p row:2 index:0}]");
        let n: i64 = c.query_row("SELECT COUNT(*) FROM c", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "rolled back");
        let on: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(on, 1, "foreign keys back on");
        d.begin().unwrap();
        d.exec("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1)").unwrap();
        d.commit().unwrap();
    }

    #[test]
    fn clean_check_reasons() {
        let c = Connection::open_in_memory().unwrap();
        let d = Driver::new(&c).unwrap();
        assert_eq!(d.not_clean().unwrap(), None);
        d.migrate_revisions_table().unwrap();
        assert_eq!(d.not_clean().unwrap(), None, "the revisions table alone is clean");
        d.exec("CREATE TABLE users (id int)").unwrap();
        assert_eq!(d.not_clean().unwrap().as_deref(), Some("found multiple tables: 2"));
        d.exec("DROP TABLE atlas_schema_revisions").unwrap();
        assert_eq!(d.not_clean().unwrap().as_deref(), Some("found table \"users\""));
    }
}
