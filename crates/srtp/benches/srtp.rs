//! SRTP benchmarks. Comparative groups (benches/README.md):
//!
//! - `srtp/protect`, `srtp/unprotect`: function `tern` beside `libsrtp`
//!   (the system libsrtp2 through crates/libsrtp-ffi) and `aead-raw` (the
//!   bare primitive on the same bytes: ring AES-GCM seal/open with the
//!   header as AAD, or AES-CTR + HMAC-SHA1), for AEAD_AES_128_GCM and
//!   AES_CM_128_HMAC_SHA1_80 at 160 and 1200 bytes of RTP.
//! - `srtp/candidates`: the crypto backends measured side by side before
//!   choosing (ring, OpenSSL EVP, RustCrypto), on a 1200-byte payload.
//!
//! Every function gets a fresh buffer per iteration from an untimed setup,
//! so the copy is outside the measurement for all of them alike.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use tern_libsrtp_ffi::{Direction, Session, Suite, MAX_TRAILER_LEN};
use tern_srtp::{Context, MasterKey, Profile};

const SIZES: [usize; 2] = [160, 1200];
const SSRC: u32 = 0x0bad_cafe;

fn suites() -> [(Profile, Suite, &'static str); 2] {
    [
        (Profile::AeadAes128Gcm, Suite::AeadAes128Gcm, "aes-128-gcm"),
        (
            Profile::AesCm128HmacSha1_80,
            Suite::AesCm128HmacSha1_80,
            "aes-cm-128-hmac-sha1-80",
        ),
    ]
}

fn key(p: Profile) -> (MasterKey, Vec<u8>) {
    let k: Vec<u8> = (0..p.master_key_len() as u8).collect();
    let s: Vec<u8> = (100..100 + p.master_salt_len() as u8).collect();
    let mut raw = k.clone();
    raw.extend_from_slice(&s);
    (MasterKey::new(p, &k, &s).unwrap(), raw)
}

/// An RTP packet of `size` bytes total (12-byte header) with `seq`, in a
/// buffer with room for any trailer.
fn packet(size: usize, seq: u16) -> Vec<u8> {
    let mut b = vec![0u8; size + MAX_TRAILER_LEN];
    b[0] = 0x80;
    b[1] = 96;
    b[2..4].copy_from_slice(&seq.to_be_bytes());
    b[8..12].copy_from_slice(&SSRC.to_be_bytes());
    for (i, x) in b[12..size].iter_mut().enumerate() {
        *x = i as u8;
    }
    b
}

/// The bare primitives Tern is built on, on the same bytes.
#[allow(clippy::large_enum_variant)]
enum Raw {
    Gcm(ring::aead::LessSafeKey),
    CmHmac(aes::Aes128, hmac::Hmac<sha1::Sha1>),
}

impl Raw {
    fn new(p: Profile) -> Self {
        use hmac::Mac;
        if p.is_aead() {
            let k = ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &[7; 16]).unwrap();
            Raw::Gcm(ring::aead::LessSafeKey::new(k))
        } else {
            use aes::cipher::KeyInit;
            Raw::CmHmac(
                aes::Aes128::new_from_slice(&[7; 16]).unwrap(),
                <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&[9; 20]).unwrap(),
            )
        }
    }

    /// Encrypt `buf[12..len]` and write the tag after it.
    fn seal(&self, buf: &mut [u8], len: usize) -> usize {
        match self {
            Raw::Gcm(k) => {
                let nonce = ring::aead::Nonce::assume_unique_for_key([3; 12]);
                let (hdr, rest) = buf.split_at_mut(12);
                let tag = k
                    .seal_in_place_separate_tag(
                        nonce,
                        ring::aead::Aad::from(&*hdr),
                        &mut rest[..len - 12],
                    )
                    .unwrap();
                buf[len..len + 16].copy_from_slice(tag.as_ref());
                len + 16
            }
            Raw::CmHmac(a, m) => {
                use aes::cipher::{InnerIvInit, StreamCipher};
                use hmac::Mac;
                let mut c = ctr::Ctr128BE::<aes::Aes128>::from_core(ctr::CtrCore::inner_iv_init(
                    a.clone(),
                    &[3u8; 16].into(),
                ));
                c.apply_keystream(&mut buf[12..len]);
                let mut mac = m.clone();
                mac.update(&buf[..len]);
                mac.update(&[0, 0, 0, 0]);
                let t = mac.finalize().into_bytes();
                buf[len..len + 10].copy_from_slice(&t[..10]);
                len + 10
            }
        }
    }

    /// Verify and decrypt what `seal` produced.
    fn open(&self, buf: &mut [u8]) -> usize {
        match self {
            Raw::Gcm(k) => {
                let nonce = ring::aead::Nonce::assume_unique_for_key([3; 12]);
                let (hdr, rest) = buf.split_at_mut(12);
                let n = k
                    .open_in_place(nonce, ring::aead::Aad::from(&*hdr), rest)
                    .unwrap()
                    .len();
                12 + n
            }
            Raw::CmHmac(a, m) => {
                use aes::cipher::{InnerIvInit, StreamCipher};
                use hmac::Mac;
                let len = buf.len() - 10;
                let mut mac = m.clone();
                mac.update(&buf[..len]);
                mac.update(&[0, 0, 0, 0]);
                mac.verify_truncated_left(&buf[len..]).unwrap();
                let mut c = ctr::Ctr128BE::<aes::Aes128>::from_core(ctr::CtrCore::inner_iv_init(
                    a.clone(),
                    &[3u8; 16].into(),
                ));
                c.apply_keystream(&mut buf[12..len]);
                len
            }
        }
    }
}

fn protect(c: &mut Criterion) {
    let mut g = c.benchmark_group("srtp/protect");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    for (profile, suite, name) in suites() {
        let (mk, raw) = key(profile);
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let id = format!("{name}/{size}");
            let mut tx = Context::new(&mk).unwrap();
            g.bench_function(BenchmarkId::new("tern", &id), |b| {
                b.iter_batched_ref(
                    || packet(size, 1),
                    |p| black_box(tx.protect_rtp(p, size).unwrap()),
                    BatchSize::SmallInput,
                )
            });
            let mut lib = Session::new(suite, Direction::Outbound, &raw).unwrap();
            g.bench_function(BenchmarkId::new("libsrtp", &id), |b| {
                b.iter_batched_ref(
                    || packet(size, 1),
                    |p| black_box(lib.protect(p, size).unwrap()),
                    BatchSize::SmallInput,
                )
            });
            let r = Raw::new(profile);
            g.bench_function(BenchmarkId::new("aead-raw", &id), |b| {
                b.iter_batched_ref(
                    || packet(size, 1),
                    |p| black_box(r.seal(p, size)),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

fn unprotect(c: &mut Criterion) {
    let mut g = c.benchmark_group("srtp/unprotect");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    for (profile, suite, name) in suites() {
        let (mk, raw) = key(profile);
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let id = format!("{name}/{size}");
            // Fresh sequence numbers per iteration: the replay window
            // would reject a repeat.
            let mut tx = Context::new(&mk).unwrap();
            let mut rx = Context::new(&mk).unwrap();
            let mut seq = 0u16;
            g.bench_function(BenchmarkId::new("tern", &id), |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        let mut p = packet(size, seq);
                        let n = tx.protect_rtp(&mut p, size).unwrap();
                        p.truncate(n);
                        p
                    },
                    |p| black_box(rx.unprotect_rtp(p).unwrap()),
                    BatchSize::SmallInput,
                )
            });
            let mut ltx = Session::new(suite, Direction::Outbound, &raw).unwrap();
            let mut lrx = Session::new(suite, Direction::Inbound, &raw).unwrap();
            let mut seq = 0u16;
            g.bench_function(BenchmarkId::new("libsrtp", &id), |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        let mut p = packet(size, seq);
                        let n = ltx.protect(&mut p, size).unwrap();
                        p.truncate(n);
                        p
                    },
                    |p| black_box(lrx.unprotect(p).unwrap()),
                    BatchSize::SmallInput,
                )
            });
            let r = Raw::new(profile);
            let mut sealed = packet(size, 1);
            let n = r.seal(&mut sealed, size);
            sealed.truncate(n);
            g.bench_function(BenchmarkId::new("aead-raw", &id), |b| {
                b.iter_batched_ref(
                    || sealed.clone(),
                    |p| black_box(r.open(p)),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

/// The backends measured before choosing one (benches/README.md).
fn candidates(c: &mut Criterion) {
    let mut g = c.benchmark_group("srtp/candidates");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    let aad = [2u8; 12];
    for size in SIZES {
        let len = size - 12;
        let mut buf = vec![1u8; len];
        g.throughput(Throughput::Bytes(size as u64));
        let k = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &[7; 16]).unwrap(),
        );
        g.bench_function(BenchmarkId::new("gcm-ring", size), |b| {
            b.iter(|| {
                let nonce = ring::aead::Nonce::assume_unique_for_key([3; 12]);
                black_box(
                    k.seal_in_place_separate_tag(nonce, ring::aead::Aad::from(&aad), &mut buf)
                        .unwrap(),
                )
            })
        });
        let mut ctx = openssl::cipher_ctx::CipherCtx::new().unwrap();
        ctx.encrypt_init(
            Some(openssl::cipher::Cipher::aes_128_gcm()),
            Some(&[7; 16]),
            None,
        )
        .unwrap();
        g.bench_function(BenchmarkId::new("gcm-openssl-evp", size), |b| {
            b.iter(|| {
                ctx.encrypt_init(None, None, Some(&[3; 12])).unwrap();
                ctx.cipher_update(&aad, None).unwrap();
                ctx.cipher_update_inplace(&mut buf, len).unwrap();
                ctx.cipher_final(&mut []).unwrap();
                let mut tag = [0u8; 16];
                ctx.tag(&mut tag).unwrap();
                black_box(tag)
            })
        });
        {
            use aes_gcm::aead::{AeadInPlace, KeyInit};
            let gk = aes_gcm::Aes128Gcm::new_from_slice(&[7; 16]).unwrap();
            g.bench_function(BenchmarkId::new("gcm-rustcrypto", size), |b| {
                b.iter(|| {
                    black_box(
                        gk.encrypt_in_place_detached(&[3u8; 12].into(), &aad, &mut buf)
                            .unwrap(),
                    )
                })
            });
        }
        let mut ctr_ctx = openssl::cipher_ctx::CipherCtx::new().unwrap();
        ctr_ctx
            .encrypt_init(
                Some(openssl::cipher::Cipher::aes_128_ctr()),
                Some(&[7; 16]),
                None,
            )
            .unwrap();
        g.bench_function(BenchmarkId::new("ctr-openssl-evp", size), |b| {
            b.iter(|| {
                ctr_ctx.encrypt_init(None, None, Some(&[3; 16])).unwrap();
                black_box(ctr_ctx.cipher_update_inplace(&mut buf, len).unwrap())
            })
        });
        {
            use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
            let a = aes::Aes128::new_from_slice(&[7; 16]).unwrap();
            g.bench_function(BenchmarkId::new("ctr-rustcrypto", size), |b| {
                b.iter(|| {
                    let mut c = ctr::Ctr128BE::<aes::Aes128>::from_core(
                        ctr::CtrCore::inner_iv_init(a.clone(), &[3u8; 16].into()),
                    );
                    c.apply_keystream(&mut buf);
                })
            });
        }
        {
            use hmac::Mac;
            let m = <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&[5; 20]).unwrap();
            g.bench_function(BenchmarkId::new("hmac-sha1-rustcrypto", size), |b| {
                b.iter(|| {
                    let mut x = m.clone();
                    x.update(&buf);
                    black_box(x.finalize().into_bytes())
                })
            });
            let rk = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &[5; 20]);
            g.bench_function(BenchmarkId::new("hmac-sha1-ring", size), |b| {
                b.iter(|| {
                    let mut x = ring::hmac::Context::with_key(&rk);
                    x.update(&buf);
                    black_box(x.sign())
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, protect, unprotect, candidates);
criterion_main!(benches);
