//! Statement splitting: the first two bytes (little-endian u16, low ten
//! bits) choose the `ScanOptions`; the rest, if UTF-8, is the input.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use strata::lex::{split, split_dialect, split_with_warnings, Dialect};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let bits = u16::from_le_bytes([data[0], data[1]]);
    let Ok(input) = std::str::from_utf8(&data[2..]) else {
        return;
    };
    let opts = common::options(bits);
    let result = split_with_warnings(input, &opts);
    match &result {
        Ok(s) => common::check_split(input, s, &opts),
        Err(e) => common::check_error(input, e, &opts),
    }
    // `split` is `split_with_warnings` without the warnings.
    let plain = split(input, &opts);
    assert_eq!(plain, result.map(|s| s.stmts), "split and split_with_warnings disagree ({opts:?})");

    for d in Dialect::ALL {
        let r = split(input, &d.options());
        match &r {
            Ok(stmts) => common::check_stmts(input, stmts, &d),
            Err(e) => common::check_error(input, e, &d),
        }
        assert_eq!(r, split_dialect(input, d), "split and split_dialect disagree ({d})");
    }
});
