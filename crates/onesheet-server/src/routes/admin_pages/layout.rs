//! The frame shared by every admin page: the HTML document, the top bar and, for a signed-in
//! admin, the navigation between the sections.
//!
//! A page of a section renders only its `<main>` content and hands it to [`admin_page`]. The
//! session's CSRF token travels in a `<meta>` element, so a page's module can send changes
//! without first asking the API for the session.

use maud::{DOCTYPE, Markup, html};

/// The sections of the admin UI, in the order of the navigation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Section {
    Dashboard,
    Sources,
    Display,
    Devices,
    Profiles,
    Security,
    Logs,
}

impl Section {
    pub(super) const ALL: [Section; 7] = [
        Section::Dashboard,
        Section::Sources,
        Section::Display,
        Section::Devices,
        Section::Profiles,
        Section::Security,
        Section::Logs,
    ];

    /// Path of the section's first page below the base path.
    pub(super) fn path(self) -> &'static str {
        match self {
            Section::Dashboard => "/admin",
            Section::Sources => "/admin/sources",
            Section::Display => "/admin/display",
            Section::Devices => "/admin/devices",
            Section::Profiles => "/admin/profiles",
            Section::Security => "/admin/security",
            Section::Logs => "/admin/logs",
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Sources => "Sources",
            Section::Display => "Display",
            Section::Devices => "Screens",
            Section::Profiles => "Profiles and groups",
            Section::Security => "Security",
            Section::Logs => "Logs",
        }
    }
}

/// Inputs of a signed-in page's frame, besides its content.
pub(super) struct Frame<'a> {
    pub base: &'a str,
    pub username: &'a str,
    pub csrf_token: &'a str,
    /// The section the page belongs to, marked as current in the navigation.
    pub section: Section,
    /// Title of the page, shown in the tab and as the `<h1>`.
    pub title: &'a str,
    /// Module under `web/assets/js/admin/` that the page loads, if any.
    pub script: Option<&'a str>,
}

/// Renders a page for a signed-in admin: top bar with sign-out, navigation, then `content`
/// inside `<main>` under the page's `<h1>`.
pub(super) fn admin_page(frame: &Frame<'_>, content: Markup) -> Markup {
    let body = html! {
        a class="skip-link" href="#main" { "Skip to content" }
        (top_bar(Some(frame.username)))
        (navigation(frame.base, frame.section))
        main id="main" class="wide" tabindex="-1" {
            h1 { (frame.title) }
            (content)
        }
    };
    document_with_token(
        frame.base,
        frame.title,
        frame.script,
        Some(frame.csrf_token),
        body,
    )
}

fn navigation(base: &str, current: Section) -> Markup {
    html! {
        nav class="sections" aria-label="Sections" {
            ul {
                @for section in Section::ALL {
                    li {
                        a href=(format!("{base}{}", section.path()))
                            aria-current=[(section == current).then_some("page")] {
                            (section.label())
                        }
                    }
                }
            }
        }
    }
}

/// Renders the polite progress line and the assertive error line below a form, and the note
/// for browsers without JavaScript. `action` names what the form does, for that note.
pub(super) fn status_lines(action: &str) -> Markup {
    html! {
        p id="form-status" class="status" role="status" aria-live="polite" {}
        p id="form-error" class="error" role="alert" aria-live="assertive" hidden {}
        noscript {
            p class="error" {
                (action) " needs JavaScript: turn it on for this site and reload the page."
            }
        }
    }
}

pub(super) fn top_bar(username: Option<&str>) -> Markup {
    html! {
        header class="top-bar" {
            span class="brand" { "Onesheet" }
            @if let Some(username) = username {
                span class="who" { "Signed in as " strong { (username) } }
                button id="sign-out" type="button" class="secondary" disabled { "Sign out" }
            }
        }
    }
}

/// Renders a whole HTML document around `body`, for pages without a session.
pub(super) fn document(base: &str, title: &str, script: Option<&str>, body: Markup) -> Markup {
    document_with_token(base, title, script, None, body)
}

fn document_with_token(
    base: &str,
    title: &str,
    script: Option<&str>,
    csrf_token: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="dark";
                meta name="robots" content="noindex";
                @if let Some(token) = csrf_token {
                    meta name="csrf-token" content=(token);
                }
                title { (title) " · Onesheet" }
                link rel="icon" href=(format!("{base}/assets/img/favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(format!("{base}/assets/css/admin.css"));
                @if let Some(script) = script {
                    script type="module" src=(format!("{base}/assets/js/admin/{script}")) {}
                }
            }
            body data-base=(base) { (body) }
        }
    }
}
