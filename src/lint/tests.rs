//! Each analyzer on its case and on its near miss, Atlas's texts, nolint,
//! unparsable statements and hostile input.

use super::{lint, LintReport, Severity};
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
}

#[test]
fn ds103_drop_columns() {
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
}

#[test]
fn ds101_drop_schema() {
    let r = lint_new(Dialect::Postgres, "DROP SCHEMA reporting;\n");
    assert_eq!(messages(&r), [r#"Dropping schema "reporting""#]);
    let base = "CREATE TABLE app.a (id int);\nCREATE TABLE app.b (id int);\nCREATE TABLE one.c (id int);\n";
    let files = [("1_base.sql", base), ("2_new.sql", "DROP SCHEMA app CASCADE;\nDROP SCHEMA one CASCADE;\n")];
    let r = lint_files(Dialect::Postgres, &files, &["2_new.sql"]);
    assert_eq!(
        messages(&r),
        [r#"Dropping non-empty schema "app" with 2 tables"#, r#"Dropping non-empty schema "one" with 1 table"#]
    );
    // Near miss: created in the same file.
    let r = lint_new(Dialect::Postgres, "CREATE SCHEMA scratch;\nDROP SCHEMA scratch;\n");
    assert_eq!(codes(&r), Vec::<&str>::new());
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

#[test]
fn bc101_bc102_renames() {
    let r = lint_new(Dialect::Generic, "ALTER TABLE users RENAME TO accounts;\n");
    assert_eq!(messages(&r), [r#"Renaming table "users" to "accounts""#]);
    assert_eq!(r.findings[0].analyzer, "incompatible");
    let r = lint_new(Dialect::Mysql, "RENAME TABLE users TO accounts;\n");
    assert_eq!(messages(&r), [r#"Renaming table "users" to "accounts""#]);
    let r = lint_new(Dialect::Generic, "ALTER TABLE users RENAME COLUMN name TO full_name;\n");
    assert_eq!(messages(&r), [r#"Renaming column "name" to "full_name""#]);
    // Near misses: a view keeps the old name; a table or column of this file.
    for sql in [
        "ALTER TABLE users RENAME TO accounts;\nCREATE VIEW users AS SELECT * FROM accounts;\n",
        "CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN a TO b;\n",
        "ALTER TABLE users ADD COLUMN x int;\nALTER TABLE users RENAME COLUMN x TO y;\n",
    ] {
        assert_eq!(codes(&lint_new(Dialect::Generic, sql)), Vec::<&str>::new(), "{sql}");
    }
}

#[test]
fn cd101_drop_foreign_key() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE posts DROP CONSTRAINT posts_user_fk;\n");
    assert_eq!(messages(&r), [r#"Dropping foreign-key constraint "posts_user_fk""#]);
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
}

#[test]
fn pg101_index_without_concurrently() {
    let r = lint_new(Dialect::Postgres, "CREATE INDEX users_name ON users (name);\n");
    assert_eq!(codes(&r), ["PG101"]);
    assert_eq!(r.findings[0].analyzer, "pg_locking");
    assert!(r.findings[0].message.contains(r#""users_name" on table "users" without CONCURRENTLY"#));
    // Near misses: a table of this file; other dialects.
    assert_eq!(
        codes(&lint_new(Dialect::Postgres, "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\n")),
        Vec::<&str>::new()
    );
    assert_eq!(codes(&lint_new(Dialect::Mysql, "CREATE INDEX users_name ON users (name);\n")), Vec::<&str>::new());
}

#[test]
fn pg103_concurrently_in_a_transaction() {
    let r = lint_new(Dialect::Postgres, "CREATE INDEX CONCURRENTLY users_name ON users (name);\n");
    assert_eq!(codes(&r), ["PG103"]);
    assert!(r.findings[0].hint.contains("atlas:txmode none"));
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
fn pg30x_rewrites_and_scans() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n");
    assert_eq!(codes(&r), ["PG301"]);
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n");
    assert_eq!(codes(&r), ["MF104", "PG303"]);
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
}

#[test]
fn pg305_pg306_constraints_without_not_valid() {
    let r = lint_new(Dialect::Postgres, "ALTER TABLE users ADD CONSTRAINT name_len CHECK (length(name) < 100);\n");
    assert_eq!(codes(&r), ["PG305"]);
    let r = lint_new(
        Dialect::Postgres,
        "ALTER TABLE posts ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id);\n",
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
