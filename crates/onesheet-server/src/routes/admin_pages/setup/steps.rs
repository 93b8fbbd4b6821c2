//! The HTML of the setup wizard: one section per step, of which `setup.js` shows one at a time.
//!
//! The server marks the step to start with, so a reload shows the right one before the module
//! runs. The session's CSRF token, when there is a session, travels in `data-csrf-token`,
//! because the wizard has no signed-in frame with the token's `<meta>` element.

use maud::{Markup, html};
use onesheet_auth::PasswordPolicy;

use super::super::layout::{document, status_lines, top_bar};

/// Steps that a reload can return to once the admin exists.
pub(super) const RESUMABLE: std::ops::RangeInclusive<u8> = 3..=6;

/// Titles of the steps, in order.
const STEP_TITLES: [&str; 6] = [
    "Setup token",
    "Admin account",
    "Two-factor sign-in",
    "First source",
    "Libraries",
    "Open on a screen",
];

/// The display pages a screen can open, with what each shows.
const DISPLAY_PAGES: [(&str, &str, &str); 3] = [
    (
        "/screensaver",
        "Screensaver",
        "one poster at a time, full screen",
    ),
    (
        "/wallart",
        "Wall art",
        "a wall of posters that change one by one",
    ),
    (
        "/cinema",
        "Cinema",
        "a portrait poster with a header, as in a cinema foyer",
    ),
];

pub(super) struct Wizard<'a> {
    pub base: &'a str,
    /// The step shown first, from 1 to 6.
    pub step: u8,
    /// The session's CSRF token once the admin exists and is signed in.
    pub csrf_token: Option<&'a str>,
    /// The configured external address of the base path, else the browser's address is used.
    pub public_url: Option<&'a str>,
    /// Number of items in the local media folder now, when the local source runs.
    pub local_items: Option<usize>,
}

pub(super) fn accounts_disabled(base: &str) -> Markup {
    let body = html! {
        (top_bar(None))
        main class="panel" {
            h1 { "Set up Onesheet" }
            p class="notice" {
                "Admin accounts are not available on this server, so there is nothing to set "
                "up here. Scripts can use the admin API with the admin token."
            }
        }
    };
    document(base, "Set up Onesheet", None, body)
}

pub(super) fn wizard(wizard: &Wizard<'_>) -> Markup {
    let step = wizard.step;
    let title = STEP_TITLES
        .get(usize::from(step.saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    let body = html! {
        a class="skip-link" href="#main" { "Skip to content" }
        (top_bar(None))
        main id="main" class="panel wizard" tabindex="-1" data-step=(step)
            data-csrf-token=[wizard.csrf_token] data-site=[wizard.public_url] {
            h1 { "Set up Onesheet" }
            p id="wizard-progress" class="wizard-progress" aria-live="polite" {
                "Step " (step) " of " (STEP_TITLES.len()) ": " (title)
            }
            ol class="wizard-steps" aria-label="Setup steps" {
                @for (index, name) in STEP_TITLES.iter().enumerate() {
                    @let number = index + 1;
                    li data-step=(number)
                        aria-current=[(number == usize::from(step)).then_some("step")] {
                        (name)
                    }
                }
            }
            (token_step(step))
            (account_step(step))
            (second_factor_step(step))
            (source_step(step, wizard.local_items))
            (libraries_step(step))
            (screens_step(wizard))
            (status_lines("The setup wizard"))
        }
    };
    document(wizard.base, "Set up Onesheet", Some("setup.js"), body)
}

/// Opens the section of step `number`, hidden unless it is the current one.
fn step_section(current: u8, number: u8, content: Markup) -> Markup {
    let heading = format!("step-{number}-heading");
    html! {
        section id=(format!("step-{number}")) class="wizard-step" data-step=(number)
            hidden[current != number] aria-labelledby=(heading) {
            (content)
        }
    }
}

fn step_heading(number: u8, text: &str) -> Markup {
    html! { h2 id=(format!("step-{number}-heading")) tabindex="-1" { (text) } }
}

fn token_step(current: u8) -> Markup {
    step_section(
        current,
        1,
        html! {
            (step_heading(1, "Setup token"))
            p {
                "The token proves that you run this server. At every start without an admin, "
                "the server writes a new one to its log and to the file "
                code { "setup-token" } " in its data folder (" code { "data/setup-token" }
                " by default, readable by the server's user only)."
            }
            form id="token-form" class="form" novalidate {
                div class="field" {
                    label for="setup-token" { "Setup token" }
                    input id="setup-token" name="setup_token" type="text" autocomplete="off"
                        autocapitalize="none" spellcheck="false" required
                        aria-describedby="setup-token-error";
                    p id="setup-token-error" class="field-error" hidden {}
                }
                button type="submit" class="primary" disabled { "Continue" }
            }
        },
    )
}

fn account_step(current: u8) -> Markup {
    let min = PasswordPolicy::DEFAULT_MIN_CHARS;
    let max = PasswordPolicy::DEFAULT_MAX_CHARS;
    step_section(
        current,
        2,
        html! {
            (step_heading(2, "Admin account"))
            p { "This account manages the server. You can add two-factor sign-in next." }
            form id="account-form" class="form" novalidate {
                div class="field" {
                    label for="username" { "User name" }
                    input id="username" name="username" type="text" autocomplete="username"
                        autocapitalize="none" spellcheck="false" required maxlength="64"
                        value="admin" aria-describedby="username-error";
                    p id="username-error" class="field-error" hidden {}
                }
                div class="field" {
                    label for="new-password" { "Password" }
                    input id="new-password" name="password" type="password"
                        autocomplete="new-password" required maxlength=(max)
                        aria-describedby="password-rules new-password-error";
                    p id="password-rules" class="hint" {
                        (min) " to " (max) " characters, not a common password, not the user "
                        "name and not one pattern repeated. A sentence of four words works well."
                    }
                    p id="new-password-error" class="field-error" hidden {}
                }
                div class="field" {
                    label for="repeat-password" { "Password again" }
                    input id="repeat-password" name="repeat_password" type="password"
                        autocomplete="new-password" required maxlength=(max)
                        aria-describedby="repeat-password-error";
                    p id="repeat-password-error" class="field-error" hidden {}
                }
                div class="actions" {
                    button type="button" class="secondary inline" data-back="1" { "Back" }
                    button type="submit" class="primary inline" disabled { "Create the account" }
                }
            }
        },
    )
}

fn second_factor_step(current: u8) -> Markup {
    step_section(
        current,
        3,
        html! {
            (step_heading(3, "Two-factor sign-in (optional)"))
            p {
                "With two-factor sign-in, signing in also needs a six-digit code from an "
                "authenticator app on your phone, so a leaked password alone is not enough."
            }
            div id="totp-start" class="actions" {
                button id="totp-begin" type="button" class="primary inline" disabled {
                    "Set up two-factor sign-in"
                }
            }
            div id="totp-enrol" hidden {
                p {
                    "Scan the code with the app, or type the key below into it. Then enter the "
                    "code that the app shows."
                }
                img id="totp-qr" class="qr" alt="QR code to add Onesheet to an authenticator app"
                    width="240" height="240";
                p { "Key: " code id="totp-secret" class="secret" {} }
                form id="totp-form" class="form" novalidate {
                    div class="field" {
                        label for="totp-code" { "Code from the app" }
                        input id="totp-code" name="code" type="text" inputmode="numeric"
                            autocomplete="one-time-code" maxlength="12" required
                            aria-describedby="totp-code-error";
                        p id="totp-code-error" class="field-error" hidden {}
                    }
                    button type="submit" class="primary" disabled { "Turn on two-factor sign-in" }
                }
            }
            div id="recovery" class="result" hidden tabindex="-1" {
                h3 { "Recovery codes" }
                p {
                    "Each code signs you in once without the app. Keep them somewhere safe: "
                    "they are shown only now."
                }
                ul id="recovery-codes" class="recovery-codes" {}
                div class="actions" {
                    button id="recovery-copy" type="button" class="secondary inline" {
                        "Copy the codes"
                    }
                    button id="recovery-download" type="button" class="secondary inline" {
                        "Download the codes"
                    }
                }
            }
            div class="actions" {
                button id="totp-next" type="button" class="secondary inline" { "Skip this step" }
            }
        },
    )
}

fn source_step(current: u8, local_items: Option<usize>) -> Markup {
    step_section(
        current,
        4,
        html! {
            (step_heading(4, "First source"))
            fieldset class="kinds" {
                legend { "Where do the posters come from?" }
                @for (value, label) in [
                    ("local", "Image files in the server's media folder"),
                    ("jellyfin", "Jellyfin"),
                    ("emby", "Emby"),
                    ("plex", "Plex"),
                ] {
                    div class="field check" {
                        input id=(format!("kind-{value}")) type="radio" name="kind" value=(value)
                            checked[value == "local"];
                        label for=(format!("kind-{value}")) { (label) }
                    }
                }
            }
            div id="local-info" class="notice" {
                p {
                    "Put image files in the " code { "posters" } ", " code { "backgrounds" }
                    " and " code { "logos" } " folders of the media folder ("
                    code { "data/media" } " unless the settings file's " code { "media_dir" }
                    " names another). The server notices new files within seconds. Media "
                    "servers can be added later under Sources."
                }
                @if let Some(items) = local_items {
                    p id="local-items" { "The folder holds " (items) " items now." }
                }
            }
            form id="wizard-source-form" class="form" novalidate hidden {
                div class="field" {
                    label for="source-name" { "Name" }
                    input id="source-name" name="name" type="text" autocomplete="off"
                        required aria-describedby="source-name-hint source-name-error";
                    p id="source-name-hint" class="hint" { "Such as Living room." }
                    p id="source-name-error" class="field-error" hidden {}
                }
                div class="field" {
                    label for="source-host" { "Server address" }
                    input id="source-host" name="host" type="text" autocomplete="url"
                        autocapitalize="none" spellcheck="false" required
                        aria-describedby="source-host-hint source-host-error";
                    p id="source-host-hint" class="hint" {
                        "Such as http://192.168.1.20:8096, or the web app's address copied from "
                        "the browser."
                    }
                    p id="source-host-error" class="field-error" hidden {}
                }
                div class="field" {
                    label id="source-credential-label" for="source-credential" { "API key" }
                    input id="source-credential" name="credential" type="password"
                        autocomplete="off" autocapitalize="none" spellcheck="false"
                        aria-describedby="source-credential-state source-credential-hint source-credential-error";
                    p id="source-credential-state" class="hint credential-state" hidden {}
                    p id="source-credential-hint" class="hint" {}
                    p id="source-credential-error" class="field-error" hidden {}
                }
                button type="submit" class="primary" disabled { "Save and test the connection" }
                section id="wizard-test-result" class="test-result" hidden tabindex="-1"
                    aria-labelledby="wizard-test-heading" {
                    h3 id="wizard-test-heading" { "Connection test" }
                    p id="wizard-test-text" {}
                }
            }
            div class="actions" {
                button type="button" class="secondary inline" data-back="3" { "Back" }
                button id="source-next" type="button" class="primary inline" { "Continue" }
            }
        },
    )
}

fn libraries_step(current: u8) -> Markup {
    step_section(
        current,
        5,
        html! {
            (step_heading(5, "Libraries"))
            p id="libraries-intro" {
                "Tick the libraries whose posters to show. With none ticked, every movie, show "
                "and music library is read."
            }
            div id="wizard-libraries" class="choices" {}
            div class="actions" {
                button type="button" class="secondary inline" data-back="4" { "Back" }
                button id="libraries-next" type="button" class="primary inline" {
                    "Save and continue"
                }
            }
        },
    )
}

fn screens_step(wizard: &Wizard<'_>) -> Markup {
    let site = wizard.public_url.unwrap_or(wizard.base);
    step_section(
        wizard.step,
        6,
        html! {
            (step_heading(6, "Open Onesheet on a screen"))
            p { "Open one of these addresses in the browser of the screen:" }
            ul class="display-links" {
                @for (path, name, what) in DISPLAY_PAGES {
                    li {
                        strong { (name) } ": " (what) ". "
                        code class="display-url" data-path=(path) { (site) (path) }
                    }
                }
            }
            p {
                "The screen then shows a pairing code and a QR code. Scan the QR code with your "
                "phone, or enter the code under Screens, and give the screen a name: it starts "
                "showing posters a few seconds later."
            }
            a id="wizard-done" class="button primary" href=(format!("{}/admin", wizard.base)) {
                "Open the dashboard"
            }
        },
    )
}
