//! Cooperating groups in real browsers: the screens of a distinct group never show the same
//! item at once, and the screens of a synchronised group switch together on the server clock.
//!
//! Each screen runs in a Chromium of its own, so each stores its own device identity, and both
//! read the same system clock. A page records every change of its item with `Date.now()`
//! through a MutationObserver, which gives each screen's exact timeline instead of samples.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    ADMIN_TOKEN, FIRST_POSTER_LOADED, FIRST_SLIDE_TIMEOUT, admin, console_errors, pair_page,
    send_command, wait_for, wait_for_command,
};
use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer};

/// Catalog size: a distinct pair gets 8 items each, and a synchronised pair passes 16 switches
/// before an item comes round again.
const POSTERS: usize = 16;
/// The groups' interval, the shortest the settings accept.
const GROUP_INTERVAL_MS: i64 = 2000;
const PAGE_QUERY: &str = "device_retry_ms=200";
/// Maximum time between the switches of two synchronised screens.
const MAX_SWITCH_GAP_MS: i64 = 100;
/// Deviation allowed from the group interval between two switches of one screen.
const MAX_INTERVAL_ERROR_MS: i64 = 150;

/// Starts recording, once per page, each change of the item on screen in
/// `window.groupTestSwitches`, beginning with the item shown now.
const RECORD_SWITCHES: &str = r#"
    if (!window.groupTestSwitches) {
        const log = [{ at: Date.now(), item: document.body.dataset.currentItem || null, initial: true }];
        window.groupTestSwitches = log;
        new MutationObserver(function recordSwitch() {
            const item = document.body.dataset.currentItem || null;
            if (item !== log[log.length - 1].item) {
                log.push({ at: Date.now(), item: item, initial: false });
            }
        }).observe(document.body, { attributes: true, attributeFilter: ['data-current-item'] });
    }
    return true;
"#;

const READ_SWITCHES: &str = "return { now: Date.now(), switches: window.groupTestSwitches || [] };";

#[derive(Debug, Clone, serde::Deserialize)]
struct Switch {
    at: i64,
    item: Option<String>,
    initial: bool,
}

#[derive(Debug, serde::Deserialize)]
struct SwitchLog {
    now: i64,
    switches: Vec<Switch>,
}

impl SwitchLog {
    fn transitions(&self) -> Vec<&Switch> {
        self.switches
            .iter()
            .filter(|switch| !switch.initial)
            .collect()
    }

    /// Returns `(item, from, to)` for each item shown, the last one until the log was read.
    fn timeline(&self) -> Vec<(Option<String>, i64, i64)> {
        self.switches
            .iter()
            .enumerate()
            .map(|(index, switch)| {
                let to = self
                    .switches
                    .get(index + 1)
                    .map_or(self.now, |next| next.at);
                (switch.item.clone(), switch.at, to)
            })
            .collect()
    }
}

/// Starts a server with [`POSTERS`] posters and the bootstrap admin token.
async fn start_server() -> TestServer {
    TestServer::start(ServerOptions {
        media_posters: POSTERS,
        env: vec![("ONESHEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned())],
        ..ServerOptions::default()
    })
    .await
}

/// Creates a group in `mode` whose overrides set the interval to [`GROUP_INTERVAL_MS`], and
/// returns its id.
async fn create_group(server: &TestServer, name: &str, mode: &str) -> i64 {
    let overrides = json!({ "screensaver": { "interval_seconds": GROUP_INTERVAL_MS / 1000 } });
    let (status, group) = admin(
        server,
        reqwest::Method::POST,
        "/api/v1/admin/groups",
        Some(json!({ "name": name, "mode": mode, "overrides": overrides })),
    )
    .await;
    assert_eq!(status, 201, "creating group {name} failed: {group}");
    group["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no group id in {group}"))
}

async fn update_device(server: &TestServer, device_id: &str, changes: Value) {
    let path = format!("/api/v1/admin/devices/{device_id}");
    let (status, body) = admin(server, reqwest::Method::PATCH, &path, Some(changes)).await;
    assert_eq!(status, 200, "PATCH {path} failed: {body}");
}

/// Opens the screensaver again, so the page starts with the playlist of its group.
async fn reload(browser: &Browser, server: &TestServer) {
    browser
        .goto(&server.url(&format!("/screensaver?{PAGE_QUERY}")))
        .await;
}

async fn wait_for_first_poster(browser: &Browser) {
    wait_for(
        browser,
        "the first poster is shown",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
}

async fn read_switches(browser: &Browser) -> SwitchLog {
    browser.eval(READ_SWITCHES).await
}

/// Records the switches of both pages until each has made `transitions` of them, and returns
/// both logs. Fails when that takes far longer than the group interval allows.
async fn record_switches(
    left: &Browser,
    right: &Browser,
    transitions: usize,
) -> (SwitchLog, SwitchLog) {
    let _: bool = left.eval(RECORD_SWITCHES).await;
    let _: bool = right.eval(RECORD_SWITCHES).await;
    let allowed = Duration::from_millis((transitions as u64 + 3) * GROUP_INTERVAL_MS as u64)
        + Duration::from_secs(20);
    let started = std::time::Instant::now();
    loop {
        let left_log = read_switches(left).await;
        let right_log = read_switches(right).await;
        if left_log.transitions().len() >= transitions
            && right_log.transitions().len() >= transitions
        {
            return (left_log, right_log);
        }
        assert!(
            started.elapsed() < allowed,
            "fewer than {transitions} switches per page after {} s\nleft: {left_log:#?}\nright: {right_log:#?}",
            allowed.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Checks that no item was on both screens at the same moment.
fn assert_never_shown_together(left: &SwitchLog, right: &SwitchLog) {
    let end = left.now.min(right.now);
    for (left_item, left_from, left_to) in left.timeline() {
        for (right_item, right_from, right_to) in right.timeline() {
            let Some(item) = left_item.as_ref() else {
                continue;
            };
            if right_item.as_ref() != Some(item) {
                continue;
            }
            let from = left_from.max(right_from);
            let to = left_to.min(right_to).min(end);
            assert!(
                from >= to,
                "both screens showed {item} for {} ms, from {from}\nleft: {left:#?}\nright: {right:#?}",
                to - from
            );
        }
    }
}

/// Checks that one screen switched once per group interval.
fn assert_group_interval(name: &str, log: &SwitchLog) {
    let transitions = log.transitions();
    for pair in transitions.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            (gap - GROUP_INTERVAL_MS).abs() <= MAX_INTERVAL_ERROR_MS,
            "the {name} screen switched {gap} ms after its previous switch, not every {GROUP_INTERVAL_MS} ms: {log:#?}"
        );
    }
}

#[tokio::test]
async fn distinct_screens_never_share_an_item() {
    let server = start_server().await;
    let Some(left) = Browser::launch("distinct_group_left", 640, 360).await else {
        return;
    };
    let Some(right) = Browser::launch("distinct_group_right", 640, 360).await else {
        return;
    };
    let left_id = pair_page(&left, &server, PAGE_QUERY, "Left").await;
    let right_id = pair_page(&right, &server, PAGE_QUERY, "Right").await;
    let group_id = create_group(&server, "Lobby wall", "distinct").await;
    update_device(&server, &left_id, json!({ "group_id": group_id })).await;
    update_device(&server, &right_id, json!({ "group_id": group_id })).await;

    // Both pages start together, so two screens that got the same playlist would show the
    // same items at nearly the same moments.
    tokio::join!(reload(&left, &server), reload(&right, &server));
    tokio::join!(wait_for_first_poster(&left), wait_for_first_poster(&right));
    let (left_log, right_log) = record_switches(&left, &right, 20).await;

    assert_never_shown_together(&left_log, &right_log);
    assert_group_interval("left", &left_log);
    assert_group_interval("right", &right_log);
    for browser in [&left, &right] {
        let errors = console_errors(browser, false).await;
        assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    }
    left.close().await;
    right.close().await;
}

/// Returns the item the screen switched to last at or before `at`, and when.
fn shown_at(log: &SwitchLog, at: i64) -> Option<&Switch> {
    log.switches.iter().rev().find(|switch| switch.at <= at)
}

/// Checks that every switch of the left screen in `from..to` has a switch of the right
/// screen to the same item within [`MAX_SWITCH_GAP_MS`], and returns how many there were.
fn assert_in_step(left: &SwitchLog, right: &SwitchLog, from: i64, to: i64) -> usize {
    let mut matched = 0;
    for switch in left.transitions() {
        if switch.at < from || switch.at > to {
            continue;
        }
        let partner = right
            .transitions()
            .into_iter()
            .find(|other| other.item == switch.item && (other.at - switch.at).abs() < GROUP_INTERVAL_MS)
            .unwrap_or_else(|| {
                panic!(
                    "the right screen did not switch to {:?} near {}, when the left did\nleft: {left:#?}\nright: {right:#?}",
                    switch.item, switch.at
                )
            });
        let gap = (partner.at - switch.at).abs();
        assert!(
            gap <= MAX_SWITCH_GAP_MS,
            "the screens switched to {:?} {gap} ms apart\nleft: {left:#?}\nright: {right:#?}",
            switch.item
        );
        matched += 1;
    }
    matched
}

/// Polls both switch logs until `done` accepts them, failing after `allowed`.
async fn wait_for_switches(
    left: &Browser,
    right: &Browser,
    description: &str,
    allowed: Duration,
    done: impl Fn(&SwitchLog, &SwitchLog) -> bool,
) -> (SwitchLog, SwitchLog) {
    let started = std::time::Instant::now();
    loop {
        let left_log = read_switches(left).await;
        let right_log = read_switches(right).await;
        if done(&left_log, &right_log) {
            return (left_log, right_log);
        }
        assert!(
            started.elapsed() < allowed,
            "timed out after {} s waiting until {description}\nleft: {left_log:#?}\nright: {right_log:#?}",
            allowed.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Counts the switches of a log after `at`.
fn switches_after(log: &SwitchLog, at: i64) -> usize {
    log.transitions()
        .iter()
        .filter(|switch| switch.at > at)
        .count()
}

#[tokio::test]
async fn synchronised_group_switches_together() {
    let server = start_server().await;
    let Some(left) = Browser::launch("synchronised_group_left", 640, 360).await else {
        return;
    };
    let Some(right) = Browser::launch("synchronised_group_right", 640, 360).await else {
        return;
    };
    let left_id = pair_page(&left, &server, PAGE_QUERY, "Left").await;
    let right_id = pair_page(&right, &server, PAGE_QUERY, "Right").await;
    let group_id = create_group(&server, "Bar", "synchronised").await;
    update_device(&server, &left_id, json!({ "group_id": group_id })).await;
    // The right screen's own interval differs, and the group's must still win.
    update_device(
        &server,
        &right_id,
        json!({ "group_id": group_id, "overrides": { "screensaver": { "interval_seconds": 5 } } }),
    )
    .await;

    reload(&left, &server).await;
    wait_for_first_poster(&left).await;
    // A deliberate phase shift: the right page starts 700 ms into the left page's interval, so
    // only switch moments taken from the server clock can line up.
    tokio::time::sleep(Duration::from_millis(700)).await;
    reload(&right, &server).await;
    wait_for_first_poster(&right).await;
    let (left_log, right_log) = record_switches(&left, &right, 12).await;

    // A switch that falls between the start of the two recorders is in one log only.
    let recording = left_log.switches[0].at.max(right_log.switches[0].at) + MAX_SWITCH_GAP_MS;
    let last = left_log.now.min(right_log.now) - MAX_SWITCH_GAP_MS;
    let matched = assert_in_step(&left_log, &right_log, recording, last);
    assert!(
        matched >= 10,
        "only {matched} switches to compare\nleft: {left_log:#?}\nright: {right_log:#?}"
    );
    assert_group_interval("left", &left_log);
    assert_group_interval("right", &right_log);
    for browser in [&left, &right] {
        let errors = console_errors(browser, false).await;
        assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    }
    left.close().await;
    right.close().await;
}

#[tokio::test]
async fn synchronised_screen_rejoins_after_commands() {
    let server = start_server().await;
    let Some(left) = Browser::launch("synchronised_commands_left", 640, 360).await else {
        return;
    };
    let Some(right) = Browser::launch("synchronised_commands_right", 640, 360).await else {
        return;
    };
    let left_id = pair_page(&left, &server, PAGE_QUERY, "Left").await;
    let right_id = pair_page(&right, &server, PAGE_QUERY, "Right").await;
    let group_id = create_group(&server, "Foyer", "synchronised").await;
    update_device(&server, &left_id, json!({ "group_id": group_id })).await;
    update_device(&server, &right_id, json!({ "group_id": group_id })).await;
    tokio::join!(reload(&left, &server), reload(&right, &server));
    tokio::join!(wait_for_first_poster(&left), wait_for_first_poster(&right));
    let (left_log, right_log) = record_switches(&left, &right, 2).await;
    let recording = left_log.switches[0].at.max(right_log.switches[0].at) + MAX_SWITCH_GAP_MS;
    assert_in_step(&left_log, &right_log, recording, left_log.now);
    let generous = Duration::from_secs(30);

    // `next` shows the coming slot's item at once. The left screen reaches that item at the
    // next boundary, and from then on both switch together again.
    let before_next: i64 = right.eval("return Date.now();").await;
    let next = send_command(&server, &right_id, json!({ "type": "next" })).await;
    assert_eq!(
        wait_for_command(&server, &right_id, next).await["state"],
        "acked"
    );
    let (left_log, right_log) = wait_for_switches(
        &left,
        &right,
        "both screens switch three times after next",
        generous,
        |left, right| {
            switches_after(left, before_next) >= 3 && switches_after(right, before_next) >= 3
        },
    )
    .await;
    let early = right_log
        .transitions()
        .into_iter()
        .find(|switch| switch.at > before_next)
        .cloned()
        .expect("the right screen switched after next");
    let caught_up = left_log
        .transitions()
        .into_iter()
        .find(|switch| switch.at > before_next && switch.item == early.item)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the left screen never reached {:?}\nleft: {left_log:#?}",
                early.item
            )
        });
    assert!(
        caught_up.at - early.at > MAX_SWITCH_GAP_MS && caught_up.at - early.at <= GROUP_INTERVAL_MS,
        "next should show the coming item early, up to one interval: right at {}, left at {}",
        early.at,
        caught_up.at
    );
    assert_eq!(
        shown_at(&right_log, caught_up.at + MAX_SWITCH_GAP_MS).map(|switch| &switch.item),
        Some(&early.item),
        "the right screen left the item before the group reached it\nright: {right_log:#?}"
    );
    let matched = assert_in_step(
        &left_log,
        &right_log,
        caught_up.at + MAX_SWITCH_GAP_MS,
        left_log.now,
    );
    assert!(
        matched >= 2,
        "only {matched} switches after next\nleft: {left_log:#?}\nright: {right_log:#?}"
    );

    // `pause` keeps the right screen on its item while the group moves on. After `resume` it switches at
    // once to the slide it had prepared and follows the group again from the next boundary.
    let pause = send_command(&server, &right_id, json!({ "type": "pause" })).await;
    assert_eq!(
        wait_for_command(&server, &right_id, pause).await["state"],
        "acked"
    );
    let paused_at: i64 = right.eval("return Date.now();").await;
    let (_, right_log) = wait_for_switches(
        &left,
        &right,
        "the left screen switches twice during the pause",
        generous,
        |left, _| switches_after(left, paused_at) >= 2,
    )
    .await;
    assert_eq!(
        switches_after(&right_log, paused_at),
        0,
        "the paused screen switched\nright: {right_log:#?}"
    );
    let resume = send_command(&server, &right_id, json!({ "type": "resume" })).await;
    assert_eq!(
        wait_for_command(&server, &right_id, resume).await["state"],
        "acked"
    );
    let resumed_at: i64 = right.eval("return Date.now();").await;
    let (left_log, right_log) = wait_for_switches(
        &left,
        &right,
        "the left screen switches three times after resume",
        generous,
        |left, _| switches_after(left, resumed_at) >= 3,
    )
    .await;
    let rejoined = left_log
        .transitions()
        .into_iter()
        .find(|switch| switch.at > resumed_at)
        .map(|switch| switch.at)
        .expect("the left screen switched after resume");
    let matched = assert_in_step(&left_log, &right_log, rejoined, left_log.now);
    assert!(
        matched >= 3,
        "only {matched} switches after resume\nleft: {left_log:#?}\nright: {right_log:#?}"
    );

    for browser in [&left, &right] {
        let errors = console_errors(browser, false).await;
        assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    }
    left.close().await;
    right.close().await;
}
