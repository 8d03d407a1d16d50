use super::*;
use crate::lex::Dialect;
use std::collections::HashMap;

fn dir(files: &[(&str, &str)]) -> Directory {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let sum = crate::sum::SumFile::compute(sorted.iter().map(|(n, c)| (*n, c.as_bytes()))).render();
    Directory::new(
        files
            .iter()
            .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
            .chain([("atlas.sum".into(), sum.into_bytes())]),
    )
    .unwrap()
}

fn store(d: &Directory) -> HashMap<BlobDigest, Vec<u8>> {
    d.files().iter().map(|f| (BlobDigest::of(f.bytes()), f.bytes().to_vec())).collect()
}

const FILES: [(&str, &str); 2] = [("1_a.sql", "CREATE TABLE a (id int);\n"), ("2_b.sql", "CREATE TABLE b (id int);\n")];

#[test]
fn blob_digests_are_sha256_addresses() {
    let d = BlobDigest::of(b"abc");
    assert_eq!(d.as_str(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(d.hex().len(), 64);
    assert_eq!(BlobDigest::parse(d.as_str()).unwrap(), d);
    for bad in ["", "sha256:", "sha1:abc", &d.as_str().to_uppercase(), &format!("{d}0"), &d.as_str()[..70]] {
        assert_eq!(BlobDigest::parse(bad).unwrap_err().code, "invalid-digest", "{bad}");
    }
}

#[test]
fn a_directory_round_trips_through_its_manifest_and_blobs() {
    let d = dir(&FILES);
    let m = Manifest::of(&d);
    assert_eq!(m.files.len(), 2);
    assert_eq!(m.files[1].size, FILES[1].1.len() as u64);
    assert_eq!(m.sum.as_bytes(), d.sum_file().unwrap());
    let blobs = store(&d);
    let back = m.assemble(&Limits::default(), Dialect::Generic, |k| blobs.get(k).cloned()).unwrap();
    assert_eq!(back, d);
    // The same directory is the same version.
    assert_eq!(Manifest::of(&dir(&FILES)).digest(), m.digest());
}

#[test]
fn the_version_digest_covers_names_bytes_and_sum() {
    let m = Manifest::of(&dir(&FILES));
    let base = m.digest();
    let mut renamed = m.clone();
    renamed.files[0].name = "1_c.sql".into();
    let edited = Manifest::of(&dir(&[FILES[0], ("2_b.sql", "CREATE TABLE b (id bigint);\n")]));
    let mut resummed = m.clone();
    resummed.sum.push('\n');
    let mut resized = m.clone();
    resized.files[0].size += 1;
    for other in [renamed, edited, resummed, resized] {
        assert_ne!(other.digest(), base);
    }
}

#[test]
fn bad_manifests_are_refused_with_the_file() {
    let m = Manifest::of(&dir(&FILES));
    let limits = Limits::default();
    let with = |f: &dyn Fn(&mut Manifest)| {
        let mut x = m.clone();
        f(&mut x);
        x.check(&limits).unwrap_err()
    };
    for name in ["../1_a.sql", "x/1_a.sql", "1_a\0.sql", "README.md", "atlas.sum", " 1_a.sql", "1_h1:x.sql"] {
        let e = with(&|x| x.files[0].name = name.into());
        assert_eq!((e.code.as_str(), e.file.as_deref()), ("invalid-file-name", Some(name)), "{name}");
    }
    let e = with(&|x| x.files.swap(0, 1));
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("unordered-files", Some("1_a.sql")));
    let e = with(&|x| x.files[1] = x.files[0].clone());
    assert_eq!(e.code, "unordered-files");
    let e = m.check(&Limits { max_files: 1, ..limits }).unwrap_err();
    assert_eq!(e.code, "too-many-files");
    let e = m.check(&Limits { max_blob_size: 10, ..limits }).unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("blob-too-large", Some("1_a.sql")));
}

#[test]
fn assembling_refuses_missing_tampered_and_unsummed_content() {
    let d = dir(&FILES);
    let m = Manifest::of(&d);
    let mut blobs = store(&d);
    let limits = Limits::default();
    let get = |b: &HashMap<BlobDigest, Vec<u8>>| m.assemble(&limits, Dialect::Generic, |k| b.get(k).cloned());
    let second = m.files[1].digest.clone();
    let e = get(&{
        let mut b = blobs.clone();
        b.remove(&second);
        b
    })
    .unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("missing-blob", Some("2_b.sql")));
    // A stored blob whose bytes changed is never returned.
    blobs.get_mut(&second).unwrap()[0] = b'X';
    let e = get(&blobs).unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("digest-mismatch", Some("2_b.sql")));
    // Blobs that match a manifest whose sum does not.
    let other = dir(&[FILES[0], ("2_b.sql", "SELECT 1;\n")]);
    let mut lying = Manifest::of(&other);
    lying.sum = m.sum.clone();
    let blobs = store(&other);
    let e = lying.assemble(&limits, Dialect::Generic, |k| blobs.get(k).cloned()).unwrap_err();
    assert_eq!((e.code.as_str(), e.file.as_deref()), ("checksum-mismatch", Some("2_b.sql")));
    assert!(e.message.contains("L3: 2_b.sql was edited"), "{}", e.message);
}

#[cfg(not(target_arch = "wasm32"))] // serde_json is a native dev-dependency
#[test]
fn manifests_in_json_are_strict() {
    let m = Manifest::of(&dir(&FILES));
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.starts_with(r#"{"files":[{"name":"1_a.sql","digest":"sha256:"#), "{json}");
    assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), m);
    let bad_digest = json.replacen("sha256:", "sha256:zz", 1);
    assert!(serde_json::from_str::<Manifest>(&bad_digest).is_err());
    let extra = json.replacen(r#"{"files""#, r#"{"x":1,"files""#, 1);
    assert!(serde_json::from_str::<Manifest>(&extra).is_err());
}

#[test]
fn names_are_one_safe_path_segment() {
    for good in ["app", "App-1", "v1.2.3", "a_b", "0", &"x".repeat(MAX_NAME_LEN)] {
        assert!(check_name(NameKind::Directory, good).is_ok(), "{good:?}");
    }
    for (bad, why) in [
        ("", "it is empty"),
        ("a/b", "'/'"),
        ("..", "'..'"),
        ("a..b", "'..'"),
        ("a\0b", "NUL"),
        ("sha256:ab", "':'"),
        (".hidden", "does not start with a letter or a digit"),
        ("-x", "does not start"),
        ("naïve", "'ï'"),
        ("a b", "' '"),
    ] {
        let e = check_name(NameKind::Tag, bad).unwrap_err();
        assert_eq!(e.code, "invalid-name");
        assert!(e.message.contains("tag name") && e.message.contains(why), "{bad:?}: {}", e.message);
    }
    let long = "x".repeat(MAX_NAME_LEN + 1);
    assert!(check_name(NameKind::Target, &long).unwrap_err().message.contains("over the limit of 128"));
}

#[test]
fn deployment_summaries_come_from_the_report() {
    use crate::report::{ApplyReport, Report, ReportBody};
    let mut apply = ApplyReport { digest: "plan-digest".into(), start: 10, end: Some(20), ..Default::default() };
    let s = DeploymentSummary::of(&Report::new(ReportBody::Apply(Box::new(apply.clone())))).unwrap();
    assert_eq!(
        (s.status, s.plan_digest.as_deref(), s.started, s.finished),
        (DeploymentStatus::Succeeded, Some("plan-digest"), Some(10), Some(20))
    );
    apply.dry_run = true;
    let s = DeploymentSummary::of(&Report::new(ReportBody::Apply(Box::new(apply.clone())))).unwrap();
    assert_eq!(s.status, DeploymentStatus::DryRun);
    apply.error = Some("boom".into());
    let s = DeploymentSummary::of(&Report::new(ReportBody::Apply(Box::new(apply)))).unwrap();
    assert_eq!((s.status, s.error.as_deref()), (DeploymentStatus::Failed, Some("boom")));

    let mut doc = Report::new(ReportBody::Apply(Box::default()));
    doc.format = "strata.report/v9".into();
    assert_eq!(DeploymentSummary::of(&doc).unwrap_err().code, "report-format");
    doc.format = crate::report::REPORT_FORMAT.into();
    doc.apply = None;
    assert_eq!(DeploymentSummary::of(&doc).unwrap_err().code, "invalid-report");

    for s in DeploymentStatus::ALL {
        assert_eq!(DeploymentStatus::parse(s.as_str()).unwrap(), s);
    }
    assert_eq!(DeploymentStatus::parse("ok").unwrap_err().code, "invalid-status");
}
