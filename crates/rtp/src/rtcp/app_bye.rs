//! Goodbye (RFC 3550 §6.6) and application-defined (RFC 3550 §6.7) packets.

use super::{frame, rtcp_view, write_header, RtcpWrite, PT_APP, PT_BYE};
use crate::error::{bad, misuse, Error};
use crate::types::Ssrc;
use crate::wire::{put_slice, put_u32, put_u8, slice, u32_at, u8_at};

fn check_bye(b: &[u8]) -> Result<usize, Error> {
    let (h, end) = frame(b, 0)?;
    if h.packet_type != PT_BYE {
        return Err(bad("RTCP: not a BYE packet"));
    }
    let after = 4 + usize::from(h.count) * 4;
    if after > end {
        return Err(bad("RTCP BYE: source count exceeds the packet length"));
    }
    if after < end {
        let len = usize::from(u8_at(b, after));
        if after + 1 + len > end {
            return Err(bad("RTCP BYE: reason overruns the packet"));
        }
    }
    Ok(end)
}

rtcp_view!(
    /// A goodbye packet (RFC 3550 §6.6, PT 203).
    Bye,
    check_bye
);

impl<T: AsRef<[u8]>> Bye<T> {
    /// The SSRC/CSRCs leaving.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + '_ {
        let b = self.as_bytes();
        (0..usize::from(self.count())).map(move |i| Ssrc(u32_at(b, 4 + i * 4)))
    }

    /// The reason for leaving, if present.
    pub fn reason(&self) -> Option<&[u8]> {
        let after = 4 + usize::from(self.count()) * 4;
        if after >= self.end {
            return None;
        }
        let len = usize::from(u8_at(self.as_bytes(), after));
        self.as_bytes().get(after + 1..after + 1 + len)
    }
}

/// Builds a BYE packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByeBuilder<'a> {
    /// The sources leaving (at most 31).
    pub ssrcs: &'a [Ssrc],
    /// Optional reason (at most 255 bytes).
    pub reason: Option<&'a [u8]>,
}

impl RtcpWrite for ByeBuilder<'_> {
    fn buffer_len(&self) -> usize {
        4 + self.ssrcs.len() * 4 + self.reason.map_or(0, |r| (1 + r.len()).next_multiple_of(4))
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.ssrcs.len() > 31 {
            return Err(misuse("RTCP BYE: more than 31 sources"));
        }
        if self.reason.is_some_and(|r| r.len() > 255) {
            return Err(misuse("RTCP BYE: reason above 255 bytes"));
        }
        let total = self.buffer_len();
        write_header(buf, self.ssrcs.len() as u8, PT_BYE, total)?;
        let mut at = 4;
        for s in self.ssrcs {
            put_u32(buf, at, s.0);
            at += 4;
        }
        if let Some(r) = self.reason {
            put_u8(buf, at, r.len() as u8);
            put_slice(buf, at + 1, r);
            crate::wire::zero(buf, at + 1 + r.len(), total);
        }
        Ok(total)
    }
}

fn check_app(b: &[u8]) -> Result<usize, Error> {
    let (h, end) = frame(b, 8)?;
    if h.packet_type != PT_APP {
        return Err(bad("RTCP: not an APP packet"));
    }
    Ok(end)
}

rtcp_view!(
    /// An application-defined packet (RFC 3550 §6.7, PT 204).
    App,
    check_app
);

impl<T: AsRef<[u8]>> App<T> {
    /// The 5-bit subtype.
    pub fn subtype(&self) -> u8 {
        self.count()
    }

    /// SSRC/CSRC of the sender.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.as_bytes(), 4))
    }

    /// The four-character name.
    pub fn name(&self) -> [u8; 4] {
        u32_at(self.as_bytes(), 8).to_be_bytes()
    }

    /// Application-dependent data.
    pub fn data(&self) -> &[u8] {
        slice(self.as_bytes(), 12, self.end)
    }
}

/// Builds an APP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppBuilder<'a> {
    /// Subtype, 0..=31.
    pub subtype: u8,
    /// SSRC/CSRC of the sender.
    pub ssrc: Ssrc,
    /// Four ASCII characters.
    pub name: [u8; 4],
    /// Data, a multiple of 4 bytes.
    pub data: &'a [u8],
}

impl RtcpWrite for AppBuilder<'_> {
    fn buffer_len(&self) -> usize {
        12 + self.data.len()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.data.len() % 4 != 0 {
            return Err(misuse("RTCP APP: data not a multiple of 4 bytes"));
        }
        let total = self.buffer_len();
        write_header(buf, self.subtype, PT_APP, total)?;
        put_u32(buf, 4, self.ssrc.0);
        put_slice(buf, 8, &self.name);
        put_slice(buf, 12, self.data);
        Ok(total)
    }
}
