//! Bearer tokens: who calls, and whether they may.
//!
//! A token lookup is cached for [`TOKEN_CACHE_TTL`] keyed by the SHA-256
//! of the secret, so a busy client costs one storage query per interval,
//! not one per request. A revoked token therefore keeps working for at
//! most that long on a server that saw it just before (docs/protocol.md).

use super::error::ApiError;
use crate::store::{Scope, Store, TokenInfo};
use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strata::registry::{check_name, NameKind};

/// How long a token lookup is trusted.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(2);

/// At most this many cached tokens (the cache is emptied beyond).
const TOKEN_CACHE_MAX: usize = 10_000;

/// Who is calling.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The live token, or `None` for an anonymous reader.
    pub token: Option<Arc<TokenInfo>>,
}

impl Caller {
    /// The token id (`anonymous` without a token), recorded as `by`.
    pub fn id(&self) -> &str {
        self.token.as_ref().map_or("anonymous", |t| t.id.as_str())
    }

    /// The directories the caller is limited to (`None`: all).
    pub fn dirs(&self) -> Option<&[String]> {
        match &self.token {
            Some(t) if !t.dirs.is_empty() => Some(&t.dirs),
            _ => None,
        }
    }

    /// Whether the caller may touch `dir`.
    pub fn may_access(&self, dir: &str) -> bool {
        self.dirs().is_none_or(|d| d.iter().any(|x| x == dir))
    }

    /// A 403 unless the caller may touch `dir`.
    pub fn check_dir(&self, dir: &str) -> Result<(), ApiError> {
        if self.may_access(dir) {
            return Ok(());
        }
        let dirs = self.dirs().unwrap_or_default().join(", ");
        Err(ApiError::forbidden(
            format!("token {} is limited to the directories {dirs}, not {dir:?}", self.id()),
            "use a token created for this directory (`strata-server token create --dir NAME`)",
        ))
    }

    /// The hook targets the caller is limited to (`None`: all).
    pub fn targets(&self) -> Option<&[String]> {
        match &self.token {
            Some(t) if !t.targets.is_empty() => Some(&t.targets),
            _ => None,
        }
    }

    /// Whether the caller may use hook target `target`.
    pub fn may_use_target(&self, target: &str) -> bool {
        self.targets().is_none_or(|t| t.iter().any(|x| x == target))
    }

    /// A 403 unless the caller may use hook target `target`.
    pub fn check_target(&self, target: &str) -> Result<(), ApiError> {
        if self.may_use_target(target) {
            return Ok(());
        }
        let targets = self.targets().unwrap_or_default().join(", ");
        Err(ApiError::forbidden(
            format!("token {} is limited to the targets {targets}, not {target:?}", self.id()),
            "use a token created for this target (`strata-server token create --target NAME`)",
        ))
    }
}

/// A token and when it was looked up.
type Cached = (Instant, Arc<TokenInfo>);

/// Recent token lookups by SHA-256 of the secret.
#[derive(Default)]
pub struct TokenCache {
    map: Mutex<HashMap<[u8; 32], Cached>>,
}

impl TokenCache {
    /// The live token with `secret`, from the cache or the store.
    pub async fn lookup(&self, store: &Store, secret: &str) -> Result<Option<Arc<TokenInfo>>, ApiError> {
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let now = Instant::now();
        if let Some((at, t)) = self.map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if now.duration_since(*at) < TOKEN_CACHE_TTL {
                return Ok(Some(t.clone()));
            }
        }
        let found = store.token(secret).await?.map(Arc::new);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match &found {
            Some(t) => {
                if map.len() >= TOKEN_CACHE_MAX {
                    map.retain(|_, (at, _)| now.duration_since(*at) < TOKEN_CACHE_TTL);
                    if map.len() >= TOKEN_CACHE_MAX {
                        map.clear();
                    }
                }
                map.insert(key, (now, t.clone()));
            }
            None => {
                map.remove(&key);
            }
        }
        Ok(found)
    }
}

/// Authenticates the request and checks that it may use `scope` on `dir`
/// (when the endpoint names one): 401 without a live token (unless
/// `anonymous_read` allows a read), 403 for a missing scope or another
/// directory, 400 for an invalid directory name.
pub async fn authorize(
    cache: &TokenCache,
    store: &Store,
    anonymous_read: bool,
    headers: &HeaderMap,
    scope: Scope,
    dir: Option<&str>,
) -> Result<Caller, ApiError> {
    let caller = match headers.get(header::AUTHORIZATION) {
        None if anonymous_read && scope == Scope::Read => Caller { token: None },
        None => {
            return Err(ApiError::unauthorized(format!(
                "no token: this request needs a token with the {} scope",
                scope.as_str()
            )))
        }
        Some(v) => {
            let secret = v
                .to_str()
                .ok()
                .and_then(|s| {
                    let (scheme, rest) = s.split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
                })
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::unauthorized("the Authorization header is not `Bearer <token>`"))?;
            match cache.lookup(store, secret).await? {
                Some(t) => Caller { token: Some(t) },
                None => return Err(ApiError::unauthorized("the token is unknown or revoked")),
            }
        }
    };
    if let Some(t) = &caller.token {
        if !t.scopes.contains(&scope) {
            let has: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::forbidden(
                format!("token {} has the scopes [{}]; this request needs {}", t.id, has.join(", "), scope.as_str()),
                &format!("use a token created with `--scope {}`", scope.as_str()),
            ));
        }
    }
    if let Some(dir) = dir {
        check_name(NameKind::Directory, dir)?;
        caller.check_dir(dir)?;
    }
    Ok(caller)
}
