//! The crate's error type.

/// A failure of one of this crate's operations. Weak passwords are reported separately as
/// [`PolicyViolation`](crate::PolicyViolation), because they are a user's input to correct.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Argon2 rejected its input or the salt could not be generated.
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),

    /// Text from a cookie, header or form is not a well-formed token. The reason names the
    /// rule it broke and never echoes the text, which may be a real secret.
    #[error("invalid {kind}: {reason}")]
    InvalidToken {
        kind: &'static str,
        reason: &'static str,
    },

    #[error(
        "a TOTP secret must have between {min} and {max} bytes, got {length}: generate a new one"
    )]
    TotpSecretLength {
        length: usize,
        min: usize,
        max: usize,
    },

    /// Authenticator apps split the `otpauth` label at the first colon, so neither part of it
    /// may contain one.
    #[error("the TOTP {field} must not be empty or contain a colon")]
    InvalidOtpauthLabel { field: &'static str },

    #[error("cannot encode the enrolment URI as a QR code: {0}")]
    QrCode(qrcode::types::QrError),
}
