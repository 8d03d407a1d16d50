//! Each analyzer on its case and on its near miss, Atlas's texts, nolint,
//! unparsable statements and hostile input.

use super::{lint, Finding, LintReport, Severity};
use crate::dir::Directory;
use crate::lex::Dialect;

const BASE: &str = "CREATE TABLE users (id int NOT NULL, name text, email text);\n\
                    CREATE TABLE posts (id int, user_id int, CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id));\n";

/// Lints `new` (the last file) after a first file `BASE`.
fn lint_new(dialect: Dialect, new: &str) -> LintReport {
    lint_files(dialect, &[("1_base.sql", BASE), ("2_new.sql", new)], &["2_new.sql"])
}

fn lint_files(dialect: Dialect, files: &[(&str, &str)], new: &[&str]) -> LintReport {
    let dir = Directory::new(files.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))).unwrap();
    lint(&dir, new, dialect)
}

fn codes(r: &LintReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

fn messages(r: &LintReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.message.as_str()).collect()
}

/// Only the findings of `code`.
fn only<'a>(r: &'a LintReport, code: &str) -> Vec<&'a str> {
    r.findings.iter().filter(|f| f.code == code).map(|f| f.message.as_str()).collect()
}

/// What a finding must be: its code, analyzer, severity, file, line and
/// message.
struct Want<'a> {
    code: &'a str,
    analyzer: &'a str,
    severity: Severity,
    file: &'a str,
    line: usize,
    message: &'a str,
}

/// The one finding of `w.code` in `r` (unparsed statements included), with
/// every field as `w` says and a one-line hint.
#[track_caller]
fn assert_finding<'a>(r: &'a LintReport, w: &Want<'_>) -> &'a Finding {
    let found: Vec<&Finding> = r.findings.iter().chain(&r.unparsed).filter(|f| f.code == w.code).collect();
    let [f] = found.as_slice() else { panic!("one {} expected, got {r:#?}", w.code) };
    assert_eq!((f.analyzer, f.severity), (w.analyzer, w.severity), "{}", w.code);
    assert_eq!((f.file.as_str(), f.line), (w.file, w.line), "{}", w.code);
    assert_eq!(f.message, w.message, "{}", w.code);
    assert!(!f.hint.trim().is_empty() && !f.hint.contains('\n'), "{} hint: {:?}", w.code, f.hint);
    f
}

/// A warning of `analyzer` in the new file of [`lint_new`].
fn warn<'a>(code: &'a str, analyzer: &'a str, line: usize, message: &'a str) -> Want<'a> {
    Want { code, analyzer, severity: Severity::Warning, file: "2_new.sql", line, message }
}

/// A `pg_locking` case: `sql` (the new PostgreSQL file) reports `code`
/// once, on `line`, with `message`; none of the `near` misses reports it.
#[track_caller]
fn pg_case(code: &str, (sql, line): (&str, usize), message: &str, near: &[(Dialect, &str)]) -> LintReport {
    let r = lint_new(Dialect::Postgres, sql);
    assert_finding(&r, &warn(code, "pg_locking", line, message));
    assert_none(code, near);
    r
}

/// No finding of `code` for any of `cases` (each the new file of
/// [`lint_new`] in its dialect).
#[track_caller]
fn assert_none(code: &str, cases: &[(Dialect, &str)]) {
    for (d, sql) in cases {
        let r = lint_new(*d, sql);
        assert_eq!(only(&r, code), Vec::<&str>::new(), "{code} on {d}: {sql}");
    }
}

#[test]
fn ds102_drop_table() {
    let r = lint_new(Dialect::Postgres, "DROP TABLE posts;\n");
    assert_eq!(messages(&r), [r#"Dropping table "posts""#]);
    let f = &r.findings[0];
    assert_eq!((f.code.as_str(), f.analyzer, f.severity), ("DS102", "destructive", Severity::Error));
    assert_eq!((f.file.as_str(), f.line, f.statement.as_str()), ("2_new.sql", 1, "DROP TABLE posts;"));
    assert!(!f.hint.is_empty() && !f.hint.contains('\n'));
    assert!(r.has_errors());
    // Two tables, one finding each; a table from outside the directory too.
    let r = lint_new(Dialect::Generic, "DROP TABLE IF EXISTS public.posts, legacy;\n");
    assert_eq!(messages(&r), [r#"Dropping table "posts""#, r#"Dropping table "legacy""#]);
}

#[test]
fn ds102_near_miss_created_in_same_file() {
    let r = lint_new(Dialect::Postgres, "CREATE TABLE tmp (id int);\nINSERT INTO tmp VALUES (1);\nDROP TABLE tmp;\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    // Its schema is dropped in the same file: one DS101, no DS102.
    let r = lint_new(Dialect::Postgres, "DROP TABLE app.t;\nDROP SCHEMA app CASCADE;\n");
    assert_eq!(codes(&r), ["DS101"]);
    // Not a table.
    assert_none("DS102", &[(Dialect::Postgres, "DROP VIEW users_v;\nDROP INDEX users_name;\nDROP SEQUENCE s;\n")]);
}

#[test]
fn ds103_drop_columns() {
    let r = lint_new(
        Dialect::Postgres,
        "ALTER TABLE users ADD COLUMN x int;\nALTER TABLE users DROP COLUMN name, DROP COLUMN x;\n",
    );
    assert_finding(
        &r,
        &Want {
            code: "DS103",
            analyzer: "destructive",
            severity: Severity::Error,
            file: "2_new.sql",
            line: 2,
            message: r#"Dropping non-virtual column "name""#,
        },
    );
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users DROP COLUMN name;\n");
    assert_eq!(messages(&r), [r#"Dropping non-virtual column "name""#]);
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users DROP COLUMN name, DROP COLUMN email;\n");
    assert_eq!(messages(&r), [r#"Dropping non-virtual columns "name" and "email""#]);
    let r = lint_new(Dialect::Mysql, "ALTER TABLE users DROP COLUMN id, DROP COLUMN name, DROP COLUMN email;\n");
    assert_eq!(messages(&r), [r#"Dropping non-virtual columns "id", "name" and "email""#]);
    assert_eq!(r.findings[0].severity, Severity::Error);
}

#[test]
fn ds103_near_miss_added_in_same_file() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ADD COLUMN tmp int;\nALTER TABLE users DROP COLUMN tmp;\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    let r = lint_new(Dialect::Postgres, "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    // A virtual generated column holds no data (MySQL's default kind); a
    // stored one does.
    let files = [
        ("1_a.sql", "CREATE TABLE m (a int, b int AS (a + 1) VIRTUAL, c int AS (a + 2), d int AS (a + 3) STORED);\n"),
        ("2_new.sql", "ALTER TABLE m DROP COLUMN b, DROP COLUMN c;\nALTER TABLE m DROP COLUMN d;\n"),
    ];
    let r = lint_files(Dialect::Mysql, &files, &["2_new.sql"]);
    assert_eq!(messages(&r), [r#"Dropping non-virtual column "d""#]);
    assert_eq!(r.findings[0].line, 2);
}

#[test]
fn ds101_drop_schema() {
    let r = lint_new(Dialect::Postgres, "SELECT 1;\nDROP SCHEMA reporting;\n");
    assert_finding(
        &r,
        &Want {
            code: "DS101",
            analyzer: "destructive",
            severity: Severity::Error,
            file: "2_new.sql",
            line: 2,
            message: r#"Dropping schema "reporting""#,
        },
    );
    let r = lint_new(Dialect::Postgres, "DROP SCHEMA reporting;\n");
    assert_eq!(messages(&r), [r#"Dropping schema "reporting""#]);
    let base = "CREATE TABLE app.a (id int);\nCREATE TABLE app.b (id int);\nCREATE TABLE one.c (id int);\n";
    let files = [("1_base.sql", base), ("2_new.sql", "DROP SCHEMA app CASCADE;\nDROP SCHEMA one CASCADE;\n")];
    let r = lint_files(Dialect::Postgres, &files, &["2_new.sql"]);
    assert_eq!(
        messages(&r),
        [r#"Dropping non-empty schema "app" with 2 tables"#, r#"Dropping non-empty schema "one" with 1 table"#]
    );
    // Near misses: created in the same file; a schema-qualified table.
    let r = lint_new(Dialect::Postgres, "CREATE SCHEMA scratch;\nDROP SCHEMA scratch;\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    assert_none("DS101", &[(Dialect::Postgres, "DROP TABLE reporting.t;\n")]);
}

#[test]
fn mf103_not_null_without_default_on_existing_table() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ADD COLUMN age varchar(10) NOT NULL;\n");
    assert_eq!(
        only(&r, "MF103"),
        [r#"Adding a non-nullable "varchar" column "age" will fail in case table "users" is not empty"#]
    );
    assert_eq!(r.findings[0].severity, Severity::Warning);
    assert_eq!(r.findings[0].analyzer, "data_depend");
    let r = lint_new(Dialect::Sqlite, "SELECT 1;\nALTER TABLE users ADD COLUMN age int NOT NULL;\n");
    assert_finding(
        &r,
        &warn(
            "MF103",
            "data_depend",
            2,
            r#"Adding a non-nullable "int" column "age" will fail in case table "users" is not empty"#,
        ),
    );
    // Near misses: a default, nullable, a table created in the same file,
    // a serial type, MySQL (MY101's territory).
    for sql in [
        "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;\n",
        "ALTER TABLE users ADD COLUMN age int;\n",
        "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN age int NOT NULL;\n",
        "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS IDENTITY NOT NULL;\n",
    ] {
        assert_eq!(only(&lint_new(Dialect::Postgres, sql), "MF103"), Vec::<&str>::new(), "{sql}");
    }
    assert_eq!(
        only(&lint_new(Dialect::Mysql, "ALTER TABLE users ADD COLUMN age int NOT NULL;\n"), "MF103"),
        Vec::<&str>::new()
    );
}

#[test]
fn existing_means_created_earlier_or_nowhere() {
    // Created by a later file only: not existing yet when file 2 runs.
    let files = [
        ("1_a.sql", "SELECT 1;\n"),
        ("2_b.sql", "ALTER TABLE later ADD COLUMN x int NOT NULL;\n"),
        ("3_c.sql", "CREATE TABLE later (id int);\n"),
    ];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["2_b.sql"])), Vec::<&str>::new());
    // Created nowhere: predates the directory.
    let files = [("1_a.sql", "ALTER TABLE legacy ADD COLUMN x int NOT NULL;\n")];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["1_a.sql"])), ["MF103"]);
    // Renamed in an earlier file: the new name exists.
    let files = [
        ("1_a.sql", "CREATE TABLE a (id int);\n"),
        ("2_b.sql", "ALTER TABLE a RENAME TO b;\n"),
        ("3_c.sql", "DROP TABLE b;\n"),
    ];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["3_c.sql"])), ["DS102"]);
    // Files not named are not analysed.
    assert_eq!(lint_files(Dialect::Postgres, &files, &[]), LintReport::default());
}

#[test]
fn mf101_unique_index_on_existing_table() {
    let r = lint_new(Dialect::Postgres, "SELECT 1;\nCREATE UNIQUE INDEX users_email ON users (email);\n");
    assert_finding(
        &r,
        &warn(
            "MF101",
            "data_depend",
            2,
            r#"Adding a unique index "users_email" on table "users" might fail in case column "email" contains duplicate entries"#,
        ),
    );
    let r = lint_new(Dialect::Postgres, "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);\n");
    assert_eq!(
        only(&r, "MF101"),
        [
            r#"Adding a unique index "users_email" on table "users" might fail in case column "email" contains duplicate entries"#
        ]
    );
    let r = lint_new(Dialect::Mysql, "CREATE UNIQUE INDEX idx_c_d ON users (name, email);\n");
    assert_eq!(
        only(&r, "MF101"),
        [
            r#"Adding a unique index "idx_c_d" on table "users" might fail in case columns "name", "email" contain duplicate entries"#
        ]
    );
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);\n");
    assert_eq!(only(&r, "MF101").len(), 1);
    // Near misses: not unique; a table created in the same file; a column
    // added in the same file.
    for sql in [
        "CREATE INDEX CONCURRENTLY i ON users (email);\n",
        "CREATE TABLE t (a int);\nCREATE UNIQUE INDEX i ON t (a);\n",
        "ALTER TABLE users ADD COLUMN code text;\nCREATE UNIQUE INDEX CONCURRENTLY i ON users (code);\n",
    ] {
        assert_eq!(only(&lint_new(Dialect::Postgres, sql), "MF101"), Vec::<&str>::new(), "{sql}");
    }
}

/// Indexes on `BASE`'s tables: `users_email` unique, `users_name` not.
const INDEXES: &str = "CREATE UNIQUE INDEX users_email ON users (email);\nCREATE INDEX users_name ON users (name);\n";

/// Lints `new` after a first file holding `BASE` and `INDEXES`.
fn lint_indexed(dialect: Dialect, new: &str) -> LintReport {
    let base = format!("{BASE}{INDEXES}");
    lint_files(dialect, &[("1_base.sql", &base), ("2_new.sql", new)], &["2_new.sql"])
}

#[test]
fn mf101_names_and_rebuilt_unique_indexes() {
    const EMAIL: &str = "might fail in case column \"email\" contains duplicate entries";
    // MySQL's index name, and the names unnamed ones get.
    for (d, sql, name) in [
        (Dialect::Mysql, "ALTER TABLE users ADD UNIQUE INDEX users_e (email);\n", "users_e"),
        (Dialect::Mysql, "ALTER TABLE users ADD CONSTRAINT c UNIQUE KEY users_e (email);\n", "users_e"),
        (Dialect::Mysql, "ALTER TABLE users ADD UNIQUE (email);\n", "email"),
        (Dialect::Postgres, "ALTER TABLE users ADD UNIQUE (email);\n", "users_email_key"),
        (Dialect::Postgres, "CREATE UNIQUE INDEX ON users (email);\n", "users_email_idx"),
    ] {
        let want = format!("Adding a unique index \"{name}\" on table \"users\" {EMAIL}");
        assert_eq!(only(&lint_new(d, sql), "MF101"), [want.as_str()], "{sql}");
    }
    // A unique index rebuilt (dropped and created again, in either order,
    // under any name) is not reported, as in Atlas; a wider one is.
    for (d, sql) in [
        (Dialect::Postgres, "DROP INDEX users_email;\nCREATE UNIQUE INDEX users_email ON users (email);\n"),
        (Dialect::Postgres, "CREATE UNIQUE INDEX users_email_2 ON users (email);\nDROP INDEX users_email;\n"),
        (Dialect::Mysql, "ALTER TABLE users DROP INDEX users_email;\nALTER TABLE users ADD UNIQUE INDEX e2 (email);\n"),
        (Dialect::Postgres, "ALTER TABLE users ADD COLUMN tenant int;\nDROP INDEX users_email;\nCREATE UNIQUE INDEX u ON users (email, tenant);\n"),
    ] {
        assert_eq!(only(&lint_indexed(d, sql), "MF101"), Vec::<&str>::new(), "{sql}");
    }
    let r = lint_indexed(Dialect::Postgres, "DROP INDEX users_email;\nCREATE UNIQUE INDEX u ON users (email, name);\n");
    assert_eq!(only(&r, "MF101").len(), 1);
    // A non-unique index dropped does not cover a unique one.
    let r = lint_indexed(Dialect::Postgres, "DROP INDEX users_name;\nCREATE UNIQUE INDEX u ON users (name);\n");
    assert_eq!(only(&r, "MF101").len(), 1);
}

#[test]
fn mf102_index_modified_to_unique() {
    const MSG: &str = r#"Modifying an index "users_name" on table "users" might fail in case of duplicate entries"#;
    let r = lint_indexed(
        Dialect::Mysql,
        "SELECT 1;\nALTER TABLE users DROP INDEX users_name, ADD UNIQUE INDEX users_name (name);\n",
    );
    assert_eq!(codes(&r), ["MF102"]);
    assert_finding(&r, &warn("MF102", "data_depend", 2, MSG));
    for sql in [
        "ALTER TABLE users DROP INDEX users_name, ADD UNIQUE KEY users_name (name);\n",
        "ALTER TABLE users DROP INDEX users_name, ADD CONSTRAINT users_name UNIQUE (name, email);\n",
    ] {
        assert_eq!(messages(&lint_indexed(Dialect::Mysql, sql)), [MSG], "{sql}");
    }
    // An index the files do not show is taken to be non-unique.
    let r = lint_indexed(Dialect::Mysql, "ALTER TABLE legacy DROP INDEX l_c, ADD UNIQUE INDEX l_c (c);\n");
    assert_eq!(messages(&r), [r#"Modifying an index "l_c" on table "legacy" might fail in case of duplicate entries"#]);
    // Near misses: unique already; unique from the start (MF101); a table
    // or an index of this file; made unique in two statements (two diffs
    // in Atlas: MF101); added back non-unique.
    for (d, sql, want) in [
        (Dialect::Mysql, "ALTER TABLE users DROP INDEX users_email, ADD UNIQUE INDEX users_email (email, name);\n", vec![]),
        (Dialect::Mysql, "CREATE UNIQUE INDEX users_n ON users (name);\n", vec!["MF101"]),
        (Dialect::Mysql, "CREATE TABLE t (a int, INDEX ti (a));\nALTER TABLE t DROP INDEX ti, ADD UNIQUE INDEX ti (a);\n", vec![]),
        (Dialect::Mysql, "CREATE INDEX i2 ON users (email);\nALTER TABLE users DROP INDEX i2, ADD UNIQUE INDEX i2 (email);\n", vec![]),
        (Dialect::Mysql, "DROP INDEX users_name ON users;\nCREATE UNIQUE INDEX users_name ON users (name);\n", vec!["MF101"]),
        (
            Dialect::Postgres,
            "-- atlas:txmode none\n\nDROP INDEX users_name;\nCREATE UNIQUE INDEX CONCURRENTLY users_name ON users (name);\n",
            vec!["MF101"],
        ),
        (Dialect::Sqlite, "DROP INDEX users_name;\nCREATE UNIQUE INDEX users_name ON users (name);\n", vec!["MF101"]),
        (Dialect::Mysql, "ALTER TABLE users DROP INDEX users_name, ADD INDEX users_name (name, email);\n", vec![]),
    ] {
        assert_eq!(codes(&lint_indexed(d, sql)), want, "{sql}");
    }
}

#[test]
fn bc101_table_renamed() {
    let r = lint_new(Dialect::Generic, "SELECT 1;\nALTER TABLE users RENAME TO accounts;\n");
    assert_finding(&r, &warn("BC101", "incompatible", 2, r#"Renaming table "users" to "accounts""#));
    let r = lint_new(Dialect::Generic, "ALTER TABLE users RENAME TO accounts;\n");
    assert_eq!(messages(&r), [r#"Renaming table "users" to "accounts""#]);
    assert_eq!(r.findings[0].analyzer, "incompatible");
    let r = lint_new(Dialect::Mysql, "RENAME TABLE users TO accounts;\n");
    assert_eq!(messages(&r), [r#"Renaming table "users" to "accounts""#]);
    // A view of another name, or one created before the rename, does not
    // keep the old name working.
    let r = lint_new(
        Dialect::Generic,
        "CREATE VIEW users_v AS SELECT * FROM users;\nALTER TABLE users RENAME TO accounts;\nCREATE VIEW accounts_v AS SELECT * FROM accounts;\n",
    );
    assert_eq!(codes(&r), ["BC101"]);
    // Near misses: a view keeps the old name; a table of this file.
    for sql in [
        "ALTER TABLE users RENAME TO accounts;\nCREATE VIEW users AS SELECT * FROM accounts;\n",
        "CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN a TO b;\n",
    ] {
        assert_eq!(codes(&lint_new(Dialect::Generic, sql)), Vec::<&str>::new(), "{sql}");
    }
    assert_none("BC101", &[(Dialect::Mysql, "CREATE TABLE t (a int);\nRENAME TABLE t TO u;\n")]);
}

#[test]
fn bc102_column_renamed() {
    let r = lint_new(Dialect::Generic, "ALTER TABLE users RENAME COLUMN name TO full_name;\n");
    assert_finding(&r, &warn("BC102", "incompatible", 1, r#"Renaming column "name" to "full_name""#));
    // MySQL's CHANGE with a new name renames too.
    let r = lint_new(Dialect::Mysql, "ALTER TABLE users CHANGE name full_name text;\n");
    assert_eq!(only(&r, "BC102"), [r#"Renaming column "name" to "full_name""#]);
    // Near misses: a column or table of this file; CHANGE keeping the name.
    assert_none(
        "BC102",
        &[
            (Dialect::Generic, "ALTER TABLE users ADD COLUMN x int;\nALTER TABLE users RENAME COLUMN x TO y;\n"),
            (Dialect::Generic, "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;\n"),
            (Dialect::Mysql, "ALTER TABLE users CHANGE name name varchar(20);\n"),
            (
                Dialect::Postgres,
                "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE users ADD COLUMN name text GENERATED ALWAYS AS (full_name) STORED;\n",
            ),
        ],
    );
    // A column of the old name added to another table does not count.
    let r = lint_new(
        Dialect::Generic,
        "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE posts ADD COLUMN name text;\n",
    );
    assert_eq!(only(&r, "BC102"), [r#"Renaming column "name" to "full_name""#]);
}

#[test]
fn cd101_drop_foreign_key() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE posts DROP CONSTRAINT posts_user_fk;\n");
    assert_eq!(messages(&r), [r#"Dropping foreign-key constraint "posts_user_fk""#]);
    assert_finding(&r, &warn("CD101", "condrop", 1, r#"Dropping foreign-key constraint "posts_user_fk""#));
    assert_eq!((r.findings[0].analyzer, r.findings[0].severity), ("condrop", Severity::Warning));
    let r = lint_new(Dialect::Mysql, "ALTER TABLE posts DROP FOREIGN KEY fk_anything;\n");
    assert_eq!(messages(&r), [r#"Dropping foreign-key constraint "fk_anything""#]);
    // An unnamed one, by PostgreSQL's default name, added by ALTER TABLE.
    let files = [
        ("1_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (a_id int);\nALTER TABLE b ADD FOREIGN KEY (a_id) REFERENCES a (id);\n"),
        ("2_b.sql", "ALTER TABLE b DROP CONSTRAINT b_a_id_fkey;\n"),
    ];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["2_b.sql"])), ["CD101"]);
    // Near misses: not a foreign key; dropped with its column (DS103 only).
    assert_eq!(
        codes(&lint_new(Dialect::Postgres, "ALTER TABLE users DROP CONSTRAINT users_pkey;\n")),
        Vec::<&str>::new()
    );
    let r = lint_new(Dialect::Postgres, "ALTER TABLE posts DROP CONSTRAINT posts_user_fk, DROP COLUMN user_id;\n");
    assert_eq!(codes(&r), ["DS103"]);
    // As in Atlas: one of its columns dropped is enough; a foreign key the
    // file added is not reported when dropped.
    let files = [
        ("1_a.sql", "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b));\nCREATE TABLE c (a int, b int, CONSTRAINT c_fk FOREIGN KEY (a, b) REFERENCES p (a, b));\n"),
        ("2_new.sql", "ALTER TABLE c DROP CONSTRAINT c_fk, DROP COLUMN b;\n"),
    ];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["2_new.sql"])), ["DS103"]);
    assert_none(
        "CD101",
        &[
            (
                Dialect::Postgres,
                "ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE posts DROP CONSTRAINT fk2;\n",
            ),
            (
                Dialect::Mysql,
                "ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id);\nALTER TABLE posts DROP FOREIGN KEY fk2;\n",
            ),
        ],
    );
}

#[test]
fn pg101_index_without_concurrently() {
    let r = lint_new(Dialect::Postgres, "CREATE INDEX users_name ON users (name);\n");
    assert_eq!(codes(&r), ["PG101"]);
    assert_eq!(r.findings[0].analyzer, "pg_locking");
    assert_finding(
        &r,
        &warn(
            "PG101",
            "pg_locking",
            1,
            r#"Creating index "users_name" on table "users" without CONCURRENTLY blocks writes to the table until the index is built"#,
        ),
    );
    assert!(r.findings[0].message.contains(r#""users_name" on table "users" without CONCURRENTLY"#));
    // Unnamed: PostgreSQL's name for it.
    let r = lint_new(Dialect::Postgres, "CREATE INDEX ON users (name, email);\n");
    assert!(only(&r, "PG101")[0].starts_with(r#"Creating index "users_name_email_idx" on table "users""#), "{r:?}");
    // Near misses: a table of this file; other dialects.
    assert_eq!(
        codes(&lint_new(Dialect::Postgres, "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\n")),
        Vec::<&str>::new()
    );
    assert_eq!(codes(&lint_new(Dialect::Mysql, "CREATE INDEX users_name ON users (name);\n")), Vec::<&str>::new());
    assert_none(
        "PG101",
        &[
            (Dialect::Postgres, "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n"),
            (Dialect::Sqlite, "CREATE INDEX users_name ON users (name);\n"),
            (Dialect::Generic, "CREATE INDEX users_name ON users (name);\n"),
        ],
    );
}

#[test]
fn pg103_concurrently_in_a_transaction() {
    let r = lint_new(Dialect::Postgres, "CREATE INDEX CONCURRENTLY users_name ON users (name);\n");
    assert_eq!(codes(&r), ["PG103"]);
    assert!(r.findings[0].hint.contains("atlas:txmode none"));
    assert_finding(
        &r,
        &warn(
            "PG103",
            "pg_locking",
            1,
            r#"Creating index "users_name" CONCURRENTLY inside a transaction fails: PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction block"#,
        ),
    );
    // Even on a table of this file: PostgreSQL refuses it all the same.
    let r = lint_new(Dialect::Postgres, "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n");
    assert_eq!(codes(&r), ["PG103"]);
    // Near misses: not CONCURRENTLY; not PostgreSQL.
    assert_none(
        "PG103",
        &[
            (Dialect::Postgres, "CREATE INDEX users_name ON users (name);\n"),
            (Dialect::Generic, "CREATE INDEX CONCURRENTLY users_name ON users (name);\n"),
        ],
    );
    let r =
        lint_new(Dialect::Postgres, "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    assert_eq!(r.unparsed, []);
}

#[test]
fn mf104_nullable_to_not_null() {
    const MSG: &str = r#"Modifying nullable column "name" to non-nullable might fail in case it contains NULL values"#;
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n");
    assert_eq!(only(&r, "MF104"), [MSG]);
    assert_finding(&r, &warn("MF104", "data_depend", 1, MSG));
    assert_eq!((r.findings[0].analyzer, r.findings[0].severity), ("data_depend", Severity::Warning));
    // A table outside the directory: nullable as far as we know.
    let r = lint_new(Dialect::Postgres, "ALTER TABLE legacy ALTER COLUMN c SET NOT NULL;\n");
    assert_eq!(only(&r, "MF104").len(), 1);
    for d in [Dialect::Mysql, Dialect::Generic] {
        let r = lint_new(d, "ALTER TABLE users MODIFY name varchar(20) NOT NULL;\n");
        assert_eq!(only(&r, "MF104"), [MSG], "{d}");
    }
    let r = lint_new(Dialect::Mysql, "ALTER TABLE users CHANGE name full_name varchar(20) NOT NULL;\n");
    assert_eq!(only(&r, "MF104"), [MSG]);
    // Near misses: already NOT NULL, still nullable, a table of this file,
    // a column the model does not know (MySQL), a column added here.
    for (d, sql) in [
        (Dialect::Postgres, "ALTER TABLE users ALTER COLUMN id SET NOT NULL;\n"),
        (Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"),
        (Dialect::Postgres, "ALTER TABLE users ADD COLUMN x int;\nALTER TABLE users ALTER COLUMN x SET NOT NULL;\n"),
        (Dialect::Postgres, "ALTER TABLE users ALTER COLUMN name DROP NOT NULL;\n"),
        (Dialect::Mysql, "ALTER TABLE users MODIFY id bigint NOT NULL;\n"),
        (Dialect::Mysql, "ALTER TABLE users MODIFY name varchar(20);\n"),
        (Dialect::Mysql, "ALTER TABLE legacy MODIFY c int NOT NULL;\n"),
    ] {
        assert_eq!(only(&lint_new(d, sql), "MF104"), Vec::<&str>::new(), "{sql}");
    }
    // The model follows the files: made NOT NULL by an earlier file.
    let r = lint_files(
        Dialect::Mysql,
        &[
            ("1_base.sql", BASE),
            ("2.sql", "ALTER TABLE users MODIFY name text NOT NULL;\n"),
            ("3.sql", "ALTER TABLE users MODIFY name varchar(9) NOT NULL;\n"),
        ],
        &["3.sql"],
    );
    assert_eq!(only(&r, "MF104"), Vec::<&str>::new());
}

#[test]
fn my101_mysql_zero_values() {
    let r = lint_new(Dialect::Mysql, "ALTER TABLE users ADD COLUMN age int NOT NULL;\n");
    assert_eq!(
        messages(&r),
        [
            r#"Adding a non-nullable "int" column "age" on table "users" without a default value implicitly sets existing rows with 0"#
        ]
    );
    assert_eq!((r.findings[0].code.as_str(), r.findings[0].analyzer), ("MY101", "data_depend"));
    assert_finding(
        &r,
        &warn(
            "MY101",
            "data_depend",
            1,
            r#"Adding a non-nullable "int" column "age" on table "users" without a default value implicitly sets existing rows with 0"#,
        ),
    );
    let r = lint_new(Dialect::Mysql, "ALTER TABLE users ADD COLUMN nick varchar(20) NOT NULL;\n");
    assert_eq!(
        only(&r, "MY101"),
        [
            r#"Adding a non-nullable "varchar" column "nick" on table "users" without a default value implicitly sets existing rows with """#
        ]
    );
    for (d, sql) in [
        (Dialect::Mysql, "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;\n"),
        (Dialect::Mysql, "ALTER TABLE users ADD COLUMN age int;\n"),
        (Dialect::Mysql, "ALTER TABLE users ADD COLUMN n bigint NOT NULL AUTO_INCREMENT;\n"),
        (Dialect::Mysql, "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN age int NOT NULL;\n"),
        (Dialect::Mysql, "ALTER TABLE users ADD COLUMN at datetime NOT NULL;\n"),
        (Dialect::Postgres, "ALTER TABLE users ADD COLUMN age int NOT NULL;\n"),
    ] {
        assert_eq!(only(&lint_new(d, sql), "MY101"), Vec::<&str>::new(), "{sql}");
    }
}

#[test]
fn my102_inline_references() {
    let r = lint_new(Dialect::Mysql, "CREATE TABLE c (id int, user_id int REFERENCES users (id));\n");
    assert_eq!(messages(&r), [r#"Defining column "user_id" on table "c" with inline REFERENCES is ignored by MySQL"#]);
    let f = &r.findings[0];
    assert_eq!((f.code.as_str(), f.analyzer, f.severity), ("MY102", "inline_references", Severity::Warning));
    assert!(!r.has_errors());
    assert_finding(
        &r,
        &warn(
            "MY102",
            "inline_references",
            1,
            r#"Defining column "user_id" on table "c" with inline REFERENCES is ignored by MySQL"#,
        ),
    );
    let r = lint_new(Dialect::Mysql, "ALTER TABLE posts ADD COLUMN owner int REFERENCES users (id);\n");
    assert_eq!(only(&r, "MY102").len(), 1);
    // Near misses: a table constraint; another dialect.
    let r = lint_new(
        Dialect::Mysql,
        "CREATE TABLE c (id int, user_id int, FOREIGN KEY (user_id) REFERENCES users (id));\n",
    );
    assert_eq!(codes(&r), Vec::<&str>::new());
    let r = lint_new(Dialect::Postgres, "CREATE TABLE c (id int, user_id int REFERENCES users (id));\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
    assert_none(
        "MY102",
        &[
            (Dialect::Sqlite, "CREATE TABLE c (id int, user_id int REFERENCES users (id));\n"),
            (Dialect::Generic, "ALTER TABLE posts ADD COLUMN owner int REFERENCES users (id);\n"),
        ],
    );
}

#[test]
fn lt101_sqlite_table_copy() {
    const COPY: &str = "CREATE TABLE new_users (id int NOT NULL, name text NOT NULL, email text);\n\
                        INSERT INTO new_users SELECT id, name, email FROM users;\n\
                        DROP TABLE users;\n\
                        ALTER TABLE new_users RENAME TO users;\n";
    let r = lint_new(Dialect::Sqlite, COPY);
    assert_eq!(
        only(&r, "LT101"),
        [
            r#"Modifying nullable column "name" to non-nullable without default value might fail in case it contains NULL values"#
        ]
    );
    let f = r.findings.iter().find(|f| f.code == "LT101");
    assert_eq!(f.map(|f| (f.line, f.analyzer)), Some((4, "data_depend")));
    assert_finding(
        &r,
        &warn(
            "LT101",
            "data_depend",
            4,
            r#"Modifying nullable column "name" to non-nullable without default value might fail in case it contains NULL values"#,
        ),
    );
    // Near misses: a default; the column stays nullable; no drop of the old table.
    for sql in [
        COPY.replace("name text NOT NULL", "name text NOT NULL DEFAULT ''"),
        COPY.replace("name text NOT NULL", "name text"),
        "CREATE TABLE t2 (name text NOT NULL);\nALTER TABLE t2 RENAME TO t3;\n".to_string(),
    ] {
        assert_eq!(only(&lint_new(Dialect::Sqlite, &sql), "LT101"), Vec::<&str>::new(), "{sql}");
    }
}

#[test]
fn pg301_column_type_changed() {
    // Near misses: a table of this file; MySQL's MODIFY.
    let r = pg_case(
        "PG301",
        ("ALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n", 1),
        r#"Changing the type of column "name" on table "users" may rewrite the table and its indexes under an ACCESS EXCLUSIVE lock"#,
        &[
            (Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n"),
            (Dialect::Mysql, "ALTER TABLE users MODIFY name varchar(20);\n"),
        ],
    );
    assert_eq!(codes(&r), ["PG301"]);
}

#[test]
fn pg302_volatile_default() {
    let r =
        lint_new(Dialect::Postgres, "SELECT 1;\nALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n");
    assert_finding(
        &r,
        &warn(
            "PG302",
            "pg_locking",
            2,
            r#"Adding column "token" to table "users" with a volatile default (gen_random_uuid()) rewrites the table under an ACCESS EXCLUSIVE lock"#,
        ),
    );
    for sql in [
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
        "ALTER TABLE users ADD COLUMN at timestamptz DEFAULT clock_timestamp();\n",
        "ALTER TABLE users ADD COLUMN r int DEFAULT (random() * 10)::int;\n",
        "ALTER TABLE users ADD COLUMN n bigint DEFAULT nextval('s');\n",
        "ALTER TABLE users ADD COLUMN n bigserial;\n",
    ] {
        assert_eq!(codes(&lint_new(Dialect::Postgres, sql)), ["PG302"], "{sql}");
    }
    // Stable or constant defaults do not rewrite; a new table is empty.
    for sql in [
        "ALTER TABLE users ADD COLUMN at timestamptz DEFAULT now();\n",
        "ALTER TABLE users ADD COLUMN at timestamptz DEFAULT CURRENT_TIMESTAMP;\n",
        "ALTER TABLE users ADD COLUMN n int DEFAULT 0;\n",
        "ALTER TABLE users ADD COLUMN my_random int DEFAULT my_random_thing(1);\n",
        "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n",
    ] {
        assert_eq!(codes(&lint_new(Dialect::Postgres, sql)), Vec::<&str>::new(), "{sql}");
    }
    assert_none("PG302", &[(Dialect::Mysql, "ALTER TABLE users ADD COLUMN token char(36) DEFAULT (uuid());\n")]);
}

#[test]
fn pg303_set_not_null() {
    // Near misses: DROP NOT NULL; a table of this file; MySQL's MODIFY.
    let r = pg_case(
        "PG303",
        ("ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n", 1),
        r#"Setting column "name" on table "users" to NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock"#,
        &[
            (Dialect::Postgres, "ALTER TABLE users ALTER COLUMN name DROP NOT NULL;\n"),
            (Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"),
            (Dialect::Mysql, "ALTER TABLE users MODIFY name text NOT NULL;\n"),
        ],
    );
    assert_eq!(codes(&r), ["MF104", "PG303"]);
}

#[test]
fn pg305_check_without_not_valid() {
    // Near misses: NOT VALID; a table of this file; MySQL.
    let r = pg_case(
        "PG305",
        ("ALTER TABLE users ADD CONSTRAINT name_len CHECK (length(name) < 100);\n", 1),
        r#"Adding CHECK constraint "name_len" on table "users" without NOT VALID scans the whole table while holding a lock that blocks writes"#,
        &[
            (Dialect::Postgres, "ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0) NOT VALID;\n"),
            (Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\n"),
            (Dialect::Mysql, "ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0);\n"),
        ],
    );
    assert_eq!(codes(&r), ["PG305"]);
    // Unnamed: no empty name in the text.
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ADD CHECK (id > 0);\n");
    assert_eq!(
        only(&r, "PG305"),
        [
            r#"Adding CHECK constraint on table "users" without NOT VALID scans the whole table while holding a lock that blocks writes"#
        ]
    );
}

#[test]
fn pg306_foreign_key_without_not_valid() {
    // Near misses: NOT VALID; a table of this file; MySQL.
    let r = pg_case(
        "PG306",
        ("ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id);\n", 1),
        r#"Adding FOREIGN KEY constraint "fk2" on table "posts" without NOT VALID scans the whole table while holding a lock that blocks writes"#,
        &[
            (
                Dialect::Postgres,
                "CREATE TABLE t (a int);\nALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES users (id);\n",
            ),
            (Dialect::Mysql, "ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id);\n"),
        ],
    );
    assert_eq!(codes(&r), ["PG306"]);
    let r = lint_new(
        Dialect::Postgres,
        "ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE users ADD CONSTRAINT c CHECK (id > 0) NOT VALID;\n",
    );
    assert_eq!(codes(&r), Vec::<&str>::new());
}

#[test]
fn pg901_renames_on_postgres() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users RENAME COLUMN name TO full_name;\n");
    assert_eq!(codes(&r), ["BC102", "PG901"]);
    assert!(r.findings[1].message.starts_with(r#"Renaming column "name" on table "users" to "full_name" waits"#));
    assert_finding(
        &r,
        &warn(
            "PG901",
            "pg_locking",
            1,
            r#"Renaming column "name" on table "users" to "full_name" waits for an ACCESS EXCLUSIVE lock, queueing every query on the table behind it, and breaks queries still using the old name"#,
        ),
    );
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users RENAME TO accounts;\n");
    assert!(only(&r, "PG901")[0].starts_with(r#"Renaming table "users" to "accounts" waits"#));
    // Near misses: a table of this file; not PostgreSQL.
    assert_none(
        "PG901",
        &[
            (
                Dialect::Postgres,
                "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME TO u;\n",
            ),
            (Dialect::Generic, "ALTER TABLE users RENAME COLUMN name TO full_name;\n"),
            (Dialect::Mysql, "ALTER TABLE users RENAME COLUMN name TO full_name;\n"),
        ],
    );
}

#[test]
fn pg_checks_run_on_postgres_only() {
    let sql = "CREATE INDEX users_name ON users (name);\n\
               CREATE INDEX CONCURRENTLY users_email ON users (email);\n\
               ALTER TABLE users ADD COLUMN r int DEFAULT (random() * 10);\n\
               ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0);\n\
               ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id);\n\
               ALTER TABLE users RENAME COLUMN name TO full_name;\n";
    let pg = codes(&lint_new(Dialect::Postgres, sql)).into_iter().filter(|c| c.starts_with("PG")).count();
    assert_eq!(pg, 6);
    for d in [Dialect::Mysql, Dialect::Sqlite, Dialect::Generic, Dialect::Sqlserver] {
        let r = lint_new(d, sql);
        assert!(!codes(&r).iter().any(|c| c.starts_with("PG")), "{d}: {:?}", codes(&r));
    }
}

#[test]
fn nolint_statement_directives() {
    let sql = "-- atlas:nolint\nDROP TABLE users;\n-- atlas:nolint DS102\nDROP TABLE posts;\n/*atlas:nolint destructive*/\nDROP TABLE a;\n-- atlas:nolint DS103 CD101\nDROP TABLE b;\n";
    let r = lint_new(Dialect::Postgres, sql);
    assert_eq!(messages(&r), [r#"Dropping table "b""#]);
    assert_eq!(r.findings[0].line, 8);
    // By analyzer name for a strata analyzer; other codes of the statement stay.
    let r = lint_new(Dialect::Postgres, "-- atlas:nolint pg_locking\nALTER TABLE users RENAME COLUMN name TO n;\n");
    assert_eq!(codes(&r), ["BC102"]);
}

#[test]
fn nolint_file_header() {
    // A bare header: the file is not analysed.
    let r = lint_new(Dialect::Postgres, "-- atlas:nolint\n\nDROP TABLE users;\nDROP TABLE posts;\n");
    assert_eq!(r, LintReport::default());
    // Header rules apply to every statement.
    let r =
        lint_new(Dialect::Postgres, "-- atlas:nolint DS102\n\nDROP TABLE users;\nALTER TABLE posts DROP COLUMN id;\n");
    assert_eq!(codes(&r), ["DS103"]);
    // With header rules, a bare statement nolint is no longer "exactly
    // bare" (Atlas's rule): the finding stays.
    let r = lint_new(Dialect::Postgres, "-- atlas:nolint CD101\n\n-- atlas:nolint\nDROP TABLE users;\n");
    assert_eq!(codes(&r), ["DS102"]);
    // No blank line: the comment belongs to the statement, not the file.
    let r = lint_new(Dialect::Postgres, "-- atlas:nolint DS102\nDROP TABLE users;\nDROP TABLE posts;\n");
    assert_eq!(messages(&r), [r#"Dropping table "posts""#]);
}

#[test]
fn st001_unparsable_statement() {
    let r = lint_new(Dialect::Postgres, "SELECT 1;\n\nDROP TABLE;\n");
    assert_finding(
        &r,
        &warn(
            "ST001",
            "parse",
            3,
            "Statement not analysed: sqlparser (postgres) cannot parse it at line 3, column 11: Expected: identifier, found: ;",
        ),
    );
    assert!(r.findings.is_empty() && !r.has_errors());
    // Near misses: what sqlparser parses, in each dialect.
    for d in Dialect::ALL {
        let r = lint_new(d, "SELECT 1;\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n");
        assert_eq!(r.unparsed, [], "{d}");
    }
}

#[test]
fn st002_file_that_cannot_be_split() {
    const MSG: &str = "cannot split the file into statements at line 2, column 8: sql/migrate: scanning statements from \"2_new.sql\": 2:8: unclosed quote '\\''";
    let r = lint_new(Dialect::Postgres, "SELECT 1;\nSELECT 'unterminated;\n");
    assert_finding(
        &r,
        &Want { code: "ST002", analyzer: "split", severity: Severity::Error, file: "2_new.sql", line: 2, message: MSG },
    );
    // Near miss: a string across lines, with a semicolon in it.
    let r = lint_new(Dialect::Postgres, "SELECT 'a;\nb';\nDROP TABLE users;\n");
    assert_eq!(codes(&r), ["DS102"]);
}

#[test]
fn unparsable_statement_is_a_warning_and_the_run_goes_on() {
    let r = lint_new(
        Dialect::Postgres,
        "SELECT 1;\n\nDROP TABLE;\n  CREATE TABLE x (id int) GARBAGE here;\nDROP TABLE users;\n",
    );
    assert_eq!(messages(&r), [r#"Dropping table "users""#]);
    assert_eq!(r.findings[0].line, 5);
    assert_eq!(r.unparsed.len(), 2);
    let u = &r.unparsed[0];
    assert_eq!((u.code.as_str(), u.analyzer, u.severity), ("ST001", "parse", Severity::Warning));
    assert_eq!((u.file.as_str(), u.line, u.statement.as_str()), ("2_new.sql", 3, "DROP TABLE;"));
    assert!(u.message.contains("at line 3, column 11"), "{}", u.message);
    assert!(r.unparsed[1].message.contains("at line 4, column 27"), "{}", r.unparsed[1].message);
    assert!(!r.has_errors() || !r.findings.is_empty());
    // nolint silences it like any finding.
    let r = lint_new(Dialect::Postgres, "-- atlas:nolint ST001\nDROP TABLE;\n");
    assert_eq!(r, LintReport::default());
}

#[test]
fn a_file_that_cannot_be_split_is_one_finding() {
    let r = lint_new(Dialect::Postgres, "DROP TABLE users;\nSELECT 'unterminated;\n");
    assert_eq!(codes(&r), ["ST002"]);
    let f = &r.findings[0];
    assert_eq!((f.file.as_str(), f.severity, f.analyzer), ("2_new.sql", Severity::Error, "split"));
    assert!(f.line >= 1 && !f.hint.is_empty());
    // An earlier file that cannot be split only loses its tables.
    let files = [("1_a.sql", "CREATE TABLE a (id int);\nSELECT 'x;\n"), ("2_b.sql", "DROP TABLE a;\n")];
    assert_eq!(codes(&lint_files(Dialect::Postgres, &files, &["2_b.sql"])), ["DS102"]);
}

#[test]
fn every_dialect_parses_its_own_sql() {
    for (d, sql) in [
        (Dialect::Mysql, "ALTER TABLE `users` DROP COLUMN `name`;\n"),
        (Dialect::Sqlite, "ALTER TABLE \"users\" DROP COLUMN \"name\";\n"),
        (Dialect::Sqlserver, "ALTER TABLE [users] DROP COLUMN [name];\n"),
        (Dialect::Generic, "ALTER TABLE users DROP COLUMN name;\n"),
    ] {
        let r = lint_new(d, sql);
        assert_eq!(messages(&r), [r#"Dropping non-virtual column "name""#], "{d}");
        assert_eq!(r.unparsed, [], "{d}");
    }
}

#[test]
fn odd_input_does_not_panic() {
    for sql in [
        "",
        ";;;",
        "\u{feff}DROP TABLE users;",
        "ALTER TABLE users",
        "CREATE INDEX ON users (name);",
        "CREATE UNIQUE INDEX ON users ((lower(email)));",
        "ALTER TABLE \"\" RENAME TO \"\";",
        "DROP TABLE a.b.c.d;",
        "ALTER TABLE users DROP CONSTRAINT IF EXISTS nope;",
        &"(".repeat(10_000),
        &format!("SELECT {};", "-".repeat(5000)),
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;",
        "DO $$ BEGIN RAISE NOTICE 'x'; END $$;",
    ] {
        for d in Dialect::ALL {
            let _ = lint_new(d, sql);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        /// Random SQL-ish text: never a panic, findings in line order.
        #[test]
        fn sqlish_never_panics(parts in proptest::collection::vec(
            prop_oneof![
                Just("CREATE TABLE "), Just("DROP "), Just("ALTER TABLE "), Just("users "), Just("INDEX "),
                Just("UNIQUE "), Just("CONCURRENTLY "), Just("ADD COLUMN "), Just("DROP COLUMN "), Just("RENAME TO "),
                Just("SCHEMA "), Just("NOT NULL "), Just("DEFAULT "), Just("random() "), Just("("), Just(")"),
                Just(","), Just(";\n"), Just("'"), Just("\""), Just("$$"), Just("-- atlas:nolint "), Just("\n\n"),
                Just("/*"), Just("*/"), Just("x "), Just("ON "), Just("CONSTRAINT "), Just("FOREIGN KEY "),
            ],
            0..40,
        ), dialect in 0usize..5) {
            let sql: String = parts.concat();
            let r = lint_new(Dialect::ALL[dialect], &sql);
            let lines: Vec<usize> = r.findings.iter().map(|f| f.line).collect();
            let mut sorted = lines.clone();
            sorted.sort_unstable();
            prop_assert_eq!(lines, sorted);
        }
    }
}

#[test]
fn a_report_renders_as_markdown_and_text() {
    let r = lint_new(
        Dialect::Postgres,
        "DROP TABLE users;\nALTER TABLE posts ADD COLUMN n int NOT NULL;\nCREATE INDEX posts_n ON posts (n);\n",
    );
    let md = r.to_markdown();
    assert!(md.starts_with("### Lint\n\n❌ **1 error**, 2 warnings.\n\n| | Code | Where | Finding | Fix |\n"), "{md}");
    assert!(md.contains("| ❌ error | `DS102` | `2_new.sql:1` | Dropping table \"users\" |"), "{md}");
    assert!(md.contains("| ⚠️ warning | `PG101` | `2_new.sql:3` |"), "{md}");
    let text = r.to_text();
    assert!(
        text.starts_with("  2_new.sql:1: error DS102 (destructive): Dropping table \"users\"\n    hint: "),
        "{text}"
    );
    assert!(text.ends_with("\n1 error, 2 warnings\n"), "{text}");
    assert_eq!(LintReport::default().to_markdown(), "### Lint\n\n✅ **No findings.**\n\n");
    assert_eq!(LintReport::default().to_text(), "0 errors, 0 warnings\n");
}

#[test]
fn a_report_of_many_findings_stays_within_one_comment() {
    let files: Vec<(String, String)> =
        (0..3_000).map(|i| (format!("2{i:05}_d.sql"), "ALTER TABLE users DROP COLUMN name;\n".to_string())).collect();
    let mut all = vec![("1_base.sql", BASE)];
    all.extend(files.iter().map(|(n, c)| (n.as_str(), c.as_str())));
    let new: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let r = lint_files(Dialect::Postgres, &all, &new);
    assert_eq!(r.findings.len(), 3_000);
    let md = r.to_markdown();
    assert!(md.len() <= crate::preview::COMMENT_LIMIT);
    let shown = md.matches("| ❌ error | `DS103` |").count();
    assert!(md.ends_with(&format!("| | | | … and {} more findings | |\n", 3_000 - shown)), "{}", &md[md.len() - 200..]);
}
