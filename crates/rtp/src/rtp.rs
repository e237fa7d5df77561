//! RTP data packets (RFC 3550 §5.1, §5.3.1) with RFC 8285 header extensions.
//!
//! [`RtpPacket`] is a view over a buffer (`&[u8]`, `&mut [u8]`, `Vec<u8>`,
//! ...). [`RtpPacket::new_checked`] validates the whole header once: version,
//! CSRC list, extension block and every extension element, padding; after
//! that no accessor can fail or panic. When the buffer is mutable the
//! setters rewrite SSRC, payload type, sequence number, timestamp, marker
//! and extension ids and values in place, which is what an SFU does for
//! every subscriber. [`RtpBuilder`] writes a packet into a caller buffer.

use crate::error::{bad, misuse, need, Error};
use crate::ext::{self, Extension, ExtensionForm, ExtensionIter, ExtensionValue, ExtensionWriter};
use crate::types::{Pt, Ssrc};
use crate::wire::{put_slice, put_u16, put_u32, put_u8, slice, u16_at, u32_at, u8_at};

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;

/// A validated view of an RTP packet over a buffer `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buffer: T,
    /// Offset of the payload (end of CSRCs and extension block).
    header_len: usize,
    /// End of the payload (start of padding).
    payload_end: usize,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Validates `buffer` as one RTP packet (the whole buffer; any trailing
    /// bytes are payload or padding).
    ///
    /// Checks: at least 12 bytes; version 2; the CSRC list, the extension
    /// header and block fit; every RFC 8285 element lies inside the block;
    /// the padding count is non-zero and no larger than what follows the
    /// header.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        // Fast path: version 2, no padding, a one-byte (0xBEDE) extension
        // block whose elements all fit and none has id 0 or 15. Anything
        // else (and every error) goes to the full check, which decides alone.
        let b = buffer.as_ref();
        // Tested first so that it dominates both paths and the fixed-header
        // accessors inlined after this need no bounds check.
        if b.len() < FIXED_HEADER_LEN {
            return Err(bad("RTP: shorter than the 12-byte fixed header"));
        }
        if let Some(&b0) = b.first() {
            if b0 & 0xf0 == 0x90 {
                let h = FIXED_HEADER_LEN + usize::from(b0 & 0x0f) * 4;
                if let Some(&[p0, p1, w0, w1]) = b.get(h..h + 4) {
                    let start = h + 4;
                    let end = start + usize::from(u16::from_be_bytes([w0, w1])) * 4;
                    if u16::from_be_bytes([p0, p1]) == ext::ONE_BYTE_PROFILE {
                        if let Some(data) = b.get(start..end) {
                            if ext::one_byte_fast_ok(data) {
                                let payload_end = b.len();
                                return Ok(RtpPacket {
                                    buffer,
                                    header_len: end,
                                    payload_end,
                                });
                            }
                        }
                    }
                }
            }
        }
        match check_slow(buffer.as_ref()) {
            Ok((header_len, payload_end)) => Ok(RtpPacket {
                buffer,
                header_len,
                payload_end,
            }),
            Err(e) => Err(e),
        }
    }

    #[inline(always)]
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &[u8] {
        self.b()
    }

    /// The version field (always 2 for a checked packet).
    #[inline]
    pub fn version(&self) -> u8 {
        u8_at(self.b(), 0) >> 6
    }

    /// The P bit.
    #[inline]
    pub fn has_padding(&self) -> bool {
        u8_at(self.b(), 0) & 0x20 != 0
    }

    /// The X bit.
    #[inline]
    pub fn has_extension(&self) -> bool {
        u8_at(self.b(), 0) & 0x10 != 0
    }

    /// The CC field: number of CSRCs.
    #[inline]
    pub fn csrc_count(&self) -> u8 {
        u8_at(self.b(), 0) & 0x0f
    }

    /// The M bit.
    #[inline]
    pub fn marker(&self) -> bool {
        u8_at(self.b(), 1) & 0x80 != 0
    }

    /// The payload type.
    #[inline]
    pub fn payload_type(&self) -> Pt {
        Pt::from_wire(u8_at(self.b(), 1))
    }

    /// The 16-bit sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        u16_at(self.b(), 2)
    }

    /// The RTP timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32_at(self.b(), 4)
    }

    /// The SSRC.
    #[inline]
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.b(), 8))
    }

    /// The CSRC list.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + '_ {
        let b = self.b();
        (0..usize::from(self.csrc_count())).map(move |i| Ssrc(u32_at(b, FIXED_HEADER_LEN + i * 4)))
    }

    /// The raw CSRC list bytes (4 per CSRC).
    pub fn csrc_bytes(&self) -> &[u8] {
        slice(self.b(), FIXED_HEADER_LEN, self.ext_offset())
    }

    #[inline(always)]
    fn ext_offset(&self) -> usize {
        FIXED_HEADER_LEN + usize::from(self.csrc_count()) * 4
    }

    /// The extension block's "defined by profile" value, if there is one.
    #[inline]
    pub fn extension_profile(&self) -> Option<u16> {
        self.has_extension()
            .then(|| u16_at(self.b(), self.ext_offset()))
    }

    /// The form of the extension block, if there is one.
    #[inline]
    pub fn extension_form(&self) -> Option<ExtensionForm> {
        self.extension_profile().map(ExtensionForm::from_profile)
    }

    /// The extension block body (after its 4-byte header); empty if none.
    #[inline]
    pub fn extension_data(&self) -> &[u8] {
        if self.has_extension() {
            slice(self.b(), self.ext_offset() + 4, self.header_len)
        } else {
            &[]
        }
    }

    /// Iterates over the RFC 8285 elements (nothing for no block or an
    /// opaque profile).
    #[inline]
    pub fn extensions(&self) -> ExtensionIter<'_> {
        if self.has_extension() {
            // The block header and body in one slice: one bounds check.
            if let Some([p0, p1, _, _, data @ ..]) =
                self.b().get(self.ext_offset()..self.header_len)
            {
                let profile = u16::from_be_bytes([*p0, *p1]);
                if profile == ext::ONE_BYTE_PROFILE {
                    // The common case, with the form a constant.
                    return ExtensionIter::new(ExtensionForm::OneByte, data);
                }
                return ExtensionIter::new(ExtensionForm::from_profile(profile), data);
            }
        }
        ExtensionIter::empty()
    }

    /// The value of the first element with local id `id`.
    #[inline]
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        let form = self.extension_form()?;
        let data = self.extension_data();
        ext::find(form, data, id).map(|e| slice(data, e.start, e.start + e.len))
    }

    /// The first element with `id`, parsed as the typed value `V`:
    /// `Ok(None)` if absent, `Err` if present but malformed.
    pub fn extension_value<'a, V: ExtensionValue<'a>>(
        &'a self,
        id: u8,
    ) -> Result<Option<V>, Error> {
        self.extension(id).map(V::parse).transpose()
    }

    /// Length of the header: fixed part, CSRCs and extension block.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, padding removed.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        slice(self.b(), self.header_len, self.payload_end)
    }

    /// Number of padding bytes (0 without the P bit).
    #[inline]
    pub fn padding_len(&self) -> usize {
        self.b().len() - self.payload_end
    }

    /// Copies the packet into `buf` (e.g. a subscriber's send buffer) and
    /// returns a writable view over the copy, without validating it again:
    /// the per-subscriber step of an SFU before the in-place setters.
    pub fn copy_into<'b>(&self, buf: &'b mut [u8]) -> Result<RtpPacket<&'b mut [u8]>, Error> {
        let src = self.b();
        need(buf, src.len())?;
        let dst = buf.get_mut(..src.len()).unwrap_or(&mut []);
        dst.copy_from_slice(src);
        Ok(RtpPacket {
            buffer: dst,
            header_len: self.header_len,
            payload_end: self.payload_end,
        })
    }

    /// A builder that writes this packet again (same header fields, CSRCs,
    /// extension block bytes, payload and padding length).
    pub fn to_builder(&self) -> RtpBuilder<'_> {
        let mut bld = RtpBuilder::new(
            self.payload_type(),
            self.sequence_number(),
            self.timestamp(),
            self.ssrc(),
        )
        .marker(self.marker())
        .csrc_bytes(self.csrc_bytes())
        .payload(self.payload())
        .padding(self.padding_len() as u8);
        if let Some(p) = self.extension_profile() {
            bld = bld.raw_extension(p, self.extension_data());
        }
        bld
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    #[inline(always)]
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Rewrites the SSRC.
    #[inline]
    pub fn set_ssrc(&mut self, ssrc: Ssrc) {
        put_u32(self.bm(), 8, ssrc.0);
    }

    /// Rewrites the sequence number.
    #[inline]
    pub fn set_sequence_number(&mut self, seq: u16) {
        put_u16(self.bm(), 2, seq);
    }

    /// Rewrites the timestamp.
    #[inline]
    pub fn set_timestamp(&mut self, ts: u32) {
        put_u32(self.bm(), 4, ts);
    }

    /// Rewrites the payload type (the marker bit is kept).
    #[inline]
    pub fn set_payload_type(&mut self, pt: Pt) {
        let b1 = u8_at(self.b(), 1);
        put_u8(self.bm(), 1, (b1 & 0x80) | pt.get());
    }

    /// Sets or clears the marker bit.
    #[inline]
    pub fn set_marker(&mut self, m: bool) {
        let b1 = u8_at(self.b(), 1);
        put_u8(self.bm(), 1, (b1 & 0x7f) | (u8::from(m) << 7));
    }

    /// The value of the first element with `id`, writable in place.
    pub fn extension_mut(&mut self, id: u8) -> Option<&mut [u8]> {
        let form = self.extension_form()?;
        let start = self.ext_offset() + 4;
        let e = ext::find(form, self.extension_data(), id)?;
        self.bm().get_mut(start + e.start..start + e.start + e.len)
    }

    /// Overwrites the value of the first element with `id`. The new value
    /// must have the same length (a rewrite never moves bytes); errors if the
    /// element is absent or the length differs.
    pub fn set_extension(&mut self, id: u8, value: &[u8]) -> Result<(), Error> {
        let v = self
            .extension_mut(id)
            .ok_or(misuse("RTP extension: no element with this id"))?;
        if v.len() != value.len() {
            return Err(misuse("RTP extension: new value has a different length"));
        }
        v.copy_from_slice(value);
        Ok(())
    }

    /// Overwrites the first element with `id` with a typed value of the same
    /// encoded length (e.g. a subscriber's transport-wide sequence number).
    pub fn set_extension_value<'v, V: ExtensionValue<'v>>(
        &mut self,
        id: u8,
        v: &V,
    ) -> Result<(), Error> {
        let mut tmp = [0u8; 255];
        let n = v.write(&mut tmp)?;
        self.set_extension(id, slice(&tmp, 0, n))
    }

    /// Rewrites extension ids in place: `map(id)` returns the subscriber's id
    /// for the publisher's `id`, or `None` to blank the element into padding
    /// (removing it without moving bytes). All new ids are checked first; on
    /// error nothing is changed. Opaque blocks are left alone.
    pub fn remap_extension_ids(&mut self, map: impl FnMut(u8) -> Option<u8>) -> Result<(), Error> {
        let Some(form) = self.extension_form() else {
            return Ok(());
        };
        let (start, end) = (self.ext_offset() + 4, self.header_len);
        let Some(data) = self.buffer.as_mut().get_mut(start..end) else {
            return Ok(());
        };
        ext::remap_ids(form, data, map)
    }

    /// The payload, writable (padding excluded).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (s, e) = (self.header_len, self.payload_end);
        self.bm().get_mut(s..e).unwrap_or(&mut [])
    }
}

/// The full check behind [`RtpPacket::new_checked`]: every case and the
/// exact error; returns `(header_len, payload_end)`.
#[cold]
#[inline(never)]
fn check_slow(b: &[u8]) -> Result<(usize, usize), Error> {
    let len = b.len();
    if len < FIXED_HEADER_LEN {
        return Err(bad("RTP: shorter than the 12-byte fixed header"));
    }
    let b0 = u8_at(b, 0);
    if b0 >> 6 != 2 {
        return Err(bad("RTP: version is not 2"));
    }
    let mut header_len = FIXED_HEADER_LEN + usize::from(b0 & 0x0f) * 4;
    if header_len > len {
        return Err(bad("RTP: CSRC list overruns the packet"));
    }
    if b0 & 0x10 != 0 {
        if header_len + 4 > len {
            return Err(bad("RTP: extension header overruns the packet"));
        }
        let profile = u16_at(b, header_len);
        let words = usize::from(u16_at(b, header_len + 2));
        let start = header_len + 4;
        let end = start + words * 4;
        if end > len {
            return Err(bad("RTP: extension block overruns the packet"));
        }
        ext::validate_profile(profile, slice(b, start, end))?;
        header_len = end;
    }
    let mut payload_end = len;
    if b0 & 0x20 != 0 {
        let pad = usize::from(u8_at(b, len - 1));
        if pad == 0 {
            return Err(bad("RTP: padding bit set with a zero padding count"));
        }
        if pad > len - header_len {
            return Err(bad("RTP: padding count exceeds the bytes after the header"));
        }
        payload_end = len - pad;
    }
    Ok((header_len, payload_end))
}

#[derive(Debug, Clone, Copy)]
enum Csrcs<'a> {
    Typed(&'a [Ssrc]),
    Raw(&'a [u8]),
}

#[derive(Debug, Clone, Copy)]
enum Exts<'a> {
    None,
    Elements(ExtensionForm, &'a [Extension<'a>]),
    Raw(u16, &'a [u8]),
}

/// Writes an RTP packet into a caller buffer.
///
/// ```
/// use tern_rtp::{RtpBuilder, RtpPacket, Pt, Ssrc};
/// use tern_rtp::ext::Extension;
/// let exts = [Extension { id: 1, value: &[0x12, 0x34] }];
/// let mut buf = [0u8; 64];
/// let n = RtpBuilder::new(Pt::new(96).unwrap(), 7, 9000, Ssrc(0x1234))
///     .extensions(&exts)
///     .payload(b"hello")
///     .write(&mut buf)
///     .unwrap();
/// let p = RtpPacket::new_checked(&buf[..n]).unwrap();
/// assert_eq!(p.extension(1), Some(&[0x12, 0x34][..]));
/// assert_eq!(p.payload(), b"hello");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RtpBuilder<'a> {
    marker: bool,
    pt: Pt,
    seq: u16,
    ts: u32,
    ssrc: Ssrc,
    csrcs: Csrcs<'a>,
    exts: Exts<'a>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpBuilder<'a> {
    /// A packet with these header fields, no CSRCs, no extensions, empty
    /// payload.
    pub fn new(pt: Pt, seq: u16, ts: u32, ssrc: Ssrc) -> Self {
        RtpBuilder {
            marker: false,
            pt,
            seq,
            ts,
            ssrc,
            csrcs: Csrcs::Typed(&[]),
            exts: Exts::None,
            payload: &[],
            padding: 0,
        }
    }

    /// Sets the marker bit.
    pub fn marker(mut self, m: bool) -> Self {
        self.marker = m;
        self
    }

    /// The CSRC list (at most 15).
    pub fn csrcs(mut self, csrcs: &'a [Ssrc]) -> Self {
        self.csrcs = Csrcs::Typed(csrcs);
        self
    }

    /// The CSRC list as wire bytes (a multiple of 4, at most 60 bytes).
    pub fn csrc_bytes(mut self, raw: &'a [u8]) -> Self {
        self.csrcs = Csrcs::Raw(raw);
        self
    }

    /// RFC 8285 elements, in the one-byte form when every element fits it,
    /// else the two-byte form.
    pub fn extensions(self, exts: &'a [Extension<'a>]) -> Self {
        let form = ExtensionForm::for_elements(exts.iter().map(|e| (e.id, e.value.len())));
        self.extensions_in(form, exts)
    }

    /// RFC 8285 elements in a chosen form.
    pub fn extensions_in(mut self, form: ExtensionForm, exts: &'a [Extension<'a>]) -> Self {
        self.exts = Exts::Elements(form, exts);
        self
    }

    /// An extension block given as its profile value and body bytes (a
    /// multiple of 4), written as is.
    pub fn raw_extension(mut self, profile: u16, body: &'a [u8]) -> Self {
        self.exts = Exts::Raw(profile, body);
        self
    }

    /// The payload.
    pub fn payload(mut self, payload: &'a [u8]) -> Self {
        self.payload = payload;
        self
    }

    /// Number of padding bytes to append (0 for none; zero-filled, the last
    /// one holding the count).
    pub fn padding(mut self, n: u8) -> Self {
        self.padding = n;
        self
    }

    fn csrc_len(&self) -> usize {
        match self.csrcs {
            Csrcs::Typed(c) => c.len() * 4,
            Csrcs::Raw(r) => r.len(),
        }
    }

    fn ext_len(&self) -> usize {
        match self.exts {
            Exts::None => 0,
            Exts::Raw(_, body) => 4 + body.len(),
            Exts::Elements(form, exts) => {
                let head = if matches!(form, ExtensionForm::OneByte) {
                    1
                } else {
                    2
                };
                let body: usize = exts.iter().map(|e| head + e.value.len()).sum();
                4 + body.next_multiple_of(4)
            }
        }
    }

    /// The number of bytes [`RtpBuilder::write`] will write.
    pub fn buffer_len(&self) -> usize {
        FIXED_HEADER_LEN
            + self.csrc_len()
            + self.ext_len()
            + self.payload.len()
            + usize::from(self.padding)
    }

    /// Writes the packet at the start of `buf` and returns its length.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let csrc_len = self.csrc_len();
        if csrc_len > 60 || csrc_len % 4 != 0 {
            return Err(misuse("RTP builder: more than 15 CSRCs or a partial CSRC"));
        }
        if let Exts::Raw(_, body) = self.exts {
            if body.len() % 4 != 0 || body.len() > 0xffff * 4 {
                return Err(misuse(
                    "RTP builder: raw extension body not a multiple of 4",
                ));
            }
        }
        let total = self.buffer_len();
        need(buf, total)?;
        let has_ext = !matches!(self.exts, Exts::None);
        put_u8(
            buf,
            0,
            0x80 | (u8::from(self.padding > 0) << 5)
                | (u8::from(has_ext) << 4)
                | (csrc_len / 4) as u8,
        );
        put_u8(buf, 1, (u8::from(self.marker) << 7) | self.pt.get());
        put_u16(buf, 2, self.seq);
        put_u32(buf, 4, self.ts);
        put_u32(buf, 8, self.ssrc.0);
        let mut pos = FIXED_HEADER_LEN;
        match self.csrcs {
            Csrcs::Typed(c) => {
                for s in c {
                    put_u32(buf, pos, s.0);
                    pos += 4;
                }
            }
            Csrcs::Raw(r) => {
                put_slice(buf, pos, r);
                pos += r.len();
            }
        }
        match self.exts {
            Exts::None => {}
            Exts::Raw(profile, body) => {
                put_u16(buf, pos, profile);
                put_u16(buf, pos + 2, (body.len() / 4) as u16);
                put_slice(buf, pos + 4, body);
                pos += 4 + body.len();
            }
            Exts::Elements(form, exts) => {
                let out = buf.get_mut(pos..).unwrap_or(&mut []);
                let mut w = ExtensionWriter::new(out, form)?;
                for e in exts {
                    w.push(e.id, e.value)?;
                }
                pos += w.finish();
            }
        }
        put_slice(buf, pos, self.payload);
        pos += self.payload.len();
        if self.padding > 0 {
            let end = pos + usize::from(self.padding);
            crate::wire::zero(buf, pos, end);
            put_u8(buf, end - 1, self.padding);
            pos = end;
        }
        Ok(pos)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ext::{AbsSendTime, AudioLevel, Mid, Rid, TransportSeq, VideoOrientation};

    /// The inline fast path of `new_checked` and the full check agree on
    /// every packet near the fast path's shape (0xBEDE blocks with random
    /// elements, padding bytes, ids 0 and 15, short blocks, CSRCs, P bit).
    #[test]
    fn fast_path_agrees_with_the_full_check() {
        let mut rnd = tern_testkit::xorshift64(0x1234_5678_9abc_def0_u64);
        const PICKS: [u8; 8] = [0x00, 0x0f, 0x10, 0x22, 0x31, 0x40, 0xef, 0xf0];
        for _ in 0..200_000 {
            let r = rnd();
            let cc = (r & 3) as usize;
            let words = ((r >> 2) & 3) as usize;
            let mut p = vec![0u8; 12 + cc * 4 + 4 + words * 4 + ((r >> 4) & 7) as usize];
            p[0] = 0x90 | cc as u8 | if r >> 7 & 15 == 0 { 0x20 } else { 0 };
            let h = 12 + cc * 4;
            p[h..h + 4].copy_from_slice(&[0xbe, 0xde, 0, words as u8]);
            for b in &mut p[h + 4..h + 4 + words * 4] {
                let x = rnd();
                *b = if x & 1 == 0 {
                    PICKS[(x >> 1) as usize % 8]
                } else {
                    (x >> 8) as u8
                };
            }
            if let Some(last) = p.last_mut() {
                *last = (r >> 12) as u8 & 7;
            }
            let cut = if r >> 16 & 7 == 0 {
                (r >> 20) as usize % p.len()
            } else {
                p.len()
            };
            let q = &p[..cut];
            let fast = RtpPacket::new_checked(q).map(|v| (v.header_len, v.payload_end));
            assert_eq!(fast, check_slow(q), "{q:02x?}");
        }
    }

    #[test]
    fn extensions_after_in_place_rewrites_match_a_fresh_parse() {
        // After value rewrites (zeros into non-zeros and back, reaching
        // into the block's trailing zero bytes, where the iterator stops
        // looking for element headers) and id remaps (blanking elements
        // into padding), iterating the view yields what a fresh parse of
        // the same bytes yields: nothing the view learned at validation
        // goes stale.
        let mut rnd = tern_testkit::xorshift64(0x0bad_cafe_f00d_u64);
        for _ in 0..20_000 {
            let r = rnd();
            let mut elems = Vec::new();
            let mut values = Vec::new();
            for i in 0..(r % 4) as usize {
                let len = 1 + ((r >> (8 + 4 * i)) % 4) as usize;
                values.push(vec![0u8; len]);
                elems.push((1 + ((r >> (24 + 4 * i)) % 14) as u8, len));
            }
            let exts: Vec<Extension<'_>> = elems
                .iter()
                .zip(&values)
                .map(|(&(id, _), v)| Extension { id, value: v })
                .collect();
            let b = RtpBuilder::new(Pt::new(96).unwrap(), 1, 2, Ssrc(3))
                .extensions_in(ExtensionForm::OneByte, &exts)
                .payload(b"xyz");
            let mut buf = vec![0u8; b.buffer_len()];
            b.write(&mut buf).unwrap();
            let mut p = RtpPacket::new_checked(&mut buf[..]).unwrap();
            for &(id, len) in &elems {
                let x = rnd();
                let v: Vec<u8> = (0..len)
                    .map(|k| {
                        if x >> k & 1 == 0 {
                            0
                        } else {
                            (x >> 8) as u8 | 1
                        }
                    })
                    .collect();
                // First element with the id only (a repeated id keeps its
                // later values), which is what set_extension promises.
                let _ = p.set_extension(id, &v);
            }
            let blank = (rnd() % 16) as u8;
            p.remap_extension_ids(|id| (id != blank).then_some(15 - id))
                .unwrap();
            let seen: Vec<(u8, Vec<u8>)> =
                p.extensions().map(|e| (e.id, e.value.to_vec())).collect();
            let bytes = p.as_bytes().to_vec();
            let fresh = RtpPacket::new_checked(&bytes[..]).unwrap();
            let want: Vec<(u8, Vec<u8>)> = fresh
                .extensions()
                .map(|e| (e.id, e.value.to_vec()))
                .collect();
            assert_eq!(seen, want, "{bytes:02x?}");
        }
    }

    /// Minimal packet, hand-computed from the RFC 3550 §5.1 layout: PT 96,
    /// seq 1234, ts 5678, SSRC 0x12345678, 4-byte payload.
    pub(crate) const PLAIN: &[u8] = &[
        0x80, 0x60, 0x04, 0xd2, // V=2, PT=96, seq 1234
        0x00, 0x00, 0x16, 0x2e, // ts 5678
        0x12, 0x34, 0x56, 0x78, // SSRC
        0xde, 0xad, 0xbe, 0xef, // payload
    ];

    /// Every header feature, hand-computed from RFC 3550 §5.1 and §5.3.1
    /// with the one-byte extension block of the RFC 8285 §4.2 example
    /// (three elements, ids 1–3, two padding bytes between the second and
    /// third); P with 3 bytes of padding; M; 2 CSRCs.
    pub(crate) const FULL: &[u8] = &[
        0xb2, 0xef, 0xff, 0xff, // V=2 P X CC=2, M PT=111, seq 65535
        0xde, 0xad, 0xbe, 0xef, // ts
        0x01, 0x02, 0x03, 0x04, // SSRC
        0x0a, 0x0b, 0x0c, 0x0d, // CSRC 1
        0x11, 0x12, 0x13, 0x14, // CSRC 2
        0xbe, 0xde, 0x00, 0x03, // one-byte form, 3 words
        0x10, 0xaa, // id 1, L=0: 1 byte
        0x21, 0xbb, 0xcc, // id 2, L=1: 2 bytes
        0x00, 0x00, // padding
        0x33, 0x01, 0x02, 0x03, 0x04, // id 3, L=3: 4 bytes
        0x01, 0x02, 0x03, // payload
        0x00, 0x00, 0x03, // padding, count 3
    ];

    /// The two-byte form of the RFC 8285 §4.3 example (ids 1–3, lengths
    /// 0, 1 and 4, one padding byte), hand-computed.
    pub(crate) const TWO_BYTE: &[u8] = &[
        0x90, 0x60, 0x00, 0x01, // V=2 X, PT 96, seq 1
        0x00, 0x00, 0x00, 0x02, // ts 2
        0x00, 0x00, 0x00, 0x03, // SSRC 3
        0x10, 0x00, 0x00, 0x03, // two-byte form, 3 words
        0x01, 0x00, // id 1, length 0
        0x02, 0x01, 0xaa, // id 2, length 1
        0x00, // padding
        0x03, 0x04, 0x01, 0x02, 0x03, 0x04, // id 3, length 4
        0xff, // payload
    ];

    /// A 3-extension video packet like the benchmark's: abs-send-time (id
    /// 2), transport-cc (id 3), mid (id 4).
    pub(crate) fn video(payload_len: usize) -> std::vec::Vec<u8> {
        let exts = [
            Extension {
                id: 2,
                value: &[0x12, 0x34, 0x56],
            },
            Extension {
                id: 3,
                value: &[0x01, 0x02],
            },
            Extension { id: 4, value: b"0" },
        ];
        let payload = std::vec![0x5a; payload_len];
        let b = RtpBuilder::new(Pt::new(96).unwrap(), 4321, 0x1234_5678, Ssrc(0xcafe_f00d))
            .marker(true)
            .extensions(&exts)
            .payload(&payload);
        let mut v = std::vec![0u8; b.buffer_len()];
        let n = b.write(&mut v).unwrap();
        assert_eq!(n, v.len());
        v
    }

    #[test]
    fn rfc3550_5_1_plain_packet() {
        let p = RtpPacket::new_checked(PLAIN).unwrap();
        assert_eq!(p.version(), 2);
        assert!(!p.has_padding() && !p.has_extension() && !p.marker());
        assert_eq!(p.csrc_count(), 0);
        assert_eq!(p.payload_type(), Pt::new(96).unwrap());
        assert_eq!(p.sequence_number(), 1234);
        assert_eq!(p.timestamp(), 5678);
        assert_eq!(p.ssrc(), Ssrc(0x1234_5678));
        assert_eq!(p.header_len(), 12);
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(p.extensions().count(), 0);
        assert_eq!(p.extension_profile(), None);
    }

    #[test]
    fn rfc8285_4_2_one_byte_example() {
        let p = RtpPacket::new_checked(FULL).unwrap();
        assert!(p.has_padding() && p.has_extension() && p.marker());
        assert_eq!(p.payload_type().get(), 111);
        assert_eq!(p.sequence_number(), 0xffff);
        assert_eq!(p.timestamp(), 0xdead_beef);
        assert_eq!(
            p.csrcs().collect::<std::vec::Vec<_>>(),
            [Ssrc(0x0a0b_0c0d), Ssrc(0x1112_1314)]
        );
        assert_eq!(p.extension_form(), Some(ExtensionForm::OneByte));
        let exts: std::vec::Vec<_> = p.extensions().map(|e| (e.id, e.value)).collect();
        assert_eq!(
            exts,
            [
                (1, &[0xaa][..]),
                (2, &[0xbb, 0xcc][..]),
                (3, &[1, 2, 3, 4][..])
            ]
        );
        assert_eq!(p.extension(2), Some(&[0xbb, 0xcc][..]));
        assert_eq!(p.extension(9), None);
        assert_eq!(p.payload(), &[1, 2, 3]);
        assert_eq!(p.padding_len(), 3);
        assert_eq!(p.header_len(), 36);
    }

    #[test]
    fn rfc8285_4_3_two_byte_example() {
        let p = RtpPacket::new_checked(TWO_BYTE).unwrap();
        assert_eq!(
            p.extension_form(),
            Some(ExtensionForm::TwoByte { appbits: 0 })
        );
        let exts: std::vec::Vec<_> = p.extensions().map(|e| (e.id, e.value)).collect();
        assert_eq!(
            exts,
            [(1, &[][..]), (2, &[0xaa][..]), (3, &[1, 2, 3, 4][..])]
        );
        assert_eq!(p.payload(), &[0xff]);
    }

    #[test]
    fn rfc8285_4_2_id_15_stops_processing() {
        let mut v = FULL.to_vec();
        v[31] = 0xf3; // third element's header becomes id 15
        let p = RtpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(
            p.extensions().map(|e| e.id).collect::<std::vec::Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn malformed_extensions_are_errors() {
        // One-byte id 0 with a non-zero length.
        let mut v = FULL.to_vec();
        v[24] = 0x01;
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        // Element overruns the block.
        let mut v = FULL.to_vec();
        v[31] = 0x3f;
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        // Two-byte element header cut by the block end.
        let mut v = TWO_BYTE.to_vec();
        v[23] = 0x03;
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        // Block length beyond the packet.
        let mut v = PLAIN.to_vec();
        v[0] |= 0x10;
        assert!(RtpPacket::new_checked(&v[..]).is_err());
    }

    #[test]
    fn bad_headers_are_errors() {
        let mut v = PLAIN.to_vec();
        v[0] = 0x40; // version 1
        assert_eq!(
            RtpPacket::new_checked(&v[..]).unwrap_err(),
            Error::InvalidPacket("RTP: version is not 2")
        );
        let mut v = PLAIN.to_vec();
        v[0] = 0x8f; // 15 CSRCs in 16 bytes
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        let mut v = PLAIN.to_vec();
        v[0] |= 0x20; // padding count 0xef > 4
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        v[15] = 0; // padding count 0
        assert!(RtpPacket::new_checked(&v[..]).is_err());
        v[15] = 4; // all of the payload is padding: fine
        assert_eq!(
            RtpPacket::new_checked(&v[..]).unwrap().payload(),
            &[] as &[u8]
        );
    }

    #[test]
    fn every_truncation_into_the_header_is_an_error() {
        // RTP has no length field, so cutting the payload leaves a valid
        // packet with a shorter payload; every cut into the header (fixed
        // part, CSRCs, extension block) must be an error, and every cut of
        // a padded packet must be an error or read a payload prefix.
        for v in [PLAIN, FULL, TWO_BYTE, &video(20)[..]] {
            let full = RtpPacket::new_checked(v).unwrap();
            for n in 0..v.len() {
                match RtpPacket::new_checked(&v[..n]) {
                    Err(_) => {}
                    Ok(p) => {
                        assert!(
                            n >= full.header_len(),
                            "cut at {n} inside the header parsed"
                        );
                        assert!(full.payload().starts_with(p.payload()) || full.has_padding());
                    }
                }
            }
        }
    }

    #[test]
    fn rewrite_in_place_changes_only_the_fields() {
        let mut v = FULL.to_vec();
        let mut p = RtpPacket::new_checked(&mut v[..]).unwrap();
        p.set_ssrc(Ssrc(0xa1a2_a3a4));
        p.set_sequence_number(7);
        p.set_timestamp(99);
        p.set_payload_type(Pt::new(100).unwrap());
        p.set_extension(3, &[9, 9, 9, 9]).unwrap();
        assert!(p.set_extension(3, &[1]).is_err());
        assert!(p.set_extension(7, &[1]).is_err());
        let p = RtpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(p.ssrc(), Ssrc(0xa1a2_a3a4));
        assert_eq!(p.sequence_number(), 7);
        assert_eq!(p.timestamp(), 99);
        assert_eq!(p.payload_type().get(), 100);
        assert!(p.marker(), "marker kept");
        assert_eq!(p.extension(3), Some(&[9, 9, 9, 9][..]));
        // Nothing else moved.
        let mut want = FULL.to_vec();
        want[1] = 0x80 | 100;
        want[2..4].copy_from_slice(&7u16.to_be_bytes());
        want[4..8].copy_from_slice(&99u32.to_be_bytes());
        want[8..12].copy_from_slice(&0xa1a2_a3a4u32.to_be_bytes());
        want[32..36].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(v, want);
        let mut v2 = v.clone();
        let mut p = RtpPacket::new_checked(&mut v2[..]).unwrap();
        p.set_marker(false);
        assert_eq!(v2[1], 100);
    }

    #[test]
    fn copy_into_gives_a_writable_view() {
        let p = RtpPacket::new_checked(FULL).unwrap();
        let mut out = [0u8; 64];
        let mut q = p.copy_into(&mut out).unwrap();
        q.set_ssrc(Ssrc(5));
        assert_eq!(q.payload(), p.payload());
        assert_eq!(q.extension(3), p.extension(3));
        let n = FULL.len();
        let r = RtpPacket::new_checked(&out[..n]).unwrap();
        assert_eq!(
            (r.ssrc(), r.header_len(), r.padding_len()),
            (Ssrc(5), 36, 3)
        );
        assert!(matches!(
            p.copy_into(&mut [0u8; 10]),
            Err(Error::BufferTooSmall {
                needed: 42,
                available: 10
            })
        ));
    }

    #[test]
    fn remap_extension_ids_and_strip() {
        let mut v = FULL.to_vec();
        let mut p = RtpPacket::new_checked(&mut v[..]).unwrap();
        // 1 -> 14, 2 dropped, 3 kept.
        p.remap_extension_ids(|id| match id {
            1 => Some(14),
            2 => None,
            x => Some(x),
        })
        .unwrap();
        // Invalid target id in the one-byte form: error, nothing changed.
        let before = p.as_bytes().to_vec();
        assert!(p.remap_extension_ids(|_| Some(15)).is_err());
        assert_eq!(p.as_bytes(), &before[..]);
        let p = RtpPacket::new_checked(&v[..]).unwrap();
        let ids: std::vec::Vec<_> = p.extensions().map(|e| (e.id, e.value)).collect();
        assert_eq!(ids, [(14, &[0xaa][..]), (3, &[1, 2, 3, 4][..])]);
        // Two-byte form allows ids above 14.
        let mut v = TWO_BYTE.to_vec();
        let mut p = RtpPacket::new_checked(&mut v[..]).unwrap();
        p.remap_extension_ids(|id| Some(id + 200)).unwrap();
        assert_eq!(
            p.extensions().map(|e| e.id).collect::<std::vec::Vec<_>>(),
            [201, 202, 203]
        );
        assert!(p.remap_extension_ids(|_| Some(0)).is_err());
    }

    #[test]
    fn builder_round_trips_every_vector() {
        for v in [PLAIN, FULL, TWO_BYTE, &video(1200)[..]] {
            let p = RtpPacket::new_checked(v).unwrap();
            let b = p.to_builder();
            let mut out = std::vec![0u8; b.buffer_len()];
            let n = b.write(&mut out).unwrap();
            assert_eq!(&out[..n], v);
        }
    }

    #[test]
    fn builder_writes_elements() {
        let exts = [
            Extension {
                id: 1,
                value: &[0xaa],
            },
            Extension {
                id: 2,
                value: &[0xbb, 0xcc],
            },
        ];
        let csrcs = [Ssrc(1)];
        let mut buf = [0u8; 64];
        let n = RtpBuilder::new(Pt::new(0).unwrap(), 1, 2, Ssrc(3))
            .csrcs(&csrcs)
            .extensions(&exts)
            .payload(&[7])
            .padding(4)
            .write(&mut buf)
            .unwrap();
        let want: &[u8] = &[
            0xb1, 0x00, 0x00, 0x01, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 1, // header, CSRC
            0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x21, 0xbb, 0xcc, 0, 0, 0, // extensions
            7, 0, 0, 0, 4, // payload, padding
        ];
        assert_eq!(&buf[..n], want);
        // An id above 14 switches to the two-byte form.
        let exts = [Extension { id: 20, value: &[] }];
        let n = RtpBuilder::new(Pt::new(0).unwrap(), 1, 2, Ssrc(3))
            .extensions(&exts)
            .write(&mut buf)
            .unwrap();
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(p.extension_profile(), Some(0x1000));
        assert_eq!(p.extension(20), Some(&[][..]));
        // Too small a buffer.
        assert!(matches!(
            RtpBuilder::new(Pt::new(0).unwrap(), 1, 2, Ssrc(3)).write(&mut buf[..11]),
            Err(Error::BufferTooSmall {
                needed: 12,
                available: 11
            })
        ));
        let many = [Ssrc(0); 16];
        assert!(RtpBuilder::new(Pt::new(0).unwrap(), 1, 2, Ssrc(3))
            .csrcs(&many)
            .write(&mut buf)
            .is_err());
    }

    #[test]
    fn typed_extensions() {
        let v = video(10);
        let mut v2 = v.clone();
        let p = RtpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(
            p.extension_value::<AbsSendTime>(2),
            Ok(Some(AbsSendTime(0x12_3456)))
        );
        assert_eq!(
            p.extension_value::<TransportSeq>(3),
            Ok(Some(TransportSeq(0x0102)))
        );
        assert_eq!(p.extension_value::<Mid<'_>>(4), Ok(Some(Mid("0"))));
        assert_eq!(p.extension_value::<Rid<'_>>(9), Ok(None));
        assert!(p.extension_value::<AudioLevel>(3).is_err());
        let mut q = RtpPacket::new_checked(&mut v2[..]).unwrap();
        q.set_extension_value(3, &TransportSeq(0xbeef)).unwrap();
        assert!(q
            .set_extension_value(
                3,
                &AudioLevel {
                    voice: true,
                    level: 3
                }
            )
            .is_err());
        assert_eq!(
            q.extension_value::<TransportSeq>(3),
            Ok(Some(TransportSeq(0xbeef)))
        );
    }

    #[test]
    fn typed_extension_encodings() {
        use crate::ext::{ExtensionValue, RepairedRid};
        // RFC 6464 §3: V=1, level 42 -> 0xaa.
        assert_eq!(
            AudioLevel::parse(&[0xaa]),
            Ok(AudioLevel {
                voice: true,
                level: 42
            })
        );
        let mut b = [0u8; 4];
        assert_eq!(
            AudioLevel {
                voice: true,
                level: 42
            }
            .write(&mut b),
            Ok(1)
        );
        assert_eq!(b[0], 0xaa);
        assert!(AudioLevel {
            voice: false,
            level: 200
        }
        .write(&mut b)
        .is_err());
        // TS 26.114 §7.4.5: C=1 F=0 R=01 -> 0x09, 90 degrees.
        let vo = VideoOrientation::parse(&[0x09]).unwrap();
        assert_eq!((vo.back_camera, vo.flip, vo.degrees()), (true, false, 90));
        assert_eq!(vo.write(&mut b), Ok(1));
        assert_eq!(b[0], 0x09);
        // abs-send-time from NTP: 1.5 s -> 6.18 fixed 0x060000.
        assert_eq!(
            AbsSendTime::from_ntp(crate::NtpTime(0x0000_0001_8000_0000)),
            AbsSendTime(0x06_0000)
        );
        assert!(AbsSendTime(0x0100_0000).write(&mut b).is_err());
        // RFC 8852 rid syntax.
        assert_eq!(Rid::parse(b"hi-res_1"), Ok(Rid("hi-res_1")));
        assert!(Rid::parse(b"a b").is_err());
        assert!(Rid::parse(b"").is_err());
        assert!(RepairedRid::parse(b"\xff").is_err());
        assert_eq!(Mid::parse(b"audio.0"), Ok(Mid("audio.0")));
        assert!(Mid::parse(b"a:b").is_err());
        assert_eq!(Rid("q").write(&mut b), Ok(1));
        assert!(Mid("").write(&mut b).is_err());
        assert_eq!(
            <Mid<'_> as ExtensionValue<'_>>::URI,
            "urn:ietf:params:rtp-hdrext:sdes:mid"
        );
    }

    /// `extensions()` and `extension(id)` agree with a plain walk of the
    /// block, for few and many elements, both forms, and blocks that end
    /// past offset 65535.
    #[test]
    fn element_reads_match_a_walk() {
        let check = |v: &[u8]| {
            let p = RtpPacket::new_checked(v).unwrap();
            let walked: std::vec::Vec<_> = match p.extension_form() {
                Some(f) => ExtensionIter::new(f, p.extension_data()).collect(),
                None => std::vec::Vec::new(),
            };
            assert_eq!(p.extensions().collect::<std::vec::Vec<_>>(), walked);
            for id in 0..=255u8 {
                let first = walked.iter().find(|e| e.id == id).map(|e| e.value);
                assert_eq!(p.extension(id), first, "id {id}");
            }
            walked.len()
        };
        for v in [PLAIN, FULL, TWO_BYTE, &video(20)[..]] {
            check(v);
        }
        let vals: std::vec::Vec<[u8; 3]> = (0..20u8).map(|i| [i, i + 1, i + 2]).collect();
        for n in [0, 1, 7, 8, 9, 20] {
            for two_byte in [false, true] {
                let exts: std::vec::Vec<_> = (0..n)
                    .map(|i| Extension {
                        id: (i % 14) as u8 + 1,
                        value: &vals[i][..1 + i % 3],
                    })
                    .collect();
                let form = if two_byte {
                    ExtensionForm::TwoByte { appbits: 0 }
                } else {
                    ExtensionForm::OneByte
                };
                for payload in [0usize, 70_000] {
                    let pay = std::vec![7u8; payload];
                    let b = RtpBuilder::new(Pt::new(96).unwrap(), 1, 2, Ssrc(3))
                        .extensions_in(form, &exts)
                        .payload(&pay);
                    let mut v = std::vec![0u8; b.buffer_len()];
                    b.write(&mut v).unwrap();
                    assert_eq!(check(&v), n);
                    // A block ending past offset 65535 (CSRCs can't reach it;
                    // a large block can).
                    let body = std::vec![0u8; 70_000 / 4 * 4];
                    let mut big = exts_block(form, &exts);
                    big.extend_from_slice(&body);
                    let b = RtpBuilder::new(Pt::new(96).unwrap(), 1, 2, Ssrc(3))
                        .raw_extension(form.profile(), &big);
                    let mut v = std::vec![0u8; b.buffer_len()];
                    b.write(&mut v).unwrap();
                    assert_eq!(check(&v), n);
                }
            }
        }
    }

    fn exts_block(form: ExtensionForm, exts: &[Extension<'_>]) -> std::vec::Vec<u8> {
        let mut buf = std::vec![0u8; 4 + exts.len() * 8 + 4];
        let mut w = ExtensionWriter::new(&mut buf, form).unwrap();
        for e in exts {
            w.push(e.id, e.value).unwrap();
        }
        let n = w.finish();
        buf.truncate(n);
        buf.split_off(4)
    }

    /// Reads after a value rewrite and an id remap see the new block.
    #[test]
    fn element_reads_follow_rewrites_and_remaps() {
        let mut v = video(10);
        let mut p = RtpPacket::new_checked(&mut v[..]).unwrap();
        p.set_extension(3, &[0xbe, 0xef]).unwrap();
        p.remap_extension_ids(|id| match id {
            2 => None,
            3 => Some(9),
            x => Some(x),
        })
        .unwrap();
        let ids: std::vec::Vec<_> = p.extensions().map(|e| (e.id, e.value)).collect();
        assert_eq!(ids, [(9, &[0xbe, 0xef][..]), (4, &b"0"[..])]);
        assert_eq!(p.extension(3), None);
        assert_eq!(p.extension(9), Some(&[0xbe, 0xef][..]));
        assert_eq!(p.extension_mut(2), None);
        let q = RtpPacket::new_checked(p.as_bytes()).unwrap();
        assert_eq!(
            q.extensions().collect::<std::vec::Vec<_>>(),
            p.extensions().collect::<std::vec::Vec<_>>()
        );
    }

    #[test]
    fn extension_writer_two_byte_with_appbits() {
        let mut buf = [0u8; 16];
        let mut w = ExtensionWriter::new(&mut buf, ExtensionForm::TwoByte { appbits: 5 }).unwrap();
        w.push(200, &[1, 2, 3]).unwrap();
        w.push_value(7, &TransportSeq(9)).unwrap();
        assert!(w.push(0, &[]).is_err());
        let n = w.finish();
        assert_eq!(
            &buf[..n],
            &[0x10, 0x05, 0x00, 0x03, 200, 3, 1, 2, 3, 7, 2, 0, 9, 0, 0, 0]
        );
        assert!(ExtensionWriter::new(&mut buf, ExtensionForm::Other(1)).is_err());
        let mut small = [0u8; 6];
        let mut w = ExtensionWriter::new(&mut small, ExtensionForm::OneByte).unwrap();
        assert!(w.push(1, &[1, 2, 3, 4]).is_err());
    }
}
