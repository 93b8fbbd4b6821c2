//! The HTML of the admin pages.
//!
//! Every submit button starts disabled and the page's module enables it, so without JavaScript
//! a form cannot be sent anywhere (a password must never end up in a URL), and a `<noscript>`
//! note explains why. Field errors have an element each, tied to the field by
//! `aria-describedby`, and the two status lines below the form are live regions.

use maud::{Markup, html};
use onesheet_domain::PairingCode;
use onesheet_domain::device::LABEL_MAX_CHARS;

use super::layout::{document as page, status_lines, top_bar};
use super::{CLAIM_PATH, LOGIN_PATH};

/// Content of the sign-in page, by the state of the admin accounts.
pub(super) enum LoginState {
    /// The server runs without admin accounts, so signing in is impossible.
    AccountsDisabled,
    /// No admin exists yet, and the first one is created with the setup token.
    SetupRequired,
    Ready,
}

/// The pairing code of the claim page's query.
pub(super) enum ClaimCode {
    Empty,
    Valid(PairingCode),
    /// Text that is not a pairing code, with the reason, shown beside the field.
    Invalid {
        text: String,
        error: String,
    },
}

pub(super) fn login_page(base: &str, next: &str, state: LoginState) -> Markup {
    let body = html! {
        (top_bar(None))
        main class="panel" {
            h1 { "Sign in" }
            @match state {
                LoginState::AccountsDisabled => {
                    p class="notice" {
                        "Admin accounts are not available on this server, so nobody can sign in "
                        "here. Scripts can still use the admin API with the admin token."
                    }
                }
                LoginState::SetupRequired => { (setup_notice(base)) }
                LoginState::Ready => { (login_forms(base, next)) }
            }
        }
    };
    page(base, "Sign in", Some("login.js"), body)
}

fn setup_notice(base: &str) -> Markup {
    html! {
        section class="notice" id="setup-required" {
            h2 { "No admin account exists yet" }
            p {
                "The setup wizard creates the first one with the one-time setup token from the "
                "server's log or the file " code { "data/setup-token" } "."
            }
            p { a id="setup-link" href=(format!("{base}/admin/setup")) { "Open the setup wizard" } }
            p class="hint" {
                "Scripts can instead send the token, a user name and a password in a "
                code { "POST" } " to " code { (base) "/api/v1/setup" } "."
            }
        }
    }
}

fn login_forms(base: &str, next: &str) -> Markup {
    let action = format!("{base}{LOGIN_PATH}");
    html! {
        form id="login-form" class="form" method="post" action=(action) novalidate
            data-next=(next) {
            div class="field" {
                label for="username" { "User name" }
                input id="username" name="username" type="text" autocomplete="username"
                    autocapitalize="none" spellcheck="false" required;
            }
            div class="field" {
                label for="password" { "Password" }
                input id="password" name="password" type="password"
                    autocomplete="current-password" required;
            }
            div class="field check" {
                input id="remember" name="remember" type="checkbox";
                label for="remember" { "Keep me signed in on this device" }
            }
            button type="submit" class="primary" disabled { "Sign in" }
        }
        form id="second-factor-form" class="form" method="post" action=(action) novalidate
            hidden {
            p { "This account uses two-factor sign-in." }
            div class="field" {
                label for="second-factor-code" { "Code from your authenticator app" }
                input id="second-factor-code" name="code" type="text" inputmode="numeric"
                    autocomplete="one-time-code" autocapitalize="none" spellcheck="false"
                    required aria-describedby="second-factor-hint";
                p id="second-factor-hint" class="hint" {
                    "Six digits. Without the app, enter one of your recovery codes instead."
                }
            }
            button type="submit" class="primary" disabled { "Verify" }
        }
        (status_lines("Signing in"))
    }
}

pub(super) fn claim_page(
    base: &str,
    username: &str,
    code: &ClaimCode,
    devices_enabled: bool,
) -> Markup {
    let body = html! {
        (top_bar(Some(username)))
        main class="panel" {
            h1 { "Claim a screen" }
            @if devices_enabled {
                p class="lead" {
                    "Enter the code that the screen shows and give the screen a name. It starts "
                    "showing posters a few seconds after the claim."
                }
                (claim_form(base, code))
                section id="claim-result" class="result" hidden tabindex="-1"
                    aria-labelledby="claim-result-heading" {
                    h2 id="claim-result-heading" { "Screen claimed" }
                    p id="claim-result-text" {}
                    button id="claim-another" type="button" class="secondary" {
                        "Claim another screen"
                    }
                }
                (status_lines("Claiming a screen"))
            } @else {
                p class="notice" {
                    "Screens cannot be paired on this server, because it runs without the "
                    "device service."
                }
            }
        }
    };
    page(base, "Claim a screen", Some("claim.js"), body)
}

fn claim_form(base: &str, code: &ClaimCode) -> Markup {
    let action = format!("{base}{CLAIM_PATH}");
    let (value, error) = match code {
        ClaimCode::Empty => (String::new(), None),
        ClaimCode::Valid(code) => (code.grouped(), None),
        ClaimCode::Invalid { text, error } => (text.clone(), Some(error.as_str())),
    };
    html! {
        form id="claim-form" class="form" method="post" action=(action) novalidate {
            div class="field" {
                label for="code" { "Pairing code" }
                input id="code" name="code" type="text" value=(value) autocomplete="off"
                    autocapitalize="characters" spellcheck="false" maxlength="32" required
                    aria-describedby="code-hint code-error"
                    aria-invalid=[error.map(|_| "true")];
                p id="code-hint" class="hint" {
                    "Six characters, as the screen shows them, such as "
                    span class="nowrap" { "K7M-2QX" } "."
                }
                p id="code-error" class="field-error" hidden[error.is_none()] {
                    @if let Some(error) = error { (error) }
                }
            }
            div class="field" {
                label for="name" { "Screen name" }
                input id="name" name="name" type="text" autocomplete="off" required
                    maxlength=(LABEL_MAX_CHARS) aria-describedby="name-hint name-error";
                p id="name-hint" class="hint" { "Such as Lobby left." }
                p id="name-error" class="field-error" hidden {}
            }
            div class="field" {
                label for="location" { "Location (optional)" }
                input id="location" name="location" type="text" autocomplete="off"
                    maxlength=(LABEL_MAX_CHARS) aria-describedby="location-error";
                p id="location-error" class="field-error" hidden {}
            }
            (choice("profile", "Profile (optional)", "No profile"))
            (choice("group", "Group (optional)", "No group"))
            button type="submit" class="primary" disabled { "Claim screen" }
        }
    }
}

/// Renders a select that the page's module fills from the API. Until then it offers only
/// `none`.
fn choice(id: &str, label: &str, none: &str) -> Markup {
    let hint = format!("{id}-hint");
    let error = format!("{id}-error");
    html! {
        div class="field" {
            label for=(id) { (label) }
            select id=(id) name=(format!("{id}_id")) aria-describedby=(format!("{hint} {error}")) {
                option value="" { (none) }
            }
            p id=(hint) class="hint" {}
            p id=(error) class="field-error" hidden {}
        }
    }
}
