//! What changed between two versions of a directory: the viewer's diff of
//! two tags and a pull request's preview against what production runs.

use super::{BlobDigest, Manifest, ManifestFile};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// A file whose bytes differ between the two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedFile {
    /// The file name.
    pub name: String,
    /// Its blob in the base version.
    pub base: BlobDigest,
    /// Its blob in the head version.
    pub head: BlobDigest,
}

/// The difference from a base version to a head version, by file name.
///
/// A file of the base that the head changes or removes rewrites history:
/// a database that ran the base has run that file as it was, and Atlas
/// refuses to continue (`history-changed`) or never runs the new bytes.
/// A file added with a name that sorts before the base's last file is
/// out of order: Atlas runs it only with `--exec-order non-linear`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionDiff {
    /// Files only in the head, in name order.
    pub added: Vec<String>,
    /// Of `added`, those that sort before the base's last file.
    pub out_of_order: Vec<String>,
    /// Files in both whose bytes differ.
    pub changed: Vec<ChangedFile>,
    /// Files only in the base.
    pub removed: Vec<String>,
    /// How many files are the same in both.
    pub unchanged: usize,
    /// Whether the `atlas.sum` texts differ.
    pub sum_changed: bool,
}

/// The files of `m` in name order.
fn by_name(m: &Manifest) -> Vec<&ManifestFile> {
    let mut v: Vec<_> = m.files.iter().collect();
    if !v.is_sorted_by(|a, b| a.name <= b.name) {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    v
}

impl VersionDiff {
    /// The difference from `base` to `head`. Manifests list their files
    /// in name order ([`Manifest::check`]); other orders are sorted first.
    ///
    /// ```
    /// use strata::registry::{BlobDigest, Manifest, ManifestFile, VersionDiff};
    /// let file = |name: &str, byte: u8| ManifestFile { name: name.into(), digest: BlobDigest::of(&[byte]), size: 1 };
    /// let base = Manifest { files: vec![file("1_a.sql", 1), file("3_c.sql", 3)], sum: "s1".into() };
    /// let head = Manifest { files: vec![file("1_a.sql", 9), file("2_b.sql", 2), file("3_c.sql", 3), file("4_d.sql", 4)], sum: "s2".into() };
    /// let d = VersionDiff::between(&base, &head);
    /// assert_eq!(d.added, ["2_b.sql", "4_d.sql"]);
    /// assert_eq!(d.out_of_order, ["2_b.sql"]);
    /// assert_eq!(d.changed[0].name, "1_a.sql");
    /// assert!(d.rewrites_history());
    /// ```
    pub fn between(base: &Manifest, head: &Manifest) -> VersionDiff {
        let (b, h) = (by_name(base), by_name(head));
        let last_base = b.last().map(|f| f.name.as_str());
        let mut d = VersionDiff { sum_changed: base.sum != head.sum, ..VersionDiff::default() };
        let (mut i, mut j) = (0, 0);
        while i < b.len() || j < h.len() {
            let order = match (b.get(i), h.get(j)) {
                (Some(x), Some(y)) => x.name.cmp(&y.name),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    d.removed.push(b[i].name.clone());
                    i += 1;
                }
                Ordering::Greater => {
                    let name = &h[j].name;
                    if last_base.is_some_and(|l| name.as_str() < l) {
                        d.out_of_order.push(name.clone());
                    }
                    d.added.push(name.clone());
                    j += 1;
                }
                Ordering::Equal => {
                    if b[i].digest == h[j].digest {
                        d.unchanged += 1;
                    } else {
                        d.changed.push(ChangedFile {
                            name: b[i].name.clone(),
                            base: b[i].digest.clone(),
                            head: h[j].digest.clone(),
                        });
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        d
    }

    /// Whether the head changes or removes a file of the base.
    pub fn rewrites_history(&self) -> bool {
        !self.changed.is_empty() || !self.removed.is_empty()
    }

    /// Whether the two versions have the same files and sum.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty() && !self.sum_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(files: &[(&str, u8)]) -> Manifest {
        Manifest {
            files: files
                .iter()
                .map(|(n, b)| ManifestFile { name: n.to_string(), digest: BlobDigest::of(&[*b]), size: 1 })
                .collect(),
            sum: files.iter().map(|(n, b)| format!("{n}{b}")).collect(),
        }
    }

    #[test]
    fn identical_versions_differ_in_nothing() {
        let a = m(&[("1_a.sql", 1), ("2_b.sql", 2)]);
        let d = VersionDiff::between(&a, &a);
        assert!(d.is_empty() && !d.rewrites_history());
        assert_eq!(d.unchanged, 2);
    }

    #[test]
    fn appended_files_are_added_in_order() {
        let d = VersionDiff::between(&m(&[("1_a.sql", 1)]), &m(&[("1_a.sql", 1), ("2_b.sql", 2), ("3_c.sql", 3)]));
        assert_eq!(d.added, ["2_b.sql", "3_c.sql"]);
        assert!(d.out_of_order.is_empty() && !d.rewrites_history() && d.sum_changed);
    }

    #[test]
    fn edits_and_removals_rewrite_history() {
        let base = m(&[("1_a.sql", 1), ("2_b.sql", 2), ("3_c.sql", 3)]);
        let d = VersionDiff::between(&base, &m(&[("1_a.sql", 1), ("3_c.sql", 7)]));
        assert_eq!(d.removed, ["2_b.sql"]);
        assert_eq!(d.changed.len(), 1);
        assert_eq!((d.changed[0].name.as_str(), &d.changed[0].base), ("3_c.sql", &BlobDigest::of(&[3])));
        assert!(d.rewrites_history());
        // A rename is a removal and an addition (below the base's last file).
        let d = VersionDiff::between(&base, &m(&[("1_a.sql", 1), ("2_bb.sql", 2), ("3_c.sql", 3)]));
        assert_eq!(
            (d.removed.as_slice(), d.added.as_slice()),
            (&["2_b.sql".to_string()][..], &["2_bb.sql".to_string()][..])
        );
        assert_eq!(d.out_of_order, ["2_bb.sql"]);
    }

    #[test]
    fn from_or_to_an_empty_directory() {
        let a = m(&[("1_a.sql", 1)]);
        let empty = m(&[]);
        assert_eq!(VersionDiff::between(&empty, &a).added, ["1_a.sql"]);
        assert!(VersionDiff::between(&empty, &a).out_of_order.is_empty());
        assert_eq!(VersionDiff::between(&a, &empty).removed, ["1_a.sql"]);
    }

    #[test]
    fn unsorted_manifests_are_compared_by_name() {
        let mut head = m(&[("2_b.sql", 2), ("1_a.sql", 1)]);
        head.sum = "x".into();
        let d = VersionDiff::between(&m(&[("1_a.sql", 1)]), &head);
        assert_eq!((d.added.as_slice(), d.unchanged), (&["2_b.sql".to_string()][..], 1));
    }
}
