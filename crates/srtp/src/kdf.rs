//! SRTP key derivation (RFC 3711 §4.3.1, §4.3.3; RFC 7714 §11), with key
//! derivation rate 0: each session key is derived once per master key.

use crate::crypto::AesCm;

/// Key derivation labels (RFC 3711 §4.3.1, §4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Label {
    /// k_e for SRTP.
    RtpEncryption = 0x00,
    /// k_a for SRTP.
    RtpAuth = 0x01,
    /// k_s for SRTP.
    RtpSalt = 0x02,
    /// k_e for SRTCP.
    RtcpEncryption = 0x03,
    /// k_a for SRTCP.
    RtcpAuth = 0x04,
    /// k_s for SRTCP.
    RtcpSalt = 0x05,
}

/// Fill `out` with the AES-CM PRF output for `label` (§4.3.1, §4.3.3):
/// `x = (label ‖ r) ⊕ master_salt` with `r = 0` (kdr 0), counter block
/// `x · 2^16`, keystream under the master key. A 96-bit GCM master salt
/// is right-padded with zeros to 112 bits, as libsrtp does (RFC 7714 §11
/// keeps the RFC 3711 KDF).
pub(crate) fn derive(prf: &AesCm, master_salt: &[u8], label: Label, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..master_salt.len().min(14)].copy_from_slice(&master_salt[..master_salt.len().min(14)]);
    iv[7] ^= label as u8;
    out.fill(0);
    prf.apply(&iv, out);
}

/// Derive a session key directly from master key and salt (for tests and
/// for comparing with published vectors).
pub fn derive_session_key(
    master_key: &[u8],
    master_salt: &[u8],
    label: Label,
    out: &mut [u8],
) -> Result<(), crate::Error> {
    let prf = AesCm::new(master_key)?;
    derive(&prf, master_salt, label, out);
    Ok(())
}
