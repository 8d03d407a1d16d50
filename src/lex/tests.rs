//! Unit tests of the splitter on the examples of spec §4. The full Atlas
//! corpus runs in `tests/conformance`.

use super::*;

fn texts(input: &str, d: Dialect) -> Vec<String> {
    split_dialect(input, d).unwrap().iter().map(|s| s.text.to_string()).collect()
}

fn err(input: &str, o: ScanOptions) -> String {
    split(input, &o).unwrap_err().to_string()
}

/// Every statement's span slices back to its text, and its line is the
/// line of its first byte. Atlas's `pos` is exact for ordinary statements.
fn assert_spans(input: &str, d: Dialect) {
    for s in split_dialect(input, d).unwrap() {
        assert_eq!(&input[s.start..s.end], s.text);
        assert_eq!(s.line, 1 + input[..s.start].matches('\n').count());
        assert!(input[s.pos..].starts_with(s.text), "{:?} not at {} in {:?}", s.text, s.pos, input);
    }
}

#[test]
fn trailing_line_comment_becomes_a_statement() {
    assert_eq!(texts("SELECT 1;\n-- trailing comment", Dialect::Generic), ["SELECT 1;", "-- trailing comment"]);
}

#[test]
fn comments_attach_to_the_next_statement() {
    let s = split_dialect("-- hello\n-- world\ncmd2;\n/* c1 */\n/* c2 */\ncmd4;", Dialect::Generic).unwrap();
    assert_eq!(s[0].comments, ["-- hello\n", "-- world\n"]);
    assert_eq!(s[1].comments, ["/* c1 */", "/* c2 */"]);
    let s = split_dialect("SELECT 1; -- x\nSELECT 2;", Dialect::Generic).unwrap();
    assert_eq!(s[1].comments, ["-- x\n"]);
    // A blank line detaches; a CRLF blank line does not.
    let s = split_dialect("-- a\n\nSELECT 1;", Dialect::Generic).unwrap();
    assert!(s[0].comments.is_empty());
    let s = split_dialect("-- a\r\n\r\nSELECT 1;", Dialect::Generic).unwrap();
    assert_eq!(s[0].comments, ["-- a\r\n"]);
}

#[test]
fn hash_is_a_comment_only_for_mysql() {
    assert_eq!(texts("# c\nSELECT 1;", Dialect::Generic), ["# c\nSELECT 1;"]);
    assert_eq!(texts("# c\nSELECT 1;", Dialect::Mysql), ["SELECT 1;"]);
}

#[test]
fn dollar_quotes_and_begin_blocks() {
    assert_eq!(
        texts("SELECT $tag$ ; $tag$;\nSELECT $$a;b$$;\nSELECT $1;", Dialect::Generic),
        ["SELECT $tag$ ; $tag$;", "SELECT $$a;b$$;", "SELECT $1;"]
    );
    assert_eq!(
        texts("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;\nSELECT 2;", Dialect::Sqlite),
        ["CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;", "SELECT 2;"]
    );
    // A transaction's BEGIN; is not a block; a bare BEGIN line merges.
    assert_eq!(texts("BEGIN;\nSELECT 1;\nCOMMIT;", Dialect::Postgres), ["BEGIN;", "SELECT 1;", "COMMIT;"]);
    assert_eq!(texts("BEGIN\nSELECT 1;\nCOMMIT;", Dialect::Sqlite), ["BEGIN\nSELECT 1;", "COMMIT;"]);
    // `x.begin` is not a block opener.
    assert_eq!(
        texts("UPDATE t SET a = NEW.begin; SELECT 1;", Dialect::Sqlite),
        ["UPDATE t SET a = NEW.begin;", "SELECT 1;"]
    );
    // An unterminated dollar quote swallows the rest.
    assert_eq!(texts("SELECT $$ a; b; c;", Dialect::Postgres), ["SELECT $$ a; b; c;"]);
}

#[test]
fn delimiters() {
    let s = split_dialect("-- atlas:delimiter //\n\nSELECT 1//\nSELECT 2//", Dialect::Generic).unwrap();
    let got: Vec<_> = s.iter().map(|s| (s.pos, s.start, s.line, s.text)).collect();
    // Atlas's positions are relative to the text after the directive line.
    assert_eq!(got, [(1, 23, 3, "SELECT 1"), (12, 34, 4, "SELECT 2")]);
    assert_eq!(
        texts("DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nCALL p();", Dialect::Mysql),
        ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "CALL p();"]
    );
    assert_eq!(texts("delimiterx = 1;", Dialect::Mysql), ["delimiterx = 1;"]);
    assert_eq!(texts("DELIMITER '//'\nSELECT 1//", Dialect::Mysql), ["SELECT 1"]);
}

#[test]
fn go_batches() {
    let s = split_dialect("SELECT 1\nGO\nSELECT 2\nGO 3\nSELECT 3", Dialect::Sqlserver).unwrap();
    let got: Vec<_> = s.iter().map(|s| (s.pos, s.text)).collect();
    // Atlas's quirky positions after GO (spec §4.11), from its edge cases.
    assert_eq!(got, [(2, "SELECT 1"), (17, "SELECT 2"), (26, "SELECT 3")]);
    assert_eq!(
        err("SELECT 1\nGO x\n", Dialect::Sqlserver.options()),
        r#"sql/migrate: invalid GO command, expect digits got " x\n": strconv.Atoi: parsing "x": invalid syntax"#
    );
}

#[test]
fn errors_use_atlas_strings() {
    let g = Dialect::Generic.options();
    assert_eq!(err("(unclosed parentheses", g), "1:1: unclosed '('");
    assert_eq!(err("1234)6789", g), "1:5: unexpected ')'");
    assert_eq!(err("unclosed double at 2:2\n \"", g), "2:2: unclosed quote '\"'");
    assert_eq!(err("-- atlas:delimiter //\n(x", g), "2:1: unclosed '('");
    assert_eq!(err("-- atlas:delimiter //", g), "1:0: no input found after delimiter \"//\"");
    assert_eq!(err("-- atlas:delimiter \nx", g), "empty delimiter");
    assert_eq!(err("SELECT E'\\'';", Dialect::Postgres.options()), "1:12: unclosed quote '\\''");
    assert!(split("SELECT E'\\'';", &Dialect::Mysql.options()).is_ok());
    let e = split("SELECT 1;\nSELECT 'x", &g).unwrap_err();
    assert_eq!((e.kind(), e.line(), e.column(), e.offset()), (LexErrorKind::UnclosedQuote, 2, 8, 18));
    // Atlas panics on a lone quote as DELIMITER; we report it.
    assert_eq!(split("DELIMITER '\nx", &Dialect::Mysql.options()).unwrap_err().kind(), LexErrorKind::InvalidDelimiter);
}

#[test]
fn statement_directives() {
    let s = split_dialect(
        "-- atlas:nolint DS101\n/*atlas:nolint MF101*/\n/* atlas:nolint X */\nDROP TABLE t;",
        Dialect::Generic,
    )
    .unwrap();
    assert_eq!(s[0].directive("nolint"), ["DS101", "MF101"]);
}

#[test]
fn spans_slice_back_to_text() {
    let input = "CREATE TABLE a (id int);\n-- c\nINSERT INTO a VALUES ('x;y', \"q\");\n/* b */ SELECT $$;$$;\n";
    for d in Dialect::ALL {
        assert_spans(input, d);
    }
}

#[test]
fn unterminated_blocks_do_not_hang() {
    // Every `BEGIN TRANSACTION;` opens a block that END never closes. Atlas
    // re-scans the rest of the file for each one, nested: 2^40 scans here.
    // Remembering each block's outcome gives the same statements at once.
    let input = "BEGIN TRANSACTION;\nSELECT 1;\nCOMMIT;\n".repeat(40);
    let got = texts(&input, Dialect::Sqlite);
    let want: Vec<String> =
        ["BEGIN TRANSACTION;", "SELECT 1;", "COMMIT;"].repeat(40).into_iter().map(String::from).collect();
    assert_eq!(got, want);
    // Past the nesting limit the input is refused, with a position.
    let input = "BEGIN x ".repeat(2000) + ";";
    let e = split_dialect(&input, Dialect::Sqlite).unwrap_err();
    assert_eq!(e.kind(), LexErrorKind::TooComplex);
    assert!(e.to_string().starts_with("1:"), "{e}");
}

#[test]
fn the_work_budget_bounds_unterminated_blocks() {
    // Each unterminated block scans the rest of the file once.
    let input = "BEGIN WORK;\nSELECT 1;\n".repeat(10) + &"SELECT 1;\n".repeat(100_000);
    assert_eq!(split_dialect(&input, Dialect::Mysql).unwrap().len(), 20 + 100_000);
    // 40 of them over a 1 MB file exceed the budget of 32 times its size.
    let input = "BEGIN WORK;\nSELECT 1;\n".repeat(40) + &"SELECT 1;\n".repeat(100_000);
    let e = split_dialect(&input, Dialect::Mysql).unwrap_err();
    assert_eq!(e.kind(), LexErrorKind::TooComplex);
    assert!(e.message().contains("too costly"), "{e}");
}

#[test]
fn nested_blocks_past_the_depth_limit_are_refused() {
    let depth = MAX_BLOCK_DEPTH + 2;
    let input = format!("CREATE PROCEDURE p() {} {}", "BEGIN SELECT 1; ".repeat(depth), "END; ".repeat(depth));
    assert_eq!(split_dialect(&input, Dialect::Mysql).unwrap_err().kind(), LexErrorKind::TooComplex);
    let ok = format!("CREATE PROCEDURE p() {} {}", "BEGIN SELECT 1; ".repeat(10), "END; ".repeat(10));
    assert_eq!(split_dialect(&ok, Dialect::Mysql).unwrap().len(), 1);
}

#[test]
fn pathological_comments_stay_linear() {
    // Each `--` looks for a newline that does not exist.
    let input = "x ".to_string() + &"-- ".repeat(200_000);
    assert_eq!(split_dialect(&input, Dialect::Generic).unwrap().len(), 1);
    let input = "x ".to_string() + &"/* ".repeat(200_000);
    assert_eq!(split_dialect(&input, Dialect::Generic).unwrap().len(), 1);
    let input = "x".to_string() + &" ".repeat(300_000) + "END";
    assert_eq!(split_dialect(&input, Dialect::Sqlserver).unwrap().len(), 1);
}

#[test]
fn dialect_names() {
    for d in Dialect::ALL {
        assert_eq!(Dialect::parse(d.name()), Some(d));
    }
    assert_eq!(Dialect::parse("PostgreSQL"), Some(Dialect::Postgres));
    assert_eq!(Dialect::parse("oracle"), None);
}

#[test]
fn warnings_point_at_suspicious_input() {
    let w = |input: &str, d: Dialect| {
        let s = split_with_warnings(input, &d.options()).unwrap();
        s.warnings.iter().map(|w| (w.kind, w.line, w.column)).collect::<Vec<_>>()
    };
    assert_eq!(
        w("SELECT 1;\nSELECT 2; /* oops\nSELECT 3;", Dialect::Generic),
        [(LexWarningKind::UnterminatedBlockComment, 2, 11)]
    );
    assert_eq!(w("SELECT 1;\n-- end", Dialect::Generic), [(LexWarningKind::CommentOnlyStatement, 2, 1)]);
    assert_eq!(w("SELECT 1; -- x", Dialect::Generic), [(LexWarningKind::CommentOnlyStatement, 1, 11)]);
    assert_eq!(w("SELECT $x$ a;", Dialect::Postgres), [(LexWarningKind::UnterminatedDollarQuote, 1, 8)]);
    assert_eq!(w("BEGIN TRANSACTION;\nSELECT 1;", Dialect::Sqlite), [(LexWarningKind::UnclosedBlock, 1, 1)]);
    // Nothing to say about ordinary input, or about blocks that close.
    assert!(w("SELECT 1; -- x\nSELECT 2;", Dialect::Generic).is_empty());
    assert!(w("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;", Dialect::Sqlite).is_empty());
    assert!(w("SELECT 'BEGIN x'; SELECT $$ $$;", Dialect::Postgres).is_empty());
}

#[test]
fn blocks_that_would_resume_inside_a_character_are_refused() {
    // Found by differential testing: Atlas skips the block by the nested
    // scanner's count, which leaves out the nested delimiter line, and would
    // go on inside the two-byte U+2028.
    let input = "BEGIN ATOMIC\u{c}-- atlas:delimiter \\\nend\u{2028}\u{2028}WORKTHENxTRANSAC";
    for d in [Dialect::Generic, Dialect::Postgres] {
        assert_eq!(split_dialect(input, d).unwrap_err().kind(), LexErrorKind::SplitsCharacter);
    }
    let input = "''BEGIN TRY\nGO\nENDCATCH--\u{a0}x\nGO";
    assert_eq!(split_dialect(input, Dialect::Sqlserver).unwrap_err().kind(), LexErrorKind::SplitsCharacter);
}
