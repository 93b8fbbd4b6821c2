//! The frozen-screen rule over a real socket: one warning and one `reload` per freeze episode,
//! an hourly reminder at most, and an info line when the screen recovers.

use std::io::Write;
use std::sync::Mutex;

use onesheet_domain::Command;
use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// The log output of a test, kept in memory.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    fn count(&self, text: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(text)
            .count()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLog {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const FROZEN: &str = "device looks frozen";
const STILL_FROZEN: &str = "device is still frozen";
const RECOVERED: &str = "frozen device recovered";

/// Time in which the background task, which checks every 100 ms in these tests, runs several
/// checks.
const SEVERAL_CHECKS: Duration = Duration::from_millis(600);

fn status(item: &str) -> String {
    json!({
        "type": "status",
        "current_item_id": item,
        "mode": "screensaver",
        "paused": false,
        "resolution": { "width": 1920, "height": 1080 },
        "version": "0.1.0",
        "uptime_seconds": 1,
    })
    .to_string()
}

/// Sends `status` and waits for the pong of a ping sent after it, so the server has read it.
async fn report(screen: &mut Screen, status: &str) {
    screen.send_text(status).await;
    screen
        .send(&ClientMessage::Ping { client_time_ms: 1 })
        .await;
    assert!(matches!(screen.next().await, ServerMessage::Pong { .. }));
}

/// Waits for the next message, which must be a `reload` command, and acknowledges it.
async fn expect_reload(screen: &mut Screen) {
    let message = screen.next().await;
    let ServerMessage::Command { id, command } = message else {
        panic!("expected a reload command, got {message:?}");
    };
    assert_eq!(command, Command::Reload);
    screen
        .send(&ClientMessage::Ack {
            id,
            ok: true,
            error: None,
        })
        .await;
}

/// Asserts that no message arrives for a few background checks.
async fn expect_silence(screen: &mut Screen, context: &str) {
    let next = tokio::time::timeout(SEVERAL_CHECKS, screen.socket.next()).await;
    assert!(next.is_err(), "{context}: got {next:?}");
}

async fn wait_for_log(app: &DeviceApp, log: &CapturedLog, text: &str) {
    let found = app
        .wait_for(Duration::from_secs(5), || log.count(text) > 0)
        .await;
    assert!(found, "no {text:?} in the log:\n{}", log.text());
}

#[tokio::test]
async fn frozen_screen_is_warned_and_reloaded_once() {
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let config = DeviceConfig {
        auto_recover_frozen: true,
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, secret, mut screen) = app.pair("Lobby").await;
    let item = app.app.first_item_id();
    report(&mut screen, &status(&item)).await;

    let interval = i64::from(
        onesheet_domain::DisplaySettings::default()
            .screensaver
            .interval_seconds,
    );
    app.advance_clock(3 * interval);
    expect_reload(&mut screen).await;
    expect_silence(&mut screen, "a second reload within the back-off").await;
    assert_eq!(log.count(FROZEN), 1, "{}", log.text());

    // The reloaded page reconnects and shows the same item: the episode goes on.
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );
    let mut screen = app.reconnect(&device_id, &secret).await;
    report(&mut screen, &status(&item)).await;
    expect_silence(&mut screen, "a reload after the reconnect").await;
    assert_eq!(log.count(FROZEN), 1, "{}", log.text());

    // Half an hour later the next reload is due, and an hour after the warning a reminder.
    app.advance_clock(30 * 60);
    expect_reload(&mut screen).await;
    assert_eq!(log.count(STILL_FROZEN), 0, "{}", log.text());
    app.advance_clock(30 * 60);
    wait_for_log(&app, &log, STILL_FROZEN).await;
    expect_silence(&mut screen, "a third reload before an hour passed").await;
    assert_eq!(log.count(STILL_FROZEN), 1, "{}", log.text());
    assert_eq!(log.count(FROZEN), 1, "{}", log.text());

    // Another item ends the episode with one info line.
    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.json()["device"]["frozen"], true);
    let other = app
        .app
        .catalog
        .snapshot()
        .items
        .iter()
        .filter_map(|entry| entry.id.clone())
        .map(|id| id.to_string())
        .find(|id| *id != item)
        .expect("a second poster");
    report(&mut screen, &status(&other)).await;
    wait_for_log(&app, &log, RECOVERED).await;
    tokio::time::sleep(SEVERAL_CHECKS).await;
    assert_eq!(log.count(RECOVERED), 1, "{}", log.text());
    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.json()["device"]["frozen"], false);
}
