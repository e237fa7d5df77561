//! The cryptographic primitives, each keyed once per session.
//!
//! The backend was chosen by measurement (benches/README.md, "SRTP"):
//! AES-GCM from `ring` (2.1–2.4× faster than OpenSSL EVP and RustCrypto
//! `aes-gcm` here), AES-CTR from RustCrypto `aes` + `ctr` (OpenSSL's
//! per-packet IV re-initialisation costs more than the whole RustCrypto
//! pass at 160 bytes), HMAC-SHA1 from RustCrypto `hmac` + `sha1` (SHA-NI;
//! `ring`'s SHA-1 is 4× slower here). Every type below holds the expanded
//! key schedule; per packet only a stack copy of it is made.

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use hmac::Mac;
use subtle::ConstantTimeEq;

use crate::Error;

type Ctr<C> = ctr::Ctr128BE<C>;
type CtrCore<C> = ctr::CtrCore<C, ctr::flavors::Ctr128BE>;

/// AES in counter mode (RFC 3711 §4.1.1), AES-128 or AES-256.
// The expanded key schedule lives inline: built once, read per packet.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum AesCm {
    Aes128(aes::Aes128),
    Aes256(aes::Aes256),
}

impl AesCm {
    pub(crate) fn new(key: &[u8]) -> Result<Self, Error> {
        match key.len() {
            16 => Ok(AesCm::Aes128(
                aes::Aes128::new_from_slice(key).map_err(|_| Error::ApiMisuse("AES key length"))?,
            )),
            32 => Ok(AesCm::Aes256(
                aes::Aes256::new_from_slice(key).map_err(|_| Error::ApiMisuse("AES key length"))?,
            )),
            _ => Err(Error::ApiMisuse("AES key length")),
        }
    }

    /// XOR the keystream starting at counter block `iv` into `data`.
    #[inline]
    pub(crate) fn apply(&self, iv: &[u8; 16], data: &mut [u8]) {
        match self {
            AesCm::Aes128(k) => {
                let mut c =
                    Ctr::<aes::Aes128>::from_core(CtrCore::inner_iv_init(k.clone(), iv.into()));
                c.apply_keystream(data);
            }
            AesCm::Aes256(k) => {
                let mut c =
                    Ctr::<aes::Aes256>::from_core(CtrCore::inner_iv_init(k.clone(), iv.into()));
                c.apply_keystream(data);
            }
        }
    }
}

/// HMAC-SHA1 with the inner and outer pads hashed once (RFC 3711 §4.2.1).
#[derive(Clone)]
pub(crate) struct HmacSha1(hmac::Hmac<sha1::Sha1>);

impl HmacSha1 {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC accepts keys of any length; this cannot fail.
        match <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(key) {
            Ok(m) => HmacSha1(m),
            Err(_) => unreachable_hmac(),
        }
    }

    /// The full 20-byte MAC of `a ‖ b`.
    #[inline]
    pub(crate) fn mac(&self, a: &[u8], b: &[u8]) -> [u8; 20] {
        let mut m = self.0.clone();
        m.update(a);
        m.update(b);
        m.finalize().into_bytes().into()
    }

    /// Constant-time comparison of the truncated MAC of `a ‖ b` with `tag`.
    #[inline]
    pub(crate) fn verify(&self, a: &[u8], b: &[u8], tag: &[u8]) -> bool {
        let full = self.mac(a, b);
        bool::from(full[..tag.len()].ct_eq(tag))
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    // hmac::Hmac::new_from_slice never rejects a key (it hashes long keys).
    panic!("HMAC rejected a key: internal invariant broken")
}

/// AES-GCM (RFC 7714) with a 16-byte tag.
pub(crate) struct Gcm(ring::aead::LessSafeKey);

impl Gcm {
    pub(crate) fn new(key: &[u8]) -> Result<Self, Error> {
        let alg = match key.len() {
            16 => &ring::aead::AES_128_GCM,
            32 => &ring::aead::AES_256_GCM,
            _ => return Err(Error::ApiMisuse("AES-GCM key length")),
        };
        let k =
            ring::aead::UnboundKey::new(alg, key).map_err(|_| Error::ApiMisuse("AES-GCM key"))?;
        Ok(Gcm(ring::aead::LessSafeKey::new(k)))
    }

    /// Encrypt `data` in place; returns the tag.
    #[inline]
    pub(crate) fn seal(
        &self,
        iv: [u8; 12],
        aad: &[u8],
        data: &mut [u8],
    ) -> Result<[u8; 16], Error> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(iv);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), data)
            .map_err(|_| Error::ApiMisuse("AES-GCM input too long"))?;
        let mut out = [0u8; 16];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Verify `tag` and decrypt `data` in place (tag compared in constant
    /// time by ring). On failure `data` is left unspecified.
    #[inline]
    pub(crate) fn open(
        &self,
        iv: [u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Result<(), Error> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(iv);
        let tag = ring::aead::Tag::try_from(tag).map_err(|_| Error::AuthFailed)?;
        self.0
            .open_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), tag, data, 0..)
            .map(|_| ())
            .map_err(|_| Error::AuthFailed)
    }
}
