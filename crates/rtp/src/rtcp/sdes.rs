//! Source description (RFC 3550 §6.5): chunks of SSRC and items.

use super::{frame, rtcp_view, write_header, RtcpWrite, PT_SDES};
use crate::error::{bad, misuse, Error};
use crate::types::Ssrc;
use crate::wire::{put_slice, put_u32, put_u8, slice, u32_at, u8_at};

/// SDES item types (RFC 3550 §6.5, §12.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdesType {
    /// 1: canonical end-point identifier.
    Cname,
    /// 2: user name.
    Name,
    /// 3: e-mail address.
    Email,
    /// 4: phone number.
    Phone,
    /// 5: geographic location.
    Loc,
    /// 6: application or tool name.
    Tool,
    /// 7: notice/status.
    Note,
    /// 8: private extension (prefix length, prefix, value in the text).
    Priv,
    /// Any other non-zero type.
    Other(u8),
}

impl SdesType {
    /// The type for a wire value (non-zero).
    pub const fn from_u8(v: u8) -> SdesType {
        match v {
            1 => SdesType::Cname,
            2 => SdesType::Name,
            3 => SdesType::Email,
            4 => SdesType::Phone,
            5 => SdesType::Loc,
            6 => SdesType::Tool,
            7 => SdesType::Note,
            8 => SdesType::Priv,
            v => SdesType::Other(v),
        }
    }

    /// The wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            SdesType::Cname => 1,
            SdesType::Name => 2,
            SdesType::Email => 3,
            SdesType::Phone => 4,
            SdesType::Loc => 5,
            SdesType::Tool => 6,
            SdesType::Note => 7,
            SdesType::Priv => 8,
            SdesType::Other(v) => v,
        }
    }
}

/// One SDES item: type and text (UTF-8 per RFC 3550, given as bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type.
    pub kind: SdesType,
    /// Item text, at most 255 bytes.
    pub text: &'a [u8],
}

/// Walks one chunk starting at `at` (SSRC + items + null terminator +
/// padding to 32 bits, counted from the packet start, which is 32-bit
/// aligned). Returns the offset after the chunk.
fn walk_chunk(b: &[u8], at: usize, end: usize) -> Result<usize, Error> {
    let mut pos = at + 4;
    if pos > end {
        return Err(bad("RTCP SDES: chunk SSRC overruns the packet"));
    }
    loop {
        if pos >= end {
            return Err(bad("RTCP SDES: chunk has no null terminator"));
        }
        let t = u8_at(b, pos);
        if t == 0 {
            let next = (pos + 1).next_multiple_of(4);
            if next > end {
                return Err(bad("RTCP SDES: chunk padding overruns the packet"));
            }
            return Ok(next);
        }
        if pos + 2 > end {
            return Err(bad("RTCP SDES: item header overruns the packet"));
        }
        let len = usize::from(u8_at(b, pos + 1));
        pos += 2 + len;
        if pos > end {
            return Err(bad("RTCP SDES: item text overruns the packet"));
        }
    }
}

fn check_sdes(b: &[u8]) -> Result<usize, Error> {
    let (h, end) = frame(b, 0)?;
    if h.packet_type != PT_SDES {
        return Err(bad("RTCP: not an SDES packet"));
    }
    let mut at = 4;
    for _ in 0..h.count {
        at = walk_chunk(b, at, end)?;
    }
    if at != end {
        return Err(bad("RTCP SDES: bytes after the last chunk"));
    }
    Ok(end)
}

rtcp_view!(
    /// A source description packet (RFC 3550 §6.5, PT 202).
    Sdes,
    check_sdes
);

impl<T: AsRef<[u8]>> Sdes<T> {
    /// The chunks (as many as the SC field says; all validated).
    pub fn chunks(&self) -> SdesChunkIter<'_> {
        SdesChunkIter {
            b: slice(self.as_bytes(), 0, self.end),
            pos: 4,
            left: self.count(),
        }
    }
}

/// One SDES chunk: an SSRC and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The SSRC/CSRC described.
    pub ssrc: Ssrc,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items of this chunk.
    pub fn items(&self) -> SdesItemIter<'a> {
        SdesItemIter {
            b: self.items,
            pos: 0,
        }
    }

    /// The text of the first CNAME item.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items()
            .find(|i| i.kind == SdesType::Cname)
            .map(|i| i.text)
    }
}

/// Iterator over the chunks of an SDES packet.
#[derive(Debug, Clone)]
pub struct SdesChunkIter<'a> {
    b: &'a [u8],
    pos: usize,
    left: u8,
}

impl<'a> Iterator for SdesChunkIter<'a> {
    type Item = SdesChunk<'a>;
    fn next(&mut self) -> Option<SdesChunk<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let at = self.pos;
        let next = walk_chunk(self.b, at, self.b.len()).ok()?;
        self.pos = next;
        Some(SdesChunk {
            ssrc: Ssrc(u32_at(self.b, at)),
            items: slice(self.b, at + 4, next),
        })
    }
}

/// Iterator over the items of a chunk (stops at the null item).
#[derive(Debug, Clone)]
pub struct SdesItemIter<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for SdesItemIter<'a> {
    type Item = SdesItem<'a>;
    fn next(&mut self) -> Option<SdesItem<'a>> {
        let t = u8_at(self.b, self.pos);
        if t == 0 {
            return None;
        }
        let len = usize::from(u8_at(self.b, self.pos + 1));
        let start = self.pos + 2;
        let text = self.b.get(start..start + len)?;
        self.pos = start + len;
        Some(SdesItem {
            kind: SdesType::from_u8(t),
            text,
        })
    }
}

/// One chunk to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunkRepr<'a> {
    /// The SSRC/CSRC described.
    pub ssrc: Ssrc,
    /// Its items (texts of at most 255 bytes; type not 0).
    pub items: &'a [SdesItem<'a>],
}

impl SdesChunkRepr<'_> {
    fn len(&self) -> usize {
        let items: usize = self.items.iter().map(|i| 2 + i.text.len()).sum();
        (4 + items + 1).next_multiple_of(4)
    }
}

/// Builds an SDES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesBuilder<'a> {
    /// The chunks (at most 31).
    pub chunks: &'a [SdesChunkRepr<'a>],
}

impl RtcpWrite for SdesBuilder<'_> {
    fn buffer_len(&self) -> usize {
        4 + self.chunks.iter().map(SdesChunkRepr::len).sum::<usize>()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.chunks.len() > 31 {
            return Err(misuse("RTCP SDES: more than 31 chunks"));
        }
        for c in self.chunks {
            for i in c.items {
                if i.text.len() > 255 || i.kind.to_u8() == 0 {
                    return Err(misuse("RTCP SDES: item type 0 or text above 255 bytes"));
                }
            }
        }
        let total = self.buffer_len();
        write_header(buf, self.chunks.len() as u8, PT_SDES, total)?;
        let mut at = 4;
        for c in self.chunks {
            let end = at + c.len();
            put_u32(buf, at, c.ssrc.0);
            let mut pos = at + 4;
            for i in c.items {
                put_u8(buf, pos, i.kind.to_u8());
                put_u8(buf, pos + 1, i.text.len() as u8);
                put_slice(buf, pos + 2, i.text);
                pos += 2 + i.text.len();
            }
            crate::wire::zero(buf, pos, end);
            at = end;
        }
        Ok(total)
    }
}
