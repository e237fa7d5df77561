//! The zero-copy message view (RFC 8489 §5, §14 and the receiver rules of
//! §6.3, §14.5–§14.7).
use crate::attr::{
    pad4, AttrType, Attribute, Attributes, ErrorCode, PasswordAlgorithm, PasswordAlgorithms,
    UnknownAttributes,
};
use crate::error::Error;
use crate::integrity::{fingerprint, IntegrityKey};
use crate::types::{MessageType, TransactionId};
use crate::{HEADER_LEN, MAGIC_COOKIE};
use std::net::SocketAddr;

/// How many unknown comprehension-required attribute types a parsed message
/// remembers for a 420 response; more are counted but not listed.
pub const MAX_UNKNOWN_REPORTED: usize = 8;

/// A cheap pre-check for demultiplexing (RFC 7983 first byte, then §5): the
/// top two bits are zero, the magic cookie is present, and the length field
/// is a multiple of 4 that matches the datagram.
pub fn looks_like_stun(b: &[u8]) -> bool {
    b.len() >= HEADER_LEN
        && b[0] & 0xC0 == 0
        && b[4..8] == MAGIC_COOKIE.to_be_bytes()
        && usize::from(u16::from_be_bytes([b[2], b[3]])) == b.len() - HEADER_LEN
        && b[3] & 0x03 == 0
}

/// One attribute as it stands on the wire, before decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawAttr<'a> {
    /// Offset of the attribute header in the message.
    pub offset: usize,
    pub typ: AttrType,
    pub value: &'a [u8],
    /// Whether a receiver processes it: false for attributes that follow
    /// MESSAGE-INTEGRITY (other than MESSAGE-INTEGRITY-SHA256 and
    /// FINGERPRINT) or MESSAGE-INTEGRITY-SHA256 (other than FINGERPRINT),
    /// which §14.5 and §14.6 say to ignore.
    pub visible: bool,
}

/// Walks the attribute list of a message whose header was checked, applying
/// the framing and ordering rules. Yields `Err` once and then stops.
#[derive(Debug, Clone)]
pub(crate) struct Walk<'a> {
    bytes: &'a [u8],
    pub(crate) pos: usize,
    /// 0 before MESSAGE-INTEGRITY, 1 after it, 2 after
    /// MESSAGE-INTEGRITY-SHA256, 3 after FINGERPRINT.
    phase: u8,
    failed: bool,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: HEADER_LEN,
            phase: 0,
            failed: false,
        }
    }

    /// The next attribute. The caller checks `pos < bytes.len()` first.
    #[inline(always)]
    pub(crate) fn step(&mut self) -> Result<RawAttr<'a>, Error> {
        if self.phase == 3 {
            return Err(Error::invalid("attribute after FINGERPRINT"));
        }
        let offset = self.pos;
        let head = self
            .bytes
            .get(offset..offset + 4)
            .ok_or_else(|| Error::invalid("attribute header truncated"))?;
        let typ = AttrType(u16::from_be_bytes([head[0], head[1]]));
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let start = offset + 4;
        let value = self
            .bytes
            .get(start..start + len)
            .ok_or_else(|| Error::invalid("attribute runs past the end of the message"))?;
        let next = start + pad4(len);
        if next > self.bytes.len() {
            return Err(Error::invalid(
                "attribute padding runs past the end of the message",
            ));
        }
        self.pos = next;
        let ordering = matches!(
            typ,
            AttrType::FINGERPRINT
                | AttrType::MESSAGE_INTEGRITY_SHA256
                | AttrType::MESSAGE_INTEGRITY
        );
        let visible = if self.phase == 0 && !ordering {
            true
        } else {
            self.ordering_rule(typ)
        };
        Ok(RawAttr {
            offset,
            typ,
            value,
            visible,
        })
    }

    /// §14.5–§14.7: what follows the integrity attributes and FINGERPRINT.
    fn ordering_rule(&mut self, typ: AttrType) -> bool {
        match typ {
            AttrType::FINGERPRINT => {
                self.phase = 3;
                true
            }
            AttrType::MESSAGE_INTEGRITY_SHA256 => {
                let v = self.phase < 2;
                self.phase = 2;
                v
            }
            AttrType::MESSAGE_INTEGRITY => {
                let v = self.phase == 0;
                self.phase = self.phase.max(1);
                v
            }
            _ => self.phase == 0,
        }
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<RawAttr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let r = self.step();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

// Slots for O(1) access to the first occurrence of each known attribute.
const SLOTS: [AttrType; 31] = [
    AttrType::MAPPED_ADDRESS,
    AttrType::USERNAME,
    AttrType::MESSAGE_INTEGRITY,
    AttrType::ERROR_CODE,
    AttrType::UNKNOWN_ATTRIBUTES,
    AttrType::CHANNEL_NUMBER,
    AttrType::LIFETIME,
    AttrType::XOR_PEER_ADDRESS,
    AttrType::DATA,
    AttrType::REALM,
    AttrType::NONCE,
    AttrType::XOR_RELAYED_ADDRESS,
    AttrType::REQUESTED_ADDRESS_FAMILY,
    AttrType::EVEN_PORT,
    AttrType::REQUESTED_TRANSPORT,
    AttrType::DONT_FRAGMENT,
    AttrType::MESSAGE_INTEGRITY_SHA256,
    AttrType::PASSWORD_ALGORITHM,
    AttrType::USERHASH,
    AttrType::XOR_MAPPED_ADDRESS,
    AttrType::ADDITIONAL_ADDRESS_FAMILY,
    AttrType::RESERVATION_TOKEN,
    AttrType::PRIORITY,
    AttrType::USE_CANDIDATE,
    AttrType::PASSWORD_ALGORITHMS,
    AttrType::ALTERNATE_DOMAIN,
    AttrType::SOFTWARE,
    AttrType::ALTERNATE_SERVER,
    AttrType::FINGERPRINT,
    AttrType::ICE_CONTROLLED,
    AttrType::ICE_CONTROLLING,
];

/// The value length of attributes whose only constraint is their size.
pub(crate) const fn fixed_len_of(t: AttrType) -> Option<usize> {
    Some(match t {
        AttrType::USE_CANDIDATE | AttrType::DONT_FRAGMENT => 0,
        AttrType::EVEN_PORT => 1,
        AttrType::PRIORITY
        | AttrType::FINGERPRINT
        | AttrType::LIFETIME
        | AttrType::CHANNEL_NUMBER
        | AttrType::REQUESTED_TRANSPORT => 4,
        AttrType::ICE_CONTROLLED | AttrType::ICE_CONTROLLING | AttrType::RESERVATION_TOKEN => 8,
        AttrType::MESSAGE_INTEGRITY => 20,
        AttrType::USERHASH => 32,
        _ => return None,
    })
}

// Every known type is in 0x0000..=0x00FF or 0x8000..=0x80FF, so one
// 512-entry table answers "which slot, and is it fixed-size" in two loads.
const fn table_index(t: AttrType) -> Option<usize> {
    if t.0 & 0x7F00 != 0 {
        None
    } else {
        Some(((t.0 >> 7) & 0x100) as usize | (t.0 & 0xFF) as usize)
    }
}

/// Per table index: slot + 1 (0 for unknown types) and the fixed value
/// length (0xFF where the size alone does not decide validity).
const TABLE: [(u8, u8); 512] = {
    let mut t = [(0u8, 0xFFu8); 512];
    let mut i = 0;
    while i < SLOTS.len() {
        let at = SLOTS[i];
        if let Some(idx) = table_index(at) {
            t[idx].0 = i as u8 + 1;
            if let Some(n) = fixed_len_of(at) {
                t[idx].1 = n as u8;
            }
        }
        i += 1;
    }
    t
};

#[inline(always)]
fn lookup(t: AttrType) -> (Option<usize>, Option<usize>) {
    match table_index(t) {
        Some(i) => {
            let (slot, fixed) = TABLE[i];
            (
                (slot as usize).checked_sub(1),
                if fixed == 0xFF {
                    None
                } else {
                    Some(fixed as usize)
                },
            )
        }
        None => (None, None),
    }
}

fn slot(t: AttrType) -> Option<usize> {
    lookup(t).0
}

/// A validated STUN message borrowing the datagram it was parsed from.
///
/// Parsing checks everything once; afterwards every accessor is infallible
/// and returns `None` only when the attribute is absent.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    typ: MessageType,
    tid: TransactionId,
    /// Offset of the first visible occurrence of each known attribute's
    /// header, minus `HEADER_LEN - 1`; 0 means absent.
    slots: [u16; SLOTS.len()],
    unknown: [u16; MAX_UNKNOWN_REPORTED],
    unknown_count: u16,
    /// USERNAME, validated once: ICE reads it on every connectivity check.
    username: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// Parses and validates one whole message: `bytes` must be exactly the
    /// message (a UDP datagram's payload).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let head: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::invalid("shorter than a STUN header"))?;
        let raw_type = u16::from_be_bytes([head[0], head[1]]);
        let typ = MessageType::from_u16(raw_type).ok_or(Error::invalid(
            "top two bits of the message type are not zero",
        ))?;
        if head[4..8] != MAGIC_COOKIE.to_be_bytes() {
            return Err(Error::invalid("wrong magic cookie"));
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if len % 4 != 0 {
            return Err(Error::invalid("message length is not a multiple of 4"));
        }
        if len != bytes.len() - HEADER_LEN {
            return Err(Error::invalid("message length does not match the datagram"));
        }
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&head[8..20]);
        let tid = TransactionId(tid);

        let mut msg = Message {
            bytes,
            typ,
            tid,
            slots: [0; SLOTS.len()],
            unknown: [0; MAX_UNKNOWN_REPORTED],
            unknown_count: 0,
            username: None,
        };
        let mut walk = Walk::new(bytes);
        while walk.pos < bytes.len() {
            let raw = walk.step()?;
            if !raw.visible {
                continue;
            }
            match lookup(raw.typ) {
                (Some(i), fixed) => {
                    // Validate the value now so accessors cannot fail later.
                    // Fixed-size attributes need only a length check (the
                    // test `fixed_size_check_agrees_with_decode` holds this
                    // shortcut to the full decode).
                    if raw.typ == AttrType::USERNAME {
                        let u = crate::attr::username(raw.value)?;
                        msg.username = msg.username.or(Some(u));
                    } else if fixed != Some(raw.value.len()) {
                        Attribute::decode(raw.typ, raw.value, &tid)?;
                    }
                    if msg.slots[i] == 0 {
                        // offset >= 20 and < 65556, so this fits in u16.
                        msg.slots[i] = (raw.offset - (HEADER_LEN - 1)) as u16;
                    }
                }
                (None, _) if raw.typ.is_comprehension_required() => {
                    let n = usize::from(msg.unknown_count);
                    if n < MAX_UNKNOWN_REPORTED {
                        msg.unknown[n] = raw.typ.0;
                    }
                    msg.unknown_count = msg.unknown_count.saturating_add(1);
                }
                (None, _) => {}
            }
        }
        Ok(msg)
    }

    /// The whole message as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Method and class.
    pub fn message_type(&self) -> MessageType {
        self.typ
    }
    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }
    /// The value of the header's length field.
    pub fn length(&self) -> usize {
        self.bytes.len() - HEADER_LEN
    }

    /// The attributes a receiver processes, in order, decoded. Attributes
    /// that §14.5–§14.6 say to ignore (after the integrity attributes) are
    /// skipped; see [`Self::raw_attributes`] for everything on the wire.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            walk: Walk::new(self.bytes),
            tid: self.tid,
        }
    }

    /// Every attribute on the wire, in order, as `(type, value)`, including
    /// ignored ones. Useful for re-encoding and diagnostics.
    pub fn raw_attributes(&self) -> impl Iterator<Item = (AttrType, &'a [u8])> + 'a {
        Walk::new(self.bytes).map_while(|r| r.ok().map(|a| (a.typ, a.value)))
    }

    /// Unknown comprehension-required attribute types present (at most
    /// [`MAX_UNKNOWN_REPORTED`] listed); a server answers 420 with these.
    pub fn unknown_comprehension_required(&self) -> &[u16] {
        let n = usize::from(self.unknown_count).min(MAX_UNKNOWN_REPORTED);
        &self.unknown[..n]
    }

    fn raw(&self, t: AttrType) -> Option<(usize, &'a [u8])> {
        let i = slot(t)?;
        let s = usize::from(self.slots[i]);
        if s == 0 {
            return None;
        }
        let off = s + HEADER_LEN - 1;
        let len = usize::from(u16::from_be_bytes([
            *self.bytes.get(off + 2)?,
            *self.bytes.get(off + 3)?,
        ]));
        Some((off, self.bytes.get(off + 4..off + 4 + len)?))
    }

    /// The first visible occurrence of a known attribute type, decoded.
    pub fn get(&self, t: AttrType) -> Option<Attribute<'a>> {
        let (_, v) = self.raw(t)?;
        Attribute::decode(t, v, &self.tid).ok()
    }

    /// Whether an attribute of this known type is present and visible.
    pub fn has(&self, t: AttrType) -> bool {
        self.raw(t).is_some()
    }
}

macro_rules! accessors {
    ($($(#[$doc:meta])* $fn:ident -> $ty:ty = $attr:ident => $variant:ident;)*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                pub fn $fn(&self) -> Option<$ty> {
                    match self.get(AttrType::$attr)? {
                        Attribute::$variant(v) => Some(v),
                        _ => None,
                    }
                }
            )*
        }
    };
}

accessors! {
    /// MAPPED-ADDRESS (§14.1).
    mapped_address -> SocketAddr = MAPPED_ADDRESS => MappedAddress;
    /// XOR-MAPPED-ADDRESS (§14.2), decoded.
    xor_mapped_address -> SocketAddr = XOR_MAPPED_ADDRESS => XorMappedAddress;
    /// ALTERNATE-SERVER (§14.15).
    alternate_server -> SocketAddr = ALTERNATE_SERVER => AlternateServer;
    /// The first XOR-PEER-ADDRESS (RFC 8656 §18.3); a CreatePermission may
    /// carry several: see [`Message::attributes`].
    xor_peer_address -> SocketAddr = XOR_PEER_ADDRESS => XorPeerAddress;
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    xor_relayed_address -> SocketAddr = XOR_RELAYED_ADDRESS => XorRelayedAddress;
    /// ERROR-CODE (§14.8).
    error_code -> ErrorCode<'a> = ERROR_CODE => ErrorCode;
    /// UNKNOWN-ATTRIBUTES (§14.13).
    unknown_attributes -> UnknownAttributes<'a> = UNKNOWN_ATTRIBUTES => UnknownAttributes;
    /// The MESSAGE-INTEGRITY-SHA256 value (§14.6).
    message_integrity_sha256 -> &'a [u8] = MESSAGE_INTEGRITY_SHA256 => MessageIntegritySha256;
    /// PASSWORD-ALGORITHM (§14.12).
    password_algorithm -> PasswordAlgorithm<'a> = PASSWORD_ALGORITHM => PasswordAlgorithm;
    /// PASSWORD-ALGORITHMS (§14.11).
    password_algorithms -> PasswordAlgorithms<'a> = PASSWORD_ALGORITHMS => PasswordAlgorithms;
    /// DATA (RFC 8656 §18.4).
    data -> &'a [u8] = DATA => Data;
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6): 1 IPv4, 2 IPv6.
    requested_address_family -> u8 = REQUESTED_ADDRESS_FAMILY => RequestedAddressFamily;
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    additional_address_family -> u8 = ADDITIONAL_ADDRESS_FAMILY => AdditionalAddressFamily;
    /// EVEN-PORT's R bit (RFC 8656 §18.7).
    even_port -> bool = EVEN_PORT => EvenPort;
    /// REQUESTED-TRANSPORT protocol number (RFC 8656 §18.8).
    requested_transport -> u8 = REQUESTED_TRANSPORT => RequestedTransport;
}

// Hot accessors read the validated bytes directly instead of decoding.
macro_rules! text_accessors {
    ($($(#[$doc:meta])* $fn:ident = $attr:ident;)*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                pub fn $fn(&self) -> Option<&'a str> {
                    core::str::from_utf8(self.raw(AttrType::$attr)?.1).ok()
                }
            )*
        }
    };
}

impl<'a> Message<'a> {
    /// USERNAME (§14.3).
    pub fn username(&self) -> Option<&'a str> {
        self.username
    }
}

text_accessors! {
    /// REALM (§14.9).
    realm = REALM;
    /// NONCE (§14.10).
    nonce = NONCE;
    /// SOFTWARE (§14.14).
    software = SOFTWARE;
    /// ALTERNATE-DOMAIN (§14.16).
    alternate_domain = ALTERNATE_DOMAIN;
}

macro_rules! fixed_accessors {
    ($($(#[$doc:meta])* $fn:ident -> $ty:ty = $attr:ident, $conv:expr;)*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                pub fn $fn(&self) -> Option<$ty> {
                    let v = self.raw(AttrType::$attr)?.1;
                    v.try_into().ok().map($conv)
                }
            )*
        }
    };
}

fixed_accessors! {
    /// The MESSAGE-INTEGRITY value (§14.5); see [`Message::verify_integrity`].
    message_integrity -> &'a [u8; 20] = MESSAGE_INTEGRITY, |v: &'a [u8; 20]| v;
    /// The FINGERPRINT value (§14.7); see [`Message::verify_fingerprint`].
    fingerprint -> u32 = FINGERPRINT, |v: [u8; 4]| u32::from_be_bytes(v);
    /// USERHASH (§14.4).
    userhash -> &'a [u8; 32] = USERHASH, |v: &'a [u8; 32]| v;
    /// PRIORITY (RFC 8445 §7.1.1).
    priority -> u32 = PRIORITY, |v: [u8; 4]| u32::from_be_bytes(v);
    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).
    ice_controlled -> u64 = ICE_CONTROLLED, |v: [u8; 8]| u64::from_be_bytes(v);
    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).
    ice_controlling -> u64 = ICE_CONTROLLING, |v: [u8; 8]| u64::from_be_bytes(v);
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    channel_number -> u16 = CHANNEL_NUMBER, |v: [u8; 4]| u16::from_be_bytes([v[0], v[1]]);
    /// LIFETIME in seconds (RFC 8656 §18.2).
    lifetime -> u32 = LIFETIME, |v: [u8; 4]| u32::from_be_bytes(v);
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    reservation_token -> &'a [u8; 8] = RESERVATION_TOKEN, |v: &'a [u8; 8]| v;
}

impl Message<'_> {
    /// USE-CANDIDATE present (RFC 8445 §7.1.2).
    pub fn use_candidate(&self) -> bool {
        self.has(AttrType::USE_CANDIDATE)
    }
    /// DONT-FRAGMENT present (RFC 8656 §18.9).
    pub fn dont_fragment(&self) -> bool {
        self.has(AttrType::DONT_FRAGMENT)
    }

    /// The header with its length field replaced by `len`.
    fn header_with_length(&self, len: usize) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.bytes[..HEADER_LEN]);
        // `len` is at most the real length, so it fits in u16.
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        h
    }

    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1, §14.5) with `key`, comparing in
    /// constant time.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        let (off, mac) = self
            .raw(AttrType::MESSAGE_INTEGRITY)
            .ok_or(Error::peer("no MESSAGE-INTEGRITY"))?;
        let header = self.header_with_length(off + 4 + 20 - HEADER_LEN);
        let expected = key.hmac_sha1(&[&header, &self.bytes[HEADER_LEN..off]]);
        if crate::integrity::ct_eq(&expected, mac) {
            Ok(())
        } else {
            Err(Error::peer("MESSAGE-INTEGRITY does not match"))
        }
    }

    /// Checks MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated,
    /// §14.6) with `key`, comparing in constant time.
    pub fn verify_integrity_sha256(&self, key: &IntegrityKey) -> Result<(), Error> {
        let (off, mac) = self
            .raw(AttrType::MESSAGE_INTEGRITY_SHA256)
            .ok_or(Error::peer("no MESSAGE-INTEGRITY-SHA256"))?;
        let header = self.header_with_length(off + 4 + mac.len() - HEADER_LEN);
        let expected = key.hmac_sha256(&[&header, &self.bytes[HEADER_LEN..off]]);
        if crate::integrity::ct_eq(&expected[..mac.len()], mac) {
            Ok(())
        } else {
            Err(Error::peer("MESSAGE-INTEGRITY-SHA256 does not match"))
        }
    }

    /// Checks FINGERPRINT (§14.7). FINGERPRINT is always the last attribute,
    /// so the header's length already covers it.
    pub fn verify_fingerprint(&self) -> Result<(), Error> {
        let (off, _) = self
            .raw(AttrType::FINGERPRINT)
            .ok_or(Error::peer("no FINGERPRINT"))?;
        let got = self.fingerprint().unwrap_or(0);
        if fingerprint(&self.bytes[..off]) == got {
            Ok(())
        } else {
            Err(Error::peer("FINGERPRINT does not match"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_check_agrees_with_decode() {
        // `parse` skips the full decode for fixed-size attributes whose
        // length is right; that is only sound if decode accepts every value
        // of that length and rejects every other length.
        let tid = TransactionId([7; 12]);
        let values: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
        for t in SLOTS {
            let Some(n) = fixed_len_of(t) else { continue };
            for len in 0..values.len() {
                for fill in [&values[..len], &vec![0xFF; len][..], &vec![0; len][..]] {
                    let ok = Attribute::decode(t, fill, &tid).is_ok();
                    assert_eq!(ok, len == n, "{t:?} with {len} bytes");
                }
            }
        }
    }

    #[test]
    fn every_slot_type_has_a_slot() {
        for (i, t) in SLOTS.iter().enumerate() {
            assert_eq!(slot(*t), Some(i), "{t:?}");
            assert!(t.is_known());
        }
    }
}
