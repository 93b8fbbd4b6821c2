//! First run of the real binary: the setup token, the first admin, and restarts after it.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness::{ServerOptions, TestServer, http_client};

#[tokio::test]
async fn first_run_setup_creates_one_admin() {
    let mut server = TestServer::start(ServerOptions::default()).await;
    let token_file = server.data_dir().join("setup-token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        server.log_tail().contains(&token),
        "the log does not show the setup token"
    );

    let client = http_client();
    let created = client
        .post(server.url("/api/v1/setup"))
        .json(&json!({ "setup_token": token, "username": "admin", "password": "paper lantern harbour 7" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let cookie = created.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(!token_file.exists());

    // After a restart there is no token and no way to run setup again.
    server.restart().await;
    assert!(!token_file.exists(), "a restart reopened setup");
    let status: serde_json::Value = server.get("/api/v1/setup").await.json().await.unwrap();
    assert_eq!(status["setup_required"], false);
    let again = client
        .post(server.url("/api/v1/setup"))
        .json(&json!({ "setup_token": token, "username": "second", "password": "paper lantern harbour 7" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    let login = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": "paper lantern harbour 7" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    // The command-line recovery path: a new password from standard input ends every session.
    server.stop().await;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_onesheet"));
    // Like the server, the command must not see the environment's own settings.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ONESHEET_") {
            command.env_remove(&key);
        }
    }
    let mut reset = command
        .args(["admin", "reset-password"])
        .current_dir(server.data_dir().parent().unwrap())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = reset.stdin.take().unwrap();
        writeln!(stdin, "a replacement passphrase 9").unwrap();
    }
    let output = reset.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    server.launch().await;

    let old = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": "paper lantern harbour 7" }))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let new = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": "a replacement passphrase 9" }))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);

    // Passwords sent to the server never reach its log.
    let log = server.log_tail();
    assert!(!log.contains("paper lantern harbour"), "{log}");
    assert!(!log.contains("a replacement passphrase"), "{log}");
}

#[tokio::test]
async fn data_files_are_private_and_shared_folders_warned() {
    let server = TestServer::start(ServerOptions::default()).await;
    let mode = |name: &str| {
        std::fs::metadata(server.data_dir().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("onesheet.db"), 0o600);
    assert_eq!(mode("secret.key"), 0o600);
    assert_eq!(mode("cache"), 0o700);

    // The test harness made the data folder with the usual 755 before the start.
    let log = server.log_tail();
    assert!(log.contains("chmod 700"), "{log}");
}
