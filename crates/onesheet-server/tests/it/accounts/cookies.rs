//! Session cookie flags behind proxies and overrides, session fixation, and the TOTP window at
//! login.

use onesheet_server::accounts::CookieSecure;

use super::*;

/// Logs in from `peer` with the given `X-Forwarded-Proto`, and returns the `Set-Cookie` header.
async fn login_cookie_flags(app: &AccountsApp, peer: &str, proto: Option<&str>) -> String {
    let mut request = request(
        "POST",
        "/api/v1/auth/login",
        peer,
        None,
        Some(json!({ "username": "admin", "password": PASSWORD })),
    );
    if let Some(proto) = proto {
        request
            .headers_mut()
            .insert("x-forwarded-proto", proto.parse().unwrap());
    }
    let response = app.app.send(request).await;
    assert_eq!(response.status, 200, "{peer} {proto:?}");
    response.header("set-cookie").to_owned()
}

#[tokio::test]
async fn cookie_flags_follow_the_client_scheme() {
    let app = accounts_app().await;
    app.setup().await;

    // The proxy facing the client writes the left-most value.
    let cases = [
        ("10.0.0.2:3000", Some("https"), true),
        ("10.0.0.2:3000", Some("https, http"), true),
        ("10.0.0.2:3000", Some("http"), false),
        ("10.0.0.2:3000", None, false),
        ("192.0.2.50:3000", Some("https"), false),
        ("192.168.1.20:3000", None, false),
    ];
    for (peer, proto, secure) in cases {
        let flags = login_cookie_flags(&app, peer, proto).await;
        assert_eq!(
            flags.contains("; Secure"),
            secure,
            "{peer} {proto:?}: {flags}"
        );
        assert!(flags.contains("; HttpOnly"), "{flags}");
        assert!(flags.contains("; SameSite=Lax"), "{flags}");
    }
}

#[tokio::test]
async fn cookie_secure_override_wins() {
    for (setting, secure) in [(CookieSecure::Always, true), (CookieSecure::Never, false)] {
        let app = accounts_app_with(SessionPolicy {
            cookie_secure: setting,
            ..SessionPolicy::default()
        })
        .await;
        app.setup().await;

        let plain = login_cookie_flags(&app, "192.168.1.20:3000", None).await;
        let proxied = login_cookie_flags(&app, "10.0.0.2:3000", Some("https")).await;

        assert_eq!(plain.contains("; Secure"), secure, "{setting:?}: {plain}");
        assert_eq!(
            proxied.contains("; Secure"),
            secure,
            "{setting:?}: {proxied}"
        );
    }
}

#[tokio::test]
async fn login_replaces_a_planted_session() {
    let app = accounts_app().await;
    let first = app.setup().await;

    let login = app.app.send(request(
        "POST",
        "/api/v1/auth/login",
        PEER,
        Some(&first),
        Some(json!({ "username": "admin", "password": PASSWORD })),
    ));
    let second = session_cookie(&login.await);

    assert_ne!(first, second);
    let old = app
        .send("GET", "/api/v1/auth/session", Some(&first), None)
        .await;
    assert_eq!(
        old.status, 401,
        "the session sent with the login survived it"
    );
    let new = app
        .send("GET", "/api/v1/auth/session", Some(&second), None)
        .await;
    assert_eq!(new.status, 200);
}

#[tokio::test]
async fn totp_accepts_one_step_either_side() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let enrolment = app
        .send("POST", "/api/v1/admin/account/totp", Some(&cookie), None)
        .await
        .json();
    let secret = TotpSecret::from_base32(enrolment["secret"].as_str().unwrap()).unwrap();
    let code_at = |offset_steps: i64| {
        let time = (app.now() as i64 + offset_steps * 30) as u64;
        onesheet_auth::totp::code_at(&secret, time).unwrap()
    };

    // Enrolment is as lenient as login: a phone one step ahead still enrols.
    let confirmed = app
        .send(
            "POST",
            "/api/v1/admin/account/totp/confirm",
            Some(&cookie),
            Some(json!({ "code": code_at(1) })),
        )
        .await;
    assert_eq!(confirmed.status, 200);

    app.clock.fetch_add(300, Ordering::SeqCst);
    for offset in [-1, 0, 1] {
        let pending = session_cookie(&app.login(PASSWORD).await);
        let response = app
            .send(
                "POST",
                "/api/v1/auth/second-factor",
                Some(&pending),
                Some(json!({ "code": code_at(offset) })),
            )
            .await;
        assert_eq!(response.status, 200, "step offset {offset}");
    }
}
