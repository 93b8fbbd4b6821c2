//! Setup, login, sessions, two-factor, API tokens and lockout, through the whole router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use onesheet_auth::TotpSecret;
use onesheet_server::accounts::{Accounts, SessionPolicy};
use onesheet_server::security::TrustedProxies;
use onesheet_store::{SecretKey, SqliteStore};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

mod cookies;
mod feeds;
mod limits;
mod overview;
mod paths;
mod scopes;
mod two_factor;

const PASSWORD: &str = "lantern velvet orbit 42";
const PEER: &str = "192.0.2.10:40000";
/// 2026-12-05 00:00:10 UTC: ten seconds into a TOTP step.
const START: i64 = 1_796_428_810;

struct AccountsApp {
    app: TestApp,
    clock: Arc<AtomicI64>,
    setup_token: String,
    data: tempfile::TempDir,
}

async fn accounts_app() -> AccountsApp {
    accounts_app_with(SessionPolicy::default()).await
}

async fn accounts_app_with(policy: SessionPolicy) -> AccountsApp {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&data.path().join("accounts.db"))
            .await
            .unwrap(),
    );
    let clock = Arc::new(AtomicI64::new(START));
    let reading = clock.clone();
    let accounts = Accounts::new(store, SecretKey::from_bytes(&[7; 32]), data.path(), policy)
        .with_clock(Arc::new(move || reading.load(Ordering::SeqCst)));
    let setup_token = accounts.open_setup().await.unwrap().unwrap();
    let accounts = Arc::new(accounts);
    let app = TestApp::with_posters(1).await.with_state(|state| {
        state
            .with_accounts(accounts)
            .with_trusted_proxies(TrustedProxies::parse(&["10.0.0.2"]).unwrap())
    });
    AccountsApp {
        app,
        clock,
        setup_token,
        data,
    }
}

/// A request as a browser on this server's own page sends it, from `peer`.
fn request(
    method: &str,
    uri: &str,
    peer: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("sec-fetch-site", "same-origin")
        .header("user-agent", "integration-test");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let mut request = builder.body(body).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// The `name=value` part of the response's session cookie.
fn session_cookie(response: &TestResponse) -> String {
    let set_cookie = response.header("set-cookie");
    set_cookie.split(';').next().unwrap().to_owned()
}

impl AccountsApp {
    async fn send(
        &self,
        method: &str,
        uri: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.app
            .send(request(method, uri, PEER, cookie, body))
            .await
    }

    async fn setup(&self) -> String {
        let response = self
            .send(
                "POST",
                "/api/v1/setup",
                None,
                Some(json!({ "setup_token": self.setup_token, "username": "admin", "password": PASSWORD })),
            )
            .await;
        assert_eq!(
            response.status,
            201,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        session_cookie(&response)
    }

    async fn login_from(&self, peer: &str, username: &str, password: &str) -> TestResponse {
        self.app
            .send(request(
                "POST",
                "/api/v1/auth/login",
                peer,
                None,
                Some(json!({ "username": username, "password": password })),
            ))
            .await
    }

    async fn login(&self, password: &str) -> TestResponse {
        self.login_from(PEER, "admin", password).await
    }

    fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst) as u64
    }
}

#[tokio::test]
async fn setup_needs_token_and_runs_once() {
    let app = accounts_app().await;
    let token_file = app.data.path().join("setup-token");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap().trim(),
        app.setup_token
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        app.send("GET", "/api/v1/setup", None, None).await.json()["setup_required"],
        true
    );

    let wrong = app
        .send(
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({ "setup_token": "guess", "username": "admin", "password": PASSWORD })),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"]["code"], "setup-token-rejected");

    let weak = app
        .send(
            "POST",
            "/api/v1/setup",
            None,
            Some(
                json!({ "setup_token": app.setup_token, "username": "admin", "password": "short" }),
            ),
        )
        .await;
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json()["error"]["field"], "password");

    let cookie = app.setup().await;
    assert!(cookie.starts_with("onesheet_session="));
    assert!(!token_file.exists(), "the setup token file outlived setup");
    assert_eq!(
        app.send("GET", "/api/v1/setup", None, None).await.json()["setup_required"],
        false
    );

    let again = app
        .send(
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({ "setup_token": app.setup_token, "username": "second", "password": PASSWORD })),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["error"]["code"], "setup-done");
}

#[tokio::test]
async fn session_cookie_opens_admin_until_logout() {
    let app = accounts_app().await;
    app.setup().await;
    let response = app.login(PASSWORD).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "signed-in");
    let set_cookie = response.header("set-cookie").to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP got a Secure cookie: {set_cookie}"
    );
    let cookie = session_cookie(&response);

    assert_eq!(
        app.send("GET", "/api/v1/admin/sources", None, None)
            .await
            .status,
        401
    );
    let listed = app
        .send(
            "GET",
            "/api/v1/admin/audit?action=login",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    let actions: Vec<String> = listed.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["login.success"]);

    assert_eq!(
        app.send("POST", "/api/v1/auth/logout", Some(&cookie), None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&cookie), None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn unknown_username_looks_like_wrong_password() {
    let app = accounts_app().await;
    app.setup().await;
    let wrong_password = app
        .login_from("192.0.2.20:1", "admin", "not the password at all")
        .await;
    let unknown_user = app
        .login_from("192.0.2.21:1", "nobody", "not the password at all")
        .await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_user.status, 401);
    assert_eq!(
        wrong_password.json()["error"]["message"],
        unknown_user.json()["error"]["message"]
    );
    assert_eq!(
        wrong_password.json()["error"]["code"],
        "invalid-credentials"
    );
}

#[tokio::test]
async fn login_replaces_previous_session() {
    let app = accounts_app().await;
    let first = app.setup().await;
    let response = app
        .app
        .send(request(
            "POST",
            "/api/v1/auth/login",
            PEER,
            Some(&first),
            Some(json!({ "username": "admin", "password": PASSWORD })),
        ))
        .await;
    let second = session_cookie(&response);
    assert_ne!(first, second);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&first), None)
            .await
            .status,
        401
    );
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&second), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn failures_lock_out_one_account_only() {
    let app = accounts_app().await;
    app.setup().await;
    let attacker = "203.0.113.66:5000";
    for _ in 0..5 {
        assert_eq!(
            app.login_from(attacker, "admin", "wrong password guess")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        app.login_from(attacker, "admin", "wrong password guess")
            .await
            .status,
        401
    );
    let blocked = app.login_from(attacker, "admin", PASSWORD).await;
    assert_eq!(blocked.status, 429);
    assert_eq!(blocked.json()["error"]["code"], "too-many-attempts");
    assert!(blocked.header("retry-after").parse::<u32>().unwrap() >= 1);

    // A different account from a different address is untouched.
    let other = app
        .login_from("198.51.100.5:1", "someone-else", "wrong password guess")
        .await;
    assert_eq!(other.status, 401);
}

#[tokio::test]
async fn forged_forwarded_for_adds_no_bucket() {
    let app = accounts_app().await;
    app.setup().await;
    for attempt in 0..7 {
        let mut forged = request(
            "POST",
            "/api/v1/auth/login",
            "203.0.113.66:5000",
            None,
            Some(
                json!({ "username": format!("user{attempt}"), "password": "wrong password guess" }),
            ),
        );
        let value = format!("198.51.100.{attempt}").parse().unwrap();
        forged.headers_mut().insert("x-forwarded-for", value);
        app.app.send(forged).await;
    }
    // Seven failures from one real address, whatever the header said: that address is blocked.
    let blocked = app.login_from("203.0.113.66:5001", "admin", PASSWORD).await;
    assert_eq!(blocked.status, 429);
}

#[tokio::test]
async fn cookie_secure_only_behind_trusted_proxy() {
    let app = accounts_app().await;
    app.setup().await;
    let login = |peer: &'static str| {
        let mut request = request(
            "POST",
            "/api/v1/auth/login",
            peer,
            None,
            Some(json!({ "username": "admin", "password": PASSWORD })),
        );
        request
            .headers_mut()
            .insert("x-forwarded-proto", "https".parse().unwrap());
        request
    };
    let trusted = app.app.send(login("10.0.0.2:3000")).await;
    assert!(
        trusted.header("set-cookie").contains("; Secure"),
        "{}",
        trusted.header("set-cookie")
    );
    let spoofed = app.app.send(login("192.0.2.50:3000")).await;
    assert!(
        !spoofed.header("set-cookie").contains("Secure"),
        "{}",
        spoofed.header("set-cookie")
    );
}

#[tokio::test]
async fn cross_site_changes_are_rejected() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let csrf = app
        .send("GET", "/api/v1/auth/session", Some(&cookie), None)
        .await
        .json()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = || {
        Request::builder()
            .method("POST")
            .uri("/api/v1/admin/tokens")
            .header("cookie", &cookie)
            .header("content-type", "application/json")
    };
    let body = || Body::from(json!({ "name": "ci", "scope": "read" }).to_string());

    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("x-csrf-token", "not-the-token"),
    ] {
        let response = app
            .app
            .send(create().header(name, value).body(body()).unwrap())
            .await;
        assert_eq!(response.status, 403, "{name}: {value}");
        assert_eq!(response.json()["error"]["code"], "forbidden");
    }
    let bare = app.app.send(create().body(body()).unwrap()).await;
    assert_eq!(
        bare.status, 403,
        "a cookie request without origin headers passed"
    );

    let with_token = app
        .app
        .send(create().header("x-csrf-token", &csrf).body(body()).unwrap())
        .await;
    assert_eq!(with_token.status, 201);
    let same_origin = app
        .app
        .send(
            create()
                .header("origin", "http://posters.local")
                .header("host", "posters.local")
                .body(body())
                .unwrap(),
        )
        .await;
    assert_eq!(same_origin.status, 201);
}

#[tokio::test]
async fn api_token_scopes_and_query_rejection() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let created = app
        .send(
            "POST",
            "/api/v1/admin/tokens",
            Some(&cookie),
            Some(json!({ "name": "dashboard", "scope": "read" })),
        )
        .await;
    assert_eq!(created.status, 201);
    let created = created.json();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();

    let bearer = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    assert_eq!(
        app.app
            .send(bearer("GET", "/api/v1/admin/audit"))
            .await
            .status,
        200
    );
    let rejected = app.app.send(bearer("POST", "/api/v1/admin/sources")).await;
    assert_eq!(rejected.status, 403, "a read token changed something");
    assert_eq!(rejected.json()["error"]["code"], "forbidden");

    let in_query = app
        .app
        .get(&format!("/api/v1/admin/sources?token={token}"))
        .await;
    assert_eq!(in_query.status, 401);
    let in_query = app
        .app
        .get(&format!("/api/v1/admin/sources?access_token={token}"))
        .await;
    assert_eq!(in_query.status, 401);

    let listed = app
        .send("GET", "/api/v1/admin/tokens", Some(&cookie), None)
        .await;
    assert!(
        !String::from_utf8_lossy(&listed.body).contains(&token),
        "the token list shows the secret"
    );
    assert!(listed.json()["tokens"][0]["last_used_at"].is_i64());

    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/admin/tokens/{id}"),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    assert_eq!(
        app.app
            .send(bearer("GET", "/api/v1/admin/audit"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let app = accounts_app().await;
    let first = app.setup().await;
    let second = session_cookie(&app.login(PASSWORD).await);
    let changed = app
        .send(
            "PUT",
            "/api/v1/admin/account/password",
            Some(&first),
            Some(json!({ "current_password": PASSWORD, "new_password": "a different long passphrase" })),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&first), None)
            .await
            .status,
        200
    );
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&second), None)
            .await
            .status,
        401
    );
    assert_eq!(app.login(PASSWORD).await.status, 401);
    assert_eq!(app.login("a different long passphrase").await.status, 200);
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    app.clock.fetch_add(29 * 60, Ordering::SeqCst);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&cookie), None)
            .await
            .status,
        200
    );
    app.clock.fetch_add(31 * 60, Ordering::SeqCst);
    assert_eq!(
        app.send("GET", "/api/v1/auth/session", Some(&cookie), None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn every_protected_route_needs_credentials() {
    let app = accounts_app().await;
    let cookie = app.setup().await;
    let read_token = app
        .send(
            "POST",
            "/api/v1/admin/tokens",
            Some(&cookie),
            Some(json!({ "name": "reader", "scope": "read" })),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let routes = onesheet_server::protected_routes();
    assert!(
        routes.len() >= 17,
        "only {} protected routes listed",
        routes.len()
    );
    for (path, method) in routes {
        let uri = path.replace("{id}", "1");
        let anonymous = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = app.app.send(anonymous).await;
        assert_eq!(response.status, 401, "{method} {path} without credentials");

        // A token in the query string is not a credential.
        let in_query = Request::builder()
            .method(method.clone())
            .uri(format!("{uri}?token={read_token}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            app.app.send(in_query).await.status,
            401,
            "{method} {path} with ?token="
        );

        if method != axum::http::Method::GET {
            let reader = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("authorization", format!("Bearer {read_token}"))
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let status = app.app.send(reader).await.status;
            assert!(
                status == 401 || status == 403,
                "{method} {path} with a read-only token gave {status}"
            );
        }
    }
}

#[tokio::test]
async fn parallel_guesses_get_only_the_free_attempts() {
    let app = Arc::new(accounts_app().await);
    app.setup().await;
    let guesses: Vec<_> = (0..30)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.login_from("203.0.113.77:1", "admin", "wrong password guess")
                    .await
                    .status
            })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        if guess.await.unwrap() == 401 {
            checked += 1;
        }
    }
    assert_eq!(checked, 6, "passwords checked out of 30 parallel guesses");
}

#[tokio::test]
async fn remembered_cookie_lasts_seven_days_at_most() {
    let app = accounts_app().await;
    app.setup().await;
    let response = app
        .send(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({ "username": "admin", "password": PASSWORD, "remember": true })),
        )
        .await;
    assert!(
        response.header("set-cookie").contains("Max-Age=604800"),
        "{}",
        response.header("set-cookie")
    );
}

#[tokio::test]
async fn signed_in_admin_previews_display_routes_from_outside() {
    let app = accounts_app().await;
    let cookie = app.setup().await;

    let signed_in = app
        .send("GET", "/api/v1/playlist", Some(&cookie), None)
        .await;
    assert_eq!(signed_in.status, 200);

    let anonymous = app.send("GET", "/api/v1/playlist", None, None).await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(anonymous.json()["error"]["code"], "display-not-allowed");

    app.send("POST", "/api/v1/auth/logout", Some(&cookie), None)
        .await;
    let logged_out = app
        .send("GET", "/api/v1/playlist", Some(&cookie), None)
        .await;
    assert_eq!(logged_out.status, 403);
}
