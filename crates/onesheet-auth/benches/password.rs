//! Cost of one login's password work: argon2id hashing and verification at the current
//! parameters, and verification of an imported bcrypt hash of cost 10.
//!
//! Run with `cargo bench -p onesheet-auth --bench password -- --sample-size 10`. Each
//! iteration is one full hash, so ten samples take a few seconds per function.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use onesheet_auth::password::{hash_password, verify_dummy, verify_password};

const PASSWORD: &str = "velvet lantern orbits quietly";

fn password(c: &mut Criterion) {
    let argon2_hash = hash_password(PASSWORD).unwrap();
    let bcrypt_hash = bcrypt::hash(PASSWORD, 10).unwrap();

    c.bench_function("hash_password argon2id", |b| {
        b.iter(|| hash_password(black_box(PASSWORD)).unwrap())
    });
    c.bench_function("verify_password argon2id", |b| {
        b.iter(|| verify_password(black_box(&argon2_hash), black_box(PASSWORD)))
    });
    c.bench_function("verify_dummy argon2id", |b| {
        b.iter(|| verify_dummy(black_box(PASSWORD)))
    });
    c.bench_function("verify_password bcrypt cost 10", |b| {
        b.iter(|| verify_password(black_box(&bcrypt_hash), black_box(PASSWORD)))
    });
}

criterion_group!(benches, password);
criterion_main!(benches);
