//! One screen's WebSocket, from `hello` to close, in one task.
//!
//! The task waits on three things at once: a frame from the screen, a message from the hub
//! (a command, new settings, a revocation, or the closed queue of a replaced socket) and the
//! heartbeat deadline. Nothing else is spawned per socket, and its outgoing queue is bounded,
//! so an idle screen costs its buffers and this task's state.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use onesheet_domain::protocol::MAX_MESSAGE_BYTES;
use onesheet_domain::{
    ClientMessage, CommandId, DeviceRecord, DeviceSecret, ErrorCode, Hello, HelloAuth,
    PairingResume, PairingTicket, ServerMessage, parse_client_message,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tracing::{debug, info, warn};

use super::hub::Outgoing;
use super::pacing::{Admission, Beat, Heartbeat, TokenBucket};
use super::pairing::Resumed;
use super::presence::Transport;
use super::slots::SocketPermit;
use super::{DeviceError, DeviceService, now_ms};

/// Maximum time one frame may take to reach the socket's buffers. A screen that reads nothing
/// for this long is treated as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Maximum time to wait for the client's close frame after sending ours.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Unacknowledged commands one socket remembers for free acks. Commands past this many, such
/// as those of a screen that never acks, are still sent, and their acks count against the
/// message budget.
const MAX_UNACKED: usize = 256;

/// The client of an upgraded request.
#[derive(Debug, Clone)]
pub(crate) struct SocketClient {
    pub ip: Option<IpAddr>,
    /// The site's base path, such as `/posters`, for the claim path in `pairing`.
    pub base_path: String,
}

/// Serves one upgraded connection until it closes. `permit` is the socket's slot, given back
/// when this returns.
pub(crate) async fn run_socket(
    service: Arc<DeviceService>,
    socket: WebSocket,
    client: SocketClient,
    permit: SocketPermit,
) {
    let _permit = permit;
    let mut connection = Connection::new(service, socket, client);
    let Some(hello) = connection.wait_for_hello().await else {
        return;
    };
    let Some(record) = connection.authenticate(&hello).await else {
        return;
    };
    connection.serve(record, &hello).await;
}

/// Marker error: the connection has ended, and the caller stops serving it.
struct Closed;

struct Connection {
    service: Arc<DeviceService>,
    socket: WebSocket,
    client: SocketClient,
    heartbeat: Heartbeat,
    bucket: TokenBucket,
    /// The device, once authenticated, for log lines.
    device_id: Option<onesheet_domain::DeviceId>,
    /// Commands sent on this socket and not acknowledged yet. Their acks pass the message
    /// budget, because a screen that reconnects to a full queue acks every command at once.
    unacked: HashSet<CommandId>,
}

impl Connection {
    fn new(service: Arc<DeviceService>, socket: WebSocket, client: SocketClient) -> Self {
        let config = service.config();
        let heartbeat = Heartbeat::new(config.ping_interval, config.pong_timeout);
        let bucket = TokenBucket::new(config.message_burst, config.messages_per_second);
        Self {
            service,
            socket,
            client,
            heartbeat,
            bucket,
            device_id: None,
            unacked: HashSet::new(),
        }
    }

    async fn send(&mut self, message: &ServerMessage) -> Result<(), Closed> {
        let text = serde_json::to_string(message).map_err(|error| {
            warn!(%error, kind = message.type_name(), "could not serialize a device message");
            Closed
        })?;
        match tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                debug!(%error, "device socket write failed");
                Err(Closed)
            }
            Err(_) => {
                debug!(
                    timeout_seconds = SEND_TIMEOUT.as_secs(),
                    "device socket write timed out"
                );
                Err(Closed)
            }
        }
    }

    async fn send_error(
        &mut self,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Result<(), Closed> {
        self.send(&ServerMessage::Error {
            code,
            message: message.into(),
        })
        .await
    }

    /// Sends `error` with `code` and closes the connection.
    async fn fail(&mut self, code: ErrorCode, message: impl Into<String>, close: u16) {
        let _ = self.send_error(code, message).await;
        self.close(close, "").await;
    }

    /// Sends a close frame and waits briefly for the client's, as the closing handshake requires
    /// (RFC 6455, section 7.1.1). Dropping the connection at once while the client's frames are
    /// still unread would make the kernel reset it, and the client would lose the messages
    /// that explain the close.
    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let sent =
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
        if !matches!(sent, Ok(Ok(()))) {
            return;
        }
        let drain = async {
            while let Some(Ok(frame)) = self.socket.recv().await {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
    }

    /// Waits for the first message, which must be `hello`.
    async fn wait_for_hello(&mut self) -> Option<Hello> {
        let deadline = Instant::now() + self.service.config().hello_timeout;
        loop {
            let frame = tokio::select! {
                frame = self.socket.recv() => frame,
                () = sleep_until(deadline) => {
                    self.fail(ErrorCode::HelloTimeout, "no hello message arrived within the time limit: send hello first after connecting", close_code::POLICY).await;
                    return None;
                }
            };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(_))) => {
                    self.fail(
                        ErrorCode::MalformedMessage,
                        "binary frames are not accepted: send JSON text frames",
                        close_code::UNSUPPORTED,
                    )
                    .await;
                    return None;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Err(error)) => {
                    self.report_read_error(&error).await;
                    return None;
                }
            };
            return match parse_client_message(text.as_str(), MAX_MESSAGE_BYTES) {
                Ok(ClientMessage::Hello(hello)) => Some(hello),
                Ok(other) => {
                    let message = format!(
                        "expected hello as the first message, not {}",
                        other.type_name()
                    );
                    self.fail(ErrorCode::UnexpectedMessage, message, close_code::POLICY)
                        .await;
                    None
                }
                Err(error) => {
                    self.fail(error.code(), error.to_string(), close_code::POLICY)
                        .await;
                    None
                }
            };
        }
    }

    /// Turns the `hello` into an authenticated device: checks its secret, or pairs the screen.
    async fn authenticate(&mut self, hello: &Hello) -> Option<DeviceRecord> {
        let service = self.service.clone();
        let result = match &hello.auth {
            HelloAuth::Device { device_id, secret } => service
                .authenticate(self.client.ip, device_id, secret)
                .await
                .map(Some),
            HelloAuth::Pairing { resume: None } => self.pair(&hello.user_agent).await,
            HelloAuth::Pairing {
                resume: Some(resume),
            } => self.resume(resume).await,
        };
        match result {
            Ok(record) => record,
            Err(error) => {
                self.fail_with(&error).await;
                None
            }
        }
    }

    async fn fail_with(&mut self, error: &DeviceError) {
        if matches!(error, DeviceError::Revoked) {
            // The screen drops its identity on `revoked` and reconnects to pair again.
            let _ = self.send(&ServerMessage::Revoked).await;
            self.close(close_code::NORMAL, "").await;
            return;
        }
        let code = match error {
            DeviceError::InvalidCredentials => ErrorCode::InvalidCredentials,
            DeviceError::Blocked { .. } => ErrorCode::RateLimited,
            DeviceError::CodeNotFound | DeviceError::CodeExpired | DeviceError::CodeUsed => {
                ErrorCode::PairingExpired
            }
            DeviceError::Store(store_error) => {
                warn!(error = %store_error, client.ip = ?self.client.ip, "device connection failed on the store");
                ErrorCode::Internal
            }
            _ => ErrorCode::Internal,
        };
        let message = match code {
            ErrorCode::Internal => "internal error: retry later".to_owned(),
            _ => error.to_string(),
        };
        self.fail(code, message, close_code::POLICY).await;
    }

    /// Admits a screen from a trusted network, or shows it a code and waits for the claim.
    async fn pair(&mut self, user_agent: &str) -> Result<Option<DeviceRecord>, DeviceError> {
        let service = self.service.clone();
        if let Some(ip) = self.client.ip
            && service.auto_admits(ip)
        {
            let (record, secret) = service.admit(ip, user_agent).await?;
            return Ok(self.hand_over(record, secret).await);
        }

        let pending = match service.start_pairing(self.client.ip, user_agent).await {
            Ok(pending) => pending,
            Err(DeviceError::Blocked {
                retry_after_seconds,
            }) => {
                let message = format!(
                    "too many pairing requests from this address: retry in {retry_after_seconds} s"
                );
                self.fail(ErrorCode::PairingUnavailable, message, close_code::POLICY)
                    .await;
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let (generation, claimed) = service.hub.wait_for_claim(&pending.code_hash);
        let message = ServerMessage::Pairing {
            claim_path: format!(
                "{}/admin/devices/claim?code={}",
                self.client.base_path, pending.code
            ),
            code: pending.code,
            ticket: pending.ticket.clone(),
            expires_at: pending.expires_at,
            server_time_ms: now_ms(),
        };
        if self.send(&message).await.is_err() {
            service.hub.stop_waiting(&pending.code_hash, generation);
            return Ok(None);
        }
        let waiting = Waiting {
            code_hash: &pending.code_hash,
            ticket: &pending.ticket,
            generation,
            expires_at: pending.expires_at,
        };
        self.wait_for_claim(waiting, claimed).await
    }

    /// Continues the pairing of a screen that reconnected with its code and ticket.
    async fn resume(
        &mut self,
        resume: &PairingResume,
    ) -> Result<Option<DeviceRecord>, DeviceError> {
        let service = self.service.clone();
        let (code_hash, expires_at) = match service.resume_pairing(resume).await? {
            Resumed::Claimed(device_id) => {
                return self.finish_claim(&device_id, &resume.ticket).await;
            }
            Resumed::Waiting {
                code_hash,
                expires_at,
            } => (code_hash, expires_at),
        };
        let (generation, claimed) = service.hub.wait_for_claim(&code_hash);

        // A claim between the lookup above and the registration found no socket to wake, so
        // the store is asked again now that this socket is registered.
        if let Ok(Resumed::Claimed(device_id)) = service.resume_pairing(resume).await {
            service.hub.stop_waiting(&code_hash, generation);
            return self.finish_claim(&device_id, &resume.ticket).await;
        }
        let waiting = Waiting {
            code_hash: &code_hash,
            ticket: &resume.ticket,
            generation,
            expires_at,
        };
        self.wait_for_claim(waiting, claimed).await
    }

    async fn wait_for_claim(
        &mut self,
        waiting: Waiting<'_>,
        mut claimed: oneshot::Receiver<onesheet_domain::DeviceId>,
    ) -> Result<Option<DeviceRecord>, DeviceError> {
        let service = self.service.clone();
        let Waiting {
            code_hash,
            ticket,
            generation,
            expires_at,
        } = waiting;
        let seconds_left = u64::try_from(expires_at - service.now()).unwrap_or(0);
        let expiry = Instant::now() + Duration::from_secs(seconds_left);
        let outcome = loop {
            tokio::select! {
                result = &mut claimed => break match result {
                    Ok(device_id) => Ok(device_id),
                    Err(_) => Err(ErrorCode::Replaced),
                },
                frame = self.socket.recv() => {
                    if self.handle_waiting_frame(frame).await.is_err() {
                        service.hub.stop_waiting(code_hash, generation);
                        return Ok(None);
                    }
                }
                () = sleep_until(self.heartbeat.deadline()) => {
                    if self.beat().await.is_err() {
                        service.hub.stop_waiting(code_hash, generation);
                        return Ok(None);
                    }
                }
                () = sleep_until(expiry) => break Err(ErrorCode::PairingExpired),
            }
        };
        service.hub.stop_waiting(code_hash, generation);

        match outcome {
            Ok(device_id) => self.finish_claim(&device_id, ticket).await,
            Err(ErrorCode::Replaced) => {
                self.fail(
                    ErrorCode::Replaced,
                    "another connection resumed this pairing code",
                    close_code::NORMAL,
                )
                .await;
                Ok(None)
            }
            Err(code) => {
                self.fail(
                    code,
                    "the pairing code expired: reconnect to get a new one",
                    close_code::NORMAL,
                )
                .await;
                Ok(None)
            }
        }
    }

    /// Hands the secret of a claimed device to the screen. Fails when the device has used a
    /// secret already.
    async fn finish_claim(
        &mut self,
        device_id: &onesheet_domain::DeviceId,
        ticket: &PairingTicket,
    ) -> Result<Option<DeviceRecord>, DeviceError> {
        match self.service.clone().issue_secret(device_id, ticket).await? {
            Some((record, secret)) => Ok(self.hand_over(record, secret).await),
            None => Err(DeviceError::CodeUsed),
        }
    }

    async fn hand_over(
        &mut self,
        record: DeviceRecord,
        secret: DeviceSecret,
    ) -> Option<DeviceRecord> {
        let message = ServerMessage::Paired {
            device_id: record.id.clone(),
            secret,
        };
        self.send(&message).await.ok()?;
        info!(device.id = %record.id, client.ip = ?self.client.ip, "device paired");
        Some(record)
    }

    /// Handles a frame while the screen waits for its claim: pings and protocol `ping` only.
    async fn handle_waiting_frame(
        &mut self,
        frame: Option<Result<Message, axum::Error>>,
    ) -> Result<(), Closed> {
        let Some(message) = self.read_message(frame).await? else {
            return Ok(());
        };
        match message {
            ClientMessage::Ping { client_time_ms } => self.send(&pong(client_time_ms)).await,
            other => {
                let message = format!(
                    "unexpected {} message: wait for the pairing code to be claimed",
                    other.type_name()
                );
                self.send_error(ErrorCode::UnexpectedMessage, message).await
            }
        }
    }

    /// Reads a frame into a message. Control frames, rejected frames and frames over the rate
    /// give `Ok(None)`; a closed or broken connection and a flood give `Err`.
    async fn read_message(
        &mut self,
        frame: Option<Result<Message, axum::Error>>,
    ) -> Result<Option<ClientMessage>, Closed> {
        let (text, binary) = match frame {
            Some(Ok(Message::Text(text))) => (Some(text), false),
            Some(Ok(Message::Binary(_))) => (None, true),
            Some(Ok(Message::Pong(_))) => {
                self.heartbeat.answered();
                return Ok(None);
            }
            Some(Ok(Message::Ping(_))) => (None, false),
            Some(Ok(Message::Close(_))) | None => return Err(Closed),
            Some(Err(error)) => {
                self.report_read_error(&error).await;
                return Err(Closed);
            }
        };

        // While commands wait for their acks, a frame is read before the budget is charged, so
        // their acks cost nothing.
        let parsed = match &text {
            Some(text) if !self.unacked.is_empty() => {
                Some(parse_client_message(text.as_str(), MAX_MESSAGE_BYTES))
            }
            _ => None,
        };
        if let Some(Ok(ClientMessage::Ack { id, .. })) = &parsed
            && self.unacked.contains(id)
        {
            return Ok(parsed.and_then(Result::ok));
        }

        match self.bucket.take(Instant::now()) {
            Admission::Accepted => {}
            Admission::Rejected { first } => {
                if first {
                    self.send_error(
                        ErrorCode::RateLimited,
                        "too many messages: slow down; messages over the limit are dropped",
                    )
                    .await?;
                }
                return Ok(None);
            }
            Admission::Flood => {
                warn!(device.id = ?self.device_id, client.ip = ?self.client.ip, "device socket closed for sending too many messages");
                self.fail(
                    ErrorCode::RateLimited,
                    "too many messages: the connection is closed",
                    close_code::POLICY,
                )
                .await;
                return Err(Closed);
            }
        }

        let Some(text) = text else {
            // A ping frame is only counted, and a binary frame gets an error.
            if binary {
                self.send_error(
                    ErrorCode::MalformedMessage,
                    "binary frames are not accepted: send JSON text frames",
                )
                .await?;
            }
            return Ok(None);
        };
        match parsed.unwrap_or_else(|| parse_client_message(text.as_str(), MAX_MESSAGE_BYTES)) {
            Ok(message) => Ok(Some(message)),
            Err(error) => {
                self.send_error(error.code(), error.to_string()).await?;
                Ok(None)
            }
        }
    }

    /// Sends a queued message, and remembers a command until its ack.
    async fn deliver(&mut self, message: &ServerMessage) -> Result<(), Closed> {
        if let ServerMessage::Command { id, .. } = message
            && self.unacked.len() < MAX_UNACKED
        {
            self.unacked.insert(*id);
        }
        self.send(message).await
    }

    async fn report_read_error(&mut self, error: &axum::Error) {
        let text = error.to_string();
        if text.contains("too long") || text.contains("Space limit") {
            let message = format!("message too large: the limit is {MAX_MESSAGE_BYTES} bytes");
            self.fail(ErrorCode::MessageTooLarge, message, close_code::SIZE)
                .await;
        } else {
            debug!(error = %text, client.ip = ?self.client.ip, "device socket read failed");
        }
    }

    /// Sends the heartbeat's ping, or ends the connection after two missed pongs.
    async fn beat(&mut self) -> Result<(), Closed> {
        match self.heartbeat.expired(Instant::now()) {
            Beat::Ping => {
                let sent = tokio::time::timeout(
                    SEND_TIMEOUT,
                    self.socket.send(Message::Ping(Vec::new().into())),
                )
                .await;
                match sent {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(Closed),
                }
            }
            Beat::Dead => {
                info!(device.id = ?self.device_id, client.ip = ?self.client.ip, "device socket closed: two pings went unanswered");
                self.close(close_code::AWAY, "no pong").await;
                Err(Closed)
            }
        }
    }

    /// Serves an authenticated device until its socket closes.
    async fn serve(&mut self, record: DeviceRecord, hello: &Hello) {
        let service = self.service.clone();
        let device_id = record.id.clone();
        self.device_id = Some(device_id.clone());
        let (generation, mut queue) = service.hub.register(&device_id);
        service.presence.connected(
            &device_id,
            Some(generation),
            Transport::WebSocket,
            self.client.ip.map(|ip| ip.to_string()),
            Some(hello.user_agent.clone()),
            service.now(),
        );
        service.events.changed(&device_id);
        debug!(device.id = %device_id, generation, "device connected");

        let _ = self.run_session(&record, &mut queue).await;

        service.hub.unregister(&device_id, generation);
        service.presence.disconnected(&device_id, generation);
        service.events.changed(&device_id);
        debug!(device.id = %device_id, generation, "device disconnected");
    }

    async fn run_session(
        &mut self,
        record: &DeviceRecord,
        queue: &mut mpsc::Receiver<Outgoing>,
    ) -> Result<(), Closed> {
        let service = self.service.clone();
        let device_id = &record.id;

        let settings = service.settings_for(record).await;
        service
            .presence
            .set_interval(device_id, settings.screensaver.interval_seconds);
        self.send(&ServerMessage::Welcome {
            device_id: device_id.clone(),
            name: record.name.clone(),
            settings: Box::new(settings),
            server_time_ms: now_ms(),
        })
        .await?;
        // A command sent while this socket was registering is both in the store's queue and
        // in `queue`: it goes out once, from the queue read here, and its copy is skipped.
        let mut flushed = HashSet::new();
        for command in service.take_pending(device_id).await {
            if let ServerMessage::Command { id, .. } = &command {
                flushed.insert(*id);
            }
            self.deliver(&command).await?;
        }

        loop {
            tokio::select! {
                frame = self.socket.recv() => {
                    let heard = matches!(frame, Some(Ok(_)));
                    let message = self.read_message(frame).await?;
                    if heard {
                        service.presence.heard(device_id, service.now());
                    }
                    if let Some(message) = message {
                        self.handle_message(record, message).await?;
                    }
                }
                outgoing = queue.recv() => match outgoing {
                    Some(Outgoing::Send(ServerMessage::Command { id, .. })) if flushed.remove(&id) => {}
                    Some(Outgoing::Send(message)) => self.deliver(&message).await?,
                    Some(Outgoing::Close(message)) => {
                        let _ = self.send(&message).await;
                        self.close(close_code::NORMAL, "").await;
                        return Err(Closed);
                    }
                    None => {
                        self.fail(ErrorCode::Replaced, "a newer connection of this device took over", close_code::NORMAL).await;
                        return Err(Closed);
                    }
                },
                () = sleep_until(self.heartbeat.deadline()) => self.beat().await?,
            }
        }
    }

    async fn handle_message(
        &mut self,
        record: &DeviceRecord,
        message: ClientMessage,
    ) -> Result<(), Closed> {
        let service = self.service.clone();
        match message {
            ClientMessage::Status(status) => {
                service.presence.status(&record.id, status, service.now());
                service.events.changed(&record.id);
                Ok(())
            }
            ClientMessage::Ack { id, ok, error } => {
                self.unacked.remove(&id);
                let failure =
                    (!ok).then(|| error.unwrap_or_else(|| "failed without a reason".to_owned()));
                service
                    .acknowledge(&record.id, id, failure.as_deref())
                    .await;
                Ok(())
            }
            ClientMessage::Ping { client_time_ms } => self.send(&pong(client_time_ms)).await,
            ClientMessage::Hello(_) => {
                self.send_error(
                    ErrorCode::UnexpectedMessage,
                    "unexpected hello: this connection is authenticated already",
                )
                .await
            }
        }
    }
}

/// A pairing code a socket waits on, with the ticket that proves the screen has it.
struct Waiting<'a> {
    code_hash: &'a str,
    ticket: &'a PairingTicket,
    generation: u64,
    expires_at: i64,
}

fn pong(client_time_ms: i64) -> ServerMessage {
    ServerMessage::Pong {
        client_time_ms,
        server_time_ms: now_ms(),
    }
}
