//! Random bytes from the operating system's CSPRNG.

use rand::TryRngCore;
use rand::rngs::OsRng;

/// Fills `buffer` from the operating system's CSPRNG (`getrandom(2)` on Linux).
///
/// Panics inside `rand` if the operating system cannot supply random bytes. A user-space
/// generator would be no safer for secrets, and the failure is rare enough that returning it
/// from every generator is not worth the noise.
pub(crate) fn fill(buffer: &mut [u8]) {
    let mut rng = OsRng.unwrap_err();
    rand::RngCore::fill_bytes(&mut rng, buffer);
}

/// Returns `N` random bytes from [`fill`].
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut buffer = [0u8; N];
    fill(&mut buffer);
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_differ_between_calls() {
        let first: [u8; 32] = bytes();
        let second: [u8; 32] = bytes();

        assert_ne!(first, second);
        assert_ne!(first, [0u8; 32]);
    }
}
