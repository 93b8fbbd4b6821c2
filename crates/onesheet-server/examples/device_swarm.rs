//! A swarm of simulated screens for load tests: opens many device WebSockets against a running
//! Onesheet on loopback and reports JSON lines that `scripts/bench-devices` turns into a table.
//!
//! Each device is one task with one socket. It sends `hello`, waits for `welcome`, replies to
//! the server's WebSocket pings with pongs, sends `status` with a new item every
//! `--status-interval` seconds (10 by default, the default screensaver interval) and
//! acknowledges every `command`. A device without an identity pairs (`auth.method =
//! "pairing"`), which works without a claim only when the server's `device_auto_admit`
//! contains its source address. The ids and secrets it receives are kept in the `--cache` file,
//! so the next run reconnects them with `auth.method = "device"`.
//!
//! Sockets are spread over `--addresses` source addresses from 127.0.0.2 upwards (127.0.0.2 to
//! 127.0.0.250, then 127.0.1.2 and so on), so 10,000 sockets do not exhaust the ephemeral ports
//! of one address. The server allows each address 10 pairing requests and then blocks it for 2 s,
//! twice as long at each further request, so a first run that pairs N devices at once needs at
//! least N / 10 addresses.
//!
//! The modes given run in this order, on the same sockets:
//! - `connect`: opens `--devices` sockets spread evenly over `--window` seconds and reports how
//!   many got `welcome`, the failures by reason and the connect latency (TCP connect to
//!   `welcome`).
//! - `hold`: prints `{"phase": "hold-start"}`, keeps the devices connected for `--hold` seconds
//!   and reports how many sockets the server closed meanwhile. The caller samples the server's
//!   memory and CPU in that time.
//! - `broadcast`: sends one `next` command to every connected device through
//!   `POST /api/v1/admin/devices/commands/all` with the bearer token in `ONESHEET_ADMIN_TOKEN`.
//!   It reports the time from sending the request to each device's `command` frame and to its
//!   `ack`. It also reports the command states that the admin API lists for a sample of devices.
//! - `broadcast-lists`: the same through `POST /api/v1/admin/devices/commands`, with the ids
//!   listed in requests of at most 800, as a client without the fleet route would. Broadcast
//!   modes may repeat and run in the order given, so runs of both can alternate.
//!
//! `connect` always runs first, so `device_swarm 127.0.0.1:8080 hold broadcast` connects, holds
//! and then broadcasts.
//!
//! Usage: `device_swarm ADDRESS MODE... [--devices N] [--window SECONDS] [--hold SECONDS]
//! [--status-interval SECONDS] [--addresses N] [--cache FILE]`

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use onesheet_domain::protocol::MAX_MESSAGE_BYTES;
use onesheet_domain::{
    ClientMessage, Command, DeviceId, DeviceSecret, DeviceStatus, DisplayMode, Hello, HelloAuth,
    ItemId, ScreenSize, ServerMessage, parse_server_message,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Time from the start of a device's TCP connect to its `welcome`, after which it counts as
/// failed. The server itself allows 10 s for the `hello` alone.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(30);

/// Time the broadcast waits for the last `command` frame after the admin requests returned.
const BROADCAST_TIMEOUT: Duration = Duration::from_secs(60);

/// Device ids per admin request: the most the many-device command route accepts.
const IDS_PER_REQUEST: usize = 800;

/// Devices whose command list the broadcast reads back through the admin API.
const STATE_SAMPLE: usize = 20;

/// Read and write buffer of each client socket. tungstenite's default read buffer is 128 KiB,
/// which would make 10,000 sockets cost over a gigabyte in this process.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Source addresses per /24 block: x.y.z.2 to x.y.z.250.
const ADDRESSES_PER_BLOCK: u32 = 249;

#[derive(Debug, thiserror::Error)]
enum SwarmError {
    #[error(
        "{0}\nusage: device_swarm ADDRESS connect|hold|broadcast|broadcast-lists... [--devices N] [--window SECONDS] [--hold SECONDS] [--status-interval SECONDS] [--addresses N] [--cache FILE]"
    )]
    Usage(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("invalid JSON in {context}: {source}")]
    Json {
        context: String,
        source: serde_json::Error,
    },
    #[error("admin request {path} failed: {detail}")]
    Admin { path: String, detail: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Connect,
    Hold,
    Broadcast(Target),
}

/// The way a broadcast names its devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// One request to `POST /api/v1/admin/devices/commands/all`.
    All,
    /// Requests to `POST /api/v1/admin/devices/commands` listing at most [`IDS_PER_REQUEST`]
    /// device ids each, all sent at once.
    Lists,
}

/// The command line, parsed.
#[derive(Debug, Clone)]
struct Plan {
    server: SocketAddr,
    modes: Vec<Mode>,
    devices: usize,
    window: Duration,
    hold: Duration,
    status_interval: Duration,
    addresses: u32,
    cache: PathBuf,
}

/// A paired device's credentials as the cache file stores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Identity {
    device_id: DeviceId,
    secret: DeviceSecret,
}

/// An event a device task sends to the coordinator.
enum Report {
    Connected {
        latency: Duration,
        identity: Identity,
        paired: bool,
    },
    Failed {
        reason: String,
    },
    Command {
        received: Instant,
        acked: Instant,
    },
    Closed {
        reason: String,
    },
}

#[tokio::main]
async fn main() -> Result<(), SwarmError> {
    let plan = parse_args(std::env::args().skip(1).collect())?;
    let cached = read_cache(&plan.cache)?;
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);

    // Connect: one task per device, started at evenly spaced instants over the window.
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(plan.devices);
    for index in 0..plan.devices {
        let offset = plan.window.mul_f64(index as f64 / plan.devices as f64);
        let device = Device {
            source: source_address(index, plan.addresses),
            identity: cached.get(index).cloned(),
            server: plan.server,
            status_interval: plan.status_interval,
            reports: reports_tx.clone(),
            stop: stop.clone(),
        };
        tasks.push(tokio::spawn(device.run(started + offset)));
    }
    drop(reports_tx);

    let mut connect = ConnectTally::default();
    let mut identities = cached.clone();
    let mut connected: Vec<DeviceId> = Vec::new();
    while connect.finished() < plan.devices {
        let Some(report) = reports.recv().await else {
            break;
        };
        match report {
            Report::Connected {
                latency,
                identity,
                paired,
            } => {
                connect.latencies.push(latency);
                connect.paired += usize::from(paired);
                connected.push(identity.device_id.clone());
                if paired {
                    identities.push(identity);
                }
            }
            Report::Failed { reason } => *connect.failures.entry(reason).or_default() += 1,
            Report::Closed { reason } => *connect.dropped.entry(reason).or_default() += 1,
            Report::Command { .. } => {}
        }
    }
    let elapsed = started.elapsed();
    write_cache(&plan.cache, &identities)?;
    emit(&connect.summary(elapsed));

    if plan.modes.contains(&Mode::Hold) {
        emit(&json!({ "phase": "hold-start", "devices": connected.len() }));
        let dropped = collect_closed(&mut reports, plan.hold).await;
        emit(&json!({
            "phase": "hold",
            "seconds": plan.hold.as_secs_f64(),
            "devices": connected.len(),
            "dropped": dropped,
        }));
    }

    let targets: Vec<Target> = plan
        .modes
        .iter()
        .filter_map(|mode| match mode {
            Mode::Broadcast(target) => Some(*target),
            _ => None,
        })
        .collect();
    if !targets.is_empty() {
        let token = std::env::var("ONESHEET_ADMIN_TOKEN").map_err(|_| {
            SwarmError::Usage(
                "missing ONESHEET_ADMIN_TOKEN: the broadcast sends its command through the admin API"
                    .to_owned(),
            )
        })?;
        for target in targets {
            let summary = broadcast(plan.server, &token, &connected, target, &mut reports).await?;
            emit(&summary);
        }
    }

    // Each task sends a close frame, and a task that is slow to finish is left behind at exit.
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    Ok(())
}

/// Tallies of the connect phase.
#[derive(Default)]
struct ConnectTally {
    latencies: Vec<Duration>,
    paired: usize,
    failures: BTreeMap<String, usize>,
    dropped: BTreeMap<String, usize>,
}

impl ConnectTally {
    fn finished(&self) -> usize {
        self.latencies.len() + self.failures.values().sum::<usize>()
    }

    fn summary(&mut self, elapsed: Duration) -> Value {
        self.latencies.sort();
        json!({
            "phase": "connect",
            "welcomed": self.latencies.len(),
            "paired": self.paired,
            "failed": self.failures,
            "dropped_while_connecting": self.dropped,
            "elapsed_s": elapsed.as_secs_f64(),
            "latency_ms": percentiles(&self.latencies),
        })
    }
}

/// Waits `duration` and counts the sockets that closed meanwhile, by reason.
async fn collect_closed(
    reports: &mut mpsc::UnboundedReceiver<Report>,
    duration: Duration,
) -> BTreeMap<String, usize> {
    let mut dropped = BTreeMap::new();
    let deadline = Instant::now() + duration;
    while let Ok(Some(report)) = tokio::time::timeout_at(deadline, reports.recv()).await {
        if let Report::Closed { reason } = report {
            *dropped.entry(reason).or_default() += 1;
        }
    }
    dropped
}

/// Sends one `next` command to every connected device and times its delivery and acks.
///
/// With [`Target::Lists`], all requests start at once, since the server's body limit splits the
/// device list. The times are measured from the moment the first request is written.
async fn broadcast(
    server: SocketAddr,
    token: &str,
    devices: &[DeviceId],
    target: Target,
    reports: &mut mpsc::UnboundedReceiver<Report>,
) -> Result<Value, SwarmError> {
    let bodies: Vec<(&str, String)> = match target {
        Target::All => vec![(
            "/api/v1/admin/devices/commands/all",
            json!({ "command": Command::Next }).to_string(),
        )],
        Target::Lists => devices
            .chunks(IDS_PER_REQUEST)
            .map(|chunk| {
                let body = json!({ "device_ids": chunk, "command": Command::Next });
                ("/api/v1/admin/devices/commands", body.to_string())
            })
            .collect(),
    };
    let request_count = bodies.len();
    let sent = Instant::now();
    let requests = bodies.iter().map(|(path, body)| async move {
        admin_request(server, "POST", path, token, Some(body)).await
    });
    let responses = futures::future::join_all(requests).await;
    let requests_done = sent.elapsed();

    // Each result names the device and the queued command, or the reason it was not queued.
    let mut queued: Vec<(String, i64)> = Vec::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for response in responses {
        let body = response?;
        let results = body["results"].as_array().cloned().unwrap_or_default();
        for result in results {
            match (
                result["device_id"].as_str(),
                result["command"]["id"].as_i64(),
            ) {
                (Some(device), Some(id)) => queued.push((device.to_owned(), id)),
                _ => {
                    let reason = result["error"]
                        .as_str()
                        .unwrap_or("no command in the result");
                    *errors.entry(reason.to_owned()).or_default() += 1;
                }
            }
        }
    }

    let mut received = Vec::with_capacity(queued.len());
    let mut acked = Vec::with_capacity(queued.len());
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = Instant::now() + BROADCAST_TIMEOUT;
    while received.len() < queued.len() {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(Report::Command {
                received: at,
                acked: ack_at,
            })) => {
                received.push(at - sent);
                acked.push(ack_at - sent);
            }
            Ok(Some(Report::Closed { reason })) => *dropped.entry(reason).or_default() += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    received.sort();
    acked.sort();

    // The server records an ack after reading it, which the client cannot see, so its own
    // view of the command states is read back for a sample of devices.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for (device, id) in queued.iter().take(STATE_SAMPLE) {
        let list = admin_request(
            server,
            "GET",
            &format!("/api/v1/admin/devices/{device}/commands"),
            token,
            None,
        )
        .await?;
        let state = list["commands"]
            .as_array()
            .and_then(|commands| commands.iter().find(|c| c["id"].as_i64() == Some(*id)))
            .and_then(|command| command["state"].as_str())
            .unwrap_or("missing");
        *states.entry(state.to_owned()).or_default() += 1;
    }

    Ok(json!({
        "phase": "broadcast",
        "target": match target {
            Target::All => "all",
            Target::Lists => "lists",
        },
        "targets": devices.len(),
        "requests": request_count,
        "requests_ms": millis(requests_done),
        "queued": queued.len(),
        "not_queued": errors,
        "received": received.len(),
        "dropped": dropped,
        "receive_ms": percentiles(&received),
        "last_ack_ms": acked.last().map(|last| millis(*last)),
        "sampled_states": states,
    }))
}

/// One simulated screen.
struct Device {
    source: Ipv4Addr,
    identity: Option<Identity>,
    server: SocketAddr,
    status_interval: Duration,
    reports: mpsc::UnboundedSender<Report>,
    stop: watch::Receiver<bool>,
}

type Socket = WebSocketStream<TcpStream>;

impl Device {
    /// Connects at `start`, reports the outcome, then keeps the session until the stop signal
    /// or until the server closes the socket.
    async fn run(mut self, start: Instant) {
        tokio::time::sleep_until(start).await;
        let began = Instant::now();
        let opened = tokio::time::timeout(WELCOME_TIMEOUT, self.open()).await;
        let (socket, identity, paired) = match opened {
            Ok(Ok(session)) => session,
            Ok(Err(reason)) => {
                let _ = self.reports.send(Report::Failed { reason });
                return;
            }
            Err(_) => {
                let reason = format!("no welcome within {} s", WELCOME_TIMEOUT.as_secs());
                let _ = self.reports.send(Report::Failed { reason });
                return;
            }
        };
        let _ = self.reports.send(Report::Connected {
            latency: began.elapsed(),
            identity,
            paired,
        });
        if let Some(reason) = self.keep(socket).await {
            let _ = self.reports.send(Report::Closed { reason });
        }
    }

    /// Opens the socket from the device's source address and reads up to `welcome`. Returns
    /// the socket, the identity and whether the device paired in this session.
    async fn open(&self) -> Result<(Socket, Identity, bool), String> {
        let socket = TcpSocket::new_v4().map_err(|error| format!("socket: {}", error.kind()))?;
        socket
            .bind(SocketAddr::from((self.source, 0)))
            .map_err(|error| format!("bind: {}", error.kind()))?;
        let stream = socket
            .connect(self.server)
            .await
            .map_err(|error| format!("connect: {}", error.kind()))?;
        let url = format!("ws://{}/api/v1/devices/ws", self.server);
        let config = WebSocketConfig::default()
            .read_buffer_size(SOCKET_BUFFER_BYTES)
            .write_buffer_size(SOCKET_BUFFER_BYTES);
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(config))
                .await
                .map_err(|error| format!("upgrade: {error}"))?;

        let auth = match &self.identity {
            Some(identity) => HelloAuth::Device {
                device_id: identity.device_id.clone(),
                secret: identity.secret.clone(),
            },
            None => HelloAuth::Pairing { resume: None },
        };
        send(&mut socket, &hello(auth)).await?;

        let mut identity = self.identity.clone();
        let mut paired = false;
        loop {
            match next_message(&mut socket).await? {
                ServerMessage::Paired { device_id, secret } => {
                    identity = Some(Identity { device_id, secret });
                    paired = true;
                }
                ServerMessage::Welcome { .. } => {
                    let identity = identity.ok_or("welcome without a device identity")?;
                    return Ok((socket, identity, paired));
                }
                ServerMessage::Error { code, .. } => {
                    return Err(format!(
                        "error frame: {}",
                        json!(code).as_str().unwrap_or("?")
                    ));
                }
                ServerMessage::Pairing { .. } => {
                    return Err("pairing code instead of auto-admission".to_owned());
                }
                // Commands queued while the device was away arrive after `welcome`, and
                // `settings` only after it, so nothing else is expected here.
                other => return Err(format!("unexpected {} before welcome", other.type_name())),
            }
        }
    }

    /// Acknowledges commands and sends `status` until the stop signal. Returns the reason when the
    /// server ends the session first.
    async fn keep(&mut self, mut socket: Socket) -> Option<String> {
        let loaded = Instant::now();
        // Spreads the first status over one interval, so the devices do not report in lockstep.
        let jitter = self
            .status_interval
            .mul_f64(f64::from(self.source.octets()[3]) / 256.0);
        let mut ticker = tokio::time::interval_at(loaded + jitter, self.status_interval);
        let mut shown: u64 = 0;
        loop {
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(ServerMessage::Command { id, .. }) =
                            parse_server_message(text.as_str(), MAX_MESSAGE_BYTES)
                        {
                            let received = Instant::now();
                            if let Err(reason) = send(&mut socket, &ClientMessage::ack_ok(id)).await {
                                return Some(reason);
                            }
                            let acked = Instant::now();
                            let _ = self.reports.send(Report::Command { received, acked });
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.map_or("none".to_owned(), |frame| u16::from(frame.code).to_string());
                        return Some(format!("closed by the server (code {code})"));
                    }
                    // tungstenite queues the pong for a ping and sends it on the next read.
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Some(format!("read: {error}")),
                    None => return Some("connection ended".to_owned()),
                },
                _ = ticker.tick() => {
                    // A new item on every status, as a screen advancing at its interval reports,
                    // so the server's frozen-screen rule does not flag the swarm.
                    shown += 1;
                    let status = ClientMessage::Status(DeviceStatus {
                        current_item_id: format!("swarm-{shown:016x}").parse::<ItemId>().ok(),
                        mode: DisplayMode::Screensaver,
                        paused: false,
                        resolution: screen(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        uptime_seconds: loaded.elapsed().as_secs(),
                    });
                    if let Err(reason) = send(&mut socket, &status).await {
                        return Some(reason);
                    }
                }
                _ = self.stop.changed() => {
                    let _ = socket.close(None).await;
                    return None;
                }
            }
        }
    }
}

fn screen() -> ScreenSize {
    ScreenSize {
        width: 1920,
        height: 1080,
    }
}

fn hello(auth: HelloAuth) -> ClientMessage {
    ClientMessage::Hello(Hello {
        auth,
        client_version: env!("CARGO_PKG_VERSION").to_owned(),
        user_agent: "onesheet-device-swarm".to_owned(),
        screen: screen(),
    })
}

async fn send(socket: &mut Socket, message: &ClientMessage) -> Result<(), String> {
    let text = serde_json::to_string(message).map_err(|error| format!("encode: {error}"))?;
    socket
        .send(Message::text(text))
        .await
        .map_err(|error| format!("write: {error}"))
}

/// Returns the next protocol message, skipping control frames.
async fn next_message(socket: &mut Socket) -> Result<ServerMessage, String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return parse_server_message(text.as_str(), MAX_MESSAGE_BYTES)
                    .map_err(|error| format!("invalid server message: {error}"));
            }
            Some(Ok(Message::Close(_))) | None => return Err("closed before welcome".to_owned()),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(format!("read: {error}")),
        }
    }
}

/// Returns the source address of device `index`: 127.0.0.2 to 127.0.0.250 for the first 249
/// devices, then the same range in 127.0.1.x and onwards, cycling after `addresses`.
fn source_address(index: usize, addresses: u32) -> Ipv4Addr {
    let slot = u32::try_from(index).unwrap_or(u32::MAX) % addresses.max(1);
    let block = slot / ADDRESSES_PER_BLOCK;
    let [_, _, high, low] = block.to_be_bytes();
    let host = u8::try_from(slot % ADDRESSES_PER_BLOCK + 2).unwrap_or(250);
    Ipv4Addr::new(127, high, low, host)
}

/// Sends one admin API request with the bearer token and returns the JSON body of a 2xx.
async fn admin_request(
    server: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Result<Value, SwarmError> {
    let io = |source| SwarmError::Io {
        context: format!("{method} {path}"),
        source,
    };
    let failed = |detail: String| SwarmError::Admin {
        path: path.to_owned(),
        detail,
    };

    let mut stream = TcpStream::connect(server).await.map_err(io)?;
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body.as_bytes()).await.map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(io)?;

    let text = String::from_utf8_lossy(&response);
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| failed("response without a header end".to_owned()))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| failed(format!("invalid status line {:?}", head.lines().next())))?;
    let payload = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(payload)
    } else {
        payload.to_owned()
    };
    if !(200..300).contains(&status) {
        return Err(failed(format!("HTTP {status}: {payload}")));
    }
    serde_json::from_str(&payload).map_err(|source| SwarmError::Json {
        context: format!("the response to {method} {path}"),
        source,
    })
}

/// Joins the chunks of a chunked HTTP/1.1 body.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// Returns p50, p90, p99 and max of sorted durations, in milliseconds.
fn percentiles(sorted: &[Duration]) -> Value {
    let rank = |share: f64| -> Option<f64> {
        let last = sorted.len().checked_sub(1)?;
        let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, last + 1) - 1;
        sorted.get(index).map(|value| millis(*value))
    };
    json!({ "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": rank(1.0) })
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Prints one JSON line on stdout, where the load script reads it as it comes.
fn emit(value: &Value) {
    println!("{value}");
}

fn read_cache(path: &PathBuf) -> Result<Vec<Identity>, SwarmError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|source| SwarmError::Json {
            context: path.display().to_string(),
            source,
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(SwarmError::Io {
            context: format!("cannot read the identity cache {}", path.display()),
            source,
        }),
    }
}

fn write_cache(path: &PathBuf, identities: &[Identity]) -> Result<(), SwarmError> {
    let text = serde_json::to_string(identities).map_err(|source| SwarmError::Json {
        context: "the identity cache".to_owned(),
        source,
    })?;
    std::fs::write(path, text).map_err(|source| SwarmError::Io {
        context: format!("cannot write the identity cache {}", path.display()),
        source,
    })
}

fn parse_args(args: Vec<String>) -> Result<Plan, SwarmError> {
    let mut args = args.into_iter();
    let server_text = args
        .next()
        .ok_or_else(|| SwarmError::Usage("missing the server address".to_owned()))?;
    let server: SocketAddr = server_text.parse().map_err(|_| {
        SwarmError::Usage(format!(
            "invalid server address {server_text:?}: expected IP:PORT such as 127.0.0.1:8080"
        ))
    })?;
    let mut plan = Plan {
        server,
        modes: vec![Mode::Connect],
        devices: 100,
        window: Duration::from_secs(10),
        hold: Duration::from_secs(60),
        status_interval: Duration::from_secs(10),
        addresses: ADDRESSES_PER_BLOCK,
        cache: PathBuf::from("device-swarm.json"),
    };

    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| SwarmError::Usage(format!("missing the value of {name}")))
        };
        match arg.as_str() {
            "connect" => {}
            "hold" => plan.modes.push(Mode::Hold),
            "broadcast" => plan.modes.push(Mode::Broadcast(Target::All)),
            "broadcast-lists" => plan.modes.push(Mode::Broadcast(Target::Lists)),
            "--devices" => plan.devices = number(&arg, &value(&arg)?)?,
            "--addresses" => plan.addresses = number(&arg, &value(&arg)?)?,
            "--window" => plan.window = seconds(&arg, &value(&arg)?)?,
            "--hold" => plan.hold = seconds(&arg, &value(&arg)?)?,
            "--status-interval" => plan.status_interval = seconds(&arg, &value(&arg)?)?,
            "--cache" => plan.cache = PathBuf::from(value(&arg)?),
            other => return Err(SwarmError::Usage(format!("unknown argument {other:?}"))),
        }
    }
    if plan.devices == 0 || plan.addresses == 0 || plan.status_interval.is_zero() {
        return Err(SwarmError::Usage(
            "--devices, --addresses and --status-interval must be at least 1".to_owned(),
        ));
    }
    Ok(plan)
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, SwarmError> {
    text.parse()
        .map_err(|_| SwarmError::Usage(format!("invalid {name} {text:?}: expected a whole number")))
}

fn seconds(name: &str, text: &str) -> Result<Duration, SwarmError> {
    text.parse::<f64>()
        .ok()
        .and_then(|value| Duration::try_from_secs_f64(value).ok())
        .ok_or_else(|| {
            SwarmError::Usage(format!(
                "invalid {name} {text:?}: expected seconds, such as 10 or 0.5"
            ))
        })
}
