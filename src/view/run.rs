//! What follows a finished apply on the plan page.

use super::Route;
use crate::report::html_escape;

/// The links under a finished apply's report: the deployment it was
/// recorded as (when it was) and the target's history.
pub fn apply_links(target: &str, deployment: Option<&str>) -> String {
    let history = Route::History { target: target.into() }.path();
    let mut out = String::from("<p class=\"st-next\">");
    if let Some(id) = deployment {
        out.push_str(&format!(
            "<a href=\"{}\">Open the report of {}</a> · ",
            Route::Deployment { id: id.into() }.path(),
            html_escape(id)
        ));
    } else {
        out.push_str("The run was not recorded as a deployment (see the server's log). ");
    }
    out.push_str(&format!("<a href=\"{history}\">Deployments to {}</a></p>", html_escape(target)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_routes_and_names_are_escaped() {
        let h = apply_links("<b>t</b>", Some("dep_\"x"));
        assert!(h.contains("href=\"/deployments/dep_%22x\""), "{h}");
        assert!(h.contains("href=\"/targets/%3Cb%3Et%3C%2Fb%3E\""), "{h}");
        assert!(h.contains("&lt;b&gt;t&lt;/b&gt;") && !h.contains("<b>"), "{h}");
        assert!(apply_links("t", None).contains("not recorded"));
    }
}
