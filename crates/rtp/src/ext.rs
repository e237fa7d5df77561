//! RTP header extensions: the generic block of RFC 3550 §5.3.1 and the
//! one-byte and two-byte element forms of RFC 8285 §4.2 and §4.3.
//!
//! - [`ExtensionIter`] walks the elements of a block (already validated by
//!   [`crate::RtpPacket::new_checked`], or by [`validate`]).
//! - [`ExtensionWriter`] writes a block into a caller buffer.
//! - Typed values for the extensions an SFU reads or rewrites, each with the
//!   URI that names it in SDP `a=extmap` (RFC 8285 §5): [`Mid`] (RFC 8843 BUNDLE, carried
//!   as an RFC 7941 SDES item), [`Rid`] and [`RepairedRid`] (RFC 8852 §3), [`AbsSendTime`]
//!   (webrtc.org abs-send-time), [`TransportSeq`]
//!   (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), [`AudioLevel`]
//!   (RFC 6464 §3) and [`VideoOrientation`] (3GPP TS 26.114 §7.4.5).
//!
//! Parsing rules (RFC 8285 §4.2/§4.3): a zero byte between elements is
//! padding; in the one-byte form the id 15 stops processing of the block;
//! a one-byte element with id 0 and a non-zero length is neither padding nor
//! a valid element and makes the block invalid; every element must lie
//! inside the block.

use crate::error::{bad, misuse, need, Error};
use crate::types::NtpTime;
use crate::wire::{put_u16, put_u8, slice};

/// The "defined by profile" value of a one-byte-form block (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// The "defined by profile" value of a two-byte-form block with appbits 0
/// (RFC 8285 §4.3: 0x100 followed by 4 appbits).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// The form of an extension block, from its "defined by profile" field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// 0xBEDE: one-byte headers, ids 1–14, values of 1–16 bytes.
    OneByte,
    /// 0x100X: two-byte headers, ids 1–255, values of 0–255 bytes; the low 4
    /// bits are the application bits.
    TwoByte {
        /// The 4 "appbits" (RFC 8285 §4.3), 0–15.
        appbits: u8,
    },
    /// Any other profile value: an opaque RFC 3550 §5.3.1 extension.
    Other(u16),
}

impl ExtensionForm {
    /// The form named by a profile field value.
    pub const fn from_profile(profile: u16) -> ExtensionForm {
        if profile == ONE_BYTE_PROFILE {
            ExtensionForm::OneByte
        } else if profile & 0xfff0 == TWO_BYTE_PROFILE {
            ExtensionForm::TwoByte {
                appbits: (profile & 0xf) as u8,
            }
        } else {
            ExtensionForm::Other(profile)
        }
    }

    /// The profile field value for this form.
    pub const fn profile(self) -> u16 {
        match self {
            ExtensionForm::OneByte => ONE_BYTE_PROFILE,
            ExtensionForm::TwoByte { appbits } => TWO_BYTE_PROFILE | (appbits as u16 & 0xf),
            ExtensionForm::Other(p) => p,
        }
    }

    /// Whether an element with this id and value length can be written in
    /// this form.
    pub const fn fits(self, id: u8, len: usize) -> bool {
        match self {
            ExtensionForm::OneByte => id >= 1 && id <= 14 && len >= 1 && len <= 16,
            ExtensionForm::TwoByte { .. } => id >= 1 && len <= 255,
            ExtensionForm::Other(_) => false,
        }
    }

    /// The smallest form that can carry every `(id, value length)` given:
    /// one-byte if possible, else two-byte (RFC 8285 §4.1 mixing rules).
    pub fn for_elements(elems: impl IntoIterator<Item = (u8, usize)>) -> ExtensionForm {
        for (id, len) in elems {
            if !ExtensionForm::OneByte.fits(id, len) {
                return ExtensionForm::TwoByte { appbits: 0 };
            }
        }
        ExtensionForm::OneByte
    }
}

/// One extension element: its local id and value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Extension<'a> {
    /// The local identifier (RFC 8285 §5 `a=extmap` id).
    pub id: u8,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Where one element sits inside a block: id, offset of the id byte, offset
/// and length of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ElemPos {
    pub id: u8,
    pub head: usize,
    pub start: usize,
    pub len: usize,
}

/// Steps to the next element at or after `*pos` in `data` (the block body,
/// without its 4-byte header). `Ok(None)` at the end of the block (or at a
/// one-byte id 15); `Err` for a malformed element.
#[inline(always)]
pub(crate) fn next_elem(
    form: ExtensionForm,
    data: &[u8],
    pos: &mut usize,
) -> Result<Option<ElemPos>, Error> {
    loop {
        let head = *pos;
        let Some(&b) = data.get(head) else {
            return Ok(None);
        };
        if b == 0 {
            // Padding byte (RFC 8285 §4.1).
            *pos = head + 1;
            continue;
        }
        let (id, start, len) = match form {
            ExtensionForm::OneByte => {
                let id = b >> 4;
                if id == 15 {
                    // RFC 8285 §4.2: stop processing the block here.
                    *pos = data.len();
                    return Ok(None);
                }
                if id == 0 {
                    return Err(bad("RTP extension: one-byte id 0 with non-zero length"));
                }
                (id, head + 1, usize::from(b & 0x0f) + 1)
            }
            ExtensionForm::TwoByte { .. } => {
                let Some(&l) = data.get(head + 1) else {
                    return Err(bad("RTP extension: two-byte element header truncated"));
                };
                (b, head + 2, usize::from(l))
            }
            ExtensionForm::Other(_) => return Ok(None),
        };
        let end = start + len;
        if end > data.len() {
            return Err(bad("RTP extension: element overruns the extension block"));
        }
        *pos = end;
        return Ok(Some(ElemPos {
            id,
            head,
            start,
            len,
        }));
    }
}

/// Validates a block body given its profile value. One pass; accepts
/// exactly what [`next_elem`] accepts (the fuzz target `rtp_header_ext` and
/// `validate_agrees_with_the_iterator` compare them).
#[inline(always)]
pub(crate) fn validate_profile(profile: u16, data: &[u8]) -> Result<(), Error> {
    let mut i = 0;
    // The profile value tested directly (no `ExtensionForm` in between):
    // the same three cases as `ExtensionForm::from_profile`.
    if profile == ONE_BYTE_PROFILE {
        while let Some(&b) = data.get(i) {
            if b == 0 {
                i += 1;
                continue;
            }
            if b >= 0xf0 {
                // Id 15: stop processing the block (RFC 8285 §4.2).
                break;
            }
            if b < 0x10 {
                return Err(bad("RTP extension: one-byte id 0 with non-zero length"));
            }
            let len = (b & 0x0f) + 1;
            i += 1 + usize::from(len);
        }
    } else if profile & 0xfff0 == TWO_BYTE_PROFILE {
        while let Some(&b) = data.get(i) {
            if b == 0 {
                i += 1;
                continue;
            }
            let Some(&len) = data.get(i + 1) else {
                return Err(bad("RTP extension: two-byte element header truncated"));
            };
            i += 2 + usize::from(len);
        }
    } else {
        return Ok(());
    }
    if i > data.len() {
        return Err(bad("RTP extension: element overruns the extension block"));
    }
    Ok(())
}

/// Longer than any extension block body (at most 0xffff words): the step
/// that makes the fast walk overshoot the block and give up.
const GIVE_UP: u32 = 1 << 20;

/// Bytes from one one-byte-form element header (or padding byte) to the
/// next: 1 for padding (0x00), `len + 2` for ids 1–14, and [`GIVE_UP`] for
/// the bytes that need a closer look (id 0 with a non-zero length, id 15).
static ONE_BYTE_STEP: [u32; 256] = {
    let mut t = [GIVE_UP; 256];
    t[0] = 1;
    let mut b = 0x10;
    while b < 0xf0 {
        t[b] = (b & 0x0f) as u32 + 2;
        b += 1;
    }
    t
};

/// True if `data`, a one-byte-form block body (at most 0xffff words), is
/// valid with no id-0 or id-15 element (the common case); false means "ask
/// [`validate_profile`]", not "invalid".
#[inline(always)]
pub(crate) fn one_byte_fast_ok(data: &[u8]) -> bool {
    // Trailing zero bytes of the last word are padding unless an element's
    // value reaches into them; walk only up to them, and leave an element
    // that reaches past that point to the full check.
    let data = match data.split_last_chunk::<4>() {
        Some((head, w)) => {
            let pad = (u32::from_be_bytes(*w).trailing_zeros() / 8) as usize;
            slice(data, 0, head.len() + 4 - pad)
        }
        None => data,
    };
    // No test for the rare bytes inside the loop: their step jumps past
    // the end of any block, so the walk stops and does not land on the end.
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        i += ONE_BYTE_STEP[usize::from(b)] as usize;
    }
    i == data.len()
}

/// Checks every element of a block body. Opaque (`Other`) blocks are always
/// valid.
#[inline]
pub fn validate(form: ExtensionForm, data: &[u8]) -> Result<(), Error> {
    validate_profile(form.profile(), data)
}

/// The reference walk, for checking [`validate`] against.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn validate_by_walking(form: ExtensionForm, data: &[u8]) -> Result<(), Error> {
    let mut pos = 0;
    while next_elem(form, data, &mut pos)?.is_some() {}
    Ok(())
}

/// True if a one-byte block stops early at an id-15 element (RFC 8285
/// §4.2), leaving bytes after it unread.
#[cfg(feature = "fuzzing")]
pub(crate) fn stops_early(form: ExtensionForm, data: &[u8]) -> bool {
    matches!(form, ExtensionForm::OneByte) && {
        let mut p = 0;
        let mut stopped = false;
        loop {
            match data.get(p) {
                None => break,
                Some(0) => p += 1,
                Some(&b) if b >> 4 == 15 => {
                    stopped = true;
                    break;
                }
                Some(&b) => p += 2 + usize::from(b & 0x0f),
            }
        }
        stopped
    }
}

/// Finds the first element with `id`.
#[inline]
pub(crate) fn find(form: ExtensionForm, data: &[u8], id: u8) -> Option<ElemPos> {
    let mut pos = 0;
    while let Ok(Some(e)) = next_elem(form, data, &mut pos) {
        if e.id == id {
            return Some(e);
        }
    }
    None
}

/// Iterator over the elements of an extension block body. Yields nothing for
/// an opaque (`Other`) block; stops at the first malformed element (which a
/// checked packet never has).
#[derive(Debug, Clone)]
pub struct ExtensionIter<'a> {
    form: ExtensionForm,
    data: &'a [u8],
    /// `data` less the trailing zero bytes of its last word: from there on
    /// every byte is padding, so no element header starts there (a value
    /// may still reach into them: values are read from `data`).
    walk: &'a [u8],
    pos: usize,
}

impl<'a> ExtensionIter<'a> {
    /// Iterates over `data`, a block body in form `form`. Call [`validate`]
    /// first if the block has not been checked.
    #[inline]
    pub fn new(form: ExtensionForm, data: &'a [u8]) -> Self {
        let walk = match data.split_last_chunk::<4>() {
            Some((head, w)) => slice(
                data,
                0,
                head.len() + 4 - (u32::from_be_bytes(*w).trailing_zeros() / 8) as usize,
            ),
            None => data,
        };
        ExtensionIter {
            form,
            data,
            walk,
            pos: 0,
        }
    }

    /// An iterator that yields nothing.
    pub(crate) fn empty() -> Self {
        ExtensionIter {
            form: ExtensionForm::Other(0),
            data: &[],
            walk: &[],
            pos: 0,
        }
    }
}

impl<'a> Iterator for ExtensionIter<'a> {
    type Item = Extension<'a>;
    #[inline]
    fn next(&mut self) -> Option<Extension<'a>> {
        if let ExtensionForm::OneByte = self.form {
            let mut pos = self.pos;
            while let Some(&b) = self.walk.get(pos) {
                if b == 0 {
                    // Padding byte (RFC 8285 §4.1).
                    pos += 1;
                    continue;
                }
                if b.wrapping_sub(0x10) >= 0xe0 {
                    // Id 15 (stop processing) or id 0 with a length.
                    break;
                }
                // `..=`: the compiler then knows the value is not empty.
                let Some(value) = self
                    .data
                    .get(pos + 1..)
                    .and_then(|r| r.get(..=usize::from(b & 0x0f)))
                else {
                    break;
                };
                self.pos = pos + 2 + usize::from(b & 0x0f);
                return Some(Extension { id: b >> 4, value });
            }
            // The end, or only padding is left, or a malformed element.
            self.pos = self.data.len();
            return None;
        }
        if self.pos >= self.walk.len() {
            // Only padding is left (or nothing).
            self.pos = self.data.len();
            return None;
        }
        match next_elem(self.form, self.data, &mut self.pos) {
            Ok(Some(e)) => Some(Extension {
                id: e.id,
                value: slice(self.data, e.start, e.start + e.len),
            }),
            _ => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Rewrites element ids in place: `map(id)` gives the new id, or `None` to
/// turn the element into padding (zero bytes), which removes it without
/// moving anything. All new ids are checked before any byte is written, so
/// on error the block is unchanged.
pub(crate) fn remap_ids(
    form: ExtensionForm,
    data: &mut [u8],
    mut map: impl FnMut(u8) -> Option<u8>,
) -> Result<(), Error> {
    let mut pos = 0;
    while let Some(e) = next_elem(form, data, &mut pos)? {
        if let Some(new) = map(e.id) {
            if !form.fits(new, e.len.clamp(1, 16)) {
                return Err(misuse(
                    "RTP extension: new id out of range for the block's form",
                ));
            }
        }
    }
    let mut pos = 0;
    while let Some(e) = next_elem(form, data, &mut pos)? {
        match map(e.id) {
            Some(new) => match form {
                ExtensionForm::OneByte => {
                    let len_bits = (e.len - 1) as u8 & 0x0f;
                    put_u8(data, e.head, (new << 4) | len_bits);
                }
                _ => put_u8(data, e.head, new),
            },
            None => crate::wire::zero(data, e.head, e.start + e.len),
        }
    }
    Ok(())
}

/// Writes an extension block (4-byte header, elements, zero padding to a
/// 32-bit boundary) into a caller buffer.
///
/// ```
/// use tern_rtp::ext::{ExtensionForm, ExtensionWriter};
/// let mut buf = [0u8; 16];
/// let mut w = ExtensionWriter::new(&mut buf, ExtensionForm::OneByte).unwrap();
/// w.push(3, &[0x01, 0x02]).unwrap();
/// let n = w.finish();
/// assert_eq!(&buf[..n], &[0xBE, 0xDE, 0x00, 0x01, 0x31, 0x01, 0x02, 0x00]);
/// ```
#[derive(Debug)]
pub struct ExtensionWriter<'b> {
    buf: &'b mut [u8],
    form: ExtensionForm,
    pos: usize,
}

impl<'b> ExtensionWriter<'b> {
    /// Starts a block in `buf`. `Other` forms are rejected: write an opaque
    /// block with [`crate::RtpBuilder::raw_extension`] instead.
    pub fn new(buf: &'b mut [u8], form: ExtensionForm) -> Result<Self, Error> {
        if matches!(form, ExtensionForm::Other(_)) {
            return Err(misuse(
                "RTP extension: writer needs the one- or two-byte form",
            ));
        }
        need(buf, 4)?;
        put_u16(buf, 0, form.profile());
        put_u16(buf, 2, 0);
        Ok(ExtensionWriter { buf, form, pos: 4 })
    }

    /// Appends one element.
    pub fn push(&mut self, id: u8, value: &[u8]) -> Result<(), Error> {
        if !self.form.fits(id, value.len()) {
            return Err(misuse("RTP extension: id or length does not fit the form"));
        }
        let head = if matches!(self.form, ExtensionForm::OneByte) {
            1
        } else {
            2
        };
        let end = self.pos + head + value.len();
        // Room for the element and the padding that may follow it.
        need(self.buf, end.next_multiple_of(4))?;
        match self.form {
            ExtensionForm::OneByte => {
                put_u8(self.buf, self.pos, (id << 4) | (value.len() as u8 - 1))
            }
            _ => {
                put_u8(self.buf, self.pos, id);
                put_u8(self.buf, self.pos + 1, value.len() as u8);
            }
        }
        crate::wire::put_slice(self.buf, self.pos + head, value);
        self.pos = end;
        Ok(())
    }

    /// Appends a typed value.
    pub fn push_value<'v, V: ExtensionValue<'v>>(&mut self, id: u8, v: &V) -> Result<(), Error> {
        let mut tmp = [0u8; 255];
        let n = v.write(&mut tmp)?;
        self.push(id, slice(&tmp, 0, n))
    }

    /// Bytes written so far (header included, padding not).
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True if no element has been pushed.
    pub fn is_empty(&self) -> bool {
        self.pos == 4
    }

    /// Pads to a 32-bit boundary, fills in the length field and returns the
    /// block's total length in bytes.
    pub fn finish(self) -> usize {
        let end = self.pos.next_multiple_of(4);
        crate::wire::zero(self.buf, self.pos, end);
        put_u16(self.buf, 2, ((end - 4) / 4) as u16);
        end
    }
}

/// A typed extension value: parse from and write to the element's bytes.
pub trait ExtensionValue<'a>: Sized {
    /// The URI that names the extension in SDP (RFC 8285 §5).
    const URI: &'static str;
    /// Parses the element value.
    fn parse(value: &'a [u8]) -> Result<Self, Error>;
    /// Writes the value into `out`, returning its length.
    fn write(&self, out: &mut [u8]) -> Result<usize, Error>;
}

/// abs-send-time: a 24-bit 6.18 fixed-point send time in seconds
/// (`http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AbsSendTime(pub u32);

impl AbsSendTime {
    /// Bits 14..38 of the 64-bit NTP time (6 bits of seconds, 18 of
    /// fraction).
    pub const fn from_ntp(t: NtpTime) -> AbsSendTime {
        AbsSendTime(((t.0 >> 14) & 0x00ff_ffff) as u32)
    }
}

impl ExtensionValue<'_> for AbsSendTime {
    const URI: &'static str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    fn parse(value: &[u8]) -> Result<Self, Error> {
        match value {
            &[a, b, c] => Ok(AbsSendTime(u32::from_be_bytes([0, a, b, c]))),
            _ => Err(bad("abs-send-time: value is not 3 bytes")),
        }
    }
    fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        need(out, 3)?;
        if self.0 > 0x00ff_ffff {
            return Err(misuse("abs-send-time: value above 24 bits"));
        }
        crate::wire::put_u24(out, 0, self.0);
        Ok(3)
    }
}

/// Transport-wide sequence number
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransportSeq(pub u16);

impl ExtensionValue<'_> for TransportSeq {
    const URI: &'static str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    fn parse(value: &[u8]) -> Result<Self, Error> {
        match value {
            &[a, b] => Ok(TransportSeq(u16::from_be_bytes([a, b]))),
            _ => Err(bad("transport-cc: value is not 2 bytes")),
        }
    }
    fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        need(out, 2)?;
        put_u16(out, 0, self.0);
        Ok(2)
    }
}

/// Client-to-mixer audio level (RFC 6464 §3): voice-activity flag and the
/// level in −dBov, 0 (loudest) to 127 (silence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AudioLevel {
    /// The V bit.
    pub voice: bool,
    /// Level in −dBov, 0..=127.
    pub level: u8,
}

impl ExtensionValue<'_> for AudioLevel {
    const URI: &'static str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    fn parse(value: &[u8]) -> Result<Self, Error> {
        match value {
            &[b] => Ok(AudioLevel {
                voice: b & 0x80 != 0,
                level: b & 0x7f,
            }),
            _ => Err(bad("audio level: value is not 1 byte")),
        }
    }
    fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        need(out, 1)?;
        if self.level > 127 {
            return Err(misuse("audio level: level above 127"));
        }
        put_u8(out, 0, (u8::from(self.voice) << 7) | self.level);
        Ok(1)
    }
}

/// Coordination of video orientation (3GPP TS 26.114 §7.4.5, "urn:3gpp:
/// video-orientation"): camera and flip bits and a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VideoOrientation {
    /// C: false = front-facing camera, true = back-facing.
    pub back_camera: bool,
    /// F: horizontal flip before rotation.
    pub flip: bool,
    /// Rotation in quarter turns (clockwise): 0 = 0°, 1 = 90°, 2 = 180°,
    /// 3 = 270°.
    pub rotation: u8,
}

impl VideoOrientation {
    /// The rotation in degrees.
    pub const fn degrees(&self) -> u16 {
        (self.rotation as u16 & 3) * 90
    }
}

impl ExtensionValue<'_> for VideoOrientation {
    const URI: &'static str = "urn:3gpp:video-orientation";
    fn parse(value: &[u8]) -> Result<Self, Error> {
        match value {
            &[b] => Ok(VideoOrientation {
                back_camera: b & 0x08 != 0,
                flip: b & 0x04 != 0,
                rotation: b & 0x03,
            }),
            _ => Err(bad("video orientation: value is not 1 byte")),
        }
    }
    fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        need(out, 1)?;
        if self.rotation > 3 {
            return Err(misuse("video orientation: rotation above 3"));
        }
        put_u8(
            out,
            0,
            (u8::from(self.back_camera) << 3) | (u8::from(self.flip) << 2) | self.rotation,
        );
        Ok(1)
    }
}

/// RFC 4566 `token` characters (the syntax of a MID, RFC 5888 §4).
fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`{|}~".contains(&c)
}

/// RFC 8851 §10 `rid-id` characters (alphanumerics, '-' and '_').
fn is_rid_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn ascii_str<'a>(value: &'a [u8], ok: fn(u8) -> bool, why: &'static str) -> Result<&'a str, Error> {
    if value.is_empty() || !value.iter().all(|&c| ok(c)) {
        return Err(bad(why));
    }
    core::str::from_utf8(value).map_err(|_| bad(why))
}

fn write_str(
    s: &str,
    ok: fn(u8) -> bool,
    out: &mut [u8],
    why: &'static str,
) -> Result<usize, Error> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 255 || !b.iter().all(|&c| ok(c)) {
        return Err(misuse(why));
    }
    need(out, b.len())?;
    crate::wire::put_slice(out, 0, b);
    Ok(b.len())
}

macro_rules! str_ext {
    ($(#[$doc:meta])* $name:ident, $uri:expr, $ok:expr, $why:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<'a>(pub &'a str);

        impl<'a> ExtensionValue<'a> for $name<'a> {
            const URI: &'static str = $uri;
            fn parse(value: &'a [u8]) -> Result<Self, Error> {
                ascii_str(value, $ok, $why).map($name)
            }
            fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
                write_str(self.0, $ok, out, $why)
            }
        }
    };
}

str_ext!(
    /// The media identification (RFC 8843 BUNDLE MID as an RFC 7941 SDES
    /// header extension, "sdes:mid"): a non-empty
    /// RFC 4566 token.
    Mid,
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    is_token_char,
    "mid: not a non-empty token"
);
str_ext!(
    /// The RtpStreamId (RFC 8852 §3.1, "sdes:rtp-stream-id"): non-empty,
    /// alphanumerics, '-' and '_' (RFC 8851 `rid-id`).
    Rid,
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    is_rid_char,
    "rid: not a non-empty rid-id"
);
str_ext!(
    /// The RepairedRtpStreamId (RFC 8852 §3.2,
    /// "sdes:repaired-rtp-stream-id"), same syntax as [`Rid`].
    RepairedRid,
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    is_rid_char,
    "repaired-rid: not a non-empty rid-id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterator_agrees_with_the_reference_walk() {
        // Random bodies (values reaching into trailing zeros, ids 0 and 15,
        // overruns) in both forms: `ExtensionIter` yields exactly what
        // `next_elem` yields, then nothing, also when asked again.
        let picks = [0x00, 0x01, 0x10, 0x11, 0x21, 0x40, 0xe1, 0xf0, 0x02];
        let mut rnd = tern_testkit::xorshift64(0x9e37_79b9_7f4a_7c15_u64);
        for _ in 0..100_000 {
            let seed = rnd();
            let n = (seed % 13) as usize;
            let mut body = [0u8; 12];
            let mut r = seed >> 4;
            for x in body.iter_mut().take(n) {
                *x = if r & 1 == 0 {
                    0
                } else {
                    picks[(r >> 1) as usize % picks.len()]
                };
                r = r.rotate_right(5) ^ seed;
            }
            let data = &body[..n];
            for form in [
                ExtensionForm::OneByte,
                ExtensionForm::TwoByte { appbits: 0 },
            ] {
                let mut want = Vec::new();
                let mut pos = 0;
                while let Ok(Some(e)) = next_elem(form, data, &mut pos) {
                    want.push(Extension {
                        id: e.id,
                        value: &data[e.start..e.start + e.len],
                    });
                }
                let mut it = ExtensionIter::new(form, data);
                let got: Vec<_> = it.by_ref().collect();
                assert_eq!(got, want, "{form:?} {data:02x?}");
                assert_eq!(it.next(), None);
            }
        }
    }

    #[test]
    fn validate_agrees_with_the_iterator() {
        // Every 3-byte block body over a set of interesting bytes, in both
        // forms: the fast check and the reference walk agree.
        let bytes = [
            0x00, 0x01, 0x10, 0x11, 0x12, 0x1f, 0x20, 0xe0, 0xf0, 0xff, 0x02,
        ];
        for form in [
            ExtensionForm::OneByte,
            ExtensionForm::TwoByte { appbits: 0 },
        ] {
            for &a in &bytes {
                for &b in &bytes {
                    for &c in &bytes {
                        for &d in &bytes {
                            let body = [a, b, c, d];
                            for n in 0..=4 {
                                assert_eq!(
                                    validate(form, &body[..n]),
                                    validate_by_walking(form, &body[..n]),
                                    "{form:?} {:?}",
                                    &body[..n]
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
