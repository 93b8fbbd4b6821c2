//! Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA-1,
//! 6 digits, 30-second steps, and one step of clock drift accepted either way.
//!
//! [`verify`] returns the time step (the RFC's counter `T`) that the code matched. A code stays
//! valid for up to three steps, so the caller must claim that step in the store and reject any
//! step at or below the last one accepted for the account. That makes each code single-use
//! (RFC 6238 section 5.2) and stops an older code from following a newer one.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use totp_rs::{Algorithm, Builder, Totp};

use crate::AuthError;

/// Digits per code.
pub const DIGITS: u8 = 6;

/// Length of one time step in seconds.
pub const STEP_SECONDS: u64 = 30;

/// Steps of clock drift accepted before and after the current one.
pub const SKEW_STEPS: u16 = 1;

/// Length of a generated secret: 160 bits, the length RFC 4226 section 4 recommends.
const GENERATED_SECRET_BYTES: usize = 20;

/// RFC 4226 section 4 requires at least 128 bits.
const MIN_SECRET_BYTES: usize = 16;

/// A chosen bound that rejects garbage. HMAC-SHA-1 hashes longer keys down to 20 bytes anyway.
const MAX_SECRET_BYTES: usize = 64;

/// Maximum input length in characters, spaces included, that [`verify`] examines.
const MAX_CODE_INPUT_CHARS: usize = 32;

/// Characters left unencoded in `otpauth` URIs: the RFC 3986 unreserved set.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Side of the rendered QR code in SVG user units, before the browser scales it.
const QR_MIN_SIDE: u32 = 240;

/// The shared secret of one account's authenticator. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret {
    bytes: Vec<u8>,
}

impl TotpSecret {
    /// Generates a secret of 20 random bytes.
    pub fn generate() -> Self {
        Self {
            bytes: crate::random::bytes::<GENERATED_SECRET_BYTES>().to_vec(),
        }
    }

    /// Wraps a stored secret. Fails unless it has 16 to 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuthError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(AuthError::TotpSecretLength {
                length: bytes.len(),
                min: MIN_SECRET_BYTES,
                max: MAX_SECRET_BYTES,
            });
        }
        Ok(Self {
            bytes: bytes.to_vec(),
        })
    }

    /// Parses the base32 form that authenticator apps show. Case, spaces and `=` padding are
    /// ignored.
    pub fn from_base32(text: &str) -> Result<Self, AuthError> {
        let cleaned: String = text
            .chars()
            .filter(|character| !character.is_whitespace() && *character != '=')
            .map(|character| character.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| AuthError::InvalidToken {
                kind: "TOTP secret",
                reason: "not RFC 4648 base32",
            })?;
        Self::from_bytes(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Returns the secret in RFC 4648 base32 without padding, the form users type into an
    /// authenticator app when they cannot scan the QR code.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.bytes)
    }

    /// Builds the `otpauth://totp/…` URI that authenticator apps import, in the key URI format
    /// that Google Authenticator defined and other apps follow.
    ///
    /// The label is `issuer:account` and the `issuer` parameter repeats the issuer. Both are
    /// percent-encoded (RFC 3986), so spaces, `@`, `&` and non-ASCII text survive. Apps split
    /// the label at its colon, so an empty issuer or account, or one that contains a colon, is
    /// rejected. The URI contains the secret: show it only to the enrolling user.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, AuthError> {
        check_label_part(issuer, "issuer")?;
        check_label_part(account, "account name")?;

        let issuer = utf8_percent_encode(issuer, URI_COMPONENT);
        let account = utf8_percent_encode(account, URI_COMPONENT);
        Ok(format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
             &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            secret = self.to_base32(),
        ))
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

/// Renders `uri` as a QR code in SVG, for the enrolment page.
///
/// The SVG consists of one `<rect>` and one `<path>`, with no scripts, styles, links or XML
/// declaration, so it can be inlined in HTML or served as `image/svg+xml` under a strict CSP.
/// Error correction level M restores up to about 15% of damaged codewords, and the image
/// includes the quiet zone that scanners need around the code.
pub fn qr_svg(uri: &str) -> Result<String, AuthError> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(AuthError::QrCode)?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(QR_MIN_SIDE, QR_MIN_SIDE)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();

    // The renderer starts with an XML declaration, which is invalid inside HTML.
    let image = match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    };
    Ok(image)
}

/// Checks `code` against the steps `T-1`, `T` and `T+1` around `unix_now` and returns the
/// matched step `T = unix_time / 30`, or `None`.
///
/// Spaces (any Unicode whitespace) are removed first, so `123 456` works. What remains must be
/// exactly six ASCII digits. The comparison runs in constant time. The caller must claim the
/// returned step before accepting the login, as the module documentation describes.
pub fn verify(secret: &TotpSecret, code: &str, unix_now: u64) -> Option<u64> {
    if code.chars().count() > MAX_CODE_INPUT_CHARS {
        return None;
    }
    let digits: String = code
        .chars()
        .filter(|character| !character.is_whitespace())
        .collect();
    if digits.len() != usize::from(DIGITS) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }

    // totp-rs compares tokens in constant time and returns the first matching step in the
    // window, which starts at T-1 (or at 0 for unix_now below 30).
    totp(secret)?.check(&digits, unix_now)
}

/// Returns the code an authenticator app shows at `unix_time`, for tests and for showing a
/// sample during enrolment. Returns `None` only for an invalid secret, which
/// [`TotpSecret`]'s constructors rule out.
pub fn code_at(secret: &TotpSecret, unix_time: u64) -> Option<String> {
    Some(totp(secret)?.generate(unix_time).to_string())
}

fn totp(secret: &TotpSecret) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.bytes.clone())
        .build()
        .ok()
}

fn check_label_part(value: &str, field: &'static str) -> Result<(), AuthError> {
    if value.is_empty() || value.contains(':') {
        return Err(AuthError::InvalidOtpauthLabel { field });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Returns the SHA-1 key of RFC 6238 appendix B.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    /// RFC 6238 appendix B, SHA-1 rows: Unix time and the 8-digit code. Both lengths truncate
    /// the same 31-bit HOTP value, so the 6-digit code is the 8-digit code modulo 10^6.
    const RFC_VECTORS: [(u64, u32); 6] = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];

    #[test]
    fn codes_match_rfc_6238_vectors() {
        let secret = rfc_secret();

        for (time, eight_digits) in RFC_VECTORS {
            let expected = format!("{:06}", eight_digits % 1_000_000);
            assert_eq!(code_at(&secret, time).unwrap(), expected, "time {time}");
            assert_eq!(
                verify(&secret, &expected, time),
                Some(time / 30),
                "time {time}"
            );
        }
    }

    #[test]
    fn verify_accepts_one_step_either_side() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;

        for matched in [step - 1, step, step + 1] {
            let code = code_at(&secret, matched * STEP_SECONDS).unwrap();
            assert_eq!(verify(&secret, &code, now), Some(matched), "step {matched}");
        }
    }

    #[test]
    fn verify_rejects_two_steps_away() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        let window: Vec<String> = [step - 1, step, step + 1]
            .iter()
            .map(|s| code_at(&secret, s * STEP_SECONDS).unwrap())
            .collect();

        for outside in [step - 2, step + 2] {
            let code = code_at(&secret, outside * STEP_SECONDS).unwrap();
            // Precondition: the code differs from every code in the window.
            assert!(!window.contains(&code), "step {outside}");
            assert_eq!(verify(&secret, &code, now), None, "step {outside}");
        }
    }

    #[test]
    fn verify_uses_step_boundaries() {
        let secret = rfc_secret();
        // Second 59 is the last of step 1. At 89 the window is steps 1 to 3, and at 90 it is 2 to 4.
        let code = code_at(&secret, 59).unwrap();

        assert_eq!(verify(&secret, &code, 89), Some(1));
        assert_eq!(verify(&secret, &code, 90), None);
    }

    #[test]
    fn verify_near_epoch_has_no_earlier_step() {
        let secret = rfc_secret();
        let code = code_at(&secret, 0).unwrap();

        assert_eq!(verify(&secret, &code, 0), Some(0));
        assert_eq!(verify(&secret, &code, 29), Some(0));
    }

    #[test]
    fn verify_removes_spaces() {
        let secret = rfc_secret();

        for input in [
            "287082",
            "287 082",
            " 287082 ",
            "2 8 7 0 8 2",
            "287\u{a0}082",
            "287\t082",
        ] {
            assert_eq!(verify(&secret, input, 59), Some(1), "{input:?}");
        }
    }

    #[test]
    fn verify_rejects_malformed_codes() {
        let secret = rfc_secret();

        for input in [
            "",
            "      ",
            "28708",
            "2870820",
            "94287082",
            "287-082",
            "+87082",
            "-87082",
            "28708a",
            "２８７０８２",
            "٢٨٧٠٨٢",
            "287082\0",
            &format!("{}287082", " ".repeat(40)),
        ] {
            assert_eq!(verify(&secret, input, 59), None, "{input:?}");
        }
    }

    #[test]
    fn verify_rejects_code_of_other_secret() {
        let code = code_at(&rfc_secret(), 59).unwrap();
        let other = TotpSecret::from_bytes(b"abcdefghijklmnopqrst").unwrap();

        assert_eq!(verify(&other, &code, 59), None);
    }

    #[test]
    fn generated_secrets_are_random_20_bytes() {
        let first = TotpSecret::generate();
        let second = TotpSecret::generate();

        assert_eq!(first.as_bytes().len(), 20);
        assert_ne!(first, second);
    }

    #[test]
    fn from_bytes_checks_length() {
        assert!(TotpSecret::from_bytes(&[7; 16]).is_ok());
        assert!(TotpSecret::from_bytes(&[7; 64]).is_ok());

        for length in [0, 10, 15, 65] {
            let error = TotpSecret::from_bytes(&vec![7; length]).unwrap_err();
            assert!(
                matches!(error, AuthError::TotpSecretLength { length: l, .. } if l == length),
                "{error}"
            );
        }
    }

    #[test]
    fn base32_round_trips() {
        let secret = rfc_secret();

        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            secret
        );
        assert!(TotpSecret::from_base32("GEZDGNBVGY3TQOJ1").is_err());
        assert!(TotpSecret::from_base32("GEZDGNBV").is_err());
    }

    #[test]
    fn otpauth_uri_has_expected_form() {
        let uri = rfc_secret()
            .otpauth_uri("Onesheet", "alice@example.com")
            .unwrap();

        assert_eq!(
            uri,
            "otpauth://totp/Onesheet:alice%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Onesheet\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn otpauth_uri_percent_encodes_label_and_issuer() {
        let uri = rfc_secret()
            .otpauth_uri("Kino & Co. #1", "zoë?admin=1/x")
            .unwrap();

        assert!(
            uri.starts_with("otpauth://totp/Kino%20%26%20Co.%20%231:zo%C3%AB%3Fadmin%3D1%2Fx?"),
            "{uri}"
        );
        assert!(uri.contains("&issuer=Kino%20%26%20Co.%20%231&"), "{uri}");
    }

    #[test]
    fn otpauth_uri_rejects_colons_and_empty_parts() {
        let secret = rfc_secret();

        for (issuer, account, field) in [
            ("On:esheet", "alice", "issuer"),
            ("", "alice", "issuer"),
            ("Onesheet", "ali:ce", "account name"),
            ("Onesheet", "", "account name"),
        ] {
            let error = secret.otpauth_uri(issuer, account).unwrap_err();
            assert!(
                matches!(error, AuthError::InvalidOtpauthLabel { field: f } if f == field),
                "{issuer:?} {account:?}: {error}"
            );
        }
    }

    #[test]
    fn qr_svg_is_plain_svg() {
        let uri = TotpSecret::generate()
            .otpauth_uri("Onesheet", "alice@example.com")
            .unwrap();
        let image = qr_svg(&uri).unwrap();

        assert!(
            image.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{image}"
        );
        assert!(image.ends_with("</svg>"), "{image}");
        assert!(!image.contains("<?xml"));

        let lowercase = image.to_lowercase();
        for forbidden in [
            "<script",
            "javascript:",
            "onload",
            "onclick",
            "href",
            "<style",
            "<foreignobject",
        ] {
            assert!(!lowercase.contains(forbidden), "{forbidden}");
        }
        assert_eq!(image.matches("<path").count(), 1);
        assert_eq!(image.matches("<rect").count(), 1);
    }

    #[test]
    fn qr_svg_rejects_oversized_data() {
        let error = qr_svg(&"x".repeat(5000)).unwrap_err();

        assert!(matches!(error, AuthError::QrCode(_)), "{error}");
    }

    #[test]
    fn debug_hides_secret() {
        let printed = format!("{:?}", rfc_secret());

        assert_eq!(printed, "TotpSecret(***)");
    }
}
