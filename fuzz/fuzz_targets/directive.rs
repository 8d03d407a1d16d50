//! `-- atlas:<name> [args]` matching: structural invariants, and a
//! differential check against Atlas's regular expression
//! `^([ -~]*)atlas:(\w+)(?: +(.+))*` (RE2 semantics; the Rust `regex`
//! crate, bytes mode, ASCII classes, has the same leftmost-first submatch
//! rules).
#![no_main]

use libfuzzer_sys::fuzz_target;
use regex::bytes::Regex;
use std::sync::OnceLock;
use strata::directive::{lookup, parse};

fn re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?-u)^([ -~]*)atlas:(\w+)(?: +(.+))*").unwrap())
}

fn offset(whole: &[u8], part: &[u8]) -> usize {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    assert!(p >= w && p + part.len() <= w + whole.len(), "not a sub-slice of the input");
    p - w
}

fuzz_target!(|data: &[u8]| {
    let got = parse(data);
    if let Some(d) = got {
        let (p, n, a) = (offset(data, d.prefix), offset(data, d.name.as_bytes()), offset(data, d.args));
        assert_eq!(p, 0, "prefix does not start the input");
        assert_eq!(&data[p + d.prefix.len()..n], b"atlas:", "name does not follow prefix + atlas:");
        assert!(a >= n + d.name.len(), "args start inside the name");
        assert!(!d.name.is_empty(), "empty name");
        assert!(d.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "name {:?}", d.name);
        assert!(d.prefix.iter().all(|b| (0x20..=0x7e).contains(b)), "prefix not printable ASCII");
        assert!(!d.args.contains(&b'\n'), "args cross a line");
        assert!(data[n + d.name.len()..a].iter().all(|&b| b == b' '), "args not separated by spaces");
        assert_eq!(lookup(data, d.name, Some(std::str::from_utf8(d.prefix).unwrap())), Some(d.args));
        assert_eq!(lookup(data, d.name, None), Some(d.args));
        let _ = d.args_lossy();
    }
    let want = re().captures(data).map(|c| {
        (c.get(1).unwrap().as_bytes(), c.get(2).unwrap().as_bytes(), c.get(3).map_or(&b""[..], |m| m.as_bytes()))
    });
    let got = got.map(|d| (d.prefix, d.name.as_bytes(), d.args));
    assert_eq!(got, want, "differs from the directive regular expression on {:?}", String::from_utf8_lossy(data));
});
