//! The JavaScript `Registry` class: the core's registry client
//! (`strata::registry::client`) over the runtime's `fetch`.
//!
//! The transport is the global `fetch` (`super::fetch`).

use super::{parse_dialect, throw, to_js, Directory};
use crate::error::Error;
use crate::lex::Dialect;
use crate::registry::client::{Client, HttpRequest, HttpResponse, MemoryCache, Progress, Transport, TransportError};
use crate::registry::RegistryError;
use js_sys::{Array, Function, Reflect};
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const REGISTRY_TYPES: &str = r#"
/** Options for `new Registry`. */
export interface RegistryOptions {
  /** A token of the registry (`strata-server token create`), sent as `Authorization: Bearer`. */
  token?: string;
  /** Called before the first blob of a push or fetch (with the totals), then after each blob a push uploads and each batch of blobs a fetch downloads; for progress bars. */
  onProgress?: (progress: RegistryProgress) => void;
  /** Bytes of blobs kept in memory, so that fetching a tag again only downloads new files (default 256 MiB; 0 keeps none). */
  cacheSize?: number;
}

/** How far a push's uploads or a fetch's downloads are. */
export interface RegistryProgress {
  /** `upload` (push) or `download` (fetch). */
  phase: "upload" | "download";
  /** The directory. */
  name: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** Options for `Registry.fetch`. */
export interface FetchOptions {
  /** The dialect the fetched `Directory` splits statements with (default `generic`). */
  dialect?: Dialect;
}

/** A file of a version. */
export interface ManifestFile {
  name: string;
  /** `sha256:…` of its bytes. */
  digest: string;
  size: number;
}

/** A pushed directory version: its files and its `atlas.sum`. */
export interface Manifest {
  files: ManifestFile[];
  sum: string;
}

/** A number of blobs and their bytes. */
export interface Transfer {
  files: number;
  bytes: number;
}

/** What `Registry.fetch` returns: a verified directory and its version. */
export interface Fetched {
  /** Every file checked against the manifest and the manifest's `atlas.sum`. */
  directory: Directory;
  /** The version's digest, `sha256:…`. */
  version: string;
  manifest: Manifest;
  /** The manifest was not downloaded: the tag had not moved since this `Registry` last fetched it. */
  notModified: boolean;
  /** Blobs downloaded (the others came from the cache). */
  downloaded: Transfer;
}

/** A tag moved by a push. */
export interface TagMove {
  name: string;
  version: string;
  /** The version it pointed to before, `null` if it is new. */
  previous: string | null;
}

/** What `Registry.push` returns. */
export interface Pushed {
  /** The version's digest, `sha256:…`. */
  version: string;
  /** `false` when the registry had the version already. */
  created: boolean;
  files: number;
  size: number;
  /** Blobs uploaded (the registry had the others). */
  uploaded: Transfer;
  /** `latest` first, then the tags asked for. */
  tags: TagMove[];
}

/** A tag of a directory. */
export interface TagInfo {
  name: string;
  version: string;
  /** When it last moved (RFC 3339, UTC). */
  updated: string | null;
  /** The id of the token that moved it. */
  updatedBy: string | null;
  /** That token's name (`token create --name`), `null` if the registry knows none. */
  updatedByName: string | null;
}

/** A recorded deployment and its report (`Registry.deployment`). */
export interface Deployment {
  id: string;
  dir: string;
  target: string;
  version: string | null;
  status: "succeeded" | "failed" | "dry-run" | "planned" | "checked";
  planDigest: string | null;
  /** RFC 3339, UTC. */
  started: string | null;
  finished: string | null;
  created: string;
  /** The id of the token that recorded it. */
  createdBy: string;
  /** That token's name (`token create --name`), `null` if the registry knows none. */
  createdByName: string | null;
  error: string | null;
  /** The report document (`renderReport` / `renderReportHtml` render it). */
  report: ReportDocument;
}

/** What a `Registry` has sent and received (bodies only). */
export interface RegistryStats {
  requests: number;
  /** Requests answered `304 Not Modified`. */
  notModified: number;
  bytesSent: number;
  bytesReceived: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RegistryOptions")]
    pub type RegistryOptionsArg;
    #[wasm_bindgen(typescript_type = "FetchOptions")]
    pub type FetchOptionsArg;
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type TagNames;
    #[wasm_bindgen(typescript_type = "RegistryStats")]
    pub type RegistryStats;
}

/// The transport: the global `fetch`.
pub(super) struct Fetch;

impl Transport for Fetch {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = gloo_net::http::Response::from(super::fetch::send(&request).await?);
        let status = response.status();
        let headers = response.headers().entries().collect();
        let body = response.binary().await.map_err(super::fetch::failed)?;
        Ok(HttpResponse { status, headers, body })
    }
}

/// A registry error as a thrown `StrataError` (its code is the registry's
/// string, which the core's `Error` cannot hold).
fn throw_registry(e: RegistryError) -> JsValue {
    let err = throw(Error {
        code: "registry",
        message: e.message,
        file: e.file,
        line: None,
        column: None,
        detail: None,
        hint: e.hint,
    });
    let _ = Reflect::set(&err, &"code".into(), &e.code.into());
    err
}

fn invalid(message: String, hint: &str) -> JsValue {
    throw_registry(RegistryError::new("invalid-options", message, None, hint))
}

/// A strata registry (docs/protocol.md): fetch verified directory
/// versions by tag or digest, list tags, push directories.
///
/// ```js
/// const registry = new Registry("https://registry.example.com", { token });
/// const { directory, version } = await registry.fetch("app", "latest", { dialect: "postgres" });
/// const preview = plan(directory, revisions);
/// ```
#[wasm_bindgen]
pub struct Registry {
    client: Rc<Client<Fetch, MemoryCache>>,
    on_progress: Option<Function>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressJs<'a> {
    phase: &'a str,
    name: &'a str,
    #[serde(flatten)]
    progress: Progress,
}

/// Calls `onProgress`; its exceptions are ignored (a progress bar must
/// not stop a transfer).
fn reporter<'a>(f: &'a Option<Function>, phase: &'a str, name: &'a str) -> impl FnMut(Progress) + 'a {
    move |progress| {
        if let Some(f) = f {
            let _ = f.call1(&JsValue::NULL, &to_js(&ProgressJs { phase, name, progress }));
        }
    }
}

fn string_field(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = Reflect::get(options, &key.into()).unwrap_or_default();
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| invalid(format!("`{key}` must be a string"), "see RegistryOptions"))
}

#[wasm_bindgen]
impl Registry {
    /// A client of the registry at `url` (its base URL, e.g.
    /// `http://127.0.0.1:8080`). Throws a `StrataError` for a URL that is
    /// not http(s) or a token that cannot be sent in a header.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: Option<RegistryOptionsArg>) -> Result<Registry, JsValue> {
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let (mut token, mut on_progress, mut cache) = (None, None, MemoryCache::default());
        if !options.is_undefined() && !options.is_null() {
            if !options.is_object() {
                return Err(invalid("registry options must be an object".into(), "see RegistryOptions"));
            }
            super::refuse_unknown_keys(
                &options,
                &to_js(&KnownOptions::default()),
                "registry option",
                "invalid-options",
            )?;
            token = string_field(&options, "token")?;
            let f = Reflect::get(&options, &"onProgress".into()).unwrap_or_default();
            if !f.is_undefined() && !f.is_null() {
                on_progress =
                    Some(f.dyn_into::<Function>().map_err(|_| {
                        invalid("`onProgress` must be a function".into(), "pass (progress) => { ... }")
                    })?);
            }
            let size = Reflect::get(&options, &"cacheSize".into()).unwrap_or_default();
            if !size.is_undefined() && !size.is_null() {
                match size.as_f64() {
                    Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9.0e15 => cache = MemoryCache::new(n as u64),
                    _ => {
                        return Err(invalid(
                            "`cacheSize` must be a whole number of bytes".into(),
                            "see RegistryOptions",
                        ))
                    }
                }
            }
        }
        let mut client = Client::new(url, Fetch).map_err(throw_registry)?.with_cache(cache);
        if let Some(t) = token {
            client = client.with_token(t).map_err(throw_registry)?;
        }
        Ok(Registry { client: Rc::new(client), on_progress })
    }

    /// The registry's base URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.base_url().into()
    }

    /// Requests and body bytes sent and received so far.
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> RegistryStats {
        to_js(&self.client.stats()).unchecked_into()
    }

    /// Fetches version `reference` (a tag, default `latest`, or a version
    /// digest `sha256:…`) of directory `name`, verifies every byte and
    /// resolves to the `Directory` and its version. Fetching a tag again
    /// costs one request when it has not moved, and downloads only the new
    /// files when it has. Rejects with a `StrataError` naming the file
    /// whose bytes differ, or with the registry's error (`tag-not-found`,
    /// `unauthorized`...).
    #[wasm_bindgen(unchecked_return_type = "Promise<Fetched>")]
    pub fn fetch(&self, name: String, reference: Option<String>, options: Option<FetchOptionsArg>) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        let on_progress = self.on_progress.clone();
        let options: Option<JsValue> = options.map(Into::into);
        wasm_bindgen_futures::future_to_promise(async move {
            let dialect = match options.filter(|o| !o.is_undefined() && !o.is_null()) {
                None => Dialect::Generic,
                Some(o) => {
                    super::refuse_unknown_keys(&o, &to_js(&FetchKeys::default()), "fetch option", "invalid-options")?;
                    let d = Reflect::get(&o, &"dialect".into()).unwrap_or_default();
                    if d.is_undefined() {
                        Dialect::Generic
                    } else {
                        parse_dialect(&d)?
                    }
                }
            };
            let reference = reference.unwrap_or_else(|| crate::registry::client::LATEST.into());
            let f = client
                .fetch(&name, &reference, dialect, reporter(&on_progress, "download", &name))
                .await
                .map_err(throw_registry)?;
            let out = js_sys::Object::new();
            let set = |k: &str, v: JsValue| {
                let _ = Reflect::set(&out, &k.into(), &v);
            };
            set("directory", Directory { inner: Rc::new(f.directory) }.into());
            set("version", f.version.as_str().into());
            set("manifest", to_js(&f.manifest));
            set("notModified", f.not_modified.into());
            set("downloaded", to_js(&f.downloaded));
            Ok(out.into())
        })
    }

    /// Keeps the files of `directory` in the blob cache, so that a fetch of
    /// a version sharing them downloads only the others (a pull into a
    /// folder that holds an earlier version).
    pub fn remember(&self, directory: &Directory) {
        self.client.remember(&directory.inner);
    }

    /// The tags of directory `name`, by name.
    #[wasm_bindgen(unchecked_return_type = "Promise<TagInfo[]>")]
    pub fn tags(&self, name: String) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        wasm_bindgen_futures::future_to_promise(async move {
            let tags = client.tags(&name).await.map_err(throw_registry)?;
            Ok(to_js(&tags))
        })
    }

    /// Deployment `id` (`dep_…`) with its report document. Rejects with
    /// the registry's error (`deployment-not-found`, `forbidden`...).
    #[wasm_bindgen(unchecked_return_type = "Promise<Deployment>")]
    pub fn deployment(&self, id: String) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        wasm_bindgen_futures::future_to_promise(async move {
            let d = client.deployment(&id).await.map_err(throw_registry)?;
            Ok(to_js(&d))
        })
    }

    /// Pushes `dir` as a version of directory `name`: uploads only the
    /// files the registry lacks, creates the version, moves `latest` and
    /// each of `tags` to it. Rejects before sending anything when the
    /// directory's `atlas.sum` does not match its files.
    #[wasm_bindgen(unchecked_return_type = "Promise<Pushed>")]
    pub fn push(&self, dir: &Directory, name: String, tags: Option<TagNames>) -> js_sys::Promise {
        let client = Rc::clone(&self.client);
        let on_progress = self.on_progress.clone();
        let directory = Rc::clone(&dir.inner);
        let tags: JsValue = tags.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        wasm_bindgen_futures::future_to_promise(async move {
            let mut names = Vec::new();
            if !tags.is_undefined() && !tags.is_null() {
                let bad =
                    || invalid("`tags` must be an array of tag names".into(), "pass ['v1.4', 'abc123'] or nothing");
                if !Array::is_array(&tags) {
                    return Err(bad());
                }
                for t in Array::from(&tags).iter() {
                    names.push(t.as_string().ok_or_else(bad)?);
                }
            }
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let pushed = client
                .push(&directory, &name, &names, reporter(&on_progress, "upload", &name))
                .await
                .map_err(throw_registry)?;
            Ok(to_js(&pushed))
        })
    }
}

/// The keys `RegistryOptions` may have (for refusing misspelt ones).
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct KnownOptions {
    token: bool,
    on_progress: bool,
    cache_size: bool,
}

/// The keys `FetchOptions` may have.
#[derive(Default, Serialize)]
struct FetchKeys {
    dialect: bool,
}
