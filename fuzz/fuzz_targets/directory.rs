//! The directory model. The input is split on NUL bytes into at most 16
//! entries; in each, the bytes up to the first `\n` are the file name
//! (lossy UTF-8) and the rest is the content. Nothing may panic, and the
//! model's own guarantees are checked.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use strata::dir::Directory;
use strata::lex::Dialect;
use strata::sum::{SumError, SumFile};

const MAX_ENTRIES: usize = 16;

fn entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    data.split(|&b| b == 0)
        .take(MAX_ENTRIES)
        .map(|chunk| {
            let (name, content) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], &chunk[i + 1..]),
                None => (chunk, &[][..]),
            };
            (String::from_utf8_lossy(name).into_owned(), content.to_vec())
        })
        .collect()
}

/// Names whose sum lines survive a render/parse round trip.
fn sum_safe(name: &str) -> bool {
    !name.is_empty()
        && name.trim_matches(char::is_whitespace) == name
        && !name.contains("h1:")
        && !name.contains(['\n', '\r'])
}

fn within(whole: &[u8], part: &[u8]) -> bool {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = Directory::new(entries(data)) else {
        return;
    };
    let files = dir.files();
    for w in files.windows(2) {
        assert!(w[0].name().as_bytes() < w[1].name().as_bytes(), "files not strictly ordered");
    }

    let sum = dir.checksum();
    let rendered = sum.render();
    let _ = dir.verify(None);
    let own = dir.verify(Some(rendered.as_bytes()));
    if files.iter().all(|f| sum_safe(f.name())) {
        assert_eq!(own, Ok(()), "directory does not verify against its own sum: {rendered:?}");
        assert_eq!(SumFile::parse(rendered.as_bytes()).as_ref(), Ok(&sum));
    }
    if files.is_empty() {
        assert_eq!(dir.verify(None).err().filter(|e| *e == SumError::NotFound), None);
    }
    // Only non-ignored files have entries.
    let counted = files.iter().filter(|f| !f.is_sum_ignored()).count();
    assert_eq!(sum.entries().len(), counted);

    for f in files {
        let name = f.name();
        assert!(name.ends_with(".sql"));
        assert_eq!(dir.file(name).map(|g| g.name()), Some(name));
        let v = f.version();
        assert!(name.starts_with(v), "version {v:?} is not a prefix of {name:?}");
        assert!(dir.file_by_version(v).is_some());
        let d = f.description();
        assert!(name.contains(d), "description {d:?} is not part of {name:?}");
        for c in f.header_comments() {
            assert!(within(f.bytes(), c), "header comment is not part of the file");
        }
        let _ = f.directives();
        let _ = f.directive("txmode");
        let _ = (f.is_checkpoint(), f.checkpoint_tag());
        for dialect in [Dialect::Generic, Dialect::Mysql] {
            match f.split(dialect) {
                Ok(s) => {
                    let text = f.text().expect("split succeeded on non-UTF-8 content");
                    common::check_split(text, &s, &dialect);
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    assert_eq!(e.file(), name);
                    let _ = (e.code(), e.hint(), e.position());
                }
            }
        }
    }
});
