//! Failures of account operations, mapped to HTTP in `crate::error`.

use onesheet_auth::PolicyViolation;
use onesheet_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The username or the password is wrong; the message never tells which.
    #[error("username or password is wrong")]
    InvalidCredentials,
    /// The current password, asked again before a sensitive change, is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(
        "that code was not accepted: codes work once each, within 30 seconds either side; check that the device's clock is right"
    )]
    CodeRejected,
    #[error(
        "too many failed attempts: try again in {retry_after_seconds} {}",
        if *.retry_after_seconds == 1 { "second" } else { "seconds" }
    )]
    Blocked { retry_after_seconds: u32 },
    #[error("the setup token is wrong: it is in the server log and in the file data/setup-token")]
    SetupTokenRejected,
    #[error(
        "setup is already done: sign in, or reset a password with `onesheet admin reset-password`"
    )]
    SetupDone,
    #[error("{0}")]
    WeakPassword(#[from] PolicyViolation),
    #[error("{message}")]
    InvalidUsername { message: String },
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    /// The request needs a signed-in admin with a finished second factor.
    #[error("sign in first")]
    NotSignedIn,
    /// Two-factor enrolment or removal in a state that does not allow it.
    #[error("{0}")]
    TotpState(&'static str),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    InvalidToken { message: String },
    /// Too many password checks are queued.
    #[error("the server is busy checking passwords: try again in a few seconds")]
    Busy,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_message_counts_seconds() {
        let one = AccountError::Blocked {
            retry_after_seconds: 1,
        };
        let many = AccountError::Blocked {
            retry_after_seconds: 30,
        };

        assert_eq!(
            one.to_string(),
            "too many failed attempts: try again in 1 second"
        );
        assert_eq!(
            many.to_string(),
            "too many failed attempts: try again in 30 seconds"
        );
    }
}
