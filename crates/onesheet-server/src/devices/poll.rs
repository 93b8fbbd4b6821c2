//! The long-poll fallback for screens whose WebSocket upgrade fails, usually behind a proxy that
//! strips the `Upgrade` header.
//!
//! `GET` waits until a command is queued for the device, a settings change applies to it, or
//! [`POLL_WAIT`] passes. It returns the current merged settings and the queued commands as
//! protocol messages, so the client handles them as if they came over the socket. A screen's
//! first poll requests a `welcome` with `?welcome=true`. That poll returns at once, with a
//! `welcome` in place of `settings`, so a polling screen learns its name and the server's
//! clock as a socket's screen does. `POST` carries the device's `status` and `ack` messages.
//! Each poll marks the device online with transport `long-poll`, so the admin can tell why it is
//! not live.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use onesheet_domain::protocol::{MAX_MESSAGE_BYTES, MAX_USER_AGENT_BYTES};
use onesheet_domain::{ClientMessage, DeviceRecord, ServerMessage, parse_client_message};

use super::credentials::DeviceCredential;
use super::presence::Transport;
use super::{DeviceError, DeviceService, quota};

/// Maximum time a poll waits for a command. Shorter than the 30 s after which common proxies
/// and the listener's header timeout give up on an idle connection.
pub const POLL_WAIT: Duration = Duration::from_secs(25);

/// Maximum messages in one report.
pub const MAX_REPORT_MESSAGES: usize = 50;

/// Polls and reports of one device, together. A screen polls about every [`POLL_WAIT`] and
/// reports its status every half minute. A burst of commands costs a poll and a report per
/// wake-up, so 60 at once and 2 a second after that leave room for the largest command queue.
pub(super) const POLL_BUDGET: quota::Budget = quota::Budget {
    burst: 60,
    per_minute: 120,
};

impl DeviceService {
    async fn polling_device(
        &self,
        ip: Option<IpAddr>,
        credential: &DeviceCredential,
        user_agent: Option<&str>,
    ) -> Result<DeviceRecord, DeviceError> {
        let record = self
            .authenticate(ip, &credential.device_id, &credential.secret)
            .await?;
        // The budget is per device and taken after the check, so a client that knows a
        // device's id but not its secret cannot spend that device's budget.
        self.poll_quota
            .take(record.id.clone(), Instant::now())
            .map_err(|wait| DeviceError::RateLimited {
                message: "too many long-poll requests from this device".to_owned(),
                retry_after_seconds: quota::retry_after_seconds(wait),
            })?;
        self.presence.connected(
            &record.id,
            None,
            Transport::LongPoll,
            ip.map(|ip| ip.to_string()),
            user_agent.map(|agent| truncate(agent, MAX_USER_AGENT_BYTES).to_owned()),
            self.now(),
        );
        // Registering the wake-up here, on any poll or report, lets a change made before the
        // device's next poll wake that poll at once.
        self.hub.poller(&record.id);
        Ok(record)
    }

    /// Waits up to `wait` for commands or a settings change, and returns the queued commands
    /// after a `settings` message with the device's merged settings. With `welcome`, returns at
    /// once and sends a `welcome` message in place of `settings`.
    pub async fn poll(
        &self,
        ip: Option<IpAddr>,
        credential: &DeviceCredential,
        user_agent: Option<&str>,
        wait: Duration,
        welcome: bool,
    ) -> Result<Vec<ServerMessage>, DeviceError> {
        let record = self.polling_device(ip, credential, user_agent).await?;

        // The wake-up is taken before the queue is read, so a command queued between the two
        // wakes this poll instead of waiting for the next.
        let wake = self.hub.poller(&record.id);
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        let mut commands = self.take_pending(&record.id).await;
        if commands.is_empty() && !welcome {
            let _ = tokio::time::timeout(wait, notified).await;
            commands = self.take_pending(&record.id).await;
        }

        // The record is read again, because the wake-up may come from a change to it.
        let record = self
            .store
            .get_device(&record.id)
            .await
            .map_err(DeviceError::Store)?
            .filter(DeviceRecord::is_active)
            .ok_or(DeviceError::Revoked)?;
        let settings = self.settings_for(&record).await;
        self.presence
            .set_interval(&record.id, settings.screensaver.interval_seconds);
        self.presence.heard(&record.id, self.now());
        let mut messages = Vec::with_capacity(commands.len() + 1);
        messages.push(if welcome {
            ServerMessage::Welcome {
                device_id: record.id.clone(),
                name: record.name.clone(),
                settings: Box::new(settings),
                server_time_ms: super::now_ms(),
            }
        } else {
            ServerMessage::Settings {
                settings: Box::new(settings),
            }
        });
        messages.extend(commands);
        Ok(messages)
    }

    /// Applies the `status` and `ack` messages of a polling device. Returns one error message
    /// per rejected entry; the others are applied.
    pub async fn poll_report(
        &self,
        ip: Option<IpAddr>,
        credential: &DeviceCredential,
        user_agent: Option<&str>,
        messages: &[serde_json::Value],
    ) -> Result<Vec<String>, DeviceError> {
        if messages.len() > MAX_REPORT_MESSAGES {
            return Err(DeviceError::InvalidField(onesheet_domain::FieldError::new(
                "messages",
                format!(
                    "{} messages in one report: send at most {MAX_REPORT_MESSAGES}",
                    messages.len()
                ),
            )));
        }
        let record = self.polling_device(ip, credential, user_agent).await?;

        let mut errors = Vec::new();
        for (index, value) in messages.iter().enumerate() {
            let message = match parse_client_message(&value.to_string(), MAX_MESSAGE_BYTES) {
                Ok(message) => message,
                Err(error) => {
                    errors.push(format!("messages[{index}]: {error}"));
                    continue;
                }
            };
            match message {
                ClientMessage::Status(status) => {
                    self.presence.status(&record.id, status, self.now());
                    self.events.changed(&record.id);
                }
                ClientMessage::Ack { id, ok, error } => {
                    let failure = (!ok)
                        .then(|| error.unwrap_or_else(|| "failed without a reason".to_owned()));
                    self.acknowledge(&record.id, id, failure.as_deref()).await;
                }
                other => errors.push(format!(
                    "messages[{index}]: {} is not accepted here: send status and ack messages",
                    other.type_name()
                )),
            }
        }
        Ok(errors)
    }
}

/// Cuts `text` to at most `max_bytes`, at a character boundary. A socket's `hello` with a
/// longer user agent is rejected, but an HTTP header is the browser's own, so it is cut.
fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_whole_characters() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
    }
}
