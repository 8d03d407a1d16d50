//! Helpers shared by the unit tests.

use crate::dir::Directory;
use crate::sum::SumFile;

/// A directory of `files` (name, content) with the `atlas.sum` that
/// `atlas migrate hash` would write for them.
pub(crate) fn dir_with_sum(files: &[(&str, &str)]) -> Directory {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let sum = SumFile::compute(sorted.iter().map(|(n, c)| (*n, c.as_bytes()))).render();
    Directory::new(
        files
            .iter()
            .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
            .chain([("atlas.sum".to_string(), sum.into_bytes())]),
    )
    .unwrap()
}

/// HTML with its tags removed and entities decoded: the text a reader sees.
pub(crate) fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}
