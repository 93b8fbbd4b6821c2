//! Pairing: codes, the admin's claim, resuming after a reconnect, automatic admission and
//! device authentication.

use onesheet_domain::{HelloAuth, PairingResume, ServerMessage};

use super::*;

#[tokio::test]
async fn pairing_claim_sends_paired_then_welcome() {
    let app = DeviceApp::start().await;
    let mut screen = app.connect().await;
    screen
        .send(&hello(HelloAuth::Pairing { resume: None }))
        .await;

    let ServerMessage::Pairing {
        code,
        expires_at,
        claim_path,
        ..
    } = screen.next().await
    else {
        panic!("expected pairing");
    };
    assert_eq!(code.as_str().len(), 6);
    assert_eq!(claim_path, format!("/admin/devices/claim?code={code}"));
    let now = app.clock.load(Ordering::SeqCst);
    assert_eq!(expires_at - now, 600);

    let claimed = app.claim(&code.grouped().to_lowercase(), "Lobby").await;
    assert_eq!(claimed.status, 201);
    let record = claimed.json();
    assert_eq!(record["device"]["name"], "Lobby");

    let ServerMessage::Paired { device_id, secret } = screen.next().await else {
        panic!("expected paired");
    };
    assert_eq!(record["device"]["id"], device_id.as_str());
    let ServerMessage::Welcome { name, .. } = screen.next().await else {
        panic!("expected welcome");
    };
    assert_eq!(name, "Lobby");

    // The secret works on a new connection.
    drop(screen);
    app.reconnect(&device_id, &secret).await;
}

#[tokio::test]
async fn resume_after_claim_gets_paired() {
    let app = DeviceApp::start().await;
    let (screen, code, ticket) = app.show_code().await;
    drop(screen);

    // The claim may reach the closing socket, which then sends the secret into the void. The
    // resume must get a secret either way.
    assert_eq!(app.claim(code.as_str(), "Hallway").await.status, 201);

    let resume = PairingResume {
        code: code.clone(),
        ticket: ticket.clone(),
    };
    let (device_id, secret) = resume_paired(&app, &resume).await;
    drop(app.reconnect(&device_id, &secret).await);

    // Once the secret was used, the ticket gets nothing.
    let mut third = app.connect().await;
    third.send(&resume_hello(resume)).await;
    expect_error(&third.next().await, "pairing-expired");
    third.expect_closed().await;
}

#[tokio::test]
async fn resumes_before_first_use_repeat_secret() {
    let app = DeviceApp::start().await;
    let (mut screen, code, ticket) = app.show_code().await;
    assert_eq!(app.claim(code.as_str(), "Hallway").await.status, 201);
    let ServerMessage::Paired { secret: first, .. } = screen.next().await else {
        panic!("expected paired");
    };
    drop(screen);

    // The screen may never have read the first hand-over, so the ticket gets the secret
    // again, and repeating it voids nothing.
    let resume = PairingResume { code, ticket };
    let (device_id, second) = resume_paired(&app, &resume).await;
    let (_, third) = resume_paired(&app, &resume).await;
    assert_eq!(first.expose(), second.expose());
    assert_eq!(second.expose(), third.expose());
    drop(app.reconnect(&device_id, &first).await);
}

/// Resumes a claimed pairing and returns the credential the server hands over.
async fn resume_paired(app: &DeviceApp, resume: &PairingResume) -> (DeviceId, DeviceSecret) {
    let mut screen = app.connect().await;
    screen.send(&resume_hello(resume.clone())).await;
    let paired = screen.next().await;
    let ServerMessage::Paired { device_id, secret } = paired else {
        panic!("expected paired, got {paired:?}");
    };
    assert!(matches!(screen.next().await, ServerMessage::Welcome { .. }));
    (device_id, secret)
}

#[tokio::test]
async fn resume_before_claim_keeps_waiting() {
    let app = DeviceApp::start().await;
    let (screen, code, ticket) = app.show_code().await;
    drop(screen);

    let mut again = app.connect().await;
    again
        .send(&resume_hello(PairingResume {
            code: code.clone(),
            ticket,
        }))
        .await;
    // A protocol ping gets its pong while the screen waits, which also proves it is registered.
    again.send(&ClientMessage::Ping { client_time_ms: 5 }).await;
    assert!(matches!(
        again.next().await,
        ServerMessage::Pong {
            client_time_ms: 5,
            ..
        }
    ));

    assert_eq!(app.claim(code.as_str(), "Bar").await.status, 201);
    assert!(matches!(again.next().await, ServerMessage::Paired { .. }));
    assert!(matches!(again.next().await, ServerMessage::Welcome { .. }));
}

#[tokio::test]
async fn pairing_code_is_single_use() {
    let app = DeviceApp::start().await;
    let (_screen, code, _) = app.show_code().await;

    assert_eq!(app.claim(code.as_str(), "First").await.status, 201);
    let second = app.claim(code.as_str(), "Second").await;
    assert_eq!(second.status, 409);
    assert_eq!(second.json()["error"]["code"], "pairing-code-used");
}

#[tokio::test]
async fn expired_code_cannot_be_claimed() {
    let app = DeviceApp::start().await;
    let (_screen, code, _) = app.show_code().await;

    app.advance_clock(601);
    let late = app.claim(code.as_str(), "Late").await;
    assert_eq!(late.status, 410);
    assert_eq!(late.json()["error"]["code"], "pairing-code-expired");
}

#[tokio::test]
async fn unknown_and_malformed_codes_are_rejected() {
    let app = DeviceApp::start().await;

    let unknown = app.claim("ZZZ-ZZZ", "Nobody").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "pairing-code-not-found");

    let malformed = app.claim("K7M-2Q0", "Nobody").await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["error"]["field"], "code");
}

#[tokio::test]
async fn trusted_network_is_admitted_without_claim() {
    let config = DeviceConfig {
        auto_admit: vec!["127.0.0.0/8".parse().unwrap()],
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let mut screen = app.connect().await;
    screen
        .send(&hello(HelloAuth::Pairing { resume: None }))
        .await;

    let ServerMessage::Paired { device_id, secret } = screen.next().await else {
        panic!("expected paired");
    };
    let ServerMessage::Welcome { name, .. } = screen.next().await else {
        panic!("expected welcome");
    };
    assert!(name.starts_with("Chrome on Linux "), "{name}");
    drop(screen);
    app.reconnect(&device_id, &secret).await;
}

#[tokio::test]
async fn wrong_secret_is_rejected_and_closed() {
    let app = DeviceApp::start().await;
    let (device_id, _secret, _screen) = app.pair("Lobby").await;

    let wrong: DeviceSecret = serde_json::from_value(json!("ab".repeat(32))).unwrap();
    let mut intruder = app.connect().await;
    intruder.send(&device_hello(&device_id, &wrong)).await;
    expect_error(&intruder.next().await, "invalid-credentials");
    intruder.expect_closed().await;
    assert!(app.service.is_live(&device_id), "the real screen stays");
}

#[tokio::test]
async fn first_message_must_be_hello() {
    let app = DeviceApp::start().await;
    let mut screen = app.connect().await;
    screen
        .send(&ClientMessage::Ping { client_time_ms: 1 })
        .await;

    expect_error(&screen.next().await, "unexpected-message");
    screen.expect_closed().await;
}

#[tokio::test]
async fn silent_client_gets_hello_timeout() {
    let config = DeviceConfig {
        hello_timeout: Duration::from_millis(200),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let mut screen = app.connect().await;

    expect_error(&screen.next().await, "hello-timeout");
    screen.expect_closed().await;
}

#[tokio::test]
async fn pairing_requests_are_rate_limited() {
    let app = DeviceApp::start().await;
    // An address may request 200 codes at once, and 20 a minute after that.
    let mut unavailable = 0;
    for _ in 0..202 {
        let mut screen = app.connect().await;
        screen
            .send(&hello(HelloAuth::Pairing { resume: None }))
            .await;
        match screen.next().await {
            ServerMessage::Pairing { .. } => {}
            other => {
                let message = expect_error(&other, "pairing-unavailable");
                assert!(message.contains("retry in"), "{message}");
                unavailable += 1;
            }
        }
    }
    assert!(unavailable >= 1, "202 codes in a row were all granted");
    assert!(unavailable <= 2, "{unavailable} of 202 requests rejected");
}
