//! The second factor: TOTP codes (RFC 6238) and single-use recovery codes.
//!
//! A TOTP code is checked against the steps just before, at and after the current one, and the
//! store then claims its step for the account, so a code that was seen once (over a shoulder,
//! in a proxy log) is rejected the second time. Secrets are sealed with the server's key and
//! bound to the account id. Enrolment keeps the new secret pending until the first code from
//! the app proves it was scanned, and only then issues the ten recovery codes.

use onesheet_auth::{TotpSecret, recovery, totp};
use onesheet_store::AdminAccount;

use super::login::limit_keys;
use super::sessions::{SessionGrant, SignedIn};
use super::{AccountError, Accounts, Caller};

/// Recovery codes issued at enrolment.
const RECOVERY_CODES: usize = 10;

/// Name shown as the issuer in authenticator apps.
const ISSUER: &str = "Onesheet";

/// What the admin needs to add the account to an authenticator app.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing it in by hand.
    pub secret: String,
    pub uri: String,
    /// A QR code of `uri` as an SVG document.
    pub qr_svg: String,
}

/// How the admin proves the second factor.
#[derive(Debug, Clone, Copy)]
pub enum SecondFactor<'a> {
    Code(&'a str),
    RecoveryCode(&'a str),
}

impl Accounts {
    /// Finishes a login whose password was right, and issues a new session id.
    pub async fn complete_second_factor(
        &self,
        signed_in: &SignedIn,
        factor: SecondFactor<'_>,
        caller: &Caller,
    ) -> Result<SessionGrant, AccountError> {
        if !signed_in.second_factor_pending {
            return Err(AccountError::TotpState(
                "this session has no second factor to finish",
            ));
        }
        let keys = limit_keys(caller, &signed_in.username);
        self.check_limit(&self.second_factor_limiter, &keys)?;
        let admin = self
            .store
            .get_admin(signed_in.admin_id)
            .await?
            .ok_or(AccountError::NotSignedIn)?;

        if !self.check_factor(&admin, factor).await? {
            self.audit(
                &admin.username,
                "login.second_factor_failure",
                None,
                caller,
                None,
            )
            .await;
            return Err(AccountError::CodeRejected);
        }

        self.second_factor_limiter.record_success(&keys);
        let grant = self
            .start_session(
                &admin,
                signed_in.remember,
                false,
                Some(&signed_in.session_hash),
                caller,
            )
            .await?;
        let action = match factor {
            SecondFactor::Code(_) => "login.success",
            SecondFactor::RecoveryCode(_) => "login.success_recovery_code",
        };
        self.audit(&admin.username, action, None, caller, None)
            .await;
        Ok(grant)
    }

    /// Starts enrolment: a new pending secret replaces any earlier pending one.
    pub async fn begin_totp(&self, signed_in: &SignedIn) -> Result<TotpEnrolment, AccountError> {
        let admin = self.signed_in_admin(signed_in).await?;
        if admin.totp_enabled() {
            return Err(AccountError::TotpState(
                "two-factor authentication is on already: turn it off first to enrol a new device",
            ));
        }
        let secret = TotpSecret::generate();
        let uri = secret
            .otpauth_uri(ISSUER, &admin.username)
            .map_err(|error| AccountError::Internal(error.to_string()))?;
        let qr_svg =
            totp::qr_svg(&uri).map_err(|error| AccountError::Internal(error.to_string()))?;
        let sealed = self.key.seal(secret.as_bytes(), &totp_binding(admin.id));
        self.store.set_totp_pending(admin.id, Some(&sealed)).await?;
        Ok(TotpEnrolment {
            secret: secret.to_base32(),
            uri,
            qr_svg,
        })
    }

    /// Confirms enrolment with a first code and returns the recovery codes, shown only now.
    pub async fn confirm_totp(
        &self,
        signed_in: &SignedIn,
        code: &str,
        caller: &Caller,
    ) -> Result<Vec<String>, AccountError> {
        let admin = self.signed_in_admin(signed_in).await?;
        let Some(pending) = admin.totp_pending_secret.clone() else {
            return Err(AccountError::TotpState(
                "no enrolment is in progress: start one first",
            ));
        };
        let keys = limit_keys(caller, &admin.username);
        self.check_limit(&self.second_factor_limiter, &keys)?;

        let secret = self.open_secret(&admin, &pending)?;
        let step =
            totp::verify(&secret, code, self.now_u64()).and_then(|step| i64::try_from(step).ok());
        let Some(step) = step else {
            return Err(AccountError::CodeRejected);
        };
        if !self.store.confirm_totp(admin.id, &pending, step).await? {
            return Err(AccountError::TotpState(
                "the enrolment changed meanwhile: start again",
            ));
        }
        self.second_factor_limiter.record_success(&keys);

        let codes = recovery::generate_codes(RECOVERY_CODES);
        let hashes: Vec<String> = codes.iter().map(|code| self.recovery.hash(code)).collect();
        self.store
            .replace_recovery_codes(admin.id, &hashes, self.now())
            .await?;
        self.audit(&admin.username, "totp.enabled", None, caller, None)
            .await;
        Ok(codes)
    }

    /// Turns two-factor authentication off; needs the password and a current code.
    pub async fn disable_totp(
        &self,
        signed_in: &SignedIn,
        password: &str,
        factor: SecondFactor<'_>,
        caller: &Caller,
    ) -> Result<(), AccountError> {
        let admin = self.signed_in_admin(signed_in).await?;
        if !admin.totp_enabled() {
            return Err(AccountError::TotpState(
                "two-factor authentication is off already",
            ));
        }
        let keys = limit_keys(caller, &admin.username);
        self.check_limit(&self.second_factor_limiter, &keys)?;

        let stored = admin.password_hash.clone();
        let candidate = password.to_owned();
        let password_ok = self
            .hash_work(move || onesheet_auth::verify_password(&stored, &candidate))
            .await?
            .is_accepted();
        if !password_ok || !self.check_factor(&admin, factor).await? {
            self.audit(&admin.username, "totp.disable_rejected", None, caller, None)
                .await;
            return Err(AccountError::WrongPassword);
        }
        self.second_factor_limiter.record_success(&keys);
        self.store.disable_totp(admin.id).await?;
        self.audit(&admin.username, "totp.disabled", None, caller, None)
            .await;
        Ok(())
    }

    /// Returns whether the admin signs in with a second factor, for the security page.
    pub async fn two_factor_enabled(&self, signed_in: &SignedIn) -> Result<bool, AccountError> {
        Ok(self.signed_in_admin(signed_in).await?.totp_enabled())
    }

    /// Unused recovery codes left, for the security page.
    pub async fn recovery_codes_left(&self, signed_in: &SignedIn) -> Result<u64, AccountError> {
        Ok(self
            .store
            .count_unused_recovery_codes(signed_in.admin_id)
            .await?)
    }

    /// Checks a TOTP code (claiming its step) or uses up a recovery code.
    async fn check_factor(
        &self,
        admin: &AdminAccount,
        factor: SecondFactor<'_>,
    ) -> Result<bool, AccountError> {
        match factor {
            SecondFactor::Code(code) => {
                let Some(sealed) = &admin.totp_secret else {
                    return Ok(false);
                };
                let secret = self.open_secret(admin, sealed)?;
                let Some(step) = totp::verify(&secret, code, self.now_u64())
                    .and_then(|step| i64::try_from(step).ok())
                else {
                    return Ok(false);
                };
                Ok(self.store.claim_totp_step(admin.id, step).await?)
            }
            SecondFactor::RecoveryCode(code) => {
                let Some(code) = recovery::normalize(code) else {
                    return Ok(false);
                };
                let hash = self.recovery.hash(&code);
                Ok(self
                    .store
                    .use_recovery_code(admin.id, &hash, self.now())
                    .await?)
            }
        }
    }

    fn open_secret(&self, admin: &AdminAccount, sealed: &[u8]) -> Result<TotpSecret, AccountError> {
        let bytes = self
            .key
            .open(sealed, &totp_binding(admin.id))
            .map_err(|_| {
                AccountError::Internal(
                    "the stored TOTP secret cannot be decrypted: was the secret key changed?"
                        .to_owned(),
                )
            })?;
        TotpSecret::from_bytes(&bytes).map_err(|error| AccountError::Internal(error.to_string()))
    }

    /// The admin of a session whose second factor is done.
    pub(super) async fn signed_in_admin(
        &self,
        signed_in: &SignedIn,
    ) -> Result<AdminAccount, AccountError> {
        if signed_in.second_factor_pending {
            return Err(AccountError::NotSignedIn);
        }
        self.store
            .get_admin(signed_in.admin_id)
            .await?
            .ok_or(AccountError::NotSignedIn)
    }

    fn now_u64(&self) -> u64 {
        u64::try_from(self.now()).unwrap_or(0)
    }
}

/// Associated data that binds a sealed TOTP secret to its account.
fn totp_binding(admin_id: i64) -> Vec<u8> {
    format!("totp:{admin_id}").into_bytes()
}
