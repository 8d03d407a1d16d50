//! Lint findings in the viewer, from the second wasm module.
//!
//! The analyzers (sqlparser) are in `lint/strata_lint_bg.wasm`, which the
//! first view must not pay for. The page passes a loader
//! (`mountViewer(main, {loadLint})`, a function resolving to the lint
//! module's exports once instantiated); the viewer calls it the first time
//! a view shows findings, keeps its promise for the page's lifetime (one
//! fetch per page load), and calls the module's `lint(dir, options)` (its `result`) with
//! plain `{files: [{name, bytes}], dialect}` built from the directory the
//! view already fetched and verified. The result's JSON is read by the
//! view ([`LintFindings::from_json`]) and rendered by it
//! ([`view::lint_body`]): no HTML is built here.
//!
//! Performance measures: `strata:lint:load` (the module's fetch and
//! instantiation, or the wait for it), `strata:lint:run` (the call to
//! `lint` and reading its result) and `strata:lint` (the whole section,
//! including fetching the head version on a diff).

use super::{registry_failure, App, Failure};
use crate::dir::Directory;
use crate::lex::Dialect;
use crate::view::{self, LintFindings, LintState};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What a view asks to lint once it is shown.
pub(super) enum LintJob {
    /// Every file of a fetched version (earlier files are the schema the
    /// later ones change).
    Version {
        /// The verified directory.
        directory: Directory,
        /// How its files are split.
        dialect: Dialect,
    },
    /// The files added from a diff's base to its head, linted in the head's
    /// directory (what the pull request's preview says).
    Added {
        /// The registry directory.
        dir: String,
        /// The head's tag or digest.
        head: String,
        /// The added files' names.
        added: Vec<String>,
    },
}

/// The lint module's loader and its promise, and the job the view being
/// loaded asks for.
pub(in crate::wasm) struct Lint {
    loader: Option<Function>,
    module: RefCell<Option<Promise>>,
    pending: RefCell<Option<LintJob>>,
}

impl Lint {
    /// A lint loader from `mountViewer`'s options (`loadLint`); none
    /// without one (the views then show no lint section).
    pub(super) fn new(loader: Option<Function>) -> Lint {
        Lint { loader, module: RefCell::new(None), pending: RefCell::new(None) }
    }

    /// Whether views can show findings (the page passed a loader).
    pub(super) fn available(&self) -> bool {
        self.loader.is_some()
    }

    /// Asks for `job` once the view is mounted. Call it last in a view's
    /// load, with no await after it: [`Lint::take`] follows in the same
    /// turn, so a job never reaches another view.
    pub(super) fn queue(&self, job: LintJob) {
        if self.available() {
            *self.pending.borrow_mut() = Some(job);
        }
    }

    /// The job the view just loaded asked for.
    pub(super) fn take(&self) -> Option<LintJob> {
        self.pending.borrow_mut().take()
    }

    /// The lint module's exports: the loader's promise, made once per page
    /// load and kept (forgotten if it fails, so a later view retries).
    async fn module(&self) -> Result<JsValue, (String, String)> {
        let hint = "reload the page; if this persists, check that the server serves /lint/strata_lint.js and \
                    /lint/strata_lint_bg.wasm (as application/wasm) next to index.html (make www copies them)";
        let promise = {
            let mut slot = self.module.borrow_mut();
            match slot.as_ref() {
                Some(p) => p.clone(),
                None => {
                    let Some(loader) = &self.loader else {
                        return Err(("the page gave the viewer no lint module".into(), hint.into()));
                    };
                    let p = match loader.call0(&JsValue::UNDEFINED) {
                        Ok(v) => Promise::resolve(&v),
                        Err(e) => Promise::reject(&e),
                    };
                    *slot = Some(p.clone());
                    p
                }
            }
        };
        match JsFuture::from(promise).await {
            Ok(m) => Ok(m),
            Err(e) => {
                *self.module.borrow_mut() = None;
                Err((format!("the lint module could not be loaded ({})", describe(&e)), hint.into()))
            }
        }
    }
}

/// A thrown value in a few words: its `message`, or its text.
fn describe(e: &JsValue) -> String {
    let (message, _) = super::local::js_error(e);
    if !message.is_empty() {
        return message;
    }
    e.as_string().unwrap_or_else(|| "unknown error".into())
}

/// `{files: [{name, bytes}], dialect}`, the lint module's plain directory.
fn input(directory: &Directory, dialect: Dialect) -> JsValue {
    let files = Array::new();
    for f in directory.files() {
        let o = Object::new();
        let _ = Reflect::set(&o, &"name".into(), &f.name().into());
        let _ = Reflect::set(&o, &"bytes".into(), &Uint8Array::from(f.bytes()).into());
        files.push(&o);
    }
    let dir = Object::new();
    let _ = Reflect::set(&dir, &"files".into(), &files);
    let _ = Reflect::set(&dir, &"dialect".into(), &dialect.name().into());
    dir.into()
}

/// Lints `directory` (only `files` as new, when given) with the module's
/// `lint`: the findings and how many files were linted.
async fn lint_directory(
    app: &App,
    directory: &Directory,
    dialect: Dialect,
    files: Option<&[String]>,
) -> Result<(LintFindings, usize), (String, String)> {
    app.mark("strata:lint:load:start");
    let module = app.lint.module().await?;
    app.measure("strata:lint:load", "strata:lint:load:start", "strata:lint:load:end");
    let lint =
        Reflect::get(&module, &"lint".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()).ok_or_else(|| {
            ("the lint module has no lint function".to_string(), "rebuild the viewer's files with make www".to_string())
        })?;
    app.mark("strata:lint:run:start");
    let options = Object::new();
    let _ = Reflect::set(&options, &"dialect".into(), &dialect.name().into());
    let count = match files {
        Some(names) => {
            let list: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
            let _ = Reflect::set(&options, &"files".into(), &list);
            names.len()
        }
        None => directory.files().len(),
    };
    let result = lint.call2(&JsValue::UNDEFINED, &input(directory, dialect), &options).map_err(|e| {
        let (message, hint) = super::local::js_error(&e);
        let message = if message.is_empty() { describe(&e) } else { message };
        (format!("linting failed: {message}"), hint)
    })?;
    // `{result, rendering}`: the viewer renders the findings itself.
    let result = Reflect::get(&result, &"result".into()).unwrap_or(JsValue::UNDEFINED);
    let text = js_sys::JSON::stringify(&result).ok().and_then(|s| s.as_string()).unwrap_or_default();
    let findings = LintFindings::from_json(&text)
        .map_err(|e| (e, "the lint module does not match this viewer: rebuild both with make www".to_string()))?;
    app.measure("strata:lint:run", "strata:lint:run:start", "strata:lint:run:end");
    Ok((findings, count))
}

/// Runs `job` and fills the view's lint section, unless another view was
/// asked for meanwhile (`generation` changed).
pub(super) async fn run(app: Rc<App>, job: LintJob, generation: u64) {
    app.mark("strata:lint:start");
    let outcome = match job {
        LintJob::Version { directory, dialect } => lint_directory(&app, &directory, dialect, None).await,
        LintJob::Added { dir, head, added } => {
            // The head's files, as its version page would split them.
            let targets = app.targets().await.unwrap_or_default();
            let dialect = targets.first().map(|t| t.dialect).unwrap_or(Dialect::Generic);
            let registry = Rc::clone(&app.registry.borrow());
            match registry.fetch(&dir, &head, dialect, |_| {}).await {
                Ok(fetched) => lint_directory(&app, &fetched.directory, dialect, Some(&added)).await,
                Err(e) => Err(match registry_failure("Could not fetch the head version")(e) {
                    Failure::SignIn(m) => (format!("could not fetch {head}: {m}"), "sign in again".into()),
                    Failure::Shown { message, hint, .. } => (format!("could not fetch {head}: {message}"), hint),
                }),
            }
        }
    };
    if app.generation.get() != generation {
        return; // another view is on screen
    }
    let Some(section) = app.document.get_element_by_id("st-lint") else { return };
    let state = match &outcome {
        Ok((findings, files)) => LintState::Done { findings, files: *files },
        Err((message, hint)) => LintState::Failed { message, hint },
    };
    // The title stays; what follows it becomes the body of the new state.
    while let Some(last) = section.last_element_child() {
        if last.tag_name().eq_ignore_ascii_case("h2") {
            break;
        }
        last.remove();
    }
    let _ = section.insert_adjacent_html("beforeend", &view::lint_body(&state));
    let _ = section.set_attribute("data-state", state.name());
    app.measure("strata:lint", "strata:lint:start", "strata:lint:end");
}
