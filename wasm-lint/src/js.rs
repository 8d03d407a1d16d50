//! The wasm-bindgen layer (wasm32 only): reads the JavaScript values, calls
//! the natively tested functions of the crate, and hands results back as
//! plain objects and errors as thrown `StrataError`s, the shape the main
//! module throws (`code`, `message`, `file`, `line`, `column`, `detail`,
//! `hint`, `summary`). npm/lint.mjs wraps these exports; they are not the
//! package's API.

use crate::{Input, LintOptions, PreviewArgs, LINT_OPTIONS_HINT, PREVIEW_OPTIONS_HINT};
use js_sys::{Array, Reflect, Uint8Array};
use serde::Serialize;
use strata::error::Error;
use wasm_bindgen::prelude::*;

/// Builds a thrown `Error` named `StrataError`: the core's message, and
/// its fields as properties.
fn throw(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("StrataError");
    if let Ok(fields) = to_js(&e).dyn_into::<js_sys::Object>() {
        js_sys::Object::assign(err.unchecked_ref(), &fields);
    }
    let _ = Reflect::set(&err, &"summary".into(), &e.summary().into());
    err.into()
}

fn usage(code: &'static str, message: String, hint: &str) -> JsValue {
    throw(crate::usage(code, message, hint))
}

/// Plain objects (not Maps), so that results read naturally in JS.
fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::UNDEFINED)
}

const INPUT_HINT: &str =
    "pass a Directory of the main module, or {files: [{name: '1_init.sql', bytes: Uint8Array}, ...], dialect?}";

/// Reads a directory: the main module's `Directory` (its `files`, which
/// have `name` and `bytes` getters, its `sumFile` and `dialect`) or a plain
/// `{files: [{name, bytes}], dialect}`. `what` names it in errors.
fn input_from_js(v: &JsValue, what: &str) -> Result<Input, JsValue> {
    let get = |o: &JsValue, k: &str| Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    if !v.is_object() {
        let got = if v.is_null() { "null".into() } else { v.js_typeof().as_string().unwrap_or_default() };
        return Err(usage("invalid-directory", format!("{what} is {got}, not a directory"), INPUT_HINT));
    }
    let files = get(v, "files");
    if !Array::is_array(&files) {
        return Err(usage("invalid-directory", format!("{what} has no `files` array"), INPUT_HINT));
    }
    let mut entries = Vec::new();
    for (i, e) in Array::from(&files).iter().enumerate() {
        let name = get(&e, "name").as_string();
        let bytes = Some(get(&e, "bytes")).filter(|b| b.is_instance_of::<Uint8Array>());
        let (Some(name), Some(bytes)) = (name, bytes) else {
            let message = format!("{what}: files[{i}] needs a string `name` and a Uint8Array `bytes`");
            return Err(usage("invalid-directory", message, INPUT_HINT));
        };
        entries.push((name, bytes.unchecked_into::<Uint8Array>().to_vec()));
    }
    // The main module's Directory keeps atlas.sum apart from its files.
    let sum_name = strata::sum::SUM_FILE_NAME;
    if let Some(sum) = get(v, "sumFile").as_string() {
        if !entries.iter().any(|(n, _)| n == sum_name) {
            entries.push((sum_name.into(), sum.into_bytes()));
        }
    }
    Ok(Input { entries, dialect: get(v, "dialect").as_string() })
}

/// Reads an options object through its JSON text; `null`/`undefined` are
/// the defaults.
fn options_from_js<T: for<'de> serde::Deserialize<'de> + Default>(
    v: &JsValue,
    what: &str,
    hint: &str,
) -> Result<T, JsValue> {
    if v.is_null() || v.is_undefined() {
        return Ok(T::default());
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(usage("invalid-options", format!("{what} must be an object"), hint));
    }
    let text = js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).ok_or_else(|| {
        usage("invalid-options", format!("{what} cannot be written as JSON (a BigInt or a cycle?)"), hint)
    })?;
    crate::options_from_json(&text, what, hint).map_err(throw)
}

/// `{result, rendering: {markdown, text}}`.
fn with_rendering(result: JsValue, markdown: &str, text: &str) -> JsValue {
    let rendering = js_sys::Object::new();
    let _ = Reflect::set(&rendering, &"markdown".into(), &markdown.into());
    let _ = Reflect::set(&rendering, &"text".into(), &text.into());
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"result".into(), &result);
    let _ = Reflect::set(&o, &"rendering".into(), &rendering);
    o.into()
}

/// Lints a directory: `{result, rendering}`, the result as `lint()` in
/// lint.d.ts returns it without its methods (`{findings, unparsed, errors,
/// warnings}`) and `{markdown, text}`, the core's renderings of the same
/// report.
#[wasm_bindgen]
pub fn lint(dir: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let input = input_from_js(&dir, "the directory")?;
    let options: LintOptions = options_from_js(&options, "lint options", LINT_OPTIONS_HINT)?;
    let r = crate::lint(input, &options).map_err(throw)?;
    Ok(with_rendering(to_js(&r), &r.report.to_markdown(), &r.report.to_text()))
}

/// Previews `local` against `base` (`null`: the tag does not exist yet):
/// `{result, rendering}`, the `strata.preview/v1` document and
/// `{markdown, text}`.
#[wasm_bindgen]
pub fn preview(local: JsValue, base: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let local = input_from_js(&local, "the local directory")?;
    let base =
        if base.is_null() || base.is_undefined() { None } else { Some(input_from_js(&base, "the base directory")?) };
    let args: PreviewArgs = options_from_js(&options, "preview options", PREVIEW_OPTIONS_HINT)?;
    let r = crate::preview(local, base, &args).map_err(throw)?;
    let result = js_sys::JSON::parse(&r.json).unwrap_or(JsValue::UNDEFINED);
    Ok(with_rendering(result, &r.markdown, &r.text))
}
