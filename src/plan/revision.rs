//! The revisions table `atlas_schema_revisions` (spec §5).
//!
//! One row per migration file that was started, baselined or set by hand.
//! The columns, their meaning and the way rows are written are Atlas's, so
//! a database migrated by Atlas can be continued by strata and the other way
//! round. This module has the row ([`Revision`]), its type flags
//! ([`RevisionType`]) and the SQL a driver runs to create, read and write
//! the table ([`RevisionSql`]). It runs none of it: drivers do.

use crate::lex::Dialect;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The table's name.
pub const REVISIONS_TABLE: &str = "atlas_schema_revisions";

/// The version of Atlas's cloud identifier row, which is never a revision:
/// reads skip it and it is never written here.
pub const CLOUD_IDENTIFIER_VERSION: &str = ".atlas_cloud_identifier";

/// The columns in the order [`RevisionSql::upsert`] binds them.
pub const REVISION_COLUMNS: [&str; 12] = [
    "version",
    "description",
    "type",
    "applied",
    "total",
    "executed_at",
    "execution_time",
    "error",
    "error_stmt",
    "hash",
    "partial_hashes",
    "operator_version",
];

/// The `type` column: bit flags (spec §5.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevisionType(pub u64);

impl RevisionType {
    /// The file was marked as applied by `--baseline`; none of its
    /// statements ran.
    pub const BASELINE: RevisionType = RevisionType(1);
    /// The file was executed (the default).
    pub const EXECUTE: RevisionType = RevisionType(2);
    /// The revision was set by hand (`migrate set`).
    pub const RESOLVED: RevisionType = RevisionType(4);

    /// Whether the resolved flag is set.
    pub fn is_resolved(self) -> bool {
        self.0 & Self::RESOLVED.0 != 0
    }

    /// The text Atlas shows for the type: `baseline`, `applied`,
    /// `manually set`, `applied + manually set`, or `unknown (0011)` for
    /// any other value (four binary digits at least).
    pub fn text(self) -> String {
        match self.0 {
            1 => "baseline".into(),
            2 => "applied".into(),
            4 => "manually set".into(),
            6 => "applied + manually set".into(),
            n => format!("unknown ({n:04b})"),
        }
    }

    /// Parses [`RevisionType::text`] back (the inverse, for `unknown
    /// (....)` too).
    pub fn from_text(s: &str) -> Option<RevisionType> {
        match s {
            "baseline" => Some(Self::BASELINE),
            "applied" => Some(Self::EXECUTE),
            "manually set" => Some(Self::RESOLVED),
            "applied + manually set" => Some(RevisionType(6)),
            _ => {
                let bits = s.strip_prefix("unknown (")?.strip_suffix(')')?;
                u64::from_str_radix(bits, 2).ok().map(RevisionType)
            }
        }
    }
}

impl Serialize for RevisionType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for RevisionType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RevisionType;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a revision type: a number (1, 2, 4, 6) or Atlas's text (\"applied\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RevisionType, E> {
                Ok(RevisionType(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RevisionType, E> {
                u64::try_from(v).map(RevisionType).map_err(|_| E::custom("a revision type cannot be negative"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RevisionType, E> {
                if v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
                    Ok(RevisionType(v as u64))
                } else {
                    Err(E::custom("a revision type must be a whole number"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RevisionType, E> {
                RevisionType::from_text(v)
                    .or_else(|| v.parse().ok().map(RevisionType))
                    .ok_or_else(|| E::custom(format!("unknown revision type {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// One row of `atlas_schema_revisions` (spec §5.2).
///
/// In JSON the keys are camelCase (`errorStmt`, `partialHashes`); the
/// column names (`error_stmt`, `partial_hashes`) are accepted on input too,
/// so `sqlite3 -json` or `psql` output of the table can be used as is.
/// `type` is a number or Atlas's text; `partialHashes` an array, `null`, or
/// a string holding a JSON array (how SQLite returns a `json` column).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Revision {
    /// The file's version (primary key).
    pub version: String,
    /// The file's description.
    pub description: String,
    /// Type flags (`1` baseline, `2` executed, `4` set by hand).
    #[serde(rename = "type")]
    pub kind: RevisionType,
    /// Statements applied so far.
    #[serde(deserialize_with = "de_count")]
    pub applied: u64,
    /// Statements in the file when it was first attempted.
    #[serde(deserialize_with = "de_count")]
    pub total: u64,
    /// When the row was first written, as the database returned it (the
    /// executor writes RFC 3339 in UTC). Opaque to planning.
    #[serde(alias = "executed_at", deserialize_with = "de_text")]
    pub executed_at: String,
    /// Nanoseconds, see spec §5.4. Opaque to planning.
    #[serde(alias = "execution_time", deserialize_with = "de_i64")]
    pub execution_time: i64,
    /// The last error, empty when none.
    #[serde(deserialize_with = "de_text")]
    pub error: String,
    /// The statement that failed, empty when none.
    #[serde(alias = "error_stmt", deserialize_with = "de_text")]
    pub error_stmt: String,
    /// The file's `atlas.sum` entry hash (base64, no `h1:`).
    #[serde(deserialize_with = "de_text")]
    pub hash: String,
    /// `h1:` + base64 cumulative statement hashes while the file is partial;
    /// `None` (JSON `null`) once it completed.
    #[serde(alias = "partial_hashes", deserialize_with = "de_hashes")]
    pub partial_hashes: Option<Vec<String>>,
    /// Who wrote the row, e.g. `Atlas CLI v0.30.0` or `strata 0.1.0`.
    #[serde(alias = "operator_version", deserialize_with = "de_text")]
    pub operator_version: String,
}

impl Revision {
    /// Whether the file was only partly applied (`applied != total`).
    pub fn is_partial(&self) -> bool {
        self.applied != self.total
    }

    /// Atlas's upsert applied to a stored row, as the database does it:
    /// every column of `new` except `version`, `description` and
    /// `executed_at`, which keep their first values. For in-memory stores
    /// (tests, previews); SQL drivers run [`RevisionSql::upsert`].
    pub fn update_from(&mut self, new: &Revision) {
        let (description, executed_at) = (std::mem::take(&mut self.description), std::mem::take(&mut self.executed_at));
        *self = new.clone();
        self.description = description;
        self.executed_at = executed_at;
    }

    /// The file name the revision stands for, as Atlas's messages spell it:
    /// `<version>_<description>.sql`, or `<version>.sql` without a
    /// description.
    pub fn file_name(&self) -> String {
        if self.description.is_empty() {
            format!("{}.sql", self.version)
        } else {
            format!("{}_{}.sql", self.version, self.description)
        }
    }
}

fn de_count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = de_i64(d)?;
    u64::try_from(n).map_err(|_| de::Error::custom("a statement count cannot be negative"))
}

fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("integer out of range"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.2e18 {
                Ok(v as i64)
            } else {
                Err(E::custom("expected a whole number"))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim().parse().map_err(|_| E::custom(format!("expected an integer, found {v:?}")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
        fn visit_none<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

/// Strings, with `null` read as empty (the `error` columns are nullable).
fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn de_hashes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::List(v)) => Ok(Some(v)),
        Some(Raw::Text(s)) => parse_hash_list(&s).map_err(de::Error::custom),
    }
}

/// Parses the text of a `partial_hashes` column: `null` (or nothing) or a
/// JSON array of strings.
pub fn parse_hash_list(s: &str) -> Result<Option<Vec<String>>, String> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let v = crate::json::parse(s).map_err(|at| format!("partial_hashes is not JSON (byte {at}): {s:?}"))?;
    Option::<Vec<String>>::deserialize(v).map_err(|e| format!("partial_hashes is not a JSON array of strings: {e}"))
}

/// Renders `partial_hashes` as the JSON text a driver stores (`null` or a
/// JSON array of strings, no spaces, as Go's encoder writes it).
pub fn render_hash_list(hashes: Option<&[String]>) -> Option<String> {
    let hashes = hashes?;
    let mut s = String::from("[");
    for (i, h) in hashes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(h);
        s.push('"');
    }
    s.push(']');
    Some(s)
}

/// The SQL a driver runs against the revisions table, for one database.
///
/// Parameters are positional, bound in [`REVISION_COLUMNS`] order
/// (`?` for SQLite and MySQL, `$1`…`$12` for PostgreSQL). A driver:
/// 1. runs [`RevisionSql::create_table`] before it reads (it is idempotent);
/// 2. reads every revision with [`RevisionSql::select`] (ordered by
///    version, the cloud identifier row excluded) and passes them to
///    [`crate::plan::plan`];
/// 3. runs [`RevisionSql::upsert`] for each
///    [`crate::plan::Step::WriteRevision`] of the executor: insert every
///    column, and on a conflict on `version` update every column except
///    `version`, `description` and `executed_at` (Atlas's upsert; the first
///    `executed_at` is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevisionSql {
    /// `CREATE TABLE IF NOT EXISTS` with Atlas's column types.
    pub create_table: &'static str,
    /// `SELECT` of the twelve columns, ordered by version.
    pub select: &'static str,
    /// The upsert, twelve parameters.
    pub upsert: &'static str,
    /// `DELETE` of one version (one parameter), for `migrate set`.
    pub delete: &'static str,
}

impl RevisionSql {
    /// The statements for `dialect`: SQLite, PostgreSQL and MySQL have
    /// them (the generic profile uses SQLite's); SQL Server has none yet.
    pub fn for_dialect(dialect: Dialect) -> Option<RevisionSql> {
        match dialect {
            Dialect::Sqlite | Dialect::Generic => Some(SQLITE),
            Dialect::Postgres => Some(POSTGRES),
            Dialect::Mysql => Some(MYSQL),
            Dialect::Sqlserver => None,
        }
    }
}

const SQLITE: RevisionSql = RevisionSql {
    create_table: "CREATE TABLE IF NOT EXISTS `atlas_schema_revisions` (`version` text NOT NULL, `description` text NOT NULL, `type` integer NOT NULL DEFAULT 2, `applied` integer NOT NULL DEFAULT 0, `total` integer NOT NULL DEFAULT 0, `executed_at` datetime NOT NULL, `execution_time` integer NOT NULL, `error` text NULL, `error_stmt` text NULL, `hash` text NOT NULL, `partial_hashes` json NULL, `operator_version` text NOT NULL, PRIMARY KEY (`version`))",
    select: concat!(
        "SELECT version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version",
        " FROM `atlas_schema_revisions` WHERE version <> '.atlas_cloud_identifier' ORDER BY version"
    ),
    upsert: concat!(
        "INSERT INTO `atlas_schema_revisions` (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)",
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO UPDATE SET type = excluded.type, applied = excluded.applied,",
        " total = excluded.total, execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,",
        " hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version"
    ),
    delete: "DELETE FROM `atlas_schema_revisions` WHERE version = ?",
};

const POSTGRES: RevisionSql = RevisionSql {
    create_table: "CREATE TABLE IF NOT EXISTS \"atlas_schema_revisions\" (\"version\" character varying NOT NULL, \"description\" character varying NOT NULL, \"type\" bigint NOT NULL DEFAULT 2, \"applied\" bigint NOT NULL DEFAULT 0, \"total\" bigint NOT NULL DEFAULT 0, \"executed_at\" timestamptz NOT NULL, \"execution_time\" bigint NOT NULL, \"error\" text NULL, \"error_stmt\" text NULL, \"hash\" character varying NOT NULL, \"partial_hashes\" jsonb NULL, \"operator_version\" character varying NOT NULL, PRIMARY KEY (\"version\"))",
    select: concat!(
        "SELECT version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version",
        " FROM \"atlas_schema_revisions\" WHERE version <> '.atlas_cloud_identifier' ORDER BY version"
    ),
    upsert: concat!(
        "INSERT INTO \"atlas_schema_revisions\" (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)",
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (version) DO UPDATE SET type = excluded.type, applied = excluded.applied,",
        " total = excluded.total, execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,",
        " hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version"
    ),
    delete: "DELETE FROM \"atlas_schema_revisions\" WHERE version = $1",
};

const MYSQL: RevisionSql = RevisionSql {
    create_table: "CREATE TABLE IF NOT EXISTS `atlas_schema_revisions` (`version` varchar(255) NOT NULL, `description` varchar(255) NOT NULL, `type` bigint unsigned NOT NULL DEFAULT 2, `applied` bigint NOT NULL DEFAULT 0, `total` bigint NOT NULL DEFAULT 0, `executed_at` timestamp NOT NULL, `execution_time` bigint NOT NULL, `error` longtext NULL, `error_stmt` longtext NULL, `hash` varchar(255) NOT NULL, `partial_hashes` json NULL, `operator_version` varchar(255) NOT NULL, PRIMARY KEY (`version`)) CHARSET utf8mb4 COLLATE utf8mb4_bin",
    select: concat!(
        "SELECT version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version",
        " FROM `atlas_schema_revisions` WHERE version <> '.atlas_cloud_identifier' ORDER BY version"
    ),
    upsert: concat!(
        "INSERT INTO `atlas_schema_revisions` (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)",
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE type = VALUES(type), applied = VALUES(applied),",
        " total = VALUES(total), execution_time = VALUES(execution_time), error = VALUES(error), error_stmt = VALUES(error_stmt),",
        " hash = VALUES(hash), partial_hashes = VALUES(partial_hashes), operator_version = VALUES(operator_version)"
    ),
    delete: "DELETE FROM `atlas_schema_revisions` WHERE version = ?",
};

#[cfg(test)]
mod tests {
    use super::*;

    const SELECT_COLS: &str = "version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version";

    #[test]
    fn type_text_matches_atlas() {
        for (t, text) in [
            (0, "unknown (0000)"),
            (1, "baseline"),
            (2, "applied"),
            (4, "manually set"),
            (6, "applied + manually set"),
            (3, "unknown (0011)"),
            (8, "unknown (1000)"),
        ] {
            assert_eq!(RevisionType(t).text(), text);
            assert_eq!(RevisionType::from_text(text), Some(RevisionType(t)));
        }
    }

    #[test]
    fn hash_list_round_trip() {
        let v = vec!["h1:a".to_string(), "h1:b=".to_string()];
        let s = render_hash_list(Some(&v)).unwrap();
        assert_eq!(s, r#"["h1:a","h1:b="]"#);
        assert_eq!(parse_hash_list(&s).unwrap(), Some(v));
        assert_eq!(parse_hash_list("null").unwrap(), None);
        assert_eq!(parse_hash_list("[]").unwrap(), Some(vec![]));
        assert!(parse_hash_list("[1]").is_err());
        assert!(parse_hash_list("{").is_err());
    }

    #[test]
    fn select_lists_the_columns_in_bind_order() {
        assert_eq!(SELECT_COLS, REVISION_COLUMNS.join(", "));
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let sql = RevisionSql::for_dialect(d).unwrap();
            assert!(sql.select.contains(SELECT_COLS));
            assert!(sql.upsert.contains(&format!("({SELECT_COLS})")));
        }
    }
}
