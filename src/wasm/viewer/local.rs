//! "Open locally": a migration folder or a report JSON from this
//! computer, chosen with the page's inputs or dropped on it, verified,
//! planned against pasted revisions, or rendered, with no request to any
//! server.

use super::{App, Failure};
use crate::dir::{DirOptions, Directory};
use crate::lex::Dialect;
use crate::plan::{self, PlanOptions};
use crate::report::plan_html;
use crate::view::{self, Route, VersionPage};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DataTransfer, Element, File, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry};

/// The folder opened last: its name and its files' bytes.
#[derive(Default)]
pub(in crate::wasm) struct Local {
    folder: RefCell<Option<Folder>>,
}

struct Folder {
    name: String,
    entries: Vec<(String, Vec<u8>)>,
}

/// What was picked or dropped, not read yet.
enum Picked {
    /// A folder's top-level files.
    Folder(String, Vec<File>),
    /// One report file.
    Report(File),
}

fn result(app: &App) -> Option<Element> {
    app.document.get_element_by_id("st-local-result")
}

fn show(app: &App, html: &str) {
    if let Some(r) = result(app) {
        r.set_inner_html(html);
    }
}

fn failure(app: &App, f: Failure) {
    show(app, &f.html().0);
}

/// The bytes of `file`.
async fn bytes(file: &File) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(file.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Whether the folder keeps `name`: the migration files and `atlas.sum`.
fn wanted(name: &str) -> bool {
    name == crate::sum::SUM_FILE_NAME || crate::dir::is_migration_name(name)
}

/// Reads what was picked and shows it.
async fn open(app: Rc<App>, picked: Picked) {
    match picked {
        Picked::Folder(name, files) => {
            show(app.as_ref(), &view::loading_html(&name));
            let mut entries = Vec::with_capacity(files.len());
            for f in files.iter().filter(|f| wanted(&f.name())) {
                match bytes(f).await {
                    Ok(b) => entries.push((f.name(), b)),
                    Err(_) => {
                        return failure(
                            &app,
                            Failure::shown(
                                "Could not read the folder",
                                format!("the browser could not read {}", f.name()),
                                "check that the file is readable and pick the folder again",
                            ),
                        )
                    }
                }
            }
            if entries.is_empty() {
                return failure(
                    &app,
                    Failure::shown(
                        "No migration files",
                        format!("{name} has no .sql file at its top level"),
                        "pick the migration directory itself (the one with atlas.sum), not its parent",
                    ),
                );
            }
            *app.local.folder.borrow_mut() = Some(Folder { name, entries });
            render_folder(&app, Dialect::Generic);
        }
        Picked::Report(file) => {
            let text = match bytes(&file).await.map(String::from_utf8) {
                Ok(Ok(t)) => t,
                _ => {
                    return failure(
                        &app,
                        Failure::shown(
                            "Could not read the report",
                            format!("{} is not UTF-8 text", file.name()),
                            "pick the JSON file strata wrote (strata report ID --json, or a plan --json)",
                        ),
                    )
                }
            };
            match crate::wasm::report_arg(JsValue::from_str(&text).unchecked_into()) {
                Ok(report) => show(&app, &view::deployment_page(None, &report)),
                Err(e) => {
                    let (message, hint) = js_error(&e);
                    failure(&app, Failure::shown(&format!("{} is not a strata report", file.name()), message, hint))
                }
            }
        }
    }
}

/// The message and hint of a thrown `StrataError`.
pub(super) fn js_error(e: &JsValue) -> (String, String) {
    let get = |k: &str| Reflect::get(e, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    (get("message"), get("hint"))
}

/// The open folder as a directory split with `dialect`.
fn directory(app: &App, dialect: Dialect) -> Option<Result<(String, Directory), Failure>> {
    let folder = app.local.folder.borrow();
    let f = folder.as_ref()?;
    let options = DirOptions { dialect, ..DirOptions::default() };
    Some(
        Directory::with_options(f.entries.iter().map(|(n, b)| (n.as_str(), b.as_slice())), options)
            .map(|d| (f.name.clone(), d))
            .map_err(|e| Failure::shown("The folder is not a migration directory", e.to_string(), e.hint())),
    )
}

fn render_folder(app: &App, dialect: Dialect) {
    match directory(app, dialect) {
        None => {}
        Some(Err(f)) => failure(app, f),
        Some(Ok((name, d))) => show(
            app,
            &view::version_page(&VersionPage {
                dir: None,
                reference: &name,
                version: None,
                directory: &d,
                dialect,
                targets: &[],
                lint: false,
            }),
        ),
    }
}

/// Plans the open folder against pasted revisions (none: an empty
/// database), split with `dialect`.
pub(super) fn plan(app: &App, revisions: &str, dialect: &str) {
    let out = app.document.get_element_by_id("st-local-plan");
    let put = |html: &str| {
        if let Some(o) = &out {
            o.set_inner_html(html);
        }
    };
    let dialect = Dialect::parse(dialect).unwrap_or_default();
    let d = match directory(app, dialect) {
        None => return put(&Failure::shown("No folder open", "", "pick or drop a migration folder first").html().0),
        Some(Err(f)) => return put(&f.html().0),
        Some(Ok((_, d))) => d,
    };
    let state = if revisions.trim().is_empty() {
        Ok(plan::DbState::default())
    } else {
        crate::wasm::db_state_from_json(revisions)
    };
    let state = match state {
        Ok(s) => s,
        Err(e) => {
            let (message, hint) = js_error(&e);
            return put(&Failure::shown("Could not read the revisions", message, hint).html().0);
        }
    };
    match plan::plan(&d, &state, &PlanOptions::default()) {
        Ok(p) => put(&plan_html(&p)),
        Err(e) => put(&Failure::shown("Could not plan", e.to_string(), e.hint()).html().0),
    }
}

/// Opens the folder picker.
pub(super) fn pick_folder(app: &App) {
    if let Some(input) = app.document.get_element_by_id("st-local-folder") {
        if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
            input.click();
        }
    }
}

/// The top-level files of a folder chosen with `<input webkitdirectory>`.
fn from_input(input: &web_sys::HtmlInputElement) -> Option<Picked> {
    let list = input.files()?;
    let files: Vec<File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    if input.id() == "st-local-report" {
        return files.into_iter().next().map(Picked::Report);
    }
    let path =
        |f: &File| Reflect::get(f, &"webkitRelativePath".into()).ok().and_then(|p| p.as_string()).unwrap_or_default();
    let name = files.first().map(|f| path(f).split('/').next().unwrap_or_default().to_string())?;
    let top: Vec<File> = files.into_iter().filter(|f| path(f).split('/').count() <= 2).collect();
    Some(Picked::Folder(if name.is_empty() { "folder".into() } else { name }, top))
}

/// A callback-style call as a promise: `f(resolve, reject)`.
async fn promised(mut f: impl FnMut(&js_sys::Function, &js_sys::Function)) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::new(&mut |resolve, reject| f(&resolve, &reject))).await
}

/// The files of a dropped folder entry (top level only).
async fn folder_files(dir: FileSystemDirectoryEntry) -> Result<Vec<File>, JsValue> {
    let reader = dir.create_reader();
    let mut files = Vec::new();
    loop {
        // readEntries answers in batches until an empty one.
        let batch = promised(|ok, err| {
            let _ = reader.read_entries_with_callback_and_callback(ok, err);
        })
        .await?;
        let batch = Array::from(&batch);
        if batch.length() == 0 {
            break;
        }
        for entry in batch.iter() {
            let Ok(entry) = entry.dyn_into::<FileSystemEntry>() else { continue };
            if entry.is_file() && wanted(&entry.name()) {
                let entry: FileSystemFileEntry = entry.unchecked_into();
                let file = promised(|ok, err| entry.file_with_callback_and_callback(ok, err)).await?;
                files.push(file.unchecked_into());
            }
        }
    }
    Ok(files)
}

/// What a drop holds: a folder, a report, or loose migration files.
async fn from_drop(entries: Vec<FileSystemEntry>, loose: Vec<File>) -> Result<Option<Picked>, JsValue> {
    if let Some(dir) = entries.iter().find(|e| e.is_directory()) {
        let name = dir.name();
        let dir: FileSystemDirectoryEntry = dir.clone().unchecked_into();
        return Ok(Some(Picked::Folder(name, folder_files(dir).await?)));
    }
    if let Some(report) = loose.iter().find(|f| f.name().ends_with(".json")) {
        return Ok(Some(Picked::Report(report.clone())));
    }
    let files: Vec<File> = loose.into_iter().filter(|f| wanted(&f.name())).collect();
    Ok((!files.is_empty()).then(|| Picked::Folder("dropped files".into(), files)))
}

fn on_local_page(app: &App) -> bool {
    matches!(*app.route.borrow(), Route::Local)
}

fn drop_zone(app: &App, over: bool) {
    if let Some(z) = app.document.get_element_by_id("st-drop") {
        let _ = if over { z.class_list().add_1("st-over") } else { z.class_list().remove_1("st-over") };
    }
}

fn on_drop(app: &Rc<App>, event: &web_sys::DragEvent) {
    event.prevent_default();
    drop_zone(app, false);
    let Some(dt): Option<DataTransfer> = event.data_transfer() else { return };
    // Entries and files are only readable during the event itself.
    let items = dt.items();
    let mut entries = Vec::new();
    let mut loose = Vec::new();
    for i in 0..items.length() {
        let Some(item) = items.get(i) else { continue };
        if let Ok(Some(e)) = item.webkit_get_as_entry() {
            entries.push(e);
        }
        if let Ok(Some(f)) = item.get_as_file() {
            loose.push(f);
        }
    }
    let app = Rc::clone(app);
    wasm_bindgen_futures::spawn_local(async move {
        match from_drop(entries, loose).await {
            Ok(Some(picked)) => open(app, picked).await,
            Ok(None) => failure(
                &app,
                Failure::shown(
                    "Nothing to open",
                    "the drop held no folder, migration file or report JSON",
                    "drop the migration directory itself, or a report .json file",
                ),
            ),
            Err(_) => failure(
                &app,
                Failure::shown(
                    "Could not read the drop",
                    "the browser did not give the dropped files to the page",
                    "use the folder or report inputs instead",
                ),
            ),
        }
    });
}

/// The local page's listeners (on the document, so they survive renders).
pub(super) fn listen(app: &Rc<App>) -> Result<(), JsValue> {
    let doc = &app.document;
    let a = Rc::clone(app);
    let change = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        if input.id() == "st-local-folder" || input.id() == "st-local-report" {
            if let Some(picked) = from_input(&input) {
                wasm_bindgen_futures::spawn_local(open(Rc::clone(&a), picked));
            }
            input.set_value("");
        }
    });
    doc.add_event_listener_with_callback("change", change.as_ref().unchecked_ref())?;
    change.forget();

    let a = Rc::clone(app);
    let over = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |e: web_sys::DragEvent| {
        if on_local_page(&a) {
            e.prevent_default(); // allows the drop
            drop_zone(&a, true);
        }
    });
    doc.add_event_listener_with_callback("dragover", over.as_ref().unchecked_ref())?;
    over.forget();

    let a = Rc::clone(app);
    let leave = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |_: web_sys::DragEvent| drop_zone(&a, false));
    doc.add_event_listener_with_callback("dragleave", leave.as_ref().unchecked_ref())?;
    leave.forget();

    let a = Rc::clone(app);
    let dropped = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |e: web_sys::DragEvent| {
        if on_local_page(&a) {
            on_drop(&a, &e);
        }
    });
    doc.add_event_listener_with_callback("drop", dropped.as_ref().unchecked_ref())?;
    dropped.forget();

    // The drop zone is a button for the keyboard: Enter or Space opens the folder picker.
    let a = Rc::clone(app);
    let key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
        let on_zone = e.target().and_then(|t| t.dyn_into::<Element>().ok()).is_some_and(|el| el.id() == "st-drop");
        if on_zone && (e.key() == "Enter" || e.key() == " ") {
            e.prevent_default();
            pick_folder(&a);
        }
    });
    doc.add_event_listener_with_callback("keydown", key.as_ref().unchecked_ref())?;
    key.forget();
    Ok(())
}
