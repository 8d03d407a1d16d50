//! Registry content: blobs addressed by their SHA-256 and the manifest of a
//! pushed directory version.
//!
//! A pushed version is a [`Manifest`]: every migration file's name, blob
//! digest and size, and the text of its `atlas.sum`. Blobs are the files'
//! bytes, stored once and addressed by [`BlobDigest`] (`sha256:<hex>`).
//! A version is identified by [`Manifest::digest`], so pushing the same
//! directory twice gives the same version.
//!
//! The rules live here once, for the server and for every client:
//! * [`Manifest::check`]: what the server accepts (valid names, sorted and
//!   unique, sizes within [`Limits`], a well-formed digest for each file);
//! * [`Manifest::assemble`]: what a client (or the server) does with the
//!   blobs: check each one against its digest and size, build the
//!   [`Directory`] and verify it against the manifest's `atlas.sum`, naming
//!   the file that differs. A tampered byte never reaches a plan.
//!
//! The protocol around them (HTTP paths, auth, tags) is the server's and
//! is documented in `docs/protocol.md` once the server exists.

pub mod client;
mod deploy;
mod diff;
mod names;

pub use client::Client;
pub use deploy::{DeploymentStatus, DeploymentSummary};
pub use diff::{ChangedFile, VersionDiff};
pub use names::{check_name, NameKind, MAX_NAME_LEN};

use crate::dir::{check_entry_name, DirOptions, Directory};
use crate::sum::{sha256_hex, SUM_FILE_NAME};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The address of a blob: `sha256:` and 64 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobDigest(String);

impl BlobDigest {
    /// The address of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobDigest {
        BlobDigest(format!("sha256:{}", sha256_hex(bytes)))
    }

    /// Parses `sha256:<64 lower-case hex>`.
    pub fn parse(s: &str) -> Result<BlobDigest, RegistryError> {
        match s.strip_prefix("sha256:") {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
                Ok(BlobDigest(s.to_string()))
            }
            _ => Err(RegistryError::new(
                "invalid-digest",
                format!("{s:?} is not a blob digest"),
                None,
                "a digest is sha256: followed by 64 lower-case hex digits",
            )),
        }
    }

    /// The text form, `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }
}

impl fmt::Display for BlobDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobDigest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        BlobDigest::parse(&s).map_err(|e| e.message)
    }
}

impl From<BlobDigest> for String {
    fn from(d: BlobDigest) -> String {
        d.0
    }
}

/// A file of a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestFile {
    /// The file name (a migration file, `*.sql`).
    pub name: String,
    /// The blob holding its bytes.
    pub digest: BlobDigest,
    /// Its size in bytes.
    pub size: u64,
}

/// A pushed directory version: its files and its `atlas.sum`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// The migration files, ordered bytewise by name.
    pub files: Vec<ManifestFile>,
    /// The text of the directory's `atlas.sum`.
    pub sum: String,
}

/// What a registry accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// The largest blob, in bytes.
    pub max_blob_size: u64,
    /// The most files in one version.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_blob_size: crate::dir::DEFAULT_MAX_FILE_SIZE, max_files: 100_000 }
    }
}

/// Why a manifest or a blob was refused. `code` is stable; `file` names
/// the file concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryError {
    /// A stable identifier (`invalid-file-name`, `digest-mismatch`, ...).
    pub code: String,
    /// What happened.
    pub message: String,
    /// The file concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// What to do about it.
    pub hint: String,
}

impl RegistryError {
    /// An error with its code, message, file and hint.
    pub fn new(code: &str, message: String, file: Option<&str>, hint: &str) -> RegistryError {
        RegistryError { code: code.into(), message, file: file.map(str::to_string), hint: hint.into() }
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegistryError {}

impl Manifest {
    /// The manifest of `dir`: its files' digests and sizes, and its
    /// `atlas.sum` (the one it carries, or the computed one if it has none).
    pub fn of(dir: &Directory) -> Manifest {
        Manifest {
            files: dir
                .files()
                .iter()
                .map(|f| ManifestFile {
                    name: f.name().to_string(),
                    digest: BlobDigest::of(f.bytes()),
                    size: f.bytes().len() as u64,
                })
                .collect(),
            sum: match dir.sum_file() {
                Some(b) => String::from_utf8_lossy(b).into_owned(),
                None => dir.computed_sum().render(),
            },
        }
    }

    /// The version's identity: `sha256:` and the hex SHA-256 of the
    /// manifest's canonical bytes (for each file its name, digest and size,
    /// then the sum, each as a decimal length, `:` and the value).
    pub fn digest(&self) -> BlobDigest {
        let mut b = Vec::with_capacity(64 + self.sum.len() + self.files.len() * 120);
        let mut field = |v: &[u8]| {
            b.extend_from_slice(v.len().to_string().as_bytes());
            b.push(b':');
            b.extend_from_slice(v);
        };
        field(b"strata-manifest-v1");
        field(self.files.len().to_string().as_bytes());
        for f in &self.files {
            field(f.name.as_bytes());
            field(f.digest.as_str().as_bytes());
            field(f.size.to_string().as_bytes());
        }
        field(self.sum.as_bytes());
        BlobDigest::of(&b)
    }

    /// Checks what a registry accepts before it looks at any blob: at most
    /// `limits.max_files` files, each a valid migration file name, in
    /// bytewise order without duplicates, no larger than
    /// `limits.max_blob_size`.
    pub fn check(&self, limits: &Limits) -> Result<(), RegistryError> {
        if self.files.len() > limits.max_files {
            return Err(RegistryError::new(
                "too-many-files",
                format!("the version has {} files, over the limit of {}", self.files.len(), limits.max_files),
                None,
                "split the directory, or raise the registry's file limit",
            ));
        }
        for (i, f) in self.files.iter().enumerate() {
            if let Err(e) = check_entry_name(&f.name) {
                return Err(RegistryError::new("invalid-file-name", e.to_string(), Some(&f.name), &e.hint()));
            }
            if !crate::dir::is_migration_name(&f.name) || f.name == SUM_FILE_NAME {
                return Err(RegistryError::new(
                    "invalid-file-name",
                    format!("{:?} is not a migration file (*.sql)", f.name),
                    Some(&f.name),
                    "a version holds the directory's .sql files; atlas.sum goes in `sum`",
                ));
            }
            if i > 0 && self.files[i - 1].name.as_bytes() >= f.name.as_bytes() {
                return Err(RegistryError::new(
                    "unordered-files",
                    format!(
                        "{:?} is listed after {:?}: files must be unique and in bytewise order",
                        f.name,
                        self.files[i - 1].name
                    ),
                    Some(&f.name),
                    "list each file once, sorted by name",
                ));
            }
            if f.size > limits.max_blob_size {
                return Err(RegistryError::new(
                    "blob-too-large",
                    format!("the file is {} bytes, over the limit of {} bytes", f.size, limits.max_blob_size),
                    Some(&f.name),
                    "split the migration, or raise the registry's blob size limit",
                ));
            }
        }
        Ok(())
    }

    /// Builds the [`Directory`] from the blobs, checking everything: the
    /// manifest ([`Manifest::check`]), each blob against its digest and
    /// size (`blob` returns `None` for a missing one), and the directory
    /// against the manifest's `atlas.sum`. Errors name the file.
    ///
    /// `blob` hands over each file's bytes, which move into the
    /// directory: they are never held twice.
    pub fn assemble(
        &self,
        limits: &Limits,
        dialect: crate::lex::Dialect,
        mut blob: impl FnMut(&BlobDigest) -> Option<Vec<u8>>,
    ) -> Result<Directory, RegistryError> {
        self.check(limits)?;
        let mut entries = Vec::with_capacity(self.files.len() + 1);
        for f in &self.files {
            let Some(bytes) = blob(&f.digest) else {
                return Err(RegistryError::new(
                    "missing-blob",
                    format!("blob {} is missing", f.digest),
                    Some(&f.name),
                    "upload the file's blob before the manifest",
                ));
            };
            if bytes.len() as u64 != f.size || BlobDigest::of(&bytes) != f.digest {
                return Err(RegistryError::new(
                    "digest-mismatch",
                    format!(
                        "the bytes of {} do not match the manifest (digest {}, {} bytes)",
                        f.name, f.digest, f.size
                    ),
                    Some(&f.name),
                    "the stored blob is damaged or was replaced: push the directory again",
                ));
            }
            entries.push((f.name.clone(), bytes));
        }
        entries.push((SUM_FILE_NAME.to_string(), self.sum.clone().into_bytes()));
        let options = DirOptions { dialect, max_file_size: limits.max_blob_size };
        let dir = Directory::with_options(entries, options)
            .map_err(|e| RegistryError::new(e.code(), e.to_string(), Some(e.file()), &e.hint()))?;
        dir.verify(None).map_err(|e| {
            let file = match &e {
                crate::sum::SumError::Checksum(c) => c.file.clone(),
                _ => SUM_FILE_NAME.to_string(),
            };
            let mut message = e.to_string();
            if let Some(d) = e.detail() {
                message = format!("{message} ({d})");
            }
            RegistryError::new(e.code(), message, Some(&file), e.hint())
        })?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests;
