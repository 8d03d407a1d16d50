//! Atlas's "connected database is not clean" check (`CheckClean` of its
//! SQLite and PostgreSQL drivers), as pure functions over what a driver
//! lists. The reason goes to [`super::DbState::not_clean`]; the planner
//! turns it into `sql/migrate: connected database is not clean: <reason>.
//! baseline version or allow-dirty is required` on a first run.
//!
//! A driver lists the database's schemas and tables the way Atlas inspects
//! them and passes the names here, in Atlas's order (ordered by name):
//! * SQLite: the attached databases except `temp`
//!   (`pragma_database_list`) and the tables of `sqlite_master` except
//!   `sqlite_%` and `libsql_%`;
//! * PostgreSQL: the schemas of `pg_namespace` except `information_schema`,
//!   `pg_catalog`, `pg_toast`, `crdb_internal`, `pg_extension`,
//!   `pg_%temp_%` and those owned by extensions, each with its base tables
//!   (not partitions, not owned by extensions).

use super::revision::REVISIONS_TABLE;
use crate::text::go_quote;

/// Atlas's SQLite `CheckClean` (the revisions table is `main`'s
/// `atlas_schema_revisions`): `None` when clean, else the reason, e.g.
/// `found table "users"` or `found multiple tables: 3`.
///
/// ```
/// use strata::plan::clean::sqlite_not_clean;
/// let main = ["main".to_string()];
/// assert_eq!(sqlite_not_clean(&main, &[]), None);
/// assert_eq!(sqlite_not_clean(&main, &["atlas_schema_revisions".into()]), None);
/// assert_eq!(sqlite_not_clean(&main, &["users".into()]).as_deref(), Some("found table \"users\""));
/// ```
pub fn sqlite_not_clean(schemas: &[String], tables: &[String]) -> Option<String> {
    match schemas {
        [] => None,
        [s] if s != "main" => Some(format!("found schema {}", go_quote(s))),
        [_] => match tables {
            [] => None,
            [t] if t == REVISIONS_TABLE => None,
            [t] => Some(format!("found table {}", go_quote(t))),
            many => Some(format!("found multiple tables: {}", many.len())),
        },
        many => Some(format!("found multiple schemas: {}", many.len())),
    }
}

/// A PostgreSQL schema and its tables, as the driver listed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaTables {
    /// The schema's name.
    pub name: String,
    /// Its base tables, ordered by name.
    pub tables: Vec<String>,
}

/// Atlas's PostgreSQL `CheckClean`: `None` when clean, else the reason.
///
/// `bound` is the connection's schema when the URL names one
/// (`search_path`); then only that schema counts (`schemas` holds it, or
/// nothing if it does not exist) and the reason is `found table "<t>" in
/// schema "<s>"`. Otherwise every schema counts: an empty `public` and the
/// revisions table in `revisions_schema` are clean, anything else gives
/// `found schema "<s>"`, `found <n> tables in schema "<s>"` or `found table
/// "<t>" in schema "<s>"` (Atlas's wording, including `found schema
/// "public"` for a `public` that has tables).
///
/// ```
/// use strata::plan::clean::{postgres_not_clean, SchemaTables};
/// let public = |t: &[&str]| SchemaTables { name: "public".into(), tables: t.iter().map(|s| s.to_string()).collect() };
/// assert_eq!(postgres_not_clean(None, "atlas_schema_revisions", &[public(&[])]), None);
/// assert_eq!(postgres_not_clean(None, "atlas_schema_revisions", &[public(&["users"])]).as_deref(), Some("found schema \"public\""));
/// assert_eq!(postgres_not_clean(Some("public"), "public", &[public(&["users"])]).as_deref(), Some("found table \"users\" in schema \"public\""));
/// ```
pub fn postgres_not_clean(bound: Option<&str>, revisions_schema: &str, schemas: &[SchemaTables]) -> Option<String> {
    if let Some(bound) = bound {
        let s = schemas.iter().find(|s| s.name == bound)?;
        return match s.tables.as_slice() {
            [] => None,
            [t] if (revisions_schema.is_empty() || s.name == revisions_schema) && t == REVISIONS_TABLE => None,
            [t, ..] => Some(format!("found table {} in schema {}", go_quote(t), go_quote(&s.name))),
        };
    }
    for s in schemas {
        match s.tables.as_slice() {
            [] if s.name == "public" => {}
            _ if s.tables.is_empty() || s.name != revisions_schema => {
                return Some(format!("found schema {}", go_quote(&s.name)));
            }
            [t] if t != REVISIONS_TABLE => {
                return Some(format!("found table {} in schema {}", go_quote(t), go_quote(&s.name)));
            }
            [_] => {}
            many => return Some(format!("found {} tables in schema {}", many.len(), go_quote(&s.name))),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, tables: &[&str]) -> SchemaTables {
        SchemaTables { name: name.into(), tables: tables.iter().map(|t| t.to_string()).collect() }
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn sqlite_reasons_are_atlas_s() {
        assert_eq!(sqlite_not_clean(&v(&["main"]), &v(&["a", "b"])).as_deref(), Some("found multiple tables: 2"));
        assert_eq!(sqlite_not_clean(&v(&["main", "other"]), &[]).as_deref(), Some("found multiple schemas: 2"));
        assert_eq!(sqlite_not_clean(&v(&["other"]), &[]).as_deref(), Some("found schema \"other\""));
        assert_eq!(
            sqlite_not_clean(&v(&["main"]), &v(&["atlas_schema_revisions", "t"])).as_deref(),
            Some("found multiple tables: 2")
        );
    }

    #[test]
    fn postgres_reasons_are_atlas_s() {
        let rev = "atlas_schema_revisions";
        // Not schema-bound: the revisions table in its own schema is clean.
        assert_eq!(postgres_not_clean(None, rev, &[s(rev, &[rev]), s("public", &[])]), None);
        assert_eq!(postgres_not_clean(None, rev, &[s("app", &[])]).as_deref(), Some("found schema \"app\""));
        assert_eq!(
            postgres_not_clean(None, rev, &[s(rev, &[rev, "x"])]).as_deref(),
            Some("found 2 tables in schema \"atlas_schema_revisions\"")
        );
        assert_eq!(
            postgres_not_clean(None, rev, &[s(rev, &["x"])]).as_deref(),
            Some("found table \"x\" in schema \"atlas_schema_revisions\"")
        );
        // Revisions configured in public, not schema-bound.
        assert_eq!(postgres_not_clean(None, "public", &[s("public", &[rev])]), None);
        // Schema-bound.
        assert_eq!(postgres_not_clean(Some("app"), "app", &[s("app", &[rev])]), None);
        assert_eq!(postgres_not_clean(Some("app"), "app", &[]), None);
        assert_eq!(
            postgres_not_clean(Some("app"), "app", &[s("app", &["b", "a"])]).as_deref(),
            Some("found table \"b\" in schema \"app\"")
        );
    }
}
