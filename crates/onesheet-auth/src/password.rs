//! Password hashing with argon2id, verification of stored argon2 and imported bcrypt hashes,
//! and the policy for new passwords.
//!
//! [`hash_password`], [`verify_password`] and [`verify_dummy`] each take tens of milliseconds of
//! CPU and, for argon2, about 19 MiB of memory, and they run synchronously. Callers run them on
//! a bounded blocking pool (for example `spawn_blocking` behind a semaphore), so that a burst of
//! logins neither stalls the async runtime nor allocates without limit.
//!
//! Passwords are NFKC-normalized before argon2 hashes them, so the same password typed on systems
//! that compose accents differently still matches. bcrypt hashes come from other software and
//! get the candidate's bytes unchanged.

mod policy;

use std::sync::LazyLock;

use argon2::password_hash::Error as PhcError;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use unicode_normalization::UnicodeNormalization;

use crate::AuthError;

pub use policy::{PasswordPolicy, PolicyViolation};

/// Argon2id memory cost in KiB (19 MiB). Together with [`T_COST`] and [`P_COST`] this is the
/// minimum argon2id configuration that the OWASP Password Storage Cheat Sheet recommends:
/// 19 MiB of memory, 2 iterations and 1 degree of parallelism.
pub const M_COST_KIB: u32 = 19_456;

/// Argon2id passes over memory.
pub const T_COST: u32 = 2;

/// Argon2id lanes. This crate computes them on one thread.
pub const P_COST: u32 = 1;

/// Argon2 output length in bytes.
const OUTPUT_LEN: usize = 32;

/// Upper bounds on the costs of a stored argon2 hash. A hash above them is reported as
/// [`Verification::Unsupported`] instead of being computed, so one damaged or hostile row cannot
/// make a login allocate gigabytes or run for minutes. These are chosen values, about 13 times
/// the current memory cost and 5 times its passes.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 10;
const MAX_P_COST: u32 = 16;

/// Maximum bcrypt cost that is verified. Each step doubles the time, so cost 14 takes 16 times
/// as long as cost 10, the lowest cost OWASP recommends for bcrypt. The `bcrypt` crate
/// defaults to 12.
const MAX_BCRYPT_COST: u32 = 14;

/// Outcome of [`verify_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password does not match the stored hash.
    Rejected,
    /// The password matches. When `rehash` is true the stored hash is bcrypt or argon2 weaker
    /// than the current parameters, and the caller should store `hash_password(candidate)`.
    Accepted { rehash: bool },
    /// The stored hash cannot be used: an unknown scheme, a malformed string or costs above this
    /// crate's limits. Callers treat it as [`Verification::Rejected`] and log `reason`, which
    /// never contains the hash.
    Unsupported { reason: &'static str },
}

impl Verification {
    pub fn is_accepted(self) -> bool {
        matches!(self, Self::Accepted { .. })
    }
}

/// Hashes `password` with argon2id, the current parameters and a random 16-byte salt, and
/// returns the PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
///
/// This does not apply [`PasswordPolicy`], because a rehash after login must accept passwords
/// set under older rules. Fails only if the operating system cannot supply the salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let normalized: String = password.nfkc().collect();
    let hash: PasswordHash = current_hasher()?
        .hash_password(normalized.as_bytes())
        .map_err(AuthError::Hash)?;
    Ok(hash.to_string())
}

/// Verifies `candidate` against a stored argon2 PHC string or bcrypt hash (`$2a$`, `$2b$`,
/// `$2y$`).
///
/// An unusable stored hash costs as much time as a real verification, because this function
/// then runs [`verify_dummy`]. The response time therefore does not reveal a damaged hash.
pub fn verify_password(stored: &str, candidate: &str) -> Verification {
    let verification = if stored.starts_with("$argon2") {
        verify_argon2(stored, candidate)
    } else if is_bcrypt(stored) {
        verify_bcrypt(stored, candidate)
    } else {
        Verification::Unsupported {
            reason: "unknown password hash scheme",
        }
    };

    if matches!(verification, Verification::Unsupported { .. }) {
        verify_dummy(candidate);
    }
    verification
}

/// Runs the same argon2id verification as [`verify_password`] against a fixed hash with the
/// current parameters, and discards the result.
///
/// Callers must call this when the username is unknown, so that a login attempt for an unknown
/// user takes as long as one for a known user. The fixed hash is built on the first call, which
/// therefore takes about twice as long. Call it once at start-up to move that cost off the first
/// login.
///
/// NOTE: an account whose stored hash is still bcrypt takes bcrypt's time instead, so until its
/// first login rehashes it, timing can tell it apart from an unknown username.
pub fn verify_dummy(candidate: &str) {
    let _ = verify_against_dummy(candidate);
}

/// Verifies `candidate` against the fixed hash and returns the outcome, which is
/// [`Verification::Rejected`] unless argon2 could not run.
fn verify_against_dummy(candidate: &str) -> Verification {
    match dummy_hash() {
        Some(hash) => verify_argon2(hash, candidate),
        // Building the fixed hash failed, which happens only for invalid parameters or when the
        // operating system supplies no random bytes. Hashing the candidate costs the same time.
        None => {
            let _ = hash_password(candidate);
            Verification::Unsupported {
                reason: "the fixed hash for unknown users could not be built",
            }
        }
    }
}

/// Returns the fixed hash for [`verify_dummy`], built on first use from 32 random bytes, so no
/// candidate can match it.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
        let input: [u8; 32] = crate::random::bytes();
        let hash: PasswordHash = current_hasher().ok()?.hash_password(&input).ok()?;
        Some(hash.to_string())
    });
    DUMMY_HASH.as_deref()
}

fn current_hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .map_err(|error| AuthError::Hash(error.into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn verify_argon2(stored: &str, candidate: &str) -> Verification {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verification::Unsupported {
            reason: "malformed argon2 PHC string",
        };
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return Verification::Unsupported {
            reason: "unknown argon2 variant",
        };
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or(Version::V0x10),
        Err(_) => {
            return Verification::Unsupported {
                reason: "unknown argon2 version",
            };
        }
    };
    let Ok(params) = Params::try_from(&hash) else {
        return Verification::Unsupported {
            reason: "invalid argon2 parameters",
        };
    };
    if hash.salt.is_none() || hash.hash.is_none() {
        return Verification::Unsupported {
            reason: "argon2 PHC string without salt or hash",
        };
    }
    if params.m_cost() > MAX_M_COST_KIB
        || params.t_cost() > MAX_T_COST
        || params.p_cost() > MAX_P_COST
    {
        return Verification::Unsupported {
            reason: "argon2 costs above this server's limits",
        };
    }

    let normalized: String = candidate.nfkc().collect();

    // The verifier takes algorithm, version and parameters from the PHC string, not from the
    // `Argon2` value it is called on.
    match Argon2::default().verify_password(normalized.as_bytes(), &hash) {
        Ok(()) => Verification::Accepted {
            rehash: is_weaker_than_current(algorithm, version, &params),
        },
        Err(PhcError::PasswordInvalid) => Verification::Rejected,
        Err(_) => Verification::Unsupported {
            reason: "argon2 cannot verify the stored hash",
        },
    }
}

/// Returns true when a hash made with these settings is cheaper to attack than a new one.
/// A higher cost than the current one is not a reason to rehash.
fn is_weaker_than_current(algorithm: Algorithm, version: Version, params: &Params) -> bool {
    algorithm != Algorithm::Argon2id
        || version != Version::V0x13
        || params.m_cost() < M_COST_KIB
        || params.t_cost() < T_COST
        || params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN) < OUTPUT_LEN
}

/// Returns true for the bcrypt prefixes that this crate verifies. `$2x$` marks hashes from a
/// buggy implementation and is left out.
fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

fn verify_bcrypt(stored: &str, candidate: &str) -> Verification {
    // bcrypt's cost is the two digits after the prefix, as in `$2b$10$`.
    let cost = stored
        .get(4..6)
        .and_then(|digits| digits.parse::<u32>().ok());
    match cost {
        Some(cost) if cost <= MAX_BCRYPT_COST => {}
        Some(_) => {
            return Verification::Unsupported {
                reason: "bcrypt cost above this server's limit",
            };
        }
        None => {
            return Verification::Unsupported {
                reason: "malformed bcrypt hash",
            };
        }
    }

    match bcrypt::verify(candidate.as_bytes(), stored) {
        Ok(true) => Verification::Accepted { rehash: true },
        Ok(false) => Verification::Rejected,
        Err(_) => Verification::Unsupported {
            reason: "malformed bcrypt hash",
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const PASSWORD: &str = "velvet lantern orbits quietly";

    /// Hashes with chosen argon2 settings and a fixed salt, for hashes made elsewhere or before.
    fn argon2_hash(
        algorithm: Algorithm,
        version: Version,
        m: u32,
        t: u32,
        password: &str,
    ) -> String {
        let params = Params::new(m, t, 1, Some(32)).unwrap();
        let hash: PasswordHash = Argon2::new(algorithm, version, params)
            .hash_password_with_salt(password.as_bytes(), b"fixed salt 16 by")
            .unwrap();
        hash.to_string()
    }

    #[test]
    fn hash_uses_current_parameters() {
        let hash = hash_password(PASSWORD).unwrap();

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        assert_eq!(parsed.salt.unwrap().len(), 16);
        assert_eq!(parsed.hash.unwrap().len(), 32);
    }

    #[test]
    fn hash_salts_each_call() {
        let first = hash_password(PASSWORD).unwrap();
        let second = hash_password(PASSWORD).unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn verify_accepts_current_hash_without_rehash() {
        let hash = hash_password(PASSWORD).unwrap();

        assert_eq!(
            verify_password(&hash, PASSWORD),
            Verification::Accepted { rehash: false }
        );
    }

    #[test]
    fn verify_rejects_wrong_password() {
        let hash = hash_password(PASSWORD).unwrap();

        assert_eq!(
            verify_password(&hash, "velvet lantern orbits quietly!"),
            Verification::Rejected
        );
        assert_eq!(verify_password(&hash, ""), Verification::Rejected);
    }

    #[test]
    fn verify_matches_across_unicode_forms() {
        let composed = "caf\u{e9} au lait, s'il vous pla\u{ee}t";
        let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t";
        let hash = hash_password(composed).unwrap();

        assert!(verify_password(&hash, decomposed).is_accepted());
    }

    #[test]
    fn verify_asks_rehash_for_weaker_argon2() {
        let cheap_memory = argon2_hash(Algorithm::Argon2id, Version::V0x13, 8192, 2, PASSWORD);
        let one_pass = argon2_hash(Algorithm::Argon2id, Version::V0x13, 19_456, 1, PASSWORD);
        let argon2i = argon2_hash(Algorithm::Argon2i, Version::V0x13, 19_456, 2, PASSWORD);
        let old_version = argon2_hash(Algorithm::Argon2id, Version::V0x10, 19_456, 2, PASSWORD);

        for hash in [cheap_memory, one_pass, argon2i, old_version] {
            assert_eq!(
                verify_password(&hash, PASSWORD),
                Verification::Accepted { rehash: true },
                "{hash}"
            );
        }
    }

    #[test]
    fn verify_keeps_stronger_argon2() {
        let stronger = argon2_hash(Algorithm::Argon2id, Version::V0x13, 32_768, 3, PASSWORD);

        assert_eq!(
            verify_password(&stronger, PASSWORD),
            Verification::Accepted { rehash: false }
        );
    }

    #[test]
    fn verify_refuses_argon2_above_limits() {
        // Only the PHC string is built, so nothing allocates the 4 GiB that it declares.
        let hash = argon2_hash(Algorithm::Argon2id, Version::V0x13, 8192, 2, PASSWORD)
            .replace("m=8192", "m=4194304");

        assert_eq!(
            verify_password(&hash, PASSWORD),
            Verification::Unsupported {
                reason: "argon2 costs above this server's limits"
            }
        );
    }

    #[test]
    fn verify_accepts_bcrypt_and_asks_rehash() {
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();
        assert!(hash.starts_with("$2b$04$"), "{hash}");

        assert_eq!(
            verify_password(&hash, PASSWORD),
            Verification::Accepted { rehash: true }
        );
        assert_eq!(
            verify_password(&hash, "something else entirely"),
            Verification::Rejected
        );
    }

    #[test]
    fn verify_accepts_2a_and_2y_prefixes() {
        let hash = bcrypt::hash(PASSWORD, 4).unwrap();

        for prefix in ["$2a$", "$2y$"] {
            let renamed = format!("{prefix}{}", &hash[4..]);
            assert!(
                verify_password(&renamed, PASSWORD).is_accepted(),
                "{renamed}"
            );
        }
    }

    #[test]
    fn verify_refuses_expensive_bcrypt() {
        let hash = bcrypt::hash(PASSWORD, 4)
            .unwrap()
            .replace("$2b$04$", "$2b$15$");

        assert_eq!(
            verify_password(&hash, PASSWORD),
            Verification::Unsupported {
                reason: "bcrypt cost above this server's limit"
            }
        );
    }

    #[test]
    fn verify_reports_unusable_hashes() {
        let cases = [
            ("", "unknown password hash scheme"),
            ("plaintext", "unknown password hash scheme"),
            (
                "$2x$10$abcdefghijklmnopqrstuu",
                "unknown password hash scheme",
            ),
            (
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$not*base64",
                "malformed argon2 PHC string",
            ),
            (
                "$argon2id$v=19$m=19456,t=2,p=1",
                "argon2 PHC string without salt or hash",
            ),
            ("$2b$10$tooshort", "malformed bcrypt hash"),
            ("$2b$xx$abcdefghijklmnopqrstuu", "malformed bcrypt hash"),
        ];

        // Well-formed strings with one field changed.
        let valid = argon2_hash(Algorithm::Argon2id, Version::V0x13, 8192, 2, PASSWORD);
        let old_version = valid.replace("v=19", "v=17");
        let tiny_memory = valid.replace("m=8192", "m=1");
        let other_variant = valid.replace("$argon2id$", "$argon2q$");
        let cases = cases.into_iter().chain([
            (other_variant.as_str(), "unknown argon2 variant"),
            (old_version.as_str(), "unknown argon2 version"),
            (tiny_memory.as_str(), "invalid argon2 parameters"),
        ]);

        for (stored, reason) in cases {
            assert_eq!(
                verify_password(stored, PASSWORD),
                Verification::Unsupported { reason },
                "{stored:?}"
            );
        }
    }

    #[test]
    fn verification_is_accepted_only_when_accepted() {
        assert!(Verification::Accepted { rehash: true }.is_accepted());
        assert!(Verification::Accepted { rehash: false }.is_accepted());
        assert!(!Verification::Rejected.is_accepted());
        assert!(!Verification::Unsupported { reason: "x" }.is_accepted());
    }

    #[test]
    fn dummy_verification_runs_argon2() {
        let hash = dummy_hash().unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );

        // `Rejected` comes only from comparing a computed argon2 output, so the full work ran.
        assert_eq!(verify_against_dummy(PASSWORD), Verification::Rejected);
        assert_eq!(verify_against_dummy(""), Verification::Rejected);
    }
}
