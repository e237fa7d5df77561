//! A minimal, hand-written binding to the system libsrtp2, for tern-srtp's
//! differential tests and benchmarks only. It is a dev-dependency; the
//! protocol crate never links it.
//!
//! The `unsafe` in this crate is confined to the FFI calls below. Each
//! wrapper upholds libsrtp's contract: the policy struct mirrors
//! `srtp_policy_t` from `<srtp2/srtp.h>` (libsrtp 2.5) field for field,
//! keys outlive `srtp_create` (libsrtp copies them), and every buffer
//! handed to `srtp_protect*` has `SRTP_MAX_TRAILER_LEN` bytes of room
//! past the packet, checked before the call.
#![allow(unsafe_code)]

use std::os::raw::{c_int, c_uchar, c_ulong, c_void};
use std::sync::Once;

/// `SRTP_MAX_TRAILER_LEN`: the most bytes `srtp_protect*` appends.
pub const MAX_TRAILER_LEN: usize = 16 + 128;

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CryptoPolicy {
    cipher_type: u32,
    cipher_key_len: c_int,
    auth_type: u32,
    auth_key_len: c_int,
    auth_tag_len: c_int,
    sec_serv: c_int,
}

#[repr(C)]
struct SsrcSpec {
    kind: c_int,
    value: u32,
}

#[repr(C)]
struct Policy {
    ssrc: SsrcSpec,
    rtp: CryptoPolicy,
    rtcp: CryptoPolicy,
    key: *mut c_uchar,
    keys: *mut c_void,
    num_master_keys: c_ulong,
    deprecated_ekt: *mut c_void,
    window_size: c_ulong,
    allow_repeat_tx: c_int,
    enc_xtn_hdr: *mut c_int,
    enc_xtn_hdr_count: c_int,
    next: *mut Policy,
}

extern "C" {
    fn srtp_init() -> c_int;
    fn srtp_create(session: *mut *mut c_void, policy: *const Policy) -> c_int;
    fn srtp_dealloc(session: *mut c_void) -> c_int;
    fn srtp_protect(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_unprotect(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_protect_rtcp(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_unprotect_rtcp(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
    // `srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80` is a macro for this.
    fn srtp_crypto_policy_set_rtp_default(p: *mut CryptoPolicy);
    fn srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p: *mut CryptoPolicy);
    fn srtp_crypto_policy_set_aes_gcm_128_16_auth(p: *mut CryptoPolicy);
    fn srtp_crypto_policy_set_aes_gcm_256_16_auth(p: *mut CryptoPolicy);
}

/// The libsrtp profiles this binding can set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// AES_CM_128_HMAC_SHA1_80.
    AesCm128HmacSha1_80,
    /// AES_CM_128_HMAC_SHA1_32 (SRTCP keeps the 80-bit tag).
    AesCm128HmacSha1_32,
    /// AEAD_AES_128_GCM.
    AeadAes128Gcm,
    /// AEAD_AES_256_GCM.
    AeadAes256Gcm,
}

/// Which packets a session handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `ssrc_any_outbound`: protect.
    Outbound,
    /// `ssrc_any_inbound`: unprotect.
    Inbound,
}

/// A libsrtp error status (`srtp_err_status_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

/// One libsrtp session (`srtp_t`).
#[derive(Debug)]
pub struct Session(*mut c_void);

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: srtp_init takes no arguments and is made idempotent by Once.
    INIT.call_once(|| unsafe {
        srtp_init();
    });
}

impl Session {
    /// A session for any SSRC in `direction`, keyed with `key ‖ salt`,
    /// replay window 128, repeated transmissions allowed.
    pub fn new(suite: Suite, direction: Direction, key_and_salt: &[u8]) -> Result<Self, Status> {
        init();
        let mut rtp = CryptoPolicy::default();
        let mut rtcp = CryptoPolicy::default();
        let want = match suite {
            Suite::AesCm128HmacSha1_80 | Suite::AesCm128HmacSha1_32 => 30,
            Suite::AeadAes128Gcm => 28,
            Suite::AeadAes256Gcm => 44,
        };
        if key_and_salt.len() != want {
            return Err(Status(-1));
        }
        // SAFETY: the setters only write the struct they are given.
        unsafe {
            match suite {
                Suite::AesCm128HmacSha1_80 => {
                    srtp_crypto_policy_set_rtp_default(&mut rtp);
                    srtp_crypto_policy_set_rtp_default(&mut rtcp);
                }
                Suite::AesCm128HmacSha1_32 => {
                    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&mut rtp);
                    srtp_crypto_policy_set_rtp_default(&mut rtcp);
                }
                Suite::AeadAes128Gcm => {
                    srtp_crypto_policy_set_aes_gcm_128_16_auth(&mut rtp);
                    srtp_crypto_policy_set_aes_gcm_128_16_auth(&mut rtcp);
                }
                Suite::AeadAes256Gcm => {
                    srtp_crypto_policy_set_aes_gcm_256_16_auth(&mut rtp);
                    srtp_crypto_policy_set_aes_gcm_256_16_auth(&mut rtcp);
                }
            }
        }
        let mut key = [0u8; 64];
        key[..want].copy_from_slice(key_and_salt);
        let policy = Policy {
            ssrc: SsrcSpec {
                kind: if direction == Direction::Outbound {
                    3
                } else {
                    2
                },
                value: 0,
            },
            rtp,
            rtcp,
            key: key.as_mut_ptr(),
            keys: std::ptr::null_mut(),
            num_master_keys: 0,
            deprecated_ekt: std::ptr::null_mut(),
            window_size: 128,
            allow_repeat_tx: 1,
            enc_xtn_hdr: std::ptr::null_mut(),
            enc_xtn_hdr_count: 0,
            next: std::ptr::null_mut(),
        };
        let mut ctx = std::ptr::null_mut();
        // SAFETY: policy mirrors srtp_policy_t and is valid for the call;
        // libsrtp copies the key material out of `key`.
        let rc = unsafe { srtp_create(&mut ctx, &policy) };
        if rc != 0 {
            return Err(Status(rc));
        }
        Ok(Session(ctx))
    }

    fn call(
        &mut self,
        f: unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int) -> c_int,
        buf: &mut [u8],
        len: usize,
        room: usize,
    ) -> Result<usize, Status> {
        if len > buf.len() || buf.len() - len < room || len > i32::MAX as usize {
            return Err(Status(-2));
        }
        let mut n = len as c_int;
        // SAFETY: buf has `room` writable bytes past len (checked above),
        // which covers what libsrtp may append; the session is live.
        let rc = unsafe { f(self.0, buf.as_mut_ptr().cast(), &mut n) };
        if rc != 0 {
            return Err(Status(rc));
        }
        Ok(n as usize)
    }

    /// `srtp_protect`: `buf[..len]` is RTP; `buf` needs
    /// [`MAX_TRAILER_LEN`] bytes of room past `len`.
    pub fn protect(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Status> {
        self.call(srtp_protect, buf, len, MAX_TRAILER_LEN)
    }

    /// `srtp_unprotect` on the whole of `buf`.
    pub fn unprotect(&mut self, buf: &mut [u8]) -> Result<usize, Status> {
        let len = buf.len();
        self.call(srtp_unprotect, buf, len, 0)
    }

    /// `srtp_protect_rtcp`: as [`Session::protect`].
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Status> {
        self.call(srtp_protect_rtcp, buf, len, MAX_TRAILER_LEN)
    }

    /// `srtp_unprotect_rtcp` on the whole of `buf`.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Status> {
        let len = buf.len();
        self.call(srtp_unprotect_rtcp, buf, len, 0)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: the session came from srtp_create and is freed once.
        unsafe {
            srtp_dealloc(self.0);
        }
    }
}
