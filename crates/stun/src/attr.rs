//! STUN attributes (RFC 8489 §14, §18.3; ICE RFC 8445 §16.1; TURN RFC 8656 §18).
//!
//! [`Attribute::decode`] validates one attribute value and returns a typed
//! view borrowing from the message; [`Attribute::encoded_len`] and
//! [`Attribute::encode_value`] write it back. Decoding is strict: a known
//! attribute whose value has the wrong size or shape is an error, so a
//! message that parses has only well-formed known attributes.
use crate::error::Error;
use crate::types::TransactionId;
use crate::MAGIC_COOKIE;
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An attribute type number (§14, §18.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrType(pub u16);

macro_rules! attr_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $label:literal;)*) => {
        impl AttrType {
            $($(#[$doc])* pub const $name: AttrType = AttrType($value);)*

            /// The registered name, for logs.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($label),)*
                    _ => None,
                }
            }
        }
    };
}

attr_types! {
    /// RFC 8489 §14.1
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS";
    /// RFC 8489 §14.3
    USERNAME = 0x0006, "USERNAME";
    /// RFC 8489 §14.5
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY";
    /// RFC 8489 §14.8
    ERROR_CODE = 0x0009, "ERROR-CODE";
    /// RFC 8489 §14.13
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES";
    /// RFC 8656 §18.1
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER";
    /// RFC 8656 §18.2
    LIFETIME = 0x000D, "LIFETIME";
    /// RFC 8656 §18.3
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS";
    /// RFC 8656 §18.4
    DATA = 0x0013, "DATA";
    /// RFC 8489 §14.9
    REALM = 0x0014, "REALM";
    /// RFC 8489 §14.10
    NONCE = 0x0015, "NONCE";
    /// RFC 8656 §18.5
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS";
    /// RFC 8656 §18.6
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY";
    /// RFC 8656 §18.7
    EVEN_PORT = 0x0018, "EVEN-PORT";
    /// RFC 8656 §18.8
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT";
    /// RFC 8656 §18.9
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT";
    /// RFC 8489 §14.6
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256";
    /// RFC 8489 §14.12
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM";
    /// RFC 8489 §14.4
    USERHASH = 0x001E, "USERHASH";
    /// RFC 8489 §14.2
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS";
    /// RFC 8656 §18.11
    ADDITIONAL_ADDRESS_FAMILY = 0x0021, "ADDITIONAL-ADDRESS-FAMILY";
    /// RFC 8656 §18.10
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN";
    /// RFC 8445 §16.1
    PRIORITY = 0x0024, "PRIORITY";
    /// RFC 8445 §16.1
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE";
    /// RFC 8489 §14.11
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS";
    /// RFC 8489 §14.16
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN";
    /// RFC 8489 §14.14
    SOFTWARE = 0x8022, "SOFTWARE";
    /// RFC 8489 §14.15
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER";
    /// RFC 8489 §14.7
    FINGERPRINT = 0x8028, "FINGERPRINT";
    /// RFC 8445 §16.1
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED";
    /// RFC 8445 §16.1
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING";
}

impl AttrType {
    /// Types 0x0000–0x7FFF must be understood by the receiver (§14).
    pub const fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }
    /// Whether Tern decodes this type into a typed [`Attribute`].
    pub fn is_known(self) -> bool {
        self.name().is_some()
    }
}

impl fmt::Debug for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "AttrType({:#06x})", self.0),
        }
    }
}

/// ERROR-CODE (§14.8): a code 300–699 and a reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The code, `class * 100 + number`.
    pub code: u16,
    /// The reason phrase (UTF-8, at most 763 bytes).
    pub reason: &'a str,
}

impl ErrorCode<'_> {
    /// 300 Try Alternate
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated
    pub const UNAUTHENTICATED: u16 = 401;
    /// 403 Forbidden (RFC 8656)
    pub const FORBIDDEN: u16 = 403;
    /// 420 Unknown Attribute
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 437 Allocation Mismatch (RFC 8656)
    pub const ALLOCATION_MISMATCH: u16 = 437;
    /// 438 Stale Nonce
    pub const STALE_NONCE: u16 = 438;
    /// 440 Address Family not Supported (RFC 8656)
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: u16 = 440;
    /// 441 Wrong Credentials (RFC 8656)
    pub const WRONG_CREDENTIALS: u16 = 441;
    /// 442 Unsupported Transport Protocol (RFC 8656)
    pub const UNSUPPORTED_TRANSPORT_PROTOCOL: u16 = 442;
    /// 443 Peer Address Family Mismatch (RFC 8656)
    pub const PEER_ADDRESS_FAMILY_MISMATCH: u16 = 443;
    /// 486 Allocation Quota Reached (RFC 8656)
    pub const ALLOCATION_QUOTA_REACHED: u16 = 486;
    /// 487 Role Conflict (RFC 8445)
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error
    pub const SERVER_ERROR: u16 = 500;
    /// 508 Insufficient Capacity (RFC 8656)
    pub const INSUFFICIENT_CAPACITY: u16 = 508;
}

/// UNKNOWN-ATTRIBUTES (§14.13): a list of 16-bit attribute types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAttributes<'a>(&'a [u8]);

impl<'a> UnknownAttributes<'a> {
    /// A list from its wire form: big-endian 16-bit types, so an even
    /// number of bytes (the builder refuses an odd length).
    pub fn from_bytes(b: &'a [u8]) -> Self {
        Self(b)
    }
    /// The listed attribute types.
    pub fn iter(&self) -> impl Iterator<Item = AttrType> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| AttrType(u16::from_be_bytes([c[0], c[1]])))
    }
    /// How many types are listed.
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One password algorithm entry (§14.11, §14.12, §18.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAlgorithm<'a> {
    /// 0x0001 MD5, 0x0002 SHA-256.
    pub algorithm: u16,
    /// Algorithm parameters (empty for both registered algorithms).
    pub parameters: &'a [u8],
}

impl PasswordAlgorithm<'_> {
    /// MD5 (§18.5).
    pub const MD5: u16 = 0x0001;
    /// SHA-256 (§18.5).
    pub const SHA256: u16 = 0x0002;

    fn encoded_len(&self) -> usize {
        4 + pad4(self.parameters.len())
    }
}

/// PASSWORD-ALGORITHMS (§14.11): a validated list of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAlgorithms<'a>(&'a [u8]);

impl<'a> PasswordAlgorithms<'a> {
    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = PasswordAlgorithm<'a>> + 'a {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            let (entry, used) = split_password_algorithm(rest).ok()?;
            rest = rest.get(used..).unwrap_or(&[]);
            Some(entry)
        })
    }
}

/// Splits one entry off `b`; returns it and the bytes it used (padded, or
/// to the end of `b` for an unpadded last entry).
fn split_password_algorithm(b: &[u8]) -> Result<(PasswordAlgorithm<'_>, usize), Error> {
    let head = b
        .get(..4)
        .ok_or(Error::invalid("password algorithm entry truncated"))?;
    let algorithm = u16::from_be_bytes([head[0], head[1]]);
    let plen = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let parameters = b.get(4..4 + plen).ok_or(Error::invalid(
        "password algorithm parameters run past the attribute",
    ))?;
    Ok((
        PasswordAlgorithm {
            algorithm,
            parameters,
        },
        (4 + pad4(plen)).min(b.len()),
    ))
}

/// A decoded attribute, borrowing from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Attribute<'a> {
    MappedAddress(SocketAddr),
    XorMappedAddress(SocketAddr),
    AlternateServer(SocketAddr),
    XorPeerAddress(SocketAddr),
    XorRelayedAddress(SocketAddr),
    Username(&'a str),
    Realm(&'a str),
    Nonce(&'a str),
    Software(&'a str),
    AlternateDomain(&'a str),
    ErrorCode(ErrorCode<'a>),
    UnknownAttributes(UnknownAttributes<'a>),
    MessageIntegrity(&'a [u8; 20]),
    /// 16 to 32 bytes, a multiple of 4 (§14.6 allows truncation).
    MessageIntegritySha256(&'a [u8]),
    Fingerprint(u32),
    Userhash(&'a [u8; 32]),
    PasswordAlgorithm(PasswordAlgorithm<'a>),
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    Priority(u32),
    UseCandidate,
    IceControlled(u64),
    IceControlling(u64),
    ChannelNumber(u16),
    /// Seconds.
    Lifetime(u32),
    Data(&'a [u8]),
    /// 0x01 IPv4, 0x02 IPv6.
    RequestedAddressFamily(u8),
    /// 0x01 IPv4, 0x02 IPv6.
    AdditionalAddressFamily(u8),
    /// The R bit: reserve the next-higher port.
    EvenPort(bool),
    /// An IANA protocol number (17 for UDP).
    RequestedTransport(u8),
    DontFragment,
    ReservationToken(&'a [u8; 8]),
    /// A type Tern does not decode; its value is kept raw.
    Other(AttrType, &'a [u8]),
}

/// Address family codes (§14.1).
const FAMILY_IPV4: u8 = 0x01;
const FAMILY_IPV6: u8 = 0x02;

/// Longest USERNAME (§14.3).
pub(crate) const MAX_USERNAME: usize = 513;
/// Longest REALM, NONCE, SOFTWARE, reason phrase: 128 characters, up to 763 bytes.
pub(crate) const MAX_QUOTED: usize = 763;

pub(crate) const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

fn exact<'v, const N: usize>(v: &'v [u8], what: &'static str) -> Result<&'v [u8; N], Error> {
    v.try_into().map_err(|_| Error::invalid(what))
}

fn text<'v>(v: &'v [u8], max: usize, too_long: &'static str) -> Result<&'v str, Error> {
    if v.len() > max {
        return Err(Error::invalid(too_long));
    }
    utf8(v).ok_or(Error::invalid("text attribute is not UTF-8"))
}

/// `v` as `&str` if it is UTF-8. ICE ufrags (RFC 8445 §5.3, `ice-char`),
/// realms and nonces are ASCII in practice: those take a word-at-a-time
/// ASCII check (`ascii`'s checked conversion, which needs no `unsafe` of
/// ours) instead of `core::str::from_utf8`, whose byte loop cost 9-13 ns
/// for a 9-byte USERNAME, a third of parsing a whole ICE check. Anything
/// else goes through `from_utf8` as before, so the same values are
/// accepted.
#[inline]
pub(crate) fn utf8(v: &[u8]) -> Option<&str> {
    match ascii::AsciiStr::from_ascii(v) {
        Ok(a) => Some(a.as_str()),
        Err(_) => core::str::from_utf8(v).ok(),
    }
}

/// Validates a USERNAME value (§14.3).
#[inline]
pub(crate) fn username(v: &[u8]) -> Result<&str, Error> {
    text(v, MAX_USERNAME, "USERNAME too long")
}

fn decode_address(v: &[u8], xor: Option<&TransactionId>) -> Result<SocketAddr, Error> {
    let (family, rest) = match v {
        [_reserved, family, rest @ ..] => (*family, rest),
        _ => return Err(Error::invalid("address attribute truncated")),
    };
    let cookie = MAGIC_COOKIE.to_be_bytes();
    match (family, rest.len()) {
        (FAMILY_IPV4, 6) => {
            let mut b = [0u8; 6];
            b.copy_from_slice(rest);
            if xor.is_some() {
                // X-Port = port ^ (cookie >> 16); X-Address = address ^ cookie.
                let mask = [
                    cookie[0], cookie[1], cookie[0], cookie[1], cookie[2], cookie[3],
                ];
                for (x, m) in b.iter_mut().zip(mask) {
                    *x ^= m;
                }
            }
            let port = u16::from_be_bytes([b[0], b[1]]);
            Ok(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(b[2], b[3], b[4], b[5])),
                port,
            ))
        }
        (FAMILY_IPV6, 18) => {
            let mut b = [0u8; 18];
            b.copy_from_slice(rest);
            if let Some(tid) = xor {
                b[0] ^= cookie[0];
                b[1] ^= cookie[1];
                let mut mask = [0u8; 16];
                mask[..4].copy_from_slice(&cookie);
                mask[4..].copy_from_slice(tid.bytes());
                for (x, m) in b[2..].iter_mut().zip(mask) {
                    *x ^= m;
                }
            }
            let port = u16::from_be_bytes([b[0], b[1]]);
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&b[2..]);
            Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port))
        }
        (FAMILY_IPV4 | FAMILY_IPV6, _) => {
            Err(Error::invalid("address attribute has the wrong length"))
        }
        _ => Err(Error::invalid("address attribute has an unknown family")),
    }
}

fn address_len(a: &SocketAddr) -> usize {
    match a {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

fn encode_address(out: &mut [u8], a: &SocketAddr, xor: Option<&TransactionId>) {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    out[0] = 0;
    let port = a.port().to_be_bytes();
    let xport = if xor.is_some() {
        [port[0] ^ cookie[0], port[1] ^ cookie[1]]
    } else {
        port
    };
    out[2..4].copy_from_slice(&xport);
    match a.ip() {
        IpAddr::V4(ip) => {
            out[1] = FAMILY_IPV4;
            let mut o = ip.octets();
            if xor.is_some() {
                for (x, c) in o.iter_mut().zip(cookie) {
                    *x ^= c;
                }
            }
            out[4..8].copy_from_slice(&o);
        }
        IpAddr::V6(ip) => {
            out[1] = FAMILY_IPV6;
            let mut o = ip.octets();
            if let Some(tid) = xor {
                let mut mask = [0u8; 16];
                mask[..4].copy_from_slice(&cookie);
                mask[4..].copy_from_slice(tid.bytes());
                for (x, m) in o.iter_mut().zip(mask) {
                    *x ^= m;
                }
            }
            out[4..20].copy_from_slice(&o);
        }
    }
}

fn be32(v: &[u8; 4]) -> u32 {
    u32::from_be_bytes(*v)
}

impl<'a> Attribute<'a> {
    /// Decodes and validates one attribute value. `tid` is the message's
    /// transaction id, needed for XOR-encoded IPv6 addresses.
    pub fn decode(typ: AttrType, v: &'a [u8], tid: &TransactionId) -> Result<Self, Error> {
        Ok(match typ {
            AttrType::MAPPED_ADDRESS => Attribute::MappedAddress(decode_address(v, None)?),
            AttrType::ALTERNATE_SERVER => Attribute::AlternateServer(decode_address(v, None)?),
            AttrType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(decode_address(v, Some(tid))?)
            }
            AttrType::XOR_PEER_ADDRESS => Attribute::XorPeerAddress(decode_address(v, Some(tid))?),
            AttrType::XOR_RELAYED_ADDRESS => {
                Attribute::XorRelayedAddress(decode_address(v, Some(tid))?)
            }
            AttrType::USERNAME => Attribute::Username(username(v)?),
            AttrType::REALM => Attribute::Realm(text(v, MAX_QUOTED, "REALM too long")?),
            AttrType::NONCE => Attribute::Nonce(text(v, MAX_QUOTED, "NONCE too long")?),
            AttrType::SOFTWARE => Attribute::Software(text(v, MAX_QUOTED, "SOFTWARE too long")?),
            AttrType::ALTERNATE_DOMAIN => {
                Attribute::AlternateDomain(text(v, 255, "ALTERNATE-DOMAIN too long")?)
            }
            AttrType::ERROR_CODE => {
                let (head, reason) = match v {
                    [_, _, class, number, reason @ ..] => ((*class & 0x07, *number), reason),
                    _ => return Err(Error::invalid("ERROR-CODE truncated")),
                };
                let (class, number) = head;
                if !(3..=6).contains(&class) || number > 99 {
                    return Err(Error::invalid("ERROR-CODE out of range"));
                }
                Attribute::ErrorCode(ErrorCode {
                    code: u16::from(class) * 100 + u16::from(number),
                    reason: text(reason, MAX_QUOTED, "ERROR-CODE reason phrase too long")?,
                })
            }
            AttrType::UNKNOWN_ATTRIBUTES => {
                if v.len() % 2 != 0 {
                    return Err(Error::invalid("UNKNOWN-ATTRIBUTES has an odd length"));
                }
                Attribute::UnknownAttributes(UnknownAttributes(v))
            }
            AttrType::MESSAGE_INTEGRITY => {
                Attribute::MessageIntegrity(exact(v, "MESSAGE-INTEGRITY must be 20 bytes")?)
            }
            AttrType::MESSAGE_INTEGRITY_SHA256 => {
                if v.len() < 16 || v.len() > 32 || v.len() % 4 != 0 {
                    return Err(Error::invalid(
                        "MESSAGE-INTEGRITY-SHA256 must be 16 to 32 bytes, a multiple of 4",
                    ));
                }
                Attribute::MessageIntegritySha256(v)
            }
            AttrType::FINGERPRINT => {
                Attribute::Fingerprint(be32(exact(v, "FINGERPRINT must be 4 bytes")?))
            }
            AttrType::USERHASH => Attribute::Userhash(exact(v, "USERHASH must be 32 bytes")?),
            AttrType::PASSWORD_ALGORITHM => {
                let (entry, used) = split_password_algorithm(v)?;
                if used != v.len() {
                    return Err(Error::invalid("PASSWORD-ALGORITHM has trailing bytes"));
                }
                Attribute::PasswordAlgorithm(entry)
            }
            AttrType::PASSWORD_ALGORITHMS => {
                let mut rest = v;
                while !rest.is_empty() {
                    let (_, used) = split_password_algorithm(rest)?;
                    rest = &rest[used..];
                }
                Attribute::PasswordAlgorithms(PasswordAlgorithms(v))
            }
            AttrType::PRIORITY => Attribute::Priority(be32(exact(v, "PRIORITY must be 4 bytes")?)),
            AttrType::USE_CANDIDATE => {
                empty(v, "USE-CANDIDATE must be empty")?;
                Attribute::UseCandidate
            }
            AttrType::ICE_CONTROLLED => Attribute::IceControlled(u64::from_be_bytes(*exact(
                v,
                "ICE-CONTROLLED must be 8 bytes",
            )?)),
            AttrType::ICE_CONTROLLING => Attribute::IceControlling(u64::from_be_bytes(*exact(
                v,
                "ICE-CONTROLLING must be 8 bytes",
            )?)),
            AttrType::CHANNEL_NUMBER => {
                let b: &[u8; 4] = exact(v, "CHANNEL-NUMBER must be 4 bytes")?;
                Attribute::ChannelNumber(u16::from_be_bytes([b[0], b[1]]))
            }
            AttrType::LIFETIME => Attribute::Lifetime(be32(exact(v, "LIFETIME must be 4 bytes")?)),
            AttrType::DATA => Attribute::Data(v),
            AttrType::REQUESTED_ADDRESS_FAMILY => {
                Attribute::RequestedAddressFamily(family(v, "REQUESTED-ADDRESS-FAMILY")?)
            }
            AttrType::ADDITIONAL_ADDRESS_FAMILY => {
                Attribute::AdditionalAddressFamily(family(v, "ADDITIONAL-ADDRESS-FAMILY")?)
            }
            AttrType::EVEN_PORT => {
                let b: &[u8; 1] = exact(v, "EVEN-PORT must be 1 byte")?;
                Attribute::EvenPort(b[0] & 0x80 != 0)
            }
            AttrType::REQUESTED_TRANSPORT => {
                let b: &[u8; 4] = exact(v, "REQUESTED-TRANSPORT must be 4 bytes")?;
                Attribute::RequestedTransport(b[0])
            }
            AttrType::DONT_FRAGMENT => {
                empty(v, "DONT-FRAGMENT must be empty")?;
                Attribute::DontFragment
            }
            AttrType::RESERVATION_TOKEN => {
                Attribute::ReservationToken(exact(v, "RESERVATION-TOKEN must be 8 bytes")?)
            }
            other => Attribute::Other(other, v),
        })
    }

    /// The attribute's type number.
    pub fn attr_type(&self) -> AttrType {
        match self {
            Attribute::MappedAddress(_) => AttrType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttrType::XOR_MAPPED_ADDRESS,
            Attribute::AlternateServer(_) => AttrType::ALTERNATE_SERVER,
            Attribute::XorPeerAddress(_) => AttrType::XOR_PEER_ADDRESS,
            Attribute::XorRelayedAddress(_) => AttrType::XOR_RELAYED_ADDRESS,
            Attribute::Username(_) => AttrType::USERNAME,
            Attribute::Realm(_) => AttrType::REALM,
            Attribute::Nonce(_) => AttrType::NONCE,
            Attribute::Software(_) => AttrType::SOFTWARE,
            Attribute::AlternateDomain(_) => AttrType::ALTERNATE_DOMAIN,
            Attribute::ErrorCode(_) => AttrType::ERROR_CODE,
            Attribute::UnknownAttributes(_) => AttrType::UNKNOWN_ATTRIBUTES,
            Attribute::MessageIntegrity(_) => AttrType::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => AttrType::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => AttrType::FINGERPRINT,
            Attribute::Userhash(_) => AttrType::USERHASH,
            Attribute::PasswordAlgorithm(_) => AttrType::PASSWORD_ALGORITHM,
            Attribute::PasswordAlgorithms(_) => AttrType::PASSWORD_ALGORITHMS,
            Attribute::Priority(_) => AttrType::PRIORITY,
            Attribute::UseCandidate => AttrType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttrType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttrType::ICE_CONTROLLING,
            Attribute::ChannelNumber(_) => AttrType::CHANNEL_NUMBER,
            Attribute::Lifetime(_) => AttrType::LIFETIME,
            Attribute::Data(_) => AttrType::DATA,
            Attribute::RequestedAddressFamily(_) => AttrType::REQUESTED_ADDRESS_FAMILY,
            Attribute::AdditionalAddressFamily(_) => AttrType::ADDITIONAL_ADDRESS_FAMILY,
            Attribute::EvenPort(_) => AttrType::EVEN_PORT,
            Attribute::RequestedTransport(_) => AttrType::REQUESTED_TRANSPORT,
            Attribute::DontFragment => AttrType::DONT_FRAGMENT,
            Attribute::ReservationToken(_) => AttrType::RESERVATION_TOKEN,
            Attribute::Other(t, _) => *t,
        }
    }

    /// Length of the encoded value, without the 4-byte header or padding.
    pub fn encoded_len(&self) -> usize {
        match self {
            Attribute::MappedAddress(a)
            | Attribute::XorMappedAddress(a)
            | Attribute::AlternateServer(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => address_len(a),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => s.len(),
            Attribute::ErrorCode(e) => 4 + e.reason.len(),
            Attribute::UnknownAttributes(u) => u.0.len(),
            Attribute::MessageIntegrity(_) => 20,
            Attribute::MessageIntegritySha256(m) => m.len(),
            Attribute::Fingerprint(_) => 4,
            Attribute::Userhash(_) => 32,
            Attribute::PasswordAlgorithm(p) => p.encoded_len(),
            Attribute::PasswordAlgorithms(p) => p.0.len(),
            Attribute::Priority(_) => 4,
            Attribute::UseCandidate | Attribute::DontFragment => 0,
            Attribute::IceControlled(_) | Attribute::IceControlling(_) => 8,
            Attribute::ChannelNumber(_) | Attribute::Lifetime(_) => 4,
            Attribute::Data(d) => d.len(),
            Attribute::RequestedAddressFamily(_) | Attribute::AdditionalAddressFamily(_) => 4,
            Attribute::EvenPort(_) => 1,
            Attribute::RequestedTransport(_) => 4,
            Attribute::ReservationToken(_) => 8,
            Attribute::Other(_, v) => v.len(),
        }
    }

    /// Writes the value into `out`, which is exactly [`Self::encoded_len`]
    /// bytes. Reserved bits are written as zero.
    pub(crate) fn encode_value(&self, out: &mut [u8], tid: &TransactionId) {
        match self {
            Attribute::MappedAddress(a) | Attribute::AlternateServer(a) => {
                encode_address(out, a, None)
            }
            Attribute::XorMappedAddress(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => encode_address(out, a, Some(tid)),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => out.copy_from_slice(s.as_bytes()),
            Attribute::ErrorCode(e) => {
                out[..2].fill(0);
                out[2] = (e.code / 100) as u8;
                out[3] = (e.code % 100) as u8;
                out[4..].copy_from_slice(e.reason.as_bytes());
            }
            Attribute::UnknownAttributes(UnknownAttributes(v))
            | Attribute::PasswordAlgorithms(PasswordAlgorithms(v))
            | Attribute::MessageIntegritySha256(v)
            | Attribute::Data(v)
            | Attribute::Other(_, v) => out.copy_from_slice(v),
            Attribute::MessageIntegrity(m) => out.copy_from_slice(&m[..]),
            Attribute::Userhash(h) => out.copy_from_slice(&h[..]),
            Attribute::ReservationToken(t) => out.copy_from_slice(&t[..]),
            Attribute::Fingerprint(x) | Attribute::Priority(x) | Attribute::Lifetime(x) => {
                out.copy_from_slice(&x.to_be_bytes())
            }
            Attribute::PasswordAlgorithm(p) => {
                out.fill(0);
                out[..2].copy_from_slice(&p.algorithm.to_be_bytes());
                out[2..4].copy_from_slice(&(p.parameters.len() as u16).to_be_bytes());
                out[4..4 + p.parameters.len()].copy_from_slice(p.parameters);
            }
            Attribute::UseCandidate | Attribute::DontFragment => {}
            Attribute::IceControlled(x) | Attribute::IceControlling(x) => {
                out.copy_from_slice(&x.to_be_bytes())
            }
            Attribute::ChannelNumber(n) => {
                out[..2].copy_from_slice(&n.to_be_bytes());
                out[2..].fill(0);
            }
            Attribute::RequestedAddressFamily(f)
            | Attribute::AdditionalAddressFamily(f)
            | Attribute::RequestedTransport(f) => {
                out.fill(0);
                out[0] = *f;
            }
            Attribute::EvenPort(r) => out[0] = if *r { 0x80 } else { 0 },
        }
    }

    /// Checks the values a builder cannot represent on the wire.
    pub(crate) fn check_encodable(&self) -> Result<(), Error> {
        let ok = match self {
            Attribute::Username(s) => s.len() <= MAX_USERNAME,
            Attribute::Realm(s) | Attribute::Nonce(s) | Attribute::Software(s) => {
                s.len() <= MAX_QUOTED
            }
            Attribute::AlternateDomain(s) => s.len() <= 255,
            Attribute::ErrorCode(e) => {
                (300..=699).contains(&e.code) && e.reason.len() <= MAX_QUOTED
            }
            Attribute::UnknownAttributes(u) => u.0.len() % 2 == 0,
            Attribute::MessageIntegritySha256(m) => {
                (16..=32).contains(&m.len()) && m.len() % 4 == 0
            }
            Attribute::PasswordAlgorithm(p) => p.parameters.len() <= usize::from(u16::MAX),
            Attribute::RequestedAddressFamily(f) | Attribute::AdditionalAddressFamily(f) => {
                *f == FAMILY_IPV4 || *f == FAMILY_IPV6
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::misuse("attribute value out of range"))
        }
    }
}

fn empty(v: &[u8], what: &'static str) -> Result<(), Error> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(what))
    }
}

fn family(v: &[u8], _what: &'static str) -> Result<u8, Error> {
    let b: &[u8; 4] = exact(v, "address family attribute must be 4 bytes")?;
    match b[0] {
        FAMILY_IPV4 | FAMILY_IPV6 => Ok(b[0]),
        _ => Err(Error::invalid(
            "address family attribute has an unknown family",
        )),
    }
}

/// Iterator over a message's attributes as seen by a receiver: see
/// [`crate::Message::attributes`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub(crate) walk: crate::message::Walk<'a>,
    pub(crate) tid: TransactionId,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;
    fn next(&mut self) -> Option<Attribute<'a>> {
        for raw in self.walk.by_ref() {
            let raw = raw.ok()?;
            if raw.visible {
                // Validated by `Message::parse`; `ok()` keeps this panic-free.
                return Attribute::decode(raw.typ, raw.value, &self.tid).ok();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII fast path accepts exactly what `from_utf8` accepts and
    /// hands out the same string: ASCII, multi-byte UTF-8 (which must take
    /// the fallback), invalid and truncated sequences, at every length
    /// around the word sizes the ASCII check steps by.
    #[test]
    fn text_fast_path_agrees_with_from_utf8() {
        let samples: [&[u8]; 10] = [
            b"",
            b"f7Sx:Hb3c",
            b"evtj:h6vY+/abc",
            "r\u{e9}alm-\u{1f600}".as_bytes(),
            &[0x80],
            &[0xC3],
            &[0xC3, 0xA9],
            &[0xE2, 0x82],
            &[0xED, 0xA0, 0x80], // a UTF-16 surrogate: not UTF-8
            &[0x7F, 0xFF, 0x41],
        ];
        let mut rnd = tern_testkit::xorshift64(0x2545_f491_4f6c_dd1du64);
        for s in samples {
            for len in 0..=40 {
                // The sample followed by varying ASCII and non-ASCII bytes.
                let mut v = s.to_vec();
                while v.len() < len {
                    let x = rnd();
                    v.push(if x & 7 == 0 {
                        (x >> 8) as u8
                    } else {
                        b'a' + (x >> 8) as u8 % 26
                    });
                }
                for cut in 0..=v.len() {
                    let w = &v[..cut];
                    assert_eq!(utf8(w), core::str::from_utf8(w).ok(), "{w:02x?}");
                }
            }
        }
    }

    #[test]
    fn username_non_ascii_utf8_is_accepted_and_invalid_rejected() {
        assert_eq!(
            username("\u{30de}\u{30c8}\u{30ea}\u{30c3}\u{30af}\u{30b9}".as_bytes()),
            Ok("\u{30de}\u{30c8}\u{30ea}\u{30c3}\u{30af}\u{30b9}")
        );
        assert_eq!(username(b"ufrag:ufrag"), Ok("ufrag:ufrag"));
        assert_eq!(
            username(&[b'a', 0xFF, b'b']),
            Err(Error::invalid("text attribute is not UTF-8"))
        );
        assert_eq!(
            username(&[b'a'; MAX_USERNAME + 1]),
            Err(Error::invalid("USERNAME too long"))
        );
    }
}
