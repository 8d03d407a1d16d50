//! The web viewer: `mountViewer(element, options)` turns a page into the
//! strata viewer of the server it was loaded from.
//!
//! The page (`www/`) is only a shell and a loader; everything else is
//! here. The viewer reads the location as a [`Route`], loads what the view
//! needs with the core's clients (the registry client over `fetch`, every
//! fetched byte verified; the hook client), renders it with the core's
//! renderers ([`crate::view`], escaped HTML) and mounts the result. Links
//! are ordinary `<a href>` to [`Route::path`]s: a click is turned into
//! `history.pushState` and a render, and the back button re-renders the
//! location it returns to. Forms and buttons carry `data-action`.
//!
//! The root element says what it shows, for people and tests alike:
//! `data-view` (the route's name) and `data-state` (`loading`, `ready`,
//! `error`, `sign-in`). Performance marks: `strata:first-view` when the
//! first view is ready, and measures `strata:render:plan` (rendering and
//! mounting a plan), `strata:compute:plan` (planning) and `strata:load`
//! (each view's loading); the lint section's are in [`lint`].
//!
//! Lint findings come from a second wasm module that only the views showing
//! them load, through the page's `loadLint` option ([`lint`]).

mod lint;
mod local;

use super::hook::{apply_streaming, call, ApplyFailure};
use super::registry::Fetch;
use crate::hook::{self, ApplyRequest, RequestError, TargetInfo};
use crate::lex::Dialect;
use crate::plan::{self, Plan, PlanOptions};
use crate::registry::client::{Client, DeploymentQuery, TagEvent, MAX_IN_FLIGHT};
use crate::registry::Manifest;
use crate::registry::{BlobDigest, RegistryError, VersionDiff};
use crate::report::apply_html;
use crate::view::{self, ApplyProgress, Route, VersionPage};
use futures_util::future::join;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, Window};

/// Where the viewer keeps the token between visits.
const TOKEN_KEY: &str = "strata.token";

/// How often live progress is redrawn at most, in milliseconds.
const REDRAW_MS: f64 = 100.0;

/// Why a view could not be shown.
pub(super) enum Failure {
    /// The server needs a token (or a valid one): the sign-in form.
    SignIn(String),
    /// Anything else: a title, what happened, and what to do.
    Shown {
        /// What could not be done.
        title: String,
        /// What happened.
        message: String,
        /// What to do next.
        hint: String,
    },
}

impl Failure {
    pub(super) fn shown(title: &str, message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::Shown { title: title.into(), message: message.into(), hint: hint.into() }
    }

    /// The error block of a failure, or the sign-in form.
    fn html(&self) -> (String, &'static str) {
        match self {
            Failure::SignIn(reason) => (view::sign_in_html(reason), "sign-in"),
            Failure::Shown { title, message, hint } => (view::error_html(title, message, hint), "error"),
        }
    }
}

/// A refusal of the server as a failure: 401 asks for a token, 403 says
/// which token to use instead.
fn refused(title: &str, code: &str, message: String, hint: String) -> Failure {
    match code {
        "unauthorized" => Failure::SignIn(message),
        "forbidden" => Failure::shown(
            title,
            message,
            format!(
                "{hint}; or use another token: “Forget token” in the header, then sign in with one that has this scope"
            ),
        ),
        _ => Failure::shown(title, message, hint),
    }
}

fn registry_failure(title: &str) -> impl Fn(RegistryError) -> Failure + '_ {
    move |e| {
        let message = e.to_string();
        refused(title, &e.code, message, e.hint)
    }
}

fn hook_failure(title: &str) -> impl Fn(RequestError) -> Failure + '_ {
    move |e| refused(title, &e.code, e.message, e.hint)
}

/// How many moves of a tag the history view diffs (two manifests each,
/// most of them shared with the next move).
const DIFFED_MOVES: usize = 50;

/// What each of the newest [`DIFFED_MOVES`] moves of a tag changed, from
/// the manifests of the versions involved (each fetched once, a few at a
/// time); `None` for a move that created the tag or whose manifests could
/// not be read (the page still lists it).
async fn move_diffs(registry: &Client<Fetch>, dir: &str, events: &[TagEvent]) -> Vec<Option<VersionDiff>> {
    use futures_util::stream::{self, StreamExt};
    let events = &events[..events.len().min(DIFFED_MOVES)];
    let mut wanted: Vec<&BlobDigest> =
        events.iter().flat_map(|e| std::iter::once(&e.version).chain(e.previous.as_ref())).collect();
    wanted.sort();
    wanted.dedup();
    let manifests: HashMap<&BlobDigest, Manifest> = stream::iter(wanted)
        .map(|d| async move { registry.manifest(dir, d.as_str()).await.ok().map(|(_, m)| (d, m)) })
        .buffer_unordered(MAX_IN_FLIGHT)
        .filter_map(|m| async move { m })
        .collect()
        .await;
    events
        .iter()
        .map(|e| {
            let base = manifests.get(e.previous.as_ref()?)?;
            Some(VersionDiff::between(base, manifests.get(&e.version)?))
        })
        .collect()
}

/// The plan on screen, which the Apply button runs.
#[derive(Clone)]
struct PlanOnScreen {
    dir: String,
    target: TargetInfo,
    version: BlobDigest,
    plan: Rc<Plan>,
}

/// The viewer mounted on a page.
pub(super) struct App {
    window: Window,
    document: Document,
    root: HtmlElement,
    origin: String,
    registry: RefCell<Rc<Client<Fetch>>>,
    hook: RefCell<Rc<hook::Client>>,
    /// Bumped by every render: a load that finds it changed was overtaken.
    generation: Cell<u64>,
    first_view_marked: Cell<bool>,
    route: RefCell<Route>,
    targets: RefCell<Option<Rc<Vec<TargetInfo>>>>,
    plan: RefCell<Option<PlanOnScreen>>,
    applying: Cell<bool>,
    local: local::Local,
    lint: lint::Lint,
}

#[wasm_bindgen(typescript_custom_section)]
const VIEWER_TYPES: &str = r#"
/** Options of `mountViewer`. */
export interface ViewerOptions {
  /**
   * Loads the lint module (strata/lint's `lint/strata_lint.js`) and
   * resolves to its exports once instantiated, e.g.
   * `() => import("/lint/strata_lint.js").then(async (m) => (await m.default(), m))`.
   * Called once, by the first view that shows lint findings (a version, a
   * diff); without it the views show none.
   */
  loadLint?: () => Promise<unknown>;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `mountViewer`'s options (`ViewerOptions` in TypeScript).
    #[wasm_bindgen(typescript_type = "ViewerOptions")]
    pub type ViewerOptions;
}

/// Mounts the strata viewer in `root` (the page's `<main>`), for the
/// server the page was loaded from: renders the view of the current
/// location and handles links, forms, the back button and files dropped
/// on the page from then on. The token is kept in `localStorage`
/// (`strata.token`) once the sign-in form is used. `options.loadLint`, when
/// given, loads the lint module the first time a view shows findings.
#[wasm_bindgen(js_name = mountViewer)]
pub fn mount_viewer(root: HtmlElement, options: Option<ViewerOptions>) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("mountViewer needs a browser window"))?;
    let document = window.document().ok_or_else(|| JsValue::from_str("mountViewer needs a document"))?;
    let origin = window.location().origin()?;
    let registry = Rc::new(Client::new(&origin, Fetch).map_err(|e| JsValue::from_str(&e.message))?);
    let hook = Rc::new(hook::Client::new(&origin).map_err(|e| JsValue::from_str(&e.message))?);
    let load_lint = options
        .and_then(|o| js_sys::Reflect::get(&o, &"loadLint".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let app = Rc::new(App {
        window,
        document,
        root,
        origin,
        registry: RefCell::new(registry),
        hook: RefCell::new(hook),
        generation: Cell::new(0),
        first_view_marked: Cell::new(false),
        route: RefCell::new(Route::Dirs),
        targets: RefCell::new(None),
        plan: RefCell::new(None),
        applying: Cell::new(false),
        local: local::Local::default(),
        lint: lint::Lint::new(load_lint),
    });
    let token = app.storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten());
    app.set_token(token.filter(|t| !t.is_empty()), false);
    listen(&app)?;
    let here = app.location();
    app.show(Route::parse(&here), false);
    Ok(())
}

/// The name of a route's view (`data-view`).
fn view_name(r: &Route) -> &'static str {
    match r {
        Route::Dirs => "dirs",
        Route::Dir { .. } => "dir",
        Route::TagHistory { .. } => "tag-history",
        Route::Diff { .. } => "diff",
        Route::Version { .. } => "version",
        Route::Plan { .. } => "plan",
        Route::Targets => "targets",
        Route::History { .. } => "history",
        Route::Deployment { .. } => "deployment",
        Route::Local => "local",
        Route::NotFound { .. } => "not-found",
    }
}

/// The page title and what the loading state names.
fn title_of(r: &Route) -> String {
    match r {
        Route::Dirs => "Directories".into(),
        Route::Dir { dir } => dir.clone(),
        Route::TagHistory { dir, tag } => format!("{dir}: history of {tag}"),
        Route::Diff { dir, base, head } => format!("{dir}: {base} → {head}"),
        Route::Version { dir, reference, .. } => format!("{dir}@{reference}"),
        Route::Plan { dir, reference, target } => format!("Plan of {dir}@{reference} on {target}"),
        Route::Targets => "Targets".into(),
        Route::History { target } => format!("Deployments to {target}"),
        Route::Deployment { id } => format!("Deployment {id}"),
        Route::Local => "Open locally".into(),
        Route::NotFound { .. } => "Not found".into(),
    }
}

impl App {
    fn storage(&self) -> Option<web_sys::Storage> {
        self.window.local_storage().ok().flatten()
    }

    fn location(&self) -> String {
        let l = self.window.location();
        format!("{}{}", l.pathname().unwrap_or_default(), l.search().unwrap_or_default())
    }

    /// Uses `token` (or none) for every request from now on; `keep`
    /// stores it for the next visit.
    fn set_token(&self, token: Option<String>, keep: bool) {
        // The origin was accepted at mount; a token that cannot be sent in
        // a header was refused by the sign-in form.
        let registry = Client::new(&self.origin, Fetch)
            .and_then(|c| match &token {
                Some(t) => c.with_token(t.clone()),
                None => Ok(c),
            })
            .ok();
        let hook = hook::Client::new(&self.origin)
            .and_then(|c| match &token {
                Some(t) => c.with_token(t),
                None => Ok(c),
            })
            .ok();
        if let (Some(r), Some(h)) = (registry, hook) {
            *self.registry.borrow_mut() = Rc::new(r);
            *self.hook.borrow_mut() = Rc::new(h);
        }
        *self.targets.borrow_mut() = None;
        if let Some(s) = self.storage() {
            match (&token, keep) {
                (Some(t), true) => drop(s.set_item(TOKEN_KEY, t)),
                (None, _) => drop(s.remove_item(TOKEN_KEY)),
                _ => {}
            }
        }
        if let Some(b) = self.document.get_element_by_id("st-sign-out") {
            if token.is_some() {
                let _ = b.remove_attribute("hidden");
            } else {
                let _ = b.set_attribute("hidden", "");
            }
        }
    }

    fn mark(&self, name: &str) {
        if let Some(p) = self.window.performance() {
            let _ = p.mark(name);
        }
    }

    fn measure(&self, name: &str, start: &str, end: &str) {
        if let Some(p) = self.window.performance() {
            let _ = p.mark(end);
            let _ = p.measure_with_start_mark_and_end_mark(name, start, end);
        }
    }

    fn now(&self) -> f64 {
        self.window.performance().map(|p| p.now()).unwrap_or_default()
    }

    /// Goes to `path` as a new history entry.
    fn navigate(self: &Rc<Self>, path: &str) {
        let _ = self.window.history().and_then(|h| h.push_state_with_url(&JsValue::NULL, "", Some(path)));
        self.show(Route::parse(path), true);
    }

    /// Renders `route`: the loading state at once, then the view (or what
    /// went wrong) when its data is there. `focus` moves the keyboard
    /// focus to the view, as after a click on a link.
    fn show(self: &Rc<Self>, route: Route, focus: bool) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        *self.route.borrow_mut() = route.clone();
        *self.plan.borrow_mut() = None;
        let title = title_of(&route);
        self.document.set_title(&format!("{title} · strata"));
        let root = &self.root;
        let _ = root.set_attribute("data-view", view_name(&route));
        let _ = root.set_attribute("data-state", "loading");
        let _ = root.set_attribute("aria-busy", "true");
        root.set_inner_html(&view::loading_html(&title));
        let app = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            app.mark("strata:load:start");
            let loaded = app.load(&route).await;
            // Taken in the turn the load queued it, whatever view is on
            // screen now.
            let lint_job = app.lint.take();
            if app.generation.get() != generation {
                return; // another view was asked for meanwhile
            }
            app.measure("strata:load", "strata:load:start", "strata:load:end");
            let (html, state) = match loaded {
                Ok(html) => (html, "ready"),
                Err(f) => f.html(),
            };
            app.root.set_inner_html(&html);
            if matches!(route, Route::Plan { .. }) && state == "ready" {
                app.measure("strata:render:plan", "strata:render:plan:start", "strata:render:plan:end");
            }
            let _ = app.root.set_attribute("data-state", state);
            let _ = app.root.remove_attribute("aria-busy");
            if !app.first_view_marked.replace(true) {
                app.mark("strata:first-view");
            }
            if focus {
                let _ = app.root.focus();
            }
            if let (Some(job), "ready") = (lint_job, state) {
                lint::run(Rc::clone(&app), job, generation).await;
            }
        });
    }

    /// The hook's targets, asked once per token.
    async fn targets(&self) -> Result<Rc<Vec<TargetInfo>>, Failure> {
        if let Some(t) = self.targets.borrow().as_ref() {
            return Ok(Rc::clone(t));
        }
        let hook = Rc::clone(&self.hook.borrow());
        let answer = call(&hook.targets()).await.map_err(hook_failure("Could not list the targets"))?;
        // Read by hand: a serde deserializer over `serde_json::Value` would
        // be one more copy of serde's code in the module.
        let items = answer.get("items").and_then(|i| i.as_array()).map(Vec::as_slice).unwrap_or_default();
        let targets = items
            .iter()
            .map(|t| {
                let name = t.get("name").and_then(|n| n.as_str())?;
                let dialect = Dialect::parse(t.get("dialect").and_then(|d| d.as_str())?)?;
                Some(TargetInfo { name: name.into(), dialect })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Failure::shown(
                    "Could not list the targets",
                    "the server's target list is not the protocol ({items: [{name, dialect}]})",
                    "check that the page is served by strata-server",
                )
            })?;
        let targets = Rc::new(targets);
        *self.targets.borrow_mut() = Some(Rc::clone(&targets));
        Ok(targets)
    }

    /// Loads and renders the view of `route`.
    async fn load(self: &Rc<Self>, route: &Route) -> Result<String, Failure> {
        let registry = Rc::clone(&self.registry.borrow());
        match route {
            Route::Dirs => {
                let dirs = registry.dirs().await.map_err(registry_failure("Could not list the directories"))?;
                Ok(view::dirs_page(&dirs))
            }
            Route::Dir { dir } => {
                let what = "Could not show the directory";
                let (tags, versions) = join(registry.tags(dir), registry.versions(dir, Some(100))).await;
                let tags = tags.map_err(registry_failure(what))?;
                let versions = versions.map_err(registry_failure(what))?;
                Ok(view::dir_page(dir, &tags, &versions))
            }
            Route::TagHistory { dir, tag } => {
                let events = registry
                    .tag_history(dir, tag, Some(100))
                    .await
                    .map_err(registry_failure("Could not show the tag's history"))?;
                let changes = move_diffs(&registry, dir, &events).await;
                Ok(view::tag_history_page(dir, tag, &events, &changes))
            }
            Route::Diff { dir, base, head } => {
                let what = "Could not compare the versions";
                let (b, h) = join(registry.manifest(dir, base), registry.manifest(dir, head)).await;
                let (_, b) = b.map_err(registry_failure(what))?;
                let (_, h) = h.map_err(registry_failure(what))?;
                let diff = VersionDiff::between(&b, &h);
                let lint = self.lint.available() && !diff.added.is_empty();
                let html = view::diff_page(dir, base, head, &diff, lint);
                if lint {
                    self.lint.queue(lint::LintJob::Added { dir: dir.clone(), head: head.clone(), added: diff.added });
                }
                Ok(html)
            }
            Route::Version { dir, reference, dialect } => {
                // Without targets (no hook, or a token without them) the
                // version still shows, without the plan form.
                let targets = self.targets().await.unwrap_or_default();
                let dialect = dialect.or_else(|| targets.first().map(|t| t.dialect)).unwrap_or(Dialect::Generic);
                let fetched = registry
                    .fetch(dir, reference, dialect, |_| {})
                    .await
                    .map_err(registry_failure("Could not fetch the version"))?;
                let lint = self.lint.available() && !fetched.directory.files().is_empty();
                let html = view::version_page(&VersionPage {
                    dir: Some(dir),
                    reference,
                    version: Some(&fetched.version),
                    directory: &fetched.directory,
                    dialect,
                    targets: &targets,
                    lint,
                });
                if lint {
                    self.lint.queue(lint::LintJob::Version { directory: fetched.directory, dialect });
                }
                Ok(html)
            }
            Route::Plan { dir, reference, target } => self.load_plan(dir, reference, target).await,
            Route::Targets => Ok(view::targets_page(&self.targets().await?)),
            Route::History { target } => {
                let query = DeploymentQuery { target: Some(target.clone()), limit: Some(100), ..Default::default() };
                let items =
                    registry.deployments(&query).await.map_err(registry_failure("Could not list the deployments"))?;
                Ok(view::history_page(target, &items))
            }
            Route::Deployment { id } => {
                let d = registry.deployment(id).await.map_err(registry_failure("Could not open the deployment"))?;
                // The report through the module's one reader of report objects.
                let report = crate::wasm::report_arg(super::to_js(&d.report).unchecked_into()).map_err(|e| {
                    let (message, hint) = local::js_error(&e);
                    Failure::shown(&format!("Could not read the report of {id}"), message, hint)
                })?;
                Ok(view::deployment_page(Some(&d.info), &report))
            }
            Route::Local => Ok(view::local_page()),
            Route::NotFound { path } => Ok(view::not_found_html(path)),
        }
    }

    /// The plan of `dir@reference` against `target`, computed here as the
    /// hook will: the version fetched and verified, the target's
    /// revisions from the hook, the core's planner.
    async fn load_plan(&self, dir: &str, reference: &str, target: &str) -> Result<String, Failure> {
        let what = "Could not plan";
        let targets = self.targets().await?;
        let Some(t) = targets.iter().find(|t| t.name == target).cloned() else {
            let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            return Err(Failure::shown(
                what,
                format!("the server has no target {target:?} that this token may use"),
                if names.is_empty() {
                    "configure targets with strata-server serve --targets targets.toml".to_string()
                } else {
                    format!("pick one of: {}", names.join(", "))
                },
            ));
        };
        let registry = Rc::clone(&self.registry.borrow());
        let hook = Rc::clone(&self.hook.borrow());
        let request = hook.revisions(target).map_err(hook_failure(what))?;
        let (fetched, revisions) = join(registry.fetch(dir, reference, t.dialect, |_| {}), call(&request)).await;
        let fetched = fetched.map_err(registry_failure("Could not fetch the version"))?;
        let revisions = revisions.map_err(hook_failure("Could not read the target's revisions"))?;
        // The revisions through the module's one reader of revisions JSON
        // (the answer's own `target` and `dialect` set aside).
        let mut revisions = revisions;
        if let Some(o) = revisions.as_object_mut() {
            o.remove("target");
            o.remove("dialect");
        }
        let state = crate::wasm::db_state_from_json(&revisions.to_string()).map_err(|e| {
            let (message, hint) = local::js_error(&e);
            Failure::shown("Could not read the target's revisions", message, hint)
        })?;
        self.mark("strata:compute:plan:start");
        let planned = plan::plan(&fetched.directory, &state, &PlanOptions::default());
        self.measure("strata:compute:plan", "strata:compute:plan:start", "strata:compute:plan:end");
        let planned = planned.map_err(|e| Failure::shown(what, e.to_string(), e.hint()))?;
        self.mark("strata:render:plan:start");
        let html = view::plan_page(dir, reference, &t, &fetched.version, &planned);
        *self.plan.borrow_mut() =
            Some(PlanOnScreen { dir: dir.into(), target: t, version: fetched.version, plan: Rc::new(planned) });
        Ok(html)
    }

    /// The confirmation dialog of the plan on screen.
    fn confirm_apply(&self) {
        if self.applying.get() || self.plan.borrow().is_none() {
            return;
        }
        if let Some(d) = self.document.get_element_by_id("st-confirm") {
            if let Ok(d) = d.dyn_into::<web_sys::HtmlDialogElement>() {
                let _ = d.show_modal();
            }
        }
    }

    fn close_dialog(&self) {
        if let Some(d) = self.document.get_element_by_id("st-confirm") {
            if let Ok(d) = d.dyn_into::<web_sys::HtmlDialogElement>() {
                d.close();
            }
        }
    }

    /// Applies the plan on screen through the hook, drawing each
    /// statement's progress as the events arrive, then the report.
    fn apply(self: &Rc<Self>) {
        self.close_dialog();
        let Some(p) = self.plan.borrow().clone() else { return };
        if self.applying.replace(true) {
            return;
        }
        let Some(run) = self.document.get_element_by_id("st-run") else {
            self.applying.set(false);
            return;
        };
        if let Some(b) = self.document.get_element_by_id("st-apply") {
            let _ = b.set_attribute("disabled", "");
        }
        let progress = Rc::new(RefCell::new(ApplyProgress::new(&p.plan, &p.target.name)));
        run.set_inner_html(&progress.borrow().html());
        let app = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            let body = ApplyRequest {
                dir: p.dir.clone(),
                version: p.version.to_string(),
                plan_digest: p.plan.digest.clone(),
                ..ApplyRequest::default()
            };
            let hook = Rc::clone(&app.hook.borrow());
            let last = Cell::new(f64::MIN);
            let outcome = apply_streaming(&hook, &p.target.name, &body, |events, _| {
                let mut pr = progress.borrow_mut();
                for e in &events {
                    pr.on_event(e);
                }
                let now = app.now();
                if now - last.get() >= REDRAW_MS {
                    last.set(now);
                    run.set_inner_html(&pr.html());
                }
            })
            .await;
            let html = match outcome {
                Ok(finished) => {
                    let mut html = progress.borrow().html();
                    html.push_str(&apply_html(&finished.report));
                    html.push_str(&view::apply_links(
                        &p.target.name,
                        finished.deployment.as_ref().and_then(|d| d.id.as_deref()),
                    ));
                    html
                }
                Err(ApplyFailure::Request(e)) => {
                    let hint = match e.code.as_str() {
                        "stale-plan" => {
                            "the database or the tag moved since this plan was computed: reload the page to plan again"
                                .to_string()
                        }
                        _ => e.hint.clone(),
                    };
                    let (html, _) = refused("The hook did not apply the plan", &e.code, e.message, hint).html();
                    html
                }
                Err(ApplyFailure::Stream(e)) => view::error_html(
                    "The connection to the hook was lost during the apply",
                    &e.to_string(),
                    &format!(
                        "the apply goes on on the server; see how it ended in the deployments of {}",
                        p.target.name
                    ),
                ),
            };
            run.set_inner_html(&html);
            app.applying.set(false);
        });
    }
}

/// What the click on `el` does, if it is ours: a link to a view, or an
/// action button.
fn on_click(app: &Rc<App>, event: &web_sys::MouseEvent) {
    let Some(el) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
    let Ok(Some(el)) = el.closest("a[href], button[data-action]") else { return };
    if el.tag_name().eq_ignore_ascii_case("a") {
        if event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key() {
            return; // a new tab or window: the browser's
        }
        if el.has_attribute("download") || el.get_attribute("target").is_some_and(|t| t != "_self") {
            return;
        }
        let href = el.get_attribute("href").unwrap_or_default();
        let ours = href.starts_with('/')
            && !href.starts_with("//")
            && !href.starts_with("/v1/")
            && !href.starts_with("/hook/");
        if ours {
            event.prevent_default();
            app.navigate(&href);
        }
        return;
    }
    match el.get_attribute("data-action").as_deref() {
        Some("apply") => app.confirm_apply(),
        Some("confirm-apply") => app.apply(),
        Some("cancel") => app.close_dialog(),
        Some("sign-out") => {
            app.set_token(None, true);
            let here = app.location();
            app.show(Route::parse(&here), false);
        }
        Some("open-folder") => local::pick_folder(app),
        _ => {}
    }
}

/// The value of field `name` of a submitted form.
fn field(form: &web_sys::HtmlFormElement, name: &str) -> String {
    web_sys::FormData::new_with_form(form).ok().and_then(|d| d.get(name).as_string()).unwrap_or_default()
}

fn on_submit(app: &Rc<App>, event: &web_sys::Event) {
    let Some(form) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
    let Some(action) = form.get_attribute("data-action") else { return };
    event.prevent_default();
    let route = app.route.borrow().clone();
    match (action.as_str(), &route) {
        ("diff", Route::Dir { dir }) => {
            let (base, head) = (field(&form, "base"), field(&form, "head"));
            if !base.is_empty() && !head.is_empty() {
                app.navigate(&Route::Diff { dir: dir.clone(), base, head }.path());
            }
        }
        ("plan", Route::Version { dir, reference, .. }) => {
            let target = field(&form, "target");
            if !target.is_empty() {
                app.navigate(&Route::Plan { dir: dir.clone(), reference: reference.clone(), target }.path());
            }
        }
        ("dialect", Route::Version { dir, reference, .. }) => {
            let dialect = Dialect::parse(&field(&form, "dialect"));
            app.navigate(&Route::Version { dir: dir.clone(), reference: reference.clone(), dialect }.path());
        }
        ("sign-in", _) => {
            let token = field(&form, "token").trim().to_string();
            if token.is_empty() || token.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
                let (html, state) = Failure::SignIn(
                    "that is not a token: a token is one word of letters, digits, - and _ (strata-server token create prints it)"
                        .into(),
                )
                .html();
                app.root.set_inner_html(&html);
                let _ = app.root.set_attribute("data-state", state);
                return;
            }
            app.set_token(Some(token), true);
            app.show(route, true);
        }
        ("local-plan", _) => local::plan(app, &field(&form, "revisions"), &field(&form, "dialect")),
        _ => {}
    }
}

/// Installs the page's listeners: clicks, submits, the back button, and
/// the local page's file inputs and drops.
fn listen(app: &Rc<App>) -> Result<(), JsValue> {
    let a = Rc::clone(app);
    let click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |e: web_sys::MouseEvent| on_click(&a, &e));
    app.document.add_event_listener_with_callback("click", click.as_ref().unchecked_ref())?;
    click.forget();

    let a = Rc::clone(app);
    let submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| on_submit(&a, &e));
    app.document.add_event_listener_with_callback("submit", submit.as_ref().unchecked_ref())?;
    submit.forget();

    let a = Rc::clone(app);
    let pop = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        let here = a.location();
        a.show(Route::parse(&here), true);
    });
    app.window.add_event_listener_with_callback("popstate", pop.as_ref().unchecked_ref())?;
    pop.forget();

    local::listen(app)
}
