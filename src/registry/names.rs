//! Names in the registry: directories, tags and targets.

use super::RegistryError;

/// The longest directory, tag or target name.
pub const MAX_NAME_LEN: usize = 128;

/// What a name is for, in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A directory (`/v1/dirs/{name}`).
    Directory,
    /// A tag (`/v1/dirs/{dir}/tags/{name}`).
    Tag,
    /// A deployment target.
    Target,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Directory => "directory",
            NameKind::Tag => "tag",
            NameKind::Target => "target",
        }
    }
}

/// Checks a directory, tag or target name: 1 to [`MAX_NAME_LEN`] ASCII
/// letters, digits, `.`, `_` and `-`, starting with a letter or a digit.
/// So a name is always one URL path segment, never `..`, never holds a
/// `/`, a NUL or a `:` (which would be confused with a digest).
pub fn check_name(kind: NameKind, name: &str) -> Result<(), RegistryError> {
    let why = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!("it is {} bytes long, over the limit of {MAX_NAME_LEN}", name.len()))
    } else if name.contains('/') {
        Some("it contains '/'".to_string())
    } else if name.contains("..") {
        Some("it contains '..'".to_string())
    } else if name.contains('\0') {
        Some("it contains a NUL byte".to_string())
    } else if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        Some(format!("it contains {c:?}"))
    } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
        Some("it does not start with a letter or a digit".to_string())
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(RegistryError::new(
            "invalid-name",
            format!("{:?} is not a valid {} name: {why}", name, kind.noun()),
            None,
            "use 1 to 128 ASCII letters, digits, '.', '_' and '-', starting with a letter or a digit",
        )),
    }
}
