//! The audit log: filters, paging, the page cap and retention.

use onesheet_store::{AUDIT_PAGE_MAX, AuditEvent, AuditFilter, NewAuditEvent, Store};
use serde_json::json;

use super::support::open_store;

fn event(at: i64, actor: &str, action: &str) -> NewAuditEvent {
    NewAuditEvent {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: None,
        ip: None,
        user_agent: None,
        detail: None,
    }
}

fn actions(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|event| event.action.as_str()).collect()
}

#[tokio::test]
async fn event_round_trips_every_field() {
    let test = open_store().await;
    let store = &test.store;
    let appended = NewAuditEvent {
        at: 1_000,
        actor: "alice".to_owned(),
        action: "source.updated".to_owned(),
        target: Some("living-room".to_owned()),
        ip: Some("2001:db8::1".to_owned()),
        user_agent: Some("curl/8.5.0".to_owned()),
        detail: Some(json!({ "fields": ["name", "enabled"] })),
    };

    let id = store.append_audit_event(&appended).await.unwrap();
    let listed = store
        .list_audit_events(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        listed,
        vec![AuditEvent {
            id,
            at: appended.at,
            actor: appended.actor,
            action: appended.action,
            target: appended.target,
            ip: appended.ip,
            user_agent: appended.user_agent,
            detail: appended.detail,
        }]
    );
}

#[tokio::test]
async fn events_are_listed_newest_first() {
    let test = open_store().await;
    let store = &test.store;
    for action in ["a.first", "a.second", "a.third"] {
        store
            .append_audit_event(&event(1_000, "alice", action))
            .await
            .unwrap();
    }

    let listed = store
        .list_audit_events(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(actions(&listed), ["a.third", "a.second", "a.first"]);
}

#[tokio::test]
async fn action_prefix_matches_exact_bytes() {
    let test = open_store().await;
    let store = &test.store;
    for action in [
        "login.success",
        "login.failure",
        "loginx.other",
        "LOGIN.upper",
        "logi",
        "token.created",
        "100%.done",
        "100x.done",
    ] {
        store
            .append_audit_event(&event(1_000, "system", action))
            .await
            .unwrap();
    }

    let prefixed = |prefix: &str| AuditFilter {
        action_prefix: Some(prefix.to_owned()),
        ..AuditFilter::default()
    };
    let login = store.list_audit_events(&prefixed("login.")).await.unwrap();
    assert_eq!(actions(&login), ["login.failure", "login.success"]);

    let percent = store.list_audit_events(&prefixed("100%")).await.unwrap();
    assert_eq!(actions(&percent), ["100%.done"], "% is not a wildcard");

    let exact = store
        .list_audit_events(&prefixed("token.created"))
        .await
        .unwrap();
    assert_eq!(actions(&exact), ["token.created"]);
}

#[tokio::test]
async fn actor_and_time_filters_combine() {
    let test = open_store().await;
    let store = &test.store;
    store
        .append_audit_event(&event(100, "alice", "login.success"))
        .await
        .unwrap();
    store
        .append_audit_event(&event(200, "alice", "password.changed"))
        .await
        .unwrap();
    store
        .append_audit_event(&event(200, "bob", "login.success"))
        .await
        .unwrap();
    store
        .append_audit_event(&event(300, "alice", "totp.enabled"))
        .await
        .unwrap();

    let alice = store
        .list_audit_events(&AuditFilter {
            actor: Some("alice".to_owned()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        actions(&alice),
        ["totp.enabled", "password.changed", "login.success"]
    );

    // `since` is inclusive and `until` exclusive.
    let window = store
        .list_audit_events(&AuditFilter {
            since: Some(200),
            until: Some(300),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actors: Vec<&str> = window.iter().map(|event| event.actor.as_str()).collect();
    assert_eq!(actors, ["bob", "alice"]);

    let none = store
        .list_audit_events(&AuditFilter {
            actor: Some("bob".to_owned()),
            action_prefix: Some("totp.".to_owned()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn cursor_pages_through_events() {
    let test = open_store().await;
    let store = &test.store;
    let mut ids = Vec::new();
    for index in 0..7 {
        let id = store
            .append_audit_event(&event(1_000 + index, "system", &format!("step.{index}")))
            .await
            .unwrap();
        ids.push(id);
    }

    let mut pages = Vec::new();
    let mut before_id = None;
    loop {
        let page = store
            .list_audit_events(&AuditFilter {
                before_id,
                limit: Some(3),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else {
            break;
        };
        before_id = Some(last.id);
        pages.push(page.iter().map(|event| event.id).collect::<Vec<_>>());
    }

    ids.reverse();
    assert_eq!(
        pages,
        vec![ids[0..3].to_vec(), ids[3..6].to_vec(), ids[6..].to_vec()]
    );
}

#[tokio::test]
async fn page_size_is_capped() {
    let test = open_store().await;
    let store = &test.store;
    let total = AUDIT_PAGE_MAX as i64 + 10;
    for index in 0..total {
        store
            .append_audit_event(&event(index, "system", "bulk.event"))
            .await
            .unwrap();
    }

    let default = store
        .list_audit_events(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(default.len(), AUDIT_PAGE_MAX as usize);
    assert_eq!(
        default[0].at,
        total - 1,
        "the page starts at the newest event"
    );

    let over_cap = store
        .list_audit_events(&AuditFilter {
            limit: Some(10_000),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(over_cap.len(), AUDIT_PAGE_MAX as usize);

    let small = store
        .list_audit_events(&AuditFilter {
            limit: Some(4),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(small.len(), 4);

    let zero = store
        .list_audit_events(&AuditFilter {
            limit: Some(0),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(zero.is_empty());
}

#[tokio::test]
async fn prune_removes_events_before_cutoff() {
    let test = open_store().await;
    let store = &test.store;
    for at in [100, 200, 300, 400] {
        store
            .append_audit_event(&event(at, "system", "tick"))
            .await
            .unwrap();
    }

    assert_eq!(store.prune_audit_events(300).await.unwrap(), 2);
    assert_eq!(store.prune_audit_events(300).await.unwrap(), 0);
    let left = store
        .list_audit_events(&AuditFilter::default())
        .await
        .unwrap();
    let times: Vec<i64> = left.iter().map(|event| event.at).collect();
    assert_eq!(times, [400, 300]);
}

#[tokio::test]
async fn ids_keep_growing_after_full_prune() {
    let test = open_store().await;
    let store = &test.store;
    let first = store
        .append_audit_event(&event(100, "system", "tick"))
        .await
        .unwrap();
    store.prune_audit_events(i64::MAX).await.unwrap();

    let next = store
        .append_audit_event(&event(200, "system", "tick"))
        .await
        .unwrap();
    assert!(
        next > first,
        "a cursor from before the prune must not match new events"
    );
}
