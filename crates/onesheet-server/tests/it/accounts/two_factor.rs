//! Two-factor sign-in through the router: enrolment window, replay, and what a session still waiting for its code may do.

use super::*;

#[tokio::test]
async fn totp_enrolment_window_and_replay() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let enrolment = app
        .send("POST", "/api/v1/admin/account/totp", Some(&cookie), None)
        .await;
    assert_eq!(enrolment.status, 200);
    let enrolment = enrolment.json();
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let code_at = |offset_steps: i64| {
        let time = (app.now() as i64 + offset_steps * 30) as u64;
        onesheet_auth::totp::code_at(&secret, time).unwrap()
    };

    let wrong = app
        .send(
            "POST",
            "/api/v1/admin/account/totp/confirm",
            Some(&cookie),
            Some(json!({ "code": code_at(-2) })),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let confirmed = app
        .send(
            "POST",
            "/api/v1/admin/account/totp/confirm",
            Some(&cookie),
            Some(json!({ "code": code_at(0) })),
        )
        .await;
    assert_eq!(confirmed.status, 200);
    let recovery: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // Later: a password alone gives a session that can only finish the second factor.
    app.clock.fetch_add(300, Ordering::SeqCst);
    let login = app.login(PASSWORD).await;
    assert_eq!(login.json()["status"], "second-factor-required");
    let pending = session_cookie(&login);
    assert_eq!(
        app.send("GET", "/api/v1/admin/sources", Some(&pending), None)
            .await
            .status,
        401
    );

    for offset in [-2, 2] {
        let rejected = app
            .send(
                "POST",
                "/api/v1/auth/second-factor",
                Some(&pending),
                Some(json!({ "code": code_at(offset) })),
            )
            .await;
        assert_eq!(rejected.status, 401, "step offset {offset}");
        assert_eq!(rejected.json()["error"]["code"], "code-rejected");
    }
    let accepted_code = code_at(-1);
    let accepted = app
        .send(
            "POST",
            "/api/v1/auth/second-factor",
            Some(&pending),
            Some(json!({ "code": accepted_code })),
        )
        .await;
    assert_eq!(accepted.status, 200);
    let full = session_cookie(&accepted);
    assert_ne!(
        full, pending,
        "the session id did not change at the second factor"
    );
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&pending), None)
            .await
            .status,
        401
    );
    assert_eq!(
        app.send("GET", "/api/v1/admin/audit", Some(&full), None)
            .await
            .status,
        200
    );

    // The same code again, on a new login: rejected as a replay.
    let again = session_cookie(&app.login(PASSWORD).await);
    let replay = app
        .send(
            "POST",
            "/api/v1/auth/second-factor",
            Some(&again),
            Some(json!({ "code": accepted_code })),
        )
        .await;
    assert_eq!(replay.status, 401);

    // A recovery code works once.
    let recovered = app
        .send(
            "POST",
            "/api/v1/auth/second-factor",
            Some(&again),
            Some(json!({ "recovery_code": recovery[0] })),
        )
        .await;
    assert_eq!(recovered.status, 200);
    let third = session_cookie(&app.login(PASSWORD).await);
    let reused = app
        .send(
            "POST",
            "/api/v1/auth/second-factor",
            Some(&third),
            Some(json!({ "recovery_code": recovery[0] })),
        )
        .await;
    assert_eq!(reused.status, 401);
}

#[tokio::test]
async fn pending_second_factor_cannot_end_other_sessions() {
    let app = accounts_app().await;
    let full = app.setup().await;
    let enrolment = app
        .send("POST", "/api/v1/admin/account/totp", Some(&full), None)
        .await
        .json();
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let code = onesheet_auth::totp::code_at(&secret, app.now()).unwrap();
    let confirmed = app
        .send(
            "POST",
            "/api/v1/admin/account/totp/confirm",
            Some(&full),
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(confirmed.status, 200);

    let pending = session_cookie(&app.login(PASSWORD).await);
    let everywhere = app
        .send(
            "POST",
            "/api/v1/auth/logout-everywhere",
            Some(&pending),
            None,
        )
        .await;
    assert_eq!(everywhere.status, 401);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&full), None)
            .await
            .status,
        200
    );
}
