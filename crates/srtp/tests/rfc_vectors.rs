//! Known-answer tests named after their source: RFC 3711 Appendix B.2
//! (AES-CM keystream) and B.3 (key derivation), RFC 7714 §16 (SRTP) and
//! §17 (SRTCP) for AEAD_AES_128_GCM and AEAD_AES_256_GCM, and libsrtp's
//! reference packet for AES_CM_128_HMAC_SHA1_80 (test/srtp_driver.c,
//! the RFC 3711 B.3 master key).

mod common;
use common::hex;
use tern_srtp::kdf::{derive_session_key, Label};
use tern_srtp::{Config, Context, MasterKey, Profile, Ssrc};

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    // Session key and salt from B.2; SSRC 0, ROC 0, SEQ 0, so encrypting
    // zeros yields the keystream itself. The payload spans 65282 blocks so
    // the last three listed blocks (counter ..FEFF, ..FF00, ..FF01) are
    // covered too.
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    let mut ctx = Context::from_session_keys(
        Profile::AesCm128HmacSha1_80,
        &key,
        &salt,
        &[0; 20],
        Config::default(),
    )
    .unwrap();
    let blocks = 0xFF02;
    let payload = blocks * 16;
    let mut buf = vec![0u8; 12 + payload + 10];
    buf[0] = 0x80; // V=2, SEQ=0, SSRC=0
    let n = ctx.protect_rtp(&mut buf, 12 + payload).unwrap();
    assert_eq!(n, 12 + payload + 10);
    let ks = &buf[12..12 + payload];
    let block = |i: usize| &ks[i * 16..i * 16 + 16];
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xFEFF), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xFF00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xFF01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

#[test]
fn rfc3711_b3_key_derivation() {
    let mk = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    let ms = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut k = [0u8; 16];
    derive_session_key(&mk, &ms, Label::RtpEncryption, &mut k).unwrap();
    assert_eq!(k.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut s = [0u8; 14];
    derive_session_key(&mk, &ms, Label::RtpSalt, &mut s).unwrap();
    assert_eq!(s.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    // B.3 lists 94 bytes of the authentication key stream; HMAC-SHA1 uses
    // the first 20.
    let mut a = [0u8; 94];
    derive_session_key(&mk, &ms, Label::RtpAuth, &mut a).unwrap();
    assert_eq!(
        a.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

/// RFC 3711 B.3 master key; libsrtp's reference packet (srtp_driver.c).
fn libsrtp_reference_context() -> Context {
    let mk = MasterKey::new(
        Profile::AesCm128HmacSha1_80,
        &hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
        &hex("0EC675AD498AFEEBB6960B3AABE6"),
    )
    .unwrap();
    Context::new(&mk).unwrap()
}

const REF_RTP: &str = "800f1234decafbadcafebabe abababababababababababababababab";
const REF_SRTP: &str =
    "800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb";
const REF_RTCP: &str = "81c8000bcafebabe abababababababababababababababab";
const REF_SRTCP: &str =
    "81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798";

#[test]
fn aes_cm_128_hmac_sha1_80_reference_packet_protect_unprotect() {
    let plain = hex(REF_RTP);
    let mut buf = vec![0u8; plain.len() + 10];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = libsrtp_reference_context()
        .protect_rtp(&mut buf, plain.len())
        .unwrap();
    assert_eq!(&buf[..n], &hex(REF_SRTP)[..]);
    let mut wire = hex(REF_SRTP);
    let m = libsrtp_reference_context()
        .unprotect_rtp(&mut wire)
        .unwrap();
    assert_eq!(&wire[..m], &plain[..]);
}

#[test]
fn aes_cm_128_hmac_sha1_80_reference_rtcp_protect_unprotect() {
    // libsrtp numbers its first SRTCP packet 1; Tern starts at 0 as RFC
    // 3711 §3.4 says, so start this context at 1 to match the vector.
    let plain = hex(REF_RTCP);
    let mut buf = vec![0u8; plain.len() + 14];
    buf[..plain.len()].copy_from_slice(&plain);
    let mut tx = libsrtp_reference_context();
    tx.set_srtcp_index(Ssrc(0xcafebabe), 1).unwrap();
    let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(&buf[..n], &hex(REF_SRTCP)[..]);
    let mut wire = hex(REF_SRTCP);
    let m = libsrtp_reference_context()
        .unprotect_rtcp(&mut wire)
        .unwrap();
    assert_eq!(&wire[..m], &plain[..]);
}

const GCM_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const GCM_SALT: &str = "517569642070726f2071756f"; // "Quid pro quo"
const GCM_RTP: &str = "8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
const GCM_RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

fn gcm_context(profile: Profile, key: &str) -> Context {
    Context::from_session_keys(profile, &hex(key), &hex(GCM_SALT), &[], Config::default()).unwrap()
}

fn check_rtp(profile: Profile, key: &str, expected: &str) {
    let plain = hex(GCM_RTP);
    let mut buf = vec![0u8; plain.len() + 16];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = gcm_context(profile, key)
        .protect_rtp(&mut buf, plain.len())
        .unwrap();
    assert_eq!(&buf[..n], &hex(expected)[..]);
    let mut wire = hex(expected);
    let m = gcm_context(profile, key).unprotect_rtp(&mut wire).unwrap();
    assert_eq!(&wire[..m], &plain[..]);
}

fn check_rtcp(profile: Profile, key: &str, expected: &str) {
    let plain = hex(GCM_RTCP);
    let mut buf = vec![0u8; plain.len() + 20];
    buf[..plain.len()].copy_from_slice(&plain);
    let mut tx = gcm_context(profile, key);
    tx.set_srtcp_index(Ssrc(0x4d617273), 0x5d4).unwrap();
    let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(&buf[..n], &hex(expected)[..]);
    let mut wire = hex(expected);
    let m = gcm_context(profile, key).unprotect_rtcp(&mut wire).unwrap();
    assert_eq!(&wire[..m], &plain[..]);
}

#[test]
fn rfc7714_16_1_aead_aes_128_gcm_srtp() {
    check_rtp(
        Profile::AeadAes128Gcm,
        GCM_KEY_128,
        "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833
         899d7f27beb16a9152cf765ee4390cce",
    );
}

#[test]
fn rfc7714_16_2_aead_aes_256_gcm_srtp() {
    check_rtp(
        Profile::AeadAes256Gcm,
        GCM_KEY_256,
        "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b
         7aa3db36dfffd6b0f9bb7878d7a76c13",
    );
}

#[test]
fn rfc7714_17_1_aead_aes_128_gcm_srtcp() {
    check_rtcp(
        Profile::AeadAes128Gcm,
        GCM_KEY_128,
        "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b46
         86303ded0bb9275bc84aa458 96cf4d2fc5abf87245d9eade 800005d4",
    );
}

#[test]
fn rfc7714_17_2_aead_aes_256_gcm_srtcp() {
    check_rtcp(
        Profile::AeadAes256Gcm,
        GCM_KEY_256,
        "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658
         c61de0476f1b6fad1d1eb30c 4446839f57ff6f6cb26ac3be 800005d4",
    );
}

#[test]
fn rfc5764_4_2_keying_material_layout() {
    use tern_srtp::SessionKeys;
    let p = Profile::AesCm128HmacSha1_80;
    let material: Vec<u8> = (0u8..60).collect();
    let keys = SessionKeys::from_keying_material(p, &material).unwrap();
    assert_eq!(keys.client.key(), &material[0..16]);
    assert_eq!(keys.server.key(), &material[16..32]);
    assert_eq!(keys.client.salt(), &material[32..46]);
    assert_eq!(keys.server.salt(), &material[46..60]);
    let g = Profile::AeadAes256Gcm;
    let material: Vec<u8> = (0u8..88).collect();
    let keys = SessionKeys::from_keying_material(g, &material).unwrap();
    assert_eq!(keys.server.key(), &material[32..64]);
    assert_eq!(keys.server.salt(), &material[76..88]);
    assert!(SessionKeys::from_keying_material(g, &material[..87]).is_err());
}
