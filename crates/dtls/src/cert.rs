//! Self-signed ECDSA P-256 certificates and their SHA-256 fingerprints
//! (RFC 8122 §5, RFC 8827 §6.5 / RFC 8829 §5.2.1: WebRTC endpoints use
//! self-signed certificates authenticated by the SDP fingerprint).

use core::fmt;
use core::str::FromStr;

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509NameBuilder, X509Ref, X509};

use crate::Error;

/// A SHA-256 certificate fingerprint, as `a=fingerprint:sha-256 AB:CD:…`
/// carries it (RFC 8122 §5).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The SHA-256 fingerprint of a certificate (over its DER encoding).
    pub fn of(cert: &X509Ref) -> Result<Self, Error> {
        let d = cert
            .digest(MessageDigest::sha256())
            .map_err(|_| Error::Setup("certificate digest"))?;
        let mut out = [0u8; 32];
        if d.len() != 32 {
            return Err(Error::Setup("certificate digest length"));
        }
        out.copy_from_slice(&d);
        Ok(Fingerprint(out))
    }

    /// The hash function token for SDP: always `sha-256`.
    pub const fn algorithm(&self) -> &'static str {
        "sha-256"
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl fmt::Display for Fingerprint {
    /// Upper-case colon-separated hex (RFC 8122 §5 `fingerprint`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Parses `AB:CD:…` or `sha-256 AB:CD:…` (the `a=fingerprint` value);
    /// hex digits are case-insensitive (RFC 8122 §5). Other hash functions
    /// are refused.
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let hex = match s.split_once(' ') {
            Some((alg, rest)) => {
                if !alg.eq_ignore_ascii_case("sha-256") {
                    return Err(Error::ApiMisuse("only sha-256 fingerprints are supported"));
                }
                rest.trim()
            }
            None => s,
        };
        let mut out = [0u8; 32];
        let mut n = 0;
        for part in hex.split(':') {
            if n == 32 || part.len() != 2 {
                return Err(Error::ApiMisuse(
                    "fingerprint is not 32 colon-separated hex bytes",
                ));
            }
            out[n] =
                u8::from_str_radix(part, 16).map_err(|_| Error::ApiMisuse("fingerprint hex"))?;
            n += 1;
        }
        if n != 32 {
            return Err(Error::ApiMisuse(
                "fingerprint is not 32 colon-separated hex bytes",
            ));
        }
        Ok(Fingerprint(out))
    }
}

/// A self-signed ECDSA P-256 certificate with its private key.
#[derive(Clone)]
pub struct Certificate {
    pub(crate) cert: X509,
    pub(crate) key: PKey<Private>,
    fingerprint: Fingerprint,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// 2020-01-01T00:00:00Z: the fixed start of validity (the crate never
/// reads the clock; WebRTC peers authenticate by fingerprint, not dates).
const NOT_BEFORE_UNIX: i64 = 1_577_836_800;
/// 2099-12-31T00:00:00Z.
const NOT_AFTER_UNIX: i64 = 4_102_358_400;

impl Certificate {
    /// Generate a fresh key pair and a self-signed certificate (CN
    /// `tern`, random 64-bit serial, valid 2020–2099).
    pub fn generate() -> Result<Self, Error> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
            .map_err(|_| Error::Setup("P-256 group"))?;
        let ec = EcKey::generate(&group).map_err(|_| Error::Setup("P-256 key generation"))?;
        let key = PKey::from_ec_key(ec).map_err(|_| Error::Setup("P-256 key"))?;
        let mut name = X509NameBuilder::new().map_err(|_| Error::Setup("X509 name"))?;
        name.append_entry_by_nid(Nid::COMMONNAME, "tern")
            .map_err(|_| Error::Setup("X509 name"))?;
        let name = name.build();
        let mut b = X509::builder().map_err(|_| Error::Setup("X509 builder"))?;
        let setup = |_| Error::Setup("X509 fields");
        b.set_version(2).map_err(setup)?;
        let mut serial = BigNum::new().map_err(setup)?;
        serial
            .rand(63, MsbOption::MAYBE_ZERO, false)
            .map_err(setup)?;
        let serial = serial.to_asn1_integer().map_err(setup)?;
        b.set_serial_number(&serial).map_err(setup)?;
        b.set_subject_name(&name).map_err(setup)?;
        b.set_issuer_name(&name).map_err(setup)?;
        b.set_pubkey(&key).map_err(setup)?;
        let nb = Asn1Time::from_unix(NOT_BEFORE_UNIX).map_err(setup)?;
        let na = Asn1Time::from_unix(NOT_AFTER_UNIX).map_err(setup)?;
        b.set_not_before(&nb).map_err(setup)?;
        b.set_not_after(&na).map_err(setup)?;
        b.sign(&key, MessageDigest::sha256())
            .map_err(|_| Error::Setup("X509 signature"))?;
        let cert = b.build();
        let fingerprint = Fingerprint::of(&cert)?;
        Ok(Self {
            cert,
            key,
            fingerprint,
        })
    }

    /// Load a certificate and its private key from PEM.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let cert = X509::from_pem(cert_pem).map_err(|_| Error::ApiMisuse("certificate PEM"))?;
        let key =
            PKey::private_key_from_pem(key_pem).map_err(|_| Error::ApiMisuse("private key PEM"))?;
        let fingerprint = Fingerprint::of(&cert)?;
        Ok(Self {
            cert,
            key,
            fingerprint,
        })
    }

    /// The certificate's SHA-256 fingerprint, for the local SDP.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> Result<Vec<u8>, Error> {
        self.cert
            .to_pem()
            .map_err(|_| Error::Setup("certificate PEM"))
    }

    /// The private key as PKCS#8 PEM.
    pub fn private_key_pem(&self) -> Result<Vec<u8>, Error> {
        self.key
            .private_key_to_pem_pkcs8()
            .map_err(|_| Error::Setup("private key PEM"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trips_through_sdp_text() {
        let c = Certificate::generate().unwrap();
        let text = format!("{} {}", c.fingerprint().algorithm(), c.fingerprint());
        assert_eq!(text.len(), 8 + 32 * 3 - 1);
        let parsed: Fingerprint = text.parse().unwrap();
        assert_eq!(parsed, c.fingerprint());
        let lower: Fingerprint = text.to_lowercase().parse().unwrap();
        assert_eq!(lower, c.fingerprint());
        assert!("sha-1 AB:CD".parse::<Fingerprint>().is_err());
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        assert!(format!("{}:00", c.fingerprint())
            .parse::<Fingerprint>()
            .is_err());
        assert!("".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn generated_certificates_differ_and_reload_from_pem() {
        let a = Certificate::generate().unwrap();
        let b = Certificate::generate().unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        let c = Certificate::from_pem(&a.certificate_pem().unwrap(), &a.private_key_pem().unwrap())
            .unwrap();
        assert_eq!(c.fingerprint(), a.fingerprint());
    }
}
