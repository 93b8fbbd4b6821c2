//! `onesheet admin reset-password`: the recovery path when no admin can sign in.
//!
//! It works on the database directly, so it needs access to the data folder, which is the
//! proof of authority: whoever can read that folder can read the setup token and the secret
//! key anyway. The new password is read from standard input, never from an argument, so it
//! appears in neither the process list nor the shell history. Every session of the admin
//! ends, and `--disable-totp` turns two-factor authentication off for a lost phone.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, bail};
use onesheet_auth::PasswordPolicy;
use onesheet_store::{NewAuditEvent, Store};

use crate::config::Config;
use onesheet_server::accounts::unix_now;

/// What `reset-password` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPassword {
    /// The admin to reset; may be left out when exactly one admin exists.
    pub username: Option<String>,
    pub disable_totp: bool,
}

/// Resets a password with the first line of `input` and returns what to print.
pub async fn reset_password(
    config: &Config,
    request: &ResetPassword,
    input: impl BufRead,
) -> anyhow::Result<String> {
    let store = crate::serve::open_store(config).await?;
    let outcome = reset_with_store(store.clone(), request, input).await;
    store.close().await;
    outcome
}

async fn reset_with_store(
    store: Arc<dyn Store>,
    request: &ResetPassword,
    mut input: impl BufRead,
) -> anyhow::Result<String> {
    let admin = match &request.username {
        Some(name) => store.get_admin_by_username(name).await?.with_context(|| {
            format!("no admin named {name:?}: list them by omitting --username")
        })?,
        None => {
            let admins = store.list_admins().await?;
            match admins.as_slice() {
                [only] => only.clone(),
                [] => bail!("there is no admin yet: start the server and open /setup"),
                several => {
                    let names: Vec<&str> = several
                        .iter()
                        .map(|admin| admin.username.as_str())
                        .collect();
                    bail!(
                        "there are several admins ({}): name one with --username",
                        names.join(", ")
                    )
                }
            }
        }
    };

    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the new password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe it in, for example `onesheet admin reset-password < file`"
        );
    }
    PasswordPolicy::default()
        .check(password, &admin.username)
        .map_err(|violation| anyhow::anyhow!("{violation}"))?;

    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || onesheet_auth::hash_password(&password))
        .await
        .context("password hashing stopped")??;
    let now = unix_now();
    store.change_password(admin.id, &hash, now).await?;
    let sessions = store.delete_admin_sessions(admin.id, None).await?;
    let totp_off = request.disable_totp && store.disable_totp(admin.id).await?;

    let event = NewAuditEvent {
        at: now,
        actor: "cli".to_owned(),
        action: "password.reset".to_owned(),
        target: Some(admin.username.clone()),
        ip: None,
        user_agent: None,
        detail: Some(serde_json::json!({ "sessions_ended": sessions, "totp_disabled": totp_off })),
    };
    store.append_audit_event(&event).await?;

    let mut report = format!(
        "password of {:?} reset; {sessions} session(s) ended\n",
        admin.username
    );
    if totp_off {
        report.push_str("two-factor authentication turned off: enrol again after signing in\n");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use onesheet_store::{NewAdmin, SqliteStore};

    use super::*;

    async fn store_with(names: &[&str]) -> (Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("onesheet.db"))
                .await
                .unwrap(),
        );
        for name in names {
            let hash = onesheet_auth::hash_password("the old long password").unwrap();
            store
                .create_admin(&NewAdmin {
                    username: (*name).to_owned(),
                    password_hash: hash,
                    created_at: 1,
                })
                .await
                .unwrap();
        }
        (store, dir)
    }

    fn request(username: Option<&str>) -> ResetPassword {
        ResetPassword {
            username: username.map(str::to_owned),
            disable_totp: false,
        }
    }

    #[tokio::test]
    async fn reset_replaces_the_hash_and_audits() {
        let (store, _dir) = store_with(&["admin"]).await;
        let report = reset_with_store(
            store.clone(),
            &request(None),
            &b"a brand new passphrase\n"[..],
        )
        .await
        .unwrap();
        assert!(report.contains("\"admin\""), "{report}");

        let admin = store.get_admin_by_username("admin").await.unwrap().unwrap();
        let verification =
            onesheet_auth::verify_password(&admin.password_hash, "a brand new passphrase");
        assert!(verification.is_accepted());
        let events = store.list_audit_events(&Default::default()).await.unwrap();
        assert_eq!(events[0].action, "password.reset");
        assert_eq!(events[0].actor, "cli");
    }

    #[tokio::test]
    async fn several_admins_need_a_username() {
        let (store, _dir) = store_with(&["alice", "bob"]).await;
        let error = reset_with_store(
            store.clone(),
            &request(None),
            &b"a brand new passphrase\n"[..],
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(error.contains("alice, bob"), "{error}");
        assert!(
            reset_with_store(
                store,
                &request(Some("bob")),
                &b"a brand new passphrase\n"[..]
            )
            .await
            .is_ok()
        );
    }

    #[tokio::test]
    async fn weak_or_missing_passwords_change_nothing() {
        let (store, _dir) = store_with(&["admin"]).await;
        let before = store
            .get_admin_by_username("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash;
        for input in [&b"short\n"[..], &b""[..], &b"\n"[..]] {
            assert!(
                reset_with_store(store.clone(), &request(None), input)
                    .await
                    .is_err()
            );
        }
        let after = store
            .get_admin_by_username("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash;
        assert_eq!(before, after);
    }
}
