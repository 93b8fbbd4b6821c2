//! Onesheet's security primitives: password hashing and policy, TOTP, recovery codes, random
//! tokens and log redaction.
//!
//! Nothing here performs I/O or reads the clock. The server passes the current time in, and the
//! store keeps only what these functions return for storage (hashes, never the secrets).
//!
//! Every random value comes from the operating system's CSPRNG. A function that generates one
//! panics if that source fails, because there is no safe fallback for a secret.

#![forbid(unsafe_code)]

mod error;
pub mod password;
mod random;
pub mod recovery;
pub mod redact;
pub mod token;
pub mod totp;

pub use error::AuthError;
pub use password::{
    PasswordPolicy, PolicyViolation, Verification, hash_password, verify_dummy, verify_password,
};
pub use recovery::RecoveryHasher;
pub use redact::redact;
pub use token::{ApiToken, CsrfToken, SessionId};
pub use totp::TotpSecret;
