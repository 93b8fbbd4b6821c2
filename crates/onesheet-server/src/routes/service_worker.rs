//! The display pages' service worker at `{base}/sw.js`, which keeps the pages loadable while
//! the server is down.
//!
//! A page that the browser reloads during an outage (the watchdog, or a TV that restarts its
//! browser) needs its HTML, styles and modules before its offline pool can show anything. The
//! worker stores them in Cache Storage when it installs and serves them from there when the
//! network fails.
//!
//! The response is `web/sw.js` with one line in front that declares the files to store and a
//! version. The list comes from the embedded files themselves: the display pages, what their
//! HTML links, and every module their scripts import, followed transitively. The version is a
//! hash of all those files and of the worker, so a release that changes any of them installs a
//! new worker, which replaces the old cache.
//!
//! The worker's URL sits directly under the base path, so its default scope covers the pages
//! without a `Service-Worker-Allowed` header.

use std::collections::{BTreeSet, VecDeque};
use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::conditional::if_none_match;
use super::pages::{DISPLAY_PAGES, WebAssets};
use crate::error::ApiError;
use crate::state::AppState;

/// The worker's code, after the generated first line.
const WORKER_SOURCE: &str = "sw.js";

/// Builds the worker's route, open to everybody like the other assets because the worker
/// contains no data.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/sw.js", get(service_worker))
}

/// The files the worker stores, with URLs relative to the base path.
#[derive(Debug, Serialize)]
struct Shell {
    version: String,
    /// The display pages, such as `screensaver`.
    pages: Vec<String>,
    /// Their styles, scripts and icons, such as `assets/js/common/pool.js`.
    assets: Vec<String>,
}

/// The rendered worker and its entity tag, built once from the embedded files.
struct RenderedWorker {
    body: String,
    etag: String,
}

static WORKER: LazyLock<Result<RenderedWorker, String>> = LazyLock::new(render_worker);

async fn service_worker(headers: HeaderMap) -> Result<Response, ApiError> {
    let worker = WORKER.as_ref().map_err(|detail| ApiError::Internal {
        detail: detail.clone(),
    })?;
    let mut response = if if_none_match(&headers, &worker.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = worker.body.clone().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&worker.etag) {
        headers.insert(header::ETAG, value);
    }
    // Browsers check the worker for updates at each page load. `no-cache` makes that check reach
    // the server, so a release takes effect at the next reload, and the ETag keeps it cheap.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn render_worker() -> Result<RenderedWorker, String> {
    let source = embedded_text(WORKER_SOURCE)?;
    let shell = collect_shell(&source)?;
    let declaration = serde_json::to_string(&shell)
        .map_err(|error| format!("encoding the service worker's file list failed: {error}"))?;
    let body = format!("const SHELL = {declaration};\n{source}");
    let etag = format!("\"{}\"", shell.version);
    tracing::debug!(
        version = %shell.version,
        pages = shell.pages.len(),
        assets = shell.assets.len(),
        "service worker rendered"
    );
    Ok(RenderedWorker { body, etag })
}

/// Lists the display pages and every embedded file they load, and hashes them together with
/// `worker_source` into the version.
fn collect_shell(worker_source: &str) -> Result<Shell, String> {
    let mut hasher = Sha256::new();
    hasher.update(worker_source.as_bytes());

    let mut assets = BTreeSet::new();
    let mut queue = VecDeque::new();
    for page in DISPLAY_PAGES {
        let file = format!("{page}.html");
        let html = embedded_text(&file)?;
        hasher.update(file.as_bytes());
        hasher.update(html.as_bytes());
        for link in html_links(&html) {
            if assets.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    while let Some(path) = queue.pop_front() {
        let text = embedded_text(&path)?;
        if path.ends_with(".js") {
            for import in module_imports(&path, &text) {
                if assets.insert(import.clone()) {
                    queue.push_back(import);
                }
            }
        }
    }
    // The set is sorted, so the version does not depend on the order the files were found in.
    for path in &assets {
        hasher.update(path.as_bytes());
        hasher.update(embedded_text(path)?.as_bytes());
    }

    let digest = hasher.finalize();
    Ok(Shell {
        version: digest.iter().take(8).map(|b| format!("{b:02x}")).collect(),
        pages: DISPLAY_PAGES
            .iter()
            .map(|page| (*page).to_owned())
            .collect(),
        assets: assets.into_iter().collect(),
    })
}

fn embedded_text(path: &str) -> Result<String, String> {
    let file = WebAssets::get(path)
        .ok_or_else(|| format!("the service worker needs {path}, which is not embedded"))?;
    String::from_utf8(file.data.into_owned())
        .map_err(|_| format!("the service worker needs {path} as text, but it is not UTF-8"))
}

/// Returns the relative `src` and `href` values of a page, which are relative to the base path.
/// Absolute and external URLs are not part of the page's files.
fn html_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            let Some(end) = rest.find('"') else {
                continue;
            };
            let value = &rest[..end];
            if value.starts_with("assets/") && !value.contains("..") {
                links.push(value.to_owned());
            }
        }
    }
    links
}

/// Returns the relative module specifiers of a script's static `import` and `export … from`
/// statements, resolved against the script's own path.
///
/// The scan looks for `from '…'` and `import '…'` with a specifier that starts with `./` or
/// `../`, which is every form the display scripts use. A match inside a comment would only add
/// one more file to the cache, and it must exist among the embedded files.
fn module_imports(module_path: &str, source: &str) -> Vec<String> {
    let mut imports = Vec::new();
    for keyword in ["from ", "import "] {
        for (start, _) in source.match_indices(keyword) {
            let rest = source[start + keyword.len()..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                continue;
            };
            let Some(end) = rest[1..].find(quote) else {
                continue;
            };
            let specifier = &rest[1..=end];
            if (specifier.starts_with("./") || specifier.starts_with("../"))
                && let Some(resolved) = resolve_relative(module_path, specifier)
            {
                imports.push(resolved);
            }
        }
    }
    imports
}

/// Resolves `specifier` (`./x.js`, `../common/y.js`) against the folder of `module_path`.
/// Returns None for a path that climbs above the embedded folder.
fn resolve_relative(module_path: &str, specifier: &str) -> Option<String> {
    let mut segments: Vec<&str> = module_path.split('/').collect();
    segments.pop();
    for segment in specifier.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                segments.pop()?;
            }
            name => segments.push(name),
        }
    }
    Some(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::pages;

    #[test]
    fn resolves_sibling_and_parent_modules() {
        assert_eq!(
            resolve_relative("assets/js/wallart/main.js", "./grid.js").as_deref(),
            Some("assets/js/wallart/grid.js")
        );
        assert_eq!(
            resolve_relative("assets/js/wallart/main.js", "../common/pool.js").as_deref(),
            Some("assets/js/common/pool.js")
        );
        assert_eq!(resolve_relative("a.js", "../../b.js"), None);
    }

    #[test]
    fn finds_single_and_multi_line_imports() {
        let source = "import { a } from './a.js';\nimport {\n  b,\n} from \"../common/b.js\";\n\
                      import './side.js';\nexport { c } from './c.js';\n\
                      /** @param {import('./typed.js').T} t */\nimport x from 'https://cdn/x.js';\n";
        let imports = module_imports("assets/js/mode/main.js", source);
        let found: BTreeSet<&str> = imports.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = [
            "assets/js/mode/a.js",
            "assets/js/common/b.js",
            "assets/js/mode/side.js",
            "assets/js/mode/c.js",
        ]
        .into_iter()
        .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn shell_lists_pages_without_admin_files() {
        let shell = collect_shell("").unwrap();
        assert_eq!(shell.pages, ["screensaver", "wallart", "cinema"]);
        for expected in [
            "assets/css/screensaver.css",
            "assets/css/wallart.css",
            "assets/css/cinema.css",
            "assets/js/screensaver/main.js",
            "assets/js/wallart/tiles.js",
            "assets/js/cinema/takeover.js",
            "assets/js/common/pool.js",
            "assets/js/common/service-worker.js",
        ] {
            assert!(
                shell.assets.iter().any(|asset| asset == expected),
                "{expected} missing from {:?}",
                shell.assets
            );
        }
        assert!(
            !shell.assets.iter().any(|asset| asset.contains("admin")),
            "{:?}",
            shell.assets
        );
    }

    #[test]
    fn every_display_page_is_routed() {
        let routed: Vec<&str> = pages::screens()
            .entries()
            .iter()
            .map(|(path, _)| *path)
            .collect();
        for page in DISPLAY_PAGES {
            assert!(
                routed.contains(&format!("/{page}").as_str()),
                "{page} in {routed:?}"
            );
        }
    }

    #[test]
    fn version_changes_with_the_worker_source() {
        let first = collect_shell("one").unwrap();
        let second = collect_shell("two").unwrap();
        assert_ne!(first.version, second.version);
        assert_eq!(first.assets, second.assets);
    }

    #[tokio::test]
    async fn worker_is_javascript_and_revalidated() {
        let response = service_worker(HeaderMap::new()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = response.headers()[header::ETAG].clone();

        let mut conditional = HeaderMap::new();
        conditional.insert(header::IF_NONE_MATCH, etag);
        let revalidated = service_worker(conditional).await.unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    }
}
