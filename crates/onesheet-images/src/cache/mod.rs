//! Caches of derived images.

pub mod disk;
