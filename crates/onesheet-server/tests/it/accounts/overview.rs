//! What the security page reads and changes beside the basic account routes: the account
//! overview, signing out every other session, and the audit log's filters and paging.

use std::sync::atomic::Ordering;

use onesheet_auth::TotpSecret;
use serde_json::json;

use super::{PASSWORD, accounts_app, session_cookie};

#[tokio::test]
async fn overview_reports_two_factor_state() {
    let app = accounts_app().await;
    let cookie = app.setup().await;

    let before = app
        .send("GET", "/api/v1/admin/account", Some(&cookie), None)
        .await;
    assert_eq!(before.status, 200);
    let before = before.json();
    assert_eq!(before["username"], "admin");
    assert_eq!(before["two_factor"]["enabled"], false);
    assert_eq!(before["two_factor"]["recovery_codes_left"], 0);
    assert_eq!(before["password"]["min_chars"], 12);
    assert_eq!(before["password"]["max_chars"], 256);

    let enrolment = app
        .send("POST", "/api/v1/admin/account/totp", Some(&cookie), None)
        .await
        .json();
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let code = onesheet_auth::totp::code_at(&secret, app.now()).unwrap();
    let confirmed = app
        .send(
            "POST",
            "/api/v1/admin/account/totp/confirm",
            Some(&cookie),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(confirmed.status, 200);
    let recovery = confirmed.json()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // A later login spends one recovery code, and the overview counts what is left.
    app.clock.fetch_add(60, Ordering::SeqCst);
    let pending = session_cookie(&app.login(PASSWORD).await);
    let finished = app
        .send(
            "POST",
            "/api/v1/auth/second-factor",
            Some(&pending),
            Some(json!({ "recovery_code": recovery })),
        )
        .await;
    assert_eq!(finished.status, 200);
    let after = app
        .send("GET", "/api/v1/admin/account", Some(&cookie), None)
        .await
        .json();
    assert_eq!(after["two_factor"]["enabled"], true);
    assert_eq!(after["two_factor"]["recovery_codes_left"], 9);
}

#[tokio::test]
async fn overview_needs_a_finished_sign_in() {
    let app = accounts_app().await;
    app.setup().await;
    let response = app.send("GET", "/api/v1/admin/account", None, None).await;
    assert_eq!(response.status, 401);
}

#[tokio::test]
async fn revoke_others_keeps_this_session() {
    let app = accounts_app().await;
    let current = app.setup().await;
    let second = session_cookie(&app.login(PASSWORD).await);
    let third = session_cookie(&app.login(PASSWORD).await);

    let response = app
        .send(
            "DELETE",
            "/api/v1/admin/account/sessions/others",
            Some(&current),
            None,
        )
        .await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.json()["ended"], 2);

    for (name, cookie, expected) in [
        ("current", &current, 200),
        ("second", &second, 401),
        ("third", &third, 401),
    ] {
        let status = app
            .send("GET", "/api/v1/auth/session", Some(cookie), None)
            .await
            .status;
        assert_eq!(status, expected, "the {name} session");
    }
    let sessions = app
        .send(
            "GET",
            "/api/v1/admin/account/sessions",
            Some(&current),
            None,
        )
        .await
        .json();
    let sessions = sessions["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["current"], true);

    let audit = app
        .send(
            "GET",
            "/api/v1/admin/audit?action=session.revoked_others",
            Some(&current),
            None,
        )
        .await
        .json();
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail"]["sessions"], 2);
}

#[tokio::test]
async fn revoke_one_session_by_id() {
    let app = accounts_app().await;
    let current = app.setup().await;
    let other = session_cookie(&app.login(PASSWORD).await);
    let sessions = app
        .send(
            "GET",
            "/api/v1/admin/account/sessions",
            Some(&current),
            None,
        )
        .await
        .json();
    let other_id = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .map(|session| session["id"].as_str().unwrap().to_owned())
        .unwrap();

    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/admin/account/sessions/{other_id}"),
            Some(&current),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&other), None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn audit_filters_select_and_page() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    for index in 0..5 {
        app.clock.fetch_add(10, Ordering::SeqCst);
        let created = app
            .send(
                "POST",
                "/api/v1/admin/tokens",
                Some(&cookie),
                Some(json!({ "name": format!("script-{index}"), "scope": "read" })),
            )
            .await;
        assert_eq!(created.status, 201);
    }

    // Blank values, as an empty form field sends them, mean no filter.
    let all = app
        .send(
            "GET",
            "/api/v1/admin/audit?actor=&action=token.&since=&until=&limit=",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(all.status, 200, "{}", String::from_utf8_lossy(&all.body));
    let all = all.json();
    assert_eq!(all["events"].as_array().unwrap().len(), 5);
    assert_eq!(all["next_before"], json!(null), "a short page is the last");

    // Two pages of two, then the last page of one.
    let mut targets = Vec::new();
    let mut before: Option<i64> = None;
    for expected_len in [2, 2, 1] {
        let uri = match before {
            Some(id) => format!("/api/v1/admin/audit?action=token.&limit=2&before={id}"),
            None => "/api/v1/admin/audit?action=token.&limit=2".to_owned(),
        };
        let page = app.send("GET", &uri, Some(&cookie), None).await.json();
        let events = page["events"].as_array().unwrap();
        assert_eq!(events.len(), expected_len, "{uri}");
        targets.extend(
            events
                .iter()
                .map(|event| event["target"].as_str().unwrap().to_owned()),
        );
        before = page["next_before"].as_i64();
    }
    assert_eq!(before, None, "the last page has no next_before");
    assert_eq!(
        targets,
        ["script-4", "script-3", "script-2", "script-1", "script-0"]
    );

    // A time range: `since` is inclusive and `until` exclusive.
    let start = app.now() as i64;
    let range = app
        .send(
            "GET",
            &format!(
                "/api/v1/admin/audit?action=token.&since={}&until={}",
                start - 30,
                start - 10
            ),
            Some(&cookie),
            None,
        )
        .await
        .json();
    let targets: Vec<&str> = range["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["script-2", "script-1"]);

    let by_actor = app
        .send(
            "GET",
            "/api/v1/admin/audit?actor=nobody",
            Some(&cookie),
            None,
        )
        .await
        .json();
    assert!(by_actor["events"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn audit_rejects_invalid_filters() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let long_actor = format!("actor={}", "x".repeat(101));
    let long_action = format!("action={}", "x".repeat(101));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("since=yesterday", "since"),
        ("until=1.5", "until"),
        ("since=200&until=100", "until"),
        ("since=100&until=100", "until"),
        ("before=0", "before"),
        (long_actor.as_str(), "actor"),
        (long_action.as_str(), "action"),
        ("colour=red", "query"),
    ] {
        let response = app
            .send(
                "GET",
                &format!("/api/v1/admin/audit?{query}"),
                Some(&cookie),
                None,
            )
            .await;
        assert_eq!(response.status, 400, "{query}");
        let error = &response.json()["error"];
        assert_eq!(error["code"], "invalid-input", "{query}");
        assert_eq!(error["field"], field, "{query}: {error}");
    }
}

#[tokio::test]
async fn security_page_renders_without_inline_code() {
    let app = accounts_app().await;
    let cookie = app.setup().await;

    let signed_out = app.send("GET", "/admin/security", None, None).await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(
        signed_out.header("location"),
        "/admin/login?next=%2Fadmin%2Fsecurity"
    );

    let page = app
        .send("GET", "/admin/security", Some(&cookie), None)
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    let body = String::from_utf8_lossy(&page.body).to_ascii_lowercase();
    for expected in [
        "src=\"/assets/js/admin/security.js\"",
        "id=\"password-form\"",
        "id=\"totp-begin\"",
        "id=\"sessions-rows\"",
        "id=\"token-form\"",
        "id=\"audit-form\"",
        // The password rules come from the policy that the server enforces.
        "12 to 256 characters",
        "maxlength=\"64\"",
    ] {
        assert!(body.contains(expected), "missing {expected}");
    }
    assert!(!body.contains(" style="), "the page has a style attribute");
    assert!(!body.contains("<style"), "the page has a <style> element");
    assert_eq!(
        body.matches("<script").count(),
        body.matches("<script type=\"module\" src=").count(),
        "the page has an inline script"
    );
}
