//! The security section at `/admin/security`: password, two-factor sign-in, sessions, API
//! tokens and the audit log.
//!
//! The page renders the forms and empty tables, and `security.js` fills them from the admin
//! API (`/api/v1/admin/account`, `.../account/sessions`, `/api/v1/admin/tokens` and
//! `/api/v1/admin/audit`) and sends every change there. Each part has its own status and error
//! lines, so feedback appears beside the form that caused it, also on a phone.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use onesheet_auth::PasswordPolicy;

use super::layout::{Section, admin_page, status_lines};
use super::{PageSession, html_page};
use crate::accounts::MAX_TOKEN_NAME_CHARS;
use crate::state::AppState;

/// Page sizes the audit log offers. The API accepts 1 to 500.
const AUDIT_PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];

/// Action prefixes offered as suggestions in the audit log's action filter.
const AUDIT_ACTIONS: [&str; 9] = [
    "login.",
    "logout",
    "password.",
    "totp.",
    "session.",
    "token.",
    "source.",
    "settings.",
    "device.",
];

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Security.path(), get(security_page))
}

async fn security_page(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(base, Section::Security, "Security", Some("security.js"));
    let action = format!("{base}{}", Section::Security.path());
    let content = html! {
        p class="lead" {
            "Your password and two-factor sign-in, the browsers signed in to this account, "
            "tokens for scripts, and the audit log of who changed what."
        }
        nav class="page-index" aria-label="Parts of this page" {
            ul {
                li { a href="#password" { "Password" } }
                li { a href="#two-factor" { "Two-factor sign-in" } }
                li { a href="#sessions" { "Sessions" } }
                li { a href="#tokens" { "API tokens" } }
                li { a href="#audit" { "Audit log" } }
            }
        }
        div class="security-page-status" { (status_lines("Changing security settings")) }
        (password_part(&action))
        (two_factor_part(&action))
        (sessions_part())
        (tokens_part(&action))
        (audit_part(&action))
    };
    html_page(admin_page(&frame, content))
}

/// Renders a part of the page: a card with its heading, `content`, and its own status and error
/// lines, `#<id>-status` and `#<id>-alert`.
fn part(id: &str, heading: &str, content: Markup) -> Markup {
    let heading_id = format!("{id}-heading");
    html! {
        section id=(id) class="card security-part" aria-labelledby=(heading_id) {
            h2 id=(heading_id) { (heading) }
            (content)
            p id=(format!("{id}-status")) class="status" role="status" aria-live="polite" {}
            p id=(format!("{id}-alert")) class="error" role="alert" hidden {}
        }
    }
}

/// Renders a labelled field with a hint, when given, and an error line for `setFieldError`.
fn field(id: &str, label: &str, hint: Option<&str>, input: Markup) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            (input)
            @if let Some(hint) = hint {
                p id=(format!("{id}-hint")) class="hint" { (hint) }
            }
            p id=(format!("{id}-error")) class="field-error" hidden {}
        }
    }
}

/// Returns the `aria-describedby` of field `id`: its hint, when it has one, and its error.
fn described_by(id: &str, hint: bool) -> String {
    if hint {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-error")
    }
}

fn password_part(action: &str) -> Markup {
    let policy = PasswordPolicy::default();
    let rules = format!(
        "{} to {} characters, not a common password, not your user name and not one short \
         pattern repeated. A sentence of four words works well.",
        policy.min_chars, policy.max_chars
    );
    part(
        "password",
        "Password",
        html! {
            form id="password-form" class="form" method="post" action=(action) novalidate {
                (field("current-password", "Current password", None, html! {
                    input id="current-password" name="current_password" type="password"
                        autocomplete="current-password" required
                        aria-describedby=(described_by("current-password", false));
                }))
                (field("new-password", "New password", Some(&rules), html! {
                    input id="new-password" name="new_password" type="password"
                        autocomplete="new-password" required maxlength=(policy.max_chars)
                        data-min-chars=(policy.min_chars)
                        aria-describedby=(described_by("new-password", true));
                }))
                (field("repeat-password", "New password again", None, html! {
                    input id="repeat-password" name="repeat_password" type="password"
                        autocomplete="new-password" required maxlength=(policy.max_chars)
                        aria-describedby=(described_by("repeat-password", false));
                }))
                p class="hint" {
                    "Changing the password signs out every other session of this account. "
                    "This browser stays signed in."
                }
                button type="submit" class="primary" disabled { "Change password" }
            }
        },
    )
}

fn two_factor_part(action: &str) -> Markup {
    part(
        "two-factor",
        "Two-factor sign-in",
        html! {
            p id="two-factor-summary" { "Checking whether two-factor sign-in is on\u{2026}" }
            div id="totp-off" hidden {
                p class="hint" {
                    "With two-factor sign-in, signing in also needs a six-digit code from an "
                    "authenticator app on your phone, so a stolen password alone opens nothing."
                }
                button id="totp-begin" type="button" class="primary" disabled {
                    "Set up two-factor sign-in"
                }
            }
            div id="totp-enrol" hidden {
                ol class="steps" {
                    li {
                        p { "Scan this QR code with an authenticator app." }
                        img id="totp-qr" class="qr" width="240" height="240"
                            alt="QR code that adds this account to an authenticator app";
                    }
                    li {
                        p { "If the app cannot scan it, type this key into the app instead:" }
                        p { code id="totp-secret" class="secret" {} }
                    }
                    li {
                        form id="totp-confirm-form" class="form" method="post" action=(action)
                            novalidate {
                            (field("totp-code", "Code that the app shows now", Some("Six digits."), html! {
                                input id="totp-code" name="code" type="text" inputmode="numeric"
                                    autocomplete="one-time-code" autocapitalize="none"
                                    spellcheck="false" maxlength="12" required
                                    aria-describedby=(described_by("totp-code", true));
                            }))
                            button type="submit" class="primary" disabled {
                                "Turn on two-factor sign-in"
                            }
                        }
                    }
                }
            }
            section id="totp-recovery" class="result" hidden tabindex="-1"
                aria-labelledby="totp-recovery-heading" {
                h3 id="totp-recovery-heading" { "Save your recovery codes" }
                p {
                    "Each code signs you in once in place of a code from the app, for when the "
                    "phone is lost. They are shown only now: copy or download them and keep them "
                    "somewhere safe."
                }
                ol id="recovery-codes" class="codes" {}
                div class="actions" {
                    button id="recovery-copy" type="button" class="secondary" { "Copy the codes" }
                    a id="recovery-download" class="button secondary" href="#two-factor"
                        download="onesheet-recovery-codes.txt" {
                        "Download as a text file"
                    }
                    button id="recovery-done" type="button" class="secondary" {
                        "I have saved them"
                    }
                }
            }
            div id="totp-on" hidden {
                form id="totp-disable-form" class="form" method="post" action=(action)
                    novalidate {
                    p class="hint" {
                        "Turning it off needs your password and a code from the app or one of "
                        "your recovery codes."
                    }
                    (field("disable-password", "Password", None, html! {
                        input id="disable-password" name="password" type="password"
                            autocomplete="current-password" required
                            aria-describedby=(described_by("disable-password", false));
                    }))
                    (field("disable-code", "Code from the app, or a recovery code", None, html! {
                        input id="disable-code" name="code" type="text"
                            autocomplete="one-time-code" autocapitalize="none"
                            spellcheck="false" maxlength="32" required
                            aria-describedby=(described_by("disable-code", false));
                    }))
                    button type="submit" class="danger" disabled {
                        "Turn off two-factor sign-in"
                    }
                }
            }
        },
    )
}

fn sessions_part() -> Markup {
    part(
        "sessions",
        "Sessions",
        html! {
            p class="hint" {
                "Every browser signed in to this account. A session that you sign out here is "
                "rejected at its next request."
            }
            div class="table-scroll" {
                table id="sessions-table" class="stack" {
                    caption class="visually-hidden" { "Sessions of this account" }
                    thead {
                        tr {
                            th scope="col" { "Browser" }
                            th scope="col" { "Address" }
                            th scope="col" { "Signed in" }
                            th scope="col" { "Last used" }
                            th scope="col" { "Action" }
                        }
                    }
                    tbody id="sessions-rows" {
                        tr { td colspan="5" { "Loading the sessions\u{2026}" } }
                    }
                }
            }
            div class="actions" {
                button id="revoke-others" type="button" class="secondary" disabled {
                    "Sign out all other sessions"
                }
            }
        },
    )
}

fn tokens_part(action: &str) -> Markup {
    part(
        "tokens",
        "API tokens",
        html! {
            p class="hint" {
                "Scripts and home automation send a token in the header "
                code { "Authorization: Bearer <token>" } ". Tokens stay valid until revoked, "
                "so revoke one as soon as nothing uses it."
            }
            form id="token-form" class="form" method="post" action=(action) novalidate {
                (field("token-name", "Name", Some("Such as home-assistant. It names the token in this list and in the audit log."), html! {
                    input id="token-name" name="name" type="text" autocomplete="off"
                        maxlength=(MAX_TOKEN_NAME_CHARS) required
                        aria-describedby=(described_by("token-name", true));
                }))
                (field("token-scope", "Scope", Some("Grant the least that the script needs."), html! {
                    select id="token-scope" name="scope"
                        aria-describedby=(described_by("token-scope", true)) {
                        option value="read" {
                            "Read: status, sources, screens and the audit log"
                        }
                        option value="devices" { "Screens: read, and command and configure screens" }
                        option value="admin" {
                            "Admin: everything except accounts and tokens"
                        }
                    }
                }))
                button type="submit" class="primary" disabled { "Create token" }
            }
            section id="token-created" class="result" hidden tabindex="-1"
                aria-labelledby="token-created-heading" {
                h3 id="token-created-heading" { "Token created" }
                p {
                    "Copy it now: it is shown only once, because the server keeps only a hash "
                    "of it."
                }
                div class="field" {
                    label for="token-value" id="token-value-label" { "Token" }
                    input id="token-value" type="text" readonly autocomplete="off"
                        spellcheck="false";
                }
                div class="actions" {
                    button id="token-copy" type="button" class="secondary" { "Copy the token" }
                }
            }
            div class="table-scroll" {
                table id="tokens-table" class="stack" {
                    caption class="visually-hidden" { "API tokens" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Scope" }
                            th scope="col" { "Created" }
                            th scope="col" { "Last used" }
                            th scope="col" { "State" }
                        }
                    }
                    tbody id="tokens-rows" {
                        tr { td colspan="5" { "Loading the tokens\u{2026}" } }
                    }
                }
            }
        },
    )
}

fn audit_part(action: &str) -> Markup {
    part(
        "audit",
        "Audit log",
        html! {
            form id="audit-form" class="filters" method="get" action=(action) novalidate
                role="search" aria-label="Filter the audit log" {
                (field("audit-actor", "Actor", Some("Exactly as listed: a user name, or token: and a token name."), html! {
                    input id="audit-actor" name="actor" type="text" autocomplete="off"
                        autocapitalize="none" spellcheck="false" maxlength="100"
                        aria-describedby=(described_by("audit-actor", true));
                }))
                (field("audit-action", "Action starts with", Some("Such as login. or token."), html! {
                    input id="audit-action" name="action" type="text" autocomplete="off"
                        autocapitalize="none" spellcheck="false" maxlength="100"
                        list="audit-actions"
                        aria-describedby=(described_by("audit-action", true));
                }))
                datalist id="audit-actions" {
                    @for action in AUDIT_ACTIONS {
                        option value=(action) {}
                    }
                }
                (field("audit-since", "From", None, html! {
                    input id="audit-since" name="since" type="datetime-local"
                        aria-describedby=(described_by("audit-since", false));
                }))
                (field("audit-until", "Until", None, html! {
                    input id="audit-until" name="until" type="datetime-local"
                        aria-describedby=(described_by("audit-until", false));
                }))
                (field("audit-limit", "Events per page", None, html! {
                    select id="audit-limit" name="limit"
                        aria-describedby=(described_by("audit-limit", false)) {
                        @for size in AUDIT_PAGE_SIZES {
                            option value=(size) selected[size == AUDIT_PAGE_SIZES[1]] { (size) }
                        }
                    }
                }))
                div class="actions" {
                    button type="submit" class="primary inline" disabled { "Apply filters" }
                    button id="audit-clear" type="reset" class="secondary" { "Clear filters" }
                }
            }
            div class="table-scroll" {
                table id="audit-table" class="stack" {
                    caption class="visually-hidden" { "Audit events, newest first" }
                    thead {
                        tr {
                            th scope="col" { "Time" }
                            th scope="col" { "Actor" }
                            th scope="col" { "Action" }
                            th scope="col" { "Target" }
                            th scope="col" { "Address" }
                            th scope="col" { "Details" }
                        }
                    }
                    tbody id="audit-rows" {
                        tr { td colspan="6" { "Loading the audit log\u{2026}" } }
                    }
                }
            }
            div class="actions" {
                button id="audit-newest" type="button" class="secondary" disabled {
                    "Newest events"
                }
                button id="audit-older" type="button" class="secondary" disabled {
                    "Older events"
                }
            }
        },
    )
}
