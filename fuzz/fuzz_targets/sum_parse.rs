//! `atlas.sum` parsing: arbitrary bytes into `SumFile::parse`, a render /
//! re-parse round trip where one is defined, and `SumFile::validate` of
//! fixed computed sums against the input.
//!
//! A random input almost never carries the right total on its first line,
//! so the input is also parsed a second way: as the entry lines of a sum
//! whose total line is recomputed here (a small independent model of
//! Atlas's `HashFile` parsing), which lets mutated entries reach the
//! successful path. For UTF-8 input the model must agree with the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use strata::sum::{SumError, SumFile};

/// Longest line `SumFile::parse` accepts (Go's bufio.Scanner limit).
const MAX_LINE: usize = 64 * 1024;

/// Whether rendering and re-parsing must give back the same entries: names
/// are trimmed and split at the first `h1:` when parsed, and one trailing
/// `\r` is dropped from each line, so only names and hashes that survive
/// that unchanged round-trip.
fn round_trips(sum: &SumFile) -> bool {
    sum.entries().iter().all(|e| {
        !e.name.is_empty()
            && e.name.trim_matches(char::is_whitespace) == e.name
            && !e.name.contains("h1:")
            && !e.name.contains(['\n', '\r'])
            && !e.hash.contains(['\n', '\r'])
            && e.name.len() + 4 + e.hash.len() < MAX_LINE
    })
}

/// Checks that hold for every successfully parsed sum; `text` is what was
/// parsed.
fn check_parsed(sum: &SumFile, text: &[u8]) {
    let rendered = sum.render();
    assert!(rendered.starts_with("h1:") && rendered.ends_with('\n'));
    assert_eq!(rendered.lines().count(), 1 + sum.entries().len());
    if round_trips(sum) {
        let again = SumFile::parse(rendered.as_bytes());
        assert_eq!(again.as_ref(), Ok(sum), "render/parse round trip failed for {rendered:?}");
        assert_eq!(again.unwrap().render(), rendered);
    }
    // A sum always validates against itself.
    assert_eq!(SumFile::validate(sum, Some(text), sum.entries().len()), Ok(()));
    for e in sum.entries() {
        assert!(sum.hash_of(&e.name).is_some());
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if k <= c.len() { A[(n >> shift) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// The model: the entries of `body` read as the lines after the total line
/// (split on `\n`, no empty last line, one trailing `\r` dropped, split at
/// the first `h1:`, name trimmed), or `None` when a line is too long or
/// has no `h1:`. Only exact for UTF-8 input.
fn model_entries(body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (line, tail) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = tail;
        if line.len() >= MAX_LINE {
            return None;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let at = line.windows(3).position(|w| w == b"h1:")?;
        let name = String::from_utf8_lossy(&line[..at]).trim_matches(char::is_whitespace).to_string();
        out.push((name, String::from_utf8_lossy(&line[at + 3..]).into_owned()));
    }
    Some(out)
}

fn with_total(body: &[u8]) -> Option<(Vec<(String, String)>, Vec<u8>)> {
    let entries = model_entries(body)?;
    let mut h = Sha256::new();
    for (n, v) in &entries {
        h.update(n.as_bytes());
        h.update(v.as_bytes());
    }
    let mut text = format!("h1:{}\n", base64(&h.finalize())).into_bytes();
    text.extend_from_slice(body);
    Some((entries, text))
}

fuzz_target!(|data: &[u8]| {
    let parsed = SumFile::parse(data);
    if let Ok(sum) = &parsed {
        check_parsed(sum, data);
    }

    // The input as entry lines under a recomputed total.
    if let Some((entries, text)) = with_total(data) {
        match SumFile::parse(&text) {
            Ok(sum) => {
                let got: Vec<_> = sum.entries().iter().map(|e| (e.name.clone(), e.hash.clone())).collect();
                if std::str::from_utf8(data).is_ok() {
                    assert_eq!(got, entries, "parsed entries differ from the model");
                }
                check_parsed(&sum, &text);
            }
            Err(e) => assert!(
                std::str::from_utf8(data).is_err(),
                "UTF-8 entry lines under their correct total fail to parse: {e:?}"
            ),
        }
    }

    // Validate fixed computed sums against the input.
    let computed = [
        SumFile::default(),
        SumFile::compute([("1.sql", &b"SELECT 1;"[..])]),
        SumFile::compute([
            ("20240101000000_init.sql", &b"CREATE TABLE t1 (id int);\n"[..]),
            ("20240102000000_add_users.sql", &b"CREATE TABLE users (id int);\n"[..]),
            ("20240103000000_ignored.sql", &b"-- atlas:sum ignore\nSELECT 3;\n"[..]),
        ]),
    ];
    for c in &computed {
        for files in [0, c.entries().len(), c.entries().len() + 1] {
            let v = SumFile::validate(c, Some(data), files);
            match (&parsed, &v) {
                // A sum that does not parse fails validation with the same error.
                (Err(pe), v) => assert_eq!(v.as_ref(), Err(pe)),
                (Ok(p), Ok(())) => assert_eq!(p.total(), c.total()),
                (Ok(p), Err(SumError::Checksum(ce))) => {
                    assert_ne!(p.total(), c.total());
                    assert!(ce.line >= 2 && ce.line <= p.entries().len() + 2, "{ce:?}");
                    assert_eq!(ce.total, p.entries().len());
                    let _ = v.as_ref().unwrap_err().detail();
                }
                (Ok(_), Err(e)) => panic!("parsed sum failed validation with {e:?}"),
            }
            if let Err(e) = &v {
                assert!(!e.to_string().is_empty());
                let _ = (e.code(), e.atlas_kind(), e.hint());
            }
        }
        assert_eq!(SumFile::validate(c, None, 0), Ok(()));
        assert_eq!(SumFile::validate(c, None, 1), Err(SumError::NotFound));
    }
});
