//! Protection profiles (RFC 3711 §8.2 / RFC 5764 §4.1.2, RFC 7714 §12,
//! §14.2) and master keys, including the RFC 5764 §4.2 keying-material
//! layout a DTLS exporter produces.

use crate::Error;

/// An SRTP protection profile Tern supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764 §4.1.2, id 0x0001).
    AesCm128HmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (RFC 5764 §4.1.2, id 0x0002): 32-bit
    /// SRTP tag, 80-bit SRTCP tag.
    AesCm128HmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (RFC 7714 §14.2, id 0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (RFC 7714 §14.2, id 0x0008).
    AeadAes256Gcm,
}

impl Profile {
    /// Every profile, in Tern's order of preference (GCM first).
    pub const ALL: [Profile; 4] = [
        Profile::AeadAes128Gcm,
        Profile::AeadAes256Gcm,
        Profile::AesCm128HmacSha1_80,
        Profile::AesCm128HmacSha1_32,
    ];

    /// Master key length in bytes.
    pub const fn master_key_len(self) -> usize {
        match self {
            Profile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes (112 bits for AES-CM, 96 for GCM).
    pub const fn master_salt_len(self) -> usize {
        match self {
            Profile::AesCm128HmacSha1_80 | Profile::AesCm128HmacSha1_32 => 14,
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => 12,
        }
    }

    /// Bytes the SRTP tag adds to an RTP packet.
    pub const fn rtp_tag_len(self) -> usize {
        match self {
            Profile::AesCm128HmacSha1_80 => 10,
            Profile::AesCm128HmacSha1_32 => 4,
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => 16,
        }
    }

    /// Bytes the SRTCP tag adds (the 4-byte E‖index word comes on top).
    pub const fn rtcp_tag_len(self) -> usize {
        match self {
            Profile::AesCm128HmacSha1_80 | Profile::AesCm128HmacSha1_32 => 10,
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => 16,
        }
    }

    /// Total bytes SRTP adds to an RTP packet (`protect_rtp` needs this
    /// much room past the plaintext).
    pub const fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Total bytes SRTCP adds to an RTCP packet (tag plus E‖index).
    pub const fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }

    /// True for the AEAD (GCM) profiles.
    pub const fn is_aead(self) -> bool {
        matches!(self, Profile::AeadAes128Gcm | Profile::AeadAes256Gcm)
    }

    /// The two-byte DTLS-SRTP protection profile id (RFC 5764 §4.1.2,
    /// RFC 7714 §14.2).
    pub const fn dtls_id(self) -> u16 {
        match self {
            Profile::AesCm128HmacSha1_80 => 0x0001,
            Profile::AesCm128HmacSha1_32 => 0x0002,
            Profile::AeadAes128Gcm => 0x0007,
            Profile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile for a DTLS-SRTP id.
    pub fn from_dtls_id(id: u16) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.dtls_id() == id)
    }

    /// The profile's name as OpenSSL and the IANA registry spell it.
    pub const fn dtls_name(self) -> &'static str {
        match self {
            Profile::AesCm128HmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
            Profile::AesCm128HmacSha1_32 => "SRTP_AES128_CM_SHA1_32",
            Profile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Profile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// The profile for a name as [`Profile::dtls_name`] spells it.
    pub fn from_dtls_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.dtls_name() == name)
    }

    /// Length of the DTLS exporter output for this profile:
    /// `2 * (key + salt)` (RFC 5764 §4.2).
    pub const fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }
}

/// A master key and master salt for one direction (RFC 3711 §3.2.1).
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    profile: Profile,
    key: [u8; 32],
    salt: [u8; 14],
}

impl core::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.debug_struct("MasterKey")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A master key from its parts; the lengths must match the profile.
    pub fn new(profile: Profile, key: &[u8], salt: &[u8]) -> Result<Self, Error> {
        if key.len() != profile.master_key_len() {
            return Err(Error::ApiMisuse(
                "master key length does not match the profile",
            ));
        }
        if salt.len() != profile.master_salt_len() {
            return Err(Error::ApiMisuse(
                "master salt length does not match the profile",
            ));
        }
        let mut k = [0u8; 32];
        k[..key.len()].copy_from_slice(key);
        let mut s = [0u8; 14];
        s[..salt.len()].copy_from_slice(salt);
        Ok(Self {
            profile,
            key: k,
            salt: s,
        })
    }

    /// The profile this key is for.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The master key bytes.
    pub fn key(&self) -> &[u8] {
        &self.key[..self.profile.master_key_len()]
    }

    /// The master salt bytes.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.profile.master_salt_len()]
    }
}

/// Both directions' master keys, split from DTLS-SRTP keying material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// The DTLS client's write key (protects what the client sends).
    pub client: MasterKey,
    /// The DTLS server's write key.
    pub server: MasterKey,
}

impl SessionKeys {
    /// Split exporter output laid out as RFC 5764 §4.2 specifies:
    /// `client_write_key ‖ server_write_key ‖ client_write_salt ‖
    /// server_write_salt`.
    pub fn from_keying_material(profile: Profile, material: &[u8]) -> Result<Self, Error> {
        if material.len() != profile.keying_material_len() {
            return Err(Error::ApiMisuse(
                "keying material length does not match the profile",
            ));
        }
        let k = profile.master_key_len();
        let s = profile.master_salt_len();
        let client = MasterKey::new(profile, &material[..k], &material[2 * k..2 * k + s])?;
        let server = MasterKey::new(profile, &material[k..2 * k], &material[2 * k + s..])?;
        Ok(Self { client, server })
    }

    /// `(local, remote)`: the key to protect with and the key to unprotect
    /// with, for the side that played `is_client` in the handshake.
    pub fn local_remote(&self, is_client: bool) -> (&MasterKey, &MasterKey) {
        if is_client {
            (&self.client, &self.server)
        } else {
            (&self.server, &self.client)
        }
    }
}
