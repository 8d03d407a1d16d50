//! The pages mounted in a real DOM (headless Chromium, `wasm-pack test
//! --headless --chrome -- --lib view`): what the browser's parser makes of
//! hostile input, not what a string search thinks it does. The crate's
//! `wasm_bindgen_test_configure!(run_in_browser)` (in `wasm.rs`) applies
//! to these tests too: it is one setting per test binary.

use super::tests::{hostile, hostile_pages};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Document, Element};

fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

/// `html` mounted in a fresh `<div>` appended to the body.
fn mount(html: &str) -> Element {
    let doc = document();
    let root = doc.create_element("div").expect("a div");
    root.set_inner_html(html);
    doc.body().expect("a body").append_child(&root).expect("mounted");
    root
}

/// The elements under `root` matching `selector`.
fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).expect("a valid selector");
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| wasm_bindgen::JsCast::dyn_into(n).ok()).collect()
}

#[wasm_bindgen_test]
fn hostile_pages_mount_as_inert_text() {
    let h = hostile();
    for (page, html) in hostile_pages() {
        let root = mount(&html);
        let active = all(&root, "script, img, iframe, object, embed, frame, link, meta, style, base");
        assert!(active.is_empty(), "{page}: {} active element(s) mounted", active.len());
        assert!(all(&root, "a[href^='javascript:' i]").is_empty(), "{page}");
        for el in all(&root, "*") {
            for name in el.get_attribute_names().iter().filter_map(|n| n.as_string()) {
                let name = name.to_ascii_lowercase();
                assert!(!name.starts_with("on"), "{page}: <{}> has {name}", el.tag_name());
                assert!(name != "style" && name != "src", "{page}: <{}> has {name}", el.tag_name());
            }
        }
        for a in all(&root, "a") {
            let href = a.get_attribute("href").unwrap_or_default();
            assert!(href.starts_with('/') && !href.starts_with("//"), "{page}: href {href:?}");
        }
        if page != "local" {
            let text = root.text_content().unwrap_or_default();
            let shown = if page.contains("version") { h.replace('/', "") } else { h.clone() };
            assert!(text.contains(&shown), "{page}: the text shows the input literally: {text}");
        }
        root.remove();
    }
}

#[wasm_bindgen_test]
fn hostile_values_stay_whole_inside_attributes() {
    let h = hostile();
    let (_, html) = hostile_pages().into_iter().find(|(p, _)| *p == "dir").expect("the dir page");
    let root = mount(&html);
    // The tag's name is an option value: one attribute, the whole text.
    let options = all(&root, "select[name='base'] option");
    assert!(options.iter().any(|o| o.get_attribute("value").as_deref() == Some(h.as_str())), "{html}");
    assert_eq!(all(&root, "form[data-action='diff'] select").len(), 2);
    root.remove();
}

#[wasm_bindgen_test]
fn the_plan_page_mounts_its_apply_dialog_closed() {
    let (_, html) = hostile_pages().into_iter().find(|(p, _)| *p == "plan").expect("the plan page");
    let root = mount(&html);
    let dialog = root.query_selector("dialog#st-confirm").ok().flatten().expect("the dialog");
    assert!(!dialog.has_attribute("open"), "the confirmation is closed until asked for");
    assert!(root.query_selector("#st-apply[data-action='apply']").ok().flatten().is_some());
    assert_eq!(all(&dialog, "button[data-action]").len(), 2);
    assert!(root.query_selector("#st-run[aria-live='polite']").ok().flatten().is_some());
    root.remove();
}
