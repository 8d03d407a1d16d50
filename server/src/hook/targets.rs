//! Deployment targets: the databases the hook may apply plans to.
//!
//! Targets are configured on the server only, never by a request: a TOML
//! file and/or environment variables.
//!
//! ```toml
//! [targets.prod]
//! url = "postgres://deploy:secret@db.internal:5432/app"
//! lock_timeout = "10s"                 # optional, Atlas's --lock-timeout (default 10s)
//! revisions_schema = "public"          # optional, PostgreSQL: Atlas's --revisions-schema
//!
//! [targets.local]
//! url = "sqlite:///var/lib/app/app.db"
//! ```
//!
//! `STRATA_TARGET_<NAME>=<url>` adds target `<name>` (the suffix in lower
//! case, e.g. `STRATA_TARGET_PROD_EU` is `prod_eu`) with the default
//! options. A name defined twice (file and environment) is an error.
//!
//! The dialect comes from the URL's scheme: `sqlite:` (`sqlite:///abs.db`,
//! `sqlite://rel.db` as Atlas spells it, or `sqlite:rel.db`), `postgres:` /
//! `postgresql:`. `mysql:` is refused for now. A URL's password never
//! appears in messages or in `Debug` output ([`Target::redacted_url`]).

use crate::store::redact;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use strata::registry::{check_name, NameKind};

/// Atlas's default `--lock-timeout`.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The prefix of the environment variables that define targets.
pub const ENV_PREFIX: &str = "STRATA_TARGET_";

/// A configuration error: what is wrong, where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// The kind of database a target is, from its URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TargetDialect {
    /// SQLite (a file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl TargetDialect {
    /// The core's statement-splitting dialect: build the [`strata::dir::Directory`]
    /// to apply with it.
    pub fn lex(self) -> strata::lex::Dialect {
        match self {
            TargetDialect::Sqlite => strata::lex::Dialect::Sqlite,
            TargetDialect::Postgres => strata::lex::Dialect::Postgres,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetDialect::Sqlite => "sqlite",
            TargetDialect::Postgres => "postgres",
        }
    }
}

/// Where a SQLite or PostgreSQL target lives, parsed from its URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A SQLite file, and whether foreign keys are on (`_fk=1`).
    Sqlite { path: PathBuf, foreign_keys: bool },
    /// A PostgreSQL URL without `search_path` (sqlx does not know it), and
    /// the `search_path` it had: Atlas's "schema-bound" connection.
    Postgres { url: String, search_path: Option<String> },
}

/// One configured target.
#[derive(Clone)]
pub struct Target {
    name: String,
    dialect: TargetDialect,
    url: String,
    pub(crate) location: Location,
    lock_timeout: Duration,
    revisions_schema: Option<String>,
    source: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("dialect", &self.dialect)
            .field("url", &self.redacted_url())
            .field("lock_timeout", &self.lock_timeout)
            .field("revisions_schema", &self.revisions_schema)
            .field("source", &self.source)
            .finish()
    }
}

impl Target {
    /// A target named `name` at `url`, with the default options; `source`
    /// says where it was configured (for messages).
    pub fn new(name: &str, url: &str, source: &str) -> Result<Target, TargetError> {
        check_name(NameKind::Target, name).map_err(|e| TargetError(format!("{source}: {e}")))?;
        let (dialect, location) = parse_url(url).map_err(|why| {
            TargetError(format!("{source}: target {name:?} has an unusable URL {:?}: {why}", redact(url)))
        })?;
        Ok(Target {
            name: name.to_string(),
            dialect,
            url: url.to_string(),
            location,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            revisions_schema: None,
            source: source.to_string(),
        })
    }

    /// Sets how long an apply waits for the lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Target {
        self.lock_timeout = timeout;
        self
    }

    /// Sets the PostgreSQL schema of the revisions table (Atlas's
    /// `--revisions-schema`).
    pub fn with_revisions_schema(mut self, schema: Option<String>) -> Target {
        self.revisions_schema = schema;
        self
    }

    /// The target's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its dialect.
    pub fn dialect(&self) -> TargetDialect {
        self.dialect
    }

    /// How long an apply waits for the lock.
    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// The configured revisions schema, if any.
    pub fn revisions_schema(&self) -> Option<&str> {
        self.revisions_schema.as_deref()
    }

    /// Where it was configured (`targets.toml line 3`, `STRATA_TARGET_PROD`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The URL with its password replaced by `***`: safe for messages.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

/// The dialect and location of `url`, or why it cannot be used.
fn parse_url(url: &str) -> Result<(TargetDialect, Location), String> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
    match scheme.as_str() {
        "sqlite" | "sqlite3" => {
            let rest = &url[scheme.len() + 1..];
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err("it names no file; write sqlite:///absolute/path.db or sqlite://relative.db".into());
            }
            if path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
                return Err("an in-memory database disappears with its connection; name a file instead".into());
            }
            // go-sqlite3's foreign-key switch, as Atlas users write it.
            let mut foreign_keys = false;
            for p in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                match (k, v.to_ascii_lowercase().as_str()) {
                    ("_fk" | "_foreign_keys", "1" | "true" | "on" | "yes") => foreign_keys = true,
                    ("_fk" | "_foreign_keys", "0" | "false" | "off" | "no") => foreign_keys = false,
                    _ => {
                        return Err(format!(
                            "the query parameter {p:?} is not supported for SQLite targets; only _fk=1 (foreign keys on) is"
                        ))
                    }
                }
            }
            Ok((TargetDialect::Sqlite, Location::Sqlite { path: PathBuf::from(path), foreign_keys }))
        }
        "postgres" | "postgresql" => {
            let mut u = url::Url::parse(url).map_err(|e| {
                format!("it is not a valid URL ({e}); write postgres://user:password@host:5432/database")
            })?;
            if u.host_str().is_none_or(str::is_empty) && !u.query_pairs().any(|(k, _)| k == "host") {
                return Err("it names no host; write postgres://user:password@host:5432/database".into());
            }
            let search_path = u.query_pairs().find(|(k, _)| k == "search_path").map(|(_, v)| v.into_owned());
            if search_path.is_some() {
                let rest: Vec<(String, String)> = u
                    .query_pairs()
                    .filter(|(k, _)| k != "search_path")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                if rest.is_empty() {
                    u.set_query(None);
                } else {
                    u.query_pairs_mut().clear().extend_pairs(rest);
                }
            }
            Ok((TargetDialect::Postgres, Location::Postgres { url: u.to_string(), search_path }))
        }
        "mysql" | "maria" | "mariadb" => Err(
            "MySQL targets are not supported yet (SQLite and PostgreSQL are); apply with Atlas for now, or use a sqlite: or postgres: target".into(),
        ),
        "" => Err("it has no scheme; start it with sqlite:, postgres: or postgresql:".into()),
        other => Err(format!("the scheme {other:?} is not a supported database; use sqlite:, postgres: or postgresql:")),
    }
}

/// Parses a Go-style duration: `10s`, `500ms`, `1m30s`, `2h`, `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || format!("{s:?} is not a duration; write e.g. \"10s\", \"500ms\" or \"1m30s\"");
    let mut total = Duration::ZERO;
    let mut rest = t;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Every configured target, by name.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    map: BTreeMap<String, Target>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    targets: BTreeMap<toml::Spanned<String>, RawTarget>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    url: toml::Spanned<String>,
    #[serde(default)]
    lock_timeout: Option<toml::Spanned<String>>,
    #[serde(default)]
    revisions_schema: Option<String>,
}

/// The 1-based line of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Targets {
    /// Loads the targets of `file` (if given) and of the `STRATA_TARGET_*`
    /// variables among `env` (pass `std::env::vars()`).
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Targets, TargetError> {
        let mut targets = match file {
            None => Targets::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    TargetError(format!(
                        "cannot read the targets file {}: {e}; check the path given to --targets",
                        path.display()
                    ))
                })?;
                Targets::from_toml(&text, &path.display().to_string())?
            }
        };
        for (key, value) in env {
            let Some(suffix) = key.strip_prefix(ENV_PREFIX) else { continue };
            let name = suffix.to_ascii_lowercase();
            let target = Target::new(&name, &value, &key)?;
            if let Some(prev) = targets.map.get(&name) {
                return Err(TargetError(format!(
                    "target {name:?} is defined twice, in {} and in {key}; remove one of them",
                    prev.source
                )));
            }
            targets.map.insert(name, target);
        }
        Ok(targets)
    }

    /// Parses a targets file; `source` names it in messages.
    pub fn from_toml(text: &str, source: &str) -> Result<Targets, TargetError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| format!(" line {}", line_of(text, s.start))).unwrap_or_default();
            TargetError(format!(
                "{source}{at}: {}; each target is a table [targets.NAME] with url = \"...\" and optionally lock_timeout = \"10s\" and revisions_schema = \"...\"",
                e.message()
            ))
        })?;
        let mut map = BTreeMap::new();
        for (name, t) in raw.targets {
            let at = format!("{source} line {}", line_of(text, name.span().start));
            let mut target = Target::new(name.get_ref(), t.url.get_ref(), &at)?;
            if let Some(lt) = &t.lock_timeout {
                let d = parse_duration(lt.get_ref()).map_err(|why| {
                    TargetError(format!("{source} line {}: lock_timeout: {why}", line_of(text, lt.span().start)))
                })?;
                target = target.with_lock_timeout(d);
            }
            if let Some(s) = &t.revisions_schema {
                if target.dialect != TargetDialect::Postgres && s != "main" {
                    return Err(TargetError(format!(
                        "{at}: revisions_schema: cannot store revisions-table in a separate schema ({s:?}) with SQLite driver; remove it"
                    )));
                }
            }
            target = target.with_revisions_schema(t.revisions_schema.filter(|s| !s.is_empty()));
            map.insert(name.into_inner(), target);
        }
        Ok(Targets { map })
    }

    /// The target named `name`.
    pub fn get(&self, name: &str) -> Option<&Target> {
        self.map.get(name)
    }

    /// Every target, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Target> {
        self.map.values()
    }

    /// Whether no target is configured.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
