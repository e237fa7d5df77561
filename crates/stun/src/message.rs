//! The zero-copy message view (RFC 8489 §5, §14 and the receiver rules of
//! §6.3, §14.5–§14.7).
use crate::attr::{
    pad4, AttrType, Attribute, Attributes, ErrorCode, PasswordAlgorithm, PasswordAlgorithms,
    UnknownAttributes,
};
use crate::error::Error;
use crate::integrity::{fingerprint, IntegrityKey};
use crate::types::{Class, MessageType, Method, TransactionId};
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
            typ,
            value,
            visible,
        })
    }

    fn ordering_rule(&mut self, typ: AttrType) -> bool {
        ordering_rule(&mut self.phase, typ)
    }
}

/// §14.5–§14.7: what follows the integrity attributes and FINGERPRINT.
/// `phase` is 0 before MESSAGE-INTEGRITY, 1 after it, 2 after
/// MESSAGE-INTEGRITY-SHA256, 3 after FINGERPRINT; returns whether a
/// receiver processes an attribute of type `typ` seen now.
#[inline]
fn ordering_rule(phase: &mut u8, typ: AttrType) -> bool {
    match typ {
        AttrType::FINGERPRINT => {
            *phase = 3;
            true
        }
        AttrType::MESSAGE_INTEGRITY_SHA256 => {
            let v = *phase < 2;
            *phase = 2;
            v
        }
        AttrType::MESSAGE_INTEGRITY => {
            let v = *phase == 0;
            *phase = (*phase).max(1);
            v
        }
        _ => *phase == 0,
    }
}

/// Why `bytes`, whose header is right and whose attributes before the one
/// that broke the framing are valid, is malformed: the first error `Walk`
/// meets. Kept off `parse`'s hot path, which only notices that an attribute
/// did not end where it should.
#[cold]
#[inline(never)]
fn framing_error(bytes: &[u8]) -> Error {
    Walk::new(bytes)
        .find_map(Result::err)
        .unwrap_or(Error::invalid("attribute header truncated"))
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
    AttrType::ICE_CONTROLLED,
    AttrType::ICE_CONTROLLING,
    // Last, so that `parse`'s fast path tells them by slot alone.
    AttrType::MESSAGE_INTEGRITY,
    AttrType::FINGERPRINT,
];
/// The slots of the two fixed-size types the ordering rules concern: the
/// last two.
const MI_SLOT: u8 = slot_of(AttrType::MESSAGE_INTEGRITY) as u8;
const FP_SLOT: u8 = slot_of(AttrType::FINGERPRINT) as u8;
const _: () = assert!(MI_SLOT as usize == SLOTS.len() - 2 && FP_SLOT as usize == SLOTS.len() - 1);

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

// Every known type is in 0x0000..=0x00FF or 0x8000..=0x80FF; rotating the
// type left by one maps those ranges one-to-one onto 0..512 (the
// comprehension-optional ones to odd indexes), so one 512-entry table,
// which also holds the type to tell collisions apart, answers "which slot,
// is it fixed-size, does it take part in the ordering rules" in one load.
#[inline(always)]
const fn table_index(t: AttrType) -> usize {
    (t.0.rotate_left(1) & 0x1FF) as usize
}

/// What `parse` needs to know about one attribute type.
#[derive(Clone, Copy)]
struct Entry {
    /// The type in the high 16 bits; in the low 16 the value length that
    /// makes an attribute of this type valid by size alone, or `NOT_FIXED`
    /// (variable size). So an attribute header (type and length, as one
    /// big-endian u32) equals `key` exactly when it is a known fixed-size
    /// attribute of the right size: `parse`'s fast path. No attribute that
    /// fits in a message is `NOT_FIXED` bytes long, and no type is 0xFFFF.
    key: u32,
    /// The slot; `NO_SLOT` where no known type has this index.
    slot: u8,
    /// Non-zero for MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT, which the
    /// ordering rules of §14.5–§14.7 concern: the phase (see `Walk`) each
    /// moves a message in phase 0 to.
    ordered: u8,
}

const NO_SLOT: u8 = u8::MAX;
/// A FINGERPRINT attribute's header: type and length 4.
const FINGERPRINT_HEADER: u32 = (AttrType::FINGERPRINT.0 as u32) << 16 | 4;
const NOT_FIXED: u32 = u16::MAX as u32;
/// Or-ed into each attribute header once MESSAGE-INTEGRITY(-SHA256) was
/// seen, so that no header equals a `key` (no known type has any of the bits
/// 0x7F00 set) and everything takes `parse`'s slow path. `parse` keeps
/// `Walk`'s phase in the low byte beside it.
const AFTER_INTEGRITY: u32 = 0x7F00_0000;
const UNKNOWN_ENTRY: Entry = Entry {
    key: u32::MAX,
    slot: NO_SLOT,
    ordered: 0,
};
const SLOT_COUNT: usize = SLOTS.len();
/// A slot's value when its attribute is absent: as an offset it lies past
/// the end of the largest message (`HEADER_LEN` + 65532 bytes).
const ABSENT: u16 = u16::MAX;
const _: () = assert!(ABSENT as usize + HEADER_LEN > HEADER_LEN + 0xFFFC);

const TABLE: [Entry; 512] = {
    let mut t = [UNKNOWN_ENTRY; 512];
    let mut i = 0;
    while i < SLOTS.len() {
        let at = SLOTS[i];
        assert!(at.0 & 0x7F00 == 0 && at.0 != 0xFFFF);
        let idx = table_index(at);
        assert!(t[idx].slot == NO_SLOT, "two known types share an index");
        let fixed = match fixed_len_of(at) {
            Some(n) => n as u32,
            None => NOT_FIXED,
        };
        t[idx] = Entry {
            key: (at.0 as u32) << 16 | fixed,
            slot: i as u8,
            ordered: match at {
                AttrType::MESSAGE_INTEGRITY => 1,
                AttrType::MESSAGE_INTEGRITY_SHA256 => 2,
                AttrType::FINGERPRINT => 3,
                _ => 0,
            },
        };
        i += 1;
    }
    t
};

/// `parse`'s fast path, indexed by the low byte of an attribute's type: the
/// entry of the known fixed-size type with that low byte (no two share one),
/// `UNKNOWN_ENTRY` elsewhere. Cheaper to index than `TABLE`; a header that
/// equals the key is that type with the right length.
const FAST: [Entry; 256] = {
    let mut t = [UNKNOWN_ENTRY; 256];
    let mut i = 0;
    while i < SLOTS.len() {
        let at = SLOTS[i];
        if fixed_len_of(at).is_some() {
            let idx = (at.0 & 0xFF) as usize;
            assert!(
                t[idx].slot == NO_SLOT,
                "two fixed-size types share a low byte"
            );
            t[idx] = TABLE[table_index(at)];
        }
        i += 1;
    }
    t
};

/// The table entry for `t`, if `t` is known.
#[inline(always)]
fn entry(t: AttrType) -> Option<Entry> {
    let e = TABLE[table_index(t)];
    ((e.key >> 16) as u16 == t.0 && e.slot != NO_SLOT).then_some(e)
}

fn slot(t: AttrType) -> Option<usize> {
    entry(t).map(|e| usize::from(e.slot))
}

/// The slot of a known type, at compile time.
const fn slot_of(t: AttrType) -> usize {
    let mut i = 0;
    while i < SLOTS.len() {
        if SLOTS[i].0 == t.0 {
            return i;
        }
        i += 1;
    }
    panic!("not a slot type")
}

/// A validated STUN message borrowing the datagram it was parsed from.
///
/// Parsing checks everything once; afterwards every accessor is infallible
/// and returns `None` only when the attribute is absent.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// USERNAME, validated once: ICE reads it on every connectivity check.
    username: Option<&'a str>,
    typ: MessageType,
    tid: TransactionId,
    /// Offset of the value of the first visible occurrence of each known
    /// attribute, minus `HEADER_LEN`; `ABSENT` means absent. A fixed-size
    /// attribute's value is exactly its fixed size (parse checked it).
    slots: [u16; SLOT_COUNT],
    unknown: [u16; MAX_UNKNOWN_REPORTED],
    unknown_count: u16,
}

impl<'a> Message<'a> {
    /// Parses and validates one whole message: `bytes` must be exactly the
    /// message (a UDP datagram's payload).
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let head: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::invalid("shorter than a STUN header"))?;
        let raw_type = u16::from_be_bytes([head[0], head[1]]);
        // Binding requests and success responses (every ICE check and its
        // answer) need no bit shuffling.
        const REQUEST: MessageType = MessageType::new(Method::BINDING, Class::Request);
        const SUCCESS: MessageType = MessageType::new(Method::BINDING, Class::SuccessResponse);
        const REQUEST_U16: u16 = REQUEST.to_u16();
        const SUCCESS_U16: u16 = SUCCESS.to_u16();
        let typ = match raw_type {
            REQUEST_U16 => REQUEST,
            SUCCESS_U16 => SUCCESS,
            _ => MessageType::from_u16(raw_type).ok_or(Error::invalid(
                "top two bits of the message type are not zero",
            ))?,
        };
        if head[4..8] != MAGIC_COOKIE.to_be_bytes() {
            return Err(Error::invalid("wrong magic cookie"));
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if len % 4 != 0 {
            return Err(Error::invalid("message length is not a multiple of 4"));
        }
        let end = bytes.len();
        if len != end - HEADER_LEN {
            return Err(Error::invalid("message length does not match the datagram"));
        }
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&head[8..20]);
        let mut msg = Message {
            bytes,
            username: None,
            typ,
            tid: TransactionId(tid),
            slots: [ABSENT; SLOT_COUNT],
            unknown: [0; MAX_UNKNOWN_REPORTED],
            unknown_count: 0,
        };
        msg.walk()?;
        Ok(msg)
    }

    /// `parse`'s attribute walk, writing straight into the message the
    /// caller holds: returned by value instead, the finished message was
    /// copied out in 16-byte loads that overlapped the walk's recent
    /// 2-byte slot stores, and each such load waited for those stores to
    /// reach the cache (no store-to-load forwarding): the copy's first
    /// load alone had a fifth of `parse`'s profile samples.
    #[inline(never)]
    fn walk(&mut self) -> Result<(), Error> {
        let bytes = self.bytes;
        let end = bytes.len();
        // The same framing and ordering rules as `Walk`, unrolled for
        // speed, in two loops. `after` is 0 in `Walk`'s phase 0, else
        // `AFTER_INTEGRITY` plus the phase.
        // Phase 0 (before any integrity attribute), where every ICE check
        // spends its attributes but the last one or two.
        let mut pos = HEADER_LEN;
        let mut after = 0u32;
        // Slots this loop filled: in phase 0 only this loop writes the
        // fixed-size and USERNAME slots, so a register answers "first
        // occurrence?" without loading the slot (a load that waited on
        // the slot array's initialising stores).
        let mut seen = 0u32;
        const _: () = assert!(SLOT_COUNT <= 32);
        while let Some(h) = bytes
            .get(pos..pos + 4)
            .and_then(|h| <[u8; 4]>::try_from(h).ok())
        {
            let header = u32::from_be_bytes(h);
            // `pos` is a multiple of 4, so this is `pos + 4 + pad4(length)`.
            let next = (pos + 7 + (header & 0xFFFF) as usize) & !3;
            let e = FAST[usize::from(h[1])];
            if header == e.key {
                // A known fixed-size attribute of the right size: valid if
                // it fits (the test `fixed_size_check_agrees_with_decode`
                // holds this shortcut to the full decode). If it does not
                // fit, `next > end` ends the loop and `framing_error` says
                // why.
                // pos + 4 >= 24 and <= 65552, so this fits in u16 and is
                // not `ABSENT`.
                let at = (pos + 4 - HEADER_LEN) as u16;
                pos = next;
                if e.slot < MI_SLOT {
                    let bit = 1u32 << e.slot;
                    if seen & bit == 0 {
                        seen |= bit;
                        self.slots[usize::from(e.slot)] = at;
                    }
                } else {
                    // MESSAGE-INTEGRITY (to phase 1) or FINGERPRINT (to
                    // phase 3), necessarily the first. (`NO_SLOT` only has
                    // a key that no attribute that fits matches.)
                    if e.slot == MI_SLOT {
                        self.slots[usize::from(MI_SLOT)] = at;
                        after = AFTER_INTEGRITY | 1;
                    } else if e.slot == FP_SLOT && next == end {
                        self.slots[usize::from(FP_SLOT)] = at;
                        after = AFTER_INTEGRITY | 3;
                    } else {
                        return Err(framing_error(bytes));
                    }
                    break;
                }
            } else if header >> 16 == u32::from(AttrType::USERNAME.0) {
                // The one variable-size attribute of every ICE check. If
                // only its padding does not fit, `next > end` ends the loop.
                let start = pos + 4;
                let Some(value) = bytes.get(start..start + (header & 0xFFFF) as usize) else {
                    return Err(framing_error(bytes));
                };
                let u = match crate::attr::username(value) {
                    Ok(u) => u,
                    // Framing errors come first, as in `Walk`.
                    Err(e) if next <= end => return Err(e),
                    Err(_) => return Err(framing_error(bytes)),
                };
                const BIT: u32 = 1 << slot_of(AttrType::USERNAME);
                if seen & BIT == 0 {
                    seen |= BIT;
                    self.slots[const { slot_of(AttrType::USERNAME) }] = (start - HEADER_LEN) as u16;
                    self.username = Some(u);
                }
                pos = next;
            } else {
                after = self.other_attribute(pos, header, 0)?;
                pos = next;
                if after != 0 {
                    break;
                }
            }
        }
        // After an integrity attribute: typically only FINGERPRINT, last.
        // It is visible in every phase and cannot have been seen before (it
        // would not have been last).
        if end.checked_sub(pos) == Some(8)
            && bytes.get(pos..pos + 4) == Some(&FINGERPRINT_HEADER.to_be_bytes()[..])
        {
            self.slots[usize::from(FP_SLOT)] = (pos + 4 - HEADER_LEN) as u16;
            return Ok(());
        }
        while let Some(h) = bytes
            .get(pos..pos + 4)
            .and_then(|h| <[u8; 4]>::try_from(h).ok())
        {
            let header = u32::from_be_bytes(h);
            let next = (pos + 7 + (header & 0xFFFF) as usize) & !3;
            if header == FINGERPRINT_HEADER && next == end {
                // FINGERPRINT, last: visible in every phase. It cannot
                // have been seen before (it would not have been last).
                self.slots[const { slot_of(AttrType::FINGERPRINT) }] =
                    (pos + 4 - HEADER_LEN) as u16;
                after = AFTER_INTEGRITY | 3;
            } else {
                after = self.other_attribute(pos, header, after)?;
            }
            pos = next;
        }
        if pos != end {
            return Err(framing_error(bytes));
        }
        Ok(())
    }

    /// `parse`'s slow path: every attribute except a known fixed-size one
    /// of the right size before the integrity attributes. `pos` is where its
    /// header starts, `header` its type and length; returns the new `after`.
    #[inline(never)]
    fn other_attribute(&mut self, pos: usize, header: u32, mut after: u32) -> Result<u32, Error> {
        let bytes = self.bytes;
        let end = bytes.len();
        let t = AttrType((header >> 16) as u16);
        let vlen = (header & 0xFFFF) as usize;
        let start = pos + 4;
        let next = start + pad4(vlen);
        let Some(value) = bytes.get(start..start + vlen) else {
            return Err(Error::invalid("attribute runs past the end of the message"));
        };
        if next > end {
            return Err(Error::invalid(
                "attribute padding runs past the end of the message",
            ));
        }
        // start >= 24 and <= 65552, so this fits in u16 and is not `ABSENT`.
        let at = (start - HEADER_LEN) as u16;
        if t == AttrType::USERNAME && after == 0 {
            // The one variable-size attribute of every ICE check.
            let u = crate::attr::username(value)?;
            let s = &mut self.slots[const { slot_of(AttrType::USERNAME) }];
            if *s == ABSENT {
                *s = at;
                self.username = Some(u);
            }
            return Ok(after);
        }
        let e = TABLE[table_index(t)];
        let known = (e.key >> 16) as u16 == t.0 && e.slot != NO_SLOT;
        if after != 0 || (known && e.ordered != 0) {
            let mut phase = (after & 0xFF) as u8;
            let visible = ordering_rule(&mut phase, t);
            if phase == 3 && next != end {
                return Err(Error::invalid("attribute after FINGERPRINT"));
            }
            if phase != 0 {
                after = AFTER_INTEGRITY | u32::from(phase);
            }
            if !visible {
                return Ok(after);
            }
        }
        if !known {
            if t.is_comprehension_required() {
                if let Some(u) = self.unknown.get_mut(usize::from(self.unknown_count)) {
                    *u = t.0;
                }
                self.unknown_count = self.unknown_count.saturating_add(1);
            }
            return Ok(after);
        }
        // Validate the value now so accessors cannot fail later.
        if t == AttrType::USERNAME {
            let u = crate::attr::username(value)?;
            self.username = self.username.or(Some(u));
        } else if fixed_len_of(t) != Some(vlen) {
            Attribute::decode(t, value, &self.tid)?;
        }
        if let Some(s) = self.slots.get_mut(usize::from(e.slot)) {
            if *s == ABSENT {
                *s = at;
            }
        }
        Ok(after)
    }

    /// The whole message as received.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Method and class.
    #[inline]
    pub fn message_type(&self) -> MessageType {
        self.typ
    }
    /// The transaction id.
    #[inline]
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

    /// The header offset and value of the first visible occurrence of the
    /// attribute in slot `i`.
    #[inline]
    fn raw_at(&self, i: usize) -> Option<(usize, &'a [u8])> {
        let s = *self.slots.get(i)?;
        if s == ABSENT {
            return None;
        }
        let start = usize::from(s) + HEADER_LEN;
        let len = usize::from(u16::from_be_bytes([
            *self.bytes.get(start - 2)?,
            *self.bytes.get(start - 1)?,
        ]));
        Some((start - 4, self.bytes.get(start..start + len)?))
    }

    fn raw(&self, t: AttrType) -> Option<(usize, &'a [u8])> {
        self.raw_at(slot(t)?)
    }

    /// The value of the fixed-size attribute in slot `i` (whose length
    /// parse checked).
    #[inline(always)]
    fn fixed<const N: usize>(&self, i: usize) -> Option<&'a [u8; N]> {
        // `ABSENT` points past the end of any message, so the bounds check
        // answers absence too.
        let start = usize::from(*self.slots.get(i)?) + HEADER_LEN;
        self.bytes.get(start..start + N)?.try_into().ok()
    }

    /// Whether the attribute in slot `i` is present and visible.
    #[inline(always)]
    fn present(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(|s| *s != ABSENT)
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
                    crate::attr::utf8(self.raw(AttrType::$attr)?.1)
                }
            )*
        }
    };
}

impl<'a> Message<'a> {
    /// USERNAME (§14.3).
    #[inline]
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
    ($($(#[$doc:meta])* $fn:ident -> $ty:ty = $attr:ident[$n:literal], $conv:expr;)*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $fn(&self) -> Option<$ty> {
                    const SLOT: usize = slot_of(AttrType::$attr);
                    const _: () = assert!(matches!(fixed_len_of(AttrType::$attr), Some($n)));
                    self.fixed::<$n>(SLOT).map($conv)
                }
            )*
        }
    };
}

fixed_accessors! {
    /// The MESSAGE-INTEGRITY value (§14.5); see [`Message::verify_integrity`].
    message_integrity -> &'a [u8; 20] = MESSAGE_INTEGRITY[20], |v: &'a [u8; 20]| v;
    /// The FINGERPRINT value (§14.7); see [`Message::verify_fingerprint`].
    fingerprint -> u32 = FINGERPRINT[4], |v: &[u8; 4]| u32::from_be_bytes(*v);
    /// USERHASH (§14.4).
    userhash -> &'a [u8; 32] = USERHASH[32], |v: &'a [u8; 32]| v;
    /// PRIORITY (RFC 8445 §7.1.1).
    priority -> u32 = PRIORITY[4], |v: &[u8; 4]| u32::from_be_bytes(*v);
    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).
    ice_controlled -> u64 = ICE_CONTROLLED[8], |v: &[u8; 8]| u64::from_be_bytes(*v);
    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).
    ice_controlling -> u64 = ICE_CONTROLLING[8], |v: &[u8; 8]| u64::from_be_bytes(*v);
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    channel_number -> u16 = CHANNEL_NUMBER[4], |v: &[u8; 4]| u16::from_be_bytes([v[0], v[1]]);
    /// LIFETIME in seconds (RFC 8656 §18.2).
    lifetime -> u32 = LIFETIME[4], |v: &[u8; 4]| u32::from_be_bytes(*v);
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    reservation_token -> &'a [u8; 8] = RESERVATION_TOKEN[8], |v: &'a [u8; 8]| v;
}

impl Message<'_> {
    /// USE-CANDIDATE present (RFC 8445 §7.1.2).
    #[inline]
    pub fn use_candidate(&self) -> bool {
        self.present(const { slot_of(AttrType::USE_CANDIDATE) })
    }
    /// DONT-FRAGMENT present (RFC 8656 §18.9).
    #[inline]
    pub fn dont_fragment(&self) -> bool {
        self.present(const { slot_of(AttrType::DONT_FRAGMENT) })
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

/// Checks `Message::parse` against a plain reference built on `Walk` and
/// `Attribute::decode`: the same messages are accepted, and every accessor
/// answers as the first visible occurrence of its attribute decodes. The fuzz
/// target and the tests run this.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn check_against_reference(bytes: &[u8]) {
    let parsed = Message::parse(bytes);
    let mut first: Vec<Option<Attribute<'_>>> = vec![None; SLOTS.len()];
    let mut unknown = Vec::new();
    // The first error in wire order, framing before value for each
    // attribute: the one `parse` reports.
    let mut reference_err = None;
    let reference_ok = looks_like_stun(bytes) && {
        let tid = TransactionId(bytes[8..20].try_into().expect("12 bytes"));
        let mut walk = Walk::new(bytes);
        let mut each = |raw, pos| {
            let raw: RawAttr<'_> = match raw {
                Ok(raw) => raw,
                Err(e) => {
                    reference_err = Some(e);
                    return false;
                }
            };
            if raw.typ == AttrType::FINGERPRINT && pos != bytes.len() {
                // Ordering before the value, as `Walk` reports on its next
                // step.
                reference_err = Some(Error::invalid("attribute after FINGERPRINT"));
                return false;
            }
            if !raw.visible {
                return true;
            }
            match slot(raw.typ) {
                Some(i) => match Attribute::decode(raw.typ, raw.value, &tid) {
                    Ok(a) => {
                        first[i] = first[i].take().or(Some(a));
                        true
                    }
                    Err(e) => {
                        reference_err = Some(e);
                        false
                    }
                },
                None => {
                    if raw.typ.is_comprehension_required() {
                        unknown.push(raw.typ.0);
                    }
                    true
                }
            }
        };
        loop {
            let Some(raw) = walk.next() else { break true };
            if !each(raw, walk.pos) {
                break false;
            }
        }
    };
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => {
            assert!(!reference_ok, "parse rejects what the reference accepts");
            if let Some(r) = reference_err {
                assert_eq!(e, r, "{bytes:02x?}");
            }
            return;
        }
    };
    assert!(reference_ok, "parse accepts what the reference rejects");
    let n = unknown.len().min(MAX_UNKNOWN_REPORTED);
    assert_eq!(msg.unknown_comprehension_required(), &unknown[..n]);
    for (i, t) in SLOTS.iter().enumerate() {
        let want = format!("{:?}", first[i]);
        assert_eq!(format!("{:?}", msg.get(*t)), want, "{t:?} {bytes:02x?}");
        assert_eq!(msg.has(*t), first[i].is_some(), "{t:?}");
    }
    let f = |t: AttrType| first[slot(t).expect("slot")];
    assert_eq!(
        msg.username(),
        f(AttrType::USERNAME).map(|a| match a {
            Attribute::Username(u) => u,
            _ => unreachable!(),
        })
    );
    macro_rules! same {
        ($($acc:ident = $attr:ident => $v:ident;)*) => {$(
            assert_eq!(
                msg.$acc(),
                f(AttrType::$attr).map(|a| match a {
                    Attribute::$v(x) => x,
                    _ => unreachable!(),
                }),
                stringify!($acc)
            );
        )*};
    }
    same! {
        priority = PRIORITY => Priority;
        ice_controlling = ICE_CONTROLLING => IceControlling;
        ice_controlled = ICE_CONTROLLED => IceControlled;
        fingerprint = FINGERPRINT => Fingerprint;
        lifetime = LIFETIME => Lifetime;
        channel_number = CHANNEL_NUMBER => ChannelNumber;
        realm = REALM => Realm;
        nonce = NONCE => Nonce;
        software = SOFTWARE => Software;
    }
    assert_eq!(
        msg.message_integrity().map(|v| &v[..]),
        f(AttrType::MESSAGE_INTEGRITY).map(|a| match a {
            Attribute::MessageIntegrity(x) => &x[..],
            _ => unreachable!(),
        })
    );
    assert_eq!(msg.use_candidate(), f(AttrType::USE_CANDIDATE).is_some());
    assert_eq!(msg.dont_fragment(), f(AttrType::DONT_FRAGMENT).is_some());
    assert_eq!(msg.userhash().is_some(), f(AttrType::USERHASH).is_some());
    assert_eq!(
        msg.reservation_token().is_some(),
        f(AttrType::RESERVATION_TOKEN).is_some()
    );
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

    /// A message from `(type, value)` pairs with a right header.
    fn message(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = vec![0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42];
        v.extend_from_slice(b"abcdefghijkl");
        for (t, val) in attrs {
            v.extend_from_slice(&t.to_be_bytes());
            v.extend_from_slice(&(val.len() as u16).to_be_bytes());
            v.extend_from_slice(val);
            v.resize(pad4(v.len()), b' ');
        }
        let len = (v.len() - HEADER_LEN) as u16;
        v[2..4].copy_from_slice(&len.to_be_bytes());
        v
    }

    #[test]
    fn parse_agrees_with_the_reference_walk() {
        let mi = [7u8; 20];
        let seeds = [
            message(&[
                (0x0006, b"f7Sx:Hb3c"),
                (0x0024, &[1, 2, 3, 4]),
                (0x802A, &[1, 2, 3, 4, 5, 6, 7, 8]),
                (0x0025, &[]),
                (0x0008, &mi),
                (0x8028, &[9, 9, 9, 9]),
            ]),
            // Duplicates, unknowns of both kinds, attributes after
            // MESSAGE-INTEGRITY and -SHA256, a bad value after MI.
            message(&[
                (0x0024, &[1, 2, 3, 4]),
                (0x0024, &[5, 6, 7, 8]),
                (0x0006, b"a"),
                (0x0006, b"b"),
                (0x7F01, b"x"),
                (0x0042, b""),
                (0xC001, b"yy"),
                (0x0020, &[0, 1, 0x12, 0x34, 1, 2, 3, 4]),
                (0x0008, &mi),
                (0x0024, &[1, 2, 3]),
                (0x001C, &[3; 32]),
                (0x0008, &mi),
                (0x0006, b"late"),
                (0x8028, &[1, 2, 3, 4]),
            ]),
            message(&[
                (0x0009, &[0, 0, 4, 20, b'n', b'o']),
                (0x0014, b"realm"),
                (0x0015, b"nonce"),
                (0x8022, b"sw"),
                (0x000C, &[0x40, 0, 0, 0]),
                (0x000D, &[0, 0, 2, 88]),
                (0x0018, &[0x80]),
                (0x001A, &[]),
                (0x0019, &[17, 0, 0, 0]),
                (0x0022, &[1; 8]),
                (0x801E, &[2; 32]),
                (0x8029, &[1; 8]),
                (0x001C, &[3; 16]),
                (0x8028, &[1, 2, 3, 4]),
            ]),
        ];
        for seed in &seeds {
            check_against_reference(seed);
            for i in 0..seed.len() {
                for x in [0x00, 0x01, 0x04, 0x08, 0x14, 0x20, 0x24, 0x28, 0x80, 0xFF] {
                    let mut m = seed.clone();
                    m[i] = x;
                    check_against_reference(&m);
                    m[i] ^= seed[i];
                    check_against_reference(&m);
                }
            }
            for n in 0..seed.len() {
                let mut m = seed[..n].to_vec();
                if n >= HEADER_LEN {
                    let len = (n - HEADER_LEN) as u16;
                    m[2..4].copy_from_slice(&len.to_be_bytes());
                }
                check_against_reference(&m);
            }
        }
    }

    #[test]
    fn headers_that_match_no_fast_entry_fall_through() {
        // An all-ones header equals the key of the fast table's empty
        // entries; its length cannot fit, before or after the integrity
        // attributes.
        for before in [&[][..], &[(0x0008u16, &[7u8; 20][..])][..]] {
            let mut m = message(before);
            m.extend_from_slice(&[0xFF; 8]);
            let len = (m.len() - HEADER_LEN) as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            check_against_reference(&m);
            assert_eq!(
                Message::parse(&m).unwrap_err().reason(),
                "attribute runs past the end of the message"
            );
        }
    }

    #[test]
    fn message_type_shortcuts_agree_with_the_decode() {
        for raw in 0..=0x3FFFu16 {
            let mut m = message(&[]);
            m[..2].copy_from_slice(&raw.to_be_bytes());
            let want = MessageType::from_u16(raw).expect("top bits clear");
            assert_eq!(Message::parse(&m).unwrap().message_type(), want);
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
