//! The viewer's URLs: one [`Route`] per view. Renderers build links with
//! [`Route::path`]; the page's router reads the location with
//! [`Route::parse`]. Both sides use this one table, so a link always
//! leads to the view it names.
//!
//! | path | view |
//! |---|---|
//! | `/` | directories |
//! | `/d/{dir}` | a directory: tags, versions |
//! | `/d/{dir}/tags/{tag}` | a tag's history |
//! | `/d/{dir}/diff/{base}/{head}` | what changed from one tag or version to another |
//! | `/d/{dir}/v/{ref}` | a version (tag or `sha256:…`); `?dialect=` splits its files |
//! | `/d/{dir}/v/{ref}/plan/{target}` | the plan of that version against a target |
//! | `/targets` | the hook's targets |
//! | `/targets/{target}` | a target's deployment history |
//! | `/deployments/{id}` | a deployment's report |
//! | `/local` | open a folder or a report from this computer |
//!
//! Every segment is percent-encoded, so a name can never add a segment,
//! a query or a scheme to a link.

use crate::lex::Dialect;
use std::fmt::Write;

/// A view of the viewer, with what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Every directory of the registry.
    Dirs,
    /// A directory: its tags and versions.
    Dir {
        /// The directory.
        dir: String,
    },
    /// The moves of one tag.
    TagHistory {
        /// The directory.
        dir: String,
        /// The tag.
        tag: String,
    },
    /// Files added, changed and removed from `base` to `head`.
    Diff {
        /// The directory.
        dir: String,
        /// A tag or version digest.
        base: String,
        /// A tag or version digest.
        head: String,
    },
    /// A version's files with their statements.
    Version {
        /// The directory.
        dir: String,
        /// A tag or version digest.
        reference: String,
        /// How to split the files (the viewer's default when `None`).
        dialect: Option<Dialect>,
    },
    /// The plan of a version against a target of the hook.
    Plan {
        /// The directory.
        dir: String,
        /// A tag or version digest.
        reference: String,
        /// The hook's target.
        target: String,
    },
    /// The hook's targets.
    Targets,
    /// A target's deployments, newest first.
    History {
        /// The target.
        target: String,
    },
    /// One deployment's report.
    Deployment {
        /// Its id (`dep_…`).
        id: String,
    },
    /// Open a migration folder or a report file locally.
    Local,
    /// A path no view has.
    NotFound {
        /// The path as given.
        path: String,
    },
}

/// `s` percent-encoded for one path segment or query value: everything
/// but `A-Z a-z 0-9 - . _ ~ :` is `%XX`.
///
/// ```
/// assert_eq!(strata::view::encode_segment("a/b?<x>"), "a%2Fb%3F%3Cx%3E");
/// ```
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The text of a percent-encoded segment, `None` if it is not valid
/// UTF-8 once decoded or has a malformed escape.
fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Route {
    /// The route's path (with its query, if any), to use as a link's
    /// `href` on the viewer's origin.
    ///
    /// ```
    /// use strata::view::Route;
    /// let r = Route::Plan { dir: "app".into(), reference: "v1".into(), target: "prod db".into() };
    /// assert_eq!(r.path(), "/d/app/v/v1/plan/prod%20db");
    /// assert_eq!(Route::parse(&r.path()), r);
    /// ```
    pub fn path(&self) -> String {
        let e = encode_segment;
        match self {
            Route::Dirs => "/".into(),
            Route::Dir { dir } => format!("/d/{}", e(dir)),
            Route::TagHistory { dir, tag } => format!("/d/{}/tags/{}", e(dir), e(tag)),
            Route::Diff { dir, base, head } => format!("/d/{}/diff/{}/{}", e(dir), e(base), e(head)),
            Route::Version { dir, reference, dialect } => {
                let mut p = format!("/d/{}/v/{}", e(dir), e(reference));
                if let Some(d) = dialect {
                    let _ = write!(p, "?dialect={}", d.name());
                }
                p
            }
            Route::Plan { dir, reference, target } => {
                format!("/d/{}/v/{}/plan/{}", e(dir), e(reference), e(target))
            }
            Route::Targets => "/targets".into(),
            Route::History { target } => format!("/targets/{}", e(target)),
            Route::Deployment { id } => format!("/deployments/{}", e(id)),
            Route::Local => "/local".into(),
            Route::NotFound { path } => path.clone(),
        }
    }

    /// The route of a location's path and query (`location.pathname +
    /// location.search`). A trailing slash is ignored; anything that is
    /// not a view's path is [`Route::NotFound`].
    pub fn parse(location: &str) -> Route {
        let not_found = || Route::NotFound { path: location.to_string() };
        let (path, query) = location.split_once('?').unwrap_or((location, ""));
        let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
        let Some(rest) = path.strip_prefix('/') else { return not_found() };
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for raw in rest.split('/') {
                match decode_segment(raw) {
                    Some(s) if !s.is_empty() => segments.push(s),
                    _ => return not_found(),
                }
            }
        }
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let o = |x: &str| x.to_string();
        match s.as_slice() {
            [] => Route::Dirs,
            ["d", dir] => Route::Dir { dir: o(dir) },
            ["d", dir, "tags", tag] => Route::TagHistory { dir: o(dir), tag: o(tag) },
            ["d", dir, "diff", base, head] => Route::Diff { dir: o(dir), base: o(base), head: o(head) },
            ["d", dir, "v", reference] => {
                let dialect = query
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("dialect="))
                    .find_map(|v| decode_segment(v).and_then(|v| Dialect::parse(&v)));
                Route::Version { dir: o(dir), reference: o(reference), dialect }
            }
            ["d", dir, "v", reference, "plan", target] => {
                Route::Plan { dir: o(dir), reference: o(reference), target: o(target) }
            }
            ["targets"] => Route::Targets,
            ["targets", target] => Route::History { target: o(target) },
            ["deployments", id] => Route::Deployment { id: o(id) },
            ["local"] => Route::Local,
            _ => not_found(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_route(name: &str) -> Vec<Route> {
        let n = || name.to_string();
        vec![
            Route::Dirs,
            Route::Dir { dir: n() },
            Route::TagHistory { dir: n(), tag: n() },
            Route::Diff { dir: n(), base: n(), head: n() },
            Route::Version { dir: n(), reference: n(), dialect: None },
            Route::Version { dir: n(), reference: n(), dialect: Some(Dialect::Sqlite) },
            Route::Plan { dir: n(), reference: n(), target: n() },
            Route::Targets,
            Route::History { target: n() },
            Route::Deployment { id: n() },
            Route::Local,
        ]
    }

    #[test]
    fn every_route_round_trips_through_its_path_whatever_the_names() {
        for name in ["app", "sha256:0123abcd", "a b/c?d#e&f=g%h", "javascript:alert(1)", "\"><img src=x>", "ünï"] {
            for r in every_route(name) {
                let p = r.path();
                assert!(p.starts_with('/'), "{p}");
                assert!(!p.contains(['<', '>', '"', '\'', ' ', '#']), "{p} must not need escaping");
                assert_eq!(Route::parse(&p), r, "{p}");
            }
        }
    }

    #[test]
    fn a_name_cannot_become_a_scheme_or_another_host() {
        let r = Route::Dir { dir: "//evil.example/x".into() };
        assert_eq!(r.path(), "/d/%2F%2Fevil.example%2Fx");
        let r = Route::Deployment { id: "javascript:alert(1)".into() };
        assert!(r.path().starts_with("/deployments/"));
    }

    #[test]
    fn unknown_or_malformed_paths_are_not_found() {
        for p in ["", "d", "/d", "/d/app/x", "/d/%zz", "/d/%FF", "/d//v", "/targets/a/b", "/deployments"] {
            assert_eq!(Route::parse(p), Route::NotFound { path: p.into() }, "{p}");
        }
        assert_eq!(Route::parse("/d/app/"), Route::Dir { dir: "app".into() });
        assert_eq!(
            Route::parse("/d/app/v/v1?x=1&dialect=pg"),
            Route::Version { dir: "app".into(), reference: "v1".into(), dialect: Some(Dialect::Postgres) }
        );
    }
}
