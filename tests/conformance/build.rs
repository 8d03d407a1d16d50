//! Embeds the conformance corpus (`../shared/conformance` beside the
//! checkout, or `$STRATA_CONFORMANCE`) into the test crate, so that the same
//! tests run natively and in a browser, where there is no file system.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=STRATA_CONFORMANCE");
    let root = match std::env::var_os("STRATA_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    let root = root.canonicalize().unwrap_or_else(|e| {
        panic!(
            "conformance data not found at {} ({e}); it lives in ../shared/conformance next to the \
             checkout, or set STRATA_CONFORMANCE",
            root.display()
        )
    });
    println!("cargo:rerun-if-changed={}", root.display());
    // The database cases of atlas-apply are read from disk at run time
    // (natively only); tell the tests where the corpus is.
    println!("cargo:rustc-env=STRATA_CONFORMANCE_ROOT={}", root.display());
    let mut files = Vec::new();
    for suite in ["atlas-lex", "atlas-sum"] {
        walk(&root, &root.join(suite), &mut files);
    }
    // atlas-apply: only what the core-level cases use (the database cases,
    // with their per-case folders, run natively from disk).
    let apply = root.join("atlas-apply");
    for f in ["executor-cases.json", "render-cases.json"] {
        let p = apply.join(f);
        println!("cargo:rerun-if-changed={}", p.display());
        let rel = p.strip_prefix(&root).unwrap().to_str().expect("UTF-8 corpus path").to_string();
        files.push((rel, p.to_str().unwrap().to_string()));
    }
    walk(&root, &apply.join("executor-dirs"), &mut files);
    files.sort();
    let mut out = String::from("/// Every corpus file: (path relative to the corpus root, bytes).\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),").unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("corpus.rs");
    std::fs::write(dest, out).unwrap();
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_str().expect("UTF-8 corpus path").to_string();
            out.push((rel, p.to_str().unwrap().to_string()));
        }
    }
}
