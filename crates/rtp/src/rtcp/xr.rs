//! Extended reports (RFC 3611 §2) with the receiver reference time block
//! (RRTR, §4.4) and DLRR block (§4.5) used for receiver-side RTT; other
//! block types are framed and returned raw.

use super::{frame, rtcp_view, write_header, RtcpWrite, PT_XR};
use crate::error::{bad, misuse, Error};
use crate::types::{CompactNtp, NtpTime, Ssrc};
use crate::wire::{
    put_slice, put_u16, put_u32, put_u64, put_u8, slice, u16_at, u32_at, u64_at, u8_at,
};

/// Block type of an RRTR block.
pub const BT_RRTR: u8 = 4;
/// Block type of a DLRR block.
pub const BT_DLRR: u8 = 5;

fn check_xr(b: &[u8]) -> Result<usize, Error> {
    let (h, end) = frame(b, 4)?;
    if h.packet_type != PT_XR {
        return Err(bad("RTCP: not an XR packet"));
    }
    let mut at = 8;
    while at < end {
        if at + 4 > end {
            return Err(bad("RTCP XR: block header overruns the packet"));
        }
        let bt = u8_at(b, at);
        let words = usize::from(u16_at(b, at + 2));
        let next = at + 4 + words * 4;
        if next > end {
            return Err(bad("RTCP XR: block overruns the packet"));
        }
        match bt {
            BT_RRTR if words != 2 => return Err(bad("RTCP XR: RRTR block length is not 2")),
            BT_DLRR if words % 3 != 0 => {
                return Err(bad("RTCP XR: DLRR block length not a multiple of 3"))
            }
            _ => {}
        }
        at = next;
    }
    Ok(end)
}

rtcp_view!(
    /// An extended report (RFC 3611, PT 207).
    Xr,
    check_xr
);

impl<T: AsRef<[u8]>> Xr<T> {
    /// SSRC of the packet sender.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.as_bytes(), 4))
    }

    /// The report blocks.
    pub fn blocks(&self) -> XrBlockIter<'_> {
        XrBlockIter {
            b: slice(self.as_bytes(), 0, self.end),
            pos: 8,
        }
    }
}

/// One DLRR sub-block (RFC 3611 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DlrrItem {
    /// The receiver whose RRTR is answered.
    pub ssrc: Ssrc,
    /// LRR: middle 32 bits of that RRTR's NTP time.
    pub last_rr: CompactNtp,
    /// DLRR: delay since it, in 1/65536 s.
    pub delay_since_last_rr: CompactNtp,
}

/// One XR report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrBlock<'a> {
    /// Receiver reference time.
    Rrtr(NtpTime),
    /// DLRR sub-blocks (12 bytes each; iterate with [`XrBlock::dlrr_items`]).
    Dlrr(&'a [u8]),
    /// Any other block: type, type-specific byte, contents.
    Other {
        /// Block type.
        block_type: u8,
        /// Type-specific byte.
        type_specific: u8,
        /// Block contents after the 4-byte header.
        data: &'a [u8],
    },
}

impl<'a> XrBlock<'a> {
    /// The sub-blocks of a DLRR block (nothing for other blocks).
    pub fn dlrr_items(&self) -> impl Iterator<Item = DlrrItem> + 'a {
        let raw: &'a [u8] = match *self {
            XrBlock::Dlrr(r) => r,
            _ => &[],
        };
        raw.chunks_exact(12).map(|c| DlrrItem {
            ssrc: Ssrc(u32_at(c, 0)),
            last_rr: CompactNtp(u32_at(c, 4)),
            delay_since_last_rr: CompactNtp(u32_at(c, 8)),
        })
    }
}

/// Iterator over XR blocks.
#[derive(Debug, Clone)]
pub struct XrBlockIter<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for XrBlockIter<'a> {
    type Item = XrBlock<'a>;
    fn next(&mut self) -> Option<XrBlock<'a>> {
        let at = self.pos;
        if at + 4 > self.b.len() {
            return None;
        }
        let bt = u8_at(self.b, at);
        let next = at + 4 + usize::from(u16_at(self.b, at + 2)) * 4;
        let data = self.b.get(at + 4..next)?;
        self.pos = next;
        Some(match bt {
            BT_RRTR => XrBlock::Rrtr(NtpTime(u64_at(data, 0))),
            BT_DLRR => XrBlock::Dlrr(data),
            _ => XrBlock::Other {
                block_type: bt,
                type_specific: u8_at(self.b, at + 1),
                data,
            },
        })
    }
}

/// One XR block to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrBlockRepr<'a> {
    /// Receiver reference time.
    Rrtr(NtpTime),
    /// DLRR sub-blocks.
    Dlrr(&'a [DlrrItem]),
    /// Any other block (data a multiple of 4 bytes).
    Other {
        /// Block type.
        block_type: u8,
        /// Type-specific byte.
        type_specific: u8,
        /// Contents.
        data: &'a [u8],
    },
}

impl XrBlockRepr<'_> {
    fn len(&self) -> usize {
        4 + match self {
            XrBlockRepr::Rrtr(_) => 8,
            XrBlockRepr::Dlrr(items) => items.len() * 12,
            XrBlockRepr::Other { data, .. } => data.len(),
        }
    }
}

/// Builds an XR packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrBuilder<'a> {
    /// SSRC of the packet sender.
    pub ssrc: Ssrc,
    /// The report blocks.
    pub blocks: &'a [XrBlockRepr<'a>],
}

impl RtcpWrite for XrBuilder<'_> {
    fn buffer_len(&self) -> usize {
        8 + self.blocks.iter().map(XrBlockRepr::len).sum::<usize>()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        for blk in self.blocks {
            if blk.len() > 4 + 0xffff * 4 {
                return Err(misuse("RTCP XR: block too long"));
            }
            if let XrBlockRepr::Other {
                data, block_type, ..
            } = blk
            {
                if data.len() % 4 != 0 || matches!(*block_type, BT_RRTR | BT_DLRR) {
                    return Err(misuse(
                        "RTCP XR: raw block not a multiple of 4 or typed as RRTR/DLRR",
                    ));
                }
            }
        }
        let total = self.buffer_len();
        write_header(buf, 0, PT_XR, total)?;
        put_u32(buf, 4, self.ssrc.0);
        let mut at = 8;
        for blk in self.blocks {
            let len = blk.len();
            put_u16(buf, at + 2, ((len - 4) / 4) as u16);
            match blk {
                XrBlockRepr::Rrtr(t) => {
                    put_u8(buf, at, BT_RRTR);
                    put_u8(buf, at + 1, 0);
                    put_u64(buf, at + 4, t.0);
                }
                XrBlockRepr::Dlrr(items) => {
                    put_u8(buf, at, BT_DLRR);
                    put_u8(buf, at + 1, 0);
                    for (i, it) in items.iter().enumerate() {
                        let p = at + 4 + i * 12;
                        put_u32(buf, p, it.ssrc.0);
                        put_u32(buf, p + 4, it.last_rr.0);
                        put_u32(buf, p + 8, it.delay_since_last_rr.0);
                    }
                }
                XrBlockRepr::Other {
                    block_type,
                    type_specific,
                    data,
                } => {
                    put_u8(buf, at, *block_type);
                    put_u8(buf, at + 1, *type_specific);
                    put_slice(buf, at + 4, data);
                }
            }
            at += len;
        }
        Ok(total)
    }
}
