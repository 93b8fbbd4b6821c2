//! Small deterministic hashes for generated values and ids. Not for anything secret.

/// SplitMix64's finaliser: a cheap, well-mixed hash of one 64-bit value.
pub(crate) fn splitmix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// Hash of a value under a salt, so each property draws independent numbers.
pub(crate) fn hash(value: u64, salt: u64) -> u64 {
    splitmix(value ^ splitmix(salt))
}

/// Hash of a string (FNV-1a, then mixed).
pub(crate) fn hash_str(text: &str) -> u64 {
    let mut value: u64 = 0xCBF2_9CE4_8422_2325;
    for byte in text.bytes() {
        value ^= u64::from(byte);
        value = value.wrapping_mul(0x0000_0100_0000_01B3);
    }
    splitmix(value)
}
